"""Evaluating topic models: coherence, matching two solutions, choosing the number of topics.

* :func:`topic_coherence`: NPMI of each topic's top terms, on the corpus itself.
* :func:`match_topics` and :func:`topic_agreement`: one-to-one pairing of two
  solutions' topics by the overlap of their top terms (Hungarian matching).
* :func:`select_k`: numbers of topics compared by coherence and stability
  (across random restarts and across subsamples of units).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from policystudy._validation import check_n_jobs, check_positive_int
from policystudy.cache import ModelCache
from policystudy.features import Features
from policystudy.topics._fit import (
    MIN_UNITS_PER_TOPIC,
    CacheArg,
    Dtype,
    Method,
    _check_k,
    _fit_matrix,
    candidate_ks,
    max_k,
    resolve_dtype,
)
from policystudy.topics._model import TopicModel, _check_features, _check_model, _top_indices

__all__ = ["match_topics", "select_k", "topic_agreement", "topic_coherence"]


def _npmi_pairs(binary: sp.csc_matrix, columns: np.ndarray) -> np.ndarray:
    """NPMI of every pair of ``columns`` (upper triangle, flattened)."""
    n_units = binary.shape[0]
    sub = binary[:, columns]
    joint = np.asarray((sub.T @ sub).todense(), dtype=np.float64) / n_units
    single = np.diag(joint).copy()
    i, j = np.triu_indices(len(columns), k=1)
    p_ij = joint[i, j]
    p_i = single[i]
    p_j = single[j]
    npmi = np.full(p_ij.shape, -1.0)
    seen = p_ij > 0
    always = seen & (p_ij >= 1.0)
    regular = seen & ~always
    pmi = np.log(p_ij[regular] / (p_i[regular] * p_j[regular]))
    npmi[regular] = pmi / -np.log(p_ij[regular])
    npmi[always] = 1.0
    return npmi


def _binary(features: Features) -> sp.csc_matrix:
    binary = features.counts.copy().tocsc()
    binary.data = np.ones_like(binary.data, dtype=np.float64)
    return binary


def topic_coherence(
    model: TopicModel,
    features: Features,
    n_top_terms: int | None = None,
) -> pd.DataFrame:
    """NPMI coherence of each topic's top terms, measured on the corpus itself.

    Parameters
    ----------
    model : TopicModel
        Fitted on ``features`` (same vocabulary).
    features : Features
        Supplies the co-occurrence counts: each unit is one window and only
        presence counts (binary document frequency).
    n_top_terms : int or None, default None
        Terms per topic (``model.n_top_terms`` when None).

    Returns
    -------
    pandas.DataFrame
        Columns ``topic``, ``label``, ``npmi`` (mean over all pairs of top
        terms), ``n_pairs``.

    Notes
    -----
    ``NPMI(i, j) = log(P(i, j) / (P(i) P(j))) / -log P(i, j)`` with
    probabilities estimated as the share of units containing the term(s).
    Pairs that never co-occur get -1 (the limit of NPMI as P(i, j) -> 0);
    pairs present in every unit get 1. Values lie in [-1, 1]; 0 means
    independence.
    """
    _check_model(model)
    _check_features(features)
    if not np.array_equal(model.vocabulary_, features.vocabulary):
        raise ValueError("model and features have different vocabularies")
    n = model.n_top_terms if n_top_terms is None else int(n_top_terms)
    if n < 2:
        raise ValueError("n_top_terms must be >= 2 to form term pairs")
    binary = _binary(features)
    top = _top_indices(model.components_, n)
    scores = [_npmi_pairs(binary, row) for row in top]
    return pd.DataFrame(
        {
            "topic": np.arange(model.k),
            "label": model.labels_.to_numpy(),
            "npmi": [float(s.mean()) for s in scores],
            "n_pairs": [len(s) for s in scores],
        }
    )


def _jaccard_matrix(sets_a: Sequence[set], sets_b: Sequence[set]) -> np.ndarray:
    out = np.zeros((len(sets_a), len(sets_b)))
    for i, a in enumerate(sets_a):
        for j, b in enumerate(sets_b):
            union = len(a | b)
            out[i, j] = len(a & b) / union if union else 0.0
    return out


def _matched(
    sets_a: Sequence[set], sets_b: Sequence[set]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Optimal one-to-one matching (Hungarian algorithm) maximising Jaccard."""
    sim = _jaccard_matrix(sets_a, sets_b)
    rows, cols = linear_sum_assignment(sim, maximize=True)
    return rows, cols, sim[rows, cols]


