"""`policystudy study`: the notebooks run on a user's table, into a reports folder."""

from __future__ import annotations

import base64
import contextlib
import io
import json
import re
import stat
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from policystudy._io import default_mode
from policystudy.cli import main
from policystudy.study import notebooks


def _outputs(path: Path) -> str:
    """Printed text and Markdown output (the notebooks for any corpus state results so)."""
    nb = nbformat.read(path, as_version=4)
    return "\n".join(
        out.get("text", "") + out.get("data", {}).get("text/markdown", "")
        for cell in nb.cells
        for out in cell.get("outputs", [])
    )


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

    # The message names the cell as the reader sees it, not papermill's count (which
    # includes the injected parameters cell), and the notebook as executed is kept.
    # Three of the five bundled documents are another corpus: the notebooks for any corpus ran.
    cells = nbformat.read(notebooks(generic=True)[0], as_version=4).cells
    position = next(
        i for i, c in enumerate(cells, 1) if c.cell_type == "code" and "load_corpus(" in c.source
    )
    first = cells[position - 1].source.splitlines()[0]
    assert f"01-corpus.ipynb failed in cell {position} of {len(cells)} (`{first[:40]}" in err
    assert "CorpusError" in err and err.count("\n") == 1
    failed = out / "_failed" / "01-corpus.ipynb"
    assert str(failed) in err
    kept = nbformat.read(failed, as_version=4)
    errors = [o for c in kept.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1 and "'nope'" in errors[0].evalue
    assert "_failed/01-corpus.ipynb" in (out / "index.html").read_text(encoding="utf-8")
    assert stat.S_IMODE(failed.stat().st_mode) == default_mode()

    # The next successful run removes it (and the index no longer lists it).
    assert main([*args, "--only", "01", "--no-html", "--out", str(out)]) == 0
    assert not (out / "_failed").exists()
    assert "_failed" not in (out / "index.html").read_text(encoding="utf-8")


def test_missing_study_package_is_one_line_without_traceback(tmp_path: Path) -> None:
    # As after a partial install: importing papermill fails.
    code = (
        "import sys; sys.modules['papermill'] = None; from policystudy.cli import main; "
        f"sys.exit(main(['study', '--only', '01', '--out', {str(tmp_path / 'out')!r}]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "papermill" in proc.stderr and "pip install papermill" in proc.stderr


# --------------------------------------------------------------------------- reports

HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
# A resource the browser would fetch: script, style sheet, image, frame or media from a
# URL with a scheme or a protocol-relative one; CSS url() and @import likewise.
REMOTE = re.compile(
    r"<(?:script|link|img|iframe|source|audio|video|embed|object)\b[^>]*?"
    r"\b(?:src|href|data)\s*=\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//",
    re.I,
)
CSS_REMOTE = re.compile(r"url\(\s*[\"']?\s*(?:[a-z][a-z0-9+.-]*:)?//|@import", re.I)


def _embedded_fonts(page: str) -> list[set[int]]:
    from fontTools.ttLib import TTFont

    fonts = re.findall(r"url\(data:font/woff2?;base64,([A-Za-z0-9+/=]+)\)", page)
    return [set(TTFont(io.BytesIO(base64.b64decode(f))).getBestCmap()) for f in fonts]


@pytest.fixture(scope="module")
def full_run(tmp_path_factory) -> tuple[Path, str]:
    """Every notebook, with HTML, on the bundled corpus (about a minute)."""
    out = tmp_path_factory.mktemp("full") / "reports"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        assert main(["study", "--out", str(out)]) == 0
    return out, stdout.getvalue()


def _files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".policystudy.lock"
    }


@pytest.mark.slow
def test_reports_show_every_character_without_a_system_font_or_network(full_run) -> None:
    out, printed = full_run
    pages = sorted(out.glob("*.html"))
    assert [p.stem for p in pages] == sorted([nb.stem for nb in notebooks()] + ["index"])
    for page_path in pages:
        page = page_path.read_text(encoding="utf-8")
        (cmap,) = _embedded_fonts(page)  # exactly one font, embedded
        missing = sorted({ch for ch in HAN.findall(page) if ord(ch) not in cmap})
        assert not missing, f"{page_path.name}: the embedded font lacks {missing[:20]}"
        assert "@font-face" in page and '"policystudy Noto Sans SC"' in page
        assert not REMOTE.findall(page), f"{page_path.name}: {REMOTE.findall(page)[:3]}"
        assert not CSS_REMOTE.findall(page), f"{page_path.name}: {CSS_REMOTE.findall(page)[:3]}"
        assert "mathjax" not in page.lower() and "require.js" not in page
        assert "$G^2$" not in page  # TeX written as HTML, not left for MathJax
        # What the family is used for: all text, tables and code.
        head = page[: page.index("</head>")]
        style = head[head.rindex("<style") :]  # the last style of the head wins
        for selector in ("body, table, th, td", "pre, code"):
            assert selector in style
        assert ".staging-" not in page
    # Most pages hold Chinese; the font is a subset, not the 10 MB file.
    report = (out / "01-corpus.html").read_text(encoding="utf-8")
    assert len(HAN.findall(report)) > 100
    assert len(report.encode("utf-8")) < 2_000_000
    assert printed.rstrip().endswith(str(out / "index.html"))


@pytest.mark.slow
def test_index_links_every_report_table_and_figure(full_run) -> None:
    out, _ = full_run
    index = (out / "index.html").read_text(encoding="utf-8")
    links = set(re.findall(r'<a href="([^"]+)"', index))
    written = {
        p.relative_to(out).as_posix()
        for p in out.rglob("*")
        if p.is_file() and not p.name.startswith(".") and p.name != "index.html"
    }
    assert written == links, sorted(written ^ links)
    # One line per file, saying what it is: tables their rows, figures their title.
    assert "05-comparing-cities/prevalence_city.csv</a> — table: topic prevalence" in index
    assert "figure: Topic prevalence by city (share minus the other groups" in index


@pytest.mark.slow
def test_study_outputs_have_the_ordinary_mode(full_run) -> None:
    out, _ = full_run
    expected = default_mode()
    for path in out.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == expected, path


@pytest.mark.slow
def test_reruns_are_byte_identical(full_run, tmp_path: Path) -> None:
    out, _ = full_run
    before = _files(out)
    params = next(c for c in nbformat.read(out / "01-corpus.ipynb", as_version=4).cells
                  if "injected-parameters" in c.metadata.get("tags", []))  # fmt: skip
    assert 'output_dir = "01-corpus"' in params.source  # no staging or temporary path
    meta = json.loads(before["01-corpus.ipynb"])["metadata"]["papermill"]
    assert set(meta) <= {"default_parameters", "parameters", "version"}  # no times, paths

    # Another folder: the same bytes for every file of notebook 01 and the report.
    other = tmp_path / "other"
    assert main(["study", "--only", "01", "--out", str(other)]) == 0
    again = _files(other)
    for name, content in again.items():
        if name.startswith("01-corpus"):
            assert content == before[name], name
    # The same folder again: nothing changes except the manifest, which lists the run.
    assert main(["study", "--only", "01", "--out", str(out)]) == 0
    rerun = _files(out)
    assert sorted(rerun) == sorted(before)
    changed = sorted(n for n in before if rerun[n] != before[n])
    assert changed == [".policystudy-study.json"], changed


def test_n_jobs_reaches_only_the_notebooks_that_declare_it(tmp_path: Path, monkeypatch) -> None:
    import shutil

    import papermill

    from policystudy.study import run_study

    injected: dict[str, dict] = {}

    def execute(source, target, parameters, **_):  # records the parameters, runs nothing
        injected[Path(source).name] = parameters
        shutil.copyfile(source, target)

    monkeypatch.setattr(papermill, "execute_notebook", execute)
    corpus = Path(__file__).parent / "fixtures" / "corpora" / "folder_no_manifest"
    declared = {
        p.name for p in notebooks(generic=True) if "n_jobs" in papermill.inspect_notebook(str(p))
    }
    assert "04-topics.ipynb" in declared
    for n_jobs in (2, -1, 1):
        injected.clear()
        run_study(corpus, tmp_path / f"out{n_jobs}", n_jobs=n_jobs, html=False, extras=False)
        assert len(injected) == len(notebooks(generic=True))
        given = {name for name, params in injected.items() if "n_jobs" in params}
        assert given == (set() if n_jobs == 1 else declared)
        assert all(injected[name]["n_jobs"] == n_jobs for name in given)
    with pytest.raises(ValueError, match="n_jobs"):
        run_study(corpus, tmp_path / "bad", n_jobs=0, html=False, extras=False)


def test_study_refuses_zero_processes(tmp_path: Path, capsys) -> None:
    assert main(["study", "--n-jobs", "0", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "n_jobs" in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
