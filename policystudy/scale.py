"""Beyond one machine: tokenization and term counts on Dask, streamed topic models.

* :func:`tokenize_dask` runs :class:`~policystudy.tokens.Tokenizer` over the
  partitions of a (Dask or pandas) units table, on a local or remote Dask
  cluster. The tokens are identical to ``tokenize(units, cache=False)``: the
  tokenizer is pickled to the workers and each worker process builds its
  segmenter once (the segmenter registry in :mod:`policystudy.tokens`).
* :func:`count_terms_dask` counts, per term, the units it occurs in (``df``) and
  its occurrences (``tf``), partition by partition, and sums the partial counts.
* :func:`fit_topics_minibatch` fits scikit-learn's
  :class:`~sklearn.decomposition.MiniBatchNMF` with ``partial_fit`` on chunks of
  rows, so the TF-IDF matrix never has to be in memory at once.
* :func:`topic_agreement` compares two fitted topic solutions by their top terms
  (Hungarian matching, :func:`policystudy.topics.match_topics`).

Dask is optional: install it with the ``dask`` extra
(``pip install "policystudy[dask]"``). To use a cluster, connect a client first::

    from dask.distributed import Client
    client = Client("tcp://scheduler:8786")
    tokens = tokenize_dask(units_ddf, client=client)

The workers need policystudy installed (same version: the tokenizer settings,
lexicon and stopwords travel with the pickled tokenizer, the code does not).
"""

from __future__ import annotations

import importlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from policystudy.tokens import Tokenizer

__all__ = [
    "MiniBatchTopics",
    "count_terms_dask",
    "fit_topics_minibatch",
    "tokenize_dask",
    "topic_agreement",
]

_DASK_HINT = 'the Dask route needs dask[dataframe] and distributed: pip install "policystudy[dask]"'


def _dask_dataframe():
    """Import ``dask.dataframe`` or raise an ImportError naming the extra."""
    try:
        return importlib.import_module("dask.dataframe")
    except ImportError as err:
        raise ImportError(f"{_DASK_HINT} ({err})") from err


def _is_dask_frame(obj: Any) -> bool:
    # Checked by module name so that pandas input never imports dask needlessly.
    return type(obj).__module__.split(".")[0] == "dask" and hasattr(obj, "map_partitions")


def _keep_dtypes():
    # Dask converts text columns to pyarrow strings by default; a pandas table
    # must come back with the dtypes it went in with.
    import dask

    return dask.config.set({"dataframe.convert-string": False})


def _from_pandas(dd: Any, frame: pd.DataFrame, npartitions: int) -> Any:
    with _keep_dtypes():
        return dd.from_pandas(frame, npartitions=npartitions, sort=False)


def _compute(collection: Any, client: Any = None) -> Any:
    if client is not None:
        return client.compute(collection).result()
    return collection.compute()


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


def _tokenize_partition(part: pd.DataFrame, tokenizer: Tokenizer, column: str) -> pd.DataFrame:
    texts = part[column].fillna("").astype(str).tolist()
    # Identical texts are segmented once per partition, as tokenize() does.
    done = {t: tokenizer(t) for t in dict.fromkeys(texts)}
    out = part.copy()
    out["tokens"] = [list(done[t]) for t in texts]
    out["n_tokens"] = out["tokens"].map(len).astype("int64")
    return out


def tokenize_dask(
    units: Any,
    tokenizer: Tokenizer | None = None,
    *,
    column: str = "text",
    npartitions: int | None = None,
    client: Any = None,
) -> Any:
    """Tokenize units on Dask; same tokens as ``tokenize(units, cache=False)``.

    Parameters
    ----------
    units : pandas.DataFrame or dask.dataframe.DataFrame
        Units table with a text column. Not modified.
    tokenizer : Tokenizer, optional
        Default ``Tokenizer()``. It is pickled to the workers; each worker
        process loads the segmentation dictionary once.
    column : str
        The text column.
    npartitions : int, optional
        For a pandas table: number of partitions (default: the client's number
        of worker threads, else 2 x the local cores). For a Dask table:
        repartition to this many first (default: keep its partitions).
    client : dask.distributed.Client, optional
        Run on this client's cluster (e.g. ``Client("tcp://scheduler:8786")``).
        Without one, Dask's current default scheduler is used (an active
        ``Client`` if there is one).

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        Same kind as ``units``: a pandas table is computed and returned with
        ``tokens`` (list of str) and ``n_tokens`` columns added, row for row
        equal to :func:`policystudy.tokenize` with ``cache=False``; a Dask table
        gives a lazy Dask table with those columns (call ``.compute()`` or feed
        it to :func:`count_terms_dask`). No token cache is used.

    Raises
    ------
    ImportError
        If Dask is not installed (names the ``policystudy[dask]`` extra).
    """
    dd = _dask_dataframe()
    tokenizer = tokenizer or Tokenizer()
    if not isinstance(tokenizer, Tokenizer):
        raise TypeError(f"tokenizer must be a policystudy Tokenizer, not {type(tokenizer)}")
    lazy = _is_dask_frame(units)
    if not lazy and not isinstance(units, pd.DataFrame):
        raise TypeError(f"units must be a pandas or dask DataFrame, not {type(units).__name__}")
    if column not in units.columns:
        raise ValueError(f"tokenize_dask: no column {column!r} in the units table")
    if lazy:
        frame = units if npartitions is None else units.repartition(npartitions=npartitions)
    else:
        if npartitions is None:
            npartitions = _default_partitions(client)
        npartitions = max(1, min(int(npartitions), len(units) or 1))
        frame = _from_pandas(dd, units, npartitions)
    meta = frame._meta.assign(
        tokens=pd.Series([], dtype=object), n_tokens=pd.Series([], dtype="int64")
    )
    result = frame.map_partitions(
        _tokenize_partition,
        tokenizer,
        column,
        meta=meta,
    )
    if lazy:
        return result
    with _keep_dtypes():
        out = _compute(result, client)
    out.attrs = {**units.attrs, "tokenizer": dict(tokenizer.settings), "cache_hits": 0}
    return out


