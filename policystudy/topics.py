"""Topic models over :class:`~policystudy.features.Features`, and their checks.

* :func:`fit_topics` wraps scikit-learn's NMF (on TF-IDF) and
  LatentDirichletAllocation (on counts) and returns a :class:`TopicModel`
  with tidy tables (``topic_terms_``, ``unit_topics_``, ``labels_``).
* :func:`select_k` compares numbers of topics by coherence (NPMI computed on
  the corpus itself) and stability (across random restarts and across
  subsamples of units).
* :func:`heading_agreement` and :func:`validity_table` check topics against
  the documents' own structure: do units under the same top-level heading
  share a dominant topic more than knowing the document alone would predict?

Fitting always runs with BLAS/OpenMP limited to one thread so that a given
``random_state`` gives the same numbers on any machine configuration.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment
from sklearn.decomposition import NMF, LatentDirichletAllocation
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score
from threadpoolctl import threadpool_limits

from policystudy.cache import ModelCache
from policystudy.features import Features
from policystudy.schema import FALLBACK_SECTION_IDS

__all__ = [
    "K_CANDIDATE_FACTORS",
    "MIN_UNITS_PER_TOPIC",
    "TopicModel",
    "candidate_ks",
    "default_k",
    "fit_topics",
    "heading_agreement",
    "match_topics",
    "max_k",
    "select_k",
    "topic_coherence",
    "validity_table",
]

Method = Literal["nmf", "lda"]

# NMF: nndsvda initialisation is deterministic up to the randomized SVD (seeded
# by random_state) and suits sparse TF-IDF; the coordinate-descent solver with
# tol=1e-4 converges well within 2000 iterations on policy-document corpora.
_NMF_DEFAULTS: dict[str, Any] = {
    "init": "nndsvda",
    "solver": "cd",
    "beta_loss": "frobenius",
    "tol": 1e-4,
    "max_iter": 2000,
}
# LDA: batch variational Bayes (deterministic given random_state). Batch LDA in
# scikit-learn has no convergence test unless perplexity is evaluated, so it
# runs exactly max_iter passes; 50 passes stabilise the top terms on corpora
# of this size (scikit-learn's default of 10 does not).
_LDA_DEFAULTS: dict[str, Any] = {
    "learning_method": "batch",
    "max_iter": 50,
}
_RESERVED = {"n_components", "random_state"}
_NO_TOPIC_LABEL = "(no topic)"
_DOC_BASELINE = "doc_only"
# section_id values split_units gives to text outside any top-level heading.


@dataclass(frozen=True, eq=False, repr=False)
class TopicModel:
    """A fitted topic model with tidy result tables.

    Attributes
    ----------
    method : {"nmf", "lda"}
        Which model was fitted.
    k : int
        Number of topics.
    random_state : int
        Seed used for fitting.
    params : dict
        Estimator parameters actually used (including defaults).
    model_ : sklearn.decomposition.NMF or LatentDirichletAllocation
        The fitted estimator.
    components_ : numpy.ndarray, shape (k, n_terms)
        ``model_.components_`` (NMF loadings or LDA pseudo-counts).
    doc_topic_ : numpy.ndarray, shape (n_units, k)
        Topic shares per unit: each row sums to 1, except rows of units the
        model assigns to no topic, which are all zeros.
    vocabulary_ : numpy.ndarray of str
        Terms in column order of ``components_``.
    topic_terms_ : pandas.DataFrame
        ``topic`` (int), ``rank`` (1-based), ``term``, ``weight``: the top
        ``n_top_terms`` terms per topic. ``weight`` is the component row
        normalised to sum 1 (for LDA, the topic-word probability), so weights
        are comparable across topics and methods.
    unit_topics_ : pandas.DataFrame
        The features' unit metadata plus ``topic`` (dominant topic, -1 when a
        unit has no topic weight at all), ``weight`` (its share), ``label``
        (its label; ``"(no topic)"`` for -1) and ``topic_0`` ... ``topic_{k-1}``
        (the rows of ``doc_topic_``).
    labels_ : pandas.Series
        Index ``topic`` -> label. Automatic labels join the three top terms
        with "/"; replace them with :meth:`with_labels`.
    n_top_terms : int
        Number of terms per topic kept in ``topic_terms_``.
    """

    method: str
    k: int
    random_state: int
    params: dict[str, Any]
    model_: Any
    components_: np.ndarray
    doc_topic_: np.ndarray
    vocabulary_: np.ndarray
    topic_terms_: pd.DataFrame
    unit_topics_: pd.DataFrame
    labels_: pd.Series
    n_top_terms: int

    def __repr__(self) -> str:
        return (
            f"TopicModel(method={self.method!r}, k={self.k}, "
            f"random_state={self.random_state}, n_units={self.doc_topic_.shape[0]}, "
            f"n_terms={self.components_.shape[1]})"
        )

    def top_terms(self, n: int = 10, sep: str = " ") -> pd.DataFrame:
        """Return the ``n`` highest-weighted terms of every topic.

        Parameters
        ----------
        n : int, default 10
            Terms per topic (may exceed ``n_top_terms``).
        sep : str, default " "
            Separator joining the terms.

        Returns
        -------
        pandas.DataFrame
            Columns ``topic``, ``label``, ``terms`` (one row per topic).
        """
        if not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"n must be a positive int, got {n!r}")
        order = _top_indices(self.components_, int(n))
        return pd.DataFrame(
            {
                "topic": np.arange(self.k),
                "label": self.labels_.to_numpy(),
                "terms": [sep.join(self.vocabulary_[row]) for row in order],
            }
        )

    def with_labels(self, mapping: Mapping[int, str]) -> TopicModel:
        """Return a new model whose topics carry researcher-provided names.

        Parameters
        ----------
        mapping : mapping of int to str
            Topic number -> label. Topics not in the mapping keep their
            current label. The resulting labels must be unique.

        Returns
        -------
        TopicModel
            A copy with ``labels_`` and ``unit_topics_["label"]`` replaced;
            this model is not modified.
        """
        if not isinstance(mapping, Mapping):
            raise TypeError(
                f"mapping must be a dict of topic -> label, got {type(mapping).__name__}"
            )
        labels = self.labels_.copy()
        for key, value in mapping.items():
            if isinstance(key, bool) or not isinstance(key, (int, np.integer)):
                raise TypeError(f"topic keys must be int, got {key!r}")
            if not 0 <= int(key) < self.k:
                raise KeyError(f"topic {key} does not exist; topics are 0..{self.k - 1}")
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"label for topic {key} must be a non-empty str, got {value!r}")
            labels.loc[int(key)] = value
        duplicated = sorted(set(labels[labels.duplicated()]))
        if duplicated:
            raise ValueError(f"labels must be unique; duplicated: {duplicated}")
        unit_topics = self.unit_topics_.copy()
        unit_topics["label"] = _unit_labels(unit_topics["topic"].to_numpy(), labels)
        return dataclasses.replace(self, labels_=labels, unit_topics_=unit_topics)

    # Name used in the shared table contract.
    set_labels = with_labels


def _top_indices(components: np.ndarray, n: int) -> np.ndarray:
    """Column indices of the ``n`` largest weights per row, ties by column order."""
    n = min(n, components.shape[1])
    return np.argsort(-components, axis=1, kind="stable")[:, :n]


def _auto_labels(components: np.ndarray, vocabulary: np.ndarray, n_terms: int = 3) -> pd.Series:
    top = _top_indices(components, n_terms)
    labels = ["/".join(vocabulary[row]) for row in top]
    counts = pd.Series(labels).value_counts()
    # Identical top terms in two topics: disambiguate by topic number.
    labels = [f"{lab}#{t}" if counts[lab] > 1 else lab for t, lab in enumerate(labels)]
    return pd.Series(
        labels, index=pd.RangeIndex(len(labels), name="topic"), name="label", dtype=str
    )


def _unit_labels(topics: np.ndarray, labels: pd.Series) -> np.ndarray:
    lookup = labels.to_numpy()
    return np.array(
        [lookup[t] if t >= 0 else _NO_TOPIC_LABEL for t in topics],
        dtype=object,
    )


def _check_features(features: Features) -> None:
    if not isinstance(features, Features):
        raise TypeError(
            f"expected a Features object from build_features(), got {type(features).__name__}"
        )


def _estimator(
    method: str,
    k: int,
    random_state: int,
    max_iter: int | None,
    kwargs: Mapping[str, Any],
) -> NMF | LatentDirichletAllocation:
    reserved = _RESERVED & set(kwargs)
    if reserved:
        raise TypeError(
            f"pass {sorted(reserved)} as fit_topics arguments (k, random_state), not as kwargs"
        )
    if method == "nmf":
        params = {**_NMF_DEFAULTS, **kwargs}
        cls: type = NMF
    elif method == "lda":
        params = {**_LDA_DEFAULTS, **kwargs}
        cls = LatentDirichletAllocation
    else:
        raise ValueError(f"method must be 'nmf' or 'lda', got {method!r}")
    if max_iter is not None:
        params["max_iter"] = max_iter
    return cls(n_components=k, random_state=random_state, **params)


# --- numbers of topics that follow the corpus size ----------------------------

#: A topic needs on average this many units: ``k > n_units / MIN_UNITS_PER_TOPIC``
#: is more topics than the corpus can support (most topics would be one or two
#: units); :func:`fit_topics` warns, the command line refuses.
MIN_UNITS_PER_TOPIC = 3
#: The candidates of :func:`select_k` are ``round(f * default_k)`` for these ``f``:
#: from half the default to nearly twice it, in quarter steps.
K_CANDIDATE_FACTORS = (0.5, 0.75, 1.0, 1.25, 1.5, 1.75)


def _sizes(features: Features | int, n_terms: int | None = None) -> tuple[int, int | None]:
    if isinstance(features, Features):
        return features.n_units, features.n_terms
    if isinstance(features, bool) or not isinstance(features, (int, np.integer)) or features < 0:
        raise TypeError(f"expected Features or a number of units, got {features!r}")
    return int(features), n_terms


def max_k(features: Features | int, n_terms: int | None = None) -> int:
    """The largest number of topics the corpus supports.

    ``min(floor(n_units / MIN_UNITS_PER_TOPIC), n_terms)``: at least three units
    per topic on average, and no more topics than terms.

    Parameters
    ----------
    features : Features or int
        The features (their ``n_units`` and ``n_terms``), or a number of units.
    n_terms : int, optional
        Vocabulary size, when ``features`` is a number of units.

    Returns
    -------
    int
        May be below 2 for a tiny corpus (then no model can be fitted).
    """
    n_units, terms = _sizes(features, n_terms)
    limit = n_units // MIN_UNITS_PER_TOPIC
    return limit if terms is None else min(limit, int(terms))


def default_k(features: Features | int, n_terms: int | None = None) -> int:
    """The default number of topics for a corpus of this size.

    ``sqrt(n_units / 2)`` rounded down to an even number (the rule of thumb
    ``k ~ sqrt(n / 2)``), at least 2 and at most :func:`max_k`.  On the bundled
    corpus (173 units) ``sqrt(86.5) = 9.3`` gives 8, the published k.

    Parameters
    ----------
    features : Features or int
        As in :func:`max_k`.
    n_terms : int, optional
        As in :func:`max_k`.

    Returns
    -------
    int
    """
    n_units, terms = _sizes(features, n_terms)
    k = 2 * int(np.floor(np.sqrt(n_units / 2) / 2))
    return max(2, min(k, max(2, max_k(n_units, terms))))


def candidate_ks(features: Features | int, n_terms: int | None = None) -> tuple[int, ...]:
    """The numbers of topics :func:`select_k` compares by default.

    The distinct values ``round(f * k)`` for ``f`` in
    :data:`K_CANDIDATE_FACTORS` (0.5 to 1.75 in quarter steps), with
    ``k = default_k(...)``, kept when they lie in ``[2, max_k(...)]``.  On the
    bundled corpus: ``(4, 6, 8, 10, 12, 14)``.

    Parameters
    ----------
    features : Features or int
        As in :func:`max_k`.
    n_terms : int, optional
        As in :func:`max_k`.

    Returns
    -------
    tuple of int
        Ascending; empty when the corpus supports no model (``max_k < 2``).
    """
    n_units, terms = _sizes(features, n_terms)
    k = default_k(n_units, terms)
    limit = max_k(n_units, terms)
    # floor(x + 0.5): round halves up, not to even, so the steps stay regular.
    ks = {int(np.floor(f * k + 0.5)) for f in K_CANDIDATE_FACTORS}
    return tuple(sorted(c for c in ks if 2 <= c <= limit))


def _check_k(k: int, matrix: sp.spmatrix) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k must be an int >= 2, got {k!r}")
    limit = min(matrix.shape)
    if k > limit:
        raise ValueError(f"k={k} exceeds min(n_units, n_terms)={limit} of the feature matrix")
    supported = max_k(*matrix.shape)
    if k > supported:
        warnings.warn(
            f"k={k} topics on {matrix.shape[0]} units and {matrix.shape[1]} terms: more than "
            f"one topic per {MIN_UNITS_PER_TOPIC} units (largest supported k: {supported}); "
            "most topics will be one or two units",
            UserWarning,
            stacklevel=3,
        )


CacheArg = bool | str | Path | ModelCache
_log = logging.getLogger(__name__)
_SCALARS = (bool, int, float, str, type(None))


def _fit_key(
    matrix: sp.csr_matrix,
    estimator: Any,
) -> str | None:
    """Key of one fit: the matrix bytes, every estimator parameter, library versions.

    None when a parameter is not a plain scalar (it could not be keyed reliably).
    """
    import scipy
    import sklearn

    params = estimator.get_params()
    if not all(isinstance(v, _SCALARS) for v in params.values()):
        return None
    header = {
        "format": 1,
        "estimator": type(estimator).__name__,
        "params": params,
        "versions": [sklearn.__version__, np.__version__, scipy.__version__],
        "shape": list(matrix.shape),
        "format_sparse": matrix.format,
    }
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode("utf-8"))
    for part in (matrix.indptr, matrix.indices, matrix.data):
        digest.update(part.dtype.str.encode("ascii"))
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def _model_cache(cache: CacheArg) -> ModelCache | None:
    if cache is False or cache is None:
        return None
    if isinstance(cache, ModelCache):
        return cache
    return ModelCache(None if cache is True else cache)


# Names of fitted attributes that may be stored and set back: plain identifiers,
# public (``components_``) or private (``_beta_loss``), never dunders.
_ATTR_NAME = re.compile(r"_?[a-z][a-z0-9_]*")
_JSON_SCALARS = (bool, int, float, str, type(None))


def _fit_entry(estimator: Any, weights: np.ndarray) -> tuple[dict[str, np.ndarray], dict] | None:
    """Arrays and JSON metadata that rebuild a fitted estimator exactly, without pickle.

    Every fitted attribute is kept with its exact type: arrays and NumPy scalars
    as arrays (bit for bit, dtype included), Python scalars in JSON (floats are
    written with ``repr``, which reads back to the same float), a ``RandomState``
    as its state. None when an attribute is of another kind (such a fit is not
    cached rather than cached in part).
    """
    params = estimator.get_params()
    arrays: dict[str, np.ndarray] = {"weights": weights}
    attrs: dict[str, dict[str, Any]] = {}
    for name, value in vars(estimator).items():
        if name in params:
            continue
        if not _ATTR_NAME.fullmatch(name):
            return None
        if isinstance(value, np.ndarray | np.generic) and not value.dtype.hasobject:
            kind = "array" if isinstance(value, np.ndarray) else "numpy_scalar"
            arrays[f"attr.{name}"] = np.asarray(value)
            attrs[name] = {"kind": kind}
        elif type(value) in _JSON_SCALARS:
            attrs[name] = {"kind": "json", "value": value}
        elif type(value) is np.random.RandomState:
            bit_generator, state, pos, has_gauss, cached = value.get_state(legacy=True)
            arrays[f"attr.{name}"] = state
            attrs[name] = {
                "kind": "random_state",
                "bit_generator": bit_generator,
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached),
            }
        else:
            return None
    meta = {"estimator": type(estimator).__name__, "params": params, "attrs": attrs}
    return arrays, meta


def _expect(array: Any, name: str, shape: tuple[int, ...]) -> None:
    if not (
        isinstance(array, np.ndarray)
        and array.dtype == np.float64
        and array.shape == shape
        and np.isfinite(array).all()
    ):
        raise ValueError(f"{name} is not a finite float64 array of shape {shape}")


def _restore_fit(
    estimator: Any, matrix: sp.csr_matrix, meta: dict, arrays: dict[str, np.ndarray]
) -> tuple[Any, np.ndarray]:
    """Set the fitted attributes of a cached entry on the unfitted ``estimator``.

    Raises ValueError when the entry does not describe a fit of this estimator on
    a matrix of this shape (the cache then treats it as damaged).
    """
    params = estimator.get_params()
    if meta.get("estimator") != type(estimator).__name__ or meta.get("params") != json.loads(
        json.dumps(params)
    ):
        raise ValueError("entry is of another estimator or other parameters")
    n_units, n_terms = matrix.shape
    k = int(params["n_components"])
    weights = arrays.get("weights")
    _expect(weights, "weights", (n_units, k))
    attrs = meta.get("attrs")
    if not isinstance(attrs, dict) or "components_" not in attrs:
        raise ValueError("entry without fitted components")
    stored = {"weights"}
    fitted: dict[str, Any] = {}
    for name, spec in attrs.items():
        if not _ATTR_NAME.fullmatch(name) or name in params or not isinstance(spec, dict):
            raise ValueError(f"unexpected attribute {name!r}")
        kind = spec.get("kind")
        if kind == "json":
            if type(spec.get("value")) not in _JSON_SCALARS:
                raise ValueError(f"attribute {name} is not a scalar")
            fitted[name] = spec["value"]
            continue
        array = arrays.get(f"attr.{name}")
        stored.add(f"attr.{name}")
        if array is None:
            raise ValueError(f"array of attribute {name} is missing")
        if kind == "array":
            fitted[name] = array
        elif kind == "numpy_scalar" and array.ndim == 0:
            fitted[name] = array[()]
        elif kind == "random_state":
            generator = np.random.RandomState()
            try:
                generator.set_state(
                    (
                        spec["bit_generator"],
                        array,
                        spec["pos"],
                        spec["has_gauss"],
                        spec["cached_gaussian"],
                    )
                )
            except (KeyError, TypeError) as exc:
                raise ValueError(f"random state {name} is not valid: {exc}") from None
            fitted[name] = generator
        else:
            raise ValueError(f"attribute {name} of unknown kind {kind!r}")
    if stored != set(arrays):
        raise ValueError("arrays that belong to no attribute")
    for name in ("components_", "exp_dirichlet_component_"):
        if name in fitted:
            _expect(fitted[name], name, (k, n_terms))
    if fitted.get("n_features_in_", n_terms) != n_terms:
        raise ValueError("entry fitted on another number of terms")
    for name, value in fitted.items():
        setattr(estimator, name, value)
    return estimator, weights


def _fit_matrix(
    matrix: sp.csr_matrix,
    method: str,
    k: int,
    random_state: int,
    max_iter: int | None,
    kwargs: Mapping[str, Any],
    cache: CacheArg = False,
) -> tuple[Any, np.ndarray]:
    """Fit one estimator single-threaded; return it and the raw unit-topic matrix.

    With a cache, a fit with the same matrix, parameters and library versions is
    read back instead of recomputed (the fit is deterministic, so the result is
    the same: every fitted attribute is restored bit for bit). A cache that
    cannot be read or written is skipped; a damaged entry is removed with a
    warning and refitted.
    """
    estimator = _estimator(method, k, random_state, max_iter, kwargs)
    matrix = sp.csr_matrix(matrix)
    store = _model_cache(cache)
    key = _fit_key(matrix, estimator) if store is not None else None
    if key is not None:
        try:
            hit = store.get(key, lambda meta, arrays: _restore_fit(estimator, matrix, meta, arrays))
        except OSError as exc:
            _log.debug("model cache not readable: %s", exc)
            hit = None
        if hit is not None:
            return hit
    # One thread: BLAS reductions in several threads can change the last bits
    # of sums and, through the iterations, the fitted topics.
    with threadpool_limits(limits=1):
        weights = estimator.fit_transform(matrix)
    weights = np.asarray(weights, dtype=np.float64)
    entry = _fit_entry(estimator, weights) if key is not None else None
    if entry is not None:
        try:
            store.put(key, *entry)
        except OSError as exc:
            _log.debug("model cache not writable: %s", exc)
    return estimator, weights


def _shares(weights: np.ndarray, matrix: sp.csr_matrix) -> np.ndarray:
    """Normalise rows to sum 1; units without any term or weight stay all-zero."""
    totals = weights.sum(axis=1)
    has_terms = np.diff(matrix.indptr) > 0
    ok = (totals > 0) & has_terms
    shares = np.zeros_like(weights)
    shares[ok] = weights[ok] / totals[ok, None]
    return shares


def _topic_terms(components: np.ndarray, vocabulary: np.ndarray, n: int) -> pd.DataFrame:
    totals = components.sum(axis=1, keepdims=True)
    normalised = np.divide(components, totals, out=np.zeros_like(components), where=totals > 0)
    top = _top_indices(components, n)
    k, n_kept = top.shape
    return pd.DataFrame(
        {
            "topic": np.repeat(np.arange(k), n_kept),
            "rank": np.tile(np.arange(1, n_kept + 1), k),
            "term": vocabulary[top.ravel()],
            "weight": np.take_along_axis(normalised, top, axis=1).ravel(),
        }
    )


def fit_topics(
    features: Features,
    k: int | None = None,
    *,
    method: Method = "nmf",
    random_state: int = 0,
    max_iter: int | None = None,
    n_top_terms: int = 10,
    cache: CacheArg = True,
    seed_words: Any = None,
    **kwargs: Any,
) -> TopicModel:
    """Fit a topic model to the units of a :class:`Features` object.

    Parameters
    ----------
    features : Features
        Output of :func:`policystudy.build_features`.
    k : int or None, default None
        Number of topics (default: :func:`default_k`, which follows the number
        of units, 8 on the bundled corpus; with ``seed_words``, the seeded topics
        plus :data:`policystudy.seeded.DEFAULT_FREE_TOPICS` free ones). The number
        of topics is a modelling choice that shapes every finding: compare
        candidates with :func:`select_k` and report the one used. A k above
        :func:`max_k` (more than one topic per three units) is fitted with a warning.
    method : {"nmf", "lda"}, default "nmf"
        ``"nmf"``: :class:`sklearn.decomposition.NMF` on ``features.tfidf``
        (``init="nndsvda"``, ``solver="cd"``, ``tol=1e-4``,
        ``max_iter=2000``). ``"lda"``:
        :class:`sklearn.decomposition.LatentDirichletAllocation` on
        ``features.counts`` (``learning_method="batch"``, ``max_iter=50``).
    random_state : int, default 0
        Seed; the same seed gives identical results.
    max_iter : int or None, default None
        Override the method's default number of iterations.
    n_top_terms : int, default 10
        Terms per topic kept in ``topic_terms_``.
    cache : bool, path or ModelCache, default True
        Reuse a fit with the same matrix, parameters and library versions from
        the model cache (:class:`policystudy.cache.ModelCache`, in
        :func:`policystudy.cache.cache_dir`); a folder or a ``ModelCache``
        selects another one; ``False`` always refits. The result is the same
        either way.
    seed_words : None, "default", mapping or path, default None
        Seeded (keyword-assisted) NMF, see :mod:`policystudy.seeded`: one topic
        anchored by each seed list (``"default"``: the categories of the shipped
        policy-agenda dictionary; a mapping ``{name: [words]}``; a dictionary
        file), labelled with its name, and the other topics free. ``k`` counts
        all topics and may not be below the number of seed lists found in the
        vocabulary. NMF only; never cached.
    **kwargs
        Further estimator parameters (e.g. ``alpha_W`` for NMF,
        ``doc_topic_prior`` for LDA); they override the defaults above.

    Returns
    -------
    TopicModel

    Notes
    -----
    Unit-topic weights are normalised to shares per unit; the dominant topic
    is the one with the largest share (the lowest topic number on ties). A
    unit to which the model gives no weight (possible with NMF) keeps a zero
    row and ``topic == -1``.
    """
    if seed_words is not None:
        if method != "nmf":
            raise ValueError("seed_words works with method='nmf' only")
        from policystudy.seeded import fit_seeded

        return fit_seeded(
            features, k, seed_words=seed_words, random_state=random_state,
            max_iter=max_iter, n_top_terms=n_top_terms, **kwargs,
        )  # fmt: skip
    _check_features(features)
    matrix = features.tfidf if method == "nmf" else features.counts
    if k is None:
        k = default_k(features)
    _check_k(k, matrix)
    if not isinstance(n_top_terms, (int, np.integer)) or n_top_terms < 1:
        raise ValueError(f"n_top_terms must be a positive int, got {n_top_terms!r}")
    estimator, weights = _fit_matrix(
        matrix, method, int(k), random_state, max_iter, kwargs, cache=cache
    )
    return _assemble(
        features, estimator, weights, matrix, method, int(random_state), int(n_top_terms)
    )


def _assemble(
    features: Features,
    estimator: Any,
    weights: np.ndarray,
    matrix: sp.csr_matrix,
    method: str,
    random_state: int,
    n_top_terms: int,
) -> TopicModel:
    components = np.asarray(estimator.components_, dtype=np.float64)
    k = components.shape[0]
    vocabulary = np.asarray(features.vocabulary)
    shares = _shares(weights, matrix)
    has_topic = shares.sum(axis=1) > 0
    dominant = np.where(has_topic, shares.argmax(axis=1), -1)
    dominant_share = np.where(has_topic, shares.max(axis=1), 0.0)
    labels = _auto_labels(components, vocabulary)

    unit_topics = features.units.copy()
    unit_topics["topic"] = dominant.astype(np.int64)
    unit_topics["weight"] = dominant_share
    unit_topics["label"] = _unit_labels(dominant, labels)
    share_cols = pd.DataFrame(
        shares, columns=[f"topic_{t}" for t in range(k)], index=unit_topics.index
    )
    unit_topics = pd.concat([unit_topics, share_cols], axis=1)

    return TopicModel(
        method=method,
        k=k,
        random_state=random_state,
        params=estimator.get_params(),
        model_=estimator,
        components_=components,
        doc_topic_=shares,
        vocabulary_=vocabulary,
        topic_terms_=_topic_terms(components, vocabulary, n_top_terms),
        unit_topics_=unit_topics,
        labels_=labels,
        n_top_terms=n_top_terms,
    )


# --- coherence and stability -------------------------------------------------


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


def match_topics(a: TopicModel, b: TopicModel, n_top_terms: int = 10) -> pd.DataFrame:
    """Pair the topics of two models by the overlap of their top terms.

    Parameters
    ----------
    a, b : TopicModel
        Models to compare (they may differ in ``k``; then only
        ``min(a.k, b.k)`` pairs are formed).
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
    sets_a = [set(a.vocabulary_[row]) for row in _top_indices(a.components_, n_top_terms)]
    sets_b = [set(b.vocabulary_[row]) for row in _top_indices(b.components_, n_top_terms)]
    rows, cols, values = _matched(sets_a, sets_b)
    return pd.DataFrame({"topic_a": rows, "topic_b": cols, "jaccard": values})


