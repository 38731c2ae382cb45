"""Cleaning rules, each on real lines of the bundled corpus."""

from __future__ import annotations

import doctest
import re

import pytest

from policystudy import clean
from policystudy.clean import clean_text, normalize_punctuation, normalize_width
from policystudy.load import detect_script


def test_doctests_pass() -> None:
    result = doctest.testmod(clean)
    assert result.attempted > 10 and result.failed == 0


def _raw(docs, doc_id: str) -> str:
    return docs.set_index("doc_id").loc[doc_id, "raw_text"]


def test_page_marker_removed(docs) -> None:
    raw = _raw(docs, "quanzhou-2024-reform-decision")
    assert "(上接第三版)" in raw
    assert "上接第三版" not in clean_text(raw).text


def test_rejoins_sentence_broken_by_layout(docs) -> None:
    raw = _raw(docs, "quanzhou-2024-reform-decision")
    assert re.search(r"全面贯彻实\n+施宪法", raw)
    text = clean_text(raw).text
    assert "全面贯彻实施宪法" in text
    assert "新闻宣传和网络舆论一体化管理" in text
    # headings are never glued to the item that follows them
    assert re.search(r"^八、探索泉州融合发展新路.*示范区建设$", text, flags=re.M)


def test_wenzhou_header_footer_removed(docs) -> None:
    raw, _, _ = detect_script(_raw(docs, "wenzhou-2020-governance-decision"))
    result = clean_text(raw)
    rules = [r["rule"] for r in result.removed]
    assert rules.count("contact_footer") == sum(
        1
        for line in raw.splitlines()
        if re.match(r"^(电话|微信公众号|电子信箱):|^\d+@|欢迎关注", line)
    )
    assert "source_header" in rules and "copyright_footer" in rules and "inline_source" in rules
    for gone in ("来源:中国网", "65363816", "qq.com", "Copyright", "版权所有", "温州发布"):
        assert gone not in result.text
    assert result.text.endswith("确保中央及省市委推进治理现代化的各项重大决策部署落地见效。")


def test_news_wrapper_removed(docs) -> None:
    result = clean_text(_raw(docs, "quanzhou-2025-plenum-resolution"))
    rules = {r["rule"] for r in result.removed}
    assert {"news_lead", "video_notice", "credit_line"} <= rules
    for gone in ("视频", "记者", "通讯员", "一审", "三审", "今天(22日)"):
        assert gone not in result.text
    assert result.text.splitlines()[0].startswith(
        "中国共产党泉州市第十三届委员会第九次全体会议决议"
    )


def test_metadata_table_and_pipes_removed(docs) -> None:
    result = clean_text(_raw(docs, "taizhou-2021-common-prosperity-plan"))
    assert "|" not in result.text
    assert "索引号" not in result.text and "成文日期" not in result.text
    # the title inside the table is content and stays
    assert result.text.splitlines()[0] == "台州高质量发展建设共同富裕先行市行动方案(2021-2025年)"


def test_layout_spaces_inside_words_joined(docs) -> None:
    text = clean_text(_raw(docs, "taizhou-2021-common-prosperity-plan")).text
    for word in ("收入分配格局", "基本形成", "死亡率"):
        assert word in text
    assert "三、做强现代产业造富 现代产业是" in text  # structural space kept


def test_every_content_sentence_kept(docs) -> None:
    """Every sentence of the decoded text survives unless a recorded rule removed it."""
    for doc in docs.itertuples():
        converted, _, _ = detect_script(doc.raw_text)
        result = clean_text(converted)
        removed = [re.sub(r"[\s|]", "", r["text"]) for r in result.removed if r["n_chars"]]
        kept = re.sub(r"\s", "", result.text)
        source = normalize_punctuation(normalize_width(converted))
        for sentence in re.split(r"[。\n]", re.sub(r"[ \t|]", "", source)):
            if len(_han(sentence)) < 8 or any(sentence in r or r in sentence for r in removed):
                continue
            assert sentence in kept, (doc.doc_id, sentence)


def _han(s: str) -> str:
    return "".join(re.findall(r"[\u4e00-\u9fff]", s))


def test_content_lines_not_removed_by_boilerplate_patterns() -> None:
    # Long lines mentioning a phone service or copyright are content, not footers.
    line = "完善12345政务服务便民热线电话:全面推行版权所有者权益保护机制,加快建设知识产权强市。" * 2
    assert clean_text(line).text == line


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("（２９）完善机制，推进。", "(29)完善机制,推进。"),
        ("a\u3000b", "a b"),
    ],
)
def test_normalize_width(text: str, expected: str) -> None:
    assert normalize_width(text) == expected


