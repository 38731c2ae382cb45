"""Loading: documents and their metadata into one table.

:func:`load_corpus` reads the bundled corpus, a folder of ``.txt`` files (with an
optional ``manifest.csv``) or a table with one document per row (CSV, TSV, Excel,
Parquet), decodes every file with a checked encoding, converts Traditional to
Simplified script with OpenCC and cleans the text (:mod:`policystudy.clean`). It returns one row per
document; the spans that cleaning removed travel with it in
``docs.attrs["removed"]`` (see :func:`removed_spans`).
"""

from __future__ import annotations

import codecs
import datetime
import functools
import io
import numbers
import os
import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from policystudy import clean as _clean
from policystudy._memory import release_free_memory
from policystudy.markers import CN_DIGITS, HAN_RE
from policystudy.schema import (
    DOC_COLUMNS,
    REMOVED_COLUMNS,
    REQUIRED_META,
    meta_name,
    reserved_name,
)

__all__ = [
    "CorpusError",
    "bundled_data_dir",
    "decode_bytes",
    "detect_script",
    "load_corpus",
    "parse_year",
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
    text, codec = _decode(data, encoding, name, table=False)
    return _check_chinese(text, name), codec


def _decode(data: bytes, encoding: str | None, name: str, *, table: bool) -> tuple[str, str]:
    """Decode as :func:`decode_bytes` does, without requiring Chinese text.

    For a table (``table=True``) the candidates are judged on their non-ASCII
    characters only: a CSV is mostly digits, commas and Latin names, which read
    the same in every legacy codec and would hide the difference between them.
    """
    if not data.strip(b" \t\r\n\x00"):
        raise CorpusError(f"{name}: the file is empty")
    hint = "encoding=..." if table else "encoding=... or in the manifest's 'encoding' column"
    if encoding is not None:
        try:
            text = data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as err:
            raise CorpusError(f"{name}: cannot decode as {encoding!r}: {err}") from None
        return text.lstrip("\ufeff"), encoding
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_strict(data, codec, name), codec.replace("-sig", "")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    scores: dict[str, tuple[float, str]] = {}
    candidates = [*LEGACY_ENCODINGS, *(("utf-16-le", "utf-16-be") if len(data) % 2 == 0 else ())]
    for codec in candidates:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        judged = "".join(ch for ch in text if ord(ch) > 0x7F) if table else text
        scores[codec] = (_confidence(judged), text)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1][0])
    summary = ", ".join(f"{c} {s:.2f}" for c, (s, _) in ranked) or "no candidate decodes"
    if not ranked or ranked[0][1][0] < MIN_CONFIDENCE:
        raise CorpusError(
            f"{name}: cannot decode with confidence (not UTF-8; share of plausible "
            f"characters: {summary}); name the encoding with {hint}"
        )
    if len(ranked) > 1 and ranked[0][1][0] - ranked[1][1][0] < 0.05:
        raise CorpusError(f"{name}: ambiguous encoding ({summary}); name it with {hint}")
    codec, (_, text) = ranked[0]
    return text, codec


def _decode_strict(data: bytes, codec: str, name: str) -> str:
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        raise CorpusError(f"{name}: invalid {codec} data: {err}") from None
    return text.lstrip("\ufeff")


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
# Years
# --------------------------------------------------------------------------

_ZH_DIGITS = str.maketrans("〇○" + CN_DIGITS, "00" + "0123456789")
_ZH_TENS = re.compile(rf"([{CN_DIGITS[1:]}]?)十([{CN_DIGITS[1:]}]?)")
_DATE = re.compile(
    r"(?P<year>\d{4})"
    r"(?:"
    r"\.0+"  # a number written by a spreadsheet or pandas: 2021.0
    r"|年度?(?:(?P<m1>\d{1,2})月(?:(?P<d1>\d{1,2})[日号])?)?"
    r"|(?P<sep>[-/.])(?P<m2>\d{1,2})(?:(?P=sep)(?P<d2>\d{1,2}))?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
    r")?"
)


