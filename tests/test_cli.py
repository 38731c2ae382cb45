"""The command line: corpus summary and cache commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from policystudy.cli import corpus_summary, main


def test_corpus_prints_five_documents(docs, capsys) -> None:
    assert main(["corpus"]) == 0
    out = capsys.readouterr().out
    for doc_id in docs["doc_id"]:
        assert doc_id in out
    header = out.splitlines()[0].split()
    assert header[:8] == [
        "doc_id",
        "city",
        "doc_type",
        "year",
        "script",
        "chars",
        "units",
        "removed_chars",
    ]
    # Then the manifest's own metadata columns, in its order.
    assert header[8:11] == ["file", "district", "province"] and header[-1] == "notes"


def test_corpus_summary_counts(docs, units) -> None:
    table = corpus_summary(docs, units)
    assert table["units"].sum() == len(units)
    assert (table["chars"] == docs["text"].str.len()).all()
    # Counted on the raw file's lines, not by the cleaner: the dateline above the
    # title, the source note closing the text and the portal's footer under it.
    wenzhou = "wenzhou-2020-governance-decision"
    raw = docs.set_index("doc_id").loc[wenzhou, "raw_text"].splitlines()
    source_note = "(來源:溫州發布)"
    end = next(i for i, line in enumerate(raw) if line.endswith(source_note))
    boilerplate = len(raw[0]) + len(source_note) + sum(len(line) for line in raw[end + 1 :])
    assert table.set_index("doc_id").loc[wenzhou, "removed_chars"] == boilerplate


def test_corpus_csv_is_byte_identical(capsys) -> None:
    main(["corpus", "--csv"])
    first = capsys.readouterr().out
    main(["corpus", "--csv"])
    assert capsys.readouterr().out == first


def test_bad_source_is_a_clear_error(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.txt").write_bytes(b"")
    assert main(["corpus", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "a.txt" in err and "empty" in err


def test_cache_commands(tmp_path: Path, capsys) -> None:
    import numpy as np

    from policystudy.cache import ModelCache, TokenCache

    TokenCache(tmp_path).put_many({"k": ["词"]})
    ModelCache(tmp_path / "models").put("a", {"x": np.zeros(3)}, {})
    ModelCache(tmp_path / "models").put("b", {"x": np.ones(3)}, {})
    assert main(["cache", "--info", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "entries:  1" in out and "entries:  2" in out
    assert main(["cache", "--clear", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "removed 1 cached token lists" in out and "removed 2 cached models" in out
    assert ModelCache(tmp_path / "models").info()["entries"] == 0


def test_console_script_installed() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "policystudy.cli", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("policystudy ")


def test_topics_passes_dtype_through(tmp_path: Path, capsys, monkeypatch) -> None:
    import pytest

    from policystudy import topics

    fitted = []
    real = topics.fit_topics

    def spy(*args, **kwargs):
        model = real(*args, **kwargs)
        fitted.append((kwargs.get("dtype"), model.dtype_))
        return model

    monkeypatch.setattr(topics, "fit_topics", spy)
    for dtype in ("float32", "float64", None):
        option = [] if dtype is None else ["--dtype", dtype]
        args = ["topics", "--k", "4", "--no-cache", *option, "--out", str(tmp_path / str(dtype))]
        assert main(args) == 0
    assert fitted == [("float32", "float32"), ("float64", "float64"), ("auto", "float64")]
    assert "float32" not in capsys.readouterr().err  # auto on the bundled corpus: float64
    # From the threshold on, auto picks float32 and says so.
    monkeypatch.setattr(topics._fit, "FLOAT32_MIN_UNITS", 10)
    assert main(["topics", "--k", "4", "--no-cache", "--out", str(tmp_path / "auto32")]) == 0
    assert fitted[-1] == ("auto", "float32")
    assert "NMF fitted in float32 (no --dtype" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["topics", "--dtype", "float16", "--out", str(tmp_path / "bad")])
    assert info.value.code == 2
    assert "invalid choice: 'float16'" in capsys.readouterr().err
