"""Fitting topic models: :func:`fit_topics`, the numbers of topics a corpus supports, the fit cache.

Fitting always runs with BLAS/OpenMP limited to one thread so that a given
``random_state`` gives the same numbers on any machine configuration.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import NMF, LatentDirichletAllocation
from threadpoolctl import threadpool_limits

from policystudy._validation import check_choice, check_positive_int
from policystudy.cache import ModelCache
from policystudy.features import Features
from policystudy.topics._model import TopicModel, _assemble, _check_features

__all__ = [
    "DTYPES",
    "FLOAT32_MIN_UNITS",
    "K_CANDIDATE_FACTORS",
    "MIN_UNITS_PER_TOPIC",
    "candidate_ks",
    "default_k",
    "fit_topics",
    "max_k",
    "resolve_dtype",
]

Method = Literal["nmf", "lda"]
Dtype = Literal["auto", "float64", "float32"]

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


# --- NMF precision that follows the corpus size -------------------------------

#: The values of ``dtype`` in :func:`fit_topics` and :func:`select_k`.
DTYPES: tuple[str, ...] = ("auto", "float64", "float32")
#: From this many units ``dtype="auto"`` fits NMF in float32, below it in float64.
#:
#: scikit-learn's NMF computes in the dtype of its input. In float32 the
#: coordinate-descent fit runs as many iterations (within one) in 0.64-0.80 of
#: the float64 time (synthetic corpora of ``benchmarks/synth.py``, one thread,
#: medians of 3; k=20: 0.47 -> 0.34 s at 1,000 units, 1.5 -> 1.0 s at 2,000,
#: 1.0 -> 0.70 s at 5,000, 3.0 -> 1.9 s at 10,000). From about 2,000 units one
#: fit takes a second or more, and :func:`select_k` runs dozens of them; below,
#: float32 saves a tenth of a second per fit. At every size measured (the bundled
#: corpus at k=8 and 20, 1,000 to 5,000 units at k=20 and at ``default_k``,
#: 10,000 at k=20; ``benchmarks/README.md``, "NMF precision")
#: every Hungarian-matched topic had the same top-10 terms in both precisions.
#: Unit shares differ by 2e-6 to 1e-3 at most (largest at 5,000 units, where
#: one unit of 4,998, a near tie, changes its dominant topic; none elsewhere).
#: The bundled corpus (173 units in its features) stays float64, so no
#: committed output changes.
FLOAT32_MIN_UNITS = 2000


def resolve_dtype(dtype: str, n_units: int, method: str = "nmf") -> str:
    """The precision a fit runs in: ``"float64"`` or ``"float32"``.

    Parameters
    ----------
    dtype : {"auto", "float64", "float32"}
        ``"auto"``: float32 for NMF on at least :data:`FLOAT32_MIN_UNITS`
        units, float64 otherwise; the other two are used as given.
    n_units : int
        Rows of the matrix the model is fitted on.
    method : {"nmf", "lda"}, default "nmf"
        LDA always fits in float64 (``"auto"`` resolves to it, ``"float32"``
        is refused).

    Returns
    -------
    str

    Raises
    ------
    ValueError
        ``dtype`` is not one of :data:`DTYPES`, or float32 was asked for LDA.
    """
    dtype = check_choice(dtype, "dtype", DTYPES)
    if method != "nmf":
        if dtype == "float32":
            raise ValueError(f"dtype='float32' is for method='nmf'; {method} fits in float64")
        return "float64"
    if dtype == "auto":
        return "float32" if n_units >= FLOAT32_MIN_UNITS else "float64"
    return dtype


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
    dtype: str = "float64",
) -> str | None:
    """Key of one fit: the matrix bytes, every estimator parameter, the precision, library versions.

    ``dtype`` is the precision of the fit (a float32 and a float64 fit of the
    same matrix are two entries; ``matrix`` is the matrix as given to
    :func:`fit_topics`, before any conversion). None when a parameter is not a
    plain scalar (it could not be keyed reliably).
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
        "dtype": dtype,
        "versions": [sklearn.__version__, np.__version__, scipy.__version__],
        "shape": list(matrix.shape),
        "format_sparse": matrix.format,
    }
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode("utf-8"))
    for part in (matrix.indptr, matrix.indices, matrix.data):
        digest.update(part.dtype.str.encode("ascii"))
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


# Names of fitted attributes that may be stored and set back: plain identifiers,
# public (``components_``) or private (``_beta_loss``), never dunders.
_ATTR_NAME = re.compile(r"_?[a-z][a-z0-9_]*")
_JSON_SCALARS = (bool, int, float, str, type(None))


