"""Stage cache: the documents, units and feature matrix of an earlier run, read back.

A rerun on unchanged input recomputes nothing before the topic model: loading,
cleaning, unit splitting, tokenizing and the TF-IDF matrix are each a function of
the input bytes and a handful of parameters, so their results are stored once and
read back. Three kinds of entry:

* **documents** (:func:`load_units`): the tables of :func:`policystudy.load_corpus`
  and :func:`policystudy.split_units`, keyed by the bytes of every file the loader
  reads (a folder's listing, its ``manifest.csv`` and documents, or a table file),
  every loader parameter, the package's code and the library versions;
* **features** (:func:`build_features_cached`): the :class:`~policystudy.Features`
  of :func:`policystudy.build_features` on those units, keyed by the documents key
  (or, for units from elsewhere, their content), the tokenizer's fingerprint
  (:attr:`policystudy.Tokenizer.fingerprint`) and every feature parameter;
* **tables** (:func:`command_key`, :func:`get_tables`, :func:`put_tables`): the CSV
  files a table command of the command line wrote (``topics``, ``compare``,
  ``agenda``, ``terms``) and the lines it printed on stderr, keyed by the command,
  its arguments (and the bytes of every file an argument names), the input bytes,
  every file of the installed package and the library versions. A rerun with
  nothing changed then only reads its input (to hash it), reads the entry and
  writes the files: no model is fitted and no table computed.

A changed byte, parameter, package file or library version is a different key: a
miss. The warnings the stages gave are stored with the result and given again on a
hit, so a rerun reports what the first run reported.

Entries are stored by :class:`StageCache`, which is the model cache's container
(:class:`policystudy.cache.ModelCache`): one file per entry of JSON metadata and
``.npz`` arrays read with ``allow_pickle=False``, authenticated with the cache
folder's private HMAC key, written atomically with mode ``0o600`` through
:mod:`policystudy._io`; a damaged, truncated or planted entry is removed with a
warning and recomputed. Nothing is pickled. Tables are stored column by column
(numbers as arrays, text as one UTF-8 buffer and offsets); a table with a column
of another kind (categoricals, mixed objects) is simply not cached.

``cache=False`` (``--no-cache`` on the command line) bypasses the store;
``policystudy cache --info`` and ``--clear`` include it (folder ``stages`` of
:func:`policystudy.cache.cache_dir`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import logging
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from policystudy._io import private_dir
from policystudy.cache import ModelCache, _secret, cache_dir

__all__ = [
    "DEFAULT_STAGE_MAX_BYTES",
    "STAGE_SUBDIR",
    "UNKEYED_ARGUMENTS",
    "StageCache",
    "Stages",
    "build_features_cached",
    "command_key",
    "get_tables",
    "load_units",
    "put_tables",
    "wait_for_writes",
]

#: Folder of the stage cache inside :func:`policystudy.cache.cache_dir`.
STAGE_SUBDIR = "stages"
#: Default bound on the stage folder (bytes): a 100k-paragraph corpus takes about
#: 0.4 GB (its text three times: raw, cleaned, units, plus the matrices).
DEFAULT_STAGE_MAX_BYTES = 4 * 1024**3
#: Bumped whenever the layout of an entry changes: old entries become misses.
_FORMAT = 1
_log = logging.getLogger(__name__)

CacheArg = bool | str | Path | ModelCache | None


class StageCache(ModelCache):
    """A bounded folder of stage results (documents and units, feature matrices).

    The container, integrity checks, privacy and eviction are those of
    :class:`policystudy.cache.ModelCache` (one authenticated file of JSON and
    ``.npz`` per key, least recently used evicted first); only the folder, the
    file suffix and the size bound differ.

    Parameters
    ----------
    directory : str or Path, optional
        Default :data:`STAGE_SUBDIR` inside :func:`policystudy.cache.cache_dir`.
    max_bytes : int
        Bound on the total size of the folder (an entry larger than this is
        never read).
    """

    _SUFFIX = ".stage"

    def __init__(
        self, directory: str | Path | None = None, *, max_bytes: int = DEFAULT_STAGE_MAX_BYTES
    ):
        super().__init__(
            Path(directory) if directory is not None else cache_dir() / STAGE_SUBDIR,
            max_bytes=max_bytes,
        )

    def info(self) -> dict:
        wait_for_writes()
        return super().info()

    def clear(self) -> int:
        wait_for_writes()
        return super().clear()


class _Unsupported(Exception):
    """A value this cache cannot store exactly: the stage runs uncached."""


# --- keys -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _code_fingerprint() -> str:
    """The package's code and the libraries that shape the stages.

    Every ``.py`` file of the package is hashed (a few hundred kB, milliseconds),
    so an edited cleaning rule or tokenizer is a miss even without a version bump.
    """
    from importlib import metadata

    import policystudy

    digest = hashlib.sha256(f"policystudy stage code v{_FORMAT}\x00".encode())
    root = Path(policystudy.__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\x00")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    versions = {}
    for dist in (
        "numpy",
        "pandas",
        "scipy",
        "scikit-learn",
        "opencc",
        "rjieba",
        "jieba",
        "pyarrow",
    ):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    digest.update(json.dumps([policystudy.__version__, versions], sort_keys=True).encode())
    return digest.hexdigest()


def _key(kind: str, parts: Mapping[str, Any]) -> str:
    header = json.dumps(
        {"kind": kind, "format": _FORMAT, "code": _code_fingerprint(), **parts},
        sort_keys=True,
        ensure_ascii=True,
        allow_nan=False,
    )
    return f"{kind}-{hashlib.sha256(header.encode('ascii')).hexdigest()}"


def _file_digest(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _input_digest(path: Path, encoding: str | None) -> str:
    """SHA-256 of every byte the loader reads from ``path``, and of a folder's listing.

    A folder: the names and kinds of its entries (which decide what is read and
    what is reported as not read), the manifest and every file it lists, or
    without a manifest every ``.txt`` file. A file: its bytes. Raises when the
    input cannot be read; the caller then runs the loader, which says why.
    """
    from policystudy import load as _load

    digest = hashlib.sha256(b"policystudy stage input v1\x00")
    if not path.is_dir():
        digest.update(b"file\x00" + _file_digest(path).encode())
        return digest.hexdigest()
    entries = sorted(path.iterdir(), key=lambda p: p.name)
    listing = [[e.name, e.is_symlink(), e.is_file(), e.is_dir()] for e in entries]
    digest.update(json.dumps(listing, ensure_ascii=False).encode("utf-8"))
    manifest = path / _load.MANIFEST_NAME
    if manifest.is_file():
        table = _load.read_manifest(manifest, encoding=encoding)
        files = [manifest, *_load._manifest_files(table, path, manifest)]
    else:
        files = [
            e
            for e in entries
            if e.suffix.lower() == ".txt" and e.is_file() and not _load._passed_over(e.name)
        ]
    for file in files:
        digest.update(str(file.relative_to(path)).encode("utf-8") + b"\x00")
        digest.update(_file_digest(file).encode() if file.is_file() else b"missing")
    return digest.hexdigest()


def _frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a table's columns, dtypes, values and attrs (units from elsewhere)."""
    arrays: dict[str, np.ndarray] = {}
    spec = _encode_frame("f", frame, arrays)
    digest = hashlib.sha256(json.dumps(spec, sort_keys=True).encode("utf-8"))
    for name in sorted(arrays):
        digest.update(name.encode() + arrays[name].dtype.str.encode())
        digest.update(np.ascontiguousarray(arrays[name]).tobytes())
    return digest.hexdigest()


