"""The heading grammar of Chinese policy documents, defined once.

Cleaning (:mod:`policystudy.clean`), unit splitting (:mod:`policystudy.units`) and
the benchmarks' synthetic corpus all ask the same questions of a line: does it
start with a structure marker, which one, with which number, and is it only a
title? The answers live here and nowhere else.

From the highest conventional level to the lowest:

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

The 第… markers take Chinese or Arabic numerals. ``——`` lines
(``——在经济高质量发展上先行。…``) are *targets* listed under a heading, type
``"target"``, not headings.

>>> match_marker("第一百零五条 本条例自公布之日起施行。")
Marker(type='article', value=105, label='一百零五')
>>> match_marker("（三）监督管理")
Marker(type='pcn', value=3, label='三')
>>> match_marker("本条例第三条") is None
True
>>> is_heading_line("八、探索融合发展新路"), is_heading_line("第二条 本条例适用于本市。")
(True, False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "CN_DIGITS",
    "CN_NUMERALS",
    "HAN",
    "HAN_RE",
    "HEADING_MARKER",
    "HEADING_MAX",
    "MARKERS",
    "MARKER_TYPES",
    "Marker",
    "RUN_IN",
    "BACK_MATTER",
    "DOC_TITLE",
    "RUN_IN_CN_HEADING",
    "RUN_IN_ORD_HEADING",
    "ORD_MARKER_AHEAD",
    "SALUTATION",
    "SENTENCE_PUNCT",
    "TARGET",
    "UNNUMBERED_HEADING_MAX",
    "back_matter_kind",
    "han_share",
    "cn_to_int",
    "is_heading_line",
    "is_pure_heading",
    "is_salutation",
    "is_unnumbered_heading",
    "match_marker",
]

#: Han characters (CJK Unified Ideographs, Extension A, Compatibility Ideographs),
#: as the body of a regex character class.
HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
#: One Han character.
HAN_RE = re.compile(f"[{HAN}]")
#: Chinese digits 零…九 (〇 is the other zero).
CN_DIGITS = "零一二三四五六七八九"
#: Characters of a Chinese numeral in a heading marker (up to 999).
CN_NUMERALS = "一二三四五六七八九十百零〇"
#: Marker types in rank order (highest level first).
MARKER_TYPES = ("part", "chapter", "subchapter", "article", "cn", "pcn", "pnum", "num")
#: Longest marker line that counts as a pure heading.
HEADING_MAX = 60

_ORDINAL = rf"[{CN_NUMERALS}]{{1,6}}|\d{{1,3}}"  # the number in 第…章
_ORD = rf"第({_ORDINAL})\s*"
_CN_MARK = rf"[{CN_NUMERALS}]{{1,4}}、"
_PAREN_MARK = rf"[(（](?:[{CN_NUMERALS}]{{1,4}}|\d{{1,3}})[)）]"

#: Marker patterns by type, matched at the start of a line or segment; group 1 is
#: the number as written.
MARKERS: dict[str, re.Pattern[str]] = {
    "part": re.compile(_ORD + "(?:部分|篇)"),
    "chapter": re.compile(_ORD + "章"),
    "subchapter": re.compile(_ORD + "节"),
    "article": re.compile(_ORD + "条(?![例款件])"),
    "cn": re.compile(rf"([{CN_NUMERALS}]{{1,4}})、"),
    "pcn": re.compile(rf"[(（]([{CN_NUMERALS}]{{1,4}})[)）]"),
    "pnum": re.compile(r"[(（](\d{1,3})[)）]"),
    "num": re.compile(r"(\d{1,3})\s*[.．、](?!\d)"),
}
#: A ``——`` target line.
TARGET = re.compile(rf"——(?=[{HAN}])")
#: A line that starts with any marker, or with ``——``.
HEADING_MARKER = re.compile("^(?:" + "|".join(p.pattern for p in MARKERS.values()) + "|——)")
#: Where a run-in marker may start inside a line: after a sentence end or a space.
RUN_IN = re.compile(
    rf"(?<=[。；;!?！？\s])\s*(?=第(?:{_ORDINAL})\s*(?:部分|篇|章|节|条)"
    rf"|{_CN_MARK}|{_PAREN_MARK}"
    rf"|\d{{1,3}}\s*[.．](?!\d)\s*[{HAN}“《]|——[{HAN}])"
)
#: A run-in ``一、`` heading at the end of a text (``…促进。 三、做强现代产业造富``):
#: the space after it ends the heading and is structure, not a layout break.
RUN_IN_CN_HEADING = re.compile(rf"(?:^|[\s。；;]){_CN_MARK}[{HAN}“”]{{1,24}}$")
_ORD_MARK = rf"第(?:{_ORDINAL})\s*(?:部分|篇|章|节|条)"
#: A 第…章/节/条 marker, or a run-in 第…章 heading, at the end of a text
#: (``第一章``, ``…。 第二章 总则``): the space after it is structure.
RUN_IN_ORD_HEADING = re.compile(
    rf"(?:^|[\s。；;]){_ORD_MARK}$|(?:^|[\s。；;])第(?:{_ORDINAL})\s*(?:部分|篇|章|节)\s+[{HAN}]{{1,24}}$"
)
#: A 第…章/节/条 marker followed by a space at the start of a text (``第三条 市…``):
#: the space before it is structure.
ORD_MARKER_AHEAD = re.compile(rf"{_ORD_MARK}\s")

#: Sentence punctuation: a line with none of these is a title, a label or page chrome.
SENTENCE_PUNCT = "。，,；;！？!?"
#: Longest unnumbered heading (a short line without sentence punctuation followed by prose).
UNNUMBERED_HEADING_MAX = 30
#: A salutation line: ``各位代表:``, ``同志们：``, ``各县(市、区)人民政府,市政府直属各单位:``.
SALUTATION = re.compile(rf"^[{HAN}()（）、，, ]{{2,40}}[:：]$")
#: Last words of a document title (its genre): ``…政府工作报告``, ``…的通知``.
DOC_TITLE = re.compile(
    r"(?:报告|决定|决议|方案|意见|通知|条例|办法|规定|规划|纲要|公报|细则|计划|要点|通告|公告|"
    r"批复|讲话|指引|标准|规则|章程|政府令|命令)\s*(?:[(（][^()（）]{1,30}[)）])?$"
)
#: Headings that open a document's back matter, by kind: appendices (附件, 附录),
#: glossaries (名词解释) and notes (注释, or lines that start with ``[1]``, ``注1:``).
BACK_MATTER: dict[str, re.Pattern[str]] = {
    "appendix": re.compile(
        rf"^(?:附件|附录|附表)\s*(?:[{CN_NUMERALS}\d]{{1,3}})?\s*(?:[:：]|$|\s|[{HAN}《“])"
    ),
    "glossary": re.compile(r"^(?:名词解释|名词注释|名词术语|术语解释)\s*[:：]?$"),
    "note": re.compile(
        r"^(?:注释|注解)\s*[:：]?$|^(?:注\s*)?[\[［【〔]\d{1,3}[\]］】〕]|^注\s*\d{1,3}\s*[:：.、]"
    ),
}


def cn_to_int(numeral: str) -> int:
    """Chinese numeral (up to 999) to int.

    >>> [cn_to_int(x) for x in ("八", "十", "十一", "二十三", "一百零五", "〇")]
    [8, 10, 11, 23, 105, 0]
    """
    digits = {c: i for i, c in enumerate(CN_DIGITS)} | {"〇": 0}
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


@dataclass(frozen=True)
class Marker:
    """A structure marker at the start of a segment."""

    type: str  # one of MARKER_TYPES, or "target"
    value: int  # its number (0 for targets)
    label: str  # the number as written, e.g. "八" or "29"


def match_marker(segment: str) -> Marker | None:
    """The marker ``segment`` starts with, or None."""
    if TARGET.match(segment):
        return Marker("target", 0, "")
    for type_, pattern in MARKERS.items():
        m = pattern.match(segment)
        if m:
            raw = m.group(1)
            value = int(raw) if raw.isdigit() else cn_to_int(raw)
            return Marker(type_, value, raw)
    return None


def is_pure_heading(text: str, marker_type: str = "") -> bool:
    """Whether a marker line of type ``marker_type`` is only a title.

    An article (第…条) is a provision, never a title; a line ending in ``；`` or
    ``：`` is an entry of a list. Otherwise a title has no full stop inside and at
    most :data:`HEADING_MAX` characters.
    """
    if marker_type == "article" or text.rstrip().endswith(("；", ";", "：", ":")):
        return False
    return "。" not in text.rstrip("。") and len(text) <= HEADING_MAX


def han_share(text: str) -> float:
    """Share of Han characters among the characters of ``text`` that are not spaces.

    >>> han_share("来源:新华社"), han_share("2026-02-11"), han_share("")
    (0.8333333333333334, 0.0, 0.0)
    """
    chars = [c for c in text if not c.isspace()]
    return sum(1 for c in chars if HAN_RE.match(c)) / len(chars) if chars else 0.0


def is_salutation(line: str) -> bool:
    """A line that addresses the audience and ends in a colon: ``各位代表:``.

    >>> is_salutation("各位代表:"), is_salutation("来源:新华社")
    (True, False)
    """
    return bool(SALUTATION.match(line.strip()))


def _is_prose(line: str) -> bool:
    return "。" in line or (any(p in line for p in "，,；;") and len(line) >= 15)


def is_unnumbered_heading(line: str, next_line: str) -> bool:
    """A short line without a marker or sentence punctuation, followed by prose.

    Reports head their parts with such lines (``“十四五”时期工作回顾``); the line
    after a heading is a paragraph with full stops, longer than the heading.

    >>> is_unnumbered_heading("“十四五”时期工作回顾", "五年来，我们坚持稳中求进。")
    True
    >>> is_unnumbered_heading("来源:本网", "五年来，我们坚持稳中求进。")
    False
    """
    line, next_line = line.strip(), next_line.strip()
    return (
        2 <= len(line) <= UNNUMBERED_HEADING_MAX
        and not any(p in line for p in SENTENCE_PUNCT + ":：")
        and han_share(line) >= 0.6
        and match_marker(line) is None
        and not any(p.match(line) for p in BACK_MATTER.values())
        and _is_prose(next_line)
        and len(next_line) > len(line)
    )


def back_matter_kind(line: str) -> str | None:
    """The kind of back matter a line opens (``appendix``, ``glossary``, ``note``), or None.

    Only short lines open back matter: ``附件:1.任务分工表`` does, a sentence that
    starts with 附件 does not.

    >>> back_matter_kind("附件2"), back_matter_kind("名词解释"), back_matter_kind("[3]即……")
    ('appendix', 'glossary', 'note')
    >>> back_matter_kind("附件所列事项由市政府负责解释。") is None
    True
    """
    line = line.strip()
    for kind, pattern in BACK_MATTER.items():
        if pattern.match(line) and (kind == "note" or ("。" not in line and len(line) <= 40)):
            return kind
    return None


def is_heading_line(line: str) -> bool:
    """A line that starts with a marker (not ``——``) and is only a title."""
    marker = match_marker(line)
    return marker is not None and marker.type != "target" and is_pure_heading(line, marker.type)
