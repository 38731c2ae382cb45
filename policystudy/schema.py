"""Column names and sentinel values shared by the stages, defined once.

Each stage returns a pandas table with stable, documented column names; the
names live here so that no stage imports a sibling stage for its constants and
no figure restates a table's strings.

=========================  ==========================================================
constant                   what it names
=========================  ==========================================================
:data:`DOC_COLUMNS`        columns every document table has, after the metadata
:data:`REQUIRED_META`      metadata columns always present (NA where a source lacks one)
:data:`REMOVED_COLUMNS`    columns of :func:`policystudy.load.removed_spans`
:data:`UNIT_COLUMNS`       columns :func:`policystudy.split_units` puts first
:data:`TOKEN_COLUMNS`      columns :func:`policystudy.tokenize` adds
:data:`PREAMBLE`           ``(section_id, section)`` of text before the first heading
:data:`NO_HEADINGS`        ``(section_id, section)`` of a document without headings
:data:`BACK_MATTER_KINDS`  ``kind`` of back-matter units (appendices, glossaries, notes)
:data:`INTERVAL_KINDS`     values of the ``interval`` column of prevalence tables
:data:`MODEL_COLUMNS`      columns :func:`policystudy.fit_topics` adds to the units
:data:`PREVALENCE_COLUMNS` columns of a prevalence table beside the grouping column
:data:`RESERVED_COLUMNS`   every column name the package gives its tables
:data:`META_PREFIX`        prefix of a user metadata column renamed out of the way
=========================  ==========================================================

A user's metadata column never takes a package column's name: the loader renames
a column called like one of :data:`RESERVED_COLUMNS` (or ``topic_<number>``)
to ``meta_<name>`` (:func:`reserved_name`, :func:`meta_name`).
"""

from __future__ import annotations

import re

from policystudy._validation import MissingColumnError

__all__ = [
    "DOC_COLUMNS",
    "BACK_MATTER_KINDS",
    "FALLBACK_SECTION_IDS",
    "FEATURE_COLUMNS",
    "INTERVAL_DOCS",
    "INTERVAL_KINDS",
    "INTERVAL_NONE",
    "INTERVAL_UNITS",
    "META_PREFIX",
    "MissingColumnError",
    "MODEL_COLUMNS",
    "NO_HEADINGS",
    "PREAMBLE",
    "PREVALENCE_COLUMNS",
    "REMOVED_COLUMNS",
    "REQUIRED_META",
    "RESERVED_COLUMNS",
    "TOKEN_COLUMNS",
    "UNIT_COLUMNS",
    "meta_name",
    "reserved_name",
]

#: Columns every document table has, in this order, after the metadata.
DOC_COLUMNS = (
    "text",
    "raw_text",
    "n_chars",
    "n_raw_chars",
    "n_removed_chars",
    "encoding",
    "detected_script",
    "n_converted_chars",
)
#: Metadata columns that are always present (NA when a source does not give them).
REQUIRED_META = ("doc_id", "city", "doc_type", "year", "script")
#: One row per span that cleaning removed (``line`` is 1-based in the decoded file).
REMOVED_COLUMNS = ("doc_id", "rule", "line", "text", "n_chars")

#: Unit columns, in this order, before the document metadata.
UNIT_COLUMNS = (
    "doc_id",
    "unit_id",
    "position",
    "section_id",
    "section",
    "subsection",
    "kind",
    "is_heading",
    "heading_level",
    "text",
    "n_chars",
)
#: Columns the tokenizer adds to a unit table.
TOKEN_COLUMNS = ("tokens", "n_tokens")

#: Section of text before a document's first level-1 heading.
PREAMBLE = ("preamble", "(preamble)")
#: Section of every unit of a document that has no headings at all.
NO_HEADINGS = ("none", "(no headings)")
#: ``kind`` of the units of a document's back matter: appendices (附件, 附录),
#: glossaries (名词解释, 注释) and notes (``[1]…``); excluded from themes by default.
BACK_MATTER_KINDS = ("appendix", "glossary", "note")
#: section_ids that are fallbacks, not the document's own sections.
FALLBACK_SECTION_IDS: tuple[str, ...] = (PREAMBLE[0], NO_HEADINGS[0])

#: Interval from a bootstrap over the documents of a group.
INTERVAL_DOCS = "bootstrap_documents"
#: Interval from a bootstrap over the units of a group's only document.
INTERVAL_UNITS = "within_document_units"
#: No interval (a group of one unit).
INTERVAL_NONE = "none"
#: Every value of the ``interval`` column of a prevalence table.
INTERVAL_KINDS = (INTERVAL_DOCS, INTERVAL_UNITS, INTERVAL_NONE)

#: Columns :func:`policystudy.fit_topics` adds to the unit table (``unit_topics_``),
#: besides one ``topic_<t>`` share column per topic.
MODEL_COLUMNS = ("topic", "weight", "label")
#: Columns of :func:`policystudy.prevalence` besides the grouping column, which
#: is named after the grouping and so must not be called like one of these.
PREVALENCE_COLUMNS = (
    "topic",
    "label",
    "share",
    "diff_from_rest",
    "share_rest",
    "ci_low",
    "ci_high",
    "n_docs",
    "n_units",
    "n_units_empty",
    "interval",
    "level",
)
#: Columns :func:`policystudy.build_features` adds to its units.
FEATURE_COLUMNS = ("n_vocab_tokens",)
#: Column names the package gives the tables that also carry a corpus's metadata
#: (documents, units, tokens, features, unit topics, prevalence, confounds). ``doc_id`` and
#: the metadata of :data:`REQUIRED_META` are not reserved: they *are* metadata.
RESERVED_COLUMNS: tuple[str, ...] = tuple(
    dict.fromkeys(
        c
        for c in (
            *DOC_COLUMNS,
            *UNIT_COLUMNS,
            *TOKEN_COLUMNS,
            *FEATURE_COLUMNS,
            *MODEL_COLUMNS,
            *PREVALENCE_COLUMNS,
        )
        if c != "doc_id"
    )
)
#: Prefix given to a user metadata column whose name is reserved.
META_PREFIX = "meta_"
_TOPIC_SHARE = re.compile(r"topic_\d+")


def reserved_name(name: object) -> bool:
    """Whether a metadata column called ``name`` would collide with a package column.

    >>> reserved_name("section"), reserved_name("topic_3"), reserved_name("region")
    (True, True, False)
    """
    text = str(name)
    return text in RESERVED_COLUMNS or _TOPIC_SHARE.fullmatch(text) is not None


def meta_name(name: object, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """The name a colliding metadata column gets: ``meta_<name>``, prefixed again if taken.

    >>> meta_name("section"), meta_name("section", {"meta_section"})
    ('meta_section', 'meta_meta_section')
    """
    new = f"{META_PREFIX}{name}"
    while new in taken:
        new = f"{META_PREFIX}{new}"
    return new
