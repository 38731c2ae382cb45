"""On-disk caches: tokens (:class:`TokenCache`) and fitted topic models (:class:`ModelCache`).

Tokens are keyed by unit text and every tokenizer setting. Fitted models are
keyed by the exact feature matrix, every estimator parameter and the versions of
scikit-learn, NumPy and SciPy; a fit is deterministic for these, so a cached
model is the model a new fit would return, only sooner. Pass ``cache=False`` to
:func:`policystudy.tokenize`, :func:`policystudy.fit_topics` or
:func:`policystudy.select_k` (``--no-cache`` on the command line) to bypass them.

Both caches live in the user's cache folder (``platformdirs``), or in the folder
named by the ``POLICYSTUDY_CACHE`` environment variable; never in ``data/``.

* The token cache is one SQLite file. SQLite makes every write an atomic
  transaction and serialises concurrent writers, so two processes tokenizing at
  once never corrupt it. It is bounded: when the file grows beyond ``max_bytes``
  the oldest entries are evicted.
* The model cache is a folder with one file per fit: a JSON header (estimator,
  parameters, fitted scalars, the name, dtype and shape of every array) and the
  arrays in NumPy's ``.npz`` format, read with ``allow_pickle=False``. Nothing in
  either cache is ever unpickled, so no cache file can run code.

Integrity: every token row and every model file carries an HMAC-SHA256 checksum
made with a random key private to the user (:data:`KEY_FILE`, mode ``0o600``, one
per cache folder). An entry that was damaged, edited, truncated or planted by
someone without the key fails the check and is a miss: it is removed with a
warning and recomputed, never returned. A damaged SQLite file is removed and
rebuilt. Files of earlier cache versions (``tokens-v1.sqlite``, ``models/*.pkl``)
are never opened; ``policystudy cache --info`` lists them as stale and
``policystudy cache --clear`` removes them.

Every file is private to the user: files ``0o600`` in ``0o700`` folders (where the
package creates them), written through :mod:`policystudy._io`.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import sqlite3
import stat
import struct
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, Any, TypeVar

import numpy as np

from policystudy._io import PRIVATE_MODE, atomic_write, atomic_write_with, private_dir

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MODEL_MAX_BYTES",
    "KEY_FILE",
    "MODEL_SUBDIR",
    "CacheWarning",
    "ModelCache",
    "TokenCache",
    "cache_dir",
]


class CacheWarning(RuntimeWarning):
    """A cache file that was damaged, forged or unusable, and what was done about it.

    A warning about the state of a cache, not about the corpus: results are the
    same with or without it, and cached results never repeat it.
    """


#: Default bound on the cache file (bytes).
DEFAULT_MAX_BYTES = 512 * 1024 * 1024
#: Default bound on the folder of cached models (bytes). It holds the fits of one
#: ``policystudy study`` at 10k units (74 fits, 278 MB in float32): with a bound
#: below what a run writes, a rerun misses every fit, since each refit evicts
#: the next entry needed.
DEFAULT_MODEL_MAX_BYTES = 1024 * 1024 * 1024
#: The token cache file. v2 rows carry a checksum; v1 files are stale.
_FILE = "tokens-v2.sqlite"
#: Token cache files of any version (the current one is excluded where listed as stale).
_TOKEN_FILES = "tokens-v*.sqlite*"
#: Folder of the model cache inside the cache folder.
MODEL_SUBDIR = "models"
#: The secret key of a cache folder: 32 random bytes, mode 0o600.
KEY_FILE = "cache.key"
_KEY_BYTES = 32
_SEP = "\x1f"  # unit separator: never part of a token
_BATCH = 500  # keys per SELECT (SQLite variable limit)
# Domain prefixes: a checksum made for a token row can never pass for a model file.
_TOKEN_DOMAIN = b"policystudy token row v2\x00"
_MODEL_DOMAIN = b"policystudy model entry v2\x00"

_T = TypeVar("_T")


def cache_dir() -> Path:
    """The cache folder: ``$POLICYSTUDY_CACHE`` or the platform's user cache folder."""
    override = os.environ.get("POLICYSTUDY_CACHE")
    if override:
        return Path(override).expanduser()
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("policystudy", appauthor=False))


# --- the secret key -------------------------------------------------------------


