"""Exports for papers: one Excel workbook of a report's tables, with a column dictionary.

:func:`write_workbook` writes tables into one ``.xlsx`` file, a sheet per
table, led by a ``README`` sheet that lists every table (its sheet, CSV name,
size and what it is) and describes every column of every table. The
descriptions of the package's standard tables live in
``policystudy/resources/column_dictionary.toml`` (:func:`column_dictionary`);
callers add or override their own. :func:`write_workbook_from_folder` collects
the CSV files of a report folder into ``<folder>/tables.xlsx``.

Excel's rules are kept: sheet names are unique (Excel compares them ignoring
case), at most 31 characters and free of ``[]:*?/\\``; tables longer than
``max_rows`` (100,000) are not copied but listed by their CSV name. Text is
always written as text (a value starting with "=" is never a formula), and
characters XML cannot hold are dropped.

The same tables give the same bytes: the document properties carry a fixed
date and the zip members fixed timestamps. Files are written through
:func:`policystudy._io.atomic_write_with`.
"""

from __future__ import annotations

import datetime as _dt
import functools
import io
import math
import re
import tomllib
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from policystudy._io import atomic_write_with

__all__ = [
    "DICTIONARY_PATH",
    "MAX_ROWS",
    "WORKBOOK_NAME",
    "column_dictionary",
    "describe_columns",
    "sheet_names",
    "write_workbook",
    "write_workbook_from_folder",
]

#: The column dictionary of the standard tables.
DICTIONARY_PATH = Path(__file__).resolve().parent / "resources" / "column_dictionary.toml"
#: Tables with more rows than this are listed by CSV name instead of copied.
MAX_ROWS = 100_000
#: File name :func:`write_workbook_from_folder` writes.
WORKBOOK_NAME = "tables.xlsx"

_README = "README"
_SHEET_MAX = 31
_INVALID_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
# Sheet names Excel itself uses or refuses ("History" is reserved).
_RESERVED_SHEETS = {"history", _README.lower()}
# A fixed date for the document properties and zip entries (zip cannot go below 1980).
_FIXED_DATE = _dt.datetime(2000, 1, 1, 0, 0, 0)
_ZIP_DATE = (2000, 1, 1, 0, 0, 0)
# Control characters XML 1.0 cannot carry (openpyxl refuses them).
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]?(inf|nan)", re.IGNORECASE)
_LEADING_ZERO = re.compile(r"[+-]?0\d")
_TOPIC_SHARE = re.compile(r"topic_(\d+)")
_NO_DESCRIPTION = "(no description)"


# --------------------------------------------------------------------------- dictionary


@functools.lru_cache(maxsize=1)
def _dictionary() -> dict[str, Any]:
    with DICTIONARY_PATH.open("rb") as fh:
        return tomllib.load(fh)


def column_dictionary() -> pd.DataFrame:
    """The documented columns of the standard tables, as one table.

    Returns
    -------
    pandas.DataFrame
        ``table`` (``"*"`` for descriptions shared by every table),
        ``column``, ``description``; shared rows first, then tables in the
        file's order.
    """
    data = _dictionary()
    rows = [("*", c, d) for c, d in data["columns"].items()]
    for table, spec in data["tables"].items():
        rows.extend((table, c, d) for c, d in spec.get("columns", {}).items())
    return pd.DataFrame(rows, columns=["table", "column", "description"])


