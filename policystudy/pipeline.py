"""One entry point for the stages up to the features: :func:`prepare`.

::

    prepared = ps.prepare("my_corpus/", params=ps.PipelineParams(min_df=3))
    prepared.documents   # load_corpus
    prepared.units       # split_units
    prepared.tokens      # tokenize, with the lexicon lexicon_for chooses
    prepared.features    # build_features

Every choice that shapes the result is a field of one frozen, hashable
:class:`PipelineParams`, so that the command line, the study runner and a
notebook given the same parameters produce the same features. Each stage is
computed when first asked for and kept: checking a grouping column on the
documents costs no tokenizing.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import pandas as pd

    from policystudy.features import Features

__all__ = ["PipelineParams", "Prepared", "prepare"]


@dataclass(frozen=True)
class PipelineParams:
    """Every parameter of the stages load -> units -> tokens -> features.

    Frozen and hashable: equal parameters are equal keys (a stage cache keys on
    them). The defaults are those of the stage functions, so
    ``PipelineParams()`` is the published pipeline.

    Parameters
    ----------
    text_column : str, default "text"
        Text column of a table source (:func:`policystudy.load_corpus`).
    id_column : str or None, default "doc_id"
        Document id column of a table source.
    encoding : str or None, default None
        Decode every file with this encoding (default: detected per file).
    errors : {"raise", "skip"}, default "raise"
        ``"skip"``: leave out undecodable, empty or non-Chinese files with a
        warning instead of failing.
    lexicon : tuple of str, default ()
        Further lexicons (text files, ``terms.csv`` tables or single terms)
        added to the base :func:`policystudy.tokens.lexicon_for` chooses for the
        corpus: the published lexicon for the unchanged bundled corpus without
        extra lexicons, else the current default.
    min_df, max_df : int or float, default 2 and 0.5
        Document-frequency bounds of the vocabulary
        (:func:`policystudy.build_features`; an int counts units, a float is a
        proportion).
    sublinear_tf : bool, default True
    include_headings : bool, default False
    include_back_matter : bool, default False
    max_features : int or None, default None
    norm : {"l2", "l1"} or None, default "l2"
    drop_empty : bool, default True
        As in :func:`policystudy.build_features`.
    """

    text_column: str = "text"
    id_column: str | None = "doc_id"
    encoding: str | None = None
    errors: Literal["raise", "skip"] = "raise"
    lexicon: tuple[str, ...] = ()
    min_df: int | float = 2
    max_df: int | float = 0.5
    sublinear_tf: bool = True
    include_headings: bool = False
    include_back_matter: bool = False
    max_features: int | None = None
    norm: Literal["l1", "l2"] | None = "l2"
    drop_empty: bool = True

    def __post_init__(self) -> None:
        # A list of lexicons would make the parameters unhashable; paths become text.
        if isinstance(self.lexicon, (str, os.PathLike)):
            raise TypeError("lexicon must be a sequence of lexicons, not one path or term")
        object.__setattr__(self, "lexicon", tuple(str(x) for x in self.lexicon))
        if self.errors not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', got {self.errors!r}")

    def load_kwargs(self) -> dict[str, Any]:
        """Arguments of :func:`policystudy.load_corpus`."""
        return {
            "text_column": self.text_column,
            "id_column": self.id_column,
            "encoding": self.encoding,
            "errors": self.errors,
        }

    def features_kwargs(self) -> dict[str, Any]:
        """Arguments of :func:`policystudy.build_features`."""
        names = (
            "min_df",
            "max_df",
            "sublinear_tf",
            "include_headings",
            "include_back_matter",
            "max_features",
            "norm",
            "drop_empty",
        )
        values = asdict(self)
        return {name: values[name] for name in names}


class Prepared:
    """The stages of one corpus under one set of :class:`PipelineParams`.

    Returned by :func:`prepare`. ``documents`` are loaded at once; ``units``,
    ``tokens``, ``features`` and ``lexicon`` are computed on first access and
    kept.

    Attributes
    ----------
    source : path or None
        The corpus (None: the bundled corpus).
    params : PipelineParams
    documents : pandas.DataFrame
        :func:`policystudy.load_corpus`.
    """

    def __init__(
        self,
        source: str | os.PathLike[str] | None,
        documents: pd.DataFrame,
        params: PipelineParams,
        *,
        n_jobs: int,
        cache: bool,
        stages: Any = None,
    ) -> None:
        self.source = source
        self.documents = documents
        self.params = params
        self._n_jobs = n_jobs
        self._cache = cache
        # Units read back with the documents from the stage cache, and their key.
        self._units_key = None
        if stages is not None:
            self.__dict__["units"] = stages.units
            self._units_key = stages.key

    def __repr__(self) -> str:
        done = [name for name in ("units", "tokens", "features") if name in self.__dict__]
        return (
            f"Prepared(source={self.source!r}, n_documents={len(self.documents)}, "
            f"computed={done}, params={self.params!r})"
        )

    @cached_property
    def lexicon(self) -> list:
        """The lexicon specification: :func:`policystudy.tokens.lexicon_for` of the documents."""
        from policystudy.tokens import lexicon_for

        return lexicon_for(self.params.lexicon, docs=self.documents)

    @cached_property
    def units(self) -> pd.DataFrame:
        """:func:`policystudy.split_units` of the documents."""
        from policystudy.units import split_units

        return split_units(self.documents)

    @cached_property
    def tokens(self) -> pd.DataFrame:
        """:func:`policystudy.tokenize` of the units, with :attr:`lexicon`."""
        from policystudy.tokens import Tokenizer, tokenize

        return tokenize(
            self.units, Tokenizer(lexicon=self.lexicon), n_jobs=self._n_jobs, cache=self._cache
        )

    @cached_property
    def features(self) -> Features:
        """:func:`policystudy.build_features` of the tokens.

        With the cache on, the feature matrix of these units and parameters is read
        back from the stage cache when present (:mod:`policystudy.stage_cache`),
        without tokenizing again; the result is the same either way.
        """
        from policystudy.features import build_features

        if not self._cache or "tokens" in self.__dict__:
            return build_features(self.tokens, **self.params.features_kwargs())
        from policystudy.stage_cache import build_features_cached
        from policystudy.tokens import Tokenizer

        return build_features_cached(
            self.units,
            Tokenizer(lexicon=self.lexicon),
            units_key=self._units_key,
            n_jobs=self._n_jobs,
            cache=True,
            token_cache=True,
            **self.params.features_kwargs(),
        )


def prepare(
    source: str | os.PathLike[str] | None = None,
    *,
    params: PipelineParams | None = None,
    n_jobs: int = 1,
    cache: bool = True,
) -> Prepared:
    """Load a corpus and prepare its units, tokens and features on demand.

    Parameters
    ----------
    source : path, optional
        What :func:`policystudy.load_corpus` accepts (default: the bundled corpus).
    params : PipelineParams, optional
        Every parameter of the stages (default: ``PipelineParams()``).
    n_jobs : int, default 1
        Tokenization processes.
    cache : bool, default True
        Use the stage cache (documents, units, feature matrix) and the token
        cache. ``n_jobs`` and ``cache`` change how the stages are computed, never
        what they are, so they are not part of ``params``.

    Returns
    -------
    Prepared
        ``documents`` loaded; ``units``, ``tokens`` and ``features`` computed
        when first used.
    """
    from policystudy.load import load_corpus

    params = PipelineParams() if params is None else params
    if not isinstance(params, PipelineParams):
        raise TypeError(f"params must be a PipelineParams, got {type(params).__name__}")
    if not cache:
        documents = load_corpus(source, **params.load_kwargs())
        return Prepared(source, documents, params, n_jobs=n_jobs, cache=cache)
    # Documents and units come back from the stage cache on a rerun (keyed by the
    # input bytes and every parameter that shapes them).
    from policystudy.stage_cache import load_units

    stages = load_units(source, cache=True, **params.load_kwargs())
    return Prepared(source, stages.docs, params, n_jobs=n_jobs, cache=cache, stages=stages)
