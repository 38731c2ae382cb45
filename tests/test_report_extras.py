"""The study's extra outputs: explorer, word clouds and workbooks, listed in the index."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest

from policystudy.report import write_index
from policystudy.report_extras import TOPICS_FOLDER, write_report_extras
from policystudy.study import notebooks

REGIONAL = Path(__file__).parent / "fixtures" / "corpora" / "regional"


@pytest.fixture(scope="module")
def extras(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("extras")
    topics = out / TOPICS_FOLDER
    topics.mkdir()
    (topics / "select_k.csv").write_text("k,coherence_npmi\n4,0.1\n", encoding="utf-8")
    (out / "empty-notebook").mkdir()
    write_report_extras(
        [topics, out / "empty-notebook"], source=REGIONAL, by="region", k=4, random_state=0
    )
    return out


def test_explorer_is_self_contained(extras: Path) -> None:
    page = (extras / TOPICS_FOLDER / "explorer.html").read_text(encoding="utf-8")
    assert "@font-face" in page
    # No tag loads anything: every script is inline, the font a data: URL (strings
    # inside the inlined plotly.js are code, not requests, so tags are what count).
    assert not re.search(r"<(?:script|img|iframe)[^>]*\ssrc=", page)
    assert not re.search(r"<link[^>]*\shref=[\"']?(?:https?:)?//", page)
    assert not re.search(r"url\((?![\"']?data:)", page.split("</style>")[0])
    assert "region" in page


def test_word_clouds_per_topic_and_group(extras: Path) -> None:
    for name in ("wordclouds_topics", "wordclouds_groups"):
        for ext in ("png", "pdf"):
            assert (extras / TOPICS_FOLDER / f"{name}.{ext}").stat().st_size > 1000


def test_one_workbook_per_folder_with_tables(extras: Path) -> None:
    book = extras / TOPICS_FOLDER / "tables.xlsx"
    with zipfile.ZipFile(book) as archive:
        sheets = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
    assert len(sheets) == 2  # README and select_k
    assert not (extras / "empty-notebook" / "tables.xlsx").exists()


def test_index_lists_the_extras(extras: Path) -> None:
    (extras / "04-topics.html").write_text("<html></html>", encoding="utf-8")
    page = write_index(extras, notebooks()).read_text(encoding="utf-8")
    assert "04-topics/explorer.html" in page and "interactive topic explorer" in page
    assert "04-topics/tables.xlsx" in page and "Excel workbook" in page
    assert "04-topics/wordclouds_topics.png" in page
