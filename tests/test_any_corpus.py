"""The package on corpora that are not the bundled one (tests/fixtures/corpora).

Four hand-written corpora, each with other heading systems and genres than the
bundled documents:

- ``folder_no_manifest``: three .txt files, no manifest (one in Traditional script);
- ``id_body.csv``: a table with only ``id`` and ``body``;
- ``regional``: 22 documents with their own metadata (region, year, level, genre,
  and columns named ``section`` and ``topic``), missing values, no city;
- ``two_docs.csv``: two documents of one city.

On each, ``corpus``, ``topics`` and ``compare`` (with and without ``--by``) exit 0
and write tables about that corpus.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from policystudy import compare, features, load, topics
from policystudy.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"
BUNDLED_CITIES = ("quanzhou", "wenzhou", "taizhou", "licheng", "泉州", "温州", "台州", "鲤城")

#: fixture -> (source arguments, grouping the rule chooses, a --by to pass, n_docs)
CORPORA = {
    "folder": ([str(FIXTURES / "folder_no_manifest")], "doc_id", "script", 3),
    "id_body": (
        [str(FIXTURES / "id_body.csv"), "--text-column", "body", "--id-column", "id"],
        "doc_id",
        "doc_id",
        4,
    ),
    "regional": ([str(FIXTURES / "regional")], "region", "meta_level", 22),
    "two_docs": ([str(FIXTURES / "two_docs.csv")], "doc_id", "doc_id", 2),
}


def _run(argv: list[str], capsys) -> tuple[int, str, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, keep_default_na=False, na_values=[""])


def _docs(name: str) -> pd.DataFrame:
    argv = CORPORA[name][0]
    kwargs = {}
    if "--text-column" in argv:
        kwargs = {"text_column": "body", "id_column": "id"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load.load_corpus(argv[0], **kwargs)


def _no_bundled_names(folder: Path) -> None:
    for path in folder.glob("*.csv"):
        text = path.read_text(encoding="utf-8")
        assert not any(city in text for city in BUNDLED_CITIES), path.name


# --------------------------------------------------------------------------- corpus


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_corpus_command_shows_the_documents_and_their_metadata(name: str, capsys) -> None:
    source, _, _, n_docs = CORPORA[name]
    code, out, _ = _run(["corpus", *source, "--csv"], capsys)
    assert code == 0
    from io import StringIO

    table = pd.read_csv(StringIO(out))
    assert len(table) == n_docs
    assert list(table.columns[:8]) == [
        "doc_id",
        "city",
        "doc_type",
        "year",
        "script",
        "chars",
        "units",
        "removed_chars",
    ]
    assert (table["units"] > 0).all() and (table["chars"] > 200).all()
    if name == "regional":
        # the manifest's own columns, the colliding ones renamed
        expected = {"region", "meta_level", "genre", "meta_section", "meta_topic"}
        assert expected <= set(table.columns)
        assert not {"section", "topic", "level"} & set(table.columns)
    if name == "two_docs":
        assert table["agency"].nunique() == 2


# --------------------------------------------------------------------------- grouping rule


def test_choose_grouping_rule(docs: pd.DataFrame) -> None:
    assert compare.choose_grouping(docs) == "city"  # the bundled corpus: the published grouping
    for name, (_, chosen, _, _) in CORPORA.items():
        assert compare.choose_grouping(_docs(name)) == chosen, name


def test_grouping_skips_detected_script_identifiers_and_free_text() -> None:
    docs = _docs("folder")  # script has two values, but it is detected, not a design
    assert docs["script"].nunique() == 2
    assert compare.choose_grouping(docs) == "doc_id"
    regional = _docs("regional")  # titles repeat, but they are descriptions
    assert regional["title"].nunique() < len(regional)
    assert compare.choose_grouping(regional.drop(columns=["region"])) == "year"  # next in order
    # city with a single value is no grouping (two documents of one city)
    assert compare.choose_grouping(_docs("two_docs")) == "doc_id"


# --------------------------------------------------------------------------- topics


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_topics_with_and_without_by(name: str, tmp_path: Path, capsys) -> None:
    source, chosen, by, _ = CORPORA[name]
    docs = _docs(name)
    code, _, err = _run(["topics", *source, "--out", str(tmp_path / "auto")], capsys)
    assert code == 0, err
    assert f"grouping by {chosen!r}" in err
    assert "k=" in err  # the k the rule chose, with the number of units
    prev = _read(tmp_path / "auto", "prevalence.csv")
    assert prev.columns[0] == chosen
    groups = set(docs[chosen].dropna().astype(str))
    assert set(prev[chosen].astype(str)) == groups
    terms = _read(tmp_path / "auto", "topic_terms.csv")
    k = terms["topic"].nunique()
    unit_topics = _read(tmp_path / "auto", "unit_topics.csv")
    assert k == topics.default_k(len(unit_topics))
    assert set(unit_topics["doc_id"].astype(str)) <= set(docs["doc_id"])
    np.testing.assert_allclose(prev.groupby(chosen)["share"].sum(), 1.0, atol=1e-6)
    _no_bundled_names(tmp_path / "auto")

    code, _, err = _run(
        ["topics", *source, "--by", by, "--k", "2", "--out", str(tmp_path / "by")], capsys
    )
    assert code == 0, err
    prev = _read(tmp_path / "by", "prevalence.csv")
    assert prev.columns[0] == by
    assert set(prev[by].astype(str)) == set(docs[by].dropna().astype(str))
    assert _read(tmp_path / "by", "topic_terms.csv")["topic"].nunique() == 2


# --------------------------------------------------------------------------- compare


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_compare_with_and_without_by(name: str, tmp_path: Path, capsys) -> None:
    source, chosen, by, n_docs = CORPORA[name]
    docs = _docs(name)
    for label, extra, column in (("auto", [], chosen), ("by", ["--by", by], by)):
        out = tmp_path / label
        code, _, err = _run(["compare", *source, *extra, "--out", str(out)], capsys)
        assert code == 0, err
        assert "confounds.csv crosses" in err
        keyness = _read(out, "keyness.csv")
        assert set(keyness["group"].astype(str)) == set(docs[column].dropna().astype(str))
        tfidf = _read(out, "distinctive_tfidf.csv")
        assert set(tfidf["group"].astype(str)) <= set(docs[column].dropna().astype(str))
        sim = _read(out, "similarity_doc.csv")
        assert sorted(sim["doc_id"].astype(str)) == sorted(docs["doc_id"])
        conf = _read(out, "confounds.csv")
        assert len(conf) == n_docs and conf.columns[0] == "doc_id"
        crossed, _ = compare.confound_columns(docs, column)
        assert [c for c in conf.columns if c.startswith("docs_same_")] == [
            f"docs_same_{c}" for c in crossed
        ]
        _no_bundled_names(out)


def test_confounds_cross_the_grouping_with_every_splitting_column(tmp_path: Path) -> None:
    docs = _docs("regional")
    crossed, skipped = compare.confound_columns(docs, "meta_level")
    assert crossed == ["meta_level", "region", "year", "genre", "meta_section", "meta_topic"]
    assert skipped["file"] == "a different value in every document"
    assert skipped["city"] == skipped["doc_type"] == "no values"
    assert skipped["script"] == "one value"
    assert skipped["title"].startswith("free text")
    table = compare.confounds(docs, by="meta_level")
    # A missing region is missing: not one region shared by the documents without one.
    missing = table["region"].isna()
    assert missing.sum() == 2 and table.loc[missing, "docs_same_region"].isna().all()
    counts = docs["region"].value_counts()
    known = table.loc[~missing]
    assert (known["docs_same_region"] == known["region"].map(counts)).all()
    assert "title" in table.attrs["skipped"]
    summary = compare.confound_summary(docs, by="meta_level").set_index("column")
    assert summary.loc["region", "n_levels"] == 4
    # meta_topic and meta_section are the same partition under two names.
    assert "meta_section" in summary.loc["meta_topic", "identical_to"]


def test_bundled_confounds_are_the_published_design_columns(docs, units) -> None:
    from policystudy import PUBLISHED

    for table in (docs, units):
        crossed, _ = compare.confound_columns(table, "city")
        assert tuple(crossed) == PUBLISHED.confounds


def test_prevalence_contrast_defaults_to_the_two_largest_groups(tmp_path: Path) -> None:
    feats = _features("regional")
    model = topics.fit_topics(feats, 4, cache=False)
    table = compare.prevalence_contrast(model, n_boot=50)
    # region: 华东 6 documents, 华北 6 (tie broken by units, then name), 东北 5, 西南 3
    sizes = compare.largest_groups(model.unit_topics_, "region", 4)
    assert table["a"].iloc[0] == sizes[0] and table["b"].iloc[0] == sizes[1]
    assert table.attrs["name"] == f"region_{sizes[0]}_vs_{sizes[1]}"
    assert set(sizes) == {"华东", "华北", "东北", "西南"}


def _features(name: str) -> features.Features:
    from policystudy.tokens import tokenize
    from policystudy.units import split_units

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return features.build_features(tokenize(split_units(_docs(name))))


# --------------------------------------------------------------------------- sizes


def test_sizes_follow_the_corpus() -> None:
    assert topics.default_k(173) == 8  # the bundled corpus: the published k and ks
    assert topics.candidate_ks(173) == (4, 6, 8, 10, 12, 14)
    assert topics.max_k(13) == 4 and topics.default_k(13) == 2
    assert topics.candidate_ks(13) == (2, 3, 4)
    assert topics.max_k(5) == 1 and topics.candidate_ks(5) == ()
    feats = _features("two_docs")
    assert feats.params["min_df"] == 1  # lowered: fewer than SMALL_CORPUS_UNITS units
    assert feats.adjusted_ == {"min_df": {"requested": 2, "used": 1}}
    assert features.document_frequency_bounds(173) == (2, 0.5, [])
    min_df, max_df, notes = features.document_frequency_bounds(3, 1, 0.2)
    assert (min_df, max_df) == (1, 1.0) and "0.6 of 3 units" in notes[0]


def test_too_large_k_is_warned_in_the_library_and_refused_by_the_cli(tmp_path, capsys) -> None:
    feats = _features("two_docs")
    with pytest.warns(UserWarning, match=r"k=5 topics on \d+ units"):
        topics.fit_topics(feats, 5, cache=False)
    code, _, err = _run(
        ["topics", *CORPORA["two_docs"][0], "--k", "9", "--out", str(tmp_path / "t")], capsys
    )
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert "--k 9" in line and "at most" in line and "use --k" in line
    assert not (tmp_path / "t").exists() or not any((tmp_path / "t").iterdir())


def test_unknown_by_and_single_group_are_one_line_errors(tmp_path: Path, capsys) -> None:
    source = CORPORA["regional"][0]
    code, _, err = _run(["compare", *source, "--by", "city", "--out", str(tmp_path)], capsys)
    assert code == 2
    assert err.strip().splitlines()[-1].startswith("policystudy compare: error: compare needs")
    code, _, err = _run(["topics", *source, "--by", "section", "--out", str(tmp_path)], capsys)
    assert code == 2
    line = err.strip().splitlines()[-1]
    assert "'section'" in line and "'meta_section'" in line and "region" in line


# --------------------------------------------------------------------------- namespace


def test_colliding_metadata_columns_are_renamed_once(tmp_path: Path) -> None:
    table = tmp_path / "clash.csv"
    pd.DataFrame(
        {
            "id": ["a", "b", "c"],
            "body": [
                "一、总体要求\n坚持稳中求进工作总基调，推动高质量发展。\n加快建设现代化产业体系。",
                "一、主要任务\n全面推进乡村振兴，巩固拓展脱贫攻坚成果。\n发展壮大村级集体经济。",
                "一、保障措施\n加强组织领导，压实工作责任。\n建立健全督查考核机制。",
            ],
            "doc_id": ["x1", "x2", "x3"],
            "section": ["办公室", "农业科", "办公室"],
            "kind": ["通知", "意见", "通知"],
            "text": ["备注一", "备注二", "备注三"],
            "topic_1": [1, 2, 3],
        }
    ).to_csv(table, index=False)
    with pytest.warns(UserWarning) as caught:
        docs = load.load_corpus(table, text_column="body", id_column="id")
    messages = [str(w.message) for w in caught]
    renamed = [m for m in messages if "renamed" in m]
    assert any("'section' -> 'meta_section'" in m for m in renamed)
    for column in ("meta_section", "meta_kind", "meta_text", "meta_topic_1", "meta_doc_id"):
        assert column in docs.columns
    assert list(docs["doc_id"]) == ["a", "b", "c"]
    assert docs["text"].str.contains("一、").all()  # the package's text, not the note
    from policystudy.units import split_units

    units = split_units(docs)
    assert {"section", "kind", "meta_section", "meta_kind"} <= set(units.columns)
    assert not any(c.endswith(("_x", "_y")) for c in units.columns)
