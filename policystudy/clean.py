"""Cleaning: small ``str -> str`` steps that strip scraped-web boilerplate.

Policy documents collected from news sites and government portals carry text that
is not part of the document: page continuation markers, video notices, reporter
and editor credits, copyright and contact footers, source/date header lines,
portal metadata tables and stray table pipes. Each rule below is a small,
documented function that can be used on its own; :func:`clean_text` runs them in
order and records every removed line, so a researcher can audit exactly what was
dropped (see :data:`DEFAULT_LINE_RULES` and :data:`DEFAULT_STEPS`).

Every rule is a *general* pattern (a line shape), never a match on a particular
document. Rules that drop whole lines only drop short lines (see ``max_len``), so a
content paragraph that happens to mention, say, a telephone service is never lost.

Examples
--------
>>> clean_text("(上接第三版)\\n一、总体要求\\n记者:张三").text
'一、总体要求'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from policystudy.markers import CN_NUMERALS, HAN, HEADING_MARKER, RUN_IN_CN_HEADING, is_heading_line

__all__ = [
    "CleanResult",
    "DEFAULT_LINE_RULES",
    "DEFAULT_STEPS",
    "LineRule",
    "clean_text",
    "collapse_whitespace",
    "join_split_words",
    "normalize_newlines",
    "normalize_punctuation",
    "normalize_width",
    "rejoin_broken_lines",
    "remove_contact_lines",
    "remove_copyright_lines",
    "remove_credit_lines",
    "remove_inline_source",
    "remove_metadata_table",
    "remove_news_lead",
    "remove_page_markers",
    "remove_source_header",
    "remove_table_pipes",
    "remove_video_notices",
]

# A line ending in one of these is a complete sentence or a closed bracket/quote.
TERMINAL = "。！？!?；;：:…”’」』)）】》"

# --------------------------------------------------------------------------
# Normalisation steps
# --------------------------------------------------------------------------


def normalize_newlines(text: str) -> str:
    """Turn CRLF and CR line endings into LF and drop a leading byte-order mark.

    >>> normalize_newlines("\\ufeffa\\r\\nb\\rc")
    'a\\nb\\nc'
    """
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


_WIDTH_TABLE = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH_TABLE.update({0x3000: 0x20, 0x00A0: 0x20, 0x200B: None, 0xFEFF: None})
# str.translate looks up every character in a Python dict; a regex finds the
# few characters to change in C, about 20x faster on typical text.
_WIDTH_MAP = {chr(k): "" if v is None else chr(v) for k, v in _WIDTH_TABLE.items()}
_WIDTH_CHARS = re.compile("[" + re.escape("".join(sorted(_WIDTH_MAP))) + "]")


def normalize_width(text: str) -> str:
    """Map full-width ASCII forms to half-width and odd spaces to a plain space.

    Full-width letters, digits and punctuation (``Ａ``, ``１``, ``，``, ``（``) become
    their ASCII forms; the ideographic space and no-break space become a space;
    zero-width characters are dropped. Chinese punctuation without an ASCII
    counterpart (``。``, ``、``, ``“”``) is kept.

    >>> normalize_width("（２９）完善机制，推进Ａ级。")
    '(29)完善机制,推进A级。'
    """
    return _WIDTH_CHARS.sub(lambda m: _WIDTH_MAP[m.group()], text)


_STRAIGHT_QUOTED = re.compile(r'"([^"\n]{1,40})"')


def normalize_punctuation(text: str) -> str:
    """Normalise quotation marks and dash variants.

    Straight double quotes around a short span become Chinese quotes, so quoted
    policy terms look the same in every document; ``─``/``—`` runs of two or more
    become ``——``.

    >>> normalize_punctuation('优化营商环境"10+N"行动 ──在')
    '优化营商环境“10+N”行动 ——在'
    """
    text = _STRAIGHT_QUOTED.sub(r"“\1”", text)
    return re.sub(r"[─—]{2,}", "——", text)


_SPLIT_WORD = re.compile(rf"(?<=[{HAN}])[ \t]+(?=[{HAN}])")


def join_split_words(text: str) -> str:
    """Remove spaces between two Han characters (layout breaks inside words).

    PDF and web layouts leave spaces inside words (``分配格 局``); Chinese prose
    does not use spaces between characters, so they are removed, except the space
    that ends a run-in numbered heading. Where a space stands for a stripped
    symbol (``领军人才 创新团队`` lost a ``+``) the symbol cannot be recovered.

    >>> join_split_words("优化收入分配格 局,基 本形成")
    '优化收入分配格局,基本形成'
    >>> join_split_words("相互促进。 三、做强现代产业造富 现代产业是")
    '相互促进。 三、做强现代产业造富 现代产业是'
    """

    def repl(match: re.Match[str]) -> str:
        left = text[max(0, match.start() - 40) : match.start()]
        return match.group() if RUN_IN_CN_HEADING.search(left) else ""

    return _SPLIT_WORD.sub(repl, text)


def collapse_whitespace(text: str) -> str:
    """Strip every line, collapse runs of spaces and drop empty lines.

    >>> collapse_whitespace("  a   b \\n\\n\\n c ")
    'a b\\nc'
    """
    lines = (re.sub(r"[ \t]+", " ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------
# Line rules: a predicate on one (normalised) line; matching lines are removed
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRule:
    """A named rule that drops whole lines.

    Parameters
    ----------
    name : str
        Name recorded in the ``rule`` column of the removed-spans table.
    pattern : re.Pattern
        Searched in the stripped line.
    max_len : int
        Only lines of at most this many characters are dropped, so content
        paragraphs are never removed by a boilerplate pattern.
    description : str
        What the rule removes, for documentation and audit tables.
    """

    name: str
    pattern: re.Pattern[str]
    max_len: int
    description: str

    def matches(self, line: str) -> bool:
        line = line.strip()
        return bool(line) and len(line) <= self.max_len and bool(self.pattern.search(line))


_NUM = rf"[{CN_NUMERALS}\d]+"
PAGE_MARKER = LineRule(
    "page_marker",
    re.compile(
        rf"^[(（]?\s*(?:上接|下转|接|转|续)第?{_NUM}版\s*[)）]?$|^[(（]?\s*(?:转|接)第?{_NUM}页"
    ),
    20,
    "newspaper page continuation markers such as (上接第三版) or (下转第2版)",
)
VIDEO_NOTICE = LineRule(
    "video_notice",
    re.compile(r"视频|視頻"),
    40,
    "video notices such as 【点击下方观看视频↓↓】 and video copyright lines",
)
CREDIT_LINE = LineRule(
    "credit_line",
    re.compile(
        r"^(?:【[^】]{1,12}】)?\s*(?:本台|本报|本網|本网|特约|见习)?"
        r"(?:记者|記者|通讯员|通訊員|编辑|編輯|责任编辑|責任編輯|责编|責編|实习生|摄影|攝影|摄像|"
        r"校对|審核|审核|初审|复审|终审|[一二三]审|[一二三]審|监制|監製|制作|编审|主编)\s*[:：]"
        r"|^[(（]\s*(?:本台|本报|本報|本网|本網|特约|特約)?\s*(?:记者|記者|通讯员|通訊員)[^()（）]{1,40}[)）]$"
    ),
    60,
    "reporter, correspondent, editor and review credits such as 本台记者:…, 【…】一审:… "
    "or (本报记者 … 通讯员 …)",
)
CONTACT_LINE = LineRule(
    "contact_footer",
    re.compile(
        r"^(?:电话|電話|联系电话|聯繫電話|传真|傳真|微信公众号|微信公眾號|微信|电子信箱|電子信箱|"
        r"电子邮箱|電子郵箱|邮箱|郵箱|e-?mail|地址|邮编|郵編)\s*[:：]"
        r"|^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$"
        r"|^[(（]?\d{3,4}[)）-]?\s*\d{7,8}(?:/\d+)?$"
        r"|(?:扫码|掃碼|关注|關注).{0,12}(?:下载|下載|APP|App|公众号|公眾號)",
        re.IGNORECASE,
    ),
    60,
    "contact footers: telephone, WeChat, e-mail lines and 'scan to download' notices",
)
COPYRIGHT_LINE = LineRule(
    "copyright_footer",
    re.compile(
        r"copyright|©|版权所有|版權所有|all rights reserved|未经许可不得转载", re.IGNORECASE
    ),
    80,
    "copyright footers",
)
SOURCE_HEADER = LineRule(
    "source_header",
    re.compile(
        r"^\d{4}[-年/.]\d{1,2}[-月/.]\d{1,2}日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*"
        r"(?:(?:来源|來源|发布|發布|作者)\s*[:：].*)?$"
        r"|^(?:来源|來源|发布时间|發布時間|发布日期|發布日期|信息来源|信息來源|本文来源|本文來源|"
        r"文章来源|文章來源|稿件来源|稿件來源)\s*[:：]"
        r"|(?:浏览次数|瀏覽次數|阅读次数|閱讀次數|点击数|點擊數|访问量|訪問量)\s*[:：]"
    ),
    60,
    "source/date header lines such as 2020年01月06日17:30 来源:中国网, and page-view counters",
)
METADATA_TABLE = LineRule(
    "metadata_table",
    re.compile(
        r"(?:索引号|索引號|文件编号|文件編號|发布机构|發布機構|成文日期|公开方式|公開方式|公开范围|"
        r"公開範圍|发文字号|發文字號|主题分类|主題分類|发布日期|發布日期|有效性)\s*[:：]?\s*\|"
    ),
    200,
    "rows of government-portal metadata tables (索引号 | … | 成文日期 | …)",
)
NEWS_LEAD = LineRule(
    "news_lead",
    re.compile(r"^(?:今天|今日|昨天|昨日|本周|日前|近日)\s*[(（]\d{1,2}日[)）]"),
    200,
    "a news report's lead sentence dated relative to publication, e.g. 今天(22日)上午,…",
)
_CHROME_WORD = (
    r"打印本页|打印本頁|打印|关闭窗口|關閉窗口|关闭本页|關閉本頁|关闭|關閉|收藏本页|收藏|"
    r"返回顶部|返回頂部|返回|字号|字號|大|中|小|默认|默認"
)
PORTAL_CHROME = LineRule(
    "portal_chrome",
    re.compile(
        rf"^(?:[【\[]?\s*(?:{_CHROME_WORD})\s*[】\]]?\s*)+$"
        r"|^(?:字号|字號)\s*[:：]"
        r"|^扫一扫|^掃一掃|^分享到|^(?:上|下)一(?:篇|条|條)\s*[:：]|^相关链接|^相關鏈接"
    ),
    60,
    "web-page controls such as 【打印本页】【关闭窗口】, 字号:大 中 小, 扫一扫在手机打开当前页, "
    "分享到:, 上一篇:/下一篇:",
)
SITE_FOOTER = LineRule(
    "site_footer",
    re.compile(
        # Only signs no content line carries: 主办单位 alone can be an event's organiser.
        r"网站标识码|網站標識碼|ICP\s*[备備证證]|公网安备|公網安備",
        re.IGNORECASE,
    ),
    120,
    "portal footers: lines with a 网站标识码, ICP or 公网安备 registration number",
)
PIPE_ONLY = LineRule(
    "table_pipes",
    re.compile(r"^[|\s]+$"),
    200,
    "lines made only of table pipes",
)

#: Line rules applied by :func:`clean_text`, in order.
DEFAULT_LINE_RULES: tuple[LineRule, ...] = (
    PAGE_MARKER,
    VIDEO_NOTICE,
    CREDIT_LINE,
    CONTACT_LINE,
    COPYRIGHT_LINE,
    SOURCE_HEADER,
    METADATA_TABLE,
    NEWS_LEAD,
    PORTAL_CHROME,
    SITE_FOOTER,
    PIPE_ONLY,
)


def _drop_lines(text: str, rule: LineRule) -> str:
    return "\n".join(line for line in text.split("\n") if not rule.matches(line))


def remove_page_markers(text: str) -> str:
    """Drop newspaper page continuation markers.

    >>> remove_page_markers("标题\\n(上接第三版)\\n正文")
    '标题\\n正文'
    """
    return _drop_lines(text, PAGE_MARKER)


def remove_video_notices(text: str) -> str:
    """Drop short lines announcing or crediting a video.

    >>> remove_video_notices("【点击下方观看视频↓↓】\\n全会指出,要推进改革。")
    '全会指出,要推进改革。'
    """
    return _drop_lines(text, VIDEO_NOTICE)


def remove_credit_lines(text: str) -> str:
    """Drop reporter, correspondent and editor credit lines.

    >>> remove_credit_lines("正文。\\n本台记者:魏佳媚\\n【无线泉州】一审:苏含雪")
    '正文。'
    """
    return _drop_lines(text, CREDIT_LINE)


def remove_contact_lines(text: str) -> str:
    """Drop telephone, WeChat and e-mail footer lines.

    >>> remove_contact_lines("正文。\\n电话:(010)65363816\\n773591345@qq.com")
    '正文。'
    """
    return _drop_lines(text, CONTACT_LINE)


def remove_copyright_lines(text: str) -> str:
    """Drop copyright footers.

    >>> remove_copyright_lines("正文。\\nCopyright 2020 by 某网 all rights reserved")
    '正文。'
    """
    return _drop_lines(text, COPYRIGHT_LINE)


def remove_source_header(text: str) -> str:
    """Drop source and posting-date header lines.

    >>> remove_source_header("2020年01月06日17:30 来源:中国网\\n正文。")
    '正文。'
    """
    return _drop_lines(text, SOURCE_HEADER)


def remove_metadata_table(text: str) -> str:
    """Drop rows of a portal metadata table.

    >>> remove_metadata_table("索引号: | 001/2022 | 文件编号: | |\\n正文。")
    '正文。'
    """
    return _drop_lines(text, METADATA_TABLE)


def remove_news_lead(text: str) -> str:
    """Drop a news report's lead sentence (dated relative to publication).

    >>> remove_news_lead("今天(22日)上午,全会举行。\\n决议正文。")
    '决议正文。'
    """
    return _drop_lines(text, NEWS_LEAD)


_INLINE_SOURCE = re.compile(r"\s*[(（](?:来源|來源|稿源|来自)\s*[:：][^()（）\n]{1,20}[)）]\s*$")


def remove_inline_source(text: str) -> str:
    """Drop a source credit in brackets at the end of a line.

    >>> remove_inline_source("落地见效。(来源:温州发布)")
    '落地见效。'
    """
    return "\n".join(_INLINE_SOURCE.sub("", line) for line in text.split("\n"))


def remove_table_pipes(text: str) -> str:
    """Drop lines made only of table pipes and strip pipes at the ends of lines.

    >>> remove_table_pipes("标题 | ||||\\n|\\n正文。 |")
    '标题\\n正文。'
    """
    text = _drop_lines(text, PIPE_ONLY)
    return "\n".join(_strip_pipes(line) for line in text.split("\n"))


def _strip_pipes(line: str) -> str:
    return line.strip().strip("| \t")


def rejoin_broken_lines(text: str) -> str:
    """Join a line that stops mid-sentence to the next line.

    A line that does not end in terminal punctuation, is not a pure heading, and
    is followed by a line that does not start with a heading or item marker was
    broken by a page or layout break (``全面贯彻实`` / ``施宪法``); the two are joined.
    Blank lines between them are skipped.

    >>> rejoin_broken_lines("(36)深化立法领域改革。全面贯彻实\\n\\n施宪法。\\n八、标题")
    '(36)深化立法领域改革。全面贯彻实施宪法。\\n八、标题'
    """
    return _rejoin(text)[0]


_PROSE = re.compile(r"[。，,；;、]")


def _rejoin(text: str) -> tuple[str, list[dict]]:
    """Joined text and one record per join (1-based line of the continuation)."""
    out: list[str] = []
    records: list[dict] = []
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.strip()
        if not line:
            continue
        if out and _joinable(out[-1], line):
            records.append(_record("rejoin_broken_lines", number, f"{out[-1][-6:]}|{line[:6]}", 0))
            out[-1] += line
        else:
            out.append(line)
    return "\n".join(out), records


def _joinable(previous: str, line: str) -> bool:
    # Only a prose line (one with sentence punctuation) can have been broken by a
    # page or layout break; a title or a label line ends without punctuation anyway.
    return (
        previous[-1] not in TERMINAL
        and bool(_PROSE.search(previous))
        and not is_heading_line(previous)
        and not HEADING_MARKER.match(line)
        and bool(re.match(rf"[{HAN}]", previous[-1]))
        and bool(re.match(rf"[{HAN}]", line[0]))
    )


#: ``str -> str`` steps applied by :func:`clean_text` after the line rules.
DEFAULT_STEPS: tuple[Callable[[str], str], ...] = (
    remove_inline_source,
    remove_table_pipes,
    join_split_words,
    rejoin_broken_lines,
    collapse_whitespace,
)


# --------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanResult:
    """Cleaned text and what was removed.

    Attributes
    ----------
    text : str
        The cleaned text, one paragraph per line.
    removed : list of dict
        One record per removed span: ``rule``, ``line`` (1-based line number in the
        input), ``text`` and ``n_chars``. Joins of broken lines are recorded with
        rule ``rejoin_broken_lines`` and ``n_chars`` 0.
    """

    text: str
    removed: list[dict] = field(default_factory=list)


def clean_text(
    text: str,
    *,
    line_rules: Sequence[LineRule] = DEFAULT_LINE_RULES,
    steps: Sequence[Callable[[str], str]] = DEFAULT_STEPS,
) -> CleanResult:
    """Clean one document and record what was removed.

    Normalisation (:func:`normalize_newlines`, :func:`normalize_width`,
    :func:`normalize_punctuation`) always runs first. Then every line matched by a
    rule in ``line_rules`` is dropped and recorded, then inline source credits are
    recorded, and finally ``steps`` run in order.

    Parameters
    ----------
    text : str
        A decoded document.
    line_rules : sequence of LineRule
        Line rules to apply; pass a subset of :data:`DEFAULT_LINE_RULES` (or your
        own :class:`LineRule` objects) to change what is removed.
    steps : sequence of callables
        ``str -> str`` steps applied after the line rules.

    Returns
    -------
    CleanResult

    Examples
    --------
    >>> r = clean_text("2020年01月06日17:30 来源:中国网\\n一、总体要求\\n电话:(010)65363816")
    >>> r.text
    '一、总体要求'
    >>> [(x["rule"], x["line"]) for x in r.removed]
    [('source_header', 1), ('contact_footer', 3)]
    """
    text = normalize_punctuation(normalize_width(normalize_newlines(text)))
    removed: list[dict] = []
    kept: list[str] = []
    for number, line in enumerate(text.split("\n"), start=1):
        rule = next((r for r in line_rules if r.matches(line)), None)
        if rule is None:
            if remove_inline_source in steps:
                match = _INLINE_SOURCE.search(line)
                if match:
                    removed.append(_record("inline_source", number, match.group().strip()))
            core = _strip_pipes(line)
            if remove_table_pipes in steps and core and core != line.strip():
                pipes = line.strip().replace(core, " ", 1).strip()
                removed.append(_record("table_pipes", number, pipes))
            kept.append(line)
        else:
            removed.append(_record(rule.name, number, line.strip()))
            kept.append("")  # keep line numbers aligned for later records
    text = "\n".join(kept)
    for step in steps:
        if step is rejoin_broken_lines:
            text, joins = _rejoin(text)
            removed.extend(joins)
        else:
            text = step(text)
    return CleanResult(text=text, removed=removed)


def _record(rule: str, line: int, text: str, n_chars: int | None = None) -> dict:
    return {
        "rule": rule,
        "line": line,
        "text": text,
        "n_chars": len(text) if n_chars is None else n_chars,
    }
