"""The benchmark machinery on a tiny synthetic corpus (no timing is asserted)."""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policystudy.load import load_corpus
from policystudy.units import split_units

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"


def _documented_columns(name: str) -> list[str]:
    """The column list benchmarks/README.md gives for ``name`` (the published schema)."""
    readme = (BENCH / "README.md").read_text(encoding="utf-8")
    m = re.search(rf"- `{re.escape(name)}`:[^`]*`([^`]+)`", readme)
    assert m, f"benchmarks/README.md documents no columns for {name}"
    return [c.strip() for c in m.group(1).split(",")]


def _synth(out: Path, *extra: str) -> str:
    cmd = [sys.executable, str(BENCH / "synth.py"), "--docs", "5", "--paragraphs", "4"]
    done = subprocess.run(
        [*cmd, "--out", str(out), *extra], capture_output=True, text=True, check=True
    )
    return done.stdout


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    _synth(out)
    return out


def test_synth_writes_a_loadable_deterministic_corpus(corpus, tmp_path) -> None:
    files = sorted(p.name for p in corpus.glob("*.txt"))
    assert len(files) == 5
    with open(corpus / "manifest.csv", encoding="utf-8", newline="") as fh:
        manifest = list(csv.DictReader(fh))
    assert list(manifest[0]) == ["doc_id", "file", "city", "doc_type", "year"]
    assert [m["file"] for m in manifest] == files
    real = load_corpus()
    # Metadata cycles through the real documents.
    assert [m["city"] for m in manifest] == real["city"].astype(str).tolist()
    assert [int(m["year"]) for m in manifest] == real["year"].astype(int).tolist()

    # Every line is one paragraph unit for split_units, and all are distinct.
    units = split_units(load_corpus(corpus))
    lines = [line for f in files for line in (corpus / f).read_text("utf-8").splitlines() if line]
    assert len(units) == len(lines) == 20
    assert set(units["kind"]) == {"paragraph"}
    assert units["text"].tolist() == lines
    assert units["text"].nunique() == 20
    # Material from the bundled corpus: every paragraph's first sentence occurs in it.
    source = "".join(split_units(real)["text"])
    assert all(line.split("。")[0][:10] in source for line in lines)

    again = tmp_path / "again"
    _synth(again)
    for f in files:
        assert (again / f).read_bytes() == (corpus / f).read_bytes()
    other = tmp_path / "other"
    _synth(other, "--seed", "1")
    assert (other / files[0]).read_bytes() != (corpus / files[0]).read_bytes()


def test_synth_refuses_data_folder() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / "synth.py"), "--docs", "1", "--out", str(ROOT / "data" / "x")],
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "refusing to write" in done.stderr
    assert not (ROOT / "data" / "x").exists()


@pytest.mark.slow
def test_run_smoke_writes_the_tables(corpus, tmp_path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(BENCH / "run.py"), "--smoke", "--src", str(corpus), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    with open(out / "bench.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == _documented_columns("bench.csv")
    stages = {(r["tool"], r["stage"]) for r in rows}
    for stage in ("end_to_end", "segment", "tfidf", "topics"):
        assert ("floor", stage) in stages
    for stage in ("end_to_end", "load", "units", "tokenize", "features", "topics"):
        assert ("policystudy", stage) in stages
    measured = [r for r in rows if r["route"] != "import"]
    assert {r["n_units"] for r in measured} == {"20"}
    assert {r["cache"] for r in measured if r["tool"] == "policystudy"} == {"cold", "warm"}
    assert all(float(r["seconds"]) >= 0 for r in rows)
    with open(out / "targets.csv", encoding="utf-8", newline="") as fh:
        targets = list(csv.DictReader(fh))
    assert list(targets[0]) == _documented_columns("targets.csv")
    assert {t["target"] for t in targets} >= {"import_seconds", "import_heavy_modules"}
    assert {t["result"] for t in targets} <= {"PASS", "FAIL", "INFO"}
    # Reported values are not targets: nothing to pass or fail.
    assert all(t["op"] == "report" for t in targets if t["result"] == "INFO")
    assert "policystudy / floor" in done.stdout
