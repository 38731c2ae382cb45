"""Which metadata travel together: confound tables of the documents."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from policystudy._validation import require_columns
from policystudy.compare._grouping import (
    LABEL_MAX,
    _is_free_text,
    _n_groups,
    _resolve_by,
    metadata_columns,
)

__all__ = ["confound_columns", "confound_summary", "confounds", "describe_skipped"]


def _one_row_per_doc(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    require_columns(df, ["doc_id", *columns], "input table")
    per_doc = df.groupby("doc_id", sort=True, dropna=False)[columns].nunique(dropna=False)
    varying = [c for c in columns if (per_doc[c] > 1).any()]
    if varying:
        raise ValueError(
            f"column(s) {varying} vary within a document; confounds() expects "
            "document-level metadata"
        )
    out = df.drop_duplicates("doc_id")[["doc_id", *columns]].copy()
    if df["doc_id"].duplicated().any():
        n_units = df.groupby("doc_id", sort=False).size()
        out["n_units"] = out["doc_id"].map(n_units).astype(int)
    return out


def _is_published_corpus(table: pd.DataFrame) -> bool:
    from policystudy.published import PUBLISHED

    # Compare the ids first: hashing every text of a large corpus is not needed to
    # see that it is another corpus.
    if set(map(str, table["doc_id"].unique())) != set(PUBLISHED.corpus_sha256):
        return False
    # A per-unit table no longer has the documents' raw text: its ids decide.
    return "raw_text" not in table.columns or PUBLISHED.is_corpus(table)


def confound_columns(
    docs_or_units: pd.DataFrame, by: str | None = None
) -> tuple[list[str], dict[str, str]]:
    """The metadata columns :func:`confounds` crosses by default, and why others are left out.

    The rule: the grouping column ``by`` first (unless it is ``doc_id``, which
    every confound table has), then every other metadata column
    (:func:`metadata_columns`) whose non-missing values split the ``n``
    documents into 2 to ``n - 1`` groups and are labels (at most
    :data:`LABEL_MAX` characters).  A column with no value or one value
    separates nothing; one with a different value in every document only
    renames the documents; one with longer values is a description (title,
    notes); one that varies within a document is not document metadata.
    Missing values are missing: they form no group.

    The published run (:data:`policystudy.PUBLISHED`) is the one exception: on
    its corpus (a document table with the published ids and texts, or a
    per-unit table with the published ids) the columns are ``by`` and the
    published design columns ``PUBLISHED.confounds`` (city, genre, province,
    year; ``year`` has a different value in every bundled document, and the
    bundled manifest's other columns record provenance).

    Parameters
    ----------
    docs_or_units : pandas.DataFrame
        As in :func:`confounds`.
    by : str, optional
        The grouping column (default: :func:`choose_grouping`).

    Returns
    -------
    (crossed, skipped) : list of str and dict of str to str
        The columns to cross, in order, and each other metadata column with
        the reason it is left out.
    """
    require_columns(docs_or_units, ["doc_id"], "input table")
    by = _resolve_by(docs_or_units, by)
    first = [] if by == "doc_id" else [by]
    candidates = [c for c in metadata_columns(docs_or_units) if c != by]
    if _is_published_corpus(docs_or_units):
        from policystudy.published import PUBLISHED

        crossed = first + [c for c in PUBLISHED.confounds if c != by]
        skipped = {
            c: "not a design column of the published run" for c in candidates if c not in crossed
        }
        return crossed, skipped
    n_docs = int(docs_or_units["doc_id"].nunique())
    crossed, skipped = list(first), {}
    for column in candidates:
        n = _n_groups(docs_or_units, column)
        if n is None:
            skipped[column] = "varies within a document"
        elif n == 0:
            skipped[column] = "no values"
        elif n == 1:
            skipped[column] = "one value"
        elif n >= n_docs:
            skipped[column] = "a different value in every document"
        elif _is_free_text(docs_or_units, column):
            skipped[column] = f"free text: values longer than {LABEL_MAX} characters"
        else:
            crossed.append(column)
    return crossed, skipped


def describe_skipped(skipped: Mapping[str, str]) -> str:
    """``"a, b (reason); c (other reason)"``: skipped columns grouped by reason, in order."""
    by_reason: dict[str, list[str]] = {}
    for column, why in skipped.items():
        by_reason.setdefault(why, []).append(column)
    return "; ".join(f"{', '.join(cols)} ({why})" for why, cols in by_reason.items())


def _value_keys(values: pd.Series) -> pd.Series:
    """Values as comparable strings; missing stays missing."""
    return pd.Series(
        [None if pd.isna(v) else str(v) for v in values], index=values.index, dtype=object
    )


def confounds(
    docs_or_units: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """One row per document showing which metadata values travel together.

    Parameters
    ----------
    docs_or_units : pandas.DataFrame
        A docs table (:func:`policystudy.load_corpus`) or any per-unit table
        carrying ``doc_id`` and the metadata columns (units, tokens,
        ``features.units``, ``model.unit_topics_``).
    columns : iterable of str, optional
        Metadata columns to cross.  Default: the grouping column and every
        other metadata column that splits the documents into 2 to ``n - 1``
        groups (:func:`confound_columns`; on the bundled corpus ``city``,
        ``doc_type``, ``province``, ``year``).
    by : str, optional
        The grouping column, put first when ``columns`` is not given
        (default: :func:`choose_grouping`).

    Returns
    -------
    pandas.DataFrame
        Columns ``doc_id``, then each of ``columns``, then ``n_units`` (only
        when the input has several rows per document), then for each column
        ``c`` a column ``docs_same_<c>`` giving how many documents share that
        document's value of ``c`` (1 means the value identifies a single
        document; missing where the document's value is missing: a missing
        value is shared with no one).  Sorted by ``columns`` then ``doc_id``.
        ``attrs["confounded"]`` holds a one-line summary of
        :func:`confound_summary`; ``attrs["crossed"]`` the columns crossed and
        ``attrs["skipped"]`` the metadata columns left out with their reasons
        (:func:`describe_skipped`; empty when ``columns`` is given).
    """
    if columns is None:
        columns, skipped = confound_columns(docs_or_units, by)
    else:
        columns, skipped = list(columns), {}
    out = _one_row_per_doc(docs_or_units, columns)
    for col in columns:
        key = _value_keys(out[col])
        same = key.map(key.value_counts())
        out[f"docs_same_{col}"] = same.astype(int) if key.notna().all() else same.astype("Int64")
    out = out.sort_values([*columns, "doc_id"], kind="mergesort", na_position="last")
    out = out.reset_index(drop=True)
    summary = confound_summary(docs_or_units, columns)
    parts = [
        f"{row.column} ~ {row.confounded_with}"
        for row in summary.itertuples(index=False)
        if row.confounded_with
    ]
    out.attrs = {
        "confounded": "; ".join(parts) if parts else "no column is nested in another",
        "crossed": ", ".join(columns),
        "skipped": describe_skipped(skipped),
    }
    return out


def confound_summary(
    docs_or_units: pd.DataFrame,
    columns: Iterable[str] | None = None,
    *,
    by: str | None = None,
) -> pd.DataFrame:
    """Which metadata columns group the documents identically or in nested ways.

    Column *A* is **nested in** *B* when every value of *A* occurs with exactly
    one value of *B* (e.g. city in province): a comparison by *A* then also
    compares values of *B*.  *A* and *B* are **identical** when each is nested
    in the other (the same partition of the documents under different names).
    A missing value is missing, never a value shared by the documents that
    lack one: a pair of columns is compared on the documents where both are
    known (and is neither nested nor identical when there are none).

    Parameters
    ----------
    docs_or_units : pandas.DataFrame
        As in :func:`confounds`.
    columns : iterable of str, optional
        Metadata columns to compare (``doc_id`` is always added); default as
        in :func:`confounds`.
    by : str, optional
        As in :func:`confounds`.

    Returns
    -------
    pandas.DataFrame
        One row per column (``doc_id`` first, then ``columns`` in order):
        ``column``, ``n_levels`` (distinct non-missing values),
        ``n_single_doc_levels`` (values held by one document only),
        ``identical_to`` (columns with the same partition), ``nested_in``
        (coarser columns this one determines), ``contains`` (finer columns
        that determine this one), ``confounded_with`` (union of the three;
        every list is ``", "``-joined and sorted; empty string when none).
    """
    if columns is None:
        columns = confound_columns(docs_or_units, by)[0]
    columns = [c for c in dict.fromkeys(columns) if c != "doc_id"]
    per_doc = _one_row_per_doc(docs_or_units, columns)
    all_cols = ["doc_id", *columns]
    keys = {c: _value_keys(per_doc[c]) for c in all_cols}

    def nested(a: str, b: str) -> bool:
        pair = pd.DataFrame({"a": keys[a], "b": keys[b]}).dropna()
        if pair.empty:
            return False
        return bool((pair.groupby("a")["b"].nunique() == 1).all())

    rows = []
    for a in all_cols:
        identical, nested_in, contains = [], [], []
        for b in all_cols:
            if a == b:
                continue
            ab, ba = nested(a, b), nested(b, a)
            if ab and ba:
                identical.append(b)
            elif ab:
                nested_in.append(b)
            elif ba:
                contains.append(b)
        counts = keys[a].dropna().value_counts()
        rows.append(
            {
                "column": a,
                "n_levels": int(len(counts)),
                "n_single_doc_levels": int((counts == 1).sum()),
                "identical_to": ", ".join(sorted(identical)),
                "nested_in": ", ".join(sorted(nested_in)),
                "contains": ", ".join(sorted(contains)),
                "confounded_with": ", ".join(sorted(identical + nested_in + contains)),
            }
        )
    return pd.DataFrame(rows)
