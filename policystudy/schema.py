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
=========================  ==========================================================
"""

from __future__ import annotations

__all__ = [
    "DOC_COLUMNS",
    "BACK_MATTER_KINDS",
    "FALLBACK_SECTION_IDS",
    "INTERVAL_DOCS",
    "INTERVAL_KINDS",
    "INTERVAL_NONE",
    "INTERVAL_UNITS",
    "NO_HEADINGS",
    "PREAMBLE",
    "REMOVED_COLUMNS",
    "REQUIRED_META",
    "TOKEN_COLUMNS",
    "UNIT_COLUMNS",
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
