"""Distinctive terms of groups: keyness against the rest, and group TF-IDF.

Both count with :meth:`policystudy.features.Features.doc_term`, the package's
one grouping of unit rows.
"""

from __future__ import annotations

from collections.abc import Hashable

import numpy as np
import pandas as pd
from scipy.stats import chi2 as chi2_dist
from scipy.stats import false_discovery_control
from sklearn.feature_extraction.text import TfidfTransformer

from policystudy._validation import check_positive_int
from policystudy.compare._grouping import _check_features, _group_labels
from policystudy.features import Features, _sorted_unique

__all__ = ["KEYNESS_CAVEAT", "distinctive_tfidf", "keyness"]

KEYNESS_CAVEAT = (
    "Units are nested in documents and tokens within a document are not independent, "
    "so g2, chi2, p_value and p_adj overstate certainty; where n_docs_group == 1 the "
    "comparison is one document against the rest and cannot separate the group from "
    "that document (or its genre and year). Read log_ratio and the frequencies first."
)


def _p_adjust(p: np.ndarray, method: str) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values (family = all entries of p)."""
    m = len(p)
    if m == 0 or method == "none":
        return p.copy()
    if method == "fdr_bh":
        return false_discovery_control(p, method="bh")
    if method != "holm":  # validated by the caller
        raise ValueError(method)
    # Holm's step-down by hand: SciPy has no Holm adjustment, and this is three
    # vectorised lines (statsmodels' multipletests would be a dependency for them).
    # The i-th smallest p (0-based) is multiplied by m - i; the running maximum
    # keeps the adjusted values in the order of the p-values.
    order = np.argsort(p, kind="stable")
    adj = np.maximum.accumulate((m - np.arange(m)) * p[order])
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


def keyness(
    features: Features,
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
    min_count = check_positive_int(min_count, "min_count")
    _check_features(features)
    units, vocabulary = features.units, np.asarray(features.vocabulary)
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
    # Summed counts of each group's units (units with a missing group left out).
    summed, index = features.doc_term(labels, sparse=True, dropna=True)
    total_counts = np.asarray(summed.sum(axis=0)).ravel().astype(np.int64)
    tested = total_counts >= min_count
    terms = vocabulary[tested]
    doc_ids = units["doc_id"].to_numpy()
    label_values = labels.to_numpy()

    frames = []
    for group in groups:
        in_group = present & (label_values == group)
        a = summed[index.get_loc(group)].toarray().ravel().astype(np.int64)
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


def _tfidf_transformer(features: Features) -> TfidfTransformer:
    # The same weighting as build_features, which always smooths idf.
    params = features.params or {}
    return TfidfTransformer(
        norm="l2",
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=bool(params.get("sublinear_tf", True)),
    )


def distinctive_tfidf(features: Features, by: str | None = None, n: int = 20) -> pd.DataFrame:
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
    n = check_positive_int(n, "n")
    _check_features(features)
    units, vocabulary = features.units, np.asarray(features.vocabulary)
    labels, by = _group_labels(units, by, "features.units")
    present = labels.notna().to_numpy()
    keys = labels.to_numpy()[present]
    # One pseudo-document per group: the summed counts of its units.
    agg, groups = features.doc_term(labels, sparse=True, dropna=True)
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
        frame = frame.head(n).copy()
        frame["rank"] = np.arange(1, len(frame) + 1)
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out["count_group"] = out["count_group"].astype(np.int64)
    out["n_groups_with_term"] = out["n_groups_with_term"].astype(int)
    out.attrs = {"by": by, "tfidf": "group-concatenated"}
    return out
