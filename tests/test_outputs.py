"""Command outputs: one clear line per user error, outputs replaced as one set.

Two runs writing one folder at once never mix their files; a killed run leaves
earlier outputs intact and its leftovers are removed by a later run.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from policystudy._io import OutputSet
from policystudy.cli import main

DOC = (
    "一、总体要求\n推进基层治理现代化,提升公共服务水平。\n"
    "二、主要任务\n完善养老服务体系,加强社区卫生服务。\n"
)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(3):
        (folder / f"d{i}.txt").write_text(DOC * (i + 1), encoding="utf-8")
    return folder


def _one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_out_that_is_a_file_is_refused_before_loading(tmp_path: Path, capsys) -> None:
    target = tmp_path / "out.csv"
    target.write_text("keep", encoding="utf-8")
    # The source does not exist either: the output check comes first, before any work.
    assert main(["topics", str(tmp_path / "missing"), "--k", "2", "--out", str(target)]) == 2
    err = _one_line_error(capsys)
    assert "out.csv" in err and "is a file" in err
    assert target.read_text(encoding="utf-8") == "keep"


def test_out_that_cannot_be_created_is_one_line(tmp_path: Path, corpus: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    assert main(["compare", str(corpus), "--out", str(blocker / "sub")]) == 2
    err = _one_line_error(capsys)
    assert "cannot write there" in err and "sub" in err


def test_missing_source_is_one_line(tmp_path: Path, capsys) -> None:
    assert main(["corpus", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in _one_line_error(capsys)


def test_warnings_are_one_line_each(corpus: Path, capsys) -> None:
    (corpus / "notes.docx").write_bytes(b"PK")
    assert main(["corpus", str(corpus)]) == 0
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines and all(line.startswith("policystudy corpus: warning: ") for line in lines)
    assert "notes.docx" in err


def test_topics_writes_its_set_and_manifest(corpus: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("untouched", encoding="utf-8")
    assert (
        main(
            [
                "topics",
                str(corpus),
                "--k",
                "2",
                "--min-df",
                "1",
                "--by",
                "doc_id",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    manifest = json.loads((out / ".policystudy-topics.json").read_text(encoding="utf-8"))
    assert manifest["command"] == "topics"
    assert manifest["files"] == ["prevalence.csv", "topic_terms.csv", "unit_topics.csv"]
    assert (out / "mine.txt").read_text(encoding="utf-8") == "untouched"
    assert not list(out.glob(".staging-*"))


_WRITER = textwrap.dedent(
    """
    import sys, time
    from policystudy._io import OutputSet
    out, tag, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with OutputSet(out, name="topics") as outputs:
        for i in range(20):
            outputs.write(f"t{i:02d}.csv", tag)
            time.sleep(pause)
    """
)


def test_two_runs_at_once_never_mix_their_files(tmp_path: Path) -> None:
    out = tmp_path / "out"
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(out), tag, "0.01"])
        for tag in ("A", "B")
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    tags = {p.read_text(encoding="utf-8") for p in out.glob("t*.csv")}
    assert len(list(out.glob("t*.csv"))) == 20
    assert len(tags) == 1  # every file from the run that committed last
    assert not list(out.glob(".staging-*"))


def test_killed_run_keeps_earlier_outputs_and_its_leftovers_go(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    for i in range(20):
        (out / f"t{i:02d}.csv").write_text("earlier", encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(out), "killed", "0.2"])
    deadline = time.monotonic() + 30
    while not list(out.glob(".staging-*/t00.csv")) and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert list(out.glob(".staging-*"))  # the killed run's staging folder is left behind
    assert {p.read_text(encoding="utf-8") for p in out.glob("t*.csv")} == {"earlier"}
    # A later run removes the leftovers of the dead process, and only those.
    with OutputSet(out, name="topics") as outputs:
        outputs.write("t00.csv", "later")
    assert not list(out.glob(".staging-*"))
    assert (out / "t00.csv").read_text(encoding="utf-8") == "later"
    assert (out / "t01.csv").read_text(encoding="utf-8") == "earlier"


def test_output_names_cannot_leave_the_folder(tmp_path: Path) -> None:
    outputs = OutputSet(tmp_path, name="x")
    try:
        for bad in ("../evil.csv", "/tmp/evil.csv", "a/../../evil.csv"):
            with pytest.raises(ValueError, match="relative path inside"):
                outputs.path(bad)
    finally:
        outputs.discard()
