"""The tokenizer: policy terms, backend equality, pickling, quietness, stopwords."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest

from policystudy.load import bundled_data_dir
from policystudy.tokens import (
    Tokenizer,
    harvest_terms,
    read_wordlist,
    resource_path,
    tokenize,
    write_lexicon,
)

SLOGANS = ("最多跑一次", "晋江经验", "市域治理", "八八战略", "枫桥经验", "两个健康")


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    return Tokenizer()


def test_policy_terms_kept_whole(units, tok) -> None:
    plain = Tokenizer(lexicon=None)
    for term in SLOGANS:
        texts = [t for t in units["text"] if term in t]
        assert texts, term
        occurrences = sum(t.count(term) for t in texts)
        # whole, alone or inside a longer lexicon term (市域治理现代化)
        whole = sum(sum(term in piece for piece in tok.segment(t)) for t in texts)
        assert whole == occurrences, term
    # default jieba splits them all: that is why the lexicon exists
    assert all(term not in plain.segment(term) for term in SLOGANS)


def test_every_lexicon_term_whole_in_corpus(units, tok) -> None:
    terms = [w for w, _ in read_wordlist(resource_path("lexicon.txt"))]
    missed = {}
    for term in terms:
        for text in units["text"]:
            n = text.count(term)
            if n and sum(term in piece for piece in tok.segment(text)) < n:
                missed[term] = text[:30]
    assert not missed


def test_backends_identical_on_whole_corpus(units) -> None:
    fast, reference = Tokenizer("rjieba"), Tokenizer("jieba")
    for text in units["text"]:
        assert fast.segment(text) == reference.segment(text)
        assert fast(text) == reference(text)


def test_segment_is_complete_and_filtered_tokens(tok) -> None:
    text = "到2025年,城镇登记失业率控制在3.5以内,推进“最多跑一次”改革。"
    pieces = tok.segment(text)
    assert "".join(pieces) == text
    tokens = tok(text)
    assert "最多跑一次" in tokens and "失业率" in tokens
    assert not any(t in ("2025", "3.5", ",", "“", "。", "在", "推进") for t in tokens)
    assert all(len(t) >= 2 for t in tokens)


def test_stopwords_documented_and_overridable(tok) -> None:
    for name in ("stopwords_zh.txt", "stopwords_policy.txt", "lexicon.txt"):
        header = resource_path(name).read_text("utf-8").splitlines()[0]
        assert header.startswith("#")
    assert "stopwords-iso" in resource_path("stopwords_zh.txt").read_text("utf-8")
    assert "推进" in tok.stopwords_ and "的" in tok.stopwords_
    general_only = Tokenizer(stopwords="default-general")
    assert "推进" not in general_only.stopwords_ and "推进" in general_only("推进市域治理")
    assert "推进" not in tok("推进市域治理")
    custom = Tokenizer(stopwords=["default", "改革"])
    assert "改革" not in custom("推进改革创新")
    none = Tokenizer(stopwords=None, min_length=1)
    assert "的" in none("发展的成果")


def test_pickle_round_trip(tok) -> None:
    clone = pickle.loads(pickle.dumps(tok))
    assert clone == tok and clone("推进市域治理现代化") == tok("推进市域治理现代化")
    assert "_segmenter" not in pickle.loads(pickle.dumps(tok)).__dict__


def test_tokenizer_in_worker_processes_joblib(units, tok) -> None:
    joblib = pytest.importorskip("joblib")
    texts = list(units["text"][:40])
    parallel = joblib.Parallel(n_jobs=2, backend="loky")(joblib.delayed(tok)(t) for t in texts)
    assert parallel == [tok(t) for t in texts]


def test_tfidf_vectorizer_with_tokenizer_pickles(units, tok) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(tokenizer=tok, token_pattern=None, lowercase=False)
    matrix = vec.fit_transform(units["text"])
    clone = pickle.loads(pickle.dumps(vec))
    assert abs(clone.transform(units["text"]) - matrix).max() < 1e-12
    assert "市域治理" in vec.vocabulary_


def test_quiet_on_stderr() -> None:
    code = (
        "from policystudy.tokens import Tokenizer\n"
        "t = Tokenizer('jieba'); t('推进市域治理现代化')\n"
        "t = Tokenizer('rjieba'); t('推进市域治理现代化')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr == "" and done.stdout == ""


def test_deterministic_across_processes(units) -> None:
    code = (
        "import json, sys\n"
        "from policystudy import load_corpus, split_units, Tokenizer\n"
        "u = split_units(load_corpus()); t = Tokenizer()\n"
        "print(json.dumps([t(x) for x in u['text']], ensure_ascii=False))\n"
    )
    runs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2)
    ]
    assert runs[0] == runs[1] and len(runs[0]) > 1000


def test_tokenize_stage(units, tokens) -> None:
    assert list(tokens.columns[: len(units.columns)]) == list(units.columns)
    assert "tokens" not in units.columns  # input not modified
    assert (tokens["n_tokens"] == tokens["tokens"].map(len)).all()
    assert tokens.attrs["tokenizer"]["backend"] == "rjieba"
    assert tokens.attrs["tokenizer"]["hmm"] is False


def test_tokenize_parallel_identical(units, monkeypatch) -> None:
    import policystudy.tokens

    monkeypatch.setattr(policystudy.tokens, "PARALLEL_MIN_CHARS", 0)  # force worker processes
    one = tokenize(units, n_jobs=1, cache=False)
    two = tokenize(units, n_jobs=2, cache=False)
    assert one["tokens"].tolist() == two["tokens"].tolist()


def test_harvest_terms(docs, tmp_path: Path) -> None:
    found = harvest_terms(docs["text"], min_count=2)
    assert list(found.columns) == ["term", "count", "n_docs"]
    assert found.iloc[0]["term"] == "最多跑一次"
    assert (found["count"] >= 2).all()
    assert found["term"].str.fullmatch(r"[\u4e00-\u9fff]{2,8}").all()
    # “10+N” is not a Han span, and a single quotation of a term is below min_count
    assert "10+N" not in set(found["term"])
    once = harvest_terms(docs["text"], min_count=1)
    assert len(once) > len(found)
    new = harvest_terms(docs["text"], min_count=2, exclude=Tokenizer().terms_)
    assert "最多跑一次" not in set(new["term"]) and len(new) < len(found)
    path = write_lexicon(new, tmp_path / "terms.txt")
    extended = Tokenizer(lexicon=["default", path])
    assert set(new["term"]) <= set(extended.terms_)
    assert extended.fingerprint != Tokenizer().fingerprint


def test_write_lexicon_refuses_data_dir() -> None:
    with pytest.raises(ValueError, match="refusing to write inside the bundled corpus"):
        write_lexicon(["市域治理"], bundled_data_dir() / "terms.txt")
    assert not (bundled_data_dir() / "terms.txt").exists()


def test_bad_settings() -> None:
    with pytest.raises(ValueError, match="backend must be one of"):
        Tokenizer("pkuseg")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        Tokenizer(lexicon="missing.txt")


@pytest.mark.parametrize("bad", [0, -2, True, 1.5])
def test_tokenize_refuses_an_impossible_number_of_processes(units, bad) -> None:
    # Checked before the cache is read: a cached corpus does not hide the mistake.
    with pytest.raises(ValueError, match="n_jobs"):
        tokenize(units.head(3), n_jobs=bad)
    assert tokenize(units.head(3), n_jobs=None, cache=False)["n_tokens"].sum() > 0
