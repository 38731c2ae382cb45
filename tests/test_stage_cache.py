"""The stage cache: equal tables on a hit, a miss for any change, damage and planting, modes."""

from __future__ import annotations

import os
import shutil
import stat
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from policystudy import features as features_module
from policystudy import stage_cache
from policystudy.cache import KEY_FILE
from policystudy.cli import main
from policystudy.load import bundled_data_dir, load_corpus
from policystudy.stage_cache import StageCache, build_features_cached, load_units
from policystudy.tokens import Tokenizer, tokenize
from policystudy.units import split_units


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A copy of the bundled corpus that a test may change."""
    return Path(shutil.copytree(bundled_data_dir(), tmp_path / "corpus"))


def _assert_same_frame(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert_frame_equal(a, b, check_exact=True)
    assert list(a.dtypes) == list(b.dtypes)
    assert a.columns.dtype == b.columns.dtype
    assert a.attrs == b.attrs


def _assert_same_features(a, b) -> None:
    for name in ("units", "dropped_units_"):
        _assert_same_frame(getattr(a, name), getattr(b, name))
    for name in ("counts", "tfidf"):
        x, y = getattr(a, name), getattr(b, name)
        assert type(x) is type(y)
        assert x.shape == y.shape
        for part in ("data", "indices", "indptr"):
            assert getattr(x, part).dtype == getattr(y, part).dtype
            np.testing.assert_array_equal(getattr(x, part), getattr(y, part))
    assert a.vocabulary.dtype == b.vocabulary.dtype
    np.testing.assert_array_equal(a.vocabulary, b.vocabulary)
    assert (a.params, a.dropped_, a.adjusted_) == (b.params, b.dropped_, b.adjusted_)
    assert a.vectorizer_.get_params().keys() == b.vectorizer_.get_params().keys()
    np.testing.assert_array_equal(a.vectorizer_.idf_, b.vectorizer_.idf_)
    new = [["推进", "市域治理", "现代化"], ["晋江经验"]]
    assert (a.vectorizer_.transform(new) != b.vectorizer_.transform(new)).nnz == 0


class _Counter:
    """Counts calls of a stage function, to tell a hit from a miss."""

    def __init__(self, monkeypatch, module, name: str) -> None:
        self.calls = 0
        original = getattr(module, name)

        def counted(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)


def test_hit_returns_equal_tables(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "stages"
    first = load_units(cache=store)
    assert not first.hit and first.key
    second = load_units(cache=store)
    assert second.hit and second.key == first.key
    fresh_docs = load_corpus()
    for stages in (first, second):
        _assert_same_frame(stages.docs, fresh_docs)
        _assert_same_frame(stages.units, split_units(fresh_docs))

    built = _Counter(monkeypatch, features_module, "build_features")
    tokenizer = Tokenizer()
    a = build_features_cached(first.units, tokenizer, units_key=first.key, cache=store)
    b = build_features_cached(second.units, tokenizer, units_key=second.key, cache=store)
    assert built.calls == 1
    # Keyed by content when no key is given: a third entry, then a hit.
    c = build_features_cached(second.units, tokenizer, cache=store)
    d = build_features_cached(second.units, tokenizer, cache=store)
    assert built.calls == 2
    tokens = tokenize(first.units, tokenizer, cache=tmp_path / "tokens")
    reference = features_module.build_features(tokenize(first.units, tokenizer, cache=False))
    for f in (a, b, c, d):
        # How many texts the token cache served differs by run; on a hit, all of them.
        for frame in (f.units, f.dropped_units_, reference.units, reference.dropped_units_):
            assert frame.attrs["cache_hits"] in (0, tokens["text"].nunique())
            frame.attrs["cache_hits"] = 0
        _assert_same_features(f, reference)
    assert b.units.attrs == {**reference.units.attrs, "cache_hits": 0}


def test_arrow_and_python_string_decoding_agree(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "stages"
    load_units(cache=store)
    with_arrow = load_units(cache=store)
    monkeypatch.setattr(stage_cache, "_arrow_strings", lambda *a: None)
    without = load_units(cache=store)
    assert with_arrow.hit and without.hit
    _assert_same_frame(with_arrow.docs, without.docs)
    _assert_same_frame(with_arrow.units, without.units)


def test_frames_of_every_supported_kind_round_trip() -> None:
    frame = pd.DataFrame(
        {
            "s": pd.array(["一", None, "", "a,b"], dtype="str"),
            "s_na": pd.array(["x", None, "y", "z"], dtype=pd.StringDtype("python", pd.NA)),
            "o": pd.Series(["甲", "乙", None, "丁"], dtype=object),
            "i": np.arange(4, dtype=np.int64),
            "f": np.array([0.1, np.nan, -0.0, 1e300]),
            "b": np.array([True, False, True, False]),
            "I": pd.array([1, None, 3, 4], dtype="Int64"),
            "B": pd.array([True, None, False, True], dtype="boolean"),
            "t": pd.to_datetime(["2020-01-01", "2021-05-30", None, "2022-01-01"]),
        }
    )
    frame.attrs = {"removed": (("d", "rule", 3, "text", 4),), "source": "x", "n": [1.5, None]}
    arrays: dict = {}
    spec = stage_cache._encode_frame("p", frame, arrays)
    _assert_same_frame(stage_cache._decode_frame("p", spec, arrays), frame)
    for bad in (
        frame.assign(c=pd.Categorical(["a", "b", "a", "b"])),
        frame.assign(m=pd.Series([1, "a", None, 2.0], dtype=object)),
        frame.set_axis([3, 2, 1, 0]),
    ):
        with pytest.raises(stage_cache._Unsupported):
            stage_cache._encode_frame("p", bad, {})


@pytest.mark.filterwarnings("ignore:.*item\\(s\\) not read:UserWarning")
@pytest.mark.parametrize(
    "change",
    ["document byte", "manifest byte", "new file", "removed file", "renamed other file"],
)
def test_any_input_byte_change_is_a_miss(corpus: Path, tmp_path: Path, change: str) -> None:
    store = tmp_path / "stages"
    (corpus / "notes.docx").write_bytes(b"not read")
    before = load_units(corpus, cache=store)
    assert load_units(corpus, cache=store).hit
    doc = sorted(corpus.glob("*.txt"))[0]
    if change == "document byte":
        data = doc.read_bytes()
        doc.write_bytes(data.replace("。".encode(), "，".encode(), 1))
    elif change == "manifest byte":
        manifest = corpus / "manifest.csv"
        text = manifest.read_text(encoding="utf-8")
        manifest.write_text(text.replace("2021", "2022", 1), encoding="utf-8")
    elif change == "new file":
        (corpus / "slides.pdf").write_bytes(b"%PDF")
    elif change == "removed file":
        (corpus / "notes.docx").unlink()
    else:
        (corpus / "notes.docx").rename(corpus / "notes2.docx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        after = load_units(corpus, cache=store)
        fresh = load_corpus(corpus)
    assert not after.hit and after.key != before.key
    _assert_same_frame(after.docs, fresh)
    assert load_units(corpus, cache=store).hit


def test_any_parameter_change_is_a_miss(tmp_path: Path, monkeypatch) -> None:
    store = tmp_path / "stages"
    base = load_units(cache=store)
    keys = {base.key}
    for kwargs in (
        {"template_min_docs": None},
        {"page_chrome": False},
        {"clean": False},
        {"opencc_config": "tw2s"},
        {"errors": "skip"},
    ):
        stages = load_units(cache=store, **kwargs)
        assert not stages.hit, kwargs
        _assert_same_frame(stages.docs, load_corpus(**kwargs))
        keys.add(stages.key)
    assert len(keys) == 6
    # Custom cleaning functions cannot be keyed: run uncached, never a stale hit.
    custom = load_units(cache=store, steps=(str.strip,))
    assert custom.key is None and not custom.hit

    built = _Counter(monkeypatch, features_module, "build_features")
    units = base.units
    variants = [
        (Tokenizer(), {}),
        (Tokenizer(min_length=1), {}),
        (Tokenizer(lexicon=None), {}),
        (Tokenizer(), {"min_df": 1}),
        (Tokenizer(), {"max_df": 0.9}),
        (Tokenizer(), {"sublinear_tf": False}),
        (Tokenizer(), {"include_headings": True}),
    ]
    for tokenizer, params in variants:
        build_features_cached(units, tokenizer, units_key=base.key, cache=store, **params)
    assert built.calls == len(variants)
    for tokenizer, params in variants:
        build_features_cached(units, tokenizer, units_key=base.key, cache=store, **params)
    assert built.calls == len(variants)  # all hits now
    # Another package file is another key.
    monkeypatch.setattr(stage_cache, "_code_fingerprint", lambda: "edited")
    assert not load_units(cache=store).hit


def _entries(store: Path) -> list[Path]:
    stage_cache.wait_for_writes()  # entries are written in the background
    return sorted(store.glob("*.stage"))


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "garbage", "planted"])
def test_damaged_or_planted_entries_are_misses(tmp_path: Path, damage: str) -> None:
    store = tmp_path / "stages"
    first = load_units(cache=store)
    (entry,) = _entries(store)
    data = entry.read_bytes()
    if damage == "flipped byte":
        pos = len(data) // 2
        entry.write_bytes(data[:pos] + bytes([data[pos] ^ 1]) + data[pos + 1 :])
    elif damage == "truncated":
        entry.write_bytes(data[: len(data) // 3])
    elif damage == "garbage":
        entry.write_bytes(os.urandom(4096))
    else:
        # A well-formed entry made with another folder's key, put under this name.
        other = tmp_path / "other"
        load_units(cache=other)
        (planted,) = _entries(other)
        assert planted.name == entry.name and planted.read_bytes() != data
        shutil.copyfile(planted, entry)
    with pytest.warns(RuntimeWarning, match="damaged"):
        again = load_units(cache=store)
    assert not again.hit
    _assert_same_frame(again.docs, first.docs)
    assert load_units(cache=store).hit  # rewritten


def test_files_are_private_and_cache_false_writes_nothing(tmp_path: Path) -> None:
    store = tmp_path / "new" / "stages"
    stages = load_units(cache=store)
    build_features_cached(stages.units, units_key=stages.key, cache=store)
    assert len(_entries(store)) == 2
    for path in [*_entries(store), store / KEY_FILE]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (store, store.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    untouched = tmp_path / "untouched"
    load_units(cache=False)
    build_features_cached(stages.units, cache=False, token_cache=False)
    assert not untouched.exists()


def test_warnings_are_given_on_a_miss_and_on_a_hit(corpus: Path, tmp_path: Path) -> None:
    (corpus / "slides.pdf").write_bytes(b"%PDF")
    store = tmp_path / "stages"
    for expected_hit in (False, True):
        with pytest.warns(UserWarning, match="slides.pdf"):
            stages = load_units(corpus, cache=store)
        assert stages.hit is expected_hit
        with pytest.warns(UserWarning, match="min_df=2 lowered to 1"):
            build_features_cached(
                stages.units.head(20), units_key=f"{stages.key}-head", cache=store
            )


def test_cli_uses_and_clears_the_stage_cache(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path / "cache"))
    outs = []
    for name, extra in (("cold", []), ("warm", []), ("bypass", ["--no-cache"])):
        out = tmp_path / name
        assert main(["topics", "--k", "4", "--out", str(out), *extra]) == 0
        outs.append(out)
    for out in outs[1:]:
        for name in ("unit_topics.csv", "topic_terms.csv", "prevalence.csv"):
            assert (out / name).read_bytes() == (outs[0] / name).read_bytes()
    capsys.readouterr()
    assert main(["cache", "--info"]) == 0
    info = capsys.readouterr().out
    assert "stages:" in info and f"{tmp_path / 'cache' / 'stages'}" in info
    # documents + units, features, and the tables of the command
    assert "entries:  3" in info.split("stages:")[1]
    assert main(["cache", "--clear"]) == 0
    assert "removed 3 cached stage results" in capsys.readouterr().out
    assert not _entries(tmp_path / "cache" / "stages")


def test_stage_cache_is_a_model_cache_container(tmp_path: Path) -> None:
    # One container, one integrity mechanism: the stage store only changes folder,
    # suffix and bound.
    store = StageCache(tmp_path)
    assert store.directory == tmp_path and store._SUFFIX == ".stage"
    assert StageCache().directory.name == stage_cache.STAGE_SUBDIR


# --- command tables ---------------------------------------------------------------------

NO_MANIFEST = Path(__file__).parent / "fixtures" / "corpora" / "folder_no_manifest"


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A folder of three .txt files without a manifest (not the bundled corpus)."""
    return Path(shutil.copytree(NO_MANIFEST, tmp_path / "small"))


