"""Units: documents split into paragraphs and numbered items under their headings.

Chinese policy documents number their structure with a small set of markers. From
the highest conventional level to the lowest:

==============  ==================  =========================================
type            marker              example
==============  ==================  =========================================
``part``        第…部分 / 第…篇     ``第二部分 主要任务``
``chapter``     第…章               ``第一章 总则``
``subchapter``  第…节               ``第三节 监督管理``
``article``     第…条               ``第五条 市人民政府应当…。``
``cn``          Chinese numeral 、  ``八、探索泉州融合发展新路``
``pcn``         (Chinese numeral)   ``(一)重大意义`` / ``（一）``
``pnum``        (Arabic numeral)    ``(29)完善泉州台经贸融合机制。…``
``num``         Arabic numeral .    ``1.强化和落实“两个维护”保障机制。``
==============  ==================  =========================================

The 第… markers (parts, chapters, sections and articles of regulations and
implementing measures) take Chinese or Arabic numerals.

``——`` lines (``——在经济高质量发展上先行。…``) are targets listed under a
heading; they are units of kind ``"target"``, not headings.

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
from dataclasses import dataclass

import pandas as pd

from policystudy.load import DOC_COLUMNS

__all__ = ["split_units", "UNIT_COLUMNS", "MARKER_TYPES"]

#: Marker types in rank order (highest level first).
MARKER_TYPES = ("part", "chapter", "subchapter", "article", "cn", "pcn", "pnum", "num")
#: How many numbers a run-in marker may skip (numbers lost in scraping).
MAX_NUMBER_GAP = 5
#: Longest section label kept from a heading.
SECTION_LABEL_MAX = 40
#: Longest marker line that counts as a pure heading.
HEADING_MAX = 60
PREAMBLE = ("preamble", "(preamble)")
NO_HEADINGS = ("none", "(no headings)")

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

_CN = "一二三四五六七八九十百零〇"
_ORDINAL = rf"[{_CN}]{{1,6}}|\d{{1,3}}"  # the number in 第…章
_ORD = rf"第({_ORDINAL})\s*"
_MARKERS = {
    "part": re.compile(_ORD + "(?:部分|篇)"),
    "chapter": re.compile(_ORD + "章"),
    "subchapter": re.compile(_ORD + "节"),
    "article": re.compile(_ORD + "条(?![例款件])"),
    "cn": re.compile(rf"([{_CN}]{{1,4}})、"),
    "pcn": re.compile(rf"[(（]([{_CN}]{{1,4}})[)）]"),
    "pnum": re.compile(r"[(（](\d{1,3})[)）]"),
    "num": re.compile(r"(\d{1,3})\s*[.．、](?!\d)"),
}
_TARGET = re.compile(r"——(?=[\u4e00-\u9fff])")
# Where a run-in marker may start: after a sentence end or a space.
_RUN_IN = re.compile(
    rf"(?<=[。；;!?！？\s])\s*(?=第(?:{_ORDINAL})\s*(?:部分|篇|章|节|条)"
    rf"|[{_CN}]{{1,4}}、|[(（](?:[{_CN}]{{1,4}}|\d{{1,3}})[)）]"
    r"|\d{1,3}\s*[.．](?!\d)\s*[\u4e00-\u9fff“《]|——[\u4e00-\u9fff])"
)


def _cn_to_int(numeral: str) -> int:
    """Chinese numeral (up to 999) to int.

    >>> [_cn_to_int(x) for x in ("八", "十", "十一", "二十三", "一百零五")]
    [8, 10, 11, 23, 105]
    """
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"〇": 0}
    total, current = 0, 0
    for ch in numeral:
        if ch in digits:
            current = digits[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
    return total + current


@dataclass
class _Marker:
    type: str  # one of MARKER_TYPES, or "target"
    value: int
    label: str  # the marker's number as written, e.g. "八" or "29"


def _marker(segment: str) -> _Marker | None:
    if _TARGET.match(segment):
        return _Marker("target", 0, "")
    for type_, pattern in _MARKERS.items():
        m = pattern.match(segment)
        if m:
            raw = m.group(1)
            value = int(raw) if raw.isdigit() else _cn_to_int(raw)
            return _Marker(type_, value, raw)
    return None


def _segments(line: str, last: dict[str, int], restart: dict[str, bool]) -> list[str]:
    """Split a line at run-in markers that continue their level's numbering."""
    cuts = [0]
    for m in _RUN_IN.finditer(line):
        start = m.end()
        if start == 0 or start >= len(line):
            continue
        marker = _marker(line[start:])
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


def _accept(marker: _Marker, last: dict[str, int], restart: dict[str, bool]) -> None:
    last[marker.type] = marker.value
    restart[marker.type] = False
    rank = MARKER_TYPES.index(marker.type)
    for lower in MARKER_TYPES[rank + 1 :]:
        restart[lower] = True


def _label(text: str) -> str:
    head = re.split(r"[。,，;；:：]", text, maxsplit=1)[0]
    return head[:SECTION_LABEL_MAX].strip()


def _is_pure_heading(text: str, marker_type: str = "") -> bool:
    # An article (第…条) is a provision, never a title; a line ending in ；or ：
    # is an entry of a list, not a title.
    if marker_type == "article" or text.rstrip().endswith(("；", ";", "：", ":")):
        return False
    return "。" not in text.rstrip("。") and len(text) <= HEADING_MAX


def _split_heading_body(segment: str, marker_end: int) -> tuple[str, str] | None:
    """``三、做强现代产业造富 现代产业是…`` -> heading and body at the first space."""
    m = re.match(r"(\S{1,24})\s+(\S.*)", segment[marker_end:], flags=re.S)
    if m and not re.search(r"[。,，;；:：]", m.group(1)):
        return segment[:marker_end] + m.group(1), m.group(2)
    return None


def _doc_units(text: str) -> list[dict]:
    last: dict[str, int] = {}
    restart: dict[str, bool] = {}
    raw: list[tuple[str, _Marker | None]] = []
    for line in text.split("\n"):
        line = line.strip()
        if not line:
            continue
        first = _marker(line)
        if first is not None and first.type != "target":
            _accept(first, last, restart)
        for segment in _segments(line, last, restart):
            marker = _marker(segment)
            if (
                marker is not None
                and marker.type != "target"
                and not _is_pure_heading(segment, marker.type)
            ):
                span = _MARKERS[marker.type].match(segment)
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
            kind = "heading" if _is_pure_heading(segment, marker.type) else "item"
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
