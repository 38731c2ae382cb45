"""Packaging: one dependency list, pins that satisfy it, and a wheel that carries the study.

The wheel and sdist are built once per session without network access
(``python -m build --no-isolation``; hatchling comes with the ``test`` extra).
"""

from __future__ import annotations

import email.parser
import os
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
EXTRAS = PROJECT["optional-dependencies"]


def _constraints() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for lineno, line in enumerate((REPO / "constraints.txt").read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
        assert match, f"constraints.txt:{lineno}: not an exact pin: {line!r}"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"constraints.txt:{lineno}: {name} pinned twice"
        pins[name] = Version(match.group(2))
    return pins


def _environment_yml() -> dict[str, object]:
    """The few fields of environment.yml that matter, read without a YAML parser."""
    text = (REPO / "environment.yml").read_text(encoding="utf-8")
    name = re.search(r"^name:\s*(\S+)\s*$", text, re.M)
    channels = re.search(r"^channels:\s*\n((?:[ \t]+-.*\n)+)", text, re.M)
    deps = re.search(r"^dependencies:\s*\n((?:[ \t]+.*\n?)+)", text, re.M)
    assert name and channels and deps, "environment.yml lacks name/channels/dependencies"
    conda = re.findall(r"^  - ([^\s:]+)\s*$", deps.group(1), re.M)
    pip = re.findall(r"^ {6}- (.+?)\s*$", deps.group(1), re.M)
    return {
        "name": name.group(1),
        "channels": re.findall(r"-\s*(\S+)", channels.group(1)),
        "conda": conda,
        "pip": pip,
    }


def _requirements() -> list[Requirement]:
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    for extra in EXTRAS.values():
        reqs += [Requirement(r) for r in extra]
    return [r for r in reqs if canonicalize_name(r.name) != "policystudy"]


# ----------------------------------------------------------- metadata and pins


def test_project_metadata():
    assert PROJECT["name"] == "policystudy"
    assert PROJECT["version"] == "0.1.0"
    assert PROJECT["license"] == "BSD-3-Clause"
    assert SpecifierSet(PROJECT["requires-python"]) == SpecifierSet(">=3.11")
    assert PROJECT["scripts"] == {"policystudy": "policystudy.cli:main"}
    assert PYPROJECT["build-system"]["build-backend"] == "hatchling.build"
    names = {canonicalize_name(r.name) for r in _requirements()}
    assert "opencc" in names and "opencc-python-reimplemented" not in names


def test_all_extra_is_the_union_of_the_others():
    (req,) = [Requirement(r) for r in EXTRAS["all"]]
    assert canonicalize_name(req.name) == "policystudy"
    assert req.extras == set(EXTRAS) - {"all"}


def test_constraints_pin_every_declared_dependency_within_its_range():
    pins = _constraints()
    assert "policystudy" not in pins
    assert "opencc-python-reimplemented" not in pins
    for req in _requirements():
        name = canonicalize_name(req.name)
        assert name in pins, f"constraints.txt does not pin {name} (pyproject.toml needs it)"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside {req.specifier} in pyproject.toml"
        )


def test_environment_yml_follows_pyproject():
    env = _environment_yml()
    assert env["name"] == "policystudy"
    assert "conda-forge" in env["channels"]
    pythons = [d for d in env["conda"] if d.startswith("python")]
    assert len(pythons) == 1, "environment.yml must pin python exactly once"
    version = Version(pythons[0].split("=", 1)[1].lstrip("="))
    assert version in SpecifierSet(PROJECT["requires-python"])
    # The dependency list lives in pyproject.toml only: conda provides python and pip.
    assert set(env["conda"]) == {pythons[0], "pip"}, env["conda"]
    (install,) = env["pip"]
    match = re.fullmatch(r"-e \.\[([\w,-]+)\]", install)
    assert match, f"environment.yml pip entry {install!r} is not '-e .[extras]'"
    extras = set(match.group(1).split(","))
    assert extras <= set(EXTRAS), f"unknown extras in environment.yml: {extras - set(EXTRAS)}"
    assert {"notebooks", "test"} <= extras


def test_makefile_installs_known_extras_with_constraints():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^EXTRAS \?= ([\w,-]+)$", makefile, re.M)
    assert match, "Makefile has no EXTRAS ?= line"
    assert set(match.group(1).split(",")) <= set(EXTRAS)
    assert 'pip install -c constraints.txt -e ".[$(EXTRAS)]"' in makefile


# ----------------------------------------------------------- built artefacts


