"""Which column to compare groups by, and the checks every comparison shares."""

from __future__ import annotations

from typing import Any

import pandas as pd

from policystudy._validation import check_positive_int, require_columns
from policystudy.features import Features, _sorted_unique
from policystudy.schema import reserved_name

__all__ = [
    "LABEL_MAX",
    "PREFERRED_GROUPING",
    "choose_grouping",
    "largest_groups",
    "metadata_columns",
]
#: The grouping :func:`choose_grouping` prefers: the study compares places.
PREFERRED_GROUPING = "city"
# ``script`` is filled from detection when a source has none: a property of the
# files, not a design variable, so it is never chosen as the grouping by default.
_NOT_A_GROUPING = frozenset({"script"})
#: Longest value of a column that counts as a group label. Longer values are
#: descriptions (titles, notes, sources): two documents may share one, but a
#: column of them is not a grouping of the documents.
LABEL_MAX = 20


def metadata_columns(table: pd.DataFrame) -> list[str]:
    """The corpus's metadata columns of a document or per-unit table, in table order.

    Every column except ``doc_id`` and the package's own columns
    (:data:`policystudy.schema.RESERVED_COLUMNS` and ``topic_<n>``): the
    manifest's or table's columns, ``meta_<name>`` renames included, and the
    always-present ``city``, ``doc_type``, ``year`` and ``script``.
    """
    return [
        c for c in table.columns if isinstance(c, str) and c != "doc_id" and not reserved_name(c)
    ]


def _per_doc(table: pd.DataFrame, column: str) -> pd.Series | None:
    """One value per document (first row), or None when it varies within a document."""
    per_doc = table.groupby("doc_id", sort=False)[column]
    if (per_doc.nunique(dropna=False) > 1).any():
        return None
    return per_doc.first() if table["doc_id"].duplicated().any() else table[column]


def _n_groups(table: pd.DataFrame, column: str) -> int | None:
    values = _per_doc(table, column)
    return None if values is None else int(values.nunique(dropna=True))


def _is_free_text(table: pd.DataFrame, column: str) -> bool:
    values = table[column].dropna()
    return bool(len(values)) and int(values.astype(str).str.len().max()) > LABEL_MAX


def choose_grouping(docs_or_units: pd.DataFrame) -> str:
    """The column to compare groups by when none is given.

    The rule, in order:

    1. ``city`` (:data:`PREFERRED_GROUPING`) when it has two or more distinct
       non-missing values;
    2. else the first metadata column, in table order (see
       :func:`metadata_columns`; ``script`` excepted, since the loader fills it
       from detection), whose non-missing values split the ``n`` documents
       into 2 to ``n - 1`` groups and are labels of at most :data:`LABEL_MAX`
       characters: a column with one value does not compare anything, one
       with a different value per document is an identifier (file,
       checksum), one with longer values is a description (title, notes);
    3. else ``doc_id`` (every document its own group).

    Parameters
    ----------
    docs_or_units : pandas.DataFrame
        A document table (:func:`policystudy.load_corpus`) or any per-unit
        table with ``doc_id`` (units, tokens, ``features.units``,
        ``model.unit_topics_``).

    Returns
    -------
    str
        The column name. On the bundled corpus: ``"city"``.
    """
    require_columns(docs_or_units, ["doc_id"], "input table")
    n_docs = int(docs_or_units["doc_id"].nunique())
    columns = metadata_columns(docs_or_units)
    if PREFERRED_GROUPING in columns and (_n_groups(docs_or_units, PREFERRED_GROUPING) or 0) >= 2:
        return PREFERRED_GROUPING
    for column in columns:
        if column in _NOT_A_GROUPING:
            continue
        n = _n_groups(docs_or_units, column)
        if n is not None and 2 <= n <= n_docs - 1 and not _is_free_text(docs_or_units, column):
            return column
    return "doc_id"


def _resolve_by(table: pd.DataFrame, by: str | None) -> str:
    return choose_grouping(table) if by is None else by


def largest_groups(table: pd.DataFrame, by: str, n: int = 2) -> list[Any]:
    """The ``n`` largest groups of ``by``: most documents, then most rows, then sorted name.

    Parameters
    ----------
    table : pandas.DataFrame
        Documents or a per-unit table with ``doc_id`` and ``by``.
    by : str
        Grouping column; missing values are no group.
    n : int, default 2
        How many groups.

    Returns
    -------
    list
        Group values, largest first. Ties in documents are broken by the number
        of rows (units, for a unit table), then by the groups' sorted order
        (the order of :func:`prevalence` rows), so the choice is deterministic.
    """
    require_columns(table, ["doc_id", by], "input table")
    known = table.loc[table[by].notna(), ["doc_id", by]]
    order = _sorted_unique(known[by])
    rank = {g: i for i, g in enumerate(order)}
    sizes = known.groupby(by, sort=False).agg(
        n_docs=("doc_id", "nunique"), n_rows=("doc_id", "size")
    )
    sizes["order"] = [rank[g] for g in sizes.index]
    sizes = sizes.sort_values(["n_docs", "n_rows", "order"], ascending=[False, False, True])
    return list(sizes.index[: check_positive_int(n, "n")])


def _check_features(features: Features) -> None:
    if not isinstance(features, Features):
        raise TypeError(
            f"expected a Features object (from build_features); got {type(features).__name__}"
        )


def _group_labels(units: pd.DataFrame, by: str | None, what: str) -> tuple[pd.Series, str]:
    require_columns(units, ["doc_id"], what)
    by = _resolve_by(units, by)
    require_columns(units, [by], what)
    return units[by], by