def _counting(monkeypatch, name: str) -> list[int]:
    """Count the calls of a command function of the CLI (the parser binds it per run)."""
    from policystudy import cli

    calls: list[int] = []
    original = getattr(cli, name)

    def wrapped(args):
        calls.append(1)
        return original(args)

    monkeypatch.setattr(cli, name, wrapped)
    return calls


def _files(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.glob("*.csv"))}


@pytest.mark.parametrize(
    ("command", "function", "extra"),
    [
        ("topics", "_cmd_topics", ["--k", "2"]),
        ("compare", "_cmd_compare", []),
        ("agenda", "_cmd_agenda", []),
        ("terms", "_cmd_terms", []),
    ],
)
def test_a_rerun_reads_the_tables_back(
    tmp_path: Path, small_corpus: Path, monkeypatch, capsys, command, function, extra
) -> None:
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path / "cache"))
    calls = _counting(monkeypatch, function)
    argv = [command, str(small_corpus), *extra]
    assert main([*argv, "--out", str(tmp_path / "first")]) == 0
    first = capsys.readouterr()
    # Another folder and another number of processes: the same tables.
    jobs = ["--n-jobs", "2"] if command != "terms" else []
    assert main([*argv, "--out", str(tmp_path / "second"), *jobs]) == 0
    second = capsys.readouterr()
    assert calls == [1], "the rerun computed the tables again"
    assert _files(tmp_path / "second") == _files(tmp_path / "first") != {}
    # The same notes and warnings, and the files of this run listed on stdout.
    assert second.err == first.err
    assert second.out == first.out.replace(str(tmp_path / "first"), str(tmp_path / "second"))
    assert (tmp_path / "second" / f".policystudy-{command}.json").is_file()
    # --no-cache computes them again, to the same bytes.
    assert main([*argv, "--out", str(tmp_path / "third"), "--no-cache"]) == 0
    assert calls == [1, 1]
    assert _files(tmp_path / "third") == _files(tmp_path / "first")


