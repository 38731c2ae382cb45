"""Streamed topic models: NMF fitted from chunks of rows with ``MiniBatchNMF.partial_fit``.

The TF-IDF matrix never has to be in memory at once; the result is a
:class:`~policystudy.topics.TopicModel` like :func:`~policystudy.topics.fit_topics`
returns, so prevalence, plots and the checks of :mod:`policystudy.topics` take it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from policystudy._validation import check_positive_int
from policystudy.features import Features
from policystudy.topics._model import TopicModel, _assemble_parts

__all__ = ["MiniBatchTopics", "fit_topics_minibatch"]

#: ``TopicModel.method`` of a streamed fit.
MINIBATCH_METHOD = "minibatch_nmf"


@dataclass(frozen=True, eq=False, repr=False)
class MiniBatchTopics(TopicModel):
    """Result of :func:`fit_topics_minibatch`: a :class:`TopicModel` plus the raw weights.

    Every attribute of :class:`TopicModel` (``method`` is ``"minibatch_nmf"``,
    ``model_`` the fitted :class:`~sklearn.decomposition.MiniBatchNMF`,
    ``params`` the arguments of the fit), and:

    Attributes
    ----------
    weights_ : numpy.ndarray, shape (n_units, k)
        Raw unit-topic weights (``model_.transform`` of every chunk, in input
        order); ``doc_topic_`` is their shares per unit.
    """

    weights_: np.ndarray

    def __repr__(self) -> str:
        return (
            f"MiniBatchTopics(k={self.k}, n_units={self.weights_.shape[0]}, "
            f"n_terms={self.components_.shape[1]}, batch_size={self.params.get('batch_size')})"
        )


def _row_chunks(matrix: Any, batch_size: int, order: np.ndarray) -> Iterable[Any]:
    for start in range(0, len(order), batch_size):
        yield matrix[order[start : start + batch_size]]


def _has_terms(chunk: Any) -> np.ndarray:
    if sp.issparse(chunk):
        return np.asarray(sp.csr_matrix(chunk).getnnz(axis=1) > 0)
    return np.asarray(chunk != 0).any(axis=1)


def fit_topics_minibatch(
    data: Features | Any,
    k: int = 8,
    *,
    batch_size: int = 1024,
    n_epochs: int = 10,
    random_state: int = 0,
    shuffle: bool = True,
    vocabulary: Sequence[str] | None = None,
    units: pd.DataFrame | None = None,
    n_top_terms: int = 10,
    **kwargs: Any,
) -> MiniBatchTopics:
    """Fit NMF topics from chunks of rows with ``MiniBatchNMF.partial_fit``.

    Parameters
    ----------
    data : Features, sparse matrix, ndarray, list of chunks, or callable
        ``Features`` (its ``tfidf`` is used, like ``fit_topics(method="nmf")``);
        a unit x term matrix; a list of row chunks (matrices with the same
        columns); or a callable returning a fresh iterable of row chunks (to
        stream from disk: it is called once per epoch and once more to
        compute the weights). A one-shot iterator is refused because the data
        must be read ``n_epochs + 1`` times.
    k : int
        Number of topics.
    batch_size : int
        Rows per ``partial_fit`` call for a matrix or Features input (chunk
        inputs are used as given).
    n_epochs : int
        Passes over the data.
    random_state : int
        Seed of the initialisation and of the row order.
    shuffle : bool
        For a matrix or Features input: visit the rows in a new random order
        each epoch (units come grouped by document; in document order the last
        documents would weigh most).
    vocabulary : sequence of str, optional
        Terms in column order (taken from Features when not given; else the
        column numbers).
    units : pandas.DataFrame, optional
        One row per row of the data, in order: the unit metadata of
        ``unit_topics_`` (taken from Features when not given; else a table with
        only the row number ``row``). Give it, with ``doc_id`` and a grouping
        column, to pass the model to :func:`policystudy.compare.prevalence`.
    n_top_terms : int, default 10
        Terms per topic kept in ``topic_terms_``.
    **kwargs
        Further :class:`~sklearn.decomposition.MiniBatchNMF` parameters
        (default ``init="nndsvda"``, ``beta_loss="frobenius"``).

    Returns
    -------
    MiniBatchTopics
        A :class:`~policystudy.topics.TopicModel` with ``weights_``.
    """
    from sklearn.decomposition import MiniBatchNMF
    from threadpoolctl import threadpool_limits

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    batch_size = check_positive_int(batch_size, "batch_size")
    n_epochs = check_positive_int(n_epochs, "n_epochs")
    n_top_terms = check_positive_int(n_top_terms, "n_top_terms")
    if isinstance(data, Features):
        if vocabulary is None:
            vocabulary = data.vocabulary
        if units is None:
            units = data.units
        data = data.tfidf

    rng = np.random.default_rng(random_state)
    if callable(data):
        chunks: Callable[[int], Iterable[Any]] = lambda epoch: data()  # noqa: E731
        from_matrix = False
    elif isinstance(data, (list, tuple)):
        chunks = lambda epoch: iter(data)  # noqa: E731
        from_matrix = False
    elif hasattr(data, "shape") and len(getattr(data, "shape", ())) == 2:
        n_rows = data.shape[0]
        if hasattr(data, "tocsr"):
            data = data.tocsr()
        orders = [
            rng.permutation(n_rows) if shuffle else np.arange(n_rows) for _ in range(n_epochs)
        ]
        chunks = lambda epoch: _row_chunks(data, batch_size, orders[epoch])  # noqa: E731
        from_matrix = True
    else:
        raise TypeError(
            "data must be Features, a 2-D matrix, a list of row chunks or a callable "
            "returning an iterable of chunks (a one-shot iterator cannot be read "
            f"{n_epochs + 1} times); got {type(data).__name__}"
        )

    params = {"init": "nndsvda", "beta_loss": "frobenius", **kwargs}
    model = MiniBatchNMF(
        n_components=int(k), batch_size=batch_size, random_state=random_state, **params
    )
    with threadpool_limits(limits=1):
        for epoch in range(n_epochs):
            for chunk in chunks(epoch):
                if chunk.shape[0]:
                    model.partial_fit(chunk)
        final = (
            _row_chunks(data, batch_size, np.arange(data.shape[0]))
            if from_matrix
            else chunks(n_epochs)
        )
        parts, has_terms = [], []
        for chunk in final:
            if chunk.shape[0]:
                parts.append(np.asarray(model.transform(chunk), dtype=np.float64))
                has_terms.append(_has_terms(chunk))
    weights = np.vstack(parts) if parts else np.zeros((0, int(k)))
    components = np.asarray(model.components_, dtype=np.float64)
    if vocabulary is None:
        vocabulary = np.arange(components.shape[1]).astype(str)
    vocabulary = np.asarray(vocabulary, dtype=str)
    if len(vocabulary) != components.shape[1]:
        raise ValueError(
            f"vocabulary has {len(vocabulary)} terms but the data {components.shape[1]} columns"
        )
    if units is None:
        units = pd.DataFrame({"row": np.arange(len(weights), dtype=np.int64)})
    elif len(units) != len(weights):
        raise ValueError(f"units has {len(units)} rows but the data {len(weights)}")
    base = _assemble_parts(
        units.reset_index(drop=True),
        vocabulary,
        components,
        weights,
        np.concatenate(has_terms) if has_terms else np.zeros(0, dtype=bool),
        method=MINIBATCH_METHOD,
        random_state=int(random_state),
        n_top_terms=n_top_terms,
        params={
            "batch_size": batch_size,
            "n_epochs": n_epochs,
            "random_state": random_state,
            "shuffle": shuffle,
            **params,
        },
        estimator=model,
    )
    return MiniBatchTopics(
        **{name: getattr(base, name) for name in TopicModel.__dataclass_fields__},
        weights_=weights,
    )