def test_custom_rules_are_respected(docs) -> None:
    raw = _raw(docs, "quanzhou-2025-plenum-resolution")
    kept_credits = clean_text(
        raw, line_rules=[r for r in clean.DEFAULT_LINE_RULES if r.name != "credit_line"]
    )
    assert "本台记者" in kept_credits.text


PORTAL_PAGE = """温州市人民政府关于印发数字经济实施方案的通知
发布时间:2023-05-12 10:20 来源:市政府办公室 浏览次数:1234
字号:[ 大 中 小 ]
各县(市、区)人民政府,市政府直属各单位:
现将《数字经济实施方案》印发给你们,请认真贯彻执行。
一、总体要求
到2025年,全市数字经济核心产业增加值占比达到15以上。
扫一扫在手机打开当前页
【打印本页】【关闭窗口】
分享到:
(本报记者 李四 通讯员 王五)
本文来源:温州日报
附件:1.任务分工表
主办单位:温州市人民政府办公室 网站标识码:3303000001 浙ICP备05001234号
浙公网安备 33030202000123号
上一篇:关于加强安全生产工作的通知
下一篇:关于推进共同富裕的意见"""


def test_portal_page_chrome_and_footer_removed() -> None:
    result = clean_text(PORTAL_PAGE)
    assert result.text.split("\n") == [
        "温州市人民政府关于印发数字经济实施方案的通知",  # a title is not joined to the next line
        "各县(市、区)人民政府,市政府直属各单位:",
        "现将《数字经济实施方案》印发给你们,请认真贯彻执行。",
        "一、总体要求",
        "到2025年,全市数字经济核心产业增加值占比达到15以上。",
        "附件:1.任务分工表",
    ]
    rules = [span["rule"] for span in result.removed]
    for rule in ("portal_chrome", "site_footer", "credit_line", "source_header"):
        assert rule in rules
    assert "rejoin_broken_lines" not in rules


def test_organiser_lines_of_an_event_plan_are_content() -> None:
    text = "主办单位:温州市商务局\n承办单位:各县(市、区)商务局"
    assert clean_text(text).text == text


def test_every_format_character_is_removed_and_counted() -> None:
    import sys
    import unicodedata

    format_chars = [
        chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"
    ]
    text = "营商" + "".join(format_chars) + "环境\x00建设。"
    result = clean_text(text)
    assert result.text == "营商环境建设。"
    (record,) = [r for r in result.removed if r["rule"] == "format_chars"]
    assert record["n_chars"] == len(format_chars) + 1 and record["line"] == 1


def test_signing_date_kept_and_header_date_removed() -> None:
    text = (
        "首页\n>\n通知公告\n关于开展安全检查的通知\n2026年02月11日\n打印\n"
        "各单位:\n请于本月底前完成自查,并报送检查结果。\n某市应急管理局\n2026年2月10日"
    )
    result = clean_text(text)
    assert result.text.split("\n") == [
        "关于开展安全检查的通知",
        "各单位:",
        "请于本月底前完成自查,并报送检查结果。",
        "某市应急管理局",
        "2026年2月10日",
    ]


def test_label_and_value_on_two_lines_removed_together() -> None:
    result = clean_text(
        "关于印发方案的通知\n发表时间:\n2026-02-11 10:20\n来源:\n市政府办公室\n"
        "正文如下,请遵照执行。"
    )
    assert result.text == "关于印发方案的通知\n正文如下,请遵照执行。"
    assert [r["rule"] for r in result.removed] == [
        "page_metadata",
        "source_header",
        "source_header",
        "label_value",
    ]


def test_short_line_followed_by_prose_inside_the_body_is_kept() -> None:
    text = (
        "某市工作报告\n各位代表:\n现在,我代表市人民政府报告工作。\n开放合作\n"
        "我们扩大高水平对外开放,外贸进出口增长百分之八。\n打印 关闭"
    )
    assert clean_text(text).text.split("\n")[3] == "开放合作"


def test_rejoin_only_prose_to_prose() -> None:
    assert (
        clean_text("我们要加快建设,推进产业升\n级和结构调整。").text
        == "我们要加快建设,推进产业升级和结构调整。"
    )
    for text in (
        "省长作报告。本报记者张三摄\n各位代表:",  # caption, salutation
        "我们要加快建设,推进产业\n开放合作",  # a heading after it
        "会议强调,要推进改革\n二、主要任务",
    ):
        assert "rejoin_broken_lines" not in {r["rule"] for r in clean_text(text).removed}, text


def test_pkulaw_stamps_removed() -> None:
    text = "某市办法\n第一条 为了规范管理,制定本办法。\n【法宝引证码】CLI.11.5123456\n原文链接:https://www.pkulaw.com/lar/abc.html"
    result = clean_text(text)
    assert result.text == "某市办法\n第一条 为了规范管理,制定本办法。"
    assert {r["rule"] for r in result.removed} == {"export_stamp", "url"}
