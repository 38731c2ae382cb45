"""On-disk caches: tokens (:class:`TokenCache`) and fitted topic models (:class:`ModelCache`).

Tokens are keyed by unit text and every tokenizer setting. Fitted models are
keyed by the exact feature matrix, every estimator parameter and the versions of
scikit-learn, NumPy and SciPy; a fit is deterministic for these, so a cached
model is the model a new fit would return, only sooner. Pass ``cache=False`` to
:func:`policystudy.tokenize`, :func:`policystudy.fit_topics` or
:func:`policystudy.select_k` (``--no-cache`` on the command line) to bypass them.

The token cache is one SQLite file in the user's cache folder (``platformdirs``), or in
the folder named by the ``POLICYSTUDY_CACHE`` environment variable. SQLite makes
every write an atomic transaction and serialises concurrent writers, so two
processes tokenizing at once never corrupt it. It is bounded: when the file grows
beyond ``max_bytes`` the oldest entries are evicted. It never lives in ``data/``.

Use ``policystudy cache --info`` and ``policystudy cache --clear`` from the command line.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["TokenCache", "ModelCache", "cache_dir", "DEFAULT_MAX_BYTES", "DEFAULT_MODEL_MAX_BYTES"]

#: Default bound on the cache file (bytes).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Default bound on the folder of cached models (bytes).
DEFAULT_MODEL_MAX_BYTES = 256 * 1024 * 1024
_FILE = "tokens-v1.sqlite"
#: Folder of the model cache inside the cache folder.
MODEL_SUBDIR = "models"
_SEP = "\x1f"  # unit separator: never part of a token
_BATCH = 500  # keys per SELECT (SQLite variable limit)


def cache_dir() -> Path:
    """The cache folder: ``$POLICYSTUDY_CACHE`` or the platform's user cache folder."""
    override = os.environ.get("POLICYSTUDY_CACHE")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("policystudy", appauthor=False))


class TokenCache:
    """A bounded key -> token-list store in one SQLite file.

    Parameters
    ----------
    directory : str or Path, optional
        Folder of the cache file; default :func:`cache_dir`.
    max_bytes : int
        When the file is larger than this after a write, the oldest entries are
        deleted until it is below 80% of it.
    """

    def __init__(self, directory: str | Path | None = None, *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.directory = Path(directory) if directory is not None else cache_dir()
        self.path = self.directory / _FILE
        self.max_bytes = int(max_bytes)

    def _connect(self) -> sqlite3.Connection:
        self.directory.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute(
            "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, tokens TEXT NOT NULL)"
        )
        return con

    def get_many(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Cached token lists for the keys that are present."""
        keys = list(dict.fromkeys(keys))
        if not keys or not self.path.exists():
            return {}
        found: dict[str, list[str]] = {}
        pool: dict[str, str] = {}  # one string object per distinct token
        con = self._connect()
        try:
            for i in range(0, len(keys), _BATCH):
                batch = keys[i : i + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = con.execute(f"SELECT key, tokens FROM tokens WHERE key IN ({marks})", batch)
                for key, value in rows:
                    found[key] = [pool.setdefault(t, t) for t in value.split(_SEP)] if value else []
        finally:
            con.close()
        return found

    def put_many(self, items: Mapping[str, list[str]]) -> None:
        """Store token lists in one transaction (existing keys are left as they are)."""
        if not items:
            return
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                "INSERT OR IGNORE INTO tokens (key, tokens) VALUES (?, ?)",
                ((k, _SEP.join(v)) for k, v in items.items()),
            )
            con.execute("COMMIT")
            if self._size() > self.max_bytes:
                self._evict(con)
        finally:
            con.close()

    def _size(self) -> int:
        return sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.exists())

    def _evict(self, con: sqlite3.Connection) -> None:
        # rowid grows with insertion, so the smallest rowids are the oldest entries.
        target = int(self.max_bytes * 0.8)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        while self._size() > target:
            n = con.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
            if n == 0:
                break
            con.execute(
                "DELETE FROM tokens WHERE rowid IN "
                "(SELECT rowid FROM tokens ORDER BY rowid LIMIT ?)",
                (max(1, n // 4),),
            )
            con.execute("VACUUM")
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def info(self) -> dict:
        """Location, number of entries, size and bound of the cache."""
        n = 0
        if self.path.exists():
            con = self._connect()
            try:
                n = con.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
            finally:
                con.close()
        return {
            "path": str(self.path),
            "entries": int(n),
            "size_bytes": self._size(),
            "max_bytes": self.max_bytes,
        }

    def clear(self) -> int:
        """Delete the cache file; returns the number of entries removed."""
        n = self.info()["entries"]
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{self.path}{suffix}")
            if p.exists():
                p.unlink()
        return n


class ModelCache:
    """A bounded folder of fitted models, one pickle file per key.

    Every file is written to a temporary name and renamed into place, so a
    reader never sees a partial file and an interrupted write leaves nothing
    behind. When the folder grows beyond ``max_bytes`` the least recently used
    files are deleted. A file that cannot be read is deleted and treated as a
    miss. Only read models written by this cache: loading a pickle runs code.

    Parameters
    ----------
    directory : str or Path, optional
        Default :data:`MODEL_SUBDIR` inside :func:`cache_dir`.
    max_bytes : int
        Bound on the total size of the folder.
    """

    _SUFFIX = ".pkl"

    def __init__(
        self, directory: str | Path | None = None, *, max_bytes: int = DEFAULT_MODEL_MAX_BYTES
    ):
        self.directory = Path(directory) if directory is not None else cache_dir() / MODEL_SUBDIR
        self.max_bytes = int(max_bytes)

    def _file(self, key: str) -> Path:
        return self.directory / f"{key}{self._SUFFIX}"

    def get(self, key: str) -> Any | None:
        """The cached value for ``key``, or None."""
        path = self._file(key)
        try:
            with open(path, "rb") as fh:
                value = pickle.load(fh)
        except FileNotFoundError:
            return None
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            path.unlink(missing_ok=True)
            return None
        os.utime(path)  # recently used: evicted last
        return value

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key`` atomically, then enforce the bound."""
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, self._file(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._evict()

    def _files(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(self.directory.glob(f"*{self._SUFFIX}"))

    def _evict(self) -> None:
        stats = [(p.stat(), p) for p in self._files()]
        total = sum(st.st_size for st, _ in stats)
        # Oldest use first; the name breaks ties so eviction order is stable.
        for st, path in sorted(stats, key=lambda sp: (sp[0].st_mtime, sp[1].name)):
            if total <= self.max_bytes:
                break
            total -= st.st_size
            path.unlink(missing_ok=True)

    def info(self) -> dict:
        """Location, number of models, size and bound of the cache."""
        files = self._files()
        return {
            "path": str(self.directory),
            "entries": len(files),
            "size_bytes": sum(p.stat().st_size for p in files),
            "max_bytes": self.max_bytes,
        }

    def clear(self) -> int:
        """Delete every cached model; returns how many were removed."""
        files = self._files()
        for p in files:
            p.unlink(missing_ok=True)
        return len(files)