def _zh_tens(match: re.Match[str]) -> str:
    tens, units = match.group(1), match.group(2)
    value = 10 * (int(tens.translate(_ZH_DIGITS)) if tens else 1)
    return str(value + (int(units.translate(_ZH_DIGITS)) if units else 0))


def parse_year(value: object) -> int | None:
    """The year of a year or date value, the one rule every source uses.

    Accepted: a four-digit year, alone or at the start of a date — ``2021``,
    ``2021年``, ``2021年度``, ``2021年5月30日``, ``2021-05-30``, ``2021/5/30``,
    ``2021.5`` (year and month), ``2021-05-30 00:00:00``, ``2021.0`` (a number
    written by a spreadsheet) — in Arabic, full-width or Chinese digits written one
    by one (``二〇二二年``, ``二零二二年``, with ``十`` in months and days); an
    integer of four digits; a date or timestamp. A month or day must exist
    (1–12, 1–31). Empty and missing values are missing.

    Parameters
    ----------
    value : object
        A cell of a manifest or table.

    Returns
    -------
    int or None
        The year, or ``None`` for an empty or missing value.

    Raises
    ------
    ValueError
        If the value is not empty and is not a year in one of these forms (the
        loaders turn this into a :class:`CorpusError` naming the file and row).

    Examples
    --------
    >>> parse_year("2021年"), parse_year("二〇二二年"), parse_year("2021-05-30")
    (2021, 2022, 2021)
    >>> parse_year("2021.5"), parse_year("2021/05/30"), parse_year("二〇二一年十二月三十一日")
    (2021, 2021, 2021)
    >>> parse_year(2021), parse_year(2021.0), parse_year(" "), parse_year(None)
    (2021, 2021, None, None)
    >>> parse_year("明年")
    Traceback (most recent call last):
    ...
    ValueError: cannot read a year from '明年' (expected e.g. 2021, 2021年, 二〇二一年, 2021-05-30)
    """
    if value is None or (
        pd.api.types.is_scalar(value) and not isinstance(value, str) and pd.isna(value)
    ):
        return None
    if isinstance(value, bool):
        raise _year_error(value)
    if isinstance(value, (datetime.date, np.datetime64)):
        return int(pd.Timestamp(value).year)
    if isinstance(value, numbers.Integral) or (
        isinstance(value, numbers.Real) and float(value).is_integer()
    ):
        year = int(value)
        if not 1000 <= year <= 9999:
            raise _year_error(value)
        return year
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    text = _ZH_TENS.sub(_zh_tens, text).translate(_ZH_DIGITS)
    match = _DATE.fullmatch(text)
    if match is None:
        raise _year_error(value)
    month, day = match.group("m1") or match.group("m2"), match.group("d1") or match.group("d2")
    if (month is not None and not 1 <= int(month) <= 12) or (
        day is not None and not 1 <= int(day) <= 31
    ):
        raise _year_error(value)
    return int(match.group("year"))


def _year_error(value: object) -> ValueError:
    return ValueError(
        f"cannot read a year from {value!r} (expected e.g. 2021, 2021年, 二〇二一年, 2021-05-30)"
    )


def _parse_years(values: pd.Series, where: str, rows: Sequence[str]) -> pd.Series:
    """``parse_year`` over a column; an unreadable value is an error naming its row."""
    years = []
    for value, row in zip(values, rows, strict=True):
        try:
            years.append(parse_year(value))
        except ValueError as err:
            raise CorpusError(
                f"{where}: {row}: {err}; leave the cell empty when the year is unknown"
            ) from None
    return pd.Series(pd.array(years, dtype="Int64"), index=values.index, name=values.name)


# --------------------------------------------------------------------------
# Sources
# --------------------------------------------------------------------------

MANIFEST_NAME = "manifest.csv"
#: Files in a corpus folder that are never documents and are passed over silently.
_SYSTEM_FILES = frozenset({"thumbs.db", "desktop.ini"})
#: Formats a manifest may not point at: the package reads plain text only.
_NOT_TEXT = frozenset(
    {".doc", ".docx", ".odt", ".rtf", ".wps", ".pdf", ".html", ".htm", ".xls", ".xlsx"}
    | {".ppt", ".pptx", ".zip", ".png", ".jpg", ".jpeg"}
)


