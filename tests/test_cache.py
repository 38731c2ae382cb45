"""The token and model caches: keys, invalidation, concurrency, bounds, integrity, privacy."""

from __future__ import annotations

import ast
import json
import multiprocessing as mp
import os
import pickle
import sqlite3
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from policystudy.cache import KEY_FILE, ModelCache, TokenCache, cache_dir
from policystudy.cli import main
from policystudy.features import Features
from policystudy.tokens import Tokenizer, tokenize
from policystudy.topics import TopicModel, fit_topics
from policystudy.topics._fit import _estimator, _fit_key


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
    con = sqlite3.connect(tmp_path / "tokens-v2.sqlite")
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
    assert (tmp_path / "tokens-v2.sqlite").exists()
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
    store = ModelCache(tmp_path, max_bytes=5_000)
    assert store.get("missing") is None
    data = np.arange(100, dtype=np.float64)
    store.put("a", {"x": data}, {"note": "一", "nan": float("nan")})
    meta, arrays = store.get("a")
    assert meta["note"] == "一" and np.isnan(meta["nan"])
    assert list(arrays) == ["x"] and arrays["x"].dtype == np.float64
    assert np.array_equal(arrays["x"], data)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file
    for key in ("b", "c", "d"):
        store.put(key, {"x": np.ones(150)}, {})
    info = store.info()
    assert info["size_bytes"] <= 5_000 and info["entries"] < 4
    assert store.get("d") is not None  # the newest survives eviction
    with pytest.warns(RuntimeWarning, match="bad.model was damaged"):
        (tmp_path / "bad.model").write_bytes(b"not an entry")
        assert store.get("bad") is None
    assert not (tmp_path / "bad.model").exists()
    assert store.clear() == info["entries"]
    assert store.info()["entries"] == 0


def test_model_cache_refuses_what_needs_pickle_or_leaves_the_folder(tmp_path: Path) -> None:
    store = ModelCache(tmp_path)
    with pytest.raises(TypeError, match="object"):
        store.put("a", {"x": np.array([{"a": 1}], dtype=object)}, {})
    for key in ("../outside", "a/b", "", "a.pkl"):
        with pytest.raises(ValueError, match="cache key"):
            store.put(key, {"x": np.zeros(1)}, {})
    assert not list(tmp_path.parent.glob("outside*"))


# --- the model cache in fit_topics ----------------------------------------------------

K = 4


@pytest.fixture(scope="module")
def fresh(features: Features) -> TopicModel:
    return fit_topics(features, K, cache=False)


def _key(features: Features, method: str = "nmf") -> str:
    matrix = features.tfidf if method == "nmf" else features.counts
    return _fit_key(sp.csr_matrix(matrix), _estimator(method, K, 0, None, {}))


def _assert_same(a: TopicModel, b: TopicModel) -> None:
    assert np.array_equal(a.components_, b.components_)
    assert np.array_equal(a.doc_topic_, b.doc_topic_)
    pd.testing.assert_frame_equal(a.topic_terms_, b.topic_terms_)
    pd.testing.assert_frame_equal(a.unit_topics_, b.unit_topics_)
    pd.testing.assert_series_equal(a.labels_, b.labels_)
    assert a.model_.n_iter_ == b.model_.n_iter_
    assert a.doc_topic_.any()  # not the all-zero weights a damaged pickle once gave


def _assert_same_estimator(a, b) -> None:
    """Every attribute equal with its type; arrays bit for bit."""
    assert type(a) is type(b) and a.get_params() == b.get_params()
    assert sorted(vars(a)) == sorted(vars(b))
    for name, value in vars(a).items():
        other = vars(b)[name]
        assert type(value) is type(other), name
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype and np.array_equal(value, other), name
        elif isinstance(value, np.random.RandomState):
            sa, sb = value.get_state(), other.get_state()
            assert sa[0] == sb[0] and np.array_equal(sa[1], sb[1]) and sa[2:] == sb[2:], name
        else:
            assert value == other, name


