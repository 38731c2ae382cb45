"""Small file helpers shared by the stages that write files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write", "refuse_corpus_dir"]


def atomic_write(path: str | os.PathLike[str], data: bytes | str) -> Path:
    """Write ``data`` to ``path`` through a temporary file and ``os.replace``.

    Readers never see a half-written file, and a failure leaves the earlier file
    intact. Text is written as UTF-8 with the newlines it has.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        # mkstemp creates owner-only files; outputs are meant to be shared.
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def refuse_corpus_dir(path: str | os.PathLike[str]) -> None:
    """Raise ValueError if ``path`` lies in the bundled corpus (``data/`` or ``_data/``).

    No code writes to the corpus: outputs must go elsewhere.
    """
    package = Path(__file__).resolve().parent
    resolved = Path(path).resolve()
    for protected in (package.parent / "data", package / "_data"):
        if resolved.is_relative_to(protected.resolve()):
            raise ValueError(
                f"{path}: refusing to write inside the bundled corpus directory {protected}"
            )
