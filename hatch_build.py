"""Hatch build hook: ship the bundled corpus and the notebooks inside the wheel.

``data/`` becomes ``policystudy/_data/``, ``notebooks/*.ipynb`` become
``policystudy/_notebooks/`` and ``notebooks/generic/*.ipynb``
``policystudy/_notebooks/generic/``, so that an installed copy can run the whole study
without a checkout. Editable installs are left alone: there
``policystudy.load.bundled_data_dir()`` falls back to the checkout's ``data/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

DATA_TARGET = "policystudy/_data"
NOTEBOOK_TARGET = "policystudy/_notebooks"


class CorpusBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        data_dir = root / "data"
        if not (data_dir / "manifest.csv").is_file():
            raise FileNotFoundError(
                f"{data_dir / 'manifest.csv'}: the bundled corpus is missing; "
                "the wheel must ship data/ as policystudy/_data/"
            )
        # Every file of data/ byte for byte: the corpus is the published input.
        build_data["force_include"][str(data_dir)] = DATA_TARGET
        for notebook in sorted((root / "notebooks").glob("*.ipynb")):
            build_data["force_include"][str(notebook)] = f"{NOTEBOOK_TARGET}/{notebook.name}"
        # The notebooks for any corpus (policystudy.study.GENERIC_DIR).
        for notebook in sorted((root / "notebooks" / "generic").glob("*.ipynb")):
            target = f"{NOTEBOOK_TARGET}/generic/{notebook.name}"
            build_data["force_include"][str(notebook)] = target
