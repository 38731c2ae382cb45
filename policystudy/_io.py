"""The one file writer: every file the package writes goes through :func:`atomic_write`.

Outputs a user asked for (tables, figures, executed notebooks, HTML, lexicons, R
exports) get the ordinary mode of a new file, ``0o666 & ~umask``; cache entries are
private (``0o600`` in a ``0o700`` folder, see :func:`private_dir`). No output may be
written inside the bundled corpus: :func:`refuse_corpus_dir` is called by every
command before it writes anything.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = [
    "OutputError",
    "OutputSet",
    "PRIVATE_MODE",
    "check_output_dir",
    "atomic_write",
    "atomic_write_with",
    "default_mode",
    "private_dir",
    "refuse_corpus_dir",
    "replace_file",
]

#: Mode of cache files: readable and writable by their owner only.
PRIVATE_MODE = 0o600


def default_mode() -> int:
    """The mode ``open()`` gives a new file: ``0o666`` less the process umask."""
    # os.umask can only be read by setting it; set it back at once.
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_with(
    path: str | os.PathLike[str],
    write: Callable[[IO[bytes]], object],
    *,
    mode: int | None = None,
) -> Path:
    """Write ``path`` by calling ``write(fh)`` on a temporary file, then ``os.replace``.

    Readers never see a half-written file and a failure leaves the earlier file
    intact (the temporary file is removed). A target inside the bundled corpus
    is refused (:func:`refuse_corpus_dir`).

    Parameters
    ----------
    path : str or Path
        Target file; its folder is created if needed.
    write : callable
        Called once with a binary file object open for writing.
    mode : int, optional
        File mode of the result; default :func:`default_mode` (an ordinary output).
        Cache entries pass :data:`PRIVATE_MODE`.
    """
    path = Path(path)
    refuse_corpus_dir(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        # mkstemp creates owner-only files: set the mode the caller asked for.
        os.chmod(tmp, default_mode() if mode is None else mode)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def atomic_write(
    path: str | os.PathLike[str], data: bytes | str, *, mode: int | None = None
) -> Path:
    """Write ``data`` to ``path`` atomically (text as UTF-8, newlines as given).

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", "一\\n").read_text(encoding="utf-8")
    '一\\n'
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    return atomic_write_with(path, lambda fh: fh.write(data), mode=mode)


def replace_file(source: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Move a finished file or folder into place with ``os.replace`` (atomic on one file system)."""
    target = Path(target)
    refuse_corpus_dir(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return target


def private_dir(path: str | os.PathLike[str]) -> Path:
    """Create ``path`` (and parents) for cache files, owner-only (``0o700``) where new."""
    path = Path(path)
    # mkdir(parents=True) gives the parents it creates the default mode, not
    # ``mode``: create each missing folder, outermost first, so all are private.
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    if not missing:
        path.mkdir(mode=0o700, exist_ok=True)  # raises if ``path`` is not a folder
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
                f"{path}: refusing to write inside the bundled corpus directory {protected}; "
                "choose an output folder outside it"
            )


# --------------------------------------------------------------------------- output sets

_STAGING_PREFIX = ".staging-"
_LOCK_NAME = ".policystudy.lock"


class OutputError(ValueError):
    """An output folder that cannot be used (a file, not writable, inside the corpus)."""


def check_output_dir(path: str | os.PathLike[str]) -> Path:
    """Check, before any work, that ``path`` can be an output folder; create it.

    Raises :class:`OutputError` naming the path and the problem when it lies
    inside the bundled corpus, is a file, or cannot be created or written.
    """
    path = Path(path)
    try:
        refuse_corpus_dir(path)
    except ValueError as err:
        raise OutputError(str(err)) from None
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path}: is a file, not a folder; choose an output folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=path, prefix=".probe-", delete=True)
        probe.close()
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise OutputError(f"{path}: cannot write there ({reason}); choose another --out") from None
    return path


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists but belongs to someone else, or cannot tell: keep its files
    return True


class OutputSet:
    """A command's output files, staged and then moved into place as one set.

    Files are written into a hidden staging folder inside ``out``
    (``.staging-<pid>-<random>``); :meth:`commit` moves them into place while
    holding a lock on ``out``, so the files of two runs writing the same folder
    never interleave, and writes last a small manifest
    ``.policystudy-<name>.json`` listing the run's files. Files the set does not
    write are never touched. If the run fails (or :meth:`discard` is called) the
    staging folder is removed and earlier outputs stay as they were; staging
    folders left by killed runs are removed by a later run once the process
    that made them is gone.

    Use as a context manager::

        with OutputSet(out, name="topics") as outputs:
            outputs.write("unit_topics.csv", text)
            save_figure(fig, outputs.path("heatmap.png"))
    """

    def __init__(self, out: str | os.PathLike[str], *, name: str) -> None:
        self.out = check_output_dir(out)
        self.name = name
        self._remove_stale()
        self.staging = Path(
            tempfile.mkdtemp(dir=self.out, prefix=f"{_STAGING_PREFIX}{os.getpid()}-")
        )
        self.entries: list[str] = []

    def path(self, name: str) -> Path:
        """Where to write output ``name`` (a relative path) before the commit."""
        rel = Path(name)
        if rel.is_absolute() or ".." in rel.parts:
            raise OutputError(f"{name}: an output name must be a relative path inside the folder")
        top = rel.parts[0]
        if top not in self.entries:
            self.entries.append(top)
        target = self.staging / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def write(self, name: str, data: bytes | str) -> Path:
        """Stage output ``name`` with ``data``."""
        return atomic_write(self.path(name), data)

    def commit(self) -> list[Path]:
        """Move every staged entry into place under the folder lock; write the manifest."""
        import json

        placed = []
        with _folder_lock(self.out):
            for entry in sorted(self.entries):
                source, target = self.staging / entry, self.out / entry
                if not source.exists():
                    continue
                if source.is_dir() and target.is_dir():
                    # A folder cannot replace a non-empty folder: move the old one aside first.
                    old = self.staging / f".old-{entry}"
                    os.replace(target, old)
                os.replace(source, target)
                placed.append(target)
            manifest = {
                "command": self.name,
                "files": sorted(_relative_files(self.out, placed)),
            }
            atomic_write(
                self.out / f".policystudy-{self.name}.json",
                json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            )
        self.discard()
        return placed

    def discard(self) -> None:
        """Remove the staging folder (earlier outputs are untouched)."""
        import shutil

        shutil.rmtree(self.staging, ignore_errors=True)

    def _remove_stale(self) -> None:
        import shutil

        for leftover in self.out.glob(f"{_STAGING_PREFIX}*"):
            pid = leftover.name[len(_STAGING_PREFIX) :].split("-", 1)[0]
            if pid.isdigit() and not _pid_alive(int(pid)):
                shutil.rmtree(leftover, ignore_errors=True)

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()


def _relative_files(root: Path, placed: list[Path]) -> list[str]:
    files = []
    for path in placed:
        items = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        files.extend(p.relative_to(root).as_posix() for p in items)
    return files


class _folder_lock:
    """An exclusive advisory lock on ``<folder>/.policystudy.lock`` (no-op without fcntl)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / _LOCK_NAME
        self.fd: int | None = None

    def __enter__(self) -> _folder_lock:
        try:
            import fcntl
        except ImportError:  # Windows: moves are still atomic one by one
            return self
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, default_mode())
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            import fcntl

            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
