"""Document-term matrices built from already tokenized units.

:func:`build_features` turns the table returned by :func:`policystudy.tokenize`
into a unit x term count matrix and the matching TF-IDF matrix. Tokens are
never recomputed here: scikit-learn's vectorizers receive the token lists
through an identity analyzer, so the segmentation, lexicon and stopword
choices made in ``tokenize`` are the only ones that shape the vocabulary.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.feature_extraction.text import (
    CountVectorizer,
    TfidfTransformer,
    TfidfVectorizer,
)

from policystudy._validation import MissingColumnError, require_columns
from policystudy.schema import BACK_MATTER_KINDS

__all__ = [
    "SMALL_CORPUS_UNITS",
    "Features",
    "build_features",
    "document_frequency_bounds",
    "identity_analyzer",
]

# Dense tables beyond this many cells are refused by Features.to_frame.
_MAX_DENSE_CELLS = 50_000_000
#: Below this many units an integer ``min_df`` above 1 is lowered to 1: in a
#: corpus this small most terms occur in one unit, and requiring two would
#: leave too few terms to model (or none).
SMALL_CORPUS_UNITS = 30


def identity_analyzer(tokens: Sequence[str]) -> list[str]:
    """Return pre-tokenized input unchanged (the vectorizers' analyzer).

    A named module-level function rather than a lambda, so that fitted
    vectorizers and :class:`Features` objects can be pickled (joblib,
    multiprocessing, caching).
    """
    return list(tokens)


@dataclass(frozen=True, eq=False, repr=False)
class Features:
    """Unit x term matrices sharing one vocabulary.

    Row ``i`` of :attr:`counts` and :attr:`tfidf` is row ``i`` of
    :attr:`units`; column ``j`` is term ``vocabulary[j]``.

    Attributes
    ----------
    units : pandas.DataFrame
        Unit metadata (every column of the tokenized table except ``tokens``)
        for the kept units, index reset to ``0..n-1``, plus ``n_vocab_tokens``:
        the number of the unit's tokens that are in the vocabulary.
    counts : scipy.sparse.csr_matrix of int64
        Raw term counts.
    tfidf : scipy.sparse.csr_matrix of float64
        TF-IDF weights derived from :attr:`counts` by
        :class:`~sklearn.feature_extraction.text.TfidfTransformer`.
    vocabulary : numpy.ndarray of str
        Terms in column order (sorted).
    params : dict
        The arguments of :func:`build_features` that produced this object.
    vectorizer_ : sklearn.feature_extraction.text.TfidfVectorizer
        Fitted on the kept units with this vocabulary and identity analyzer;
        ``vectorizer_.transform(list_of_token_lists)`` places new units in the
        same TF-IDF space (same idf weights).
    dropped_ : dict
        What the filters removed: ``n_input`` (units received), ``n_headings``
        (heading units excluded), ``n_empty`` (units left without any
        in-vocabulary token), ``n_kept``, and ``n_back_matter`` (back-matter units
        excluded) when there were any.
    dropped_units_ : pandas.DataFrame
        One row per removed unit: ``doc_id``, ``unit_id``, ``reason``
        (``"heading"``, ``"back_matter"`` or ``"empty"``), ``n_tokens`` (tokens before the
        vocabulary filter). Columns absent from the input are omitted.
    adjusted_ : dict
        Bounds degraded for a tiny corpus (see
        :func:`document_frequency_bounds`): ``{"min_df": {"requested": 2,
        "used": 1}}`` and the like; empty when the requested ones were used.
    """

    units: pd.DataFrame
    counts: sp.csr_matrix
    tfidf: sp.csr_matrix
    vocabulary: np.ndarray
    params: dict[str, Any]
    vectorizer_: TfidfVectorizer
    dropped_: dict[str, int] = field(default_factory=dict)
    dropped_units_: pd.DataFrame = field(default_factory=pd.DataFrame)
    adjusted_: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def n_units(self) -> int:
        """Number of rows (kept units)."""
        return int(self.counts.shape[0])

    @property
    def n_terms(self) -> int:
        """Number of columns (vocabulary size)."""
        return int(self.counts.shape[1])

    def __repr__(self) -> str:
        d = self.dropped_
        return (
            f"Features(n_units={self.n_units}, n_terms={self.n_terms}, "
            f"nnz={self.counts.nnz}, dropped_headings={d.get('n_headings', 0)}, "
            f"dropped_empty={d.get('n_empty', 0)}, min_df={self.params.get('min_df')!r}, "
            f"max_df={self.params.get('max_df')!r})"
        )

    def _matrix(self, kind: str) -> sp.csr_matrix:
        if kind == "counts":
            return self.counts
        if kind == "tfidf":
            return self.tfidf
        raise ValueError(f"kind must be 'counts' or 'tfidf', got {kind!r}")

    def to_frame(self, kind: Literal["tfidf", "counts"] = "tfidf") -> pd.DataFrame:
        """Return one matrix as a dense DataFrame (for small corpora).

        Parameters
        ----------
        kind : {"tfidf", "counts"}
            Which matrix to densify.

        Returns
        -------
        pandas.DataFrame
            Index ``unit_id`` (or the row number when the units have no
            ``unit_id`` column), columns the terms (column index named
            ``term``).
        """
        matrix = self._matrix(kind)
        n_cells = matrix.shape[0] * matrix.shape[1]
        if n_cells > _MAX_DENSE_CELLS:
            raise ValueError(
                f"to_frame would create {n_cells:,} cells; use the sparse "
                f"Features.{kind} matrix for a corpus this large"
            )
        if "unit_id" in self.units.columns:
            index = pd.Index(self.units["unit_id"], name="unit_id")
        else:
            index = pd.RangeIndex(self.n_units, name="row")
        columns = pd.Index(self.vocabulary, name="term")
        return pd.DataFrame(matrix.toarray(), index=index, columns=columns)

    def doc_term(
        self,
        by: str | Sequence[str] | pd.Series | np.ndarray = "doc_id",
        kind: Literal["counts", "tfidf"] = "counts",
        *,
        sparse: bool = False,
        dropna: bool = False,
    ) -> pd.DataFrame | tuple[sp.csr_matrix, pd.Index]:
        """Sum the unit rows within groups of units.

        The one grouping of the package: keyness, distinctive terms and
        similarity (:mod:`policystudy.compare`) all sum unit rows with it.

        Parameters
        ----------
        by : str, sequence of str, or array of keys, default "doc_id"
            Unit metadata column(s) defining the groups (e.g. ``"doc_id"``,
            ``"city"``, ``["doc_id", "section"]``), or one key per unit (a
            Series or array of length ``n_units``, in row order).
        kind : {"counts", "tfidf"}, default "counts"
            Matrix whose rows are summed. Summed counts are the group's term
            frequencies; summed TF-IDF rows are a sum of unit-normalised
            vectors (each unit contributes equally), not a TF-IDF of the group.
        sparse : bool, default False
            Return ``(csr_matrix, group_index)`` instead of a dense DataFrame.
        dropna : bool, default False
            Leave out units with a missing key instead of raising ValueError.

        Returns
        -------
        pandas.DataFrame or (scipy.sparse.csr_matrix, pandas.Index)
            One row per group, sorted by group label (one key: natural order,
            else by the keys' text); columns the terms.
        """
        matrix = self._matrix(kind)
        keys, name = self._group_keys(by)
        missing = keys.isna().any(axis=1).to_numpy()
        if missing.any() and not dropna:
            column = next(c for c in keys.columns if keys[c].isna().any())
            raise ValueError(
                f"doc_term: units column {column!r} has missing values; fill them before "
                "grouping (or pass dropna=True to leave those units out)"
            )
        rows = np.flatnonzero(~missing)
        if keys.shape[1] == 1:
            values = keys.iloc[rows, 0]
            index = pd.Index(_sorted_unique(values), name=name)
            codes = index.get_indexer(values.to_numpy())
        else:
            grouped = keys.iloc[rows].groupby(list(keys.columns), sort=True)
            codes = grouped.ngroup().to_numpy()
            # size() is indexed by the group labels in ngroup() order.
            index = grouped.size().index
        indicator = sp.csr_matrix(
            (np.ones(len(rows), dtype=matrix.dtype), (codes, rows)),
            shape=(len(index), self.n_units),
        )
        summed = (indicator @ matrix).tocsr()
        if sparse:
            return summed, index
        columns = pd.Index(self.vocabulary, name="term")
        return pd.DataFrame(summed.toarray(), index=index, columns=columns)

    def _group_keys(
        self, by: str | Sequence[str] | pd.Series | np.ndarray
    ) -> tuple[pd.DataFrame, Any]:
        """The key column(s) of ``by`` as a table aligned with the units, and the index name."""
        if isinstance(by, str) or (
            isinstance(by, Sequence) and by and all(isinstance(c, str) for c in by)
        ):
            columns = [by] if isinstance(by, str) else list(by)
            require_columns(self.units, columns, "doc_term: features.units")
            name = columns[0] if len(columns) == 1 else None
            return self.units[columns].reset_index(drop=True), name
        if isinstance(by, Sequence) and not len(by):
            raise ValueError("by must name at least one units column")
        values = pd.Series(by).reset_index(drop=True) if not isinstance(by, pd.Series) else by
        if len(values) != self.n_units:
            raise ValueError(f"doc_term: {len(values)} keys for {self.n_units} units")
        name = values.name
        return values.reset_index(drop=True).to_frame(name="key"), name


def _sorted_unique(values: pd.Series) -> list[Any]:
    """Unique non-missing values in a stable order (natural order, else by str)."""
    uniq = list(pd.unique(values.dropna()))
    try:
        return sorted(uniq)
    except TypeError:
        return sorted(uniq, key=str)


def _count(
    tokens: pd.Series, min_df: int | float, max_df: int | float, max_features: int | None
) -> tuple[CountVectorizer, sp.csr_matrix]:
    counter = CountVectorizer(
        analyzer=identity_analyzer,
        lowercase=False,
        token_pattern=None,
        min_df=min_df,
        max_df=max_df,
        max_features=max_features,
        dtype=np.int64,
    )
    return counter, counter.fit_transform(tokens).tocsr()


def _check_tokens(tokens: pd.DataFrame) -> None:
    if not isinstance(tokens, pd.DataFrame):
        raise TypeError(
            f"build_features expects the DataFrame returned by tokenize(), got "
            f"{type(tokens).__name__}"
        )
    if "tokens" not in tokens.columns:
        raise MissingColumnError(
            "build_features: column 'tokens' not found; pass the table returned "
            f"by policystudy.tokenize() (columns: {list(tokens.columns)})"
        )
    join = "".join  # accepts exactly iterables of str (subclasses included), in C
    for pos, value in enumerate(tokens["tokens"]):
        if isinstance(value, (list, tuple, np.ndarray)):
            try:
                join(value)
                continue
            except TypeError:
                pass
        if not isinstance(value, (list, tuple, np.ndarray)) or not all(
            isinstance(t, str) for t in value
        ):
            where = (
                f"unit_id {tokens['unit_id'].iloc[pos]!r}"
                if "unit_id" in tokens.columns
                else f"row {pos}"
            )
            raise ValueError(
                f"build_features: column 'tokens' at {where} is not a list of "
                f"str (got {type(value).__name__})"
            )


def document_frequency_bounds(
    n_units: int, min_df: int | float = 2, max_df: int | float = 0.5
) -> tuple[int | float, int | float, list[str]]:
    """The ``min_df`` and ``max_df`` used on a corpus of ``n_units`` units.

    The requested bounds, degraded for tiny corpora instead of failing:

    1. an integer ``min_df > 1`` becomes 1 when there are fewer than
       :data:`SMALL_CORPUS_UNITS` units;
    2. when ``max_df`` then allows fewer units than ``min_df`` requires
       (``max_df * n_units`` for a proportion, ``max_df`` for a count, below
       ``min_df``), ``max_df`` becomes 1.0 (no upper bound): an upper bound
       that excludes every term is no bound the user meant.

    :func:`build_features` applies a third step: if its vocabulary is empty
    and ``max_df`` is below 1.0, it is rebuilt with ``max_df=1.0``.

    Parameters
    ----------
    n_units : int
        Units the vocabulary is fitted on (after the heading filter).
    min_df, max_df : int or float
        As in :func:`build_features`.

    Returns
    -------
    (min_df, max_df, notes) : the bounds to use and one note per change
        (with the numbers), empty when nothing changed.
    """
    notes = []
    is_count = not isinstance(min_df, (bool, np.bool_)) and isinstance(min_df, (int, np.integer))
    if is_count and min_df > 1 and n_units < SMALL_CORPUS_UNITS:
        notes.append(
            f"min_df={min_df} lowered to 1: {n_units} units (fewer than {SMALL_CORPUS_UNITS})"
        )
        min_df = 1
    low = min_df if is_count else min_df * n_units
    max_is_count = isinstance(max_df, (int, np.integer)) and not isinstance(max_df, bool)
    high = max_df if max_is_count else max_df * n_units
    if high < low and low <= n_units:
        notes.append(
            f"max_df={max_df} raised to 1.0: it allows terms in at most {high:g} of "
            f"{n_units} units, fewer than min_df={min_df} requires"
        )
        max_df = 1.0
    return min_df, max_df, notes


def build_features(
    tokens: pd.DataFrame,
    *,
    min_df: int | float = 2,
    max_df: int | float = 0.5,
    sublinear_tf: bool = True,
    include_headings: bool = False,
    include_back_matter: bool = False,
    max_features: int | None = None,
    norm: Literal["l1", "l2"] | None = "l2",
    drop_empty: bool = True,
) -> Features:
    """Build unit x term count and TF-IDF matrices from tokenized units.

    Parameters
    ----------
    tokens : pandas.DataFrame
        Output of :func:`policystudy.tokenize`: a ``tokens`` column (list of
        str per unit) plus unit metadata. It is not modified.
    min_df : int or float, default 2
        Drop terms occurring in fewer units than this, with scikit-learn's
        semantics: an int is a number of units, a float in [0, 1] a proportion
        of units. The default 2 removes hapaxes, which cannot co-occur and
        only add noise to topics and similarities, while keeping the rare
        local terms (place names, slogans) that distinguish documents.
        On a tiny corpus both bounds degrade instead of failing, with a
        warning giving the numbers (:func:`document_frequency_bounds`; the
        values used are in ``params``, the changes in ``adjusted_``).
    max_df : int or float, default 0.5
        Drop terms occurring in more units than this (same semantics). The
        default 0.5 removes words present in over half of all units: in
        policy prose these are the boilerplate verbs and nouns (推进, 建设,
        ...) that survive stopword lists and would otherwise dominate every
        topic.
    sublinear_tf : bool, default True
        Use ``1 + log(tf)`` in TF-IDF so that a term repeated within one
        long unit does not outweigh its presence elsewhere.
    include_headings : bool, default False
        Keep heading units (``is_heading``). Headings are excluded by
        default because they repeat the content of their section in a few
        words and would double-count its terms.
    include_back_matter : bool, default False
        Keep back-matter units (``kind`` in
        :data:`policystudy.schema.BACK_MATTER_KINDS`: appendices, glossaries,
        notes; see :func:`policystudy.split_units`). They are excluded by default
        because a glossary or an attachment list is not the document's policy
        text; a table without a ``kind`` column has none.
    max_features : int or None, default None
        Keep only the most frequent terms (scikit-learn semantics).
    norm : {"l2", "l1"} or None, default "l2"
        Row normalisation of the TF-IDF matrix.
    drop_empty : bool, default True
        Drop units with no in-vocabulary token. Such rows carry no
        information for topics or similarities (their cosine similarity is
        undefined); set to False to keep them as all-zero rows.

    Returns
    -------
    Features
        See :class:`Features`. ``dropped_`` reports how many units each
        filter removed.

    Notes
    -----
    The vocabulary (min_df, max_df, max_features) is fitted once, with a
    :class:`~sklearn.feature_extraction.text.CountVectorizer`, on all units
    that survive the heading filter, so proportions refer to those units.
    Units that end up empty are removed afterwards; the idf weights are then
    computed by :class:`~sklearn.feature_extraction.text.TfidfTransformer`
    (smoothed idf) from the kept units' counts, so counts and TF-IDF share
    rows and columns exactly.
    """
    _check_tokens(tokens)
    params = {
        "min_df": min_df,
        "max_df": max_df,
        "sublinear_tf": sublinear_tf,
        "include_headings": include_headings,
        "include_back_matter": include_back_matter,
        "max_features": max_features,
        "norm": norm,
        "drop_empty": drop_empty,
    }
    table = tokens.reset_index(drop=True)
    n_input = len(table)

    if include_headings:
        heading_mask = np.zeros(n_input, dtype=bool)
    else:
        if "is_heading" not in table.columns:
            raise MissingColumnError(
                "build_features: column 'is_heading' not found; it is needed to "
                "exclude headings (pass include_headings=True to keep all units)"
            )
        heading_mask = table["is_heading"].fillna(False).to_numpy(dtype=bool)
    if include_back_matter or "kind" not in table.columns:
        back_mask = np.zeros(n_input, dtype=bool)
    else:
        back_mask = table["kind"].isin(BACK_MATTER_KINDS).to_numpy(dtype=bool) & ~heading_mask
    body = table.loc[~heading_mask & ~back_mask].reset_index(drop=True)
    if body.empty:
        raise ValueError("build_features: no units left after excluding headings")

    requested = (min_df, max_df)
    min_df, max_df, notes = document_frequency_bounds(len(body), min_df, max_df)
    try:
        counter, counts = _count(body["tokens"], min_df, max_df, max_features)
    except ValueError as exc:
        if "no terms remain" not in str(exc) or max_df == 1.0:
            raise ValueError(
                f"build_features(min_df={min_df!r}, max_df={max_df!r}) on {len(body)} units: {exc}"
            ) from exc
        notes.append(
            f"max_df={max_df} raised to 1.0: it left no term in the vocabulary of {len(body)} units"
        )
        max_df = 1.0
        counter, counts = _count(body["tokens"], min_df, max_df, max_features)
    if notes:
        warnings.warn("build_features: " + "; ".join(notes), UserWarning, stacklevel=2)
    params["min_df"], params["max_df"] = min_df, max_df
    vocabulary = counter.get_feature_names_out().astype(str)

    n_vocab_tokens = np.asarray(counts.sum(axis=1)).ravel()
    empty_mask = n_vocab_tokens == 0 if drop_empty else np.zeros(len(body), dtype=bool)
    if empty_mask.all():
        raise ValueError("build_features: every unit is empty after the vocabulary filter")
    keep = np.flatnonzero(~empty_mask)
    counts = counts[keep].tocsr()
    counts.sort_indices()

    transformer = TfidfTransformer(
        norm=norm, use_idf=True, smooth_idf=True, sublinear_tf=sublinear_tf
    )
    tfidf = transformer.fit_transform(counts).astype(np.float64).tocsr()
    tfidf.sort_indices()

    # The same columns and idf weights, for placing new units in this space.
    # Setting idf_ (scikit-learn's documented way to transfer it) avoids
    # counting every token a second time.
    vectorizer = TfidfVectorizer(
        analyzer=identity_analyzer,
        lowercase=False,
        token_pattern=None,
        vocabulary=list(vocabulary),
        norm=norm,
        use_idf=True,
        smooth_idf=True,
        sublinear_tf=sublinear_tf,
        dtype=np.float64,
    )
    vectorizer.idf_ = transformer.idf_

    units = body.iloc[keep].drop(columns=["tokens"]).reset_index(drop=True)
    units["n_vocab_tokens"] = n_vocab_tokens[keep].astype(np.int64)

    removed = pd.concat(
        [
            table.loc[heading_mask].assign(reason="heading"),
            table.loc[back_mask].assign(reason="back_matter"),
            body.loc[empty_mask].assign(reason="empty"),
        ],
        ignore_index=True,
    )
    removed_cols = [c for c in ("doc_id", "unit_id", "reason", "n_tokens") if c in removed.columns]
    if "n_tokens" not in removed.columns:
        removed["n_tokens"] = removed["tokens"].map(len).astype(np.int64)
        removed_cols.append("n_tokens")
    dropped_units = removed[removed_cols].reset_index(drop=True)

    dropped = {
        "n_input": int(n_input),
        "n_headings": int(heading_mask.sum()),
        "n_empty": int(empty_mask.sum()),
        "n_kept": int(len(keep)),
    }
    adjusted = {
        name: {"requested": was, "used": now}
        for name, was, now in (("min_df", requested[0], min_df), ("max_df", requested[1], max_df))
        if was != now
    }
    if back_mask.any():
        dropped["n_back_matter"] = int(back_mask.sum())
    return Features(
        adjusted_=adjusted,
        units=units,
        counts=counts,
        tfidf=tfidf,
        vocabulary=vocabulary,
        params=params,
        vectorizer_=vectorizer,
        dropped_=dropped,
        dropped_units_=dropped_units,
    )