def _read_key(path: Path) -> tuple[bytes | None, str | None]:
    """``(key, None)``, ``(None, None)`` if there is no key, ``(None, why)`` if it is unfit.

    The key is trusted only if it is a regular file of this user that nobody else
    can read or write: otherwise whoever could write it could also forge entries.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link
            return None, "is a symbolic link"
        raise
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            return None, "is not a regular file"
        if hasattr(os, "getuid") and st.st_uid != os.getuid():
            return None, "belongs to another user"
        if os.name == "posix" and st.st_mode & 0o077:
            return None, f"is accessible to other users (mode {stat.S_IMODE(st.st_mode):o})"
        data = fh.read(_KEY_BYTES + 1)
    if len(data) != _KEY_BYTES:
        return None, "has the wrong length"
    return data, None


def _create_key(path: Path) -> None:
    """Create the key unless it exists; of two processes racing, both end up with one key."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.new")
    atomic_write(tmp, secrets.token_bytes(_KEY_BYTES), mode=PRIVATE_MODE)
    try:
        # A hard link never replaces an existing file (os.replace would, and the
        # rows a concurrent process had just written with its key would fail).
        os.link(tmp, path)
    except FileExistsError:
        pass
    except OSError:
        # A file system without hard links: write in place if still absent.
        if not path.exists():
            atomic_write(path, tmp.read_bytes(), mode=PRIVATE_MODE)
    finally:
        tmp.unlink(missing_ok=True)


def _secret(directory: Path) -> bytes:
    """The key of a cache folder, created (``0o600``) on first use.

    A key that is not private to this user is replaced with a warning: entries
    checked against it could have been forged, so they become misses.
    """
    path = directory / KEY_FILE
    key, problem = _read_key(path)
    if key is None and problem is None:
        _create_key(path)
        key, problem = _read_key(path)
    if key is None and problem is not None:
        warnings.warn(
            f"cache key {path} {problem}; replaced it with a new private key "
            "(entries checked with the old key are recomputed)",
            CacheWarning,
            stacklevel=4,
        )
        atomic_write(path, secrets.token_bytes(_KEY_BYTES), mode=PRIVATE_MODE)
        key, problem = _read_key(path)
    if key is None:
        raise OSError(f"cache key {path} cannot be used: {problem or 'it could not be created'}")
    return key


# --- token cache ------------------------------------------------------------------


class _Damaged(Exception):
    """A cache file or entry failed a structural or checksum test."""


def _is_corrupt(exc: BaseException) -> bool:
    """Whether a SQLite error means the file itself is damaged (not busy, not read-only)."""
    if isinstance(exc, _Damaged):
        return True
    name = getattr(exc, "sqlite_errorname", "") or ""
    return name.startswith("SQLITE_CORRUPT") or name == "SQLITE_NOTADB"


def _row_mac(secret: bytes, key: bytes, value: bytes) -> bytes:
    # The key's length first, so that no split of key + value is ambiguous.
    message = _TOKEN_DOMAIN + struct.pack(">Q", len(key)) + key + value
    return hmac.new(secret, message, hashlib.sha256).digest()


#: Paths already warned about in this process: each damaged file is reported once.
_WARNED: set[str] = set()


def _warn_once(path: Path, message: str) -> None:
    if str(path) in _WARNED:
        return
    _WARNED.add(str(path))
    warnings.warn(message, CacheWarning, stacklevel=4)


