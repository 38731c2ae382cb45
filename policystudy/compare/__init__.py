"""Compare groups of documents: topic prevalence, keyness, distinctive terms, similarity.

Every function returns a new :class:`pandas.DataFrame` with documented, stable
column names and a deterministic row order; nothing prints and no input is
mutated. The implementation is split along the comparisons, each in a private
module re-exported here:

* ``_grouping``: :func:`choose_grouping` (which column to compare by),
  :func:`metadata_columns`, :func:`largest_groups`;
* ``_prevalence``: :func:`prevalence`, :func:`prevalence_contrast`;
* ``_keyness``: :func:`keyness`, :func:`distinctive_tfidf`;
* ``_similarity``: :func:`similarity`, :func:`similarity_long`;
* ``_confounds``: :func:`confounds`, :func:`confound_summary`,
  :func:`confound_columns`;
* ``_export``: :func:`export_for_r`.

Keyness, distinctive terms and similarity sum unit rows with one grouping,
:meth:`policystudy.features.Features.doc_term`.

A warning that applies to every table here: in the bundled corpus city, genre
(``doc_type``), province and year are confounded and most groups consist of a
single document.  A difference "between cities" is equally a difference between
genres, years and individual documents.  :func:`confounds` and
:func:`confound_summary` make this visible, every group-level table carries the
number of documents behind each group (``n_docs`` / ``n_docs_group``), and
uncertainty intervals say which kind of variation they measure.
"""

from policystudy.compare._confounds import (
    confound_columns,
    confound_summary,
    confounds,
    describe_skipped,
)
from policystudy.compare._export import export_for_r
from policystudy.compare._grouping import (
    LABEL_MAX,
    PREFERRED_GROUPING,
    choose_grouping,
    largest_groups,
    metadata_columns,
)
from policystudy.compare._keyness import KEYNESS_CAVEAT, distinctive_tfidf, keyness
from policystudy.compare._prevalence import prevalence, prevalence_contrast
from policystudy.compare._similarity import similarity, similarity_long

__all__ = [
    "KEYNESS_CAVEAT",
    "LABEL_MAX",
    "PREFERRED_GROUPING",
    "choose_grouping",
    "confound_columns",
    "confound_summary",
    "confounds",
    "describe_skipped",
    "distinctive_tfidf",
    "export_for_r",
    "keyness",
    "largest_groups",
    "metadata_columns",
    "prevalence",
    "prevalence_contrast",
    "similarity",
    "similarity_long",
]
