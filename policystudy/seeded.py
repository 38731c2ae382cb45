"""Seeded (keyword-assisted) NMF: some topics anchored by seed words, the rest free.

Reached through ``fit_topics(features, k, seed_words=...)``. The model is
scikit-learn's NMF, fitted in the manner of guided NMF (Vendrow, Haddock and
Needell 2021, "A generalized hierarchical nonnegative tensor decomposition" /
"guided NMF": ``||X - W H||^2 + lambda ||Y - W B||^2``):

1. **One column per seed list.** ``Y[:, s]`` is each unit's TF-IDF mass on the
   terms of seed list *s*. The matrix ``[X, seed_weight * Y]`` is factorised with
   shared unit weights ``W``, so every topic must explain the units' seed
   evidence as well as their terms. A sum over a list's terms is a far cleaner
   signal than its terms one by one: a single generic seed word (``经济``) barely
   moves it, while a unit that uses many of a list's words weighs on it heavily,
   as in dictionary coding.
2. **Seeded topics start at their seed lists.** For seeded topic *s*, the
   starting unit weights are ``Y[:, s]`` and its starting loadings the
   least-squares loadings given those weights: the centroid of the units that use
   the list, its own seed column included.
3. **Free topics start where the seeds leave off**: an ordinary NMF
   (``init="nndsvda"``) of what the seeded start does not explain.
4. One NMF with ``init="custom"`` from that start gives the model; the loadings
   of the seed columns (``B``) are kept in ``params["seed_loadings"]`` and the
   reported ``components_`` are the term loadings.

Seeded topics come first, in the order of the seed lists, labelled with their
names; free topics follow, labelled ``free:`` plus their three top terms.

The default ``seed_weight`` (2.0) was chosen among 0.5–8 by the agreement of
dominant topics with the documents' own sections (:func:`heading_agreement`),
not by agreement with the hand-coded sample.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.decomposition import NMF
from threadpoolctl import threadpool_limits

__all__ = ["DEFAULT_FREE_TOPICS", "DEFAULT_SEED_WEIGHT", "fit_seeded", "resolve_seed_words"]

#: Free topics added to the seeded ones when ``k`` is not given.
DEFAULT_FREE_TOPICS = 2
#: Weight of the seed-list columns (``lambda`` in the module notes).
DEFAULT_SEED_WEIGHT = 2.0
_FREE_PREFIX = "free:"
_PREFIX = "*"


def _seed_lists(seed_words: Any) -> dict[str, list[str]]:
    """``{name: [words]}`` from "default", a mapping, or a dictionary file."""
    from policystudy.agenda import load_dictionary

    if isinstance(seed_words, Mapping):
        return {str(k): [str(w) for w in v] for k, v in seed_words.items()}
    if isinstance(seed_words, (str, Path)):
        return load_dictionary(seed_words)
    raise TypeError(
        f"seed_words must be 'default', a mapping of topic name to words or a path, "
        f"got {type(seed_words).__name__}"
    )


def resolve_seed_words(
    seed_words: Any, vocabulary: Sequence[str]
) -> tuple[dict[str, np.ndarray], dict[str, list[str]]]:
    """Seed lists as vocabulary column indices.

    A word is a seed term when it is a vocabulary term; ``word*`` stands for
    every term starting with ``word``; words with spaces (token sequences) are
    not terms and are ignored. Lists with no term in the vocabulary are dropped.

    Returns
    -------
    resolved : dict of str to numpy.ndarray
        Seed-list name -> sorted column indices (only lists with at least one).
    missing : dict of str to list of str
        Seed-list name -> its words not found in the vocabulary.
    """
    vocab = np.asarray(vocabulary).astype(str)
    index = {t: j for j, t in enumerate(vocab)}
    resolved: dict[str, np.ndarray] = {}
    missing: dict[str, list[str]] = {}
    for name, words in _seed_lists(seed_words).items():
        columns: set[int] = set()
        lost = []
        for word in words:
            if word.endswith(_PREFIX) and " " not in word:
                hits = [j for j, t in enumerate(vocab) if t.startswith(word[: -len(_PREFIX)])]
            else:
                hits = [index[word]] if word in index else []
            columns.update(hits)
            if not hits:
                lost.append(word)
        missing[name] = lost
        if columns:
            resolved[name] = np.array(sorted(columns), dtype=np.int64)
    return resolved, missing


def _seeded_start(matrix: sp.csr_matrix, seeds: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Starting (W, H) of the seeded topics: seed mass and the loadings it implies."""
    n, v = matrix.shape
    w = np.zeros((n, len(seeds)))
    for s, cols in enumerate(seeds):
        w[:, s] = np.asarray(matrix[:, cols].sum(axis=1)).ravel()
    scale = w.max(axis=0)
    w = np.divide(w, scale, out=np.zeros_like(w), where=scale > 0)
    # Per topic, the least-squares loadings given its unit weights (non-negative
    # because both factors are): the weighted centroid of the seed-using units.
    norms = (w * w).sum(axis=0)
    h = np.asarray((matrix.T @ w).T) / np.where(norms > 0, norms, 1.0)[:, None]
    return w, np.maximum(h, 0.0)


def _residual(matrix: sp.csr_matrix, w: np.ndarray, h: np.ndarray) -> sp.csr_matrix:
    """max(0, X - W H) on the non-zeros of X (sparse; what the seeds leave unexplained)."""
    coo = matrix.tocoo()
    fitted = np.einsum("ij,ji->i", w[coo.row], h[:, coo.col])
    data = np.maximum(coo.data - fitted, 0.0)
    out = sp.csr_matrix((data, (coo.row, coo.col)), shape=matrix.shape)
    out.eliminate_zeros()
    return out