def _build(kind: str, outdir: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "build", f"--{kind}", "--no-isolation", "--outdir", str(outdir)],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, f"python -m build --{kind} failed:\n{proc.stdout}\n{proc.stderr}"
    (artefact,) = outdir.glob("*.whl" if kind == "wheel" else "*.tar.gz")
    return artefact


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return _build("wheel", tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def unpacked(wheel, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("site")
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(target)
    return target


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.slow
def test_wheel_ships_the_corpus_byte_for_byte(unpacked):
    shipped = _tree(unpacked / "policystudy" / "_data")
    source = _tree(REPO / "data")
    assert "manifest.csv" in source and "README.md" in source
    assert sorted(shipped) == sorted(source)
    for name, content in source.items():
        assert shipped[name] == content, f"policystudy/_data/{name} differs from data/{name}"


@pytest.mark.slow
def test_wheel_ships_resources_and_notebooks(unpacked):
    resources = _tree(REPO / "policystudy" / "resources")
    assert resources, "policystudy/resources/ is empty"
    assert _tree(unpacked / "policystudy" / "resources") == resources
    folder = REPO / "notebooks"
    notebooks = {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted([*folder.glob("*.ipynb"), *folder.glob("generic/*.ipynb")])
    }
    assert any(name.startswith("generic/") for name in notebooks)
    shipped = _tree(unpacked / "policystudy" / "_notebooks")
    assert shipped == notebooks


@pytest.mark.slow
def test_wheel_metadata(wheel, unpacked):
    (dist_info,) = unpacked.glob("policystudy-0.1.0.dist-info")
    meta = email.parser.Parser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8"))
    assert meta["Requires-Python"] == ">=3.11"
    assert meta["License-Expression"] == "BSD-3-Clause"
    assert set(meta.get_all("Provides-Extra")) == set(EXTRAS)
    assert (dist_info / "licenses" / "LICENSE").is_file()
    entry_points = (dist_info / "entry_points.txt").read_text(encoding="utf-8")
    assert "policystudy = policystudy.cli:main" in entry_points
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    # Only the package and its metadata: no data/, tests/ or notebooks/ at top level.
    assert {n.split("/", 1)[0] for n in names} == {"policystudy", dist_info.name}


def _run_from_wheel(unpacked: Path, cwd: Path, code: str) -> subprocess.CompletedProcess:
    """Run ``code`` importing policystudy from the unpacked wheel only (cwd elsewhere)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(unpacked)},
        capture_output=True,
        text=True,
    )


@pytest.mark.slow
def test_installed_wheel_finds_its_bundled_corpus(unpacked, tmp_path):
    # Import from the unpacked wheel only (cwd elsewhere, wheel first on the path).
    code = (
        "import policystudy, policystudy.load as load; "
        "print(policystudy.__file__); print(load.bundled_data_dir())"
    )
    proc = _run_from_wheel(unpacked, tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    package_file, data_dir = (Path(line) for line in proc.stdout.strip().splitlines()[-2:])
    assert package_file.resolve().is_relative_to(unpacked.resolve())
    assert data_dir.resolve() == (unpacked / "policystudy" / "_data").resolve()
    assert (data_dir / "manifest.csv").is_file()


@pytest.mark.slow
def test_sdist_contains_the_corpus(tmp_path):
    import tarfile

    sdist = _build("sdist", tmp_path)
    with tarfile.open(sdist) as tf:
        names = {n.split("/", 1)[1] for n in tf.getnames() if "/" in n}
    for path in sorted((REPO / "data").iterdir()):
        assert f"data/{path.name}" in names, f"sdist lacks data/{path.name}"
    for needed in ("hatch_build.py", "constraints.txt", "LICENSE", "pyproject.toml"):
        assert needed in names
    assert not any(n.startswith(("policystudy/_data", "policystudy/_notebooks")) for n in names)


def test_version_agrees_everywhere() -> None:
    import policystudy

    citation = (REPO / "CITATION.cff").read_text(encoding="utf-8")
    cited = re.search(r"^version:\s*(\S+)\s*$", citation, flags=re.M)
    assert cited, "CITATION.cff has no version line"
    assert PROJECT["version"] == policystudy.__version__ == cited.group(1)
    assert f"version {policystudy.__version__}" in (REPO / "README.md").read_text(encoding="utf-8")


def test_dask_tests_run_with_the_test_extra() -> None:
    # Without Dask in the test extra, `pip install .[test]` skips every Dask test silently.
    names = {canonicalize_name(Requirement(r).name) for r in EXTRAS["test"]}
    assert {"dask", "distributed"} <= names


# ----------------------------------------------------------- the study from the wheel


@pytest.mark.slow
def test_wheel_requires_everything_the_study_imports(wheel, unpacked):
    # A plain `pip install` of the wheel (no extras) must be able to run the study.
    from policystudy.study import STUDY_PACKAGES

    (dist_info,) = unpacked.glob("policystudy-0.1.0.dist-info")
    meta = email.parser.Parser().parsestr((dist_info / "METADATA").read_text(encoding="utf-8"))
    base = {
        canonicalize_name(Requirement(r).name)
        for r in meta.get_all("Requires-Dist")
        if Requirement(r).marker is None
    }
    needed = {canonicalize_name(d) for d in STUDY_PACKAGES.values()}
    assert needed <= base, f"the study needs {sorted(needed - base)} outside any extra"


@pytest.mark.slow
def test_study_runs_from_the_installed_wheel(unpacked, tmp_path):
    # The installed layout: notebooks from policystudy/_notebooks, the font from
    # policystudy/resources, run from a folder that is not the checkout.
    code = (
        "import sys, policystudy.study as s; from policystudy.cli import main; "
        "print(s.notebook_dir()); sys.exit(main(['study', '--only', '01', '--out', 'rep']))"
    )
    proc = _run_from_wheel(unpacked, tmp_path, code)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert Path(lines[0]) == unpacked / "policystudy" / "_notebooks"
    assert lines[-1].endswith(str(tmp_path / "rep" / "index.html"))
    page = (tmp_path / "rep" / "01-corpus.html").read_text(encoding="utf-8")
    assert "@font-face" in page and "中共泉州市委" in page


@pytest.mark.slow
@pytest.mark.skipif(
    not os.environ.get("POLICYSTUDY_TEST_FRESH_VENV"),
    reason="installs the wheel and its dependencies into a new venv (about 2 minutes, "
    "needs the package index); set POLICYSTUDY_TEST_FRESH_VENV=1",
)
def test_wheel_alone_runs_the_study_in_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    install = [str(bindir / "python"), "-m", "pip", "install", "-q"]
    install += ["-c", str(REPO / "constraints.txt"), str(wheel)]
    subprocess.run(install, check=True)
    proc = subprocess.run(
        [str(bindir / "policystudy"), "study", "--only", "01", "--out", str(tmp_path / "rep")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "rep" / "01-corpus.html").is_file()
    assert (tmp_path / "rep" / "index.html").is_file()