def _table_kind(name: str) -> str | None:
    """The standard table a saved name stands for, or None.

    Exact names and aliases first; then the longest standard name or alias
    that ``name`` starts with followed by "_" (``prevalence_city`` ->
    ``prevalence``, ``topic_terms_lda`` -> ``topic_terms``). Only the last
    path part counts (``04-topics/prevalence`` -> ``prevalence``).
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if base.lower().endswith(".csv"):
        base = base[:-4]
    names: dict[str, str] = {}
    for table, spec in _dictionary()["tables"].items():
        names[table] = table
        for alias in spec.get("aliases", []):
            names.setdefault(alias, table)
    if base in names:
        return names[base]
    prefixes = [n for n in names if base.startswith(f"{n}_")]
    return names[max(prefixes, key=len)] if prefixes else None


def _describe(column: str, kind: str | None, columns: list[str]) -> str:
    data = _dictionary()
    shared: Mapping[str, str] = data["columns"]
    own: Mapping[str, str] = data["tables"].get(kind, {}).get("columns", {}) if kind else {}
    if column in own:
        return own[column]
    if column in shared:
        return shared[column]
    match = _TOPIC_SHARE.fullmatch(column)
    if match:
        return f"Share of topic {match.group(1)} in the unit (the unit's shares sum to 1)"
    if column.startswith("docs_same_"):
        return f"Documents with the same {column[len('docs_same_') :]} as this one"
    for suffix, which in (("_a", "first"), ("_b", "second")):
        base = column[: -len(suffix)]
        if column.endswith(suffix) and base in shared:
            return f"{shared[base]} ({which} of the pair)"
    if kind == "similarity" and columns and column != columns[0]:
        return f"Cosine similarity with {column}"
    if columns and column == columns[0] and kind in {"prevalence", "similarity"}:
        return "Group value (the column the table was made by)"
    return _NO_DESCRIPTION


def describe_columns(
    name: str,
    columns: Iterable[str],
    descriptions: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Description of every column of a table saved as ``name``.

    Parameters
    ----------
    name : str
        The table's name (``"prevalence_city"``, ``"04-topics/keyness"``...):
        it selects the standard table whose descriptions apply.
    columns : iterable of str
    descriptions : mapping of str to str, optional
        Column -> description, taking precedence over the dictionary.

    Returns
    -------
    dict
        Column -> description, in column order; ``"(no description)"`` where
        neither ``descriptions`` nor the dictionary describes a column.
    """
    columns = [str(c) for c in columns]
    kind = _table_kind(name)
    given = dict(descriptions or {})
    return {c: given[c] if c in given else _describe(c, kind, columns) for c in columns}


# --------------------------------------------------------------------------- sheet names


def sheet_names(names: Iterable[str]) -> dict[str, str]:
    """Excel sheet names for table names: valid, unique, at most 31 characters.

    Characters Excel refuses (``[]:*?/\\``) become "_", leading and trailing
    apostrophes are dropped, and a name equal (ignoring case, as Excel does)
    to an earlier one, to ``README`` or to the reserved ``History`` gets a
    suffix ``~2``, ``~3``... within the 31 characters. The result depends
    only on the names and their order.

    Parameters
    ----------
    names : iterable of str
        Unique table names, in sheet order.

    Returns
    -------
    dict
        Table name -> sheet name.
    """
    used = set(_RESERVED_SHEETS)
    out: dict[str, str] = {}
    for name in names:
        base = _INVALID_SHEET_CHARS.sub("_", str(name)).strip("'").strip() or "table"
        base = base[:_SHEET_MAX]
        candidate, i = base, 1
        while candidate.lower() in used:
            i += 1
            suffix = f"~{i}"
            candidate = base[: _SHEET_MAX - len(suffix)] + suffix
        used.add(candidate.lower())
        out[str(name)] = candidate
    return out


# --------------------------------------------------------------------------- cells


def _cell_value(value: Any) -> Any:
    """A value openpyxl writes as Excel can read it (None for missing)."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if math.isnan(v):
            return None
        # Excel has no infinity: write it as text rather than lose it.
        return v if math.isfinite(v) else ("inf" if v > 0 else "-inf")
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value
    if isinstance(value, (list, tuple, np.ndarray)):
        return _ILLEGAL_XML.sub("", " ".join(map(str, value)))
    return _ILLEGAL_XML.sub("", str(value))


def _display_width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _write_rows(ws: Any, header: list[str], rows: Iterable[Iterable[Any]], *, bold: Any) -> None:
    from openpyxl.cell import WriteOnlyCell

    def cells(values: Iterable[Any]) -> list[Any]:
        out = []
        for value in values:
            cell = WriteOnlyCell(ws, value=_cell_value(value))
            if isinstance(cell.value, str):
                # Text stays text: no formula from a value that starts with "=".
                cell.data_type = "s"
            out.append(cell)
        return out

    head = cells(header)
    for cell in head:
        cell.font = bold
    ws.append(head)
    for row in rows:
        ws.append(cells(row))


def _set_widths(ws: Any, header: list[str], sample: list[list[Any]]) -> None:
    from openpyxl.utils import get_column_letter

    for j, name in enumerate(header):
        width = max([_display_width(name), *(_display_width(r[j]) for r in sample)], default=8)
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(width + 2, 6), 60)


# --------------------------------------------------------------------------- workbook


def _csv_name(name: str) -> str:
    return name if name.lower().endswith(".csv") else f"{name}.csv"


def _normalise_zip(data: bytes) -> bytes:
    """The same xlsx with fixed member timestamps and a fixed modification date."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    stamp = _FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl sets "modified" to the time of saving.
                content = re.sub(
                    rb"(<dcterms:(?:modified|created)[^>]*>)[^<]*(</dcterms:)",
                    lambda m: m.group(1) + stamp.encode("ascii") + m.group(2),
                    content,
                )
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_DATE)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, content)
    return out.getvalue()


