"""The published run: the corpus and parameters of the study's published findings.

The notebooks state findings about the bundled corpus (which topics are robust,
which k is steadiest, which city leads which theme). Those statements, and the
checks that assert them, hold for one run only: the bundled corpus as published
(identified by the SHA-256 of each document) and the parameters below. A
notebook asserts them only when :meth:`PublishedRun.matches` says it runs with
exactly these; on any other corpus or parameters it reports what it computed.

When a default of the package changes later, the published run stays
reproducible by passing these values explicitly (``PUBLISHED.k``,
``PUBLISHED.lexicon`` …).

>>> PUBLISHED.k, PUBLISHED.random_state, PUBLISHED.by
(8, 0, 'city')
>>> PUBLISHED.matches(None, k=8, random_state=0)
True
>>> PUBLISHED.matches(None, k=6)
False
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["PUBLISHED", "PublishedRun"]


@dataclass(frozen=True)
class PublishedRun:
    """The corpus and every parameter that shapes the published findings.

    Attributes
    ----------
    corpus_sha256 : mapping of str to str
        ``doc_id`` -> SHA-256 of the document's decoded text as UTF-8 (the
        ``sha256`` column of ``data/manifest.csv``).
    k : int
        Number of topics of the published model.
    ks : tuple of int
        Candidate numbers of topics compared by ``select_k``.
    random_state : int
        Seed of every random step.
    by : str
        Grouping column of the comparisons.
    contrast : tuple of (str, str, str)
        ``(column, group_a, group_b)`` of the two-group contrast of notebook 05.
    confounds : tuple of str
        The design columns crossed by ``confounds`` on the published corpus
        (the bundled manifest's other columns record provenance).
    method : str
        Topic model.
    dtype : str
        Precision of the NMF fits (``fit_topics(dtype=...)``): ``"float64"``.
        ``dtype="auto"`` resolves to it on the bundled corpus (fewer units than
        :data:`policystudy.topics.FLOAT32_MIN_UNITS`), but :meth:`matches`
        compares the value given, as for every parameter: pass the resolved
        precision (``model.dtype_``).
    lexicon, lexicon_version : str
        Policy lexicon given to the tokenizer (a shipped, versioned name), and its version.
    extra_lexicon : tuple of str
        Lexicon files added to it (none).
    stopwords, stopwords_version : str
        Stopword lists, and the version of the policy list.
    min_df, max_df : int and float
        Vocabulary bounds of :func:`policystudy.build_features`.
    n_boot : int
        Bootstrap replicates of the prevalence intervals.
    """

    corpus_sha256: Mapping[str, str] = field(
        default_factory=lambda: MappingProxyType(
            {
                "quanzhou-2024-reform-decision": (
                    "5d6e806d7d818a406e40b8a57946e004e2bef36527beeb126be099c61e637c58"
                ),
                "wenzhou-2020-governance-decision": (
                    "1408e410322b321c2783205c9d3020bf019533001e4b8719cb1bc83e66ed896b"
                ),
                "licheng-2023-work-report": (
                    "26bfd19be6a4426017adeae1d6030c53dc2ff9fa8912db1c54651b7897613585"
                ),
                "taizhou-2021-common-prosperity-plan": (
                    "79d5957761bc06a78a1267e3152b9068bc691b1ce74d5a282176a60e743e88a9"
                ),
                "quanzhou-2025-plenum-resolution": (
                    "19de1ffd33ede68a70c81263f177228cc88055b385d36e01074c51c98e3cd1e6"
                ),
            }
        )
    )
    k: int = 8
    ks: tuple[int, ...] = (4, 6, 8, 10, 12, 14)
    random_state: int = 0
    by: str = "city"
    contrast: tuple[str, str, str] = ("province", "zhejiang", "fujian")
    confounds: tuple[str, ...] = ("city", "doc_type", "province", "year")
    method: str = "nmf"
    dtype: str = "float64"
    lexicon: str = "default-2026.11.1"
    lexicon_version: str = "2026.11.1"
    extra_lexicon: tuple[str, ...] = ()
    stopwords: str = "default"
    stopwords_version: str = "2026.11.1"
    min_df: int = 2
    max_df: float = 0.5
    n_boot: int = 1000

    def parameters(self) -> dict[str, Any]:
        """Every parameter but the corpus, by name."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "corpus_sha256"
        }

    def is_corpus(self, docs: Any) -> bool:
        """Whether ``docs`` is the published corpus (``None`` stands for the bundled one).

        ``docs`` is a document table from :func:`policystudy.load_corpus`; it is
        the published corpus when it has exactly the published ``doc_id`` values
        and each document's ``raw_text`` has the published SHA-256.
        """
        if docs is None:
            return True
        if "doc_id" not in docs.columns or "raw_text" not in docs.columns:
            return False
        found = {
            str(doc_id): hashlib.sha256(str(text).encode("utf-8")).hexdigest()
            for doc_id, text in zip(docs["doc_id"], docs["raw_text"], strict=True)
        }
        return found == dict(self.corpus_sha256)

    def matches(self, docs: Any = None, **parameters: Any) -> bool:
        """Whether a run on ``docs`` with ``parameters`` is the published run.

        Parameters
        ----------
        docs : pandas.DataFrame or None
            The run's documents (``None``: the bundled corpus).
        **parameters
            The run's values of any of :meth:`parameters` (e.g. ``k=k,
            random_state=random_state``); a name that is not one of them is a
            TypeError, so a typo cannot make a run look published.
        """
        published = self.parameters()
        unknown = sorted(set(parameters) - set(published))
        if unknown:
            raise TypeError(
                f"unknown published parameter(s) {unknown}; expected some of {sorted(published)}"
            )
        same = all(_same(value, published[name]) for name, value in parameters.items())
        return same and self.is_corpus(docs)


def _same(value: Any, published: Any) -> bool:
    if isinstance(published, tuple):
        return tuple(value) == published if value is not None else False
    return type(value) is not bool and value == published


#: The published run of the study.
PUBLISHED = PublishedRun()
