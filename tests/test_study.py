"""`policystudy study`: the notebooks run on a user's table, into a reports folder."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pandas as pd

from policystudy.cli import main


def _outputs(path: Path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(out.get("text", "") for cell in nb.cells for out in cell.get("outputs", []))


def test_study_runs_on_a_table_with_other_column_names(docs, tmp_path: Path, capfd) -> None:
    table = docs.head(3)[["doc_id", "raw_text", "city", "doc_type", "year"]].rename(
        columns={"doc_id": "id", "raw_text": "body"}
    )
    source = tmp_path / "plans.csv"
    table.to_csv(source, index=False)
    out = tmp_path / "reports"
    args = ["study", str(source), "--text-column", "body", "--id-column", "id"]
    assert main([*args, "--only", "01", "--no-html", "--out", str(out)]) == 0
    executed = out / "01-corpus.ipynb"
    assert "3 documents" in _outputs(executed)
    assert (out / "01-corpus").is_dir()
    printed = capfd.readouterr()
    assert "01-corpus.ipynb" in printed.out
    assert "without encryption" not in printed.err  # the kernel's transport warning

    # A failing run (the text column does not exist) stops with the loader's error,
    # which names the file and the column, and leaves the earlier results as they were.
    before = executed.read_bytes()
    bad = ["study", str(source), "--text-column", "nope", "--id-column", "id"]
    assert main([*bad, "--only", "01", "--no-html", "--out", str(out)]) == 2
    err = capfd.readouterr().err
    assert "plans.csv" in err and "'nope'" in err
    assert executed.read_bytes() == before
    # No staging leftovers: only the run manifest and the folder lock are hidden.
    hidden = sorted(p.name for p in out.iterdir() if p.name.startswith("."))
    assert hidden == [".policystudy-study.json", ".policystudy.lock"]
    assert pd.read_csv(source).shape == (3, 5)  # the source is never written to
