"""Compare groups of documents: topic prevalence, keyness, distinctive terms, similarity.

Every function returns a new :class:`pandas.DataFrame` with documented, stable
column names and a deterministic row order; nothing prints and no input is
mutated.

A warning that applies to every table here: in the bundled corpus city, genre
(``doc_type``), province and year are confounded and most groups consist of a
single document.  A difference "between cities" is equally a difference between
genres, years and individual documents.  :func:`confounds` and
:func:`confound_summary` make this visible, every group-level table carries the
number of documents behind each group (``n_docs`` / ``n_docs_group``), and
uncertainty intervals say which kind of variation they measure.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Hashable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from policystudy._io import atomic_write, refuse_corpus_dir
from policystudy.schema import (
    INTERVAL_DOCS,
    INTERVAL_NONE,
    INTERVAL_UNITS,
    reserved_name,
)

__all__ = [
    "KEYNESS_CAVEAT",
    "LABEL_MAX",
    "PREFERRED_GROUPING",
    "choose_grouping",
    "confound_columns",
    "confound_summary",
    "confounds",
    "describe_skipped",
    "distinctive_tfidf",
    "export_for_r",
    "keyness",
    "metadata_columns",
    "largest_groups",
    "prevalence",
    "prevalence_contrast",
    "similarity",
    "similarity_long",
]

KEYNESS_CAVEAT = (
    "Units are nested in documents and tokens within a document are not independent, "
    "so g2, chi2, p_value and p_adj overstate certainty; where n_docs_group == 1 the "
    "comparison is one document against the rest and cannot separate the group from "
    "that document (or its genre and year). Read log_ratio and the frequencies first."
)


#: The grouping :func:`choose_grouping` prefers: the study compares places.
PREFERRED_GROUPING = "city"
# ``script`` is filled from detection when a source has none: a property of the
# files, not a design variable, so it is never chosen as the grouping by default.
_NOT_A_GROUPING = frozenset({"script"})
#: Longest value of a column that counts as a group label. Longer values are
#: descriptions (titles, notes, sources): two documents may share one, but a
#: column of them is not a grouping of the documents.
LABEL_MAX = 20


# --------------------------------------------------------------------------- helpers


def _sorted_unique(values: pd.Series) -> list[Any]:
    """Unique non-missing values in a stable order (natural order, else by str)."""
    uniq = list(pd.unique(values.dropna()))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _require_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(
            f"{what} has no column(s) {missing}; available columns: {sorted(map(str, df.columns))}"
        )


def _features_parts(features: Any) -> tuple[pd.DataFrame, sparse.csr_matrix, np.ndarray]:
    """Validate a Features-like object and return (units, counts, vocabulary)."""
    for attr in ("units", "counts", "vocabulary"):
        if not hasattr(features, attr):
            raise TypeError(
                f"expected a Features object (from build_features) with .{attr}; "
                f"got {type(features).__name__}"
            )
    units = features.units
    counts = sparse.csr_matrix(features.counts)
    vocabulary = np.asarray(features.vocabulary)
    if counts.shape != (len(units), len(vocabulary)):
        raise ValueError(
            f"Features.counts has shape {counts.shape} but there are {len(units)} units "
            f"and {len(vocabulary)} terms"
        )
    return units, counts, vocabulary


def _group_rng(random_state: Any, key: Hashable) -> np.random.Generator:
    """Generator for one group, seeded from random_state and the group's name.

    Seeding per group keeps a group's bootstrap draws identical whichever other
    groups are present or requested.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, (bool, np.bool_)) or not isinstance(
        random_state, (int, np.integer)
    ):
        raise TypeError(
            f"random_state must be an int, None or numpy Generator; got {random_state!r}"
        )
    tag = zlib.crc32(repr(key).encode("utf-8"))
    return np.random.default_rng([int(random_state), tag])


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1; got {level!r}")


def _check_n_boot(n_boot: int) -> None:
    if int(n_boot) != n_boot or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer; got {n_boot!r}")


# --------------------------------------------------------------------------- grouping


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
    _require_columns(docs_or_units, ["doc_id"], "input table")
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


# --------------------------------------------------------------------------- prevalence


def _topic_columns(unit_topics: pd.DataFrame) -> list[str]:
    cols = [
        c
        for c in unit_topics.columns
        if isinstance(c, str) and c.startswith("topic_") and c[6:].isdigit()
    ]
    if not cols:
        raise KeyError("model.unit_topics_ has no topic share columns (topic_0 .. topic_{k-1})")
    return sorted(cols, key=lambda c: int(c[6:]))