@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_cached_model_is_the_fresh_model(features: Features, tmp_path: Path, method) -> None:
    store = ModelCache(tmp_path)
    fresh = fit_topics(features, K, method=method, cache=False)
    fit_topics(features, K, method=method, cache=store)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached = fit_topics(features, K, method=method, cache=store)
    assert store.info()["entries"] == 1
    _assert_same(fresh, cached)
    _assert_same_estimator(fresh.model_, cached.model_)
    matrix = features.tfidf if method == "nmf" else features.counts
    with threadpool_limits(limits=1):
        assert np.array_equal(fresh.model_.transform(matrix), cached.model_.transform(matrix))


class _Bomb:
    """Unpickling this runs code: it writes a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').write('ran')",))


def test_the_bomb_is_real(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    pickle.loads(pickle.dumps(_Bomb(marker)))
    assert marker.read_text() == "ran"  # so the tests below would see it run


@pytest.mark.parametrize("suffix", [".pkl", ".model"])
def test_planted_pickle_never_runs(features, fresh, tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "marker"
    store = ModelCache(tmp_path / "models")
    store.directory.mkdir()
    planted = store.directory / f"{_key(features)}{suffix}"
    planted.write_bytes(pickle.dumps(_Bomb(marker)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_topics(features, K, cache=store)
    assert not marker.exists()
    _assert_same(fresh, model)
    messages = [str(w.message) for w in caught]
    if suffix == ".pkl":
        # never opened: left for `cache --clear`, counted as stale
        assert messages == [] and planted.exists()
        assert store.info()["stale"] == 1 and store.info()["entries"] == 1
    else:
        # not an entry: removed with a warning, replaced by the real fit
        assert messages == [
            f"cache entry {planted} was damaged (not a policystudy model entry); removed, refitting"
        ]
        assert store.get(_key(features)) is not None
    assert store.clear() == 1 and not planted.exists() and not marker.exists()


def _overwrite_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    data[mid : mid + 64] = bytes(64)  # zeros, as in the damage once read back silently
    path.write_bytes(bytes(data))


def _flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _edit_header(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"format": 2', b'"format": 3', 1))


_DAMAGE = {
    "overwritten mid-file": (_overwrite_middle, "checksum mismatch"),
    "one bit flipped": (_flip_byte, "checksum mismatch"),
    "header edited": (_edit_header, "checksum mismatch"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "truncated"),
    "truncated in header": (lambda p: p.write_bytes(p.read_bytes()[:40]), "truncated"),
    "empty": (lambda p: p.write_bytes(b""), "not a policystudy model entry"),
    "garbage": (lambda p: p.write_bytes(b"\x00" * 1000), "not a policystudy model entry"),
}


@pytest.mark.parametrize("damage", list(_DAMAGE))
def test_damaged_model_entry_is_a_miss(features, fresh, tmp_path: Path, damage: str) -> None:
    damage_fn, reason = _DAMAGE[damage]
    store = ModelCache(tmp_path)
    fit_topics(features, K, cache=store)
    entry = tmp_path / f"{_key(features)}.model"
    damage_fn(entry)
    expected = f"cache entry {entry} was damaged ({reason}); removed, refitting"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = fit_topics(features, K, cache=store)
    assert [str(w.message) for w in caught] == [expected]  # warned once
    _assert_same(fresh, model)
    # the damaged entry was replaced by a good one: read back without a warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _assert_same(fresh, fit_topics(features, K, cache=store))


def test_damaged_entry_is_removed_and_warned_once(features, tmp_path: Path) -> None:
    store = ModelCache(tmp_path)
    fit_topics(features, K, cache=store)
    key = _key(features)
    _flip_byte(store.directory / f"{key}.model")
    with pytest.warns(RuntimeWarning, match="checksum mismatch"):
        assert store.get(key) is None
    assert not (store.directory / f"{key}.model").exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert store.get(key) is None  # a plain miss now


def test_entry_signed_with_another_key_is_a_miss(features, fresh, tmp_path: Path) -> None:
    # Planted by someone who has the format but not this folder's key.
    other = ModelCache(tmp_path / "other")
    fit_topics(features, K, cache=other)
    store = ModelCache(tmp_path / "mine")
    fit_topics(features, K, random_state=1, cache=store)  # this folder has its own key
    name = f"{_key(features)}.model"
    (store.directory / name).write_bytes((other.directory / name).read_bytes())
    with pytest.warns(RuntimeWarning, match="checksum mismatch"):
        _assert_same(fresh, fit_topics(features, K, cache=store))


def test_entry_under_another_key_is_a_miss(features, fresh, tmp_path: Path) -> None:
    store = ModelCache(tmp_path)
    seed1 = fit_topics(features, K, random_state=1, cache=store)
    other = _fit_key(sp.csr_matrix(features.tfidf), _estimator("nmf", K, 1, None, {}))
    (tmp_path / f"{_key(features)}.model").write_bytes((tmp_path / f"{other}.model").read_bytes())
    with pytest.warns(RuntimeWarning, match="entry of another key"):
        model = fit_topics(features, K, cache=store)
    _assert_same(fresh, model)
    assert not np.array_equal(model.components_, seed1.components_)


def _rewrite(store: ModelCache, key: str, change) -> None:
    """Store a changed copy of an entry with a valid checksum (what a bug would write)."""
    meta, arrays = store.get(key)
    change(meta, arrays)
    store.put(key, arrays, meta)


_WRONG = {
    "weights missing a row": lambda m, a: a.update(weights=a["weights"][:-1]),
    "weights transposed": lambda m, a: a.update(weights=np.ascontiguousarray(a["weights"].T)),
    "weights float32": lambda m, a: a.update(weights=a["weights"].astype(np.float32)),
    "weights with NaN": lambda m, a: a["weights"].__setitem__((0, 0), np.nan),
    "components wrong shape": lambda m, a: a.update(
        {"attr.components_": a["attr.components_"][:, :-1]}
    ),
    "components missing": lambda m, a: (a.pop("attr.components_"), m["attrs"].pop("components_")),
    "array without attribute": lambda m, a: a.update(extra=np.zeros(3)),
    "other parameters": lambda m, a: m["params"].update(tol=0.5),
    "dunder attribute": lambda m, a: m["attrs"].update(__class__={"kind": "json", "value": 1}),
    "attribute of unknown kind": lambda m, a: m["attrs"].update(x_={"kind": "pickle"}),
}


@pytest.mark.parametrize("wrong", list(_WRONG))
def test_entry_with_wrong_arrays_is_a_miss(features, fresh, tmp_path: Path, wrong: str) -> None:
    store = ModelCache(tmp_path)
    fit_topics(features, K, cache=store)
    _rewrite(store, _key(features), _WRONG[wrong])
    with pytest.warns(RuntimeWarning, match=r"\.model was damaged \(.+\); removed, refitting"):
        model = fit_topics(features, K, cache=store)
    _assert_same(fresh, model)
    assert model.model_.__class__.__name__ == "NMF"


def test_symlink_in_place_of_an_entry_is_not_followed(features, fresh, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me", encoding="utf-8")
    store = ModelCache(tmp_path / "models")
    store.directory.mkdir()
    link = store.directory / f"{_key(features)}.model"
    link.symlink_to(target)
    with pytest.warns(RuntimeWarning, match="symbolic link"):
        _assert_same(fresh, fit_topics(features, K, cache=store))
    assert target.read_text(encoding="utf-8") == "keep me"
    assert not link.is_symlink() and store.get(_key(features)) is not None


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_model_entries_are_private(features, tmp_path: Path) -> None:
    store = ModelCache(tmp_path / "c" / "models")
    fit_topics(features, K, cache=store)
    entry = store.directory / f"{_key(features)}.model"
    assert stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert stat.S_IMODE((store.directory / KEY_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(store.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.directory.parent.stat().st_mode) == 0o700


def test_cache_module_never_unpickles_or_writes_by_itself() -> None:
    import policystudy.cache as module

    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert "pickle" not in names | imported
    assert not {"mkstemp", "replace", "rename"} & attributes
    assert "tempfile" not in imported


# --- token rows and the SQLite file -------------------------------------------------


def _db(directory: Path) -> sqlite3.Connection:
    return sqlite3.connect(directory / "tokens-v2.sqlite", isolation_level=None)


def test_edited_token_row_is_a_miss(units, tmp_path: Path) -> None:
    sample = units.head(10)
    expected = tokenize(sample, cache=False)["tokens"].tolist()
    tokenize(sample, cache=tmp_path)
    tokenizer = Tokenizer()
    key = tokenizer.key(sample["text"].iloc[3])
    con = _db(tmp_path)
    assert con.execute("UPDATE tokens SET tokens = ? WHERE key = ?", ("假\x1f词", key)).rowcount
    con.close()
    with pytest.warns(RuntimeWarning, match="1 entries failed their checksum"):
        again = tokenize(sample, cache=tmp_path)
    assert again["tokens"].tolist() == expected
    assert again.attrs["cache_hits"] == sample["text"].nunique() - 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        third = tokenize(sample, cache=tmp_path)  # the row was rewritten
    assert third.attrs["cache_hits"] == sample["text"].nunique()
    assert third["tokens"].tolist() == expected


def test_token_rows_swapped_between_keys_are_misses(units, tmp_path: Path) -> None:
    sample = units.head(6)
    expected = tokenize(sample, cache=False)["tokens"].tolist()
    tokenize(sample, cache=tmp_path)
    a, b = (Tokenizer().key(t) for t in sample["text"].iloc[:2])
    con = _db(tmp_path)
    (ta, ma), (tb, mb) = (
        con.execute("SELECT tokens, mac FROM tokens WHERE key = ?", (k,)).fetchone() for k in (a, b)
    )
    con.execute("UPDATE tokens SET tokens = ?, mac = ? WHERE key = ?", (tb, mb, a))
    con.execute("UPDATE tokens SET tokens = ?, mac = ? WHERE key = ?", (ta, ma, b))
    con.close()
    with pytest.warns(RuntimeWarning, match="2 entries failed their checksum"):
        again = tokenize(sample, cache=tmp_path)
    assert again["tokens"].tolist() == expected


@pytest.mark.parametrize("mac", [b"", b"\x00" * 32, "text", None])
def test_planted_token_row_is_a_miss(units, tmp_path: Path, mac) -> None:
    sample = units.head(3)
    expected = tokenize(sample, cache=False)["tokens"].tolist()
    TokenCache(tmp_path).put_many({"other": ["x"]})  # a real cache file with its key
    con = _db(tmp_path)
    con.execute("CREATE TABLE IF NOT EXISTS t (x)")
    if mac is None:
        # a row without the column's type: the mac column holds an integer
        mac = 7
    con.execute(
        "INSERT INTO tokens (key, tokens, mac) VALUES (?, ?, ?)",
        (Tokenizer().key(sample["text"].iloc[0]), "被\x1f植入", mac),
    )
    # invalid UTF-8 in a planted row: still just a miss
    con.execute(
        "INSERT INTO tokens (key, tokens, mac) VALUES (?, CAST(? AS TEXT), ?)",
        (Tokenizer().key(sample["text"].iloc[1]), b"\xff\xfe", b"\x01" * 32),
    )
    con.close()
    with pytest.warns(RuntimeWarning, match="2 entries failed their checksum"):
        result = tokenize(sample, cache=tmp_path)
    assert result["tokens"].tolist() == expected
    assert result.attrs["cache_hits"] == 0


def test_row_signed_with_another_key_is_a_miss(units, tmp_path: Path) -> None:
    sample = units.head(3)
    expected = tokenize(sample, cache=False)["tokens"].tolist()
    tokenize(sample, cache=tmp_path / "a")
    tokenize(units.iloc[10:12], cache=tmp_path / "b")  # its own key
    (tmp_path / "b" / "tokens-v2.sqlite").unlink()
    # the whole database copied from a folder with another key
    for suffix in ("", "-wal", "-shm"):
        src = tmp_path / "a" / f"tokens-v2.sqlite{suffix}"
        if src.exists():
            (tmp_path / "b" / src.name).write_bytes(src.read_bytes())
    with pytest.warns(RuntimeWarning, match="3 entries failed their checksum"):
        result = tokenize(sample, cache=tmp_path / "b")
    assert result["tokens"].tolist() == expected and result.attrs["cache_hits"] == 0


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_key_readable_by_others_is_replaced(units, tmp_path: Path) -> None:
    sample = units.head(3)
    tokenize(sample, cache=tmp_path)
    key_file = tmp_path / KEY_FILE
    old = key_file.read_bytes()
    key_file.chmod(0o644)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tokenize(sample, cache=tmp_path)
    messages = " | ".join(str(w.message) for w in caught)
    assert "is accessible to other users (mode 644)" in messages
    assert "3 entries failed their checksum" in messages
    assert result.attrs["cache_hits"] == 0
    assert key_file.read_bytes() != old and stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert result["tokens"].tolist() == tokenize(sample, cache=False)["tokens"].tolist()


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_token_cache_files_are_private(units, tmp_path: Path) -> None:
    folder = tmp_path / "new" / "cache"
    tokenize(units.head(5), cache=folder)
    # A reader keeps the write-ahead log in place, so its mode can be checked.
    reader = _db(folder)
    reader.execute("SELECT COUNT(*) FROM tokens").fetchone()
    try:
        tokenize(units.iloc[5:10], cache=folder)
        for name in ("tokens-v2.sqlite", "tokens-v2.sqlite-wal", "tokens-v2.sqlite-shm", KEY_FILE):
            assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    finally:
        reader.close()
    for p in (folder, folder.parent):
        assert stat.S_IMODE(p.stat().st_mode) == 0o700, p


def _garbage(path: Path) -> None:
    path.write_bytes(b"this is not a database " * 200)


def _overwrite_pages(path: Path, where: str) -> None:
    """A real SQLite file with pages overwritten: the root pages, or pages mid-file."""
    store = TokenCache(path.parent)
    store.put_many({f"k{i}": ["词语"] * 40 for i in range(3000)})
    con = sqlite3.connect(path)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    with open(path, "r+b") as fh:
        # Page 1 is the header; pages 2 and 3 are the roots of the table and its key
        # index, which every lookup reads.
        fh.seek(4096 if where == "root" else path.stat().st_size // 2)
        fh.write(b"\xff" * 8192)


_BROKEN = {
    "garbage": (_garbage, "file is not a database"),
    "root pages": (lambda p: _overwrite_pages(p, "root"), "database disk image is malformed"),
    "pages mid-file": (lambda p: _overwrite_pages(p, "mid"), "database disk image is malformed"),
}


# Damage in pages no lookup reads goes unnoticed by tokenize (and harms nothing:
# rows read are checked); `cache --info` runs a full check and finds it.
@pytest.mark.parametrize("broken", ["garbage", "root pages"])
@pytest.mark.parametrize("named", [True, False])
def test_damaged_database_warns_and_is_rebuilt(
    units, tmp_path: Path, monkeypatch, broken: str, named: bool
) -> None:
    make, reason = _BROKEN[broken]
    sample = units.head(8)
    path = tmp_path / "tokens-v2.sqlite"
    make(path)
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = tokenize(sample, cache=tmp_path if named else True)
    assert [str(w.message) for w in caught] == [
        f"token cache {path} was damaged ({reason}); removed it, "
        "so these texts are tokenized again and the cache is rebuilt"
    ]
    assert result["tokens"].tolist() == tokenize(sample, cache=False)["tokens"].tolist()
    info = TokenCache(tmp_path).info()
    assert info["damaged"] is None and info["entries"] == sample["text"].nunique()
    assert tokenize(sample, cache=tmp_path).attrs["cache_hits"] == sample["text"].nunique()


def test_damaged_database_on_write_only(units, tmp_path: Path) -> None:
    # No cache file when reading, a damaged one by the time of writing.
    store = TokenCache(tmp_path)
    _garbage(store.path)
    with pytest.warns(RuntimeWarning, match="file is not a database"):
        store.put_many({"a": ["x"]})
    assert store.get_many(["a"]) == {"a": ["x"]}


def test_wrong_table_layout_is_damage(tmp_path: Path) -> None:
    con = _db(tmp_path)
    con.execute("CREATE TABLE tokens (key TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
    con.execute("INSERT INTO tokens VALUES ('a', 'planted')")
    con.close()
    store = TokenCache(tmp_path)
    assert "unexpected table layout" in store.info()["damaged"]
    with pytest.warns(RuntimeWarning, match="unexpected table layout"):
        assert store.get_many(["a"]) == {}
    store.put_many({"a": ["x"]})
    assert store.get_many(["a"]) == {"a": ["x"]}


@pytest.mark.parametrize("broken", list(_BROKEN))
def test_cache_commands_on_a_damaged_database(tmp_path: Path, capsys, broken: str) -> None:
    make, reason = _BROKEN[broken]
    path = tmp_path / "tokens-v2.sqlite"
    make(path)
    assert main(["cache", "--info", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    # SQLite's message, and for damage found by the full check the first bad page
    assert f"  damaged:  {path} ({reason}" in out and "--clear removes it" in out
    # One line of damage, not SQLite's whole report: tokens, models, stages, 4 lines each.
    assert len(out.splitlines()) < 16
    assert path.exists()  # --info only reports
    assert main(["cache", "--clear", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"removed damaged token cache {path} ({reason}" in out
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("tokens-v2")]
    assert main(["cache", "--info", "--dir", str(tmp_path)]) == 0
    assert "damaged" not in capsys.readouterr().out


def test_stale_files_are_counted_never_opened_and_cleared(tmp_path: Path, capsys) -> None:
    marker = tmp_path / "marker"
    cache = tmp_path / "cache"
    (cache / "models").mkdir(parents=True)
    con = sqlite3.connect(cache / "tokens-v1.sqlite")
    con.execute("CREATE TABLE tokens (key TEXT PRIMARY KEY, tokens TEXT NOT NULL)")
    con.execute("INSERT INTO tokens VALUES ('a', 'old')")
    con.commit()
    con.close()
    (cache / "tokens-v1.sqlite-wal").write_bytes(b"")
    for name in ("a.pkl", "b.pkl"):
        (cache / "models" / name).write_bytes(pickle.dumps(_Bomb(marker)))
    TokenCache(cache).put_many({"k": ["词"]})
    ModelCache(cache / "models").put("c", {"x": np.zeros(2)}, {})

    assert main(["cache", "--info", "--dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "entries:  1" in out and "damaged" not in out
    assert "  stale:    2 token cache files of earlier versions, never read" in out
    assert f"            {cache / 'tokens-v1.sqlite'}" in out
    assert "  stale:    2 pickle files (*.pkl) of earlier versions, never read" in out
    assert TokenCache(cache).get_many(["a"]) == {}  # the v1 row is not a v2 entry

    assert main(["cache", "--clear", "--dir", str(cache)]) == 0
    out = capsys.readouterr().out
    assert "removed 1 cached token lists" in out and "removed 1 cached models" in out
    assert "removed 2 stale token cache files" in out
    assert "removed 2 stale model files (*.pkl)" in out
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == [KEY_FILE, KEY_FILE]
    assert not marker.exists()


# --- precision: a float32 fit is its own entry, restored exactly -----------------------


def test_float32_and_float64_fits_are_separate_entries(features, fresh, tmp_path: Path) -> None:
    store = ModelCache(tmp_path)
    fresh32 = fit_topics(features, K, dtype="float32", cache=False)
    fit_topics(features, K, dtype="float32", cache=store)
    assert store.info()["entries"] == 1
    fit_topics(features, K, dtype="float64", cache=store)
    assert store.info()["entries"] == 2
    matrix = sp.csr_matrix(features.tfidf)
    estimator = _estimator("nmf", K, 0, None, {})
    key32 = _fit_key(matrix, estimator, "float32")
    assert key32 != _key(features) == _fit_key(matrix, estimator, "float64")
    meta, arrays = store.get(key32)
    assert meta["dtype"] == "float32" and arrays["weights"].dtype == np.float32
    assert arrays["attr.components_"].dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cached32 = fit_topics(features, K, dtype="float32", cache=store)
        cached64 = fit_topics(features, K, cache=store)
    assert store.info()["entries"] == 2
    assert cached32.dtype_ == "float32" and cached64.dtype_ == "float64"
    _assert_same(fresh32, cached32)
    _assert_same_estimator(fresh32.model_, cached32.model_)
    _assert_same(fresh, cached64)
    _assert_same_estimator(fresh.model_, cached64.model_)
    assert not np.array_equal(cached32.doc_topic_, cached64.doc_topic_)
    with threadpool_limits(limits=1):
        assert np.array_equal(
            fresh32.model_.transform(features.tfidf.astype(np.float32)),
            cached32.model_.transform(features.tfidf.astype(np.float32)),
        )


_WRONG_PRECISION = {
    # a float64 copy of the float32 entry: another fit than the key says
    "weights float64": lambda m, a: a.update(weights=a["weights"].astype(np.float64)),
    "components float64": lambda m, a: a.update(
        {"attr.components_": a["attr.components_"].astype(np.float64)}
    ),
    "entry of a float64 fit": lambda m, a: m.update(dtype="float64"),
    "entry without a precision": lambda m, a: m.pop("dtype"),
}


@pytest.mark.parametrize("wrong", list(_WRONG_PRECISION))
def test_float32_entry_of_another_precision_is_a_miss(features, tmp_path: Path, wrong) -> None:
    store = ModelCache(tmp_path)
    fresh32 = fit_topics(features, K, dtype="float32", cache=store)
    key32 = _fit_key(sp.csr_matrix(features.tfidf), _estimator("nmf", K, 0, None, {}), "float32")
    _rewrite(store, key32, _WRONG_PRECISION[wrong])
    with pytest.warns(RuntimeWarning, match=r"\.model was damaged \(.+\); removed, refitting"):
        model = fit_topics(features, K, dtype="float32", cache=store)
    _assert_same(fresh32, model)
    assert model.model_.components_.dtype == np.float32


def test_entries_are_streamed_and_read_back_exactly(tmp_path: Path, monkeypatch) -> None:
    import io

    from policystudy import cache as cache_module

    # The writer never builds the archive in memory.
    monkeypatch.setattr(io, "BytesIO", None)
    rng = np.random.default_rng(0)
    arrays = {
        "big": rng.random(3_000_000),  # 24 MB: several of numpy's write chunks
        "strided": np.arange(40, dtype=np.int32).reshape(8, 5)[:, ::2],
        "fortran": np.asfortranarray(rng.random((7, 3))),
        "empty": np.zeros((0, 4), dtype=np.float32),
        "text": np.array(["一", "二三"]),
        "flags": np.array([True, False]),
    }
    store = ModelCache(tmp_path)
    store.put("k1", arrays, {"x": 1})
    monkeypatch.undo()
    meta, back = store.get("k1", lambda meta, arrays: (meta, arrays))
    assert meta == {"x": 1} and set(back) == set(arrays)
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype and np.array_equal(back[name], array), name
    # The header states the payload's length, and the checksum covers it.
    data = store._file("k1").read_bytes()
    _, n_header = cache_module._PREFIX.unpack_from(data)
    header = data[cache_module._PREFIX.size : cache_module._PREFIX.size + n_header]
    stated = json.loads(header)["payload_bytes"]
    assert len(data) == cache_module._PREFIX.size + n_header + cache_module._MAC_BYTES + stated
