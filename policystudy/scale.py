"""Beyond one machine: tokenization and term counts on Dask.

* :func:`tokenize_dask` runs :class:`~policystudy.tokens.Tokenizer` over the
  partitions of a (Dask or pandas) units table, on a local or remote Dask
  cluster. The tokens are identical to ``tokenize(units, cache=False)``: the
  tokenizer is pickled to the workers and each worker process builds its
  segmenter once (the segmenter registry in :mod:`policystudy.tokens`).
* :func:`count_terms_dask` counts, per term, the units it occurs in (``df``) and
  its occurrences (``tf``), partition by partition, and sums the partial counts.

Streamed topic models (:func:`policystudy.topics.fit_topics_minibatch`) and the
comparison of two solutions (:func:`policystudy.topics.topic_agreement`) do not
run on Dask and live in :mod:`policystudy.topics`; ``policystudy.scale.<name>``
still finds them, with a DeprecationWarning.

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
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from policystudy._validation import require_columns
from policystudy.tokens import Tokenizer

__all__ = ["count_terms_dask", "tokenize_dask"]

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
    require_columns(units, [column], "tokenize_dask: the units table")
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
    require_columns(tokens, [column], "count_terms_dask: the tokens table")
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
# Names that moved to policystudy.topics
# --------------------------------------------------------------------------

#: Old name -> its home since the topics fits and checks were gathered in
#: :mod:`policystudy.topics` (neither runs on Dask).
_MOVED = {
    "fit_topics_minibatch": "policystudy.topics.fit_topics_minibatch",
    "topic_agreement": "policystudy.topics.topic_agreement",
    "MiniBatchTopics": "policystudy.topics.MiniBatchTopics",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import warnings

        import policystudy.topics

        warnings.warn(
            f"policystudy.scale.{name} is deprecated; use {_MOVED[name]}",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(policystudy.topics, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