def _model_parts(model: Any, by: str | None) -> tuple[pd.DataFrame, list[str], pd.Series, str]:
    if not hasattr(model, "unit_topics_"):
        raise TypeError(
            f"expected a fitted TopicModel (from fit_topics) with .unit_topics_; "
            f"got {type(model).__name__}"
        )
    ut = model.unit_topics_
    _require_columns(ut, ["doc_id"], "model.unit_topics_")
    by = _resolve_by(ut, by)
    _require_columns(ut, [by], "model.unit_topics_")
    topic_cols = _topic_columns(ut)
    labels = getattr(model, "labels_", None)
    if labels is None:
        labels = pd.Series(dtype=object)
    return ut, topic_cols, pd.Series(labels), by


def _prepare_shares(
    ut: pd.DataFrame, topic_cols: list[str]
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Drop units with no topic mass; return (kept rows, shares, empty mask of all rows)."""
    shares_all = ut[topic_cols].to_numpy(dtype=float)
    if np.isnan(shares_all).any():
        raise ValueError("model.unit_topics_ topic share columns contain missing values")
    empty = shares_all.sum(axis=1) <= 0
    return ut.loc[~empty], shares_all[~empty], empty


def _bootstrap_share(
    shares: np.ndarray,
    doc_codes: np.ndarray,
    *,
    n_boot: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray | None, str]:
    """Unit-weighted mean topic shares and bootstrap draws for one set of units.

    Returns (estimate (k,), draws (n_boot, k) or None, interval label).
    With >= 2 documents the documents are resampled with replacement and their
    units pooled (cluster bootstrap); with one document its units are resampled;
    with one unit there is nothing to resample.
    """
    docs, inverse = np.unique(doc_codes, return_inverse=True)
    n_docs = len(docs)
    n_units = len(shares)
    doc_sums = np.zeros((n_docs, shares.shape[1]))
    np.add.at(doc_sums, inverse, shares)
    doc_n = np.bincount(inverse, minlength=n_docs).astype(float)
    # Estimate via the same sums the bootstrap uses so the two agree to the last bit.
    estimate = doc_sums.sum(axis=0) / doc_n.sum()
    if n_docs >= 2:
        # Resampling n items with replacement == multinomial counts with equal probs.
        draws_counts = rng.multinomial(n_docs, np.full(n_docs, 1.0 / n_docs), size=n_boot)
        draws = (draws_counts @ doc_sums) / (draws_counts @ doc_n)[:, None]
        return estimate, draws, INTERVAL_DOCS
    if n_units >= 2:
        draws_counts = rng.multinomial(n_units, np.full(n_units, 1.0 / n_units), size=n_boot)
        draws = (draws_counts @ shares) / n_units
        return estimate, draws, INTERVAL_UNITS
    return estimate, None, INTERVAL_NONE


def _interval(draws: np.ndarray | None, level: float, k: int) -> tuple[np.ndarray, np.ndarray]:
    if draws is None:
        return np.full(k, np.nan), np.full(k, np.nan)
    alpha = 1.0 - level
    lo, hi = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=0)
    return lo, hi


def _label_for(labels: pd.Series, topic: int) -> str:
    value = labels.get(topic, "")
    return "" if pd.isna(value) else str(value)


def prevalence(
    model: Any,
    by: str | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Share of each topic within each group, with bootstrap intervals.

    The share of topic *t* in a group is the **unit-weighted mean** of the units'
    topic shares (each unit counts once, whatever its length).  Units whose
    topic shares are all zero (no term in the vocabulary) carry no topic
    information and are left out; they are counted in ``n_units_empty``.

    Parameters
    ----------
    model : TopicModel
        Fitted model from :func:`policystudy.fit_topics` (uses ``unit_topics_``
        and ``labels_``).
    by : str, optional
        Column of ``model.unit_topics_`` to group units by (default: the one
        :func:`choose_grouping` picks; ``"city"`` on the bundled corpus).
        Units with a missing value are left out (count in
        ``attrs["n_units_missing_group"]``).
    n_boot : int, default 1000
        Bootstrap replicates.
    level : float, default 0.95
        Coverage of the percentile intervals.
    random_state : int, numpy Generator or None, default 0
        Seed.  Each group draws from its own generator seeded by
        ``random_state`` and the group name, so a group's interval does not
        depend on which other groups exist.

    Returns
    -------
    pandas.DataFrame
        One row per (group, topic), sorted by group then topic, with columns:

        ``<by>``            group value (the column is named after ``by``)
        ``topic``           topic number
        ``label``           topic label from ``model.labels_``
        ``share``           unit-weighted mean share of the topic in the group
        ``diff_from_rest``  ``share - share_rest`` (effect size; NaN with one group)
        ``share_rest``      unit-weighted mean share in all other groups' units
        ``ci_low``, ``ci_high``  percentile bootstrap interval for ``share``
        ``n_docs``          documents contributing units to the group
        ``n_units``         units used (non-empty)
        ``n_units_empty``   units left out because their topic shares are all zero
        ``interval``        what the interval measures:
                            ``"bootstrap_documents"`` (>= 2 documents: documents
                            resampled, their units pooled -- between-document
                            variation); ``"within_document_units"`` (one
                            document: its units resampled -- only variation
                            *within* that document, not between documents);
                            ``"none"`` (one unit; bounds are NaN)
        ``level``           interval coverage

    Notes
    -----
    With one document per group, an interval says how stable the share is
    across that document's paragraphs; it says nothing about how another
    document from the same city would look.  With two or three documents the
    document bootstrap has very few distinct resamples and its interval
    roughly spans the documents' own shares: read it as a range, not as a
    calibrated confidence interval.
    """
    _check_n_boot(n_boot)
    _check_level(level)
    ut, topic_cols, labels, by = _model_parts(model, by)
    kept, shares, empty = _prepare_shares(ut, topic_cols)
    groups_all = ut[by]
    missing_group = groups_all.isna().to_numpy()
    keep_rows = ~missing_group[~empty]
    kept = kept.loc[keep_rows]
    shares = shares[keep_rows]
    group_values = kept[by].to_numpy()
    doc_codes = kept["doc_id"].astype(str).to_numpy()
    topics = [int(c[6:]) for c in topic_cols]
    k = len(topics)

    frames = []
    for group in _sorted_unique(groups_all):
        in_group = group_values == group
        n_empty = int((empty & (groups_all == group).to_numpy()).sum())
        if not in_group.any():
            est = np.full(k, np.nan)
            lo = hi = est
            n_docs = n_units = 0
            label = INTERVAL_NONE
        else:
            est, draws, label = _bootstrap_share(
                shares[in_group],
                doc_codes[in_group],
                n_boot=n_boot,
                rng=_group_rng(random_state, group),
            )
            lo, hi = _interval(draws, level, k)
            n_docs = len(np.unique(doc_codes[in_group]))
            n_units = int(in_group.sum())
        rest = ~in_group
        share_rest = shares[rest].mean(axis=0) if rest.any() else np.full(k, np.nan)
        frames.append(
            pd.DataFrame(
                {
                    by: [group] * k,
                    "topic": topics,
                    "label": [_label_for(labels, t) for t in topics],
                    "share": est,
                    "diff_from_rest": est - share_rest,
                    "share_rest": share_rest,
                    "ci_low": lo,
                    "ci_high": hi,
                    "n_docs": n_docs,
                    "n_units": n_units,
                    "n_units_empty": n_empty,
                    "interval": label,
                    "level": float(level),
                }
            )
        )
    if not frames:
        raise ValueError(f"column {by!r} of model.unit_topics_ has no non-missing values")
    out = pd.concat(frames, ignore_index=True)
    out["topic"] = out["topic"].astype(int)
    out["n_docs"] = out["n_docs"].astype(int)
    out["n_units"] = out["n_units"].astype(int)
    out["n_units_empty"] = out["n_units_empty"].astype(int)
    out.attrs = {
        "by": by,
        "weighting": "unit",
        "n_boot": int(n_boot),
        "n_units_missing_group": int(missing_group.sum()),
    }
    return out


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
    _require_columns(table, ["doc_id", by], "input table")
    known = table.loc[table[by].notna(), ["doc_id", by]]
    order = _sorted_unique(known[by])
    rank = {g: i for i, g in enumerate(order)}
    sizes = known.groupby(by, sort=False).agg(
        n_docs=("doc_id", "nunique"), n_rows=("doc_id", "size")
    )
    sizes["order"] = [rank[g] for g in sizes.index]
    sizes = sizes.sort_values(["n_docs", "n_rows", "order"], ascending=[False, False, True])
    return list(sizes.index[: int(n)])


def prevalence_contrast(
    model: Any,
    by: str | None = None,
    a: Hashable | None = None,
    b: Hashable | None = None,
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Difference in topic share between two groups (or a group and the rest).

    Each side is bootstrapped independently with the same scheme as
    :func:`prevalence` (documents when it has >= 2, else units within its one
    document), and the interval is the percentile interval of the difference
    of the draws.  With ``b=None`` the comparison is ``a`` against all units
    not in ``a``; with neither ``a`` nor ``b`` it is the two largest groups
    (:func:`largest_groups`: most documents, then most units, then sorted
    name), the larger as ``a``.

    Parameters
    ----------
    model : TopicModel
        Fitted model from :func:`policystudy.fit_topics`.
    by : str, optional
        Grouping column of ``model.unit_topics_`` (default:
        :func:`choose_grouping`).
    a, b : group values, optional
        Groups to contrast; ``b=None`` means every other group; both None: the
        two largest groups.
    n_boot, level, random_state
        As in :func:`prevalence`.

    Returns
    -------
    pandas.DataFrame
        One row per topic, sorted by ``diff`` descending then topic:
        ``topic``, ``label``, ``a``, ``b`` (``"rest"`` when ``b`` is None),
        ``share_a``, ``share_b``, ``diff`` (``share_a - share_b``),
        ``ci_low``, ``ci_high`` (interval for ``diff``; NaN when either side
        cannot be resampled), ``n_docs_a``, ``n_docs_b``, ``n_units_a``,
        ``n_units_b``, ``interval_a``, ``interval_b``, ``level``.
        ``attrs["name"]`` is made from the groups, ``"<by>_<a>_vs_<b>"``
        (``b`` is ``rest`` for a group against the rest), for file names.
    """
    _check_n_boot(n_boot)
    _check_level(level)
    ut, topic_cols, labels, by = _model_parts(model, by)
    kept, shares, _ = _prepare_shares(ut, topic_cols)
    kept_groups = kept[by]
    known = _sorted_unique(ut[by])
    if a is None:
        if b is not None:
            raise ValueError("give a as well as b (or neither, for the two largest groups)")
        pair = largest_groups(ut, by, 2)
        if len(pair) < 2:
            raise ValueError(f"a contrast needs two groups; column {by!r} has {len(pair)}: {pair}")
        a, b = pair
    for name in (a,) if b is None else (a, b):
        if name not in known:
            raise ValueError(f"group {name!r} not found in column {by!r}; groups: {known}")
    if b is not None and a == b:
        raise ValueError("a and b must be different groups")
    mask_a = (kept_groups == a).to_numpy()
    mask_b = (
        (kept_groups.notna() & (kept_groups != a)).to_numpy()
        if b is None
        else (kept_groups == b).to_numpy()
    )
    if not mask_a.any() or not mask_b.any():
        raise ValueError(f"no units with topic mass in one of the groups {a!r}, {b!r}")
    doc_codes = kept["doc_id"].astype(str).to_numpy()
    name_b = "rest" if b is None else b
    est_a, draws_a, int_a = _bootstrap_share(
        shares[mask_a], doc_codes[mask_a], n_boot=n_boot, rng=_group_rng(random_state, a)
    )
    rng_b = _group_rng(random_state, ("rest", a) if b is None else b)
    est_b, draws_b, int_b = _bootstrap_share(
        shares[mask_b], doc_codes[mask_b], n_boot=n_boot, rng=rng_b
    )
    topics = [int(c[6:]) for c in topic_cols]
    k = len(topics)
    diff_draws = None if draws_a is None or draws_b is None else draws_a - draws_b
    lo, hi = _interval(diff_draws, level, k)
    out = pd.DataFrame(
        {
            "topic": topics,
            "label": [_label_for(labels, t) for t in topics],
            "a": [a] * k,
            "b": [name_b] * k,
            "share_a": est_a,
            "share_b": est_b,
            "diff": est_a - est_b,
            "ci_low": lo,
            "ci_high": hi,
            "n_docs_a": len(np.unique(doc_codes[mask_a])),
            "n_docs_b": len(np.unique(doc_codes[mask_b])),
            "n_units_a": int(mask_a.sum()),
            "n_units_b": int(mask_b.sum()),
            "interval_a": int_a,
            "interval_b": int_b,
            "level": float(level),
        }
    )
    out = out.sort_values(["diff", "topic"], ascending=[False, True], kind="mergesort")
    out = out.reset_index(drop=True)
    out.attrs = {
        "by": by,
        "weighting": "unit",
        "n_boot": int(n_boot),
        "name": f"{by}_{a}_vs_{name_b}",
    }
    return out


# --------------------------------------------------------------------------- confounds


def _one_row_per_doc(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    _require_columns(df, ["doc_id", *columns], "input table")
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
    _require_columns(docs_or_units, ["doc_id"], "input table")
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


# --------------------------------------------------------------------------- keyness


def _p_adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values (family = all entries of p)."""
    m = len(p)
    if m == 0 or method == "none":
        return p.copy()
    order = np.argsort(p, kind="stable")
    ps = p[order]
    if method == "holm":
        adj = np.maximum.accumulate((m - np.arange(m)) * ps)
    elif method == "fdr_bh":
        adj = np.minimum.accumulate((ps * m / np.arange(1, m + 1))[::-1])[::-1]
    else:  # validated by the caller
        raise ValueError(method)
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def _two_by_two(
    a: np.ndarray, b: np.ndarray, n1: float, n2: float, yates: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Signed G2 and chi2 for each term's table [[a, n1-a], [b, n2-b]], vectorised."""
    from scipy.special import xlogy

    a = a.astype(float)
    b = b.astype(float)
    n = n1 + n2
    r = a + b
    obs = np.stack([a, n1 - a, b, n2 - b])
    exp = np.stack([n1 * r / n, n1 * (n - r) / n, n2 * r / n, n2 * (n - r) / n])
    g2 = 2.0 * xlogy(obs, obs / exp).sum(axis=0)
    g2 = np.maximum(g2, 0.0)  # rounding can leave tiny negatives for perfect balance
    # In a 2x2 table every cell deviates from expectation by the same amount.
    dev = np.abs(a - exp[0])
    if yates:
        dev = np.maximum(dev - 0.5, 0.0)
    chi2 = dev**2 * (1.0 / exp).sum(axis=0)
    over = a * n2 - b * n1  # exact in float for corpus-sized integers
    return np.sign(over) * g2, chi2


def _group_labels(units: pd.DataFrame, by: str | None, what: str) -> tuple[pd.Series, str]:
    _require_columns(units, ["doc_id"], what)
    by = _resolve_by(units, by)
    _require_columns(units, [by], what)
    return units[by], by


def keyness(
    features: Any,
    by: str | None = None,
    *,
    target: Hashable | None = None,
    min_count: int = 5,
    correction: str = "holm",
    yates: bool = True,
) -> pd.DataFrame:
    """Terms over- and under-represented in each group compared with the rest.

    For each group (or only ``target``) and each term, the 2x2 table
    ``[[count_group, tokens_group - count_group], [count_rest, tokens_rest - count_rest]]``
    is tested.  Token totals are the counts over the feature vocabulary
    (``features.counts``), i.e. after the stopword and document-frequency
    filters used to build the features.

    Parameters
    ----------
    features : Features
        From :func:`policystudy.build_features` (uses ``units``, ``counts``,
        ``vocabulary``).
    by : str, optional
        Grouping column of ``features.units`` (default: :func:`choose_grouping`,
        ``"city"`` on the bundled corpus).  Units with a missing value are
        left out of both sides (count in ``attrs["n_units_missing_group"]``).
    target : group value, optional
        Only compare this group with the rest.
    min_count : int, default 5
        Test only terms whose total count (group + rest) is at least this.
        Terms below it are not tested and do not enter the multiple-comparison
        family (count in ``attrs["n_terms_below_min_count"]``).
    correction : {"holm", "fdr_bh", "none"}, default "holm"
        Multiple-comparison adjustment across the terms tested for a group:
        Holm's step-down family-wise method or Benjamini-Hochberg FDR.
    yates : bool, default True
        Apply Yates' continuity correction to ``chi2`` (as
        ``scipy.stats.chi2_contingency(correction=True)``).  ``g2`` is never
        continuity-corrected.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``group`` then ``rank``; columns:

        ``group``               group value
        ``term``
        ``count_group``, ``count_rest``   term counts
        ``freq_group_per_10k``, ``freq_rest_per_10k``  counts per 10,000 tokens
        ``g2``                  log-likelihood G2 (Dunning 1993) over the four
                                cells of the table, signed: positive when the
                                term is relatively more frequent in the group
        ``chi2``                Pearson chi-square (Yates-corrected if ``yates``),
                                unsigned
        ``p_value``             upper tail of chi-square(1) at ``|g2|``
        ``p_adj``               ``p_value`` adjusted by ``correction``
        ``log_ratio``           Hardie's Log Ratio: log2 of the ratio of
                                relative frequencies (group / rest); a zero
                                count is replaced by 0.5 first
        ``n_docs_group``, ``n_units_group``  size of the group
        ``rank``                1 = largest ``g2`` in the group (ties by term)

        ``attrs["caveat"]`` states that units are nested in documents so the
        p-values overstate certainty (also :data:`KEYNESS_CAVEAT`).
    """
    if correction not in ("holm", "fdr_bh", "none"):
        raise ValueError(f"correction must be 'holm', 'fdr_bh' or 'none'; got {correction!r}")
    if int(min_count) != min_count or min_count < 1:
        raise ValueError(f"min_count must be a positive integer; got {min_count!r}")
    from scipy.stats import chi2 as chi2_dist

    units, counts, vocabulary = _features_parts(features)
    labels, by = _group_labels(units, by, "features.units")
    missing = labels.isna().to_numpy()
    groups = _sorted_unique(labels)
    if target is not None:
        if target not in groups:
            raise ValueError(f"target {target!r} not found in column {by!r}; groups: {groups}")
        groups = [target]
    if len(_sorted_unique(labels)) < 2:
        raise ValueError(
            f"keyness needs at least two groups in column {by!r}; found {_sorted_unique(labels)} "
            f"({int(missing.sum())} units with a missing value are left out)"
        )

    present = ~missing
    total_counts = np.asarray(counts[present].sum(axis=0)).ravel().astype(np.int64)
    tested = total_counts >= min_count
    terms = vocabulary[tested]
    doc_ids = units["doc_id"].to_numpy()
    label_values = labels.to_numpy()

    frames = []
    for group in groups:
        in_group = present & (label_values == group)
        a = np.asarray(counts[in_group].sum(axis=0)).ravel().astype(np.int64)
        b = total_counts - a
        n1 = float(a.sum())
        n2 = float(b.sum())
        if n1 == 0 or n2 == 0:
            raise ValueError(f"group {group!r} or the rest has no tokens in the vocabulary")
        a, b = a[tested], b[tested]
        g2, chi2 = _two_by_two(a, b, n1, n2, yates)
        p = chi2_dist.sf(np.abs(g2), df=1)
        a_lr = np.where(a == 0, 0.5, a)
        b_lr = np.where(b == 0, 0.5, b)
        frame = pd.DataFrame(
            {
                "group": [group] * len(terms),
                "term": terms,
                "count_group": a,
                "count_rest": b,
                "freq_group_per_10k": a / n1 * 1e4,
                "freq_rest_per_10k": b / n2 * 1e4,
                "g2": g2,
                "chi2": chi2,
                "p_value": p,
                "p_adj": _p_adjust(p, correction),
                "log_ratio": np.log2((a_lr / n1) / (b_lr / n2)),
                "n_docs_group": int(pd.unique(doc_ids[in_group]).size),
                "n_units_group": int(in_group.sum()),
            }
        )
        frame = frame.sort_values(["g2", "term"], ascending=[False, True], kind="mergesort")
        frame["rank"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["term"] = out["term"].astype(str)
    out.attrs = {
        "by": by,
        "caveat": KEYNESS_CAVEAT,
        "correction": correction,
        "yates": bool(yates),
        "min_count": int(min_count),
        "n_terms_tested": int(tested.sum()),
        "n_terms_below_min_count": int((~tested).sum()),
        "n_units_missing_group": int(missing.sum()),
    }
    return out


# --------------------------------------------------------------------------- tf-idf


def _aggregate_rows(
    counts: sparse.csr_matrix, keys: np.ndarray
) -> tuple[list[Any], sparse.csr_matrix]:
    """Sum count rows sharing a key; keys returned sorted."""
    uniq = _sorted_unique(pd.Series(keys))
    index = {k: i for i, k in enumerate(uniq)}
    rows = np.array([index[k] for k in keys])
    indicator = sparse.csr_matrix(
        (np.ones(len(keys), dtype=np.int64), (rows, np.arange(len(keys)))),
        shape=(len(uniq), len(keys)),
    )
    return uniq, sparse.csr_matrix(indicator @ counts)


def _tfidf_transformer(features: Any) -> Any:
    from sklearn.feature_extraction.text import TfidfTransformer

    # The same weighting as build_features, which always smooths idf.
    params = getattr(features, "params", {}) or {}
    return TfidfTransformer(
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=bool(params.get("sublinear_tf", True)),
    )


def distinctive_tfidf(features: Any, by: str | None = None, n: int = 20) -> pd.DataFrame:
    """Top terms per group by TF-IDF of the group's concatenated units.

    The units of each group are summed into one pseudo-document; TF-IDF is
    computed across these pseudo-documents (so IDF rewards terms used by few
    *groups*), with smoothed idf as in :func:`policystudy.build_features`,
    ``sublinear_tf`` taken from ``features.params`` and l2 normalisation.
    With few groups IDF takes few values: a term used by every group can still
    rank high on frequency alone.

    Parameters
    ----------
    features : Features
        From :func:`policystudy.build_features`.
    by : str, optional
        Grouping column of ``features.units`` (default: :func:`choose_grouping`);
        units with a missing value are left out.
    n : int, default 20
        Terms kept per group (those with positive TF-IDF).

    Returns
    -------
    pandas.DataFrame
        Sorted by ``group`` then ``rank``; columns ``group``, ``term``,
        ``tfidf``, ``count_group``, ``n_groups_with_term``, ``n_docs_group``,
        ``n_units_group``, ``rank`` (1 = highest TF-IDF; ties by term).
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    units, counts, vocabulary = _features_parts(features)
    labels, by = _group_labels(units, by, "features.units")
    present = labels.notna().to_numpy()
    keys = labels.to_numpy()[present]
    groups, agg = _aggregate_rows(counts[present], keys)
    weights = _tfidf_transformer(features).fit_transform(agg).toarray()
    dense = agg.toarray()
    n_groups_with = (dense > 0).sum(axis=0)
    doc_ids = units["doc_id"].to_numpy()[present]
    frames = []
    for i, group in enumerate(groups):
        in_group = keys == group
        frame = pd.DataFrame(
            {
                "group": [group] * len(vocabulary),
                "term": vocabulary.astype(str),
                "tfidf": weights[i],
                "count_group": dense[i],
                "n_groups_with_term": n_groups_with,
                "n_docs_group": int(pd.unique(doc_ids[in_group]).size),
                "n_units_group": int(in_group.sum()),
            }
        )
        frame = frame.loc[frame["tfidf"] > 0]
        frame = frame.sort_values(["tfidf", "term"], ascending=[False, True], kind="mergesort")
        frame = frame.head(int(n)).copy()
        frame["rank"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["count_group"] = out["count_group"].astype(np.int64)
    out["n_groups_with_term"] = out["n_groups_with_term"].astype(int)
    out.attrs = {"by": by, "tfidf": "group-concatenated"}
    return out


# --------------------------------------------------------------------------- similarity


def _similarity_keys(units: pd.DataFrame, level: str, by: str | None) -> np.ndarray:
    if by is not None:
        _require_columns(units, [by], "features.units")
        if units[by].isna().any():
            raise ValueError(f"column {by!r} of features.units has missing values")
        return units[by].to_numpy()
    if level == "doc":
        _require_columns(units, ["doc_id"], "features.units")
        return units["doc_id"].astype(str).to_numpy()
    if level == "section":
        _require_columns(units, ["doc_id", "section"], "features.units")
        section = units["section"].astype("object").where(units["section"].notna(), "")
        return (units["doc_id"].astype(str) + "|" + section.astype(str)).to_numpy()
    raise ValueError(f"level must be 'doc' or 'section'; got {level!r}")


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars so attrs stay simple and comparable."""
    return value.item() if isinstance(value, np.generic) else value


def similarity(features: Any, level: str = "doc", *, by: str | None = None) -> pd.DataFrame:
    """Cosine similarity between documents (or sections, or groups) on TF-IDF.

    Unit count rows are summed per key, re-weighted with
    :class:`~sklearn.feature_extraction.text.TfidfTransformer` (IDF across the
    keys; smoothed idf, ``sublinear_tf`` from ``features.params``; l2 norm)
    and compared with :func:`sklearn.metrics.pairwise.cosine_similarity`.

    Parameters
    ----------
    features : Features
        From :func:`policystudy.build_features`.
    level : {"doc", "section"}, default "doc"
        Keys are ``doc_id`` or ``"<doc_id>|<section>"``.
    by : str, optional
        Aggregate by this column of ``features.units`` instead (e.g.
        ``"city"``); ``level`` is then ignored.

    Returns
    -------
    pandas.DataFrame
        Square, symmetric, index and columns the sorted keys, values rounded to
        4 places.  The diagonal is 1 except for a key with no vocabulary term
        (all zeros).  ``attrs["metadata"]`` maps each key to ``doc_id`` and
        the metadata columns (:func:`metadata_columns`) that are constant
        within it; used by :func:`similarity_long`.
    """
    from sklearn.metrics.pairwise import cosine_similarity

    units, counts, _ = _features_parts(features)
    keys = _similarity_keys(units, level, by)
    uniq, agg = _aggregate_rows(counts, keys)
    weights = _tfidf_transformer(features).fit_transform(agg)
    sim = np.round(cosine_similarity(weights), 4)
    sim = np.minimum(sim, 1.0)  # keep the diagonal at exactly 1 despite rounding noise
    names = [str(k) for k in uniq]
    out = pd.DataFrame(sim, index=pd.Index(names), columns=pd.Index(names))

    meta: dict[str, dict[str, Any]] = {}
    cols = ["doc_id", *metadata_columns(units)]
    key_series = pd.Series(keys, index=units.index).astype(str)
    for key, part in units[cols].groupby(key_series, sort=True):
        entry = {}
        for col in cols:
            values = part[col].dropna().unique()
            if len(values) == 1:
                entry[col] = _plain(values[0])
        meta[str(key)] = entry
    out.attrs = {"level": level if by is None else by, "metadata": meta}
    return out


def _default_pair_columns(metadata: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not metadata:
        return []
    frame = pd.DataFrame.from_dict(dict(metadata), orient="index")
    if "doc_id" not in frame.columns:
        frame["doc_id"] = frame.index
    grouping = choose_grouping(frame.reset_index(drop=True))
    return [] if grouping == "doc_id" else [grouping]


def similarity_long(
    sim: pd.DataFrame,
    *,
    columns: Iterable[str] | None = None,
    metadata: pd.DataFrame | Mapping[str, Mapping[str, Any]] | None = None,
    include_diagonal: bool = False,
) -> pd.DataFrame:
    """Long form of a :func:`similarity` matrix: one row per unordered pair.

    Parameters
    ----------
    sim : pandas.DataFrame
        Square matrix from :func:`similarity`.
    columns : iterable of str, optional
        Metadata to attach for both sides as ``<col>_a`` and ``<col>_b``
        (default: the column :func:`choose_grouping` picks from the keys'
        metadata, ``city`` on the bundled corpus; none when that is
        ``doc_id``).
    metadata : DataFrame or mapping, optional
        Key -> metadata.  A DataFrame is indexed by key (or has the key in a
        ``doc_id`` column).  Defaults to ``sim.attrs["metadata"]``.
    include_diagonal : bool, default False
        Also emit each key paired with itself.

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (``a < b``, or ``a == b`` on the diagonal),
        ``cosine``, then ``<col>_a``, ``<col>_b`` for each column (missing
        when unknown); sorted by ``a`` then ``b``.
    """
    if list(sim.index) != list(sim.columns):
        raise ValueError("sim must be square with the same labels on index and columns")
    if metadata is None:
        metadata = sim.attrs.get("metadata", {})
    if isinstance(metadata, pd.DataFrame):
        frame = metadata.set_index("doc_id") if "doc_id" in metadata.columns else metadata
        frame = frame[~frame.index.duplicated()]
        metadata = {str(k): row.to_dict() for k, row in frame.iterrows()}
    if columns is None:
        columns = _default_pair_columns(metadata)
    columns = list(columns)
    keys = sorted(map(str, sim.index))
    values = sim.copy()
    values.index = values.index.astype(str)
    values.columns = values.columns.astype(str)
    rows = []
    for i, a in enumerate(keys):
        for b in keys[i if include_diagonal else i + 1 :]:
            row: dict[str, Any] = {"a": a, "b": b, "cosine": float(values.at[a, b])}
            for col in columns:
                row[f"{col}_a"] = metadata.get(a, {}).get(col)
                row[f"{col}_b"] = metadata.get(b, {}).get(col)
            rows.append(row)
    cols = ["a", "b", "cosine"] + [f"{c}_{s}" for c in columns for s in ("a", "b")]
    return pd.DataFrame(rows, columns=cols)


# --------------------------------------------------------------------------- export


_R_README = """\
Document-term matrix exported by policystudy.compare.export_for_r

dtm.mtx      units x terms counts, Matrix Market coordinate format (1-based)
terms.txt    one term per line, UTF-8, in column order
docvars.csv  one row per unit, UTF-8, in row order (empty field = missing)

Rows: {n_units} units; columns: {n_terms} terms; non-zero cells: {nnz}.
Parameters used to build the features: {params}

In R:

docvars <- read.csv("docvars.csv", encoding = "UTF-8", fileEncoding = "UTF-8",
                    stringsAsFactors = FALSE, na.strings = "")
m <- Matrix::readMM("dtm.mtx")
dimnames(m) <- list(docvars$unit_id, readLines("terms.txt", encoding = "UTF-8"))
d <- quanteda::as.dfm(m)
quanteda::docvars(d) <- docvars

# structural topic model route
stm_input <- quanteda::convert(d, to = "stm")
# fit <- stm::stm(stm_input$documents, stm_input$vocab, K = 8,
#                 data = stm_input$meta, prevalence = ~ city, seed = 0)

Units are paragraphs nested in documents; most cities have one document.
"""


def _docvars(units: pd.DataFrame) -> pd.DataFrame:
    """Unit metadata without list-valued columns (e.g. tokens), which CSV cannot hold."""
    keep = [
        c
        for c in units.columns
        if not units[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray, set, dict))).any()
    ]
    return units[keep]


def export_for_r(features: Any, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the unit x term count matrix for R (quanteda / stm).

    Files (overwritten atomically: written to a temporary file in
    ``directory`` and moved into place):

    ``dtm.mtx``      ``features.counts`` via :func:`scipy.io.mmwrite`
                     (coordinate, integer, general)
    ``terms.txt``    ``features.vocabulary``, one per line
    ``docvars.csv``  ``features.units`` (list-valued columns dropped), UTF-8,
                     ``\\n`` line endings, missing values as empty fields
    ``README.txt``   what the files are and an R snippet to load them

    The same features give byte-identical files.

    Parameters
    ----------
    features : Features
        From :func:`policystudy.build_features`.
    directory : path
        Output directory, created if needed.  Refused if it is inside the
        bundled corpus directory (``data/``).

    Returns
    -------
    dict of str to pathlib.Path
        Keys ``"dtm"``, ``"terms"``, ``"docvars"``, ``"readme"``.
    """
    from scipy.io import mmwrite

    units, counts, vocabulary = _features_parts(features)
    if "unit_id" not in units.columns:
        raise KeyError("features.units has no column 'unit_id' (needed to name the rows)")
    directory = Path(directory)
    refuse_corpus_dir(directory)
    bad_terms = [t for t in map(str, vocabulary) if "\n" in t or "\r" in t]
    if bad_terms:
        raise ValueError(f"terms contain line breaks and cannot go in terms.txt: {bad_terms[:5]}")
    directory.mkdir(parents=True, exist_ok=True)

    buf = io.BytesIO()
    coo = sparse.coo_matrix(counts.astype(np.int64))
    mmwrite(buf, coo, field="integer", symmetry="general")
    terms = "".join(f"{t}\n" for t in map(str, vocabulary)).encode("utf-8")
    docvars = _docvars(units).to_csv(index=False, lineterminator="\n", na_rep="")
    params = getattr(features, "params", {}) or {}
    readme = _R_README.format(
        n_units=counts.shape[0],
        n_terms=counts.shape[1],
        nnz=counts.nnz,
        params=", ".join(f"{k}={params[k]!r}" for k in sorted(params)) or "(not recorded)",
    )
    files = {
        "dtm": (directory / "dtm.mtx", buf.getvalue()),
        "terms": (directory / "terms.txt", terms),
        "docvars": (directory / "docvars.csv", docvars.encode("utf-8")),
        "readme": (directory / "README.txt", readme.encode("utf-8")),
    }
    for path, data in files.values():
        atomic_write(path, data)
    return {name: path for name, (path, _) in files.items()}