def bundled_data_dir() -> Path:
    """The folder holding the bundled corpus (``manifest.csv`` and the ``.txt`` files).

    In an installed package this is ``policystudy/_data``; in a source checkout,
    the repository's ``data/`` folder.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "_data", here.parent / "data"):
        if (candidate / MANIFEST_NAME).is_file():
            return candidate
    raise CorpusError(
        f"the bundled corpus is missing: neither {here / '_data'} nor {here.parent / 'data'} "
        "has a manifest.csv (reinstall the package)"
    )


def _one_line(err: BaseException) -> str:
    return " ".join(str(err).split())


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise CorpusError(f"{path}: cannot read the file: {err.strerror or err}") from None


def _read_delimited(
    path: Path, sep: str, encoding: str | None, *, prefer_utf8: bool = False
) -> pd.DataFrame:
    """A CSV or TSV file as text columns, decoded like the documents are."""
    data = _read_bytes(path)
    if prefer_utf8 and encoding is not None:
        try:
            data.decode("utf-8")
            encoding = None  # valid UTF-8: detection reads it as UTF-8 (with or without BOM)
        except UnicodeDecodeError:
            pass
    text, _ = _decode(data, encoding, str(path), table=True)
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except Exception as err:  # pandas raises several parser errors
        raise CorpusError(f"{path}: cannot read the table: {_one_line(err)}") from None


def _row(i: int, doc_id: object) -> str:
    return f"row {i + 1} (doc_id {doc_id})"


def read_manifest(path: str | Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a ``manifest.csv`` with at least ``doc_id`` and ``file`` columns.

    Every column is read as text except ``year`` (nullable integer, read with
    :func:`parse_year`). The manifest's encoding is detected as a document's is;
    ``encoding`` names it when the manifest is not UTF-8 (a UTF-8 manifest is
    read as UTF-8 whatever ``encoding`` says, so that one codec given for the
    documents does not garble it).

    Raises
    ------
    CorpusError
        If the manifest cannot be decoded or parsed, lacks a required column,
        has a row without ``doc_id``, a duplicate ``doc_id`` or a year that
        :func:`parse_year` cannot read (naming the row, its doc_id and the value).
    """
    path = Path(path)
    manifest = _read_delimited(path, ",", encoding, prefer_utf8=True)
    missing = [c for c in ("doc_id", "file") if c not in manifest.columns]
    if missing:
        raise CorpusError(f"{path}: the manifest lacks the column(s) {', '.join(missing)}")
    manifest = manifest.replace("", pd.NA)
    _check_ids(manifest["doc_id"], str(path))
    if "year" in manifest.columns:
        rows = [_row(i, d) for i, d in enumerate(manifest["doc_id"])]
        manifest["year"] = _parse_years(manifest["year"], str(path), rows)
    return manifest


def _check_ids(ids: pd.Series, where: str) -> None:
    if ids.isna().any():
        raise CorpusError(f"{where}: {int(ids.isna().sum())} row(s) have no doc_id")
    dup = sorted(ids[ids.duplicated()].astype(str).unique())
    if dup:
        raise CorpusError(f"{where}: duplicate doc_id(s): {', '.join(dup)}")


def _inside(path: str, folder: str) -> bool:
    try:
        return os.path.commonpath([path, folder]) == folder
    except ValueError:  # another drive
        return False


def _manifest_files(manifest: pd.DataFrame, folder: Path, manifest_path: Path) -> list[Path]:
    """The file of every manifest row, checked to lie inside ``folder``, not yet opened.

    The check is lexical (``..`` collapsed, symlinks not resolved) and the file is
    then opened by that normalised path, so ``..`` can never climb out of the
    folder, while a symlink the user placed inside the folder is followed.
    """
    lexical = os.path.normcase(os.path.abspath(folder))
    real = os.path.normcase(os.path.realpath(folder))
    paths = []
    for i, (doc_id, file) in enumerate(zip(manifest["doc_id"], manifest["file"], strict=True)):
        where = f"{manifest_path}: {_row(i, doc_id)}"
        if pd.isna(file) or not str(file).strip():
            raise CorpusError(f"{where}: no file named")
        file = str(file)
        target = os.path.normcase(os.path.normpath(os.path.join(lexical, file)))
        base = next((b for b in (lexical, real) if _inside(target, b)), None)
        if base is None:
            raise CorpusError(
                f"{where}: the file {file!r} is outside the corpus folder {folder} "
                "(manifest paths must stay inside the folder)"
            )
        if Path(target).suffix.lower() in _NOT_TEXT:
            raise CorpusError(
                f"{where}: {file!r} is not a plain-text file (the package reads .txt files; "
                "save the document as UTF-8 text)"
            )
        paths.append(folder / os.path.relpath(target, base))
    return paths