def _default_partitions(client: Any) -> int:
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:
            pass
    import os

    return 2 * (os.cpu_count() or 1)


# --------------------------------------------------------------------------
# Term counts
# --------------------------------------------------------------------------

COUNT_COLUMNS = ("term", "df", "tf")


def _count_partition(part: pd.DataFrame, column: str) -> pd.DataFrame:
    tf: Counter[str] = Counter()
    df: Counter[str] = Counter()
    for tokens in part[column]:
        tokens = list(tokens)
        tf.update(tokens)
        df.update(set(tokens))
    terms = sorted(tf)
    return pd.DataFrame(
        {
            "term": pd.Series(terms, dtype=object),
            "df": np.array([df[t] for t in terms], dtype=np.int64),
            "tf": np.array([tf[t] for t in terms], dtype=np.int64),
        }
    )


def count_terms_dask(
    tokens: Any,
    vocabulary: Iterable[str] | None = None,
    *,
    column: str = "tokens",
    npartitions: int | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Document and term frequency of every term, counted on Dask.

    Parameters
    ----------
    tokens : dask.dataframe.DataFrame or pandas.DataFrame
        A tokenized table (:func:`tokenize_dask` or :func:`policystudy.tokenize`).
    vocabulary : iterable of str, optional
        Report exactly these terms, in this order (zeros for absent ones).
        Default: every term that occurs, sorted.
    column : str
        The token-list column.
    npartitions : int, optional
        Partitions for a pandas input (default as in :func:`tokenize_dask`).
    client : dask.distributed.Client, optional
        Run on this client's cluster.

    Returns
    -------
    pandas.DataFrame
        ``term`` (str), ``df`` (int: units containing the term, as
        ``CountVectorizer``'s document frequency with one unit per document),
        ``tf`` (int: occurrences over all units).
    """
    dd = _dask_dataframe()
    if not _is_dask_frame(tokens):
        if not isinstance(tokens, pd.DataFrame):
            raise TypeError(
                f"tokens must be a pandas or dask DataFrame, not {type(tokens).__name__}"
            )
        n = npartitions or _default_partitions(client)
        tokens = _from_pandas(dd, tokens, max(1, min(n, len(tokens) or 1)))
    if column not in tokens.columns:
        raise ValueError(f"count_terms_dask: no column {column!r} in the tokens table")
    meta = pd.DataFrame(
        {
            "term": pd.Series([], dtype=object),
            "df": pd.Series([], dtype="int64"),
            "tf": pd.Series([], dtype="int64"),
        }
    )
    partial = tokens.map_partitions(_count_partition, column, meta=meta)
    totals = _compute(partial.groupby("term").sum(), client)
    totals.index = totals.index.astype(str)
    if vocabulary is None:
        totals = totals.sort_index()
    else:
        terms = [str(t) for t in vocabulary]
        if len(set(terms)) != len(terms):
            raise ValueError("count_terms_dask: the vocabulary has duplicate terms")
        totals = totals.reindex(terms, fill_value=0)
    out = pd.DataFrame(
        {
            "term": totals.index.to_numpy(dtype=object).astype(str),
            "df": totals["df"].to_numpy(dtype=np.int64),
            "tf": totals["tf"].to_numpy(dtype=np.int64),
        }
    )
    return out


# --------------------------------------------------------------------------
# Streamed topic models
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class MiniBatchTopics:
    """Result of :func:`fit_topics_minibatch`.

    Attributes
    ----------
    k : int
        Number of topics.
    components_ : numpy.ndarray, shape (k, n_terms)
        Topic-term loadings.
    weights_ : numpy.ndarray, shape (n_units, k)
        Raw unit-topic weights (``model_.transform`` of every chunk, in input
        order).
    doc_topic_ : numpy.ndarray, shape (n_units, k)
        ``weights_`` normalised to shares per unit (all-zero rows stay zero).
    vocabulary_ : numpy.ndarray of str or None
        Terms in column order (from a Features input, or passed explicitly).
    model_ : sklearn.decomposition.MiniBatchNMF
        The fitted estimator.
    params : dict
        Arguments of the fit (batch_size, n_epochs, random_state, shuffle ...).
    """

    k: int
    components_: np.ndarray
    weights_: np.ndarray
    doc_topic_: np.ndarray
    vocabulary_: np.ndarray | None
    model_: Any
    params: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"MiniBatchTopics(k={self.k}, n_units={self.weights_.shape[0]}, "
            f"n_terms={self.components_.shape[1]}, batch_size={self.params.get('batch_size')})"
        )


def _row_chunks(matrix: Any, batch_size: int, order: np.ndarray) -> Iterable[Any]:
    for start in range(0, len(order), batch_size):
        yield matrix[order[start : start + batch_size]]


def fit_topics_minibatch(
    data: Any,
    k: int = 8,
    *,
    batch_size: int = 1024,
    n_epochs: int = 10,
    random_state: int = 0,
    shuffle: bool = True,
    vocabulary: Sequence[str] | None = None,
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
        Terms in column order (taken from Features when not given).
    **kwargs
        Further :class:`~sklearn.decomposition.MiniBatchNMF` parameters
        (default ``init="nndsvda"``, ``beta_loss="frobenius"``).

    Returns
    -------
    MiniBatchTopics
    """
    from sklearn.decomposition import MiniBatchNMF
    from threadpoolctl import threadpool_limits

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    if batch_size < 1 or n_epochs < 1:
        raise ValueError("batch_size and n_epochs must be >= 1")
    if hasattr(data, "tfidf") and hasattr(data, "vocabulary"):
        if vocabulary is None:
            vocabulary = data.vocabulary
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
        parts = [np.asarray(model.transform(c), dtype=np.float64) for c in final if c.shape[0]]
    weights = np.vstack(parts) if parts else np.zeros((0, int(k)))
    totals = weights.sum(axis=1, keepdims=True)
    shares = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    components = np.asarray(model.components_, dtype=np.float64)
    if vocabulary is not None:
        vocabulary = np.asarray(vocabulary, dtype=str)
        if len(vocabulary) != components.shape[1]:
            raise ValueError(
                f"vocabulary has {len(vocabulary)} terms but the data {components.shape[1]} columns"
            )
    return MiniBatchTopics(
        k=int(k),
        components_=components,
        weights_=weights,
        doc_topic_=shares,
        vocabulary_=vocabulary,
        model_=model,
        params={
            "batch_size": batch_size,
            "n_epochs": n_epochs,
            "random_state": random_state,
            "shuffle": shuffle,
            **params,
        },
    )


@dataclass(frozen=True)
class _Solution:
    # What policystudy.topics.match_topics reads from a model.
    components_: np.ndarray
    vocabulary_: np.ndarray


def topic_agreement(
    components_a: Any,
    components_b: Any,
    vocabulary: Sequence[str] | None = None,
    n_top: int = 10,
    *,
    return_pairs: bool = False,
) -> float | tuple[float, pd.DataFrame]:
    """Mean top-term Jaccard similarity of two topic solutions after matching.

    Topics are paired one-to-one to maximise the total Jaccard similarity of
    their ``n_top`` top-term sets (Hungarian algorithm), with
    :func:`policystudy.topics.match_topics`.

    Parameters
    ----------
    components_a, components_b : ndarray (k, n_terms) or fitted model
        Topic-term matrices over the same columns, or objects with a
        ``components_`` attribute (TopicModel, MiniBatchTopics).
    vocabulary : sequence of str, optional
        Terms in column order (default: the models' ``vocabulary_``, else the
        column numbers).
    n_top : int
        Top terms per topic.
    return_pairs : bool
        Also return the pairing table (``topic_a``, ``topic_b``, ``jaccard``).

    Returns
    -------
    float, or (float, pandas.DataFrame)
        Mean Jaccard over matched pairs: 1.0 for identical top-term sets.
    """
    from policystudy.topics import match_topics

    a = np.asarray(getattr(components_a, "components_", components_a), dtype=np.float64)
    b = np.asarray(getattr(components_b, "components_", components_b), dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"topic_agreement: component matrices must share their columns ({a.shape} vs {b.shape})"
        )
    if vocabulary is None:
        vocabulary = getattr(components_a, "vocabulary_", None)
    if vocabulary is None:
        vocabulary = np.arange(a.shape[1]).astype(str)
    vocabulary = np.asarray(vocabulary)
    if len(vocabulary) != a.shape[1]:
        raise ValueError(
            f"topic_agreement: vocabulary has {len(vocabulary)} terms for {a.shape[1]} columns"
        )
    pairs = match_topics(_Solution(a, vocabulary), _Solution(b, vocabulary), n_top_terms=n_top)
    value = float(pairs["jaccard"].mean())
    return (value, pairs) if return_pairs else value
