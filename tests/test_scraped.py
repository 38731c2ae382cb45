"""Cleaning and structure on labelled scraped pages (tests/fixtures/scraped)."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from scraped_scorer import FIXTURES, fixture_names, load_fixtures, read_labels, score

from policystudy.clean import clean_text
from policystudy.features import build_features
from policystudy.load import removed_spans
from policystudy.tokens import tokenize
from policystudy.topics import fit_topics
from policystudy.units import split_units


@pytest.fixture(scope="module")
def scraped() -> pd.DataFrame:
    return load_fixtures()


@pytest.fixture(scope="module")
def scraped_units(scraped: pd.DataFrame) -> pd.DataFrame:
    return split_units(scraped)


def test_every_line_is_labelled() -> None:
    for name in fixture_names():
        lines = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").split("\n")
        labels = read_labels(name)
        assert sorted(labels) == list(range(1, len([x for x in lines if x.strip()]) + 1)), name
        assert {label for label, _ in labels.values()} <= {
            "content",
            "heading",
            "chrome",
            "caption",
        }


def test_scores(scraped: pd.DataFrame) -> None:
    result = score(scraped)
    assert result.chrome_removed_share >= 0.95, result.left
    assert result.content_kept_share >= 0.995, result.lost
    assert result.captions > 0 and result.captions_glued == 0
    assert result.joins > 0 and result.wrong_joins == 0


def test_without_the_corpus_pass_template_lines_stay(scraped: pd.DataFrame) -> None:
    alone = score(load_fixtures(template_min_docs=None))
    assert alone.chrome_removed_share < score(scraped).chrome_removed_share
    assert alone.content_kept_share >= 0.995
    rules = set(removed_spans(scraped)["rule"])
    assert "site_template" in rules


def test_every_removal_is_recorded_with_its_rule(scraped: pd.DataFrame) -> None:
    spans = removed_spans(scraped)
    for rule in ("caption", "export_stamp", "url", "breadcrumb", "page_control", "format_chars"):
        assert rule in set(spans["rule"]), rule
    invisible = spans[spans["rule"] == "format_chars"]
    assert invisible["n_chars"].sum() == 3  # one NUL, U+200D and U+2060
    assert not scraped["text"].str.contains("[\u200b-\u200f\u2060\x00]").any()
    assert not scraped["text"].str.contains("pkulaw|法宝|CLI\\.|https?://").any()


def test_no_chrome_word_among_topic_terms(scraped: pd.DataFrame, scraped_units) -> None:
    tokens = tokenize(scraped_units, cache=False)
    model = fit_topics(build_features(tokens), k=3, random_state=0, cache=False)
    top = set(model.topic_terms_["term"])
    # Words of the chrome lines that no content line of any fixture uses.
    chrome, content = [], []
    for name in fixture_names():
        lines = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").split("\n")
        for number, (label, _) in read_labels(name).items():
            (chrome if label in ("chrome", "caption") else content).append(lines[number - 1])
    words = pd.DataFrame({"doc_id": "x", "text": chrome + content, "is_heading": False})
    toks = tokenize(words, cache=False)["tokens"]
    chrome_words = set().union(*toks[: len(chrome)]) - set().union(*toks[len(chrome) :])
    assert chrome_words and not top & chrome_words, top & chrome_words


def test_title_is_the_first_unit(scraped: pd.DataFrame, scraped_units) -> None:
    firsts = scraped_units[scraped_units["position"] == 0].set_index("doc_id")
    for name in fixture_names():
        first_label = next(
            n for n, (label, _) in sorted(read_labels(name).items()) if label != "chrome"
        )
        line = (FIXTURES / f"{name}.txt").read_text(encoding="utf-8").split("\n")[first_label - 1]
        assert firsts.loc[name, "text"].startswith(line[:6]), name
        assert firsts.loc[name, "kind"] == "title", name


def test_report_structure(scraped_units: pd.DataFrame) -> None:
    report = scraped_units[scraped_units["doc_id"] == "site_b_report"]
    headings = report[report["kind"] == "heading"]
    assert headings["text"].tolist() == ["过去一年工作回顾", "今年工作安排"]
    assert list(dict.fromkeys(report["section_id"])) == [
        "preamble",
        "u1",
        "u2",
        "glossary-1",
        "note-1",
    ]
    glossary = report[report["section_id"] == "glossary-1"]
    assert set(glossary["kind"]) == {"glossary"} and len(glossary) == 3
    notes = report[report["section_id"] == "note-1"]
    assert set(notes["kind"]) == {"note"} and notes["text"].str.startswith("[2]").any()
    assert notes["is_heading"].tolist() == [True, False, False]
    page = scraped_units[scraped_units["doc_id"] == "site_a_report"]
    assert page.loc[page["kind"] == "heading", "text"].tolist()[:2] == [
        "“十四五”时期工作回顾",
        "2026年主要目标任务",
    ]
    # unnumbered headings are the top level: 一、 sections sit under them
    assert (page.loc[page["text"].str.startswith("一、"), "heading_level"] == 2).all()


def test_appendix_list_gets_its_own_section_ids(scraped_units: pd.DataFrame) -> None:
    decision = scraped_units[scraped_units["doc_id"] == "site_b_decision"]
    appendix = decision[decision["kind"] == "appendix"]
    assert appendix["text"].tolist()[0] == "附件"
    assert (appendix["section_id"] == "appendix-1").all()
    body_ids = set(decision.loc[decision["kind"] != "appendix", "section_id"])
    assert body_ids == {"preamble", "一", "二"}


def test_back_matter_excluded_from_themes_by_default(scraped_units: pd.DataFrame) -> None:
    tokens = tokenize(scraped_units, cache=False)
    default = build_features(tokens, min_df=1)
    assert not default.units["kind"].isin(["appendix", "glossary", "note"]).any()
    assert default.dropped_["n_back_matter"] > 0
    assert "back_matter" in set(default.dropped_units_["reason"])
    kept = build_features(tokens, min_df=1, include_back_matter=True)
    assert kept.units["kind"].isin(["glossary"]).any()


def test_regulation_through_load_corpus(scraped_units: pd.DataFrame) -> None:
    order = scraped_units[scraped_units["doc_id"] == "pkulaw_order"]
    articles = order[order["text"].str.match(r"第[一二三四五六七八九十]+条")]
    assert [t[:3] for t in articles["text"]] == [f"第{n}条" for n in "一二三四五六七八"]
    assert (articles["kind"] == "item").all()
    chapters = order[order["text"].str.match(r"第[一二三四]章")]
    assert chapters["text"].tolist() == [
        "第一章 总则",
        "第二章 规划和建设",
        "第三章 保护和管理",
        "第四章 附则",
    ]
    assert (chapters["kind"] == "heading").all()
    assert (
        order.loc[order["text"].str.startswith("第六条"), "section"].item() == "第三章 保护和管理"
    )
    # the signing date of the order is content, not a source header
    assert (order["text"] == "2023年5月12日").any()
    regulation = scraped_units[scraped_units["doc_id"] == "pkulaw_regulation"]
    assert regulation.loc[regulation["text"].str.startswith("第四条"), "subsection"].item() == (
        "第一节 业主"
    )


def test_caption_before_a_salutation_is_never_glued() -> None:
    text = (
        "政府工作报告\n省长作政府工作报告。本报全媒体记者张三摄\n各位代表:\n"
        "现在,我代表省人民政府报告工作。"
    )
    lines = clean_text(text).text.split("\n")
    assert "各位代表:" in lines
    assert not any(re.search("摄.*各位代表|各位代表.*摄", line) for line in lines)