def _file_key(path: Path) -> tuple | str:
    """Identity of a file on disk: two names of one file (a link, another case) share it."""
    st = path.stat()
    return (st.st_dev, st.st_ino) if st.st_ino else os.path.normcase(os.path.realpath(path))


def _passed_over(name: str) -> bool:
    """Hidden and system files, and a folder's README: never meant as documents."""
    lower = name.lower()
    return (
        name.startswith((".", "~$"))
        or lower in _SYSTEM_FILES
        or (Path(lower).stem == "readme" and Path(lower).suffix != ".txt")
    )


def _folder_records(
    folder: Path, encoding: str | None, notes: list[str]
) -> tuple[pd.DataFrame, list]:
    manifest_path = folder / MANIFEST_NAME
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as err:
        raise CorpusError(f"{folder}: cannot list the folder: {err.strerror or err}") from None
    txt, others = [], []
    for entry in entries:
        if entry.name == MANIFEST_NAME or _passed_over(entry.name):
            continue
        if entry.suffix.lower() == ".txt" and entry.is_file():
            txt.append(entry)
        else:
            others.append(entry)
    if manifest_path.is_file():
        manifest = read_manifest(manifest_path, encoding=encoding)
        paths = _manifest_files(manifest, folder, manifest_path)
        missing = [f for f, p in zip(manifest["file"], paths, strict=True) if not p.is_file()]
        if missing:
            raise CorpusError(
                f"{manifest_path}: file(s) listed in the manifest are missing: {', '.join(missing)}"
            )
        # one file under two names (./a.txt, sub/../a.txt, a link, another case) is one file
        keys: dict[tuple | str, int] = {}
        for i, p in enumerate(paths):
            key = _file_key(p)
            if key in keys:
                j = keys[key]
                ids = manifest["doc_id"]
                raise CorpusError(
                    f"{manifest_path}: {_row(j, ids.iloc[j])} and {_row(i, ids.iloc[i])} list "
                    f"the same file ({manifest['file'].iloc[j]!r}, {manifest['file'].iloc[i]!r})"
                )
            keys[key] = i
        unlisted = [p.name for p in txt if _file_key(p) not in keys]
        if unlisted:
            raise CorpusError(
                f"{manifest_path}: .txt file(s) in {folder} are not in the manifest: "
                f"{', '.join(unlisted)} (add them or move them out)"
            )
        used_dirs = {Path(os.path.relpath(p, folder)).parts[0] for p in paths}
        others = [
            p
            for p in others
            if p.name not in used_dirs and not (p.is_file() and _file_key(p) in keys)
        ]
    else:
        if not txt:
            found = f" (found only: {', '.join(_names(others))})" if others else ""
            raise CorpusError(f"{folder}: no .txt files and no manifest.csv{found}")
        paths = txt
        manifest = pd.DataFrame({"doc_id": [p.stem for p in txt], "file": [p.name for p in txt]})
        _check_ids(manifest["doc_id"], str(folder))
    if others:
        why = "only .txt files are documents"
        if any(p.is_dir() for p in others):
            why += "; subfolders are read only through the manifest"
        notes.append(
            f"{folder}: {len(others)} item(s) not read ({why}): {', '.join(_names(others))}"
        )
    jobs = []
    for row, path in zip(manifest.itertuples(index=False), paths, strict=True):
        row_encoding = getattr(row, "encoding", None)
        codec = encoding or (None if pd.isna(row_encoding) else row_encoding)
        jobs.append(
            (
                str(row.doc_id),
                lambda p=path, c=codec: decode_bytes(_read_bytes(p), encoding=c, name=str(p)),
            )
        )
    return manifest, jobs


