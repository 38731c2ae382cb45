"""Loading: documents and their metadata into one table.

:func:`load_corpus` reads the bundled corpus, a folder of ``.txt`` files (with an
optional ``manifest.csv``) or a table with one document per row, decodes every
file with a checked encoding, converts Traditional to Simplified script with
OpenCC and cleans the text (:mod:`policystudy.clean`). It returns one row per
document; the spans that cleaning removed travel with it in
``docs.attrs["removed"]`` (see :func:`removed_spans`).
"""

from __future__ import annotations

import codecs
import functools
import re
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from policystudy import clean as _clean
from policystudy.markers import HAN_RE
from policystudy.schema import DOC_COLUMNS, REMOVED_COLUMNS, REQUIRED_META

__all__ = [
    "CorpusError",
    "bundled_data_dir",
    "decode_bytes",
    "detect_script",
    "load_corpus",
    "read_manifest",
    "removed_spans",
]

#: Share of Han characters that OpenCC changes above which a text counts as Traditional
#: (about a quarter of the characters of running Traditional text differ).
SCRIPT_THRESHOLD = 0.10
#: Minimum share of plausible characters in a decoded text (see ``_confidence``).
MIN_CONFIDENCE = 0.90
#: Candidate legacy encodings tried, in this order, when a file is not UTF-8/UTF-16.
LEGACY_ENCODINGS = ("gb18030", "big5")


class CorpusError(ValueError):
    """A document or manifest cannot be loaded; the message names it and says why."""


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------


@functools.cache
def _common_chars() -> frozenset[str]:
    text = resources.files("policystudy").joinpath("resources/common_chars.txt").read_text("utf-8")
    return frozenset("".join(line for line in text.splitlines() if not line.startswith("#")))


_PLAUSIBLE_EXTRA = re.compile(r"[\x20-\x7e\s\u3000-\u303f\uff01-\uff5e\u2010-\u2027\u00b7]")


def _confidence(text: str) -> float:
    """Share of characters that are plausible in a Chinese document.

    Plausible: common Han characters, printable ASCII, whitespace and Chinese
    punctuation. A wrong decoding produces rare characters, other scripts and
    control characters instead.
    """
    if not text:
        return 0.0
    common = _common_chars()
    n_ok = sum(ch in common or bool(_PLAUSIBLE_EXTRA.match(ch)) for ch in text)
    return n_ok / len(text)


_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_bytes(
    data: bytes, *, encoding: str | None = None, name: str = "<bytes>"
) -> tuple[str, str]:
    """Decode a document, detecting its encoding, and refuse to guess.

    UTF-8 (with or without a byte-order mark) and UTF-16/32 with a byte-order mark
    are recognised exactly. Otherwise GB18030 (a superset of GBK and GB2312),
    Big5 and BOM-less UTF-16 are tried and judged by the share of plausible
    characters in the result (common Chinese characters, ASCII, punctuation),
    because Big5 bytes often decode as GB18030 *without error* into rare
    characters. A file is accepted only when
    one candidate reaches :data:`MIN_CONFIDENCE` and clearly beats the other.

    Parameters
    ----------
    data : bytes
        The file's content.
    encoding : str, optional
        Decode with this codec (strictly) and skip detection.
    name : str
        The file's name, used in error messages.

    Returns
    -------
    (text, encoding) : tuple of str

    Raises
    ------
    CorpusError
        If the file is empty, cannot be decoded with confidence, or has no
        Chinese text.

    Examples
    --------
    >>> decode_bytes("市域治理现代化".encode("gb18030"))
    ('市域治理现代化', 'gb18030')
    >>> decode_bytes("市域治理現代化".encode("big5"))
    ('市域治理現代化', 'big5')
    """
    if not data.strip(b" \t\r\n\x00"):
        raise CorpusError(f"{name}: the file is empty")
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as err:
            raise CorpusError(f"{name}: cannot decode as {encoding!r}: {err}") from None
        return _check_chinese(text.lstrip("\ufeff"), name), encoding
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_strict(data, codec, name), codec.replace("-sig", "")
    try:
        return _check_chinese(data.decode("utf-8"), name), "utf-8"
    except UnicodeDecodeError:
        pass
    scores: dict[str, tuple[float, str]] = {}
    candidates = [*LEGACY_ENCODINGS, *(("utf-16-le", "utf-16-be") if len(data) % 2 == 0 else ())]
    for codec in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        scores[codec] = (_confidence(text), text)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1][0])
    summary = ", ".join(f"{c} {s:.2f}" for c, (s, _) in ranked) or "no candidate decodes"
    if not ranked or ranked[0][1][0] < MIN_CONFIDENCE:
        raise CorpusError(
            f"{name}: cannot decode with confidence (not UTF-8; share of plausible "
            f"characters: {summary}); name the encoding with encoding=... or in the "
            f"manifest's 'encoding' column"
        )
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < 0.05:
        raise CorpusError(
            f"{name}: ambiguous encoding ({summary}); name it with encoding=... or in the "
            f"manifest's 'encoding' column"
        )
    codec, (_, text) = ranked[0]
    return _check_chinese(text, name), codec


