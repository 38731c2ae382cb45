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

Page chrome is recognised by three kinds of evidence (:func:`remove_page_chrome`):
the shape of a line (no sentence punctuation, few Han characters, page-control
words, ``label:value`` form, also with the value on the next line), its position
(runs of such lines before and after the body) and the corpus (lines that recur
across documents are a site's template, :func:`template_lines`; removed only
with chrome shape or outside the body, never a numbered heading, a salutation
or a title). :func:`clean_corpus` runs the corpus-level pass; ``load_corpus``
calls it. Inside the body a short line without punctuation followed by prose is
a heading and stays.

Examples
--------
>>> clean_text("(上接第三版)\\n一、总体要求\\n记者:张三").text
'一、总体要求'
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field

from policystudy.markers import (
    CN_NUMERALS,
    DOC_TITLE,
    HAN,
    HEADING_MARKER,
    ORD_MARKER_AHEAD,
    RUN_IN_CN_HEADING,
    RUN_IN_ORD_HEADING,
    SENTENCE_PUNCT,
    back_matter_kind,
    han_share,
    is_heading_line,
    is_salutation,
    is_unnumbered_heading,
)

__all__ = [
    "CleanResult",
    "DEFAULT_LINE_RULES",
    "DEFAULT_STEPS",
    "LineRule",
    "TEMPLATE_MIN_DOCS",
    "clean_corpus",
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
    "remove_format_chars",
    "remove_page_chrome",
    "remove_urls",
    "remove_inline_source",
    "remove_metadata_table",
    "remove_news_lead",
    "remove_page_markers",
    "remove_source_header",
    "remove_table_pipes",
    "remove_video_notices",
    "template_lines",
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


# NUL and the Unicode format characters (category Cf, Unicode 14): soft hyphen, Arabic
# number signs, zero-width space/joiners, direction marks and isolates, word joiner,
# invisible operators, byte-order mark, interlinear annotation, tags.
_FORMAT_CHARS = re.compile(
    "[\x00\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f]"
)


def remove_format_chars(text: str) -> str:
    """Drop NUL and every Unicode format character (category Cf).

    Zero-width spaces and joiners (U+200B/C/D), the word joiner U+2060, byte-order
    marks inside the text, soft hyphens and direction marks are invisible but split
    words: ``营商\\u200d环境`` would not match the lexicon term ``营商环境``.
    :func:`clean_text` counts them in the removed spans (rule ``format_chars``).

    >>> remove_format_chars("营商\\u200d环境\\u2060建设\\x00")
    '营商环境建设'
    """
    return _FORMAT_CHARS.sub("", text)


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
    does not use spaces between characters, so they are removed, except the spaces
    that are structure: the one that ends a run-in numbered heading (``三、…造富 现代``),
    the one after a 第…章/节/条 marker or a run-in chapter title (``第一章 总则``,
    ``第一章 总则 第一条``) and the one before a 第…条 marker followed by a space.
    Where a space stands for a stripped symbol (``领军人才 创新团队`` lost a ``+``)
    the symbol cannot be recovered.

    >>> join_split_words("优化收入分配格 局,基 本形成")
    '优化收入分配格局,基本形成'
    >>> join_split_words("相互促进。 三、做强现代产业造富 现代产业是")
    '相互促进。 三、做强现代产业造富 现代产业是'
    >>> join_split_words("第一章 总则 第一条 为了规 范管理。 第二条 本办法")
    '第一章 总则 第一条 为了规范管理。 第二条 本办法'
    """

    def repl(match: re.Match[str]) -> str:
        left = text[max(0, match.start() - 40) : match.start()]
        right = text[match.end() : match.end() + 12]
        structural = (
            RUN_IN_CN_HEADING.search(left)
            or RUN_IN_ORD_HEADING.search(left)
            or ORD_MARKER_AHEAD.match(right)
        )
        return match.group() if structural else ""

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


def _first_rules(lines: Sequence[str], line_rules: Sequence[LineRule]) -> list[str | None]:
    """The name of the first rule in ``line_rules`` that matches each line, or None."""
    if not all(type(r).matches is LineRule.matches for r in line_rules):
        # A subclass with its own ``matches`` is asked about every line.
        return [next((r.name for r in line_rules if r.matches(line)), None) for line in lines]
    # LineRule.matches inlined: each line stripped and measured once, not once per rule.
    bounds = [(r.max_len, r.pattern.search, r.name) for r in line_rules]
    names: list[str | None] = []
    for line in lines:
        line = line.strip()
        n = len(line)
        names.append(
            next((name for bound, search, name in bounds if n <= bound and search(line)), None)
            if n
            else None
        )
    return names


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
        # A date alone is a page header only in numeric form (2020-01-06); a date in
        # words alone (2023年5月12日) is a signing or adoption date, kept.
        r"^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s*(?:\d{1,2}:\d{2}(?::\d{2})?)?\s*"
        r"(?:(?:来源|來源|发布|發布|作者)\s*[:：].*)?$"
        r"|^\d{4}[-年/.]\d{1,2}[-月/.]\d{1,2}日?\s*(?:\d{1,2}:\d{2}(?::\d{2})?\s*"
        r"(?:(?:来源|來源|发布|發布|作者)\s*[:：].*)?|(?:来源|來源|发布|發布|作者)\s*[:：].*)$"
        r"|^(?:来源|來源|发布时间|發布時間|发布日期|發布日期|信息来源|信息來源|本文来源|本文來源|"
        r"文章来源|文章來源|稿件来源|稿件來源)\s*[:：]"
        r"|(?:浏览次数|瀏覽次數|阅读次数|閱讀次數|点击数|點擊數|访问量|訪問量)\s*[:：]"
    ),
    60,
    "source/date header lines such as 2020年01月06日17:30 来源:中国网 or 2020-01-06, and "
    "page-view counters (a date in words alone, such as a signing date, is kept)",
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

# Words of web-page buttons and links; a line made only of them (and of brackets,
# separators and symbols) is a page control, never text.
_CONTROL_WORD = (
    r"下载|下載|全屏|打印本页|打印|收藏本页|收藏|分享到|分享|关闭窗口|关闭|關閉|返回顶部|返回|顶部|"
    r"字号|字號|加大|还原|減小|减小|放大|缩小|默认|大|中|小|我要纠错|纠错|微信|微博|QQ空间|QQ|"
    r"朗读|语音播报|播放|暂停|无障碍|长者模式|繁体|繁體|简体|簡體|登录|注册|搜索|首页|尾页|"
    r"上一页|下一页|二维码|扫一扫|点击图片进入专题|点击进入专题|更多|English|》》|《《|A\+|A-|A"
)
PAGE_CONTROL = LineRule(
    "page_control",
    # Not parentheses or 《》 alone: those are pieces of a title broken across lines.
    re.compile(rf"^(?:{_CONTROL_WORD}|[\s【】\[\]<>|/:：×✕·•»›…\-_=*#+])+$"),
    40,
    "lines made only of web-page control words (下载 全屏 打印 收藏 分享 关闭 返回顶部, "
    "【字号: 加大 还原 减小】 pieces, 首页, 上一页) and separators or symbols (>, ×, 】)",
)
BREADCRUMB = LineRule(
    "breadcrumb",
    re.compile(
        r"^(?:当前位置|您的位置|您现在的位置|你的位置|你现在的位置|所在位置|当前页面)\s*[:：]"
        r"|^首页\s*(?:>|»|›|/|\|)"
        r"|^[^。，,；;]*(?:>|»|›)[^。，,；;]*(?:>|»|›)[^。，,；;]*$"
    ),
    80,
    "breadcrumbs: 当前位置:…, 您的位置:…, 首页 > 政务信息 > …",
)
_META_LABEL = (
    r"发表时间|发布时间|發布時間|更新时间|发布日期|發布日期|信息来源|信息來源|来源|來源|稿源|作者|"
    r"责任编辑|點擊|点击数|点击量|点击|浏览量|浏览|阅读量|阅读数|访问量|发布部门|发文字号|发文机关|"
    r"批准部门|批准日期|公布日期|实施日期|施行日期|失效日期|时效性|时效性状态|效力位阶|效力级别|"
    r"法规类别|专题分类|所属类别|原文链接|文章编号|信息索引|主题词|分享到"
)
_DATE = r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
_NUMERIC_DATE = r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?"
PAGE_METADATA = LineRule(
    "page_metadata",
    re.compile(
        rf"^[【\[]?(?:{_META_LABEL})[】\]]?\s*[:：]"
        rf"|^(?:时间|日期|时 间|日 期)\s*[:：]\s*{_DATE}"
        rf"|^{_NUMERIC_DATE}\s*$|^{_DATE}\s*\d{{1,2}}:\d{{2}}"
        rf"|^{_DATE}\s+(?:星期|周)[一二三四五六日天]$"
    ),
    100,
    "page metadata: label and value such as 发表时间:…, 来源:…, 发布部门:…, 时效性:…, "
    "时间:2026-02-11, a numeric date or a date with its time, a date with its weekday",
)
HEX_ID = LineRule(
    "hex_id",
    re.compile(r"^(?:\S{0,10}\s*[:：=]\s*)?[0-9a-fA-F]{32}$"),
    50,
    "32-hex-digit page or record ids, alone or after a short label",
)
URL_LINE = LineRule(
    "url",
    re.compile(r"^(?:[^\s:：]{0,10}\s*[:：]\s*)?(?:https?://|www\.)\S+$", re.IGNORECASE),
    300,
    "lines made of a URL, alone or after a short label (原文链接:https://…)",
)
EXPORT_STAMP = LineRule(
    "export_stamp",
    re.compile(r"^[【\[][^】\]]{2,10}码[】\]]|^(?:法宝引证码|引证码)\s*[:：]|\bCLI\.\d+\.\d+"),
    80,
    "database-export stamps such as 【法宝引证码】 CLI.11.…",
)
CAPTION = LineRule(
    "caption",
    re.compile(
        r"(?:记者|記者|摄影|攝影|通讯员|通訊員|图/|图:|图：)[^。！？!?]{0,24}[摄攝]\s*[)）]?$"
        r"|^[(（][^()（）]{1,30}[摄攝][)）]$"
        rf"|^[{HAN}·]{{2,5}}\s*/?\s*[摄攝]$|\s[摄攝]\s*[)）]?$"
        r"|^图为"
    ),
    150,
    "photo captions: …本报全媒体记者…摄, (…摄), 图为…",
)
RELATED_LINKS = LineRule(
    "related_links",
    re.compile(
        r"^[【\[]?(?:相关|延伸|推荐|热点|更多|往期|猜你喜欢)"
        r"(?:报道|文档|链接|阅读|新闻|文章|稿件|推荐|专题|信息|附件)?[】\]]?\s*[:：]?\s*$"
        r"|^[【\[]?(?:相关报道|相关文档|相关链接|相关阅读|相关新闻|延伸阅读|推荐阅读)[】\]]?\s*[:：]"
    ),
    30,
    "a related-links header (相关报道:, 相关文档:, 延伸阅读); the headline list after it "
    "is removed by :func:`remove_page_chrome`",
)

#: Line rules applied by :func:`clean_text`, in order; the first that matches names
#: the removal.
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
    EXPORT_STAMP,
    URL_LINE,
    PAGE_METADATA,
    BREADCRUMB,
    PAGE_CONTROL,
    HEX_ID,
    CAPTION,
    RELATED_LINKS,
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


# --------------------------------------------------------------------------
# Page chrome by evidence: line shape, position and the corpus
# --------------------------------------------------------------------------

#: A line recurring in at least this many documents of a corpus is a candidate
#: site-template line (see :func:`template_lines`).
TEMPLATE_MIN_DOCS = 2
#: Longest line counted by :func:`template_lines` (template lines are short).
TEMPLATE_MAX_LEN = 60
#: Longest line removed as the value of a label on the line before (``来源:`` / ``新华社``).
LABEL_VALUE_MAX = 40
#: Longest headline removed from a list after a related-links header.
HEADLINE_MAX = 80
#: Longest line of a breadcrumb written one item per line (``首页`` / ``>`` / ``政务信息``).
CRUMB_MAX = 15
#: Lines right next to the body that recurrence alone never removes (a signature, a speaker).
TEMPLATE_GUARD = 1

_SEPARATOR = re.compile(r"^[>»›/|\\-]+$")
_LABEL_VALUE = re.compile(rf"^[{HAN}]{{1,6}}\s*[:：]")
_SITE_NAME = re.compile(r"(?:网|网站|门户网站|门户|客户端|APP|App|新闻网|日报|晚报|发布)$")
_WORDS_DATE = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$")
_BRACKETED = re.compile(r"^[(（].*[)）]$")
_LABEL_RULES = frozenset({"source_header", "page_metadata", "breadcrumb", "credit_line"})


def _key(line: str) -> str:
    return re.sub(r"\s+", "", line)


def _punctuated(line: str) -> bool:
    return any(p in line for p in SENTENCE_PUNCT)


def _prose(line: str) -> bool:
    """A sentence: a full stop, or commas in a line of some length."""
    return bool(re.search(r"[。！？!?]", line)) or (_punctuated(line) and len(line) >= 15)


def _chrome_shape(line: str, *, words_date: bool = False) -> bool:
    """Shape of a chrome line that is not certain on its own (weak evidence).

    No sentence punctuation and one of: under half Han characters (a date, a
    number, Latin letters), a ``label:value`` pair with a label of at most six
    characters, a site name (…网, …客户端, …日报), or (``words_date``) a date in words.
    """
    if (
        _punctuated(line)
        or HEADING_MARKER.match(line)
        or is_salutation(line)
        or back_matter_kind(line)
    ):
        return False
    if _WORDS_DATE.match(line):
        return words_date
    return (
        (han_share(line) < 0.5 and not _BRACKETED.match(line))
        or (bool(_LABEL_VALUE.match(line)) and len(line) <= LABEL_VALUE_MAX)
        or (bool(_SITE_NAME.search(line)) and len(line) <= 20)
        or (words_date and bool(_WORDS_DATE.match(line)))
    )


def _body_line(lines: list[str], live: list[int], pos: int) -> bool:
    """Evidence of the document itself: prose, a numbered line, a back-matter heading
    (附件, 名词解释), a salutation or an unnumbered heading followed by prose."""
    line = lines[live[pos]].strip()
    following = lines[live[pos + 1]].strip() if pos + 1 < len(live) else ""
    if _prose(line) or HEADING_MARKER.match(line) or back_matter_kind(line):
        return True
    return (is_salutation(line) and _prose(following)) or (
        is_unnumbered_heading(line, following) and not _chrome_shape(line)
    )


def _page_chrome(
    lines: list[str], rules: list[str | None], template: Collection[str]
) -> dict[int, str]:
    """Lines that context shows to be chrome, by index, with the rule that removes them.

    ``rules`` holds, per line, the line rule that already removed it (or None).
    """
    found: dict[int, str] = {}
    rule = list(rules)

    def live() -> list[int]:
        return [i for i, line in enumerate(lines) if line.strip() and rule[i] is None]

    def mark(i: int, name: str) -> None:
        rule[i] = found[i] = name

    nonblank = [i for i, line in enumerate(lines) if line.strip()]
    nxt = dict(zip(nonblank, nonblank[1:], strict=False))
    prv = {b: a for a, b in nxt.items()}

    # A label removed on its own line (来源: / 发表时间:) takes its value with it.
    for i in nonblank:
        if rule[i] in _LABEL_RULES and re.search(r"[:：]$", lines[i].strip()) and i in nxt:
            j = nxt[i]
            value = lines[j].strip()
            if (
                rule[j] is None
                and len(value) <= LABEL_VALUE_MAX
                and not _punctuated(value)
                and not HEADING_MARKER.match(value)
            ):
                mark(j, "label_value")
    # The headline list after a related-links header, up to the first sentence.
    for i in nonblank:
        if rules[i] != "related_links":
            continue
        j = nxt.get(i)
        while j is not None and rule[j] in (None, "related_links", "page_metadata"):
            line = lines[j].strip()
            if rule[j] is None:
                if re.search(r"[。！？!?]", line) or len(line) > HEADLINE_MAX:
                    break
                mark(j, "related_links")
            j = nxt.get(j)
    # A breadcrumb written one item per line: short lines next to a separator.
    changed = True
    while changed:
        changed = False
        for i in nonblank:
            line = lines[i].strip()
            if rule[i] is not None or len(line) > CRUMB_MAX or _punctuated(line):
                continue
            for j in (prv.get(i), nxt.get(i)):
                if j is None or rule[j] not in ("page_control", "breadcrumb"):
                    continue
                other = lines[j].strip()
                if _SEPARATOR.match(other) or (
                    j == prv.get(i) and rule[j] == "breadcrumb" and re.search(r"[:：>»›/]$", other)
                ):
                    mark(i, "breadcrumb")
                    changed = True
                    break

    # Position: the body runs from the first to the last line of evidence.
    order = live()
    body = [p for p in range(len(order)) if _body_line(lines, order, p)]
    if not body:
        return found
    first, last = order[body[0]], order[body[-1]]
    lead = [i for i in order if i < first]
    trail = [i for i in order if i > last]
    # A signature right after the body or a speaker right before it is not template,
    # unless the template goes on beyond it (a footer menu right after the text).
    guard = {
        i
        for i in lead[-TEMPLATE_GUARD:]
        if nxt.get(i) == first and _key(lines[prv.get(i, i)]) not in template
    } | {
        i
        for i in trail[:TEMPLATE_GUARD]
        if prv.get(i) == last and _key(lines[nxt.get(i, i)]) not in template
    }

    # The title and subtitle repeated before the body.
    seen: set[str] = set()
    for i in lead:
        key = _key(lines[i])
        if key in seen and not _punctuated(lines[i]):
            mark(i, "repeated_title")
        seen.add(key)

    # Site template: a line recurring across the corpus that has chrome shape, or sits
    # before or after the body; never a numbered heading, a salutation or a title.
    if template:
        edges = set(lead) | set(trail)
        for p, i in enumerate(order):
            line = lines[i].strip()
            if rule[i] is not None or _key(line) not in template:
                continue
            following = lines[order[p + 1]].strip() if p + 1 < len(order) else ""
            if (
                HEADING_MARKER.match(line)
                or is_salutation(line)
                or DOC_TITLE.search(line)
                or (is_unnumbered_heading(line, following) and not _chrome_shape(line))
            ):
                continue
            if _chrome_shape(line) or (i in edges and i not in guard):
                mark(i, "site_template")

    # Runs of chrome-shaped lines before and after the body, anchored by a removed line.
    spans = (([i for i in nonblank if i < first], True), ([i for i in nonblank if i > last], False))
    for span, words_date in spans:
        run: list[int] = []
        for i in [*span, None]:
            if i is not None and (
                rule[i] is not None
                or (
                    _chrome_shape(lines[i].strip(), words_date=words_date)
                    and not (i in prv and _open_bracket(lines[prv[i]]))
                )
            ):
                run.append(i)
                continue
            if any(rule[j] is not None for j in run):
                for j in run:
                    if rule[j] is None:
                        mark(j, "page_chrome")
            run = []
    return found


def _open_bracket(line: str) -> bool:
    """A line that leaves a bracket open: the next line is its continuation."""
    return sum(line.count(c) for c in "(（《“") > sum(line.count(c) for c in ")）》”")


def template_lines(texts: Iterable[str], *, min_docs: int = TEMPLATE_MIN_DOCS) -> frozenset[str]:
    """Short lines that recur in at least ``min_docs`` of ``texts``: a site's template.

    Lines are compared after normalisation, without spaces; only lines of at most
    :data:`TEMPLATE_MAX_LEN` characters count. :func:`clean_text` removes a
    recurring line only with more evidence (see :func:`remove_page_chrome`).

    >>> sorted(template_lines(["网站地图\\n正文一。", "网站地图\\n正文二。"]))
    ['网站地图']
    """
    counts: Counter[str] = Counter()
    for text in texts:
        text = normalize_punctuation(normalize_width(remove_format_chars(normalize_newlines(text))))
        keys = {_key(line) for line in text.split("\n")}
        counts.update(k for k in keys if k and len(k) <= TEMPLATE_MAX_LEN)
    return frozenset(k for k, n in counts.items() if n >= min_docs)


def remove_page_chrome(
    text: str,
    *,
    line_rules: Sequence[LineRule] = DEFAULT_LINE_RULES,
    template: Collection[str] = (),
) -> str:
    """Drop page chrome shown by line shape, position and recurrence.

    Lines matched by ``line_rules`` are removed and are the anchor of the evidence:

    - ``label_value``: the value line after a label removed on its own line
      (``来源:`` / ``新华社``; at most :data:`LABEL_VALUE_MAX` characters, no sentence
      punctuation);
    - ``related_links``: the headlines after a related-links header, up to the first
      line with a full stop or longer than :data:`HEADLINE_MAX`;
    - ``breadcrumb``: short lines (at most :data:`CRUMB_MAX`) next to a breadcrumb
      separator line (``首页`` / ``>`` / ``政务信息``);
    - ``repeated_title``: a line without sentence punctuation repeated before the body;
    - ``site_template``: a line of ``template`` (see :func:`template_lines`) that has
      chrome shape, or lies before or after the body and not within
      :data:`TEMPLATE_GUARD` lines of it; numbered headings, salutations, titles
      (:data:`policystudy.markers.DOC_TITLE`) and unnumbered headings never;
    - ``page_chrome``: before or after the body, a run of lines without sentence
      punctuation that are under half Han characters, ``label:value`` pairs, site
      names or (before the body) a date in words, when the run holds a removed line.

    The body runs from the first to the last line of prose, numbered heading,
    salutation or unnumbered heading followed by prose; inside it only the line
    rules and the list rules apply, so a short line followed by prose stays a heading.

    >>> page = "首页\\n>\\n政务信息\\n关于印发方案的通知\\n来源:\\n市政府办公室\\n现将方案印发。"
    >>> remove_page_chrome(page)
    '关于印发方案的通知\\n现将方案印发。'
    """
    lines = text.split("\n")
    rules = _first_rules(lines, line_rules)
    found = _page_chrome(lines, rules, template)
    return "\n".join(line for i, line in enumerate(lines) if rules[i] is None and i not in found)


_URL = re.compile(r"(?:https?://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'*+,;=%]+", re.IGNORECASE)


def remove_urls(text: str) -> str:
    """Drop URLs inside lines (lines that are only a URL are removed by rule ``url``).

    >>> remove_urls("详见https://www.example.gov.cn/a.html。")
    '详见。'
    """
    return _URL.sub("", text)


def rejoin_broken_lines(text: str) -> str:
    """Join a line that stops mid-sentence to the next line: prose to prose only.

    A page or layout break inside a sentence leaves a line that ends without
    terminal punctuation (``全面贯彻实`` / ``施宪法。``). The two lines are joined only
    when the break is inside a sentence on both sides: the first line is prose
    (it has sentence punctuation), is not a heading and ends in a Han character,
    a comma or an enumeration comma;
    the next starts with a Han character, has sentence punctuation itself and is
    not a heading, a numbered item, a salutation (``各位代表:``) or a photo caption.
    A title, a heading, a label or a caption is never joined. Blank lines between
    them are skipped.

    >>> rejoin_broken_lines("(36)深化立法领域改革。全面贯彻实\\n\\n施宪法。\\n八、标题")
    '(36)深化立法领域改革。全面贯彻实施宪法。\\n八、标题'
    >>> rejoin_broken_lines("省长作政府工作报告。本报记者张三摄\\n各位代表:")
    '省长作政府工作报告。本报记者张三摄\\n各位代表:'
    """
    return _rejoin(text)[0]


_PROSE = re.compile(r"[。，,；;、]")
_SENTENCE = re.compile(r"[。，,；;！？!?]")


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
    # page or layout break, and only into a line that continues the sentence.
    return (
        previous[-1] not in TERMINAL
        and bool(_PROSE.search(previous))
        and not is_heading_line(previous)
        and not HEADING_MARKER.match(line)
        and bool(re.match(rf"[{HAN},、]", previous[-1]))
        and bool(re.match(rf"[{HAN}]", line[0]))
        and bool(_SENTENCE.search(line))
        and not is_salutation(line)
        and not CAPTION.matches(previous)
        and not CAPTION.matches(line)
    )


#: ``str -> str`` steps applied by :func:`clean_text` after the line rules.
DEFAULT_STEPS: tuple[Callable[[str], str], ...] = (
    remove_urls,
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
    page_chrome: bool = True,
    template: Collection[str] = (),
) -> CleanResult:
    """Clean one document and record what was removed.

    Normalisation (:func:`normalize_newlines`, :func:`remove_format_chars`,
    :func:`normalize_width`, :func:`normalize_punctuation`) always runs first; the
    format characters it drops are counted per line (rule ``format_chars``, ``text``
    their code points). Then every line matched by a rule in ``line_rules`` is
    dropped and recorded; with ``page_chrome`` the lines that context shows to be
    chrome (:func:`remove_page_chrome`: label values, headline lists, breadcrumbs,
    repeated titles, ``template`` lines, chrome runs before and after the body)
    are dropped and recorded; then URLs inside lines (rule ``inline_url``), inline
    source credits and table pipes are recorded, and finally ``steps`` run in order.

    Parameters
    ----------
    text : str
        A decoded document.
    line_rules : sequence of LineRule
        Line rules to apply; pass a subset of :data:`DEFAULT_LINE_RULES` (or your
        own :class:`LineRule` objects) to change what is removed.
    steps : sequence of callables
        ``str -> str`` steps applied after the line rules.
    page_chrome : bool, default True
        Apply the context rules of :func:`remove_page_chrome`.
    template : collection of str
        Lines (without spaces) that recur across the corpus, from
        :func:`template_lines`; :func:`clean_corpus` passes them.

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
    text = normalize_newlines(text)
    raw_lines = text.split("\n")
    text = normalize_punctuation(normalize_width(remove_format_chars(text)))
    lines = text.split("\n")
    rules = _first_rules(lines, line_rules)
    if page_chrome:
        for i, name in _page_chrome(lines, rules, template).items():
            rules[i] = name
    removed: list[dict] = []
    kept: list[str] = []
    for number, (line, rule, raw) in enumerate(zip(lines, rules, raw_lines, strict=True), 1):
        invisible = _FORMAT_CHARS.findall(raw)
        if invisible:
            names = " ".join(sorted({f"U+{ord(c):04X}" for c in invisible}))
            removed.append(_record("format_chars", number, names, len(invisible)))
        if rule is None:
            if remove_urls in steps:
                for match in _URL.finditer(line):
                    removed.append(_record("inline_url", number, match.group()))
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
            removed.append(_record(rule, number, line.strip()))
            kept.append("")  # keep line numbers aligned for later records
    text = "\n".join(kept)
    for step in steps:
        if step is rejoin_broken_lines:
            text, joins = _rejoin(text)
            removed.extend(joins)
        else:
            text = step(text)
    return CleanResult(text=text, removed=removed)


def clean_corpus(
    texts: Sequence[str],
    *,
    template_min_docs: int | None = TEMPLATE_MIN_DOCS,
    **options: object,
) -> list[CleanResult]:
    """Clean the documents of one corpus, with the corpus as evidence of its template.

    Lines that recur in at least ``template_min_docs`` documents
    (:func:`template_lines`) are a site's template; :func:`clean_text` removes one
    (rule ``site_template``) where it also has chrome shape or lies before or after
    the body (see :func:`remove_page_chrome`). ``template_min_docs=None`` cleans each
    document on its own evidence. ``options`` go to :func:`clean_text`.

    >>> pages = ["政务公开\\n关于甲的通知\\n正文一。", "政务公开\\n关于乙的通知\\n正文二。"]
    >>> [r.text for r in clean_corpus(pages)]
    ['关于甲的通知\\n正文一。', '关于乙的通知\\n正文二。']
    """
    template = (
        template_lines(texts, min_docs=template_min_docs)
        if template_min_docs is not None
        else frozenset()
    )
    return [clean_text(text, template=template, **options) for text in texts]  # type: ignore[arg-type]


def _record(rule: str, line: int, text: str, n_chars: int | None = None) -> dict:
    return {
        "rule": rule,
        "line": line,
        "text": text,
        "n_chars": len(text) if n_chars is None else n_chars,
    }