def _names(entries: Sequence[Path]) -> list[str]:
    return [p.name + ("/" if p.is_dir() else "") for p in entries]


def _read_excel(
    path: Path, sheet: str | int | None, notes: list[str]
) -> tuple[pd.DataFrame, list[str]]:
    """The chosen sheet, or every sheet concatenated with a ``sheet`` column."""
    with pd.ExcelFile(path) as book:
        names = [str(n) for n in book.sheet_names]
        if sheet is None:
            chosen = names
        elif isinstance(sheet, int) and not isinstance(sheet, bool):
            if not 0 <= sheet < len(names):
                raise CorpusError(
                    f"{path}: no sheet number {sheet} (sheets, from 0: {', '.join(names)})"
                )
            chosen = [names[sheet]]
        elif str(sheet) in names:
            chosen = [str(sheet)]
        else:
            raise CorpusError(f"{path}: no sheet {sheet!r} (sheets: {', '.join(names)})")
        frames = {
            n: pd.read_excel(book, sheet_name=n, dtype=str, keep_default_na=False) for n in chosen
        }
    if len(frames) == 1:
        (table,) = frames.values()
        return table, [f"row {i + 1}" for i in range(len(table))]
    filled = {n: f for n, f in frames.items() if len(f.columns)}
    if not filled:
        raise CorpusError(f"{path}: every sheet is empty ({', '.join(names)})")
    first, columns = next(iter(filled)), list(next(iter(filled.values())).columns)
    if "sheet" in columns:
        raise CorpusError(
            f"{path}: the sheets have a column 'sheet', which would hold the sheet names; "
            "rename it or pass sheet=... to read one sheet"
        )
    for name, frame in filled.items():
        if set(frame.columns) != set(columns):
            lacks = [c for c in columns if c not in frame.columns]
            extra = [c for c in frame.columns if c not in columns]
            raise CorpusError(
                f"{path}: sheet {name!r} does not have the columns of sheet {first!r} "
                f"(lacks: {', '.join(map(str, lacks)) or '-'}; "
                f"extra: {', '.join(map(str, extra)) or '-'}); pass sheet=... to read one sheet"
            )
    notes.append(
        f"{path}: read {len(frames)} sheets into one table with a 'sheet' column: "
        + ", ".join(
            f"{n!r} ({len(f)} rows)" if n in filled else f"{n!r} (empty)" for n, f in frames.items()
        )
        + "; pass sheet=... to read one"
    )
    table = pd.concat([f[columns].assign(sheet=n) for n, f in filled.items()], ignore_index=True)
    table = table[["sheet", *columns]]
    rows = [f"sheet {n!r} row {i + 1}" for n, f in filled.items() for i in range(len(f))]
    return table, rows