Solution = TopicModel | np.ndarray


def _components(solution: Solution, name: str) -> np.ndarray:
    if isinstance(solution, TopicModel):
        return solution.components_
    array = np.asarray(solution, dtype=np.float64)
    if array.ndim != 2:
        raise TypeError(
            f"{name} must be a TopicModel or a (k, n_terms) component matrix, "
            f"got {type(solution).__name__} of {array.ndim} dimension(s)"
        )
    return array


def match_topics(a: Solution, b: Solution, n_top_terms: int = 10) -> pd.DataFrame:
    """Pair the topics of two solutions by the overlap of their top terms.

    Parameters
    ----------
    a, b : TopicModel or numpy.ndarray of shape (k, n_terms)
        Models (any fit of this package, compared by their top terms, so their
        vocabularies may differ) or topic-term matrices over the same columns
        (compared by column). They may differ in ``k``; then only
        ``min(k_a, k_b)`` pairs are formed.
    n_top_terms : int, default 10
        Size of each topic's top-term set.

    Returns
    -------
    pandas.DataFrame
        Columns ``topic_a``, ``topic_b``, ``jaccard`` (of the two top-term
        sets), one row per matched pair, sorted by ``topic_a``. The pairing
        maximises the total Jaccard similarity
        (:func:`scipy.optimize.linear_sum_assignment`).
    """
    n = check_positive_int(n_top_terms, "n_top_terms")
    if isinstance(a, TopicModel) and isinstance(b, TopicModel):
        # Sets of terms: two models may have been fitted on different vocabularies.
        sets_a = [set(a.vocabulary_[row]) for row in _top_indices(a.components_, n)]
        sets_b = [set(b.vocabulary_[row]) for row in _top_indices(b.components_, n)]
    else:
        comp_a, comp_b = _components(a, "a"), _components(b, "b")
        if comp_a.shape[1] != comp_b.shape[1]:
            raise ValueError(
                "match_topics: component matrices must share their columns "
                f"({comp_a.shape} vs {comp_b.shape})"
            )
        # Over the same columns, sets of column numbers are sets of terms.
        sets_a, sets_b = _top_sets(comp_a, n), _top_sets(comp_b, n)
    rows, cols, values = _matched(sets_a, sets_b)
    return pd.DataFrame({"topic_a": rows, "topic_b": cols, "jaccard": values})


def topic_agreement(
    a: Solution,
    b: Solution,
    vocabulary: Sequence[str] | None = None,
    n_top: int = 10,
    *,
    return_pairs: bool = False,
) -> float | tuple[float, pd.DataFrame]:
    """Mean top-term Jaccard similarity of two topic solutions after matching.

    Topics are paired one-to-one to maximise the total Jaccard similarity of
    their ``n_top`` top-term sets (Hungarian algorithm), with :func:`match_topics`.

    Parameters
    ----------
    a, b : TopicModel or numpy.ndarray of shape (k, n_terms)
        As in :func:`match_topics`.
    vocabulary : sequence of str, optional
        Terms in column order of component matrices; only checked against their
        number of columns (matrices over the same columns are compared by column).
    n_top : int
        Top terms per topic.
    return_pairs : bool
        Also return the pairing table (``topic_a``, ``topic_b``, ``jaccard``).

    Returns
    -------
    float, or (float, pandas.DataFrame)
        Mean Jaccard over matched pairs: 1.0 for identical top-term sets.
    """
    if vocabulary is not None:
        n_columns = _components(a, "a").shape[1]
        if len(vocabulary) != n_columns:
            raise ValueError(
                f"topic_agreement: vocabulary has {len(vocabulary)} terms for {n_columns} columns"
            )
    pairs = match_topics(a, b, n_top_terms=n_top)
    value = float(pairs["jaccard"].mean())
    return (value, pairs) if return_pairs else value


def _top_sets(components: np.ndarray, n: int) -> list[set]:
    return [set(row.tolist()) for row in _top_indices(components, n)]


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return float("nan"), float("nan")
    sd = float(arr.std(ddof=1)) if arr.size > 1 else float("nan")
    return float(arr.mean()), sd


def _fit_top(fit: tuple, task: tuple) -> np.ndarray:
    """The top-term indices of one fit of :func:`select_k` (``task``: k, rows, seed, kwargs)."""
    matrix, method, max_iter, cache, dtype, n_top_terms = fit
    k, rows, seed, kwargs = task
    if rows is not None:
        matrix = matrix[rows]
    est, _ = _fit_matrix(matrix, method, k, seed, max_iter, kwargs, cache, dtype)
    return _top_indices(est.components_, n_top_terms)


