"""Topic models over :class:`~policystudy.features.Features`, and their checks.

* Fitting (:mod:`policystudy.topics._fit`, ``_minibatch``): :func:`fit_topics`
  wraps scikit-learn's NMF (on TF-IDF) and LatentDirichletAllocation (on counts)
  and returns a :class:`TopicModel` with tidy tables (``topic_terms_``,
  ``unit_topics_``, ``labels_``); :func:`fit_topics_minibatch` streams chunks of
  rows through ``MiniBatchNMF`` and returns one too. :func:`default_k`,
  :func:`max_k` and :func:`candidate_ks` follow the corpus size, and so does
  the precision of the NMF fit (:data:`FLOAT32_MIN_UNITS`, :func:`resolve_dtype`).
* Evaluation (``_evaluation``): :func:`topic_coherence` (NPMI on the corpus
  itself), :func:`match_topics` and :func:`topic_agreement` (top-term matching
  of two solutions), :func:`select_k` (coherence and stability across random
  restarts and subsamples of units).
* Validity (``_validity``): :func:`heading_agreement` and :func:`validity_table`
  check topics against the documents' own structure: do units under the same
  top-level heading share a dominant topic more than knowing the document alone
  would predict?

Fitting always runs with BLAS/OpenMP limited to one thread so that a given
``random_state`` gives the same numbers on any machine configuration.
"""

from policystudy.schema import FALLBACK_SECTION_IDS
from policystudy.topics._evaluation import (
    match_topics,
    select_k,
    topic_agreement,
    topic_coherence,
)
from policystudy.topics._fit import (
    DTYPES,
    FLOAT32_MIN_UNITS,
    K_CANDIDATE_FACTORS,
    MIN_UNITS_PER_TOPIC,
    CacheArg,
    Dtype,
    Method,
    candidate_ks,
    default_k,
    fit_topics,
    max_k,
    resolve_dtype,
)
from policystudy.topics._minibatch import MiniBatchTopics, fit_topics_minibatch
from policystudy.topics._model import TopicModel
from policystudy.topics._validity import heading_agreement, validity_table

__all__ = [
    "DTYPES",
    "FALLBACK_SECTION_IDS",
    "FLOAT32_MIN_UNITS",
    "K_CANDIDATE_FACTORS",
    "MIN_UNITS_PER_TOPIC",
    "CacheArg",
    "Dtype",
    "Method",
    "MiniBatchTopics",
    "TopicModel",
    "candidate_ks",
    "default_k",
    "fit_topics",
    "fit_topics_minibatch",
    "heading_agreement",
    "match_topics",
    "max_k",
    "resolve_dtype",
    "select_k",
    "topic_agreement",
    "topic_coherence",
    "validity_table",
]