class TokenCache:
    """A bounded key -> token-list store in one SQLite file.

    Every row carries an HMAC-SHA256 of its key and tokens made with the folder's
    private key (:data:`KEY_FILE`); a row that fails it (edited, damaged or
    planted) is a miss and is overwritten by the next write. A file that SQLite
    reports as damaged is removed with a warning and rebuilt.

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
        private_dir(self.directory)
        if not self.path.exists():
            # Create the file owner-only before SQLite opens it: SQLite gives its
            # -wal and -shm files the mode of the database file.
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE))
            _WARNED.discard(str(self.path))  # a new file: its own damage is reported again
        con = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("PRAGMA synchronous=NORMAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS tokens "
                "(key TEXT PRIMARY KEY, tokens TEXT NOT NULL, mac BLOB NOT NULL)"
            )
            columns = [row[1] for row in con.execute("PRAGMA table_info(tokens)")]
            if columns != ["key", "tokens", "mac"]:
                raise _Damaged(f"unexpected table layout {columns}")
        except BaseException:
            con.close()
            raise
        return con

    def _files(self) -> list[Path]:
        """The cache file and SQLite's companions of it."""
        return [Path(f"{self.path}{suffix}") for suffix in ("", "-wal", "-shm", "-journal")]

    def _remove_damaged(self, exc: BaseException) -> None:
        for p in self._files():
            p.unlink(missing_ok=True)
        _warn_once(
            self.path,
            f"token cache {self.path} was damaged ({exc}); removed it, "
            "so these texts are tokenized again and the cache is rebuilt",
        )

    def get_many(self, keys: Iterable[str]) -> dict[str, list[str]]:
        """Cached token lists for the keys present with a valid checksum."""
        keys = list(dict.fromkeys(keys))
        if not keys or not self.path.exists():
            return {}
        secret = _secret(self.directory)
        found: dict[str, list[str]] = {}
        pool: dict[str, str] = {}  # one string object per distinct token
        rejected = 0
        try:
            con = self._connect()
            try:
                # Bytes, not str: an edited row need not even be valid UTF-8, and
                # the checksum is over the stored bytes.
                con.text_factory = bytes
                for i in range(0, len(keys), _BATCH):
                    batch = keys[i : i + _BATCH]
                    marks = ",".join("?" * len(batch))
                    rows = con.execute(
                        f"SELECT key, tokens, mac FROM tokens WHERE key IN ({marks})", batch
                    )
                    for key, value, mac in rows:
                        if not (
                            isinstance(key, bytes)
                            and isinstance(value, bytes)
                            and isinstance(mac, bytes)
                            and hmac.compare_digest(mac, _row_mac(secret, key, value))
                        ):
                            rejected += 1
                            continue
                        text = value.decode("utf-8")
                        found[key.decode("utf-8")] = (
                            [pool.setdefault(t, t) for t in text.split(_SEP)] if text else []
                        )
            finally:
                con.close()
        except (sqlite3.DatabaseError, _Damaged) as exc:
            if not _is_corrupt(exc):
                raise
            self._remove_damaged(exc)
            return {}
        if rejected:
            warnings.warn(
                f"token cache {self.path}: {rejected} entries failed their checksum "
                "(edited, damaged or not written by this cache); ignored them and "
                "tokenized those texts again",
                CacheWarning,
                stacklevel=2,
            )
        return found

    def put_many(self, items: Mapping[str, list[str]]) -> None:
        """Store token lists in one transaction.

        A row already present under a key is replaced: callers store only what
        they missed, so an existing row failed its checksum (or is a concurrent
        writer's identical one).
        """
        if not items:
            return
        try:
            self._put(items)
        except (sqlite3.DatabaseError, _Damaged) as exc:
            if not _is_corrupt(exc):
                raise
            self._remove_damaged(exc)
            self._put(items)  # into a new file

    def _put(self, items: Mapping[str, list[str]]) -> None:
        private_dir(self.directory)
        secret = _secret(self.directory)
        rows = []
        for key, tokens in items.items():
            value = _SEP.join(tokens)
            rows.append((key, value, _row_mac(secret, key.encode("utf-8"), value.encode("utf-8"))))
        con = self._connect()
        try:
            con.execute("BEGIN IMMEDIATE")
            con.executemany(
                "INSERT OR REPLACE INTO tokens (key, tokens, mac) VALUES (?, ?, ?)", rows
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

    def stale_files(self) -> list[Path]:
        """Token cache files of earlier versions (never opened; removed by :meth:`clear`)."""
        if not self.directory.is_dir():
            return []
        return sorted(p for p in self.directory.glob(_TOKEN_FILES) if not p.name.startswith(_FILE))

    def info(self, *, check: bool = True) -> dict:
        """Location, entries, size and bound; ``damaged`` (why, or None); stale files.

        Parameters
        ----------
        check : bool, default True
            Also run SQLite's ``quick_check`` over the whole file (a count alone
            reads only the key index and misses damage elsewhere). It reads the
            whole file: about a second per few hundred MB.

        Returns
        -------
        dict
            ``path``, ``entries``, ``size_bytes``, ``max_bytes``, ``damaged``
            (what SQLite reported, or None), and ``stale``, ``stale_bytes`` and
            ``stale_files`` for files of earlier versions of the cache. A damaged
            file is reported, not removed (:meth:`clear` removes it).
        """
        n, damaged = 0, None
        stale = self.stale_files()
        if self.path.exists():
            try:
                con = self._connect()
                try:
                    if check:
                        report = [str(row[0]) for row in con.execute("PRAGMA quick_check")]
                        if report != ["ok"]:
                            # The report can list thousands of pages: name the first.
                            lines = "\n".join(report).splitlines()
                            first = next((ln for ln in lines if not ln.startswith("***")), "")
                            raise _Damaged(f"database disk image is malformed: {first}")
                    n = con.execute("SELECT COUNT(*) FROM tokens").fetchone()[0]
                finally:
                    con.close()
            except (sqlite3.DatabaseError, _Damaged) as exc:
                if not _is_corrupt(exc):
                    raise
                damaged = str(exc)
        return {
            "path": str(self.path),
            "entries": int(n),
            "size_bytes": self._size(),
            "max_bytes": self.max_bytes,
            "damaged": damaged,
            "stale": len(stale),
            "stale_bytes": sum(p.stat().st_size for p in stale if p.exists()),
            "stale_files": [str(p) for p in stale],
        }

    def clear(self) -> int:
        """Delete the cache file, damaged or not, and stale files of earlier versions.

        Returns the number of entries removed (0 for a damaged file).
        """
        try:
            n = self.info(check=False)["entries"]
        except sqlite3.Error:
            n = 0  # unreadable for another reason (e.g. locked for over a minute): remove anyway
        for p in [*self._files(), *self.stale_files()]:
            p.unlink(missing_ok=True)
        return n


# --- model cache ------------------------------------------------------------------

# One file per entry keeps every write atomic:
#   magic (8 bytes) | header length (4 bytes, big-endian) | header (UTF-8 JSON)
#   | HMAC-SHA256 of everything else (32 bytes) | payload (.npz of the arrays)
_MAGIC = b"PSMODEL\x02"
_PREFIX = struct.Struct(">8sI")
_MAC_BYTES = 32
_FORMAT = 2
_KEY_PATTERN = re.compile(r"[0-9A-Za-z_-]{1,128}")


class _Stream:
    """A write-only stream that cannot seek, for :func:`numpy.savez`.

    On a stream it cannot seek, :mod:`zipfile` writes each member once, in order
    (sizes and CRC after the data), so the archive's bytes can be counted or
    handed on as they are made, never held whole in memory. ``np.load`` reads
    such an archive like any other.
    """

    def __init__(self, consume: Callable[[memoryview], object] | None = None) -> None:
        self._consume = consume
        self.size = 0

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.size += view.nbytes
        if self._consume is not None:
            self._consume(view)
        return view.nbytes

    def read(self, *args: Any) -> bytes:  # numpy takes an object with read() for a file
        raise OSError("write-only")

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        raise OSError("not seekable")

    def seek(self, *args: Any) -> int:
        raise OSError("not seekable")

    def flush(self) -> None:
        pass


def _write_entry(
    fh: IO[bytes], secret: bytes, key: str, meta: Mapping[str, Any], arrays: Mapping[str, Any]
) -> None:
    """Write an entry file to ``fh``: header, checksum, payload (see the layout above).

    The archive is made twice, streamed both times: once to count its bytes (the
    header states them), once into the file and the checksum. The checksum's
    place is filled last, so no copy of the payload is ever held in memory (a
    stage entry is hundreds of MB). No object arrays reach here (checked by
    :meth:`ModelCache.put`): no pickle.
    """
    counter = _Stream()
    np.savez(counter, **arrays)
    header = json.dumps(
        {
            "format": _FORMAT,
            "key": key,
            "meta": meta,
            "arrays": {
                name: {"dtype": a.dtype.str, "shape": list(a.shape)} for name, a in arrays.items()
            },
            "payload_bytes": counter.size,
        },
        sort_keys=True,
        ensure_ascii=True,
    ).encode("ascii")
    head = _PREFIX.pack(_MAGIC, len(header)) + header
    mac = hmac.new(secret, _MODEL_DOMAIN, hashlib.sha256)
    mac.update(head)
    fh.write(head)
    mac_at = fh.tell()
    fh.write(bytes(_MAC_BYTES))

    def consume(view: memoryview) -> None:
        fh.write(view)
        mac.update(view)

    payload = _Stream(consume)
    np.savez(payload, **arrays)
    if payload.size != counter.size:  # the atomic writer then discards the file
        raise OSError(f"cache entry {key}: archive of {payload.size} bytes, {counter.size} stated")
    fh.seek(mac_at)
    fh.write(mac.digest())


def _entry_mac(secret: bytes, head: bytes | memoryview, payload: bytes | memoryview) -> bytes:
    # Fed piece by piece: concatenating would copy a large payload (stage entries
    # are hundreds of MB) only to hash it.
    mac = hmac.new(secret, _MODEL_DOMAIN, hashlib.sha256)
    mac.update(head)
    mac.update(payload)
    return mac.digest()


def _decode(secret: bytes, key: str, data: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Header metadata and arrays of an entry; :class:`_Damaged` says what is wrong."""
    if len(data) < _PREFIX.size or data[: len(_MAGIC)] != _MAGIC:
        raise _Damaged("not a policystudy model entry")
    _, n_header = _PREFIX.unpack_from(data)
    end = _PREFIX.size + n_header
    if len(data) < end + _MAC_BYTES:
        raise _Damaged("truncated")
    view = memoryview(data)
    mac, payload = data[end : end + _MAC_BYTES], view[end + _MAC_BYTES :]
    expected = _entry_mac(secret, view[:end], payload)
    if not hmac.compare_digest(mac, expected):
        # Tell truncation apart from other damage when the header says how long it was.
        try:
            stated = json.loads(data[_PREFIX.size : end])["payload_bytes"]
        except (ValueError, TypeError, KeyError, RecursionError):
            stated = None
        if isinstance(stated, int) and stated > len(payload):
            raise _Damaged("truncated")
        raise _Damaged("checksum mismatch")
    # From here on the bytes are the ones this cache wrote; the checks below only
    # guard against a change of format.
    try:
        header = json.loads(data[_PREFIX.size : end])
    except (ValueError, RecursionError) as exc:
        raise _Damaged(f"header is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise _Damaged("unknown entry format")
    if header.get("key") != key:
        raise _Damaged("entry of another key")
    manifest = header.get("arrays")
    meta = header.get("meta")
    if not isinstance(manifest, dict) or not isinstance(meta, dict):
        raise _Damaged("header without arrays or metadata")
    try:
        with np.load(io.BytesIO(payload.tobytes()), allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception as exc:  # np.load raises many types on malformed archives
        raise _Damaged(f"arrays unreadable: {exc}") from None
    if set(arrays) != set(manifest):
        raise _Damaged("arrays differ from the header")
    for name, array in arrays.items():
        spec = manifest[name]
        if not isinstance(spec, dict) or (
            array.dtype.str != spec.get("dtype") or list(array.shape) != spec.get("shape")
        ):
            raise _Damaged(f"array {name} has the wrong dtype or shape")
    return meta, arrays


class ModelCache:
    """A bounded folder of fitted models, one file of JSON header and ``.npz`` arrays per key.

    Nothing is unpickled: arrays are read with ``allow_pickle=False`` and the rest
    is JSON. Every file carries an HMAC-SHA256 checksum made with the folder's
    private key (:data:`KEY_FILE`); a file that fails it, or any other check, is
    deleted with a warning and treated as a miss. Files are written atomically
    (a reader never sees a partial file), owner-only (``0o600``). When the folder
    grows beyond ``max_bytes`` the least recently used files are deleted. Files
    of the pickle format (``*.pkl``) are never opened; :meth:`clear` removes them.

    Parameters
    ----------
    directory : str or Path, optional
        Default :data:`MODEL_SUBDIR` inside :func:`cache_dir`.
    max_bytes : int
        Bound on the total size of the folder.
    """

    _SUFFIX = ".model"
    _STALE = "*.pkl"

    def __init__(
        self, directory: str | Path | None = None, *, max_bytes: int = DEFAULT_MODEL_MAX_BYTES
    ):
        self.directory = Path(directory) if directory is not None else cache_dir() / MODEL_SUBDIR
        self.max_bytes = int(max_bytes)

    @classmethod
    def _from_arg(cls, cache: Any) -> ModelCache | None:
        """The store a ``cache=`` argument names: None for False or None, a
        given store as it is, else this class in the default folder (True) or
        in the folder given."""
        if cache is False or cache is None:
            return None
        if isinstance(cache, ModelCache):
            return cache
        return cls(None if cache is True else cache)

    def _file(self, key: str) -> Path:
        if not isinstance(key, str) or not _KEY_PATTERN.fullmatch(key):
            raise ValueError(f"cache key must be 1-128 letters, digits, '-' or '_', got {key!r}")
        return self.directory / f"{key}{self._SUFFIX}"

    def _read(self, path: Path) -> bytes | None:
        """The bytes of an entry; None if absent. Only regular files up to the bound."""
        flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(path, flags)
        except FileNotFoundError:
            return None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # O_NOFOLLOW met a link planted to elsewhere
                raise _Damaged("a symbolic link, not an entry") from None
            raise
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise _Damaged("not a regular file")
            if st.st_size > self.max_bytes:
                raise _Damaged("larger than the cache bound")
            return fh.read()

    def get(
        self,
        key: str,
        decode: Callable[[dict, dict[str, np.ndarray]], _T] | None = None,
    ) -> _T | tuple[dict, dict[str, np.ndarray]] | None:
        """The entry stored under ``key``, or None.

        Parameters
        ----------
        key : str
            Letters, digits, ``-`` and ``_``.
        decode : callable, optional
            Called with the entry's metadata and arrays; its result is returned.
            It raises ValueError when they are not what the caller stored (e.g.
            arrays of the wrong shape): the entry is then treated as damaged.

        Returns
        -------
        object or None
            ``decode(meta, arrays)``, or ``(meta, arrays)`` without ``decode``;
            None for a miss. A damaged entry is deleted with a warning (once per
            file and process) and is a miss.
        """
        path = self._file(key)
        try:
            data = self._read(path)
            if data is None:
                return None
            meta, arrays = _decode(_secret(self.directory), key, data)
            value: Any = (meta, arrays) if decode is None else decode(meta, arrays)
        except (_Damaged, ValueError) as exc:
            path.unlink(missing_ok=True)
            _warn_once(path, f"cache entry {path} was damaged ({exc}); removed, refitting")
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except FileNotFoundError:
            pass  # evicted by another process meanwhile; the value is still good
        return value

    def put(self, key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        """Store arrays and JSON metadata under ``key`` atomically, then enforce the bound.

        Parameters
        ----------
        key : str
            Letters, digits, ``-`` and ``_``.
        arrays : mapping of str to numpy.ndarray
            Numeric, boolean or string arrays (object arrays would need pickle).
        meta : mapping
            JSON-serialisable metadata (``NaN`` and infinities are kept).
        """
        path = self._file(key)
        arrays = {name: np.asarray(a) for name, a in arrays.items()}
        for name, a in arrays.items():
            if a.dtype.hasobject:
                raise TypeError(f"array {name!r} has dtype object, which cannot be stored")
        private_dir(self.directory)
        secret = _secret(self.directory)
        atomic_write_with(
            path, lambda fh: _write_entry(fh, secret, key, dict(meta), arrays), mode=PRIVATE_MODE
        )
        _WARNED.discard(str(path))  # a new file: its own damage is reported again
        self._evict()

    def _stats(self, pattern: str) -> list[tuple[Path, os.stat_result]]:
        """Files matching ``pattern`` and their stat, each stated once; vanished ones skipped."""
        if not self.directory.is_dir():
            return []
        found = []
        for path in sorted(self.directory.glob(pattern)):
            try:
                found.append((path, path.lstat()))
            except FileNotFoundError:
                continue  # removed by another process meanwhile
        return found

    def _evict(self) -> None:
        stats = self._stats(f"*{self._SUFFIX}")
        total = sum(st.st_size for _, st in stats)
        # Oldest use first; the name breaks ties so eviction order is stable.
        for path, st in sorted(stats, key=lambda ps: (ps[1].st_mtime, ps[0].name)):
            if total <= self.max_bytes:
                break
            total -= st.st_size
            path.unlink(missing_ok=True)

    def info(self) -> dict:
        """Location, number of models, size and bound; ``stale``: how many ``*.pkl`` files."""
        stats = self._stats(f"*{self._SUFFIX}")
        stale = self._stats(self._STALE)
        return {
            "path": str(self.directory),
            "entries": len(stats),
            "size_bytes": sum(st.st_size for _, st in stats),
            "max_bytes": self.max_bytes,
            "stale": len(stale),
            "stale_bytes": sum(st.st_size for _, st in stale),
        }

    def clear(self) -> int:
        """Delete every cached model and every stale ``*.pkl``; returns how many models."""
        entries = self._stats(f"*{self._SUFFIX}")
        for path, _ in [*entries, *self._stats(self._STALE)]:
            path.unlink(missing_ok=True)
        return len(entries)