# --- tables as arrays -------------------------------------------------------------------

_MASKED = {f"{p}{n}" for p in ("Int", "UInt") for n in (8, 16, 32, 64)} | {
    "Float32",
    "Float64",
    "boolean",
}


def _pack_strings(values: list[str | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strings as one UTF-8 buffer, byte offsets and a missing-value mask."""
    encoded = [b"" if v is None else v.encode("utf-8") for v in values]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)), out=offsets[1:])
    blob = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    mask = np.fromiter((v is None for v in values), dtype=bool, count=len(values))
    return blob, offsets, mask


def _pack_arrow_strings(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """:func:`_pack_strings` of a pyarrow-backed string array, from its own buffers.

    The same three arrays without a Python loop over the strings (the column's
    UTF-8 bytes and offsets are read as they are); None when the column is not
    backed by Arrow.
    """
    if not hasattr(values, "__arrow_array__"):
        return None
    import pyarrow as pa

    array = pa.array(values)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    array = array.cast(pa.large_string())
    n = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + n + 1]
    start, end = (int(offsets[0]), int(offsets[-1])) if n else (0, 0)
    blob = (
        np.frombuffer(array.buffers()[2], dtype=np.uint8)[start:end] if n else np.zeros(0, np.uint8)
    )
    mask = array.is_null().to_numpy(zero_copy_only=False).astype(bool, copy=False)
    offsets = offsets - start
    # Views of Arrow's buffers, which nothing changes in place: read-only, so the
    # background writer need not copy them.
    for part in (blob, offsets, mask):
        part.flags.writeable = False
    return blob, offsets, mask


def _unpack_strings(blob: np.ndarray, offsets: np.ndarray, mask: np.ndarray) -> list[str | None]:
    data = blob.tobytes()
    bounds = offsets.tolist()
    if len(bounds) != len(mask) + 1 or (bounds and (bounds[0] != 0 or bounds[-1] != len(data))):
        raise ValueError("string offsets do not match the buffer")
    missing = mask.tolist()
    return [
        None if missing[i] else data[bounds[i] : bounds[i + 1]].decode("utf-8")
        for i in range(len(missing))
    ]


def _arrow_strings(blob: np.ndarray, offsets: np.ndarray, mask: np.ndarray):
    """The strings as an Arrow array over the stored buffers (no copy), or None.

    A pyarrow-backed string column built from a list of Python strings costs
    several times more than the whole read; this is the same column, its
    structure (offsets in bounds) checked by Arrow. The bytes are valid UTF-8:
    this cache encoded them from Python strings and the entry's HMAC shows they
    are unchanged. None without pyarrow, and the caller decodes the strings one
    by one instead.
    """
    try:
        import pyarrow as pa
    except ImportError:
        return None
    if offsets.dtype != np.int64 or blob.dtype != np.uint8 or len(offsets) != len(mask) + 1:
        raise ValueError("string buffers of the wrong dtype or length")
    validity = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    array = pa.LargeStringArray.from_buffers(
        len(mask),
        pa.py_buffer(offsets),
        pa.py_buffer(blob),
        validity,
        null_count=int(mask.sum()),
    )
    try:
        array.validate()
    except pa.ArrowInvalid as exc:
        raise ValueError(f"string column is not valid: {exc}") from None
    return array


def _encode_frame(prefix: str, frame: pd.DataFrame, arrays: dict[str, np.ndarray]) -> dict:
    """Add the columns of ``frame`` to ``arrays``; return the JSON spec that rebuilds it."""
    index = frame.index
    if not (
        isinstance(index, pd.RangeIndex)
        and index.start == 0
        and index.step == 1
        and index.name is None
    ):
        raise _Unsupported("index is not a default RangeIndex")
    names = list(frame.columns)
    if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise _Unsupported("column names are not unique strings")
    columns = []
    for i, name in enumerate(names):
        series = frame.iloc[:, i]
        dtype = series.dtype
        base = f"{prefix}.{i}"
        if isinstance(dtype, pd.StringDtype):
            na = "nan" if dtype.na_value is not pd.NA else "NA"
            column = {"kind": "string", "storage": dtype.storage, "na": na}
            packed = _pack_arrow_strings(series.array) if dtype.storage == "pyarrow" else None
            if packed is not None:
                arrays[f"{base}.blob"], arrays[f"{base}.offsets"], arrays[f"{base}.mask"] = packed
                columns.append({"name": name, **column})
                continue
            values = series.to_numpy(dtype=object, na_value=None).tolist()
        elif isinstance(dtype, np.dtype) and dtype.kind in "biufcmM":
            arrays[f"{base}.values"] = series.to_numpy()
            columns.append({"name": name, "kind": "numpy", "dtype": dtype.str})
            continue
        elif str(dtype) in _MASKED:
            array = series.array
            arrays[f"{base}.values"] = np.asarray(array._data)
            arrays[f"{base}.mask"] = np.asarray(array._mask)
            columns.append({"name": name, "kind": "masked", "dtype": str(dtype)})
            continue
        elif isinstance(dtype, np.dtype) and dtype.kind == "O":
            values = series.tolist()
            if not all(v is None or type(v) is str for v in values):
                raise _Unsupported(f"column {name!r} holds objects other than str")
            column = {"kind": "object_str"}
        else:
            raise _Unsupported(f"column {name!r} has dtype {dtype}")
        try:
            blob, offsets, mask = _pack_strings(values)
        except UnicodeEncodeError as exc:  # lone surrogates: not stored, not guessed
            raise _Unsupported(f"column {name!r}: {exc}") from None
        arrays[f"{base}.blob"], arrays[f"{base}.offsets"], arrays[f"{base}.mask"] = (
            blob,
            offsets,
            mask,
        )
        columns.append({"name": name, **column})
    return {
        "rows": len(frame),
        "columns": columns,
        "columns_dtype": str(frame.columns.dtype),
        "attrs": _encode_json(frame.attrs),
    }


def _decode_frame(prefix: str, spec: Mapping[str, Any], arrays: Mapping[str, np.ndarray]):
    """Rebuild a table; ValueError (a damaged entry) when the arrays do not fit the spec."""
    n = int(spec["rows"])
    data: dict[str, Any] = {}
    for i, column in enumerate(spec["columns"]):
        base = f"{prefix}.{i}"
        kind = column["kind"]
        if kind == "numpy":
            values = arrays[f"{base}.values"]
            if values.dtype.str != column["dtype"]:
                raise ValueError(f"column {column['name']!r} has the wrong dtype")
            series = pd.Series(values, copy=False)
        elif kind == "masked":
            dtype = pd.api.types.pandas_dtype(column["dtype"])
            values, mask = arrays[f"{base}.values"], arrays[f"{base}.mask"]
            if values.dtype != dtype.numpy_dtype or mask.dtype != bool:
                raise ValueError(f"column {column['name']!r} has the wrong dtype")
            series = pd.Series(dtype.construct_array_type()(values, mask.astype(bool)))
        elif kind in ("string", "object_str"):
            blob, offsets, mask = (arrays[f"{base}.{p}"] for p in ("blob", "offsets", "mask"))
            if kind == "string":
                na = np.nan if column["na"] == "nan" else pd.NA
                dtype = pd.StringDtype(storage=column["storage"], na_value=na)
                strings = (
                    _arrow_strings(blob, offsets, mask) if dtype.storage == "pyarrow" else None
                )
                if strings is None:
                    strings = _unpack_strings(blob, offsets, mask)
                series = pd.Series(pd.array(strings, dtype=dtype))
            else:
                strings = _unpack_strings(blob, offsets, mask)
                series = pd.Series(np.array(strings, dtype=object), dtype=object)
        else:
            raise ValueError(f"unknown column kind {kind!r}")
        if len(series) != n:
            raise ValueError(f"column {column['name']!r} has the wrong length")
        data[column["name"]] = series
    frame = pd.DataFrame(data, index=pd.RangeIndex(n))
    if not data:
        frame = pd.DataFrame(index=pd.RangeIndex(n))
    columns = [c["name"] for c in spec["columns"]]
    frame.columns = pd.Index(columns, dtype=spec["columns_dtype"])
    frame.attrs = _decode_json(spec["attrs"])
    return frame


def _encode_json(value: Any) -> Any:
    """Plain values as JSON, containers tagged so that tuples stay tuples."""
    if value is None or type(value) in (str, bool, int, float):
        return value
    if type(value) is tuple:
        return {"t": [_encode_json(v) for v in value]}
    if type(value) is list:
        return {"l": [_encode_json(v) for v in value]}
    if type(value) is dict and all(type(k) is str for k in value):
        return {"d": [[k, _encode_json(v)] for k, v in value.items()]}
    raise _Unsupported(f"a value of type {type(value).__name__} in the table's attrs")


def _decode_json(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    if "t" in value:
        return tuple(_decode_json(v) for v in value["t"])
    if "l" in value:
        return [_decode_json(v) for v in value["l"]]
    return {k: _decode_json(v) for k, v in value["d"]}


# --- warnings given by a stage ----------------------------------------------------------

_CATEGORIES: dict[str, type[Warning]] = {
    c.__name__: c
    for c in (UserWarning, RuntimeWarning, FutureWarning, DeprecationWarning, SyntaxWarning)
}


def _recorded(run: Callable[[], Any]) -> tuple[Any, list[list[str]]]:
    """Run a stage, recording its warnings as ``[category, message]`` pairs."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = run()
    return value, [[type(w.message).__name__, str(w.message)] for w in caught]


def _replay(recorded: list[list[str]]) -> None:
    """Give the warnings a stage gave (a miss and a hit report the same)."""
    for name, message in recorded:
        category = _CATEGORIES.get(name, UserWarning)
        warnings.warn(message, category, stacklevel=3)


def _storable_warnings(recorded: list[list[str]]) -> None:
    if any(name not in _CATEGORIES for name, _ in recorded):
        raise _Unsupported("a warning of a category the cache does not restore")


# --- documents and units ----------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Stages:
    """The documents and units of one input, and the key the later stages are cached under.

    Attributes
    ----------
    docs : pandas.DataFrame
        As returned by :func:`policystudy.load_corpus`.
    units : pandas.DataFrame
        ``split_units(docs)``.
    key : str or None
        Cache key of the pair (None when it was not cached); pass it to
        :func:`build_features_cached` as ``units_key``.
    hit : bool
        Whether they came from the cache.
    """

    docs: pd.DataFrame
    units: pd.DataFrame
    key: str | None
    hit: bool


def load_units(
    source: str | Path | None = None, *, cache: CacheArg = True, **kwargs: Any
) -> Stages:
    """:func:`policystudy.load_corpus` then :func:`policystudy.split_units`, cached.

    Parameters
    ----------
    source : str or Path, optional
        As for :func:`policystudy.load_corpus` (``None``: the bundled corpus).
    cache : bool, path or StageCache, default True
        ``True``: the stage folder of the user cache; a folder or a
        :class:`StageCache`; ``False`` runs the stages without the cache.
    **kwargs
        Further arguments of :func:`policystudy.load_corpus`. Custom cleaning
        ``line_rules`` or ``steps`` (functions, which cannot be keyed) run uncached.

    Returns
    -------
    Stages
        Equal tables whether computed or read back (same columns, dtypes, values
        and ``attrs``); the loader's warnings are given either way.
    """
    from policystudy import clean as _clean
    from policystudy.load import bundled_data_dir, load_corpus
    from policystudy.units import split_units

    def compute() -> tuple[pd.DataFrame, pd.DataFrame]:
        docs = load_corpus(source, **kwargs)
        return docs, split_units(docs)

    store = StageCache._from_arg(cache)
    key = None
    if store is not None:
        try:
            key = _documents_key(source, kwargs, _clean, bundled_data_dir)
        except Exception as exc:  # unreadable input: the loader reports it
            _log.debug("stage cache: no key for %s: %s", source, exc)
    if key is None:
        docs, units = compute()
        return Stages(docs, units, None, False)
    hit = _get(store, key, _decode_documents)
    if hit is not None:
        (docs, units), recorded = hit
        _replay(recorded)
        return Stages(docs, units, key, True)
    (docs, units), recorded = _recorded(compute)
    _replay(recorded)
    _put(store, key, lambda arrays: _encode_documents(docs, units, recorded, arrays))
    return Stages(docs, units, key, False)


def _documents_key(source, kwargs: Mapping[str, Any], _clean, bundled_data_dir) -> str | None:
    params = dict(kwargs)
    for name, default in (
        ("line_rules", _clean.DEFAULT_LINE_RULES),
        ("steps", _clean.DEFAULT_STEPS),
    ):
        if name in params:
            if params[name] is not default and tuple(params[name]) != tuple(default):
                return None  # custom functions: nothing to key them by
            del params[name]
    if not all(v is None or type(v) in (str, int, float, bool) for v in params.values()):
        return None
    path = bundled_data_dir() if source is None else Path(source)
    digest = _input_digest(path, params.get("encoding"))
    return _key(
        "documents",
        {"source": None if source is None else str(source), "params": params, "input": digest},
    )


def _encode_documents(docs, units, recorded, arrays) -> dict:
    _storable_warnings(recorded)
    return {
        "docs": _encode_frame("docs", docs, arrays),
        "units": _encode_frame("units", units, arrays),
        "warnings": recorded,
    }


def _decode_documents(meta: dict, arrays: dict[str, np.ndarray]):
    docs = _decode_frame("docs", meta["docs"], arrays)
    units = _decode_frame("units", meta["units"], arrays)
    return (docs, units), _warning_list(meta)


def _warning_list(meta: Mapping[str, Any]) -> list[list[str]]:
    recorded = meta.get("warnings")
    if not isinstance(recorded, list) or not all(
        isinstance(w, list) and len(w) == 2 and all(isinstance(x, str) for x in w) for w in recorded
    ):
        raise ValueError("entry without a valid list of warnings")
    return recorded


def _get(store: ModelCache, key: str, decode):
    _wait_for(store, key)
    try:
        return store.get(key, lambda meta, arrays: _checked(decode, meta, arrays))
    except OSError as exc:  # an unreadable cache is skipped, as the model cache does
        _log.debug("stage cache not readable: %s", exc)
        return None


def _checked(decode, meta, arrays):
    # Any malformed part of an authenticated entry (a change of format) is a
    # ValueError, which the store treats as damage: removed and recomputed.
    try:
        return decode(meta, arrays)
    except (KeyError, TypeError, IndexError, UnicodeDecodeError) as exc:
        raise ValueError(f"entry does not match its format: {exc!r}") from None


def _put(store: ModelCache, key: str, encode: Callable[[dict], dict]) -> None:
    """Encode an entry now and write it in a background thread (see :func:`wait_for_writes`).

    Writing tens of MB (archive, HMAC, file) releases the GIL, so it overlaps the next
    stage (the NMF fit above all). The arrays are copied first: the caller may change
    its tables once the stage has returned. The key file is read here, so a warning
    about it reaches the caller's thread.
    """
    arrays: dict[str, np.ndarray] = {}
    try:
        meta = encode(arrays)
        # Read-only arrays (packed strings, copy-on-write views) cannot change.
        arrays = {
            name: a.copy() if a.flags.writeable else a for name, a in map(_as_array, arrays.items())
        }
        if any(a.dtype.hasobject for a in arrays.values()):
            raise _Unsupported("an array of dtype object")
    except _Unsupported as exc:
        _log.debug("stage cache: not stored: %s", exc)
        return
    try:
        private_dir(store.directory)
        _secret(store.directory)
    except OSError as exc:
        _log.debug("stage cache not writable: %s", exc)
        return
    _wait_for(store, key)  # an earlier write of this entry ends first
    thread = threading.Thread(
        target=_write, args=(store, key, arrays, meta), name="policystudy-stage-cache"
    )
    _WRITING[_entry_path(store, key)] = thread
    thread.start()


def _as_array(item: tuple[str, Any]) -> tuple[str, np.ndarray]:
    return item[0], np.asarray(item[1])


#: Stage entries being written by a background thread of this process: file -> thread.
#: Non-daemon threads: the interpreter waits for them before it exits.
_WRITING: dict[Path, threading.Thread] = {}


def _entry_path(store: ModelCache, key: str) -> Path:
    return store._file(key).resolve()


def _write(store: ModelCache, key: str, arrays: dict, meta: dict) -> None:
    try:
        store.put(key, arrays, meta)
    except Exception as exc:  # a cache that cannot be written is skipped, never fatal
        _log.debug("stage cache not writable: %s", exc)


def _wait_for(store: ModelCache, key: str) -> None:
    thread = _WRITING.pop(_entry_path(store, key), None)
    if thread is not None:
        thread.join()


def wait_for_writes() -> None:
    """Wait until every stage entry this process is writing is on disk.

    Entries are written in the background; a read of an entry waits for its own
    write, :meth:`StageCache.info` and :meth:`StageCache.clear` for all of them, and
    :func:`policystudy.tokenize` calls this before it starts worker processes (a
    process forked while another thread writes could inherit its locks).
    """
    while _WRITING:
        _, thread = _WRITING.popitem()
        thread.join()


# --- features ---------------------------------------------------------------------------

#: The fields of :class:`policystudy.features.Features` this cache stores and restores; a
#: Features class with other fields is not cached (nothing is silently dropped).
_FEATURE_FIELDS = (
    "units",
    "counts",
    "tfidf",
    "vocabulary",
    "params",
    "vectorizer_",
    "dropped_",
    "dropped_units_",
    "adjusted_",
)


def build_features_cached(
    units: pd.DataFrame,
    tokenizer: Any = None,
    *,
    units_key: str | None = None,
    n_jobs: int = 1,
    cache: CacheArg = True,
    token_cache: Any = True,
    **params: Any,
):
    """:func:`policystudy.tokenize` then :func:`policystudy.build_features`, cached.

    Parameters
    ----------
    units : pandas.DataFrame
        Units as from :func:`policystudy.split_units`.
    tokenizer : Tokenizer, optional
        Default ``Tokenizer()``; its :attr:`~policystudy.Tokenizer.fingerprint` is
        part of the key.
    units_key : str, optional
        :attr:`Stages.key` of these very units (unmodified): saves hashing their
        content, which is the key otherwise.
    n_jobs : int
        Tokenization processes on a miss (the tokens do not depend on it).
    cache : bool, path or StageCache, default True
        The stage cache (see :func:`load_units`); ``False`` bypasses it.
    token_cache : bool, path or TokenCache, default True
        The token cache used on a miss (``cache`` of :func:`policystudy.tokenize`).
    **params
        Arguments of :func:`policystudy.build_features` (``min_df``, ``max_df``, …).

    Returns
    -------
    Features
        Equal to ``build_features(tokenize(units, tokenizer), **params)``: same
        matrices (values, dtypes, index order), vocabulary, units table, params and
        filters; its ``vectorizer_`` is rebuilt with the same parameters and idf
        weights. The warnings of ``build_features`` are given either way. On a hit
        ``attrs["cache_hits"]`` of ``units`` and ``dropped_units_`` counts every
        distinct text (all came from a cache), as ``tokenize`` would after a full
        token-cache hit.
    """
    from policystudy.features import Features, build_features
    from policystudy.tokens import Tokenizer, tokenize

    tokenizer = tokenizer or Tokenizer()

    def compute():
        tokens = tokenize(units, tokenizer, n_jobs=n_jobs, cache=token_cache)
        return _recorded(lambda: build_features(tokens, **params))

    store = StageCache._from_arg(cache)
    key = None
    if store is not None and all(
        v is None or type(v) in (str, int, float, bool) for v in params.values()
    ):
        try:
            source = units_key if units_key is not None else _frame_digest(units)
            key = _key(
                "features",
                {"units": source, "tokenizer": tokenizer.fingerprint, "params": params},
            )
        except (_Unsupported, ValueError, TypeError) as exc:
            _log.debug("stage cache: no key for these units: %s", exc)
    if key is None:
        features, recorded = compute()
        _replay(recorded)
        return features
    hit = _get(store, key, lambda meta, arrays: _decode_features(Features, meta, arrays))
    if hit is not None:
        features, recorded = hit
        _replay(recorded)
        return features
    features, recorded = compute()
    _replay(recorded)
    # On a hit every distinct text was served from a cache: the count tokenize would give.
    distinct = len(set(units["text"].fillna("").astype(str))) if "text" in units.columns else 0
    _put(store, key, lambda arrays: _encode_features(features, recorded, arrays, distinct))
    return features


def _vectorizer(vocabulary: np.ndarray, params: Mapping[str, Any], idf: np.ndarray):
    """The ``vectorizer_`` of :func:`policystudy.build_features`, rebuilt from its parts."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from policystudy.features import identity_analyzer

    vectorizer = TfidfVectorizer(
        analyzer=identity_analyzer,
        lowercase=False,
        token_pattern=None,
        vocabulary=list(vocabulary),
        norm=params["norm"],
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=params["sublinear_tf"],
        dtype=np.float64,
    )
    vectorizer.idf_ = idf
    return vectorizer


def _same_vectorizer(a, b) -> bool:
    pa, pb = a.get_params(), b.get_params()
    if pa.keys() != pb.keys() or set(vars(a)) != set(vars(b)):
        return False
    return all(
        np.array_equal(pa[k], pb[k]) if k == "vocabulary" else pa[k] == pb[k] for k in pa
    ) and np.array_equal(a.idf_, b.idf_)


def _encode_features(features, recorded, arrays, distinct: int) -> dict:
    _storable_warnings(recorded)
    names = tuple(f.name for f in dataclasses.fields(features))
    if names != _FEATURE_FIELDS:
        raise _Unsupported(f"Features has the fields {names}")
    vocabulary = np.asarray(features.vocabulary)
    if vocabulary.dtype.kind != "U":
        raise _Unsupported("vocabulary is not an array of str")
    idf = np.asarray(features.vectorizer_.idf_)
    # The vectorizer is rebuilt on a hit: store only if the rebuilt one is the same.
    if not _same_vectorizer(features.vectorizer_, _vectorizer(vocabulary, features.params, idf)):
        raise _Unsupported("vectorizer_ is not the one build_features makes")
    for name in ("counts", "tfidf"):
        matrix = getattr(features, name)
        if type(matrix).__name__ != "csr_matrix":
            raise _Unsupported(f"{name} is a {type(matrix).__name__}")
        arrays[f"{name}.data"] = matrix.data
        arrays[f"{name}.indices"] = matrix.indices
        arrays[f"{name}.indptr"] = matrix.indptr
    arrays["vocabulary"] = vocabulary
    arrays["idf"] = idf
    for name in ("params", "dropped_", "adjusted_"):
        _encode_json(getattr(features, name))  # raises for what JSON would not restore
    return {
        "shape": list(features.counts.shape),
        "units": _encode_frame("units", features.units, arrays),
        "dropped_units": _encode_frame("dropped", features.dropped_units_, arrays),
        "params": _encode_json(features.params),
        "dropped": _encode_json(features.dropped_),
        "adjusted": _encode_json(features.adjusted_),
        "warnings": recorded,
        "distinct_texts": int(distinct),
    }


def _decode_features(cls, meta: dict, arrays: dict[str, np.ndarray]):
    import scipy.sparse as sp

    shape = tuple(int(n) for n in meta["shape"])
    matrices = {}
    for name in ("counts", "tfidf"):
        matrix = sp.csr_matrix(
            (arrays[f"{name}.data"], arrays[f"{name}.indices"], arrays[f"{name}.indptr"]),
            shape=shape,
            copy=False,
        )
        if matrix.indices.dtype != arrays[f"{name}.indices"].dtype:
            raise ValueError(f"{name}: index dtype changed")
        matrices[name] = matrix
    vocabulary = arrays["vocabulary"]
    params = _decode_json(meta["params"])
    units = _decode_frame("units", meta["units"], arrays)
    if len(units) != shape[0] or len(vocabulary) != shape[1]:
        raise ValueError("tables do not match the matrix shape")
    dropped_units = _decode_frame("dropped", meta["dropped_units"], arrays)
    for frame in (units, dropped_units):
        if "cache_hits" in frame.attrs:
            frame.attrs["cache_hits"] = int(meta["distinct_texts"])
    features = cls(
        units=units,
        counts=matrices["counts"],
        tfidf=matrices["tfidf"],
        vocabulary=vocabulary,
        params=params,
        vectorizer_=_vectorizer(vocabulary, params, arrays["idf"]),
        dropped_=_decode_json(meta["dropped"]),
        dropped_units_=dropped_units,
        adjusted_=_decode_json(meta["adjusted"]),
    )
    return features, _warning_list(meta)


# --- command tables ---------------------------------------------------------------------

#: Arguments that do not change a command's tables: where they are written, how
#: many processes compute them, and whether caches are used.
UNKEYED_ARGUMENTS = frozenset({"command", "func", "out", "no_cache", "n_jobs"})


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    """Every file of the installed package: code, lexicons, stopwords, dictionaries.

    The tables of a command depend on the package's data files as well as on its
    code; the stage entries need only the code, because the tokenizer's
    fingerprint already covers the lexicon and stopwords it uses.
    """
    import platform

    import policystudy

    digest = hashlib.sha256(b"policystudy package files v1\x00")
    root = Path(policystudy.__file__).resolve().parent
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\x00")
        digest.update(_file_digest(path).encode())
    digest.update(platform.python_version().encode())
    return digest.hexdigest()


def _argument_files(name: str, value: Any, files: dict[str, str]) -> None:
    """Add the content digest of every existing file an argument names.

    A file is keyed by its bytes, so an edited ``--lexicon`` or ``--dictionary``
    file is a miss. Raises :class:`_Unsupported` for a value that cannot be keyed
    (a folder other than the source, or a value that is not a JSON scalar).
    """
    values = value if isinstance(value, (list, tuple)) else [value]
    for item in values:
        if item is None or type(item) in (int, float, bool):
            continue
        if not isinstance(item, str):
            raise _Unsupported(f"argument {name}={item!r}")
        path = Path(item)
        if path.is_file():
            files[f"{name}:{item}"] = _file_digest(path)
        elif path.is_dir():
            raise _Unsupported(f"argument {name} names a folder")


def command_key(command: str, arguments: Mapping[str, Any]) -> str | None:
    """Cache key of the tables a command writes, or None when they cannot be keyed.

    Parameters
    ----------
    command : str
        The command's name (``"topics"``, ``"compare"`` …).
    arguments : mapping
        Its parsed arguments (``vars(args)``). :data:`UNKEYED_ARGUMENTS` are left
        out; ``source`` is keyed by the bytes the loader reads (as the documents
        entry is), every other argument by its value and, when it names a file, by
        that file's bytes.

    Returns
    -------
    str or None
        Equal for two runs exactly when their input bytes, arguments, package
        files and library versions are equal. None when the input cannot be read
        (the command itself then reports why) or an argument cannot be keyed.
    """
    from policystudy.load import bundled_data_dir

    values = {k: v for k, v in sorted(arguments.items()) if k not in UNKEYED_ARGUMENTS}
    source = values.pop("source", None)
    files: dict[str, str] = {}
    try:
        for name, value in values.items():
            _argument_files(name, value, files)
        path = bundled_data_dir() if source is None else Path(source)
        digest = _input_digest(path, values.get("encoding"))
        return _key(
            f"tables-{command}",
            {
                "arguments": values,
                "files": files,
                "input": digest,
                "package": _package_digest(),
            },
        )
    except Exception as exc:  # unreadable input or an unkeyable argument: run uncached
        _log.debug("stage cache: no key for %s %s: %s", command, source, exc)
        return None


def get_tables(key: str, cache: CacheArg = True) -> tuple[dict[str, bytes], list[str]] | None:
    """The files and stderr lines a command gave for ``key``, or None on a miss.

    Returns
    -------
    (dict, list) or None
        ``{file name: bytes}`` in the order the command wrote them, and the lines
        it printed on stderr (its notes and the corpus's warnings), in order.
    """
    store = StageCache._from_arg(cache)
    if store is None:
        return None
    return _get(store, key, _decode_tables)


def put_tables(
    key: str, tables: Mapping[str, bytes], messages: list[str], cache: CacheArg = True
) -> None:
    """Store the files and stderr lines of a successful command run under ``key``."""
    store = StageCache._from_arg(cache)
    if store is None:
        return

    def encode(arrays: dict) -> dict:
        names = list(tables)
        for i, name in enumerate(names):
            arrays[f"table.{i}"] = np.frombuffer(bytes(tables[name]), dtype=np.uint8)
        return {"tables": names, "messages": list(messages)}

    _put(store, key, encode)


def _decode_tables(meta: dict, arrays: dict[str, np.ndarray]):
    names, messages = meta["tables"], meta["messages"]
    if not (
        isinstance(names, list)
        and isinstance(messages, list)
        and all(isinstance(x, str) for x in names + messages)
        and set(arrays) == {f"table.{i}" for i in range(len(names))}
    ):
        raise ValueError("entry without valid table names and messages")
    tables = {name: arrays[f"table.{i}"].tobytes() for i, name in enumerate(names)}
    return tables, messages
