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

Before splitting, a heading broken across lines is put back together: a marker
alone on its line (``（一）`` / ``工作目标``, ``第一章`` / ``总则``), a short title that
leaves a bracket open (``行动方案(`` / ``2025-2027年)``), and a line of punctuation
only, which joins the line before.

Each unit is one of:

- ``"heading"``: a marker line that is only a title (no sentence inside, at most
  :data:`HEADING_MAX` characters, not ending in ``；`` or ``：``), unless it ends in
  ``。`` and neither it nor its siblings (the markers of its type under the same
  parent) have body text after them: then the lines are a list of one-sentence
  provisions (``（一）推进…服务。（二）…。``), and each is an ``"item"``. Also an
  *unnumbered* heading: after the first sentence of a document, a short line
  without a marker or sentence punctuation followed by prose
  (:func:`policystudy.markers.is_unnumbered_heading`, ``“十四五”时期工作回顾``).
  Unnumbered headings are the document's top level when it has two or more (its
  numbered levels come under them) and share level 1 with the top numbered level
  when it has one (a closing ``结语``); their section ids are ``u1``, ``u2``, …;
- ``"item"``: a numbered item whose title runs into its text (``(29)完善…。建立…``),
  an entry of a numbered list (ending in ``；`` or ``：``), a one-sentence provision
  (above), or an article (``第…条``, always a provision, never a title);
- ``"target"``: a ``——`` line;
- ``"title"``: the document title, an unnumbered first line without a full stop;
- ``"paragraph"``: any other paragraph;
- ``"appendix"``, ``"glossary"``, ``"note"`` (:data:`policystudy.schema.BACK_MATTER_KINDS`):
  the back matter, from the first line that opens it (``附件``/``附录``; ``名词解释``;
  ``注释`` or a line starting ``[1]``, see :data:`policystudy.markers.BACK_MATTER`) to
  the end. Each appendix, glossary or note list is a section of its own
  (section_id ``appendix-1``, ``glossary-1``, ``note-1``, …; its opening line has
  ``is_heading`` and ``heading_level`` 1), so an appendix numbered 一、…十、 never
  shares the body's section ids; :func:`policystudy.build_features` leaves them out
  by default. An appendix longer than the text before it is the document itself
  (a notice that issues the plan attached to it) and is split as body.

``section`` is the enclosing unit at heading level 1 (its text up to the first
full stop or comma, at most :data:`SECTION_LABEL_MAX` characters). Its
``section_id`` is the heading's number as written (``八``); when the numbering
restarts and a number comes again, ``-2``, ``-3``… is added (``一-2``). Fallbacks:
text before the first level-1 heading gets section ``"(preamble)"`` (section_id
``"preamble"``); a document with no headings at all gets ``"(no headings)"``
(section_id ``"none"``) for every unit, so analyses that need real sections can
drop it by ``section_id``.
"""

from __future__ import annotations

import re

import pandas as pd

from policystudy._memory import release_free_memory
from policystudy._validation import MissingColumnError
from policystudy.markers import (
    HEADING_MAX,
    MARKER_TYPES,
    MARKERS,
    RUN_IN,
    SENTENCE_PUNCT,
    Marker,
    back_matter_kind,
    is_pure_heading,
    is_unnumbered_heading,
    match_marker,
)
from policystudy.schema import DOC_COLUMNS, NO_HEADINGS, PREAMBLE, UNIT_COLUMNS

__all__ = ["split_units", "corpus_summary", "UNIT_COLUMNS", "MARKER_TYPES"]

#: How many numbers a run-in marker may skip (numbers lost in scraping).
MAX_NUMBER_GAP = 5
#: Longest section label kept from a heading.
SECTION_LABEL_MAX = 40
#: Marker type of an unnumbered heading (a short line without punctuation before prose).
UNNUMBERED = "unnumbered"


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


def _broken_heading(previous: str) -> str | None:
    """How ``previous`` joins the next line when it is a heading broken across lines.

    A marker alone (``（一）``, ``第一章``) or a short title with a bracket left open
    (``行动方案(`` / ``2021-2025年)``) continues on the next line: ``""`` or, after
    a 第… marker, ``" "``; None when ``previous`` is complete.
    """
    marker = match_marker(previous)
    if marker is not None and marker.type != "target":
        if MARKERS[marker.type].match(previous).end() == len(previous):
            return " " if previous.startswith("第") else ""
    if len(previous) <= HEADING_MAX and not any(p in previous for p in SENTENCE_PUNCT):
        opened = sum(previous.count(c) for c in "(（“《")
        closed = sum(previous.count(c) for c in ")）”》")
        if opened > closed:
            return ""
    return None


def _lines(text: str) -> list[str]:
    """Non-empty lines, with headings broken across lines put back together and
    lines of punctuation only (``)``) attached to the line before."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        if out and not re.search(r"\w", line):
            out[-1] += line
            continue
        glue = _broken_heading(out[-1]) if out else None
        if glue is not None and len(line) <= HEADING_MAX:
            out[-1] += glue + line
            continue
        out.append(line)
    return out


def _back_matter_start(lines: list[str]) -> int | None:
    """Index of the line that opens the back matter, or None.

    An appendix longer than the text before it is the document itself (a notice
    that issues a plan attached to it), not back matter.
    """
    for i, line in enumerate(lines):
        if i == 0:
            continue
        kind = back_matter_kind(line)
        if kind is None:
            continue
        before = sum(len(x) for x in lines[:i])
        after = sum(len(x) for x in lines[i + 1 :])
        if kind == "appendix" and after > before:
            return None
        return i
    return None


