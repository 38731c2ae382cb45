"""Unit splitting on each bundled document's own structure."""

from __future__ import annotations

import doctest
import re

import pandas as pd

from policystudy import units as units_module
from policystudy.units import split_units


def _doc(units: pd.DataFrame, doc_id: str) -> pd.DataFrame:
    return units[units["doc_id"] == doc_id]


def _numbers(frame: pd.DataFrame, pattern: str) -> list[int]:
    return [int(m.group(1)) for m in frame["text"].map(lambda t: re.match(pattern, t)) if m]


def test_doctests_pass() -> None:
    from policystudy import markers

    for module in (units_module, markers):
        result = doctest.testmod(module)
        assert result.failed == 0
        assert result.attempted > 0, f"no doctest ran in {module.__name__}"


def test_columns_and_ids(units, docs) -> None:
    for column in (
        "doc_id",
        "unit_id",
        "section",
        "section_id",
        "text",
        "kind",
        "is_heading",
        "heading_level",
        "city",
        "doc_type",
        "year",
        "province",
    ):
        assert column in units.columns
    assert units["unit_id"].is_unique
    assert "raw_text" not in units.columns
    assert set(units["doc_id"]) == set(docs["doc_id"])
    # metadata travels unchanged
    merged = units.merge(docs[["doc_id", "city", "year"]], on="doc_id", suffixes=("", "_doc"))
    assert (merged["city"] == merged["city_doc"]).all() and (
        merged["year"] == merged["year_doc"]
    ).all()


def test_text_is_preserved(units, docs) -> None:
    for doc in docs.itertuples():
        joined = "".join(_doc(units, doc.doc_id)["text"])
        assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", doc.text)


def test_quanzhou_decision_starts_mid_way(units) -> None:
    qz = _doc(units, "quanzhou-2024-reform-decision")
    body = qz[qz["section_id"] != "preamble"]
    assert list(dict.fromkeys(body["section_id"])) == [
        "八",
        "九",
        "十",
        "十一",
        "十二",
        "十三",
        "十四",
        "十五",
    ]
    items = qz[qz["kind"] == "item"]
    assert _numbers(items, r"\((\d+)\)") == [n for n in range(29, 59) if n != 35]
    assert (items["heading_level"] == 2).all()
    assert qz.iloc[0]["kind"] == "title" and qz.iloc[0]["is_heading"]
    # un-numbered continuation paragraphs stay under their item's section
    paragraphs = qz[qz["kind"] == "paragraph"]
    assert len(paragraphs) > 0 and (paragraphs["section_id"] != "preamble").all()


def _raw(docs: pd.DataFrame, doc_id: str) -> str:
    return docs.set_index("doc_id").loc[doc_id, "raw_text"]


def test_wenzhou_three_levels(units, docs) -> None:
    wz = _doc(units, "wenzhou-2020-governance-decision")
    headings = wz[wz["is_heading"]]
    assert set(headings["heading_level"]) == {1, 2, 3}
    assert list(dict.fromkeys(wz["section_id"])) == ["preamble", "一", "二", "三"]
    targets = wz[wz["kind"] == "target"]
    # One target per line of the file that starts with a dash (6 in the file).
    raw = _raw(docs, "wenzhou-2020-governance-decision")
    n_dash_lines = sum(line.lstrip().startswith("——") for line in raw.splitlines())
    assert n_dash_lines == 6
    assert len(targets) == n_dash_lines and targets["text"].str.startswith("——").all()
    level2 = headings[headings["heading_level"] == 2]
    assert level2["text"].str.match(r"\([一二三四五六]\)").all()
    assert (wz["subsection"] != "").sum() > 0


def test_licheng_report_items_are_sections(units) -> None:
    lc = _doc(units, "licheng-2023-work-report")
    assert list(lc["section_id"]) == ["三", "四", "五", "六"]
    assert list(lc["kind"]) == ["item"] * 4
    assert lc["section"].iloc[0] == "(三)在共建共享中增进民生福祉"


def test_taizhou_run_in_items_in_one_long_line(units, docs) -> None:
    raw = docs.set_index("doc_id").loc["taizhou-2021-common-prosperity-plan", "raw_text"]
    assert max(len(line) for line in raw.splitlines()) > 20000
    tz = _doc(units, "taizhou-2021-common-prosperity-plan")
    sections = tz[tz["heading_level"] == 1]
    assert list(sections["section_id"]) == [
        "一",
        "二",
        "三",
        "四",
        "五",
        "六",
        "七",
        "八",
        "九",
        "十",
        "十一",
    ]
    numbers = _numbers(tz[tz["kind"] == "item"], r"(\d+)\s*\.")
    # items lost with the text after '%' signs (14, 15, 27, 28) are the only gaps
    assert numbers == [n for n in range(1, 49) if n not in (14, 15, 27, 28)]
    # The targets run in within the one long line: one per dash in the file (7).
    assert (tz["kind"] == "target").sum() == raw.count("——") == 7
    assert tz["n_chars"].max() < 2000
    # a number such as "3.5" or "10.17" never starts an item
    assert not tz["text"].str.match(r"\d+\.\d").any()