def _fit_entry(
    estimator: Any, weights: np.ndarray, dtype: str = "float64"
) -> tuple[dict[str, np.ndarray], dict] | None:
    """Arrays and JSON metadata that rebuild a fitted estimator exactly, without pickle.

    Every fitted attribute is kept with its exact type: arrays and NumPy scalars
    as arrays (bit for bit, dtype included), Python scalars in JSON (floats are
    written with ``repr``, which reads back to the same float), a ``RandomState``
    as its state. ``weights`` are stored in the precision of the fit (``dtype``),
    as it returned them. None when an attribute is of another kind (such a fit
    is not cached rather than cached in part).
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
    meta = {
        "estimator": type(estimator).__name__,
        "params": params,
        "dtype": dtype,
        "attrs": attrs,
    }
    return arrays, meta


def _expect(array: Any, name: str, shape: tuple[int, ...], dtype: str = "float64") -> None:
    if not (
        isinstance(array, np.ndarray)
        and array.dtype == np.dtype(dtype)
        and array.shape == shape
        and np.isfinite(array).all()
    ):
        raise ValueError(f"{name} is not a finite {dtype} array of shape {shape}")


def _restore_fit(
    estimator: Any,
    matrix: sp.csr_matrix,
    meta: dict,
    arrays: dict[str, np.ndarray],
    dtype: str = "float64",
) -> tuple[Any, np.ndarray]:
    """Set the fitted attributes of a cached entry on the unfitted ``estimator``.

    Raises ValueError when the entry does not describe a fit of this estimator in
    precision ``dtype`` on a matrix of this shape (the cache then treats it as
    damaged). The weights are returned as float64, as :func:`_fit_matrix` does.
    """
    params = estimator.get_params()
    if meta.get("estimator") != type(estimator).__name__ or meta.get("params") != json.loads(
        json.dumps(params)
    ):
        raise ValueError("entry is of another estimator or other parameters")
    if meta.get("dtype") != dtype:
        raise ValueError(f"entry is not a {dtype} fit")
    n_units, n_terms = matrix.shape
    k = int(params["n_components"])
    weights = arrays.get("weights")
    _expect(weights, "weights", (n_units, k), dtype)
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
            _expect(fitted[name], name, (k, n_terms), dtype)
    if fitted.get("n_features_in_", n_terms) != n_terms:
        raise ValueError("entry fitted on another number of terms")
    for name, value in fitted.items():
        setattr(estimator, name, value)
    return estimator, weights.astype(np.float64)


def _fit_matrix(
    matrix: sp.csr_matrix,
    method: str,
    k: int,
    random_state: int,
    max_iter: int | None,
    kwargs: Mapping[str, Any],
    cache: CacheArg = False,
    dtype: str = "float64",
) -> tuple[Any, np.ndarray]:
    """Fit one estimator single-threaded; return it and the raw unit-topic matrix.

    ``dtype`` is a resolved precision (:func:`resolve_dtype`): with
    ``"float32"`` the NMF is fitted on a float32 copy of ``matrix``, so its
    fitted attributes (``components_``, ``reconstruction_err_``) are float32;
    the returned unit-topic matrix is float64 either way (float32 values
    converted exactly). LDA is always fitted on ``matrix`` as given.

    With a cache, a fit with the same matrix, parameters and library versions is
    read back instead of recomputed (the fit is deterministic, so the result is
    the same: every fitted attribute is restored bit for bit). A cache that
    cannot be read or written is skipped; a damaged entry is removed with a
    warning and refitted.
    """
    dtype = check_choice(dtype, "dtype", ("float64", "float32"))
    if dtype == "float32" and method != "nmf":
        raise ValueError(f"dtype='float32' is for method='nmf'; {method} fits in float64")
    estimator = _estimator(method, k, random_state, max_iter, kwargs)
    matrix = sp.csr_matrix(matrix)
    store = ModelCache._from_arg(cache)
    key = _fit_key(matrix, estimator, dtype) if store is not None else None
    if dtype == "float32":
        matrix = matrix.astype(np.float32)
    if key is not None:
        try:
            hit = store.get(
                key, lambda meta, arrays: _restore_fit(estimator, matrix, meta, arrays, dtype)
            )
        except OSError as exc:
            _log.debug("model cache not readable: %s", exc)
            hit = None
        if hit is not None:
            return hit
    # One thread: BLAS reductions in several threads can change the last bits
    # of sums and, through the iterations, the fitted topics.
    with threadpool_limits(limits=1):
        weights = estimator.fit_transform(matrix)
    raw = np.asarray(weights, dtype=np.float32 if dtype == "float32" else np.float64)
    weights = raw.astype(np.float64, copy=False)
    entry = _fit_entry(estimator, raw, dtype) if key is not None else None
    if entry is not None:
        try:
            store.put(key, *entry)
        except OSError as exc:
            _log.debug("model cache not writable: %s", exc)
    return estimator, weights


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
    dtype: Dtype = "auto",
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
        vocabulary. NMF only; never cached; always fitted in float64.
    dtype : {"auto", "float64", "float32"}, default "auto"
        Precision of the NMF fit. ``"auto"``: float64 below
        :data:`FLOAT32_MIN_UNITS` units (2,000; the bundled corpus and every
        published output), float32 from it, where the fit takes 0.64-0.80 of
        the float64 time with the same top terms (unit shares differ by up to
        about 1e-3, see :data:`FLOAT32_MIN_UNITS`). The resolved value is
        ``TopicModel.dtype_``; ``components_`` and ``doc_topic_`` are float64
        arrays in either case, only ``model_`` (the estimator) keeps float32
        attributes (``model_.components_``, and ``model_.transform`` returns
        float32). LDA and seeded NMF always fit in float64: ``"auto"``
        resolves to it and ``"float32"`` is a ValueError. A float32 and a
        float64 fit are separate entries of the model cache.
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
    check_choice(dtype, "dtype", DTYPES)
    if seed_words is not None:
        if method != "nmf":
            raise ValueError("seed_words works with method='nmf' only")
        if dtype == "float32":
            raise ValueError("dtype='float32' does not apply to seeded NMF (float64 only)")
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
    n_top_terms = check_positive_int(n_top_terms, "n_top_terms")
    resolved = resolve_dtype(dtype, matrix.shape[0], method)
    estimator, weights = _fit_matrix(
        matrix, method, int(k), random_state, max_iter, kwargs, cache=cache, dtype=resolved
    )
    return _assemble(
        features,
        estimator,
        weights,
        matrix,
        method,
        int(random_state),
        int(n_top_terms),
        dtype=resolved,
    )
