"""On-disk cache of tokens, keyed by unit text and every tokenizer setting.

The cache is one SQLite file in the user's cache folder (``platformdirs``), or in
the folder named by the ``POLICYSTUDY_CACHE`` environment variable. SQLite makes
every write an atomic transaction and serialises concurrent writers, so two
processes tokenizing at once never corrupt it. It is bounded: when the file grows
beyond ``max_bytes`` the oldest entries are evicted. It never lives in ``data/``.

Use ``policystudy cache --info`` and ``policystudy cache --clear`` from the command line.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["TokenCache", "cache_dir", "DEFAULT_MAX_BYTES"]

#: Default bound on the cache file (bytes).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_FILE = "tokens-v1.sqlite"
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
