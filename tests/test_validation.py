"""Validation tools: keys, samples, coding sheets, intrusion tests, agreement."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from policystudy import validation as v

# --------------------------------------------------------------------------- agreement


def test_identical_labelings_agree_perfectly() -> None:
    a = ["x", "x", "y", "z", "z", "z"]
    row = v.agreement(a, a).iloc[0]
    for measure in ("one_to_one", "many_to_one", "kappa", "ami", "nmi"):
        assert row[measure] == pytest.approx(1.0), measure
    assert row["n_units"] == 6 and row["n_labels"] == 3


def test_a_permuted_relabeling_is_found_by_the_one_to_one_mapping() -> None:
    b = ["party", "party", "ecology", "welfare", "welfare", "ecology", "party"]
    a = [{"party": 2, "ecology": 0, "welfare": 1}[x] for x in b]
    row = v.agreement(a, b).iloc[0]
    assert row["one_to_one"] == 1.0
    assert row["kappa"] == pytest.approx(1.0)
    assert row["nmi"] == pytest.approx(1.0)


def test_kappa_matches_a_hand_computed_value() -> None:
    # Mapping p->A, q->B; 4 of 6 agree (p_o = 2/3); marginals 3/3 both (p_e = 1/2);
    # kappa = (2/3 - 1/2) / (1 - 1/2) = 1/3.
    a = ["p", "p", "q", "q", "p", "q"]
    b = ["A", "A", "B", "B", "B", "A"]
    row = v.agreement(a, b).iloc[0]
    assert row["kappa"] == pytest.approx(1 / 3)
    assert row["one_to_one"] == pytest.approx(4 / 6)
    assert row["many_to_one"] == pytest.approx(4 / 6)


def test_many_to_one_maps_each_label_to_its_majority() -> None:
    # Four clusters for two codes: many-to-one is perfect, one-to-one is not.
    a = [0, 0, 1, 1, 2, 2, 3, 3]
    b = ["A", "A", "A", "A", "B", "B", "B", "B"]
    assert v.many_to_one_accuracy(a, b) == 1.0
    assert v.one_to_one_accuracy(a, b) == pytest.approx(0.5)


def test_random_labels_have_ami_near_zero() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 8, 3000), rng.integers(0, 8, 3000)
    row = v.agreement(a, b).iloc[0]
    assert abs(row["ami"]) < 0.01
    assert abs(row["kappa"]) < 0.05


def test_document_baseline_is_scored_beside() -> None:
    b = ["A", "A", "B", "B"]
    table = v.agreement([1, 1, 2, 2], b, docs=["d1", "d1", "d1", "d2"], name="topics")
    assert list(table["labeling"]) == ["topics", "doc_only"]
    assert table.loc[1, "one_to_one"] == pytest.approx(0.75)


def test_missing_labels_are_left_out() -> None:
    row = v.agreement(["x", None, "y"], ["A", "B", None]).iloc[0]
    assert row["n_units"] == 1


# --------------------------------------------------------------------------- keys and samples


def test_unit_keys_ignore_layout_and_number_repeats() -> None:
    keys = v.unit_keys(["d", "d", "d", "e"], ["甲 乙", "甲乙", "丙", "甲乙"])
    assert keys[0].startswith("d:") and keys[1] == keys[0] + "#2"
    assert keys[3].split(":")[1] == keys[0].split(":")[1] and keys[3].startswith("e:")
    assert keys[2] != keys[0]


def test_validation_sample_is_stratified_and_deterministic(units: pd.DataFrame) -> None:
    sheet = v.validation_sample(units, 60, random_state=3)
    again = v.validation_sample(units, 60, random_state=3)
    pd.testing.assert_frame_equal(sheet, again)
    assert list(sheet.columns) == list(v.SHEET_COLUMNS)
    assert len(sheet) == 60 and sheet["label"].eq("").all()
    body = units[~units["is_heading"]]
    assert set(sheet["unit_id"]) <= set(body["unit_id"])
    sizes = body["doc_id"].value_counts()
    drawn = sheet["doc_id"].value_counts()
    for doc, size in sizes.items():
        assert abs(drawn.get(doc, 0) - 60 * size / sizes.sum()) < 1.0 + 1e-9
    assert not sheet["unit_key"].duplicated().any()


def test_coding_sheet_is_written_as_csv_and_excel(units: pd.DataFrame, tmp_path) -> None:
    sheet = v.validation_sample(units, 5)
    paths = v.write_coding_sheet(sheet, tmp_path, name="sheet")
    assert all(p.is_file() for p in paths)
    book = pd.read_excel(tmp_path / "sheet.xlsx", sheet_name=None)
    assert list(book) == ["coding", "codebook"]
    assert len(book["coding"]) == 5 and "label" in book["coding"].columns
    assert set(book["codebook"]["theme"]) == set(v.codebook()["theme"])
    back = v.read_coded(tmp_path / "sheet.csv")
    assert list(back["unit_key"]) == list(sheet["unit_key"])
    assert list(v.read_coded(tmp_path / "sheet.xlsx")["unit_key"]) == list(sheet["unit_key"])


def test_coding_sheet_excel_carries_no_time_of_writing(units: pd.DataFrame, tmp_path) -> None:
    import zipfile

    v.write_coding_sheet(v.validation_sample(units, 5), tmp_path, name="sheet")
    with zipfile.ZipFile(tmp_path / "sheet.xlsx") as book:
        assert {info.date_time for info in book.infolist()} == {(2000, 1, 1, 0, 0, 0)}
        core = book.read("docProps/core.xml").decode()
    stamps = re.findall(r"<dcterms:(?:created|modified)[^>]*>([^<]*)<", core)
    assert stamps == ["2000-01-01T00:00:00Z"] * 2


def test_every_coded_unit_is_found_in_the_bundled_units(units: pd.DataFrame) -> None:
    coded = v.coded_sample()
    assert len(coded) >= 120
    assert set(coded["label"]) <= set(v.codebook()["theme"])
    matched = v.match_coded(units, coded)
    missing = matched.loc[~matched["found"], "unit_key"].tolist()
    assert missing == [], f"coded units not found: {missing}"
    assert (matched["unit_id_now"] == matched["unit_id"]).all()


def test_coded_units_survive_new_unit_ids(units: pd.DataFrame) -> None:
    renumbered = units.sample(frac=1.0, random_state=1).assign(unit_id=lambda t: range(len(t)))
    matched = v.match_coded(renumbered, v.coded_sample())
    assert matched["found"].all()
    rows = matched["row"].to_numpy()
    assert (
        renumbered["text"].to_numpy()[rows]
        == units.set_index("unit_id").loc[matched["unit_id"], "text"].to_numpy()
    ).all()


def test_a_changed_text_is_not_found(units: pd.DataFrame) -> None:
    changed = units.copy()
    coded = v.coded_sample().head(3)
    target = changed["unit_id"] == coded["unit_id"].iloc[0]
    changed.loc[target, "text"] = changed.loc[target, "text"] + "另加一句。"
    assert v.match_coded(changed, coded)["found"].tolist() == [False, True, True]


# --------------------------------------------------------------------------- intrusion


def _toy_model() -> SimpleNamespace:
    vocab = np.array([f"w{i}" for i in range(12)])
    comp = np.zeros((3, 12))
    for t in range(3):
        comp[t, 4 * t : 4 * t + 4] = [4, 3, 2, 1]
    comp += 0.001
    theta = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.5, 0.5, 0.0]])
    units = pd.DataFrame({"doc_id": ["d"] * 3, "text": ["一", "二", "三"]})
    return SimpleNamespace(
        k=3,
        components_=comp,
        vocabulary_=vocab,
        doc_topic_=theta,
        labels_=pd.Series(["a", "b", "c"]),
        unit_topics_=units,
    )


def test_word_intrusion_hides_one_word_of_another_topic() -> None:
    model = _toy_model()
    sheet, key = v.word_intrusion(model, n_words=4, n_top=4, random_state=1)
    assert "topic" not in sheet.columns and sheet["answer"].eq("").all()
    for row in key.itertuples():
        words = sheet.loc[sheet["item"] == row.item, ["word_1", "word_2", "word_3", "word_4"]]
        words = words.iloc[0].tolist()
        assert words[row.intruder_position - 1] == row.intruder
        own = set(model.vocabulary_[4 * row.topic : 4 * row.topic + 4])
        assert row.intruder not in own and len(set(words) & own) == 3
    again = v.word_intrusion(model, n_words=4, n_top=4, random_state=1)
    pd.testing.assert_frame_equal(sheet, again[0])


def test_word_intrusion_scoring_on_a_hand_filled_sheet() -> None:
    key = pd.DataFrame(
        {
            "item": [1, 2],
            "topic": [0, 1],
            "label": ["a", "b"],
            "intruder": ["农业", "司法"],
            "intruder_position": [2, 4],
            "intruder_topic": [1, 0],
        }
    )
    filled = pd.DataFrame(
        {
            "coder": ["x", "y", "x", "y"],
            "item": [1, 1, 2, 2],
            "answer": ["农业", "生态", "4", ""],
        }
    )
    scores = v.score_word_intrusion(filled, key)
    assert scores["n_answers"].tolist() == [2, 1]
    assert scores["precision"].tolist() == [0.5, 1.0]


def test_topic_intrusion_and_log_odds() -> None:
    model = _toy_model()
    sheet, key = v.topic_intrusion(model, n_units=3, n_options=3, n_words=2, random_state=0)
    assert len(sheet) == 3 and {"option_1", "option_2", "option_3"} <= set(sheet.columns)
    # Everyone finds the intruder: log odds 0.
    right = key[["item", "intruder_position"]].rename(columns={"intruder_position": "answer"})
    assert v.score_topic_intrusion(right, key)["topic_log_odds"].tolist() == [0.0, 0.0, 0.0]
    # A hand key: the intruder has share 0.05, the chosen option 0.5.
    hand = pd.DataFrame(
        {
            "item": [1],
            "row": [0],
            "unit_key": ["d:x"],
            "intruder_position": [3],
            "topic_1": [0],
            "topic_2": [1],
            "topic_3": [2],
            "theta_1": [0.5],
            "theta_2": [0.45],
            "theta_3": [0.05],
        }
    )
    score = v.score_topic_intrusion(pd.DataFrame({"item": [1, 1], "answer": [1, 3]}), hand)
    assert score["topic_log_odds"].iloc[0] == pytest.approx(np.log(0.05 / 0.5) / 2)
    assert score["n_correct"].iloc[0] == 1


# --------------------------------------------------------------------------- methods


def test_compare_methods_table(tokens: pd.DataFrame) -> None:
    table = v.compare_methods(tokens, ks=(8, 12), seeded_ks=(None,))
    assert list(table.columns) == [
        "method", "k", "kappa", "ami", "nmi", "one_to_one", "many_to_one", "n_units",
    ]  # fmt: skip
    assert table["method"].tolist() == [
        "nmf", "nmf (validation k)", "seeded_nmf", "dictionary", "section", "doc_only",
    ]  # fmt: skip
    assert (table["n_units"] >= 120).all()
    by = table.set_index("method")
    # Every content method beats knowing only the document.
    for method in ("nmf", "seeded_nmf", "dictionary"):
        assert by.loc[method, "ami"] > by.loc["doc_only", "ami"] + 0.2


def test_validation_sample_with_more_documents_than_units_to_draw() -> None:
    # 150 documents of 2 or 6 units, a sheet of 40: no room for one unit per document.
    rows = [
        {"doc_id": f"d{d:03d}", "text": f"第{d}号文件第{i}段。", "is_heading": False}
        for d in range(150)
        for i in range(6 if d < 30 else 2)
    ]
    units = pd.DataFrame(rows)
    sheet = v.validation_sample(units, 40, random_state=0)
    assert len(sheet) == 40
    assert sheet["doc_id"].is_unique  # one unit from each drawn document
    assert sheet.equals(v.validation_sample(units, 40, random_state=0))
    # Larger documents are drawn more often: over many seeds the 30 six-unit
    # documents (20% of the documents, 43% of the units) take well over 20%.
    share = np.mean(
        [
            v.validation_sample(units, 40, random_state=seed)["doc_id"].lt("d030").mean()
            for seed in range(40)
        ]
    )
    assert 0.33 < share < 0.5
    # With room for every document, each still gets at least one unit.
    assert v.validation_sample(units, 200, random_state=0)["doc_id"].nunique() == 150
