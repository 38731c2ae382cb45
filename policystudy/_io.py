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
    "PRIVATE_MODE",
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
    intact (the temporary file is removed).

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
    """Move a finished file into place with ``os.replace`` (atomic on one file system)."""
    target = Path(target)
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