def _top_sets(components: np.ndarray, n: int) -> list[set]:
    return [set(row.tolist()) for row in _top_indices(components, n)]


def _mean_sd(values: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        return float("nan"), float("nan")
    sd = float(arr.std(ddof=1)) if arr.size > 1 else float("nan")
    return float(arr.mean()), sd


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
    if n_restarts < 0 or n_subsamples < 0:
        raise ValueError("n_restarts and n_subsamples must be >= 0")
    matrix = features.tfidf if method == "nmf" else features.counts
    for k in ks:
        _check_k(k, matrix)
    n_units = matrix.shape[0]
    n_sub = max(int(round(subsample_frac * n_units)), 2)

    rng = np.random.default_rng(random_state)
    restart_seeds = rng.integers(0, 2**31 - 1, size=n_restarts)
    sub_seeds = rng.integers(0, 2**31 - 1, size=n_subsamples)
    subsets = [np.sort(rng.choice(n_units, size=n_sub, replace=False)) for _ in range(n_subsamples)]
    restart_kwargs = dict(kwargs)
    if method == "nmf":
        restart_kwargs["init"] = restart_init

    binary = _binary(features)
    rows = []
    for k in ks:
        reference, _ = _fit_matrix(matrix, method, k, random_state, max_iter, kwargs, cache)
        ref_top = _top_indices(reference.components_, n_top_terms)
        coherence = float(np.mean([_npmi_pairs(binary, row).mean() for row in ref_top]))
        ref_sets = [set(row.tolist()) for row in ref_top]

        restart_scores = []
        for seed in restart_seeds:
            est, _ = _fit_matrix(matrix, method, k, int(seed), max_iter, restart_kwargs, cache)
            restart_scores.append(
                _matched(ref_sets, _top_sets(est.components_, n_top_terms))[2].mean()
            )
        sub_scores = []
        for seed, subset in zip(sub_seeds, subsets, strict=True):
            est, _ = _fit_matrix(matrix[subset], method, k, int(seed), max_iter, kwargs, cache)
            sub_scores.append(_matched(ref_sets, _top_sets(est.components_, n_top_terms))[2].mean())

        restart_mean, restart_sd = _mean_sd(restart_scores)
        sub_mean, sub_sd = _mean_sd(sub_scores)
        rows.append(
            {
                "k": k,
                "method": method,
                "coherence_npmi": coherence,
                "stability_restarts": restart_mean,
                "stability_restarts_sd": restart_sd,
                "stability_subsamples": sub_mean,
                "stability_subsamples_sd": sub_sd,
                "n_runs": 1 + n_restarts + n_subsamples,
            }
        )
    table = pd.DataFrame(rows)
    value_cols = [c for c in table.columns if c.startswith(("coherence", "stability"))]
    table[value_cols] = table[value_cols].astype(np.float64).round(4)
    return table


# --- validity against document structure ------------------------------------


def heading_agreement(
    model: TopicModel,
    *,
    exclude_section_ids: Sequence[str] = FALLBACK_SECTION_IDS,
) -> pd.DataFrame:
    """Agreement between units' dominant topics and their enclosing headings.

    Each unit's section is qualified by its document (``doc_id`` + ``section``)
    because documents do not share headings. Units in a fallback section
    (no real top-level heading: ``section_id`` in ``exclude_section_ids``)
    are left out. The model's clustering is the dominant topic (units
    without a topic form their own cluster). A baseline clustering that
    knows only each unit's document is scored the same way: since sections
    are nested in documents it already agrees partly with them. A third
    clustering crosses the two (dominant topic within document): AMI
    corrects for chance, so it rises above the baseline only if topics
    separate the sections of a document from each other.

    Parameters
    ----------
    model : TopicModel
        Fitted model; its ``unit_topics_`` must have ``doc_id`` and
        ``section`` columns.
    exclude_section_ids : sequence of str, default ("preamble", "none")
        ``section_id`` values that mark fallback sections: text before the
        first top-level heading and documents without headings (see
        :func:`policystudy.split_units`).

    Returns
    -------
    pandas.DataFrame
        Columns ``model`` (the model's method for its dominant topics;
        ``"<method>+doc"`` for the dominant topic within each document;
        ``"doc_only"`` for the baseline), ``measure`` (``"ami"``: adjusted
        mutual information, in [-1, 1], 0 = chance; ``"nmi"``: normalised mutual information, in
        [0, 1]), ``value`` (rounded to 4 decimals), ``n_units``,
        ``n_sections``.
    """
    table = model.unit_topics_
    missing = [c for c in ("doc_id", "section") if c not in table.columns]
    if missing:
        raise ValueError(f"heading_agreement: unit_topics_ lacks column(s) {missing}")
    keep = np.ones(len(table), dtype=bool)
    if "section_id" in table.columns:
        keep &= (
            ~table["section_id"].astype(str).isin([str(s) for s in exclude_section_ids]).to_numpy()
        )
    keep &= table["section"].notna().to_numpy()
    sub = table.loc[keep]
    if sub.empty:
        raise ValueError("heading_agreement: no units with a real section heading")
    sections = (sub["doc_id"].astype(str) + "|" + sub["section"].astype(str)).to_numpy()
    n_sections = len(set(sections))
    doc = sub["doc_id"].astype(str).to_numpy()
    topic = sub["topic"].to_numpy()
    clusterings = (
        (model.method, topic),
        # Topic within document: do topics add to what the document tells?
        (
            f"{model.method}+doc",
            (sub["doc_id"].astype(str) + "|" + sub["topic"].astype(str)).to_numpy(),
        ),
        (_DOC_BASELINE, doc),
    )
    measures = (("ami", adjusted_mutual_info_score), ("nmi", normalized_mutual_info_score))
    rows = []
    for name, clusters in clusterings:
        for measure, func in measures:
            rows.append(
                {
                    "model": name,
                    "measure": measure,
                    "value": round(float(func(sections, clusters)), 4),
                    "n_units": int(len(sub)),
                    "n_sections": n_sections,
                }
            )
    return pd.DataFrame(rows)


def validity_table(
    features: Features,
    k: int | None = None,
    *,
    methods: Sequence[Method] = ("nmf", "lda"),
    random_state: int = 0,
    exclude_section_ids: Sequence[str] = FALLBACK_SECTION_IDS,
    **kwargs: Any,
) -> pd.DataFrame:
    """Heading agreement of several topic models next to the document-only baseline.

    Parameters
    ----------
    features : Features
        Output of :func:`policystudy.build_features`.
    k : int, optional
        Number of topics for every model (default: :func:`default_k`).
    methods : sequence of {"nmf", "lda"}, default ("nmf", "lda")
    random_state : int, default 0
    exclude_section_ids : sequence of str, default ("preamble", "none")
        See :func:`heading_agreement`.
    **kwargs
        Passed to :func:`fit_topics`.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``measure``, ``value``, ``n_units``, ``n_sections``:
        the rows of :func:`heading_agreement` for each method, followed once
        by the ``"doc_only"`` baseline rows.
    """
    parts = []
    baseline = None
    for method in methods:
        model = fit_topics(features, k, method=method, random_state=random_state, **kwargs)
        table = heading_agreement(model, exclude_section_ids=exclude_section_ids)
        parts.append(table[table["model"] != _DOC_BASELINE])
        baseline = table[table["model"] == _DOC_BASELINE]
    if baseline is None:
        raise ValueError("methods must name at least one method")
    return pd.concat([*parts, baseline], ignore_index=True)
