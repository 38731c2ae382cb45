"""Term discovery: known answers, the held-out fixtures, the lexicon versions, the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from policystudy.cli import main
from policystudy.load import bundled_data_dir
from policystudy.terms import COLUMNS, EDGE_CHARS, TRAILING_CHARS, _known_words, discover_terms
from policystudy.tokens import (
    LEXICON_VERSION,
    PUBLISHED_LEXICON,
    Tokenizer,
    lexicon_for,
    read_wordlist,
    resource_path,
    write_lexicon,
)

FIXTURES = Path(__file__).parent / "fixtures" / "terms"
#: Top candidates on the fixtures that must all be judged by hand in judged.tsv.
TOP_N = 40
MIN_RECALL = 0.8
MAX_JUNK = 0.10


def _lines(path: Path) -> list[str]:
    return [
        line.strip()
        for line in path.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]


@pytest.fixture(scope="module")
def fixture_texts() -> list[str]:
    return [p.read_text("utf-8") for p in sorted(FIXTURES.glob("[0-9]*.txt"))]


@pytest.fixture(scope="module")
def heldout() -> list[str]:
    return _lines(FIXTURES / "heldout.txt")


@pytest.fixture(scope="module")
def discovered(fixture_texts) -> pd.DataFrame:
    return discover_terms(fixture_texts)


# Small known-answer texts: 云岭数链 is an invented term in varied contexts.
KNOWN = [
    "全县推进云岭数链建设。云岭数链覆盖八个乡镇,企业接入云岭数链后效率提升。",
    "依托云岭数链平台,打通政务数据;云岭数链运行平稳。",
    "建成云岭数链二期,推广云岭数链应用场景。云岭数链服务群众。",
]


def test_known_term_found_with_documented_columns() -> None:
    table = discover_terms(KNOWN, min_pmi=1.0)
    assert tuple(table.columns) == COLUMNS
    row = table.set_index("term").loc["云岭数链"]
    assert row["count"] == 8 and row["n_docs"] == 3
    assert row["pmi"] > 1 and min(row["left_entropy"], row["right_entropy"]) > 1
    assert "云岭数链" in row["example"]
    # its fragments are not listed beside it
    assert not {"云岭数", "岭数链", "岭数", "数链"} & set(table["term"])
    assert table.attrs["thresholds"]["min_docs"] == 2


def test_no_function_character_at_the_edges(fixture_texts) -> None:
    texts = ["推进和美的云岭数链,建设的云岭数链。", "发展的云岭数链;完善的云岭数链和服务。"] * 2
    table = discover_terms(texts, min_pmi=0.0, min_entropy=0.0)
    assert set(table["term"]) == {"云岭数链"}  # not 的云岭数链, 云岭数链和
    wide = discover_terms(fixture_texts, min_pmi=0.0, min_entropy=0.0, exclude_known=False)
    assert len(wide) > 100
    for term in wide["term"]:
        assert term[0] not in EDGE_CHARS and term[-1] not in EDGE_CHARS | TRAILING_CHARS, term


def test_never_spans_punctuation_or_non_han() -> None:
    texts = ["数链,工程;数链,工程。5G数链A工程", "数链,工程!数链、工程"]
    table = discover_terms(texts, min_count=1, min_docs=1, min_pmi=-99, min_entropy=0.0)
    assert table["term"].str.fullmatch(r"[\u4e00-\u9fff]+").all()
    assert "链工" not in set(table["term"])


def test_lexicon_terms_are_not_broken() -> None:
    # 云岭数链 is always followed by the lexicon term 数链平台's second half here:
    texts = [
        "建设云岭数链平台,云岭数链平台上线。乡镇接入云岭数链平台。",
        "推广云岭数链平台;完善云岭数链平台,用好云岭数链平台。",
    ]
    free = discover_terms(texts, min_pmi=0.0, exclude_known=False, lexicon=None)
    kept = discover_terms(texts, min_pmi=0.0, exclude_known=False, lexicon=["岭数链平"])
    assert {"云岭", "云岭数链平台"} & set(free["term"])
    for term in kept["term"]:
        for text in texts:
            for start in _find_all(text, term):
                # no occurrence starts or ends strictly inside 岭数链平 (at 1 + 0..4)
                for lex in _find_all(text, "岭数链平"):
                    inside = range(lex + 1, lex + 4)
                    assert start not in inside and start + len(term) not in inside, term
    assert "岭数链平" not in set(kept["term"])


def _find_all(text: str, term: str) -> list[int]:
    out, i = [], text.find(term)
    while i >= 0:
        out.append(i)
        i = text.find(term, i + 1)
    return out


def test_exclude_known_drops_general_words(fixture_texts) -> None:
    known = _known_words()
    assert "以旧换新" in known and "数实融合" not in known
    with_known = discover_terms(fixture_texts, exclude_known=False)
    default = discover_terms(fixture_texts)
    assert set(default["term"]) <= set(with_known["term"])
    assert not set(default["term"]) & known


def test_deterministic_and_sorted(fixture_texts, discovered) -> None:
    again = discover_terms(list(fixture_texts))
    pd.testing.assert_frame_equal(again, discovered)
    order = discovered.sort_values(["score", "term"], ascending=[False, True])
    assert list(order["term"]) == list(discovered["term"])
    code = (
        "import sys; from pathlib import Path\n"
        "from policystudy.terms import discover_terms\n"
        "texts = [p.read_text('utf-8') for p in sorted(Path(sys.argv[1]).glob('[0-9]*.txt'))]\n"
        "print(discover_terms(texts).to_csv(index=False))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code, str(FIXTURES)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    ]
    assert runs[0] == runs[1] and len(runs[0]) > 500


def test_defaults_follow_corpus_size() -> None:
    from policystudy.terms import default_thresholds

    assert default_thresholds(50_000, 1)["min_docs"] == 1
    assert default_thresholds(50_000, 5)["min_docs"] == 2
    counts = [default_thresholds(n, 5)["min_count"] for n in (10_000, 200_000, 800_000)]
    assert counts == sorted(counts) and counts[0] == 3 and counts[-1] > 3
    with pytest.raises(ValueError, match="max_len"):
        discover_terms(KNOWN, max_len=1)


def test_write_lexicon_round_trip(tmp_path: Path) -> None:
    table = discover_terms(KNOWN, min_pmi=1.0)
    path = write_lexicon(table, tmp_path / "terms.txt")
    text = path.read_text("utf-8")
    assert "云岭数链  # 8x in 3 document(s); pmi" in text
    assert [w for w, _ in read_wordlist(path)] == table["term"].tolist()
    plain, extended = Tokenizer(), Tokenizer(lexicon=["default", path])
    sentence = "各地加快云岭数链建设"
    assert "云岭数链" not in plain.segment(sentence)
    assert "云岭数链" in extended.segment(sentence) and "云岭数链" in extended(sentence)
    # the CSV the command writes is a lexicon too
    table.to_csv(tmp_path / "terms.csv", index=False)
    from_csv = Tokenizer(lexicon=["default", tmp_path / "terms.csv"])
    assert from_csv.terms_ == extended.terms_


# --------------------------------------------------------------------------
# The held-out fixtures
# --------------------------------------------------------------------------


def test_heldout_list_is_honest(fixture_texts, heldout) -> None:
    assert len(heldout) >= 30 and len(set(heldout)) == len(heldout)
    assert 6 <= len(fixture_texts) <= 12
    assert all(300 <= len(t) <= 1500 for t in fixture_texts)
    shipped = {
        w
        for name in ("lexicon.txt", "lexicon-2026.11.1.txt")
        for w, _ in read_wordlist(resource_path(name))
    }
    known = _known_words()
    for term in heldout:
        counts = [t.count(term) for t in fixture_texts]
        assert sum(counts) >= 3 and sum(c > 0 for c in counts) >= 2, term
        assert term not in shipped, f"held-out term {term} is in the shipped lexicon"
        assert term not in known, f"held-out term {term} is a jieba word"


def _kept_whole(tokenizer: Tokenizer, texts: list[str], terms: list[str]) -> tuple[int, int]:
    """Occurrences of ``terms`` inside one segmented piece, and all occurrences."""
    kept = total = 0
    for text in texts:
        ends, position = [], 0
        for piece in tokenizer.segment(text):
            ends.append((position, position + len(piece)))
            position += len(piece)
        for term in terms:
            for start in _find_all(text, term):
                total += 1
                kept += any(a <= start and start + len(term) <= b for a, b in ends)
    return kept, total


def test_recall_on_heldout(fixture_texts, heldout, discovered, tmp_path: Path) -> None:
    path = write_lexicon(discovered, tmp_path / "discovered.txt")
    base_kept, total = _kept_whole(Tokenizer(), fixture_texts, heldout)
    kept, _ = _kept_whole(Tokenizer(lexicon=["default", path]), fixture_texts, heldout)
    assert base_kept == 0  # none of them survives default segmentation
    assert kept / total >= MIN_RECALL, f"recall {kept}/{total}"


def test_junk_share_among_top_candidates(discovered) -> None:
    judged = {}
    for line in _lines(FIXTURES / "judged.tsv"):
        term, verdict, _note = line.split("\t")
        assert verdict in ("term", "junk"), line
        judged[term] = verdict
    top = discovered["term"].head(TOP_N).tolist()
    unjudged = [t for t in top if t not in judged]
    assert not unjudged, f"judge these candidates in judged.tsv: {unjudged}"
    junk = [t for t in top if judged[t] == "junk"]
    assert len(junk) / len(top) <= MAX_JUNK, junk


# --------------------------------------------------------------------------
# Lexicon versions
# --------------------------------------------------------------------------


def test_lexicon_versions() -> None:
    current = resource_path("lexicon.txt").read_text("utf-8").splitlines()[0]
    old = resource_path("lexicon-2026.11.1.txt").read_text("utf-8").splitlines()[0]
    assert current.endswith(f"version {LEXICON_VERSION}") and old.endswith("version 2026.11.1")
    published, default = Tokenizer(lexicon=PUBLISHED_LEXICON), Tokenizer()
    assert set(published.terms_) < set(default.terms_)
    assert Tokenizer(lexicon=f"default-{LEXICON_VERSION}") == default
    for term in ("低空经济", "全国统一大市场", "首发经济", "投资于人", "平急两用"):
        assert term in default.terms_ and term not in published.terms_
        assert default.segment(f"发展{term}") == ["发展", term]


def test_new_lexicon_entries_name_their_source() -> None:
    text = resource_path("lexicon.txt").read_text("utf-8")
    section = text.split("# --- national policy vocabulary", 1)[1].splitlines()[1:]
    entries = [line for line in section if line.strip() and not line.startswith("#")]
    assert len(entries) >= 40
    for line in entries:
        term, _, source = line.partition("#")
        assert term.strip() and any(ch.isdigit() for ch in source), line


def test_lexicon_for_pins_the_published_version_on_the_published_corpus(docs) -> None:
    assert lexicon_for([], docs=None) == [PUBLISHED_LEXICON]
    assert lexicon_for([], docs=docs) == [PUBLISHED_LEXICON]
    # An extra lexicon or another corpus is not the published run: the current version.
    assert lexicon_for(["a.txt"], docs=docs) == ["default", "a.txt"]
    assert lexicon_for([], docs=docs.iloc[:2]) == ["default"]
    edited = docs.assign(raw_text=docs["raw_text"] + "。")
    assert lexicon_for([], docs=edited) == ["default"]


# --------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------


@pytest.fixture()
def source(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    for path in sorted(FIXTURES.glob("[0-9]*.txt")):
        shutil.copy(path, folder / path.name)
    return folder


def test_cli_terms_writes_terms_csv(source: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["terms", str(source), "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out / "terms.csv")
    table = pd.read_csv(out / "terms.csv")
    assert tuple(table.columns) == COLUMNS
    assert {"强村公司", "城市体检", "免申即享"} <= set(table["term"])
    assert main(["terms", str(source), "--out", str(out), "--top", "5"]) == 0
    assert len(pd.read_csv(out / "terms.csv")) == 5


def test_cli_terms_refuses_the_bundled_corpus(source: Path, capsys) -> None:
    target = bundled_data_dir() / "terms-out"
    assert main(["terms", str(source), "--out", str(target)]) == 2
    assert "refusing to write inside the bundled corpus" in capsys.readouterr().err
    assert not target.exists()


def test_cli_lexicon_changes_topic_tokens(source: Path, tmp_path: Path) -> None:
    assert main(["terms", str(source), "--out", str(tmp_path / "t")]) == 0
    terms = set(pd.read_csv(tmp_path / "t" / "terms.csv")["term"])
    common = ["topics", str(source), "--k", "3", "--by", "doc_id", "--no-cache"]
    assert main([*common, "--out", str(tmp_path / "a")]) == 0
    lexicon = str(tmp_path / "t" / "terms.csv")
    assert main([*common, "--out", str(tmp_path / "b"), "--lexicon", lexicon]) == 0
    plain = set(pd.read_csv(tmp_path / "a" / "topic_terms.csv")["term"])
    extended = set(pd.read_csv(tmp_path / "b" / "topic_terms.csv")["term"])
    assert not plain & terms and extended & terms


def test_cli_missing_lexicon_is_a_clear_error(source: Path, tmp_path: Path, capsys) -> None:
    args = ["compare", str(source), "--out", str(tmp_path / "c"), "--lexicon", "nope.txt"]
    assert main(args) == 2
    assert "nope.txt" in capsys.readouterr().err
