"""CSV text of a table, byte-identical to pandas' ``to_csv`` and several times faster.

The command line writes every table with ``frame.to_csv(index=False,
float_format="%.6g", lineterminator="\\n")``. pandas formats and quotes cell by
cell through Python's :mod:`csv` module; on a 10k-unit ``unit_topics.csv`` (30
columns, most of them floats) that is the largest cost of a rerun. :func:`to_csv`
formats each column at once instead: floats with the same ``%`` format, integers
and booleans with ``str``, text as is, and quotes exactly the fields Python's
:mod:`csv` writer would quote (the characters that make it quote are asked of the
running Python once, not assumed), and rows are joined with :meth:`str.join`.
Any column of a kind not handled here (categoricals, datetimes, mixed objects, a
MultiIndex, non-string column names) sends the whole table to pandas, so the
output never depends on which path wrote it.

pyarrow's own CSV writer is not used: it quotes every string and writes floats in
their shortest form, so its files differ from pandas'; joining the formatted cells
with pyarrow's compute kernels was measured slower than :meth:`str.join` (the
conversion of the cells to Arrow costs more than the join saves).
"""

from __future__ import annotations

import csv
import functools
import io

import numpy as np
import pandas as pd

__all__ = ["to_csv"]

_SEP = ","
_QUOTE = '"'
_LINE = "\n"
_INTEGER_MASKED = {f"{p}{n}" for p in ("Int", "UInt") for n in (8, 16, 32, 64)}


@functools.lru_cache(maxsize=1)
def _quoting_chars() -> frozenset[str]:
    """The characters that make Python's csv writer quote a field (QUOTE_MINIMAL).

    Asked of the running Python rather than assumed: whether a carriage return is
    quoted under ``lineterminator="\\n"`` differs between Python versions. Only
    characters up to U+00FF and the Unicode line separators can matter (the
    writer tests the delimiter, quote character, escape character and the
    line terminator's characters).
    """
    found = set()
    for code in [*range(256), 0x2028, 0x2029]:
        char = chr(code)
        buffer = io.StringIO()
        try:
            csv.writer(buffer, lineterminator=_LINE).writerow([char, "x"])
        except csv.Error:
            found.add(char)  # a field the writer refuses: never on the fast path
            continue
        if buffer.getvalue() != f"{char}{_SEP}x{_LINE}":
            found.add(char)
    return frozenset(found)


def _quoted(values: list[str]) -> list[str]:
    special = _quoting_chars()
    # One pass over the whole column first: most text columns need no quoting at all.
    if special.isdisjoint("".join(values)):
        return values
    out = values
    for i, value in enumerate(values):
        if not special.isdisjoint(value):
            if out is values:
                out = list(values)
            out[i] = _QUOTE + value.replace(_QUOTE, _QUOTE * 2) + _QUOTE
    return out


def _float_cells(values: np.ndarray, float_format: str) -> list[str]:
    cells = list(map(float_format.__mod__, values.tolist()))
    missing = np.flatnonzero(np.isnan(values))
    for i in missing.tolist():
        cells[i] = ""
    return cells


def _column_cells(series: pd.Series, float_format: str) -> tuple[list[str], bool] | None:
    """The CSV fields of one column and whether they may need quoting; None if not handled.

    Numbers and booleans never contain a character the csv writer quotes.
    """
    cells = _cells(series, float_format)
    if cells is None:
        return None
    text = series.dtype == object or isinstance(series.dtype, pd.StringDtype)
    return cells, bool(text)


def _cells(series: pd.Series, float_format: str) -> list[str] | None:
    dtype = series.dtype
    if isinstance(dtype, np.dtype):
        values = series.to_numpy()
        if dtype.kind == "f":
            return _float_cells(values, float_format)
        if dtype.kind in "iu":
            return list(map(str, values.tolist()))
        if dtype.kind == "b":
            return ["True" if v else "False" for v in values.tolist()]
        if dtype.kind == "O":
            cells = series.tolist()
            if all(type(v) is str for v in cells):
                return cells
        return None
    if isinstance(dtype, pd.StringDtype):
        return series.to_numpy(dtype=object, na_value="").tolist()
    if str(dtype) in _INTEGER_MASKED or str(dtype) == "boolean":
        mask = series.isna().to_numpy()
        values = series.to_numpy(dtype=object, na_value=None).tolist()
        return ["" if m else str(v) for v, m in zip(values, mask.tolist(), strict=True)]
    return None


def _join(header: str, columns: list[list[str]]) -> str:
    rows = map(_SEP.join, zip(*columns, strict=True))
    return header + "".join(row + _LINE for row in rows)


def to_csv(frame: pd.DataFrame, *, float_format: str = "%.6g", engine: str = "auto") -> str:
    """``frame.to_csv(index=False, float_format=float_format, lineterminator="\\n")``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table; its index is not written.
    float_format : str
        ``%``-format of float cells (missing values are empty).
    engine : {"auto", "pandas"}
        ``"auto"``: the column-wise writer of this module, or pandas for a table
        it does not handle; ``"pandas"``: always ``DataFrame.to_csv``. Both give the
        same text (the tests compare them).

    Returns
    -------
    str
        The CSV text, header first, every row ending in ``"\\n"``.
    """

    def by_pandas() -> str:
        return frame.to_csv(index=False, float_format=float_format, lineterminator=_LINE)

    if engine not in ("auto", "pandas"):
        raise ValueError(f"engine must be 'auto' or 'pandas', not {engine!r}")
    names = list(frame.columns)
    if (
        engine == "pandas"
        or isinstance(frame.columns, pd.MultiIndex)
        or not names
        or not all(type(n) is str for n in names)
    ):
        return by_pandas()
    columns = []
    for i in range(len(names)):
        found = _column_cells(frame.iloc[:, i], float_format)
        if found is None:
            return by_pandas()
        cells, text = found
        columns.append(_quoted(cells) if text else cells)
    if len(names) == 1:
        # The csv writer quotes a row that is one empty field, or it would read as no row.
        columns[0] = [c if c else _QUOTE * 2 for c in columns[0]]
    header = _SEP.join(_quoted([str(n) for n in names])) + _LINE
    if len(names) == 1 and header == _LINE:
        header = _QUOTE * 2 + _LINE
    return _join(header, columns)