def _is_header(line: str) -> bool:
    """A back-matter heading line (``附件2``, ``名词解释``), not a note (``[1]…``)."""
    return not re.match(r"^(?:注\s*)?[\[［【〔]\d|^注\s*\d", line)


def _back_matter_units(lines: list[str]) -> list[dict]:
    """Units of the back matter: one section per appendix, glossary or note list."""
    units = []
    counts: dict[str, int] = {}
    kind, section = "", ("", "")
    for line in lines:
        opened = back_matter_kind(line)
        # ``[2]`` after ``注释`` or ``[1]`` continues the notes; 附件2 opens a new appendix.
        header = opened is not None and not (opened == kind == "note" and not _is_header(line))
        if header:
            kind = opened
            counts[kind] = counts.get(kind, 0) + 1
            section = (f"{kind}-{counts[kind]}", _label(line))
        units.append(
            {
                "section_id": section[0],
                "section": section[1],
                "subsection": "",
                "kind": kind,
                "is_heading": header and _is_header(line),
                "heading_level": 1 if header and _is_header(line) else 0,
                "text": line,
            }
        )
    return units


def _has_body(raw: list[tuple[str, Marker | None]], k: int, rank: dict[str, int]) -> bool:
    """Whether the unit after marker unit ``k`` is text at a lower level (a paragraph,
    a target or a lower marker) rather than a sibling or a higher heading."""
    if k + 1 >= len(raw):
        return False
    following = raw[k + 1][1]
    if following is None or following.type not in rank:
        return True
    return rank[following.type] > rank[raw[k][1].type]


def _sentence_items(raw: list[tuple[str, Marker | None]], rank: dict[str, int]) -> set[int]:
    """Marker units ending in 。 that are items: they and their siblings have no body.

    ``（一）推进…服务。（二）…。`` is a list of one-sentence provisions; a line such
    as ``1.全面加强地方立法。`` followed by its paragraphs is a heading. Siblings are
    the markers of one type under the same higher marker.
    """
    groups: dict[tuple[str, int], list[int]] = {}
    parent: dict[int, int] = {}  # level -> position of the last marker at that level
    for k, (_, marker) in enumerate(raw):
        if marker is None or marker.type not in rank:
            continue
        level = rank[marker.type]
        above = max((p for lvl, p in parent.items() if lvl < level), default=-1)
        groups.setdefault((marker.type, above), []).append(k)
        parent = {lvl: p for lvl, p in parent.items() if lvl < level} | {level: k}
    items: set[int] = set()
    for members in groups.values():
        if any(_has_body(raw, k, rank) for k in members):
            continue
        for k in members:
            segment, marker = raw[k]
            if segment.endswith("。") and is_pure_heading(segment, marker.type):
                items.add(k)
    return items


def _doc_units(text: str) -> list[dict]:
    last: dict[str, int] = {}
    restart: dict[str, bool] = {}
    lines = _lines(text)
    back = _back_matter_start(lines)
    body_lines, back_lines = (lines, []) if back is None else (lines[:back], lines[back:])
    raw: list[tuple[str, Marker | None]] = []
    n_unnumbered = 0
    for index, line in enumerate(body_lines):
        first = match_marker(line)
        following = body_lines[index + 1] if index + 1 < len(body_lines) else ""
        if (
            first is None
            and raw
            and any("。" in segment for segment, _ in raw)
            and is_unnumbered_heading(line, following)
        ):
            n_unnumbered += 1
            raw.append((line, Marker(UNNUMBERED, n_unnumbered, f"u{n_unnumbered}")))
            continue
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

    types = (UNNUMBERED, *MARKER_TYPES)
    present = [t for t in types if any(m is not None and m.type == t for _, m in raw)]
    if UNNUMBERED in present and n_unnumbered == 1 and len(present) > 1:
        # One unnumbered heading (a closing 结语) sits beside the top numbered level.
        present.remove(UNNUMBERED)
        level_of = {t: i + 1 for i, t in enumerate(present)} | {UNNUMBERED: 1}
    else:
        level_of = {t: i + 1 for i, t in enumerate(present)}
    items = _sentence_items(raw, level_of)
    section = NO_HEADINGS if not present else PREAMBLE
    subsection = ""
    used: set[str] = set()
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
            pure = is_pure_heading(segment, marker.type) or marker.type == UNNUMBERED
            kind = "heading" if pure and position not in items else "item"
            if level == 1:
                section = (_unique(marker.label, used), _label(segment))
                subsection = ""
            elif level == 2:
                subsection = _label(segment)
        units.append(
            {
                "section_id": section[0],
                "section": section[1],
                "subsection": subsection,
                "kind": kind,
                "is_heading": kind in ("heading", "title"),
                "heading_level": level,
                "text": segment,
            }
        )
    units.extend(_back_matter_units(back_lines))
    for position, unit in enumerate(units):
        unit["position"] = position
        unit["n_chars"] = len(unit["text"])
    return units


def _unique(section_id: str, used: set[str]) -> str:
    """``section_id``, or ``<id>-2``, ``<id>-3``… when the numbering restarted."""
    candidate, n = section_id, 1
    while candidate in used:
        n += 1
        candidate = f"{section_id}-{n}"
    used.add(candidate)
    return candidate


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
        raise MissingColumnError(f"split_units needs the column(s) {', '.join(missing)}")
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
    units = units.astype(
        {"position": "int64", "heading_level": "int64", "n_chars": "int64", "is_heading": "bool"}
    )
    del records
    release_free_memory()  # the row dicts and line strings
    return units


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