def fit_seeded(
    features: Any,
    k: int | None = None,
    *,
    seed_words: Any = "default",
    random_state: int = 0,
    max_iter: int | None = None,
    n_top_terms: int = 10,
    seed_weight: float = DEFAULT_SEED_WEIGHT,
    n_free: int = DEFAULT_FREE_TOPICS,
    **kwargs: Any,
) -> Any:
    """Fit seeded NMF on ``features.tfidf``; see :func:`policystudy.fit_topics`.

    Parameters
    ----------
    features : Features
    k : int or None, default None
        Number of topics, seeded and free together. None: the seeded topics plus
        ``n_free``. A ``k`` below the number of seed lists found in the
        vocabulary is an error.
    seed_words : "default", mapping or path, default "default"
        ``"default"``: the categories of the shipped policy-agenda dictionary
        (:func:`policystudy.agenda.load_dictionary`). A mapping ``{name:
        [words]}`` or a dictionary file (CSV or YAML, as for ``lookup``).
    random_state : int, default 0
    max_iter : int or None, default None
        Iterations of the final fit (default 2000, as ``fit_topics``).
    n_top_terms : int, default 10
    seed_weight : float, default 2.0
        Weight of the seed-list columns (> 0; larger ties the seeded topics more
        closely to their lists).
    n_free : int, default 2
        Free topics when ``k`` is None.
    **kwargs
        Further NMF parameters (``alpha_W``, ``l1_ratio``, ``tol``, …); ``init``
        cannot be changed (it is the seeded start).

    Returns
    -------
    TopicModel
        ``params`` include ``seed_words`` (name -> seed terms used),
        ``seed_words_missing``, ``seed_weight``, ``n_seeded`` and
        ``seed_loadings`` (k x n_seeded, the loadings of the seed columns).
        ``model_`` is the fitted NMF with ``components_`` cut to the term
        columns, so ``model_.transform`` places new TF-IDF rows.
    """
    from policystudy.topics._fit import _NMF_DEFAULTS
    from policystudy.topics._model import _assemble, _auto_labels, _check_features

    _check_features(features)
    if "init" in kwargs:
        raise TypeError("seeded topics set init='custom' themselves; do not pass init")
    if not seed_weight > 0:
        raise ValueError(f"seed_weight must be > 0, got {seed_weight!r}")
    matrix = sp.csr_matrix(features.tfidf, dtype=np.float64)
    vocab = np.asarray(features.vocabulary)
    resolved, missing = resolve_seed_words(seed_words, vocab)
    if not resolved:
        raise ValueError("no seed word occurs in the features' vocabulary")
    names = list(resolved)
    n_seeded = len(names)
    if k is None:
        k = n_seeded + int(n_free)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
        raise ValueError(f"k must be an int, got {k!r}")
    if k < n_seeded:
        raise ValueError(
            f"k={k} is below the number of seeded topics ({n_seeded} seed lists occur in the "
            f"vocabulary: {', '.join(names)}); use k >= {n_seeded} or fewer seed lists"
        )
    if k < 2 or k > min(matrix.shape):
        raise ValueError(f"k={k} must be between 2 and min(n_units, n_terms)={min(matrix.shape)}")
    k = int(k)
    n_terms = matrix.shape[1]

    seed_mass = np.column_stack(
        [np.asarray(matrix[:, resolved[n]].sum(axis=1)).ravel() for n in names]
    )
    augmented = sp.hstack([matrix, sp.csr_matrix(seed_weight * seed_mass)]).tocsr()

    params = {**_NMF_DEFAULTS, **kwargs, "init": "custom"}
    if max_iter is not None:
        params["max_iter"] = max_iter
    seed_columns = [np.array([n_terms + s]) for s in range(n_seeded)]
    # One thread: as in fit_topics, the same seed gives the same topics anywhere.
    with threadpool_limits(limits=1):
        w0, h0 = _seeded_start(augmented, seed_columns)
        if k > n_seeded:
            free = NMF(
                n_components=k - n_seeded,
                init="nndsvda",
                solver=params["solver"],
                beta_loss=params["beta_loss"],
                tol=params["tol"],
                max_iter=params["max_iter"],
                random_state=random_state,
            )
            wf = free.fit_transform(_residual(augmented, w0, h0))
            w0 = np.hstack([w0, wf])
            h0 = np.vstack([h0, free.components_])
        estimator = NMF(n_components=k, random_state=random_state, **params)
        weights = estimator.fit_transform(augmented, W=np.ascontiguousarray(w0), H=h0)
    seed_loadings = estimator.components_[:, n_terms:] / seed_weight
    # The term part is the topic model; the seed columns only guided the fit.
    estimator.components_ = np.ascontiguousarray(estimator.components_[:, :n_terms])
    estimator.n_features_in_ = n_terms
    model = _assemble(
        features,
        estimator,
        np.asarray(weights, dtype=np.float64),
        matrix,
        "nmf",
        int(random_state),
        int(n_top_terms),
    )
    auto = _auto_labels(model.components_, vocab)
    labels = pd.Series(
        names + [f"{_FREE_PREFIX}{auto.iloc[t]}" for t in range(n_seeded, k)],
        index=pd.RangeIndex(k, name="topic"),
        name="label",
        dtype=str,
    )
    model = model.with_labels(dict(enumerate(labels)))
    return dataclasses.replace(
        model,
        params={
            **model.params,
            "seed_words": {n: vocab[resolved[n]].tolist() for n in names},
            "seed_words_missing": missing,
            "seed_weight": float(seed_weight),
            "n_seeded": n_seeded,
            "seed_loadings": seed_loadings.round(6).tolist(),
        },
    )