def _decode_strict(data: bytes, codec: str, name: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        raise CorpusError(f"{name}: invalid {codec} data: {err}") from None
    return _check_chinese(text.lstrip("\ufeff"), name)


def _check_chinese(text: str, name: str) -> str:
    if not text.strip():
        raise CorpusError(f"{name}: the file is empty")
    if not HAN_RE.search(text):
        raise CorpusError(f"{name}: no Chinese text found")
    return text


# --------------------------------------------------------------------------
# Script
# --------------------------------------------------------------------------


@functools.cache
def _converter(config: str):
    import opencc

    return opencc.OpenCC(config)


def detect_script(
    text: str, *, config: str = "t2s", threshold: float = SCRIPT_THRESHOLD
) -> tuple[str, str, int]:
    """Convert to Simplified script and say which script the text was in.

    Parameters
    ----------
    text : str
    config : str
        OpenCC configuration (``"t2s"``: Traditional to Simplified).
    threshold : float
        Share of Han characters changed by the conversion above which the text is
        called ``"traditional"``. Simplified documents carry stray Traditional
        characters too (``金門``); they stay ``"simplified"``.

    Returns
    -------
    (converted, script, n_converted) : tuple

    Examples
    --------
    >>> detect_script("推動市域治理現代化")
    ('推动市域治理现代化', 'traditional', 2)
    >>> detect_script("推动泉州基础设施应通尽通,筑牢向金門供水安全保障体系。")
    ('推动泉州基础设施应通尽通,筑牢向金门供水安全保障体系。', 'simplified', 1)
    """
    converted = _converter(config).convert(text)
    if converted == text:
        return converted, "simplified", 0
    if len(converted) == len(text):
        a = np.frombuffer(text.encode("utf-32-le"), "<u4")
        n_converted = int((a != np.frombuffer(converted.encode("utf-32-le"), "<u4")).sum())
    else:  # phrase conversions changed the length: count changed Han characters
        n_converted = len(set(HAN_RE.findall(text)) - set(HAN_RE.findall(converted)))
    n_han = len(HAN_RE.findall(text)) or 1
    script = "traditional" if n_converted / n_han > threshold else "simplified"
    return converted, script, n_converted


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------


def bundled_data_dir() -> Path:
    """The folder holding the bundled corpus (``manifest.csv`` and the ``.txt`` files).

    In an installed package this is ``policystudy/_data``; in a source checkout,
    the repository's ``data/`` folder.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / "manifest.csv").is_file():
            return candidate
    raise CorpusError(
        f"the bundled corpus is missing: neither {here / '_data'} nor {here.parent / 'data'} "
        "has a manifest.csv (reinstall the package)"
    )


def read_manifest(path: str | Path) -> pd.DataFrame:
    """Read a ``manifest.csv`` with at least ``doc_id`` and ``file`` columns.

    Every column is read as text except ``year`` (nullable integer).
    """
    path = Path(path)
    try:
        manifest = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except Exception as err:  # pandas raises several parser errors
        raise CorpusError(f"{path}: cannot read the manifest: {err}") from None
    missing = [c for c in ("doc_id", "file") if c not in manifest.columns]
    if missing:
        raise CorpusError(f"{path}: the manifest lacks the column(s) {', '.join(missing)}")
    manifest = manifest.replace("", pd.NA)
    _check_ids(manifest["doc_id"], str(path))
    if "year" in manifest.columns:
        try:
            manifest["year"] = pd.to_numeric(manifest["year"]).astype("Int64")
        except (ValueError, TypeError) as err:
            raise CorpusError(f"{path}: the 'year' column is not numeric: {err}") from None
    return manifest


def _check_ids(ids: pd.Series, where: str) -> None:
    if ids.isna().any():
        raise CorpusError(f"{where}: {int(ids.isna().sum())} row(s) have no doc_id")
    dup = sorted(ids[ids.duplicated()].astype(str).unique())
    if dup:
        raise CorpusError(f"{where}: duplicate doc_id(s): {', '.join(dup)}")


def _folder_records(folder: Path, encoding: str | None) -> tuple[pd.DataFrame, list]:
    manifest_path = folder / "manifest.csv"
    txt = sorted(p.name for p in folder.glob("*.txt"))
    if manifest_path.is_file():
        manifest = read_manifest(manifest_path)
        files = manifest["file"].astype(str)
        missing = [f for f in files if not (folder / f).is_file()]
        if missing:
            raise CorpusError(
                f"{manifest_path}: file(s) listed in the manifest are missing: {', '.join(missing)}"
            )
        unlisted = sorted(set(txt) - set(files))
        if unlisted:
            raise CorpusError(
                f"{manifest_path}: .txt file(s) in {folder} are not in the manifest: "
                f"{', '.join(unlisted)} (add them or move them out)"
            )
    else:
        if not txt:
            raise CorpusError(f"{folder}: no .txt files and no manifest.csv")
        manifest = pd.DataFrame({"doc_id": [Path(f).stem for f in txt], "file": txt})
        _check_ids(manifest["doc_id"], str(folder))
    jobs = []
    for row in manifest.itertuples(index=False):
        row_encoding = getattr(row, "encoding", None)
        codec = encoding or (None if pd.isna(row_encoding) else row_encoding)
        path = folder / row.file
        jobs.append(
            (
                str(row.doc_id),
                lambda p=path, c=codec: decode_bytes(p.read_bytes(), encoding=c, name=str(p)),
            )
        )
    return manifest, jobs


def _table_records(
    path: Path, text_column: str, id_column: str | None
) -> tuple[pd.DataFrame, list]:
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path], pd.DataFrame]] = {
        ".csv": lambda p: pd.read_csv(p, dtype=str, keep_default_na=False, encoding="utf-8-sig"),
        ".tsv": lambda p: pd.read_csv(p, sep="\t", dtype=str, keep_default_na=False),
        ".xlsx": lambda p: pd.read_excel(p, dtype=str, keep_default_na=False),
        ".xls": lambda p: pd.read_excel(p, dtype=str, keep_default_na=False),
        ".parquet": pd.read_parquet,
    }
    if suffix not in readers:
        raise CorpusError(
            f"{path}: unsupported file type {suffix!r} (use a folder of .txt files, or .csv, "
            ".tsv, .xlsx or .parquet)"
        )
    try:
        table = readers[suffix](path)
    except ImportError as err:
        raise CorpusError(f"{path}: reading {suffix} needs an optional dependency: {err}") from None
    except Exception as err:
        raise CorpusError(f"{path}: cannot read the table: {err}") from None
    if text_column not in table.columns:
        raise CorpusError(
            f"{path}: no text column {text_column!r} "
            f"(columns: {', '.join(map(str, table.columns))}); name it with text_column=..."
        )
    table = table.rename(columns={text_column: "_text"})
    if id_column is not None and id_column in table.columns:
        table = table.rename(columns={id_column: "doc_id"}) if id_column != "doc_id" else table
    elif id_column not in (None, "doc_id"):
        raise CorpusError(f"{path}: no id column {id_column!r}; name it with id_column=...")
    else:
        width = len(str(len(table)))
        table.insert(0, "doc_id", [f"doc-{i + 1:0{width}d}" for i in range(len(table))])
    table["doc_id"] = table["doc_id"].astype(str)
    _check_ids(table["doc_id"], str(path))
    table = table.replace("", pd.NA) if suffix != ".parquet" else table
    if "year" in table.columns:
        table["year"] = pd.to_numeric(table["year"], errors="coerce").astype("Int64")
    jobs = []
    for doc_id, value in zip(table["doc_id"], table["_text"], strict=True):
        name = f"{path} (doc_id {doc_id})"
        jobs.append(
            (
                doc_id,
                lambda v=value, n=name: (_check_chinese("" if pd.isna(v) else str(v), n), "table"),
            )
        )
    return table.drop(columns="_text"), jobs


# --------------------------------------------------------------------------
# load_corpus
# --------------------------------------------------------------------------


def load_corpus(
    source: str | Path | None = None,
    *,
    text_column: str = "text",
    id_column: str | None = "doc_id",
    encoding: str | None = None,
    errors: Literal["raise", "skip"] = "raise",
    clean: bool = True,
    line_rules: Sequence[_clean.LineRule] = _clean.DEFAULT_LINE_RULES,
    steps: Sequence[Callable[[str], str]] = _clean.DEFAULT_STEPS,
    opencc_config: str = "t2s",
) -> pd.DataFrame:
    """Load documents and their metadata, one row per document.

    Parameters
    ----------
    source : str or Path, optional
        ``None`` for the bundled corpus; a folder of ``.txt`` files, optionally with
        a ``manifest.csv`` (at least ``doc_id,file``; an ``encoding`` column names
        a file's encoding; other columns become metadata; without a manifest the
        doc_id is the file name without ``.txt``); or a ``.csv``/``.tsv``/
        ``.xlsx``/``.parquet`` table with one document per row.
    text_column, id_column : str
        For a table: the column holding the text and the one holding the document
        id (``id_column=None`` numbers the rows ``doc-1``, ``doc-2``, …). Every other
        column becomes metadata.
    encoding : str, optional
        Decode every file with this codec instead of detecting it.
    errors : {"raise", "skip"}
        What to do with a document that cannot be decoded with confidence, is
        empty or has no Chinese text: raise :class:`CorpusError`, or skip it with
        one warning that lists every skipped file and why.
    clean : bool
        Clean the text (:func:`policystudy.clean.clean_text`). ``raw_text`` is kept
        either way.
    line_rules, steps
        Cleaning rules, passed to :func:`~policystudy.clean.clean_text`.
    opencc_config : str
        OpenCC conversion applied to every document (default Traditional to
        Simplified).

    Returns
    -------
    pandas.DataFrame
        ``doc_id``, the metadata columns (at least ``city``, ``doc_type``,
        ``year``, ``script``; NA where the source has none), then ``text``
        (cleaned, Simplified), ``raw_text`` (as decoded), ``n_chars``,
        ``n_raw_chars``, ``n_removed_chars`` (characters in removed spans),
        ``encoding``, ``detected_script`` and ``n_converted_chars`` (characters
        OpenCC changed). The removed spans travel in ``docs.attrs["removed"]``;
        :func:`removed_spans` returns them as a table.

    Raises
    ------
    CorpusError
        Naming the file (or manifest, or table row) and the problem.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', not {errors!r}")
    if source is None:
        path = bundled_data_dir()
    else:
        path = Path(source)
        if not path.exists():
            raise CorpusError(f"{path}: no such file or folder")
    if path.is_dir():
        meta, jobs = _folder_records(path, encoding)
    else:
        meta, jobs = _table_records(path, text_column, id_column)

    rows, removed, skipped = [], [], []
    for doc_id, read in jobs:
        try:
            raw, codec = read()
        except CorpusError as err:
            if errors == "raise":
                raise
            skipped.append(str(err))
            continue
        converted, script, n_converted = detect_script(raw, config=opencc_config)
        if clean:
            result = _clean.clean_text(converted, line_rules=line_rules, steps=steps)
            text, spans = result.text, result.removed
        else:
            text, spans = _clean.normalize_newlines(converted).strip(), []
        removed.extend({"doc_id": doc_id, **span} for span in spans)
        rows.append(
            {
                "doc_id": doc_id,
                "text": text,
                "raw_text": raw,
                "n_chars": len(text),
                "n_raw_chars": len(raw),
                "n_removed_chars": sum(s["n_chars"] for s in spans),
                "encoding": codec,
                "detected_script": script,
                "n_converted_chars": n_converted,
            }
        )
    if skipped:
        warnings.warn(
            f"skipped {len(skipped)} document(s):\n  " + "\n  ".join(skipped),
            UserWarning,
            stacklevel=2,
        )
    if not rows:
        raise CorpusError(f"{path}: no document could be loaded")
    docs = pd.DataFrame(rows)
    meta = meta.drop(columns=[c for c in DOC_COLUMNS if c in meta.columns and c != "doc_id"])
    docs = meta.merge(docs, on="doc_id", how="inner", validate="one_to_one")
    for column in REQUIRED_META:
        if column not in docs.columns:
            docs[column] = pd.array(
                [pd.NA] * len(docs), dtype="Int64" if column == "year" else "str"
            )
    docs["script"] = docs["script"].fillna(docs["detected_script"])
    meta_cols = [c for c in docs.columns if c not in DOC_COLUMNS and c != "doc_id"]
    docs = docs[["doc_id", *meta_cols, *DOC_COLUMNS]].reset_index(drop=True)
    # Plain tuples, not a DataFrame: pandas compares attrs when it concatenates or merges.
    docs.attrs["removed"] = tuple(tuple(r[c] for c in REMOVED_COLUMNS) for r in removed)
    docs.attrs["source"] = str(path)
    return docs


def removed_spans(docs: pd.DataFrame) -> pd.DataFrame:
    """The spans cleaning removed, one row each: doc_id, rule, line, text, n_chars.

    ``line`` is the 1-based line number in the decoded document. Rule
    ``rejoin_broken_lines`` rows mark where two broken lines were joined (nothing
    removed).
    """
    if "removed" not in docs.attrs:
        raise ValueError(
            "this table has no record of removed spans: it did not come from load_corpus"
        )
    return pd.DataFrame(list(docs.attrs["removed"]), columns=list(REMOVED_COLUMNS)).astype(
        {"line": "int64", "n_chars": "int64"}
    )