def _table_records(
    path: Path,
    text_column: str,
    id_column: str | None,
    encoding: str | None,
    sheet: str | int | None,
    notes: list[str],
) -> tuple[pd.DataFrame, list]:
    suffix = path.suffix.lower()
    readers: dict[str, Callable[[Path], tuple[pd.DataFrame, list[str] | None]]] = {
        ".csv": lambda p: (_read_delimited(p, ",", encoding), None),
        ".tsv": lambda p: (_read_delimited(p, "\t", encoding), None),
        ".xlsx": lambda p: _read_excel(p, sheet, notes),
        ".xls": lambda p: _read_excel(p, sheet, notes),
        ".parquet": lambda p: (pd.read_parquet(p), None),
    }
    if suffix not in readers:
        raise CorpusError(
            f"{path}: unsupported file type {suffix!r} (use a folder of .txt files, or .csv, "
            ".tsv, .xlsx or .parquet)"
        )
    if sheet is not None and suffix not in (".xlsx", ".xls"):
        raise CorpusError(f"{path}: sheet= applies to Excel workbooks only")
    try:
        table, rows = readers[suffix](path)
    except CorpusError:
        raise
    except ImportError as err:
        raise CorpusError(
            f"{path}: reading {suffix} needs an optional dependency: {_one_line(err)}"
        ) from None
    except Exception as err:
        raise CorpusError(f"{path}: cannot read the table: {_one_line(err)}") from None
    rows = rows or [f"row {i + 1}" for i in range(len(table))]
    if text_column not in table.columns:
        raise CorpusError(
            f"{path}: no text column {text_column!r} "
            f"(columns: {', '.join(map(str, table.columns))}); name it with text_column=..."
        )
    table = table.rename(columns={text_column: "_text"})
    if id_column is not None and id_column in table.columns:
        if id_column != "doc_id" and "doc_id" in table.columns:
            # The id column becomes doc_id; a user column already called so keeps its values.
            renamed = meta_name("doc_id", set(map(str, table.columns)))
            notes.append(
                f"{path}: column 'doc_id' renamed to {renamed!r} (the ids are {id_column!r})"
            )
            table = table.rename(columns={"doc_id": renamed})
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
        rows = [f"{r} (doc_id {d})" for r, d in zip(rows, table["doc_id"], strict=True)]
        table["year"] = _parse_years(table["year"], str(path), rows)
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
    sheet: str | int | None = None,
    errors: Literal["raise", "skip"] = "raise",
    clean: bool = True,
    line_rules: Sequence[_clean.LineRule] = _clean.DEFAULT_LINE_RULES,
    steps: Sequence[Callable[[str], str]] = _clean.DEFAULT_STEPS,
    page_chrome: bool = True,
    template_min_docs: int | None = _clean.TEMPLATE_MIN_DOCS,
    opencc_config: str = "t2s",
) -> pd.DataFrame:
    """Load documents and their metadata, one row per document.

    Parameters
    ----------
    source : str or Path, optional
        ``None`` for the bundled corpus; a folder of ``.txt`` files (any case:
        ``B.TXT`` too), optionally with a ``manifest.csv`` (at least
        ``doc_id,file``; an ``encoding`` column names a file's encoding; other
        columns become metadata; without a manifest the doc_id is the file name
        without its extension); or a ``.csv``/``.tsv``/``.xlsx``/``.parquet`` table
        with one document per row.
    text_column, id_column : str
        For a table: the column holding the text and the one holding the document
        id (``id_column=None`` numbers the rows ``doc-1``, ``doc-2``, …). Every other
        column becomes metadata.
    encoding : str, optional
        Decode every file (documents, the manifest, a CSV or TSV table) with this
        codec instead of detecting it. Detection accepts UTF-8 with or without a
        byte-order mark, UTF-16/32 and, judged by the share of plausible
        characters, GB18030 (GBK, GB2312) and Big5 (see :func:`decode_bytes`). A
        manifest that is valid UTF-8 is read as UTF-8 whatever ``encoding`` says.
    sheet : str or int, optional
        For an Excel workbook: the sheet to read, by name or 0-based position.
        By default every sheet is read; a workbook with several sheets gives one
        table with a ``sheet`` column, a warning lists the sheets and their rows,
        and the sheets must have the same columns.
    errors : {"raise", "skip"}
        What to do with a document that cannot be decoded with confidence, is
        empty or has no Chinese text: raise :class:`CorpusError`, or skip it with
        one warning that lists every skipped file and why.
    clean : bool
        Clean the text (:func:`policystudy.clean.clean_text`). ``raw_text`` is kept
        either way.
    line_rules, steps, page_chrome
        Cleaning rules, passed to :func:`~policystudy.clean.clean_text`.
    template_min_docs : int or None, default 2
        Corpus-level pass (:func:`~policystudy.clean.clean_corpus`): a short line
        found in at least this many documents of the corpus is a site template,
        removed (rule ``site_template``) where it also has the shape of page chrome or
        lies before or after a document's body. ``None`` cleans every document on
        its own evidence.
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

        A metadata column named like one of the package's columns
        (:data:`policystudy.schema.RESERVED_COLUMNS`: ``text``, ``section``,
        ``kind``, ``topic``, ``topic_<n>`` …) is renamed ``meta_<name>`` with one
        warning naming it; so is a table's own ``doc_id`` column when
        ``id_column`` names another one.

    Raises
    ------
    CorpusError
        Naming the file (or manifest, or table row) and the problem.

    Notes
    -----
    *Folders.* Files that are not ``.txt`` (``.docx``, ``.pdf``, ``.html``, …) and
    subfolders are not read; one warning names them all. Passed over silently:
    the manifest, hidden and system files (names starting with ``.`` or ``~$``,
    ``Thumbs.db``, ``desktop.ini``) and a README that is not a ``.txt`` file.

    *Manifest paths* are relative to the folder (or absolute) and must stay inside
    it: a path that leaves the folder through ``..`` or names a file elsewhere is
    refused before anything is opened. The check is on the path as written, with
    ``..`` collapsed and symbolic links not resolved; the file is then opened by
    that collapsed path, so a symbolic link that the user placed inside the folder
    is followed, wherever it points. A manifest listing one file twice, or
    pointing at a word-processor, PDF, HTML or spreadsheet file, is an error.

    *Years*, in a manifest and in every table, are read by :func:`parse_year`
    (``2021``, ``2021年``, ``二〇二二年``, ``2021-05-30``, ``2021.5``, …) into a
    nullable integer column. An empty cell is missing; any other value that is
    not a year is an error naming the file, the row (counted from 1 after the
    header), its doc_id and the value.
    """
    if errors not in ("raise", "skip"):
        raise ValueError(f"errors must be 'raise' or 'skip', not {errors!r}")
    notes: list[str] = []
    if source is None:
        path = bundled_data_dir()
    else:
        path = Path(source)
        if not path.exists():
            raise CorpusError(f"{path}: no such file or folder")
    if path.is_dir():
        if sheet is not None:
            raise CorpusError(f"{path}: sheet= applies to Excel workbooks only")
        meta, jobs = _folder_records(path, encoding, notes)
    else:
        meta, jobs = _table_records(path, text_column, id_column, encoding, sheet, notes)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)

    rows, removed, skipped, decoded = [], [], [], []
    for doc_id, read in jobs:
        try:
            raw, codec = read()
        except CorpusError as err:
            if errors == "raise":
                raise
            skipped.append(str(err))
            continue
        converted, script, n_converted = detect_script(raw, config=opencc_config)
        decoded.append((doc_id, raw, codec, converted, script, n_converted))
    # Cleaning needs the whole corpus: lines recurring across documents are a template.
    if clean:
        results = _clean.clean_corpus(
            [d[3] for d in decoded],
            template_min_docs=template_min_docs,
            line_rules=line_rules,
            steps=steps,
            page_chrome=page_chrome,
        )
    for index, (doc_id, raw, codec, converted, script, n_converted) in enumerate(decoded):
        if clean:
            text, spans = results[index].text, results[index].removed
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
    # A manifest's ``encoding`` column tells how to decode a file: consumed, not metadata.
    meta = meta.drop(columns=["encoding"] if path.is_dir() and "encoding" in meta.columns else [])
    meta = _rename_reserved(meta)
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
    release_free_memory()  # the cleaning's intermediate strings
    return docs


def _rename_reserved(meta: pd.DataFrame) -> pd.DataFrame:
    """Rename metadata columns named like a package column to ``meta_<name>``, with a warning.

    The package's columns keep their documented names in every table, so a user
    column called ``section``, ``text`` or ``topic`` would otherwise be merged
    into ``_x``/``_y`` pairs, overwritten or mistaken for the package's own.
    """
    clash = [c for c in meta.columns if c != "doc_id" and reserved_name(c)]
    if not clash:
        return meta
    taken = set(map(str, meta.columns))
    renames = {}
    for column in clash:
        renames[column] = meta_name(column, taken)
        taken.add(renames[column])
    warnings.warn(
        "metadata column(s) named like the package's own columns renamed: "
        + ", ".join(f"{old!r} -> {new!r}" for old, new in renames.items()),
        UserWarning,
        stacklevel=3,
    )
    return meta.rename(columns=renames)


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