def _readme_rows(
    entries: list[dict[str, Any]],
) -> tuple[list[list[Any]], list[list[Any]]]:
    tables = [
        [e["sheet"] or "", e["name"], e["csv"], e["rows"], len(e["columns"]), e["note"]]
        for e in entries
    ]
    columns = [
        [e["name"], column, description]
        for e in entries
        for column, description in e["descriptions"].items()
    ]
    return tables, columns


def _workbook_bytes(entries: list[dict[str, Any]], *, title: str) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    wb.properties.creator = "policystudy"
    wb.properties.title = title
    wb.properties.created = _FIXED_DATE
    wb.properties.modified = _FIXED_DATE
    bold = Font(bold=True)
    readme = wb.create_sheet(_README)
    table_rows, column_rows = _readme_rows(entries)
    readme.column_dimensions["A"].width = 28
    readme.column_dimensions["B"].width = 28
    readme.column_dimensions["C"].width = 60
    readme.column_dimensions["D"].width = 10
    readme.column_dimensions["E"].width = 10
    readme.column_dimensions["F"].width = 80
    intro = [
        [title],
        ["One sheet per table; a table too long for a sheet is named by its CSV file."],
        ["Below the list of tables, every column of every table is described."],
        [],
    ]
    for row in intro:
        readme.append([_cell_value(v) for v in row])
    _write_rows(
        readme,
        ["sheet", "table", "csv", "rows", "columns", "description"],
        table_rows,
        bold=bold,
    )
    readme.append([])
    _write_rows(readme, ["table", "column", "description"], column_rows, bold=bold)
    for e in entries:
        if e["sheet"] is None:
            continue
        ws = wb.create_sheet(e["sheet"])
        frame: pd.DataFrame = e["frame"]
        header = [str(c) for c in frame.columns]
        rows = frame.itertuples(index=False, name=None)
        sample = [list(r) for r in frame.head(200).itertuples(index=False, name=None)]
        _set_widths(ws, header, sample)
        _write_rows(ws, header, rows, bold=bold)
    buffer = io.BytesIO()
    wb.save(buffer)
    return _normalise_zip(buffer.getvalue())


