"""Units: documents split into paragraphs and numbered items under their headings.

Chinese policy documents number their structure with a small set of markers (parts,
chapters, sections and articles of regulations; 一、, (一), (1), 1. of plans and
reports); :mod:`policystudy.markers` defines them, their rank and their numbers.

A document's *levels* are the marker types it uses, ranked in the order above, so
``heading_level`` 1 is the highest level *that document has* (an excerpt that
starts at ``八、`` or ``(三)`` still gets sections). Markers may also run into a long
line (one plan is a single 22,000-character line): a marker inside a line starts a
new unit when it follows a sentence end or a space and continues the numbering of
its level (the next number, allowing up to :data:`MAX_NUMBER_GAP` numbers lost in
scraping, or a restart at 1 after a higher heading).

Each unit is one of:

- ``"heading"``: a marker line that is only a title (no sentence inside, at most
  :data:`HEADING_MAX` characters, not ending in ``；`` or ``：``);
- ``"item"``: a numbered item whose title runs into its text (``(29)完善…。建立…``),
  an entry of a numbered list (ending in ``；`` or ``：``), or an article (``第…条``,
  always a provision, never a title);
- ``"target"``: a ``——`` line;
- ``"title"``: the document title, an unnumbered first line without a full stop;
- ``"paragraph"``: any other paragraph.

``section`` is the enclosing unit at heading level 1 (its text up to the first
full stop or comma, at most :data:`SECTION_LABEL_MAX` characters). Fallbacks:
text before the first level-1 heading gets section ``"(preamble)"`` (section_id
``"preamble"``); a document with no headings at all gets ``"(no headings)"``
(section_id ``"none"``) for every unit, so analyses that need real sections can
drop it by ``section_id``.
"""

from __future__ import annotations

import re

import pandas as pd

from policystudy.markers import (
    MARKER_TYPES,
    MARKERS,
    RUN_IN,
    Marker,
    is_pure_heading,
    match_marker,
)
from policystudy.schema import DOC_COLUMNS, NO_HEADINGS, PREAMBLE, UNIT_COLUMNS

__all__ = ["split_units", "corpus_summary", "UNIT_COLUMNS", "MARKER_TYPES"]

#: How many numbers a run-in marker may skip (numbers lost in scraping).
MAX_NUMBER_GAP = 5
#: Longest section label kept from a heading.
SECTION_LABEL_MAX = 40


def _segments(line: str, last: dict[str, int], restart: dict[str, bool]) -> list[str]:
    """Split a line at run-in markers that continue their level's numbering."""
    cuts = [0]
    for m in RUN_IN.finditer(line):
        start = m.end()
        if start == 0 or start >= len(line):
            continue
        marker = match_marker(line[start:])
        if marker is None:
            continue
        if marker.type != "target":
            previous = last.get(marker.type, 0)
            ok = previous < marker.value <= previous + MAX_NUMBER_GAP or (
                marker.value == 1 and restart.get(marker.type, True)
            )
            if not ok:
                continue
            _accept(marker, last, restart)
        cuts.append(start)
    pieces = [line[a:b].strip() for a, b in zip(cuts, [*cuts[1:], len(line)], strict=True)]
    return [p for p in pieces if p]


def _accept(marker: Marker, last: dict[str, int], restart: dict[str, bool]) -> None:
    last[marker.type] = marker.value
    restart[marker.type] = False
    rank = MARKER_TYPES.index(marker.type)
    for lower in MARKER_TYPES[rank + 1 :]:
        restart[lower] = True


def _label(text: str) -> str:
    head = re.split(r"[。,，;；:：]", text, maxsplit=1)[0]
    return head[:SECTION_LABEL_MAX].strip()


def _split_heading_body(segment: str, marker_end: int) -> tuple[str, str] | None:
    """``三、做强现代产业造富 现代产业是…`` -> heading and body at the first space."""
    m = re.match(r"(\S{1,24})\s+(\S.*)", segment[marker_end:], flags=re.S)
    if m and not re.search(r"[。,，;；:：]", m.group(1)):
        return segment[:marker_end] + m.group(1), m.group(2)
    return None


def _doc_units(text: str) -> list[dict]:
    last: dict[str, int] = {}
    restart: dict[str, bool] = {}
    raw: list[tuple[str, Marker | None]] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        first = match_marker(line)
        if first is not None and first.type != "target":
            _accept(first, last, restart)
        for segment in _segments(line, last, restart):
            marker = match_marker(segment)
            if (
                marker is not None
                and marker.type != "target"
                and not is_pure_heading(segment, marker.type)
            ):
                span = MARKERS[marker.type].match(segment)
                split = _split_heading_body(segment, span.end()) if marker.type == "cn" else None
                if split:
                    raw.append((split[0], marker))
                    raw.append((split[1], None))
                    continue
            raw.append((segment, marker))

    present = [t for t in MARKER_TYPES if any(m is not None and m.type == t for _, m in raw)]
    level_of = {t: i + 1 for i, t in enumerate(present)}
    section = NO_HEADINGS if not present else PREAMBLE
    subsection = ""
    units = []
    for position, (segment, marker) in enumerate(raw):
        if marker is None:
            if position == 0 and "。" not in segment and len(segment) <= 100:
                kind = "title"
            else:
                kind = "paragraph"
            level = 0
        elif marker.type == "target":
            kind, level = "target", 0
        else:
            level = level_of[marker.type]
            kind = "heading" if is_pure_heading(segment, marker.type) else "item"
            if level == 1:
                section = (marker.label, _label(segment))
                subsection = ""
            elif level == 2:
                subsection = _label(segment)
        units.append(
            {
                "position": position,
                "section_id": section[0],
                "section": section[1],
                "subsection": subsection,
                "kind": kind,
                "is_heading": kind in ("heading", "title"),
                "heading_level": level,
                "text": segment,
                "n_chars": len(segment),
            }
        )
    return units