def test_resolution_without_headings_gets_fallback(units, docs) -> None:
    res = _doc(units, "quanzhou-2025-plenum-resolution")
    assert (res["section_id"] == "none").all() and (res["section"] == "(no headings)").all()
    assert (res["heading_level"] == 0).all()
    # Each "全会强调" of the file (7) opens a paragraph of its own.
    n_emphases = _raw(docs, "quanzhou-2025-plenum-resolution").count("全会强调")
    assert n_emphases == 7
    assert res["text"].str.startswith("全会强调").sum() == n_emphases


def test_synthetic_structure_and_input_unchanged() -> None:
    docs = pd.DataFrame(
        {
            "doc_id": ["x"],
            "text": [
                "总体安排如下。 一、目标 1. 增收。提高收入。 2. 就业。稳定就业。"
                " 二、保障 3. 组织。加强领导。"
            ],
            "city": ["某市"],
        }
    )
    before = docs.copy()
    out = split_units(docs)
    pd.testing.assert_frame_equal(docs, before)
    assert list(out["kind"]) == ["paragraph", "heading", "item", "item", "heading", "item"]
    assert list(out["section_id"]) == ["preamble", "一", "一", "一", "二", "二"]
    assert (out["city"] == "某市").all()


def test_missing_column() -> None:
    try:
        split_units(pd.DataFrame({"doc_id": ["a"]}))
    except ValueError as err:
        assert "text" in str(err)
    else:  # pragma: no cover
        raise AssertionError("expected ValueError")


REGULATION = (
    "泉州市促进民营经济发展条例\n"
    "第一章 总则\n"
    "第一条 为了优化民营经济发展环境,结合本市实际,制定本条例。\n"
    "第二条 本条例适用于本市行政区域。 第三条 市人民政府应当加强领导。\n"
    "第二章 发展环境\n"
    "第一节 市场准入\n"
    "第四条 各级人民政府应当依照本条例第三条的规定,落实负面清单制度。\n"
    "第五条 支持民营企业参与下列项目:\n"
    "(一)重大基础设施建设;\n"
    "(二)公共服务领域项目。\n"
    "第二节 要素保障\n"
    "第六条 保障民营企业用地需求。\n"
    "第三章 附则\n"
    "第一百零五条 本条例自2025年1月1日起施行。"
)


def test_regulation_chapters_sections_articles() -> None:
    units = split_units(pd.DataFrame({"doc_id": ["reg"], "text": [REGULATION]}))
    assert units["kind"].tolist() == [
        "title",
        "heading",  # 第一章
        "item",
        "item",
        "item",  # 第三条, split from the line of 第二条 after the space
        "heading",  # 第二章
        "heading",  # 第一节
        "item",  # 第四条; its reference to 第三条 mid-sentence is not a marker
        "item",
        "item",  # (一) ending in ; is a list entry, not a title
        "item",  # (二) ... 。 without body, like its sibling (一): a list entry
        "heading",
        "item",
        "heading",
        "item",
    ]
    assert units["section"].iloc[1:5].eq("第一章 总则").all()
    assert (
        units.loc[units["text"].str.startswith("第六条"), "subsection"].item() == "第二节 要素保障"
    )
    assert units["heading_level"].tolist()[1:8] == [1, 3, 3, 3, 1, 2, 3]
    assert units["text"].iloc[-1].startswith("第一百零五条")
    assert units["section_id"].iloc[-1] == "三"


def test_one_sentence_provisions_are_items() -> None:
    # Short documents that list one-sentence provisions: each (一) is an item, not a
    # heading, so a corpus of such documents keeps its text for themes.
    docs = pd.DataFrame(
        {
            "doc_id": ["a", "b"],
            "text": [
                "关于做好社区服务的通知\n(一)推进社区养老服务。\n(二)推进社区托育服务。\n"
                "(三)加强社区医疗服务。",
                "一、工作要求\n1.落实属地责任。\n2.强化督促检查。\n二、保障措施\n1.加强经费保障。",
            ],
        }
    )
    units = split_units(docs)
    a = units[units["doc_id"] == "a"]
    assert a["kind"].tolist() == ["title", "item", "item", "item"]
    b = units[units["doc_id"] == "b"]
    assert b["kind"].tolist() == ["heading", "item", "item", "heading", "item"]


def test_sentence_headings_with_body_stay_headings() -> None:
    text = (
        "一、总体要求\n1.强化组织领导。\n各地要建立工作专班,定期研究推进。\n"
        "2.完善工作机制。\n建立月度调度制度,及时解决问题。"
    )
    units = split_units(pd.DataFrame({"doc_id": ["x"], "text": [text]}))
    assert units["kind"].tolist() == ["heading", "heading", "paragraph", "heading", "paragraph"]


def test_broken_headings_and_restarted_numbering() -> None:
    text = (
        "某市行动方案(\n2025-2027年)\n为推进工作,制定本方案。\n一、\n总体要求\n坚持系统谋划。\n"
        "二、重点任务\n推进重点任务。\n一、保障措施\n加强组织保障。"
    )
    units = split_units(pd.DataFrame({"doc_id": ["x"], "text": [text]}))
    assert units["text"].iloc[0] == "某市行动方案(2025-2027年)" and units["kind"].iloc[0] == "title"
    assert units["text"].tolist()[2] == "一、总体要求" and units["kind"].iloc[2] == "heading"
    assert list(dict.fromkeys(units["section_id"])) == ["preamble", "一", "二", "一-2"]
    assert units.loc[units["section_id"] == "一-2", "section"].iloc[0] == "一、保障措施"
