"""The fitted topic model and the tables built from an estimator's output.

:class:`TopicModel` is what every fit of :mod:`policystudy.topics` returns
(:func:`~policystudy.topics.fit_topics`, seeded NMF and
:func:`~policystudy.topics.fit_topics_minibatch`); :func:`assemble` turns a
fitted estimator and its unit-topic weights into one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.preprocessing import normalize

from policystudy._validation import check_positive_int
from policystudy.features import Features

__all__ = ["TopicModel"]

_NO_TOPIC_LABEL = "(no topic)"


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
    dtype_ : {"float64", "float32"}
        Precision the model was fitted in (``fit_topics(dtype=...)``, resolved).
        ``components_`` and ``doc_topic_`` are float64 either way; after a
        float32 fit, ``model_`` holds float32 arrays.
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
    # Keyword-only, so that subclasses may add fields without defaults.
    dtype_: str = field(default="float64", kw_only=True)

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
        order = _top_indices(self.components_, check_positive_int(n, "n"))
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


def _check_model(model: TopicModel) -> None:
    if not isinstance(model, TopicModel):
        raise TypeError(
            f"expected a fitted TopicModel (from fit_topics), got {type(model).__name__}"
        )


def _shares(weights: np.ndarray, has_terms: np.ndarray) -> np.ndarray:
    """Normalise rows to sum 1 (L1); units without any term or weight stay all-zero.

    A row whose total is below scikit-learn's zero threshold (10 machine epsilons,
    which :func:`~sklearn.preprocessing.normalize` leaves undivided) counts as no
    weight, so that every row is either shares summing to 1 or zeros.
    """
    totals = weights.sum(axis=1)
    ok = (totals >= 10 * np.finfo(np.float64).eps) & has_terms
    shares = normalize(weights, norm="l1")
    shares[~ok] = 0.0
    return shares


def _topic_terms(components: np.ndarray, vocabulary: np.ndarray, n: int) -> pd.DataFrame:
    normalised = normalize(components, norm="l1")
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


def _assemble(
    features: Features,
    estimator: Any,
    weights: np.ndarray,
    matrix: sp.csr_matrix,
    method: str,
    random_state: int,
    n_top_terms: int,
    dtype: str = "float64",
) -> TopicModel:
    """The :class:`TopicModel` of a fitted estimator on ``matrix`` (rows: ``features.units``).

    ``dtype`` is the precision of the fit; components and weights become float64.
    """
    return _assemble_parts(
        features.units,
        np.asarray(features.vocabulary),
        np.asarray(estimator.components_, dtype=np.float64),
        weights,
        np.diff(sp.csr_matrix(matrix).indptr) > 0,
        method=method,
        random_state=random_state,
        n_top_terms=n_top_terms,
        params=estimator.get_params(),
        estimator=estimator,
        dtype=dtype,
    )


def _assemble_parts(
    units: pd.DataFrame,
    vocabulary: np.ndarray,
    components: np.ndarray,
    weights: np.ndarray,
    has_terms: np.ndarray,
    *,
    method: str,
    random_state: int,
    n_top_terms: int,
    params: dict[str, Any],
    estimator: Any,
    dtype: str = "float64",
) -> TopicModel:
    k = components.shape[0]
    shares = _shares(weights, has_terms)
    has_topic = shares.sum(axis=1) > 0
    dominant = np.where(has_topic, shares.argmax(axis=1), -1)
    dominant_share = np.where(has_topic, shares.max(axis=1), 0.0)
    labels = _auto_labels(components, vocabulary)

    unit_topics = units.copy()
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
        params=params,
        model_=estimator,
        components_=components,
        doc_topic_=shares,
        vocabulary_=vocabulary,
        topic_terms_=_topic_terms(components, vocabulary, n_top_terms),
        unit_topics_=unit_topics,
        labels_=labels,
        n_top_terms=n_top_terms,
        dtype_=dtype,
    )