def write_workbook(
    tables: Mapping[str, pd.DataFrame],
    path: str | Path,
    *,
    descriptions: Mapping[str, Mapping[str, str]] | None = None,
    max_rows: int = MAX_ROWS,
    title: str = "policystudy tables",
) -> Path:
    """Write tables into one Excel workbook: a README sheet, then a sheet per table.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Table name -> table, in sheet order. A name may be a CSV file name or
        path (``"04-topics/prevalence.csv"``); the standard table it stands
        for (``prevalence``) selects the column descriptions.
    path : str or Path
        The ``.xlsx`` file to write (atomically; parent folders are created).
    descriptions : mapping, optional
        Table name -> (column -> description), taking precedence over the
        package's column dictionary.
    max_rows : int, default 100,000
        Tables with more rows get no sheet: the README lists them with their
        CSV name (the table name with ``.csv`` added unless it has it).
    title : str, default "policystudy tables"
        First line of the README sheet and the workbook's title property.

    Returns
    -------
    pathlib.Path
        The path written.

    Notes
    -----
    The README sheet has two parts: one row per table (``sheet`` -- empty
    when the table was too long --, ``table``, ``csv``, ``rows``,
    ``columns``, ``description``) and one row per column of every table
    (``table``, ``column``, ``description``). The index of a table is not
    written: reset it first if it holds data.
    """
    if not isinstance(tables, Mapping):
        raise TypeError(
            f"tables must be a mapping of name -> DataFrame; got {type(tables).__name__}"
        )
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 0:
        raise ValueError(f"max_rows must be a non-negative int, got {max_rows!r}")
    descriptions = descriptions or {}
    names = [str(n) for n in tables]
    if len(set(names)) != len(names):
        raise ValueError("table names must be unique")
    for name, frame in tables.items():
        if not isinstance(frame, pd.DataFrame):
            raise TypeError(f"table {name!r} is a {type(frame).__name__}, not a DataFrame")
    sheets = sheet_names(n.removesuffix(".csv") for n, f in tables.items() if len(f) <= max_rows)
    entries = []
    for name, frame in tables.items():
        name = str(name)
        stem = name.removesuffix(".csv")
        kind = _table_kind(name)
        too_long = len(frame) > max_rows
        spec = _dictionary()["tables"].get(kind, {}) if kind else {}
        note = spec.get("description", "")
        if too_long:
            note = (
                f"{len(frame):,} rows: more than {max_rows:,}, so not copied here; "
                f"see {_csv_name(name)}. {note}"
            ).strip()
        entries.append(
            {
                "name": stem,
                "csv": _csv_name(name),
                "sheet": None if too_long else sheets[stem],
                "rows": len(frame),
                "columns": [str(c) for c in frame.columns],
                "descriptions": describe_columns(name, frame.columns, descriptions.get(name)),
                "note": note,
                "frame": frame,
            }
        )
    data = _workbook_bytes(entries, title=title)

    def write(fh: IO[bytes]) -> None:
        fh.write(data)

    return atomic_write_with(path, write)


def _read_csv(path: Path) -> pd.DataFrame:
    """A saved table: numbers as numbers, other values as text, empty fields missing.

    Every field is read as text first, so that identifiers such as "007" keep
    their zeros; a column becomes numeric only when every value is a number
    and none has a leading zero.
    """
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    for column in frame.columns:
        values = frame[column]
        filled = values[values != ""]
        if len(filled) and filled.map(lambda v: bool(_NUMBER.fullmatch(v))).all():
            if not filled.map(lambda v: bool(_LEADING_ZERO.match(v))).any():
                frame[column] = pd.to_numeric(values.replace("", None))
                continue
        if len(filled) and filled.isin(["True", "False"]).all():
            frame[column] = values.map({"True": True, "False": False, "": None})
            continue
        frame[column] = values.replace("", None)
    return frame


def write_workbook_from_folder(
    folder: str | Path,
    *,
    name: str = WORKBOOK_NAME,
    descriptions: Mapping[str, Mapping[str, str]] | None = None,
    max_rows: int = MAX_ROWS,
) -> Path:
    """Collect every CSV file of a report folder into ``<folder>/tables.xlsx``.

    CSV files in sub-folders are included (a table is named by its path
    relative to ``folder``, without ``.csv``); hidden files and folders (such
    as staging folders) are skipped. Tables come in path order.

    Parameters
    ----------
    folder : str or Path
    name : str, default "tables.xlsx"
        File name of the workbook inside ``folder``.
    descriptions, max_rows
        As in :func:`write_workbook` (``descriptions`` keyed by table name,
        e.g. ``"prevalence"`` or ``"04-topics/prevalence"``).

    Returns
    -------
    pathlib.Path
        The workbook written.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    paths = sorted(
        (p for p in folder.rglob("*.csv") if p.is_file()),
        key=lambda p: p.relative_to(folder).as_posix(),
    )
    tables: dict[str, pd.DataFrame] = {}
    for p in paths:
        rel = p.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts):
            continue
        tables[rel.as_posix()] = _read_csv(p)
    if not tables:
        raise FileNotFoundError(f"{folder}: no CSV files to collect")
    given = {_csv_name(k): v for k, v in (descriptions or {}).items()}
    return write_workbook(
        tables, folder / name, descriptions=given, max_rows=max_rows, title=f"{folder.name} tables"
    )
