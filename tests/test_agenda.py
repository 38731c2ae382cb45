"""Policy-agenda dictionary: loading, lookup (sequences, prefixes, ties), shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from policystudy import agenda
from policystudy.compare import prevalence
from policystudy.features import build_features

DICT = {"rural": ["乡村 振兴", "农业"], "party": ["党建*"], "eco": ["生态"]}


def _tokens(lists: list[list[str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "doc_id": [f"d{i % 2}" for i in range(len(lists))],
            "unit_id": [f"u{i}" for i in range(len(lists))],
            "city": ["a" if i % 2 == 0 else "b" for i in range(len(lists))],
            "is_heading": False,
            "text": ["".join(t) for t in lists],
            "tokens": lists,
        }
    )


def test_lookup_counts_sequences_prefixes_and_ties() -> None:
    table = _tokens(
        [
            ["乡村", "振兴", "农业", "党建引领", "生态"],
            ["乡村", "党建", "党建"],
            ["其他"],
            ["生态", "党建"],
        ]
    )
    out = agenda.lookup(table, DICT, tokenizer=None)
    assert out[["n_rural", "n_party", "n_eco"]].to_numpy().tolist() == [
        [2, 1, 1],
        [0, 2, 0],
        [0, 0, 0],
        [0, 1, 1],
    ]
    # Unit 4 ties: the category matched first in the unit wins.
    assert out["category"].tolist() == ["rural", "party", agenda.NO_CATEGORY, "eco"]
    assert out["n_matches"].tolist() == [4, 2, 0, 2]
    assert out["category_share"].tolist() == [0.5, 1.0, 0.0, 0.5]
    assert "tokens" not in out.columns and out.attrs["categories"] == ["rural", "party", "eco"]


def test_overlapping_entries_of_one_category_count_once() -> None:
    out = agenda.lookup(
        _tokens([["乡村", "振兴", "乡村"]]), {"rural": ["乡村", "乡村 振兴"]}, tokenizer=None
    )
    assert out["n_rural"].tolist() == [2]


def test_entries_are_segmented_like_the_units() -> None:
    from policystudy.tokens import Tokenizer

    tok = Tokenizer()
    text = "推进城乡融合发展和基层治理"
    table = _tokens([tok(text)])
    out = agenda.lookup(
        table, {"u": ["城乡融合发展"], "g": ["基层治理"], "s": ["推进"]}, tokenizer=tok
    )
    assert out[["n_u", "n_g", "n_s"]].to_numpy().tolist() == [[1, 1, 0]]
    assert out.attrs["dropped_entries"] == ["推进"]  # a stopword can never match


def test_lookup_on_features_uses_single_terms_only() -> None:
    table = _tokens([["乡村", "振兴", "农业", "党建引领"], ["农业", "党建", "生态"]])
    features = build_features(table, min_df=1, max_df=1.0)
    out = agenda.lookup(features, DICT, tokenizer=None)
    assert out[["n_rural", "n_party", "n_eco"]].to_numpy().tolist() == [[1, 1, 0], [1, 1, 1]]
    assert out.attrs["skipped_entries"] == ["乡村 振兴"]
    assert out["category"].tolist() == ["rural", "rural"]  # ties: dictionary order


def test_shipped_dictionary_is_documented_and_loads() -> None:
    d = agenda.load_dictionary()
    assert len(d) == 12 and sum(map(len, d.values())) >= 500
    from policystudy.validation import codebook

    assert set(d) == set(codebook()["theme"]) - {"general"}
    cap = agenda.load_dictionary(level="cap_topic")
    assert {"macroeconomics", "health", "agriculture", "culture", "party_building"} <= set(cap)
    path = agenda._dictionary_path()
    assert "Comparative Agendas Project" in path.read_text(encoding="utf-8")
    assert path.with_suffix(".md").is_file()


def test_dictionary_from_csv_file(tmp_path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("# a comment\ncategory,entry\nx,生态\nx,生态\ny,党建*\n", encoding="utf-8")
    assert agenda.load_dictionary(path) == {"x": ["生态"], "y": ["党建*"]}
    with pytest.raises(ValueError, match="needs column"):
        bad = tmp_path / "bad.csv"
        bad.write_text("name,word\nx,生态\n", encoding="utf-8")
        agenda.load_dictionary(bad)


def test_agenda_shares_use_the_prevalence_intervals(tokens: pd.DataFrame) -> None:
    body = tokens[~tokens["is_heading"]]
    codes = agenda.lookup(body)
    shares = agenda.agenda_shares(codes, by="doc_id", n_boot=200)
    sums = shares.groupby("doc_id")["share"].sum()
    assert np.allclose(sums, 1.0)
    one = codes[
        (codes["doc_id"] == "taizhou-2021-common-prosperity-plan") & (codes["n_matches"] > 0)
    ]
    cols = [f"n_{c}" for c in codes.attrs["categories"]]
    expected = (one[cols].to_numpy() / one["n_matches"].to_numpy()[:, None]).mean(axis=0)
    got = shares[shares["doc_id"] == "taizhou-2021-common-prosperity-plan"]["share"].to_numpy()
    assert np.allclose(got, expected)
    assert set(shares["interval"]) == {"within_document_units"}
    assert (shares["ci_low"] <= shares["share"] + 1e-12).all()
    assert (shares["share"] <= shares["ci_high"] + 1e-12).all()
    dominant = agenda.agenda_shares(codes, by="city", measure="dominant", n_boot=50)
    assert "bootstrap_documents" in set(dominant["interval"])
    # The same intervals as topic prevalence: computed by the same code.
    assert prevalence.__module__ == "policystudy.compare._prevalence"


def test_agenda_command_writes_one_output_set(tmp_path, capsys) -> None:
    from policystudy.cli import main

    assert main(["agenda", "--by", "doc_id", "--out", str(tmp_path)]) == 0
    units = pd.read_csv(tmp_path / "agenda_units.csv")
    shares = pd.read_csv(tmp_path / "agenda_shares.csv")
    assert {"category", "n_matches", "n_party"} <= set(units.columns)
    assert shares["doc_id"].nunique() == 5
    assert (tmp_path / ".policystudy-agenda.json").is_file()