def test_a_changed_input_file_or_argument_is_computed_again(
    tmp_path: Path, small_corpus: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path / "cache"))
    calls = _counting(monkeypatch, "_cmd_topics")
    lexicon = tmp_path / "lexicon.txt"
    lexicon.write_text("生态环境\n", encoding="utf-8")
    argv = ["topics", str(small_corpus), "--k", "2", "--lexicon", str(lexicon)]

    def run(name: str, *extra: str) -> dict[str, bytes]:
        assert main([*argv, *extra, "--out", str(tmp_path / name)]) == 0
        capsys.readouterr()
        return _files(tmp_path / name)

    base = run("base")
    assert run("again") == base and len(calls) == 1
    # A document edited: its own unit texts change.
    doc = sorted(small_corpus.glob("*.txt"))[0]
    doc.write_text(doc.read_text(encoding="utf-8") + "\n加快建设数字政府。\n", encoding="utf-8")
    edited = run("edited")
    assert len(calls) == 2 and edited["unit_topics.csv"] != base["unit_topics.csv"]
    assert "数字政府" in edited["unit_topics.csv"].decode("utf-8")
    # The lexicon file edited (same name): keyed by its bytes.
    lexicon.write_text("生态环境\n养老服务\n", encoding="utf-8")
    run("lexicon")
    assert len(calls) == 3
    # Another argument.
    run("seed", "--random-state", "1")
    assert len(calls) == 4
    run("seed-again", "--random-state", "1")
    assert len(calls) == 4


