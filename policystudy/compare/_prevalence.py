"""Topic prevalence per group, with bootstrap intervals, and contrasts of two groups."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from policystudy._validation import (
    MissingColumnError,
    check_level,
    check_positive_int,
    check_random_state,
    group_rng,
    require_columns,
)
from policystudy.compare._grouping import _resolve_by, largest_groups
from policystudy.features import _sorted_unique
from policystudy.schema import INTERVAL_DOCS, INTERVAL_NONE, INTERVAL_UNITS
from policystudy.topics._model import TopicModel, _check_model

__all__ = ["prevalence", "prevalence_contrast"]


def _topic_columns(unit_topics: pd.DataFrame) -> list[str]:
    cols = [
        c
        for c in unit_topics.columns
        if isinstance(c, str) and c.startswith("topic_") and c[6:].isdigit()
    ]
    if not cols:
        raise MissingColumnError(
            "model.unit_topics_ has no topic share columns (topic_0 .. topic_{k-1})"
        )
    return sorted(cols, key=lambda c: int(c[6:]))


def _table_parts(
    unit_topics: pd.DataFrame, labels: pd.Series, by: str | None
) -> tuple[pd.DataFrame, list[str], pd.Series, str]:
    require_columns(unit_topics, ["doc_id"], "model.unit_topics_")
    by = _resolve_by(unit_topics, by)
    require_columns(unit_topics, [by], "model.unit_topics_")
    return unit_topics, _topic_columns(unit_topics), pd.Series(labels), by


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
    model: TopicModel,
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
    _check_model(model)
    return _shares_by_group(
        model.unit_topics_,
        model.labels_,
        by,
        n_boot=n_boot,
        level=level,
        random_state=random_state,
    )


def _shares_by_group(
    unit_topics: pd.DataFrame,
    labels: pd.Series,
    by: str | None,
    *,
    n_boot: int,
    level: float,
    random_state: Any,
) -> pd.DataFrame:
    """:func:`prevalence` of any per-unit shares: ``topic_<t>`` columns of ``unit_topics``.

    ``labels`` maps each ``t`` to its label. :func:`policystudy.agenda.agenda_shares`
    gives its category shares here.
    """
    n_boot = check_positive_int(n_boot, "n_boot")
    level = check_level(level)
    check_random_state(random_state)
    ut, topic_cols, labels, by = _table_parts(unit_topics, labels, by)
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
                rng=group_rng(random_state, group),
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


def prevalence_contrast(
    model: TopicModel,
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
    _check_model(model)
    n_boot = check_positive_int(n_boot, "n_boot")
    level = check_level(level)
    check_random_state(random_state)
    ut, topic_cols, labels, by = _table_parts(model.unit_topics_, model.labels_, by)
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
        shares[mask_a], doc_codes[mask_a], n_boot=n_boot, rng=group_rng(random_state, a)
    )
    rng_b = group_rng(random_state, ("rest", a) if b is None else b)
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