def _fit_top_in_worker(fit: tuple, task: tuple) -> tuple[np.ndarray, list]:
    # Warnings of a worker process never reach the caller: record them to replay.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        top = _fit_top(fit, task)
    return top, [(w.message, w.category, w.filename, w.lineno) for w in caught]


def _run_fits(fit: tuple, tasks: list[tuple], n_jobs: int | None) -> list[np.ndarray]:
    """Run the fits of :func:`select_k` in task order, in one process or several."""
    from joblib import effective_n_jobs

    n_workers = min(effective_n_jobs(n_jobs), len(tasks))
    if n_workers <= 1:
        return [_fit_top(fit, task) for task in tasks]
    from sklearn.utils.parallel import Parallel, delayed

    done = Parallel(n_jobs=n_workers)(delayed(_fit_top_in_worker)(fit, task) for task in tasks)
    registry: dict = {}  # one registry: a repeated warning shows as often as in one process
    for _, caught in done:
        for message, category, filename, lineno in caught:
            warnings.warn_explicit(message, category, filename, lineno, registry=registry)
    return [top for top, _ in done]


def select_k(
    features: Features,
    ks: Iterable[int] | None = None,
    *,
    method: Method = "nmf",
    n_restarts: int = 5,
    n_subsamples: int = 5,
    subsample_frac: float = 0.8,
    n_top_terms: int = 10,
    random_state: int = 0,
    restart_init: str = "random",
    max_iter: int | None = None,
    cache: CacheArg = True,
    dtype: Dtype = "auto",
    n_jobs: int | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Compare numbers of topics by coherence and stability.

    For every ``k`` a reference model is fitted exactly as
    :func:`fit_topics` would (same defaults, ``random_state``). Then:

    * ``coherence_npmi``: mean over topics of :func:`topic_coherence` of the
      reference model (NPMI of top-term pairs, units as windows).
    * ``stability_restarts``: ``n_restarts`` refits on all units with other
      seeds; each is matched to the reference topic by topic
      (:func:`match_topics`: Hungarian matching on the Jaccard similarity of
      top-``n_top_terms`` sets) and scores its mean matched Jaccard. For NMF
      the restarts use ``init=restart_init`` (default ``"random"``) so that
      their starting points really differ: the default nndsvda
      initialisation is derived from an SVD and depends on the seed only
      through the randomized SVD. That dependence is small but not nil
      (on the bundled corpus one of two other seeds changes some topics),
      so seed changes alone would understate how much the topics can vary.
      LDA restarts only change the seed.
    * ``stability_subsamples``: ``n_subsamples`` fits (default
      initialisation, other seeds) on random subsets of
      ``subsample_frac`` of the units, matched to the reference the same way.

    Parameters
    ----------
    features : Features
        Output of :func:`policystudy.build_features`.
    ks : iterable of int, optional
        Numbers of topics to compare (default: :func:`candidate_ks`, which
        follow the number of units; ``(4, 6, 8, 10, 12, 14)`` on the bundled
        corpus).
    method : {"nmf", "lda"}, default "nmf"
    n_restarts, n_subsamples : int, default 5
        Extra fits per ``k`` (either may be 0).
    subsample_frac : float, default 0.8
        Share of units in each subsample (drawn without replacement).
    n_top_terms : int, default 10
        Size of the top-term sets used for coherence and matching.
    random_state : int, default 0
        Seed of the reference fits; it also seeds the restart seeds and the
        subsamples, which are the same for every ``k``.
    restart_init : str, default "random"
        NMF initialisation for the restarts (any ``init`` accepted by
        :class:`sklearn.decomposition.NMF`; with ``"nndsvda"`` the restarts
        differ from the reference only through the seed of the randomized
        SVD).
    max_iter : int or None, default None
        Passed to every fit (see :func:`fit_topics`).
    cache : bool, path or ModelCache, default True
        Model cache for every fit (see :func:`fit_topics`); rerunning the
        same selection reads the fits back instead of recomputing them.
    dtype : {"auto", "float64", "float32"}, default "auto"
        Precision of every NMF fit (see :func:`fit_topics`). ``"auto"`` is
        resolved once, from the number of units of ``features``, so the
        subsample fits run in the same precision as the reference.
    n_jobs : int or None, default None
        Processes that run the fits (:class:`sklearn.utils.parallel.Parallel`;
        None means 1, -1 every core). Each fit runs on one thread with its own
        seed, so the table is identical for any ``n_jobs``; warnings raised in
        the worker processes are raised again here, in the order of the fits.
    **kwargs
        Further estimator parameters, passed to every fit.

    Returns
    -------
    pandas.DataFrame
        One row per ``k`` (ascending): ``k``, ``method``, ``coherence_npmi``,
        ``stability_restarts``, ``stability_restarts_sd``,
        ``stability_subsamples``, ``stability_subsamples_sd`` (standard
        deviations across runs, ddof=1; NaN with fewer than two runs), and
        ``n_runs`` (fits per ``k``). Values are rounded to 4 decimals.
        Coherence is in [-1, 1], stabilities in [0, 1] (1 = the same top
        terms in every run).

    Notes
    -----
    Cost is ``len(ks) * (1 + n_restarts + n_subsamples)`` fits. NMF fits take
    milliseconds on a corpus of a few hundred units (the defaults run in a
    few seconds); LDA fits are one to two orders of magnitude slower.
    """
    _check_features(features)
    given = ks is not None
    ks = sorted({int(k) for k in (ks if given else candidate_ks(features))})
    if not ks:
        raise ValueError(
            "ks must contain at least one number of topics"
            if given
            else f"no candidate k: {features.n_units} units support at most "
            f"{max_k(features)} topics ({MIN_UNITS_PER_TOPIC} units per topic)"
        )
    if not 0 < subsample_frac <= 1:
        raise ValueError(f"subsample_frac must be in (0, 1], got {subsample_frac!r}")
    n_restarts = check_positive_int(n_restarts, "n_restarts", minimum=0)
    n_subsamples = check_positive_int(n_subsamples, "n_subsamples", minimum=0)
    n_top_terms = check_positive_int(n_top_terms, "n_top_terms")
    n_jobs = check_n_jobs(n_jobs)
    matrix = features.tfidf if method == "nmf" else features.counts
    for k in ks:
        _check_k(k, matrix)
    n_units = matrix.shape[0]
    dtype = resolve_dtype(dtype, n_units, method)
    n_sub = max(int(round(subsample_frac * n_units)), 2)

    rng = np.random.default_rng(random_state)
    restart_seeds = rng.integers(0, 2**31 - 1, size=n_restarts)
    sub_seeds = rng.integers(0, 2**31 - 1, size=n_subsamples)
    subsets = [np.sort(rng.choice(n_units, size=n_sub, replace=False)) for _ in range(n_subsamples)]
    restart_kwargs = dict(kwargs)
    if method == "nmf":
        restart_kwargs["init"] = restart_init

    # Every fit of every k is one task; a task returns only the top-term
    # indices, so the workers send back kilobytes, not fitted models.
    tasks = []
    for k in ks:
        tasks.append((k, None, random_state, kwargs))
        tasks += [(k, None, int(seed), restart_kwargs) for seed in restart_seeds]
        tasks += [(k, sub, int(seed), kwargs) for seed, sub in zip(sub_seeds, subsets, strict=True)]
    # The store is resolved here, so that every worker uses the caller's folder.
    fit = (matrix, method, max_iter, ModelCache._from_arg(cache), dtype, n_top_terms)
    tops = _run_fits(fit, tasks, n_jobs)

    binary = _binary(features)
    per_k = 1 + n_restarts + n_subsamples
    rows = []
    for i, k in enumerate(ks):
        ref_top, *others = tops[i * per_k : (i + 1) * per_k]
        coherence = float(np.mean([_npmi_pairs(binary, row).mean() for row in ref_top]))
        ref_sets = [set(row.tolist()) for row in ref_top]
        scores = [_matched(ref_sets, [set(r.tolist()) for r in top])[2].mean() for top in others]
        restart_mean, restart_sd = _mean_sd(scores[:n_restarts])
        sub_mean, sub_sd = _mean_sd(scores[n_restarts:])
        rows.append(
            {
                "k": k,
                "method": method,
                "coherence_npmi": coherence,
                "stability_restarts": restart_mean,
                "stability_restarts_sd": restart_sd,
                "stability_subsamples": sub_mean,
                "stability_subsamples_sd": sub_sd,
                "n_runs": per_k,
            }
        )
    table = pd.DataFrame(rows)
    value_cols = [c for c in table.columns if c.startswith(("coherence", "stability"))]
    table[value_cols] = table[value_cols].astype(np.float64).round(4)
    return table