def split_units(docs: pd.DataFrame) -> pd.DataFrame:
    """Split documents into analysis units under their own headings.

    Parameters
    ----------
    docs : pandas.DataFrame
        One row per document with ``doc_id`` and ``text`` (as returned by
        :func:`policystudy.load_corpus`). Not modified.

    Returns
    -------
    pandas.DataFrame
        One row per unit, in document order: ``doc_id``, ``unit_id``
        (``"<doc_id>/<position>"``, zero-padded), ``position`` (0-based within the
        document), ``section_id``, ``section``, ``subsection`` (level-2 heading,
        empty when none), ``kind`` (``heading``/``item``/``target``/``title``/
        ``paragraph``), ``is_heading`` (headings and titles), ``heading_level``
        (1 = the highest level the document has; 0 for paragraphs and targets),
        ``text``, ``n_chars``, then every metadata column of ``docs`` (not
        ``text``/``raw_text`` or the per-document counts).

    See the module docstring for the marker types and the fallbacks.

    Examples
    --------
    >>> lines = ["某市实施方案", "一、总体要求", "推进治理现代化。", "（一）工作目标", "基本建成。"]
    >>> units = split_units(pd.DataFrame({"doc_id": ["a"], "text": [chr(10).join(lines)]}))
    >>> for row in units[["kind", "section", "heading_level"]].itertuples(index=False):
    ...     print(*row)
    title (preamble) 0
    heading 一、总体要求 1
    paragraph 一、总体要求 0
    heading 一、总体要求 2
    paragraph 一、总体要求 0
    """
    missing = [c for c in ("doc_id", "text") if c not in docs.columns]
    if missing:
        raise ValueError(f"split_units needs the column(s) {', '.join(missing)}")
    meta_cols = [c for c in docs.columns if c not in (*DOC_COLUMNS, "doc_id")]
    # One table built from all records at once: a table per document costs more
    # than the splitting itself on corpora of thousands of documents.
    records = []
    for doc_id, text in zip(docs["doc_id"], docs["text"], strict=True):
        rows = _doc_units(str(text))
        width = max(4, len(str(len(rows))))
        for row in rows:
            row["doc_id"] = doc_id
            row["unit_id"] = f"{doc_id}/{row['position']:0{width}d}"
        records.extend(rows)
    units = pd.DataFrame.from_records(records, columns=list(UNIT_COLUMNS))
    units = units.merge(
        docs[["doc_id", *meta_cols]], on="doc_id", how="left", validate="many_to_one"
    )
    return units.astype(
        {"position": "int64", "heading_level": "int64", "n_chars": "int64", "is_heading": "bool"}
    )


def corpus_summary(
    docs: pd.DataFrame, units: pd.DataFrame | None = None, *, metadata: bool = False
) -> pd.DataFrame:
    """One row per document: how much text it has, how much cleaning removed, its units.

    Parameters
    ----------
    docs : pandas.DataFrame
        Documents from :func:`policystudy.load_corpus`.
    units : pandas.DataFrame, optional
        Their units (default: :func:`split_units` of ``docs``).
    metadata : bool, default False
        Also show every other metadata column of ``docs`` (the manifest's or
        table's own columns), after the columns below, in their order.
        ``policystudy corpus`` shows them.

    Returns
    -------
    pandas.DataFrame
        ``doc_id``, ``city``, ``doc_type``, ``year``, ``script`` (detected),
        ``chars`` (cleaned text), ``units`` (headings included) and
        ``removed_chars`` (characters of removed boilerplate spans); then,
        with ``metadata=True``, the other metadata columns.
    """
    units = split_units(docs) if units is None else units
    counts = units.groupby("doc_id", sort=False).size()
    table = pd.DataFrame(
        {
            "doc_id": docs["doc_id"],
            "city": docs["city"],
            "doc_type": docs["doc_type"],
            "year": docs["year"],
            "script": docs["detected_script"],
            "chars": docs["n_chars"],
            "units": docs["doc_id"].map(counts).fillna(0).astype("int64"),
            "removed_chars": docs["n_removed_chars"],
        }
    )
    if metadata:
        shown = set(table.columns)
        extra = [c for c in docs.columns if c not in (*DOC_COLUMNS, *shown)]
        table = pd.concat([table, docs[extra]], axis=1)
    return table