def test_a_failed_run_stores_no_tables(tmp_path: Path, small_corpus: Path, monkeypatch) -> None:
    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path / "cache"))
    calls = _counting(monkeypatch, "_cmd_topics")
    argv = ["topics", str(small_corpus), "--by", "no_such_column", "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    assert main(argv) == 2
    assert calls == [1, 1]
    assert not (tmp_path / "o" / "unit_topics.csv").exists()


def test_cache_warnings_are_not_replayed(
    tmp_path: Path, small_corpus: Path, monkeypatch, capsys
) -> None:
    from policystudy import cli
    from policystudy.cache import CacheWarning

    monkeypatch.setenv("POLICYSTUDY_CACHE", str(tmp_path / "cache"))
    original = cli._cmd_terms

    def with_warnings(args):
        warnings.warn("cache file x was damaged; removed", CacheWarning, stacklevel=1)
        warnings.warn("about the corpus", UserWarning, stacklevel=1)
        return original(args)

    monkeypatch.setattr(cli, "_cmd_terms", with_warnings)
    argv = ["terms", str(small_corpus)]
    assert main([*argv, "--out", str(tmp_path / "a")]) == 0
    first = capsys.readouterr().err
    assert "warning: cache file x was damaged" in first and "warning: about the corpus" in first
    assert main([*argv, "--out", str(tmp_path / "b")]) == 0
    second = capsys.readouterr().err
    assert "cache file x" not in second
    damaged = "policystudy terms: warning: cache file x was damaged; removed\n"
    assert second == first.replace(damaged, "")


def test_command_key_covers_what_shapes_the_tables(tmp_path: Path, small_corpus: Path) -> None:
    args = {"source": str(small_corpus), "k": 2, "out": "a", "n_jobs": 1, "no_cache": False}
    key = stage_cache.command_key("topics", args)
    assert key is not None and key.startswith("tables-topics-")
    # Where the tables go and how many processes compute them are not keyed.
    assert stage_cache.command_key("topics", {**args, "out": "b", "n_jobs": 2}) == key
    assert stage_cache.command_key("compare", args) != key
    assert stage_cache.command_key("topics", {**args, "k": 4}) != key
    # A folder other than the source cannot be keyed by its name: no caching.
    assert stage_cache.command_key("topics", {**args, "lexicon": [str(tmp_path)]}) is None
    # An unreadable source: no key (the command reports the problem itself).
    assert stage_cache.command_key("topics", {**args, "source": str(tmp_path / "nope")}) is None
    # A file the loader does not read: its name is keyed (the listing decides what
    # is read and what is reported as not read), its bytes are not.
    (small_corpus / "notes.md").write_text("x", encoding="utf-8")
    assert stage_cache.command_key("topics", args) != key
    listed = stage_cache.command_key("topics", args)
    (small_corpus / "notes.md").write_text("y", encoding="utf-8")
    assert stage_cache.command_key("topics", args) == listed


# --- background writes ------------------------------------------------------------------


def test_an_entry_holds_the_tables_as_returned_even_if_changed_after(tmp_path: Path) -> None:
    store = tmp_path / "stages"
    first = load_units(cache=store)
    expected_docs, expected_units = first.docs.copy(), first.units.copy()
    # Changed at once, while the entry may still be being written.
    first.docs["text"] = "改"
    first.units.loc[:, "text"] = "改"
    first.units["n_chars"] = -1
    again = load_units(cache=store)
    assert again.hit
    _assert_same_frame(again.docs, expected_docs)
    _assert_same_frame(again.units, expected_units)


def test_writes_end_before_worker_processes_start(tmp_path: Path, monkeypatch) -> None:
    from policystudy import tokens as tokens_module

    monkeypatch.setattr(tokens_module, "PARALLEL_MIN_CHARS", 0)
    stages = load_units(cache=tmp_path / "stages")
    assert not stages.hit and stage_cache._WRITING  # the entry is being written
    tokenize(stages.units.head(40), n_jobs=2, cache=False)
    assert not stage_cache._WRITING
    assert len(_entries(tmp_path / "stages")) == 1
