"""The token cache: keys, invalidation, concurrency, bounds."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from policystudy.cache import ModelCache, TokenCache, cache_dir
from policystudy.tokens import Tokenizer, tokenize


def test_location_override(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path / "c"))
    assert cache_dir() == tmp_path / "c"
    monkeypatch.delenv("POLICYSTUDY_CACHE")
    assert "policystudy" in str(cache_dir())


def test_cache_hits_and_same_tokens(units, tmp_path: Path) -> None:
    first = tokenize(units, cache=tmp_path)
    assert first.attrs["cache_hits"] == 0
    second = tokenize(units, cache=tmp_path)
    assert second.attrs["cache_hits"] == units["text"].nunique()
    assert first["tokens"].tolist() == second["tokens"].tolist()
    assert TokenCache(tmp_path).info()["entries"] == units["text"].nunique()


def test_key_depends_on_every_setting(tmp_path: Path) -> None:
    base = Tokenizer()
    text = "推进市域治理现代化"
    variants = [
        Tokenizer(hmm=True),
        Tokenizer("jieba"),
        Tokenizer(stopwords="default-general"),
        Tokenizer(lexicon=None),
        Tokenizer(min_length=1),
        Tokenizer(drop_numbers=False),
        Tokenizer(term_freq=1000),
    ]
    keys = {base.key(text), *(v.key(text) for v in variants)}
    assert len(keys) == len(variants) + 1
    assert base.key(text) == Tokenizer().key(text)
    assert base.key(text) != base.key(text + "。")


def test_editing_a_lexicon_file_invalidates(units, tmp_path: Path) -> None:
    lexicon = tmp_path / "lex.txt"
    lexicon.write_text("市域\n", "utf-8")
    a = Tokenizer(lexicon=lexicon)
    lexicon.write_text("市域\n治理现代化\n", "utf-8")
    b = Tokenizer(lexicon=lexicon)
    assert a.fingerprint != b.fingerprint
    sub = units.iloc[:20]
    ta = tokenize(sub, a, cache=tmp_path / "c")
    tb = tokenize(sub, b, cache=tmp_path / "c")
    assert tb.attrs["cache_hits"] == 0 and ta.attrs["cache_hits"] == 0


def _worker(args) -> list[list[str]]:
    directory, texts = args
    frame = pd.DataFrame({"text": texts})
    return tokenize(frame, cache=directory)["tokens"].tolist()


def test_concurrent_writers(units, tmp_path: Path) -> None:
    texts = units["text"].tolist()
    ctx = mp.get_context("spawn")
    with ctx.Pool(2) as pool:
        results = pool.map(_worker, [(str(tmp_path), texts), (str(tmp_path), texts[::-1])])
    assert results[0] == results[1][::-1]
    con = sqlite3.connect(tmp_path / "tokens-v1.sqlite")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("SELECT COUNT(*) FROM tokens").fetchone()[0] == len(set(texts))
    con.close()
    again = tokenize(units, cache=tmp_path)
    assert again.attrs["cache_hits"] == len(set(texts))
    assert again["tokens"].tolist() == results[0]


def test_bounded_size(tmp_path: Path) -> None:
    store = TokenCache(tmp_path, max_bytes=200_000)
    for batch in range(10):
        store.put_many({f"k{batch}-{i}": ["词语"] * 50 for i in range(300)})
    info = store.info()
    assert info["size_bytes"] <= 200_000
    assert 0 < info["entries"] < 3000
    # the newest entries survive, the oldest were evicted
    assert store.get_many(["k9-299"]) and not store.get_many(["k0-0"])


def test_clear(tmp_path: Path) -> None:
    store = TokenCache(tmp_path)
    store.put_many({"a": ["x"], "b": []})
    assert store.get_many(["a", "b", "c"]) == {"a": ["x"], "b": []}
    assert store.clear() == 2
    assert store.info()["entries"] == 0 and store.get_many(["a"]) == {}


def test_never_in_data_dir(units, tmp_path: Path, monkeypatch) -> None:
    from policystudy.load import bundled_data_dir

    before = sorted(p.name for p in bundled_data_dir().iterdir())
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path))
    tokenize(units.iloc[:5])
    assert (tmp_path / "tokens-v1.sqlite").exists()
    assert sorted(p.name for p in bundled_data_dir().iterdir()) == before


def test_unusable_default_cache_warns_and_still_tokenizes(units, tmp_path: Path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(blocker))
    sample = units.head(5)
    with pytest.warns(RuntimeWarning, match="not-a-folder.*POLICYSTUDY_CACHE"):
        result = tokenize(sample)
    expected = tokenize(sample, cache=False)
    assert result["tokens"].tolist() == expected["tokens"].tolist()


def test_unusable_named_cache_is_an_error(units, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(OSError, match="not-a-folder"):
        tokenize(units.head(5), cache=blocker)


def test_model_cache_roundtrip_atomic_and_bounded(tmp_path: Path) -> None:
    store = ModelCache(tmp_path, max_bytes=3_000)
    assert store.get("missing") is None
    store.put("a", b"x" * 1_000)
    assert store.get("a") == b"x" * 1_000
    assert not list(tmp_path.glob(".tmp-*"))  # no temporary file left behind
    for key in ("b", "c", "d"):
        store.put(key, b"y" * 1_000)
    info = store.info()
    assert info["size_bytes"] <= 3_000 and info["entries"] < 4
    assert store.get("d") is not None  # the newest survives eviction
    (tmp_path / "bad.pkl").write_bytes(b"not a pickle")
    assert store.get("bad") is None and not (tmp_path / "bad.pkl").exists()
    assert store.clear() == info["entries"]
