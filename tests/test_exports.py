"""The report workbook: sheet names, the README column dictionary, long tables, bytes."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

import policystudy as ps
from policystudy import exports
from policystudy.features import Features, build_features
from policystudy.topics import TopicModel, fit_topics


@pytest.fixture(scope="module")
def features(tokens: pd.DataFrame) -> Features:
    return build_features(tokens)


@pytest.fixture(scope="module")
def model(features: Features) -> TopicModel:
    return fit_topics(features, k=3, random_state=0, cache=False)


@pytest.fixture(scope="module")
def tables(model: TopicModel, features: Features) -> dict[str, pd.DataFrame]:
    sim = ps.similarity(features)
    return {
        "unit_topics": model.unit_topics_,
        "topic_terms": model.topic_terms_,
        "prevalence_city": ps.prevalence(model, by="city", n_boot=20),
        "keyness": ps.keyness(features, by="city"),
        "distinctive_tfidf": ps.distinctive_tfidf(features, by="city"),
        "similarity_doc": sim.reset_index(names="doc_id"),
        "similarity_doc_pairs": ps.similarity_long(sim),
        "confounds": ps.confounds(features.units),
        "confound_summary": ps.confound_summary(features.units),
        "select_k": pd.DataFrame(
            {
                "k": [3],
                "method": ["nmf"],
                "coherence_npmi": [0.1],
                "stability_restarts": [0.9],
                "stability_restarts_sd": [0.01],
                "stability_subsamples": [0.8],
                "stability_subsamples_sd": [0.02],
                "n_runs": [3],
            }
        ),  # fmt: skip
        "relevance": ps.explorer.relevance(model, features, n=5),
        "topic_map": ps.explorer.topic_map(model, features),
    }


def _readme(book) -> tuple[list[tuple], list[tuple]]:
    rows = list(book["README"].iter_rows(values_only=True))
    starts = [
        i for i, r in enumerate(rows) if r[0] in ("sheet", "table") and r[1] in ("table", "column")
    ]
    listing_start, columns_start = starts
    listing = [r for r in rows[listing_start + 1 : columns_start] if any(v is not None for v in r)]
    columns = [r[:3] for r in rows[columns_start + 1 :] if r[0] is not None]
    return listing, columns


def test_sheet_names_are_valid_and_unique() -> None:
    names = [
        "a" * 40, "a" * 40 + "b", "A" * 40, "x[1]:y*z?/w\\v", "'quoted'", "README", "history",
        "prevalence", "Prevalence",
    ]  # fmt: skip
    sheets = exports.sheet_names(names)
    values = list(sheets.values())
    assert all(len(v) <= 31 for v in values)
    assert len({v.lower() for v in values}) == len(values)
    assert not any(c in v for v in values for c in "[]:*?/\\")
    assert sheets["x[1]:y*z?/w\\v"] == "x_1__y_z__w_v"
    assert sheets["'quoted'"] == "quoted"
    assert sheets["README"].lower() != "readme" and sheets["history"].lower() != "history"
    assert sheets["a" * 40] == "a" * 31
    assert sheets["a" * 40 + "b"] == "a" * 29 + "~2"
    assert sheets["Prevalence"] == "Prevalence~2"
    assert exports.sheet_names(names) == sheets  # deterministic


def test_workbook_has_a_sheet_per_table_and_describes_every_column(
    tmp_path: Path, tables: dict[str, pd.DataFrame]
) -> None:
    path = exports.write_workbook(tables, tmp_path / "tables.xlsx")
    book = load_workbook(path)
    assert book.sheetnames[0] == "README"
    assert book.sheetnames[1:] == list(tables)
    assert all(len(name) <= 31 for name in book.sheetnames)
    listing, columns = _readme(book)
    assert [r[1] for r in listing] == list(tables)
    described = {(t, c) for t, c, _ in columns}
    expected = {(name, str(c)) for name, frame in tables.items() for c in frame.columns}
    assert described == expected
    # The package's own tables are fully documented.
    undocumented = sorted((t, c) for t, c, d in columns if d in (None, "(no description)"))
    assert not undocumented
    sheet = book["prevalence_city"]
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header == list(tables["prevalence_city"].columns)
    assert sheet.max_row == len(tables["prevalence_city"]) + 1


def test_long_tables_are_listed_by_csv_name(tmp_path: Path) -> None:
    small = pd.DataFrame({"doc_id": ["a", "b"], "n_units": [1, 2]})
    long = pd.DataFrame({"term": list("abcde"), "rank": range(1, 6)})
    path = exports.write_workbook(
        {"confounds": small, "keyness_city": long}, tmp_path / "t.xlsx", max_rows=3
    )
    book = load_workbook(path)
    assert book.sheetnames == ["README", "confounds"]
    listing, columns = _readme(book)
    row = [r for r in listing if r[1] == "keyness_city"][0]
    assert row[0] is None and row[2] == "keyness_city.csv" and row[3] == 5
    assert "keyness_city.csv" in row[5] and "not copied" in row[5]
    assert ("keyness_city", "term") in {(t, c) for t, c, _ in columns}


def test_bytes_are_deterministic(tmp_path: Path, tables: dict[str, pd.DataFrame]) -> None:
    a = exports.write_workbook(tables, tmp_path / "a.xlsx").read_bytes()
    b = exports.write_workbook(tables, tmp_path / "b.xlsx").read_bytes()
    assert hashlib.sha256(a).digest() == hashlib.sha256(b).digest()
    with zipfile.ZipFile(tmp_path / "a.xlsx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = archive.read("docProps/core.xml").decode("utf-8")
    assert "2000-01-01T00:00:00Z" in core
    assert core.count("2000-01-01T00:00:00Z") == 2  # created and modified


def test_values_keep_their_kind(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "text": ["=SUM(A1:A2)", "a\x01b", None],
            "value": [1.5, np.nan, np.inf],
            "flag": [True, False, True],
            "tokens": [["甲", "乙"], [], ["丙"]],
        }
    )
    path = exports.write_workbook({"odd": frame}, tmp_path / "t.xlsx")
    sheet = load_workbook(path)["odd"]
    rows = list(sheet.iter_rows(min_row=2))
    assert rows[0][0].value == "=SUM(A1:A2)" and rows[0][0].data_type == "s"
    assert rows[1][0].value == "ab"
    assert rows[2][0].value is None
    assert [r[1].value for r in rows] == [1.5, None, "inf"]
    assert [r[2].value for r in rows] == [True, False, True]
    assert rows[0][3].value == "甲 乙"


def test_own_descriptions_take_precedence(tmp_path: Path) -> None:
    frame = pd.DataFrame({"doc_id": ["a"], "mine": [1]})
    path = exports.write_workbook(
        {"custom": frame}, tmp_path / "t.xlsx", descriptions={"custom": {"mine": "My column"}}
    )
    _, columns = _readme(load_workbook(path))
    described = {c: d for _, c, d in columns}
    assert described["mine"] == "My column"
    assert described["doc_id"].startswith("Document identifier")


def test_workbook_from_folder(tmp_path: Path) -> None:
    report = tmp_path / "report"
    (report / "04-topics").mkdir(parents=True)
    (report / ".staging-1-x").mkdir()
    (report / "confounds.csv").write_text("doc_id,n_units\n007,3\nb,4\n", encoding="utf-8")
    (report / "04-topics" / "prevalence.csv").write_text(
        "city,topic,share\n泉州,0,0.25\n台州,1,\n", encoding="utf-8"
    )
    (report / ".staging-1-x" / "ignored.csv").write_text("a\n1\n", encoding="utf-8")
    path = exports.write_workbook_from_folder(report)
    assert path == report / "tables.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["README", "04-topics_prevalence", "confounds"]
    ids = [r[0] for r in book["confounds"].iter_rows(min_row=2, values_only=True)]
    assert ids == ["007", "b"]  # identifiers keep their zeros
    shares = [r[2] for r in book["04-topics_prevalence"].iter_rows(min_row=2, values_only=True)]
    assert shares == [0.25, None]
    _, columns = _readme(book)
    described = {(t, c): d for t, c, d in columns}
    assert described[("04-topics/prevalence", "share")].startswith("Unit-weighted mean share")
    again = exports.write_workbook_from_folder(report)
    assert again.read_bytes() == path.read_bytes()


def test_column_dictionary_is_a_table() -> None:
    table = exports.column_dictionary()
    assert list(table.columns) == ["table", "column", "description"]
    assert not table.duplicated(["table", "column"]).any()
    assert (table["description"].str.len() > 0).all()
    assert {"prevalence", "keyness", "unit_topics"} <= set(table["table"])
