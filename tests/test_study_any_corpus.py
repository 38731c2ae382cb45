"""`policystudy study` on corpora that are not the published one: the truth about each.

The four fixture corpora of ``tests/fixtures/corpora`` (three files without a
manifest, an ``id,body`` table, 22 documents with region/year/level grouped with
and without ``--by``, two documents) run through every notebook of the set for
any corpus. Each run must exit 0; its reports (HTML and executed notebooks) must
name none of the bundled documents, their places or their themes; and the computed
sections (grouping, k and why, keyness, prevalence, contrast, confounds, what
could not be computed) must be there. The five runs take about four minutes on
two cores.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import nbformat
import pytest

from policystudy.cli import main
from policystudy.published import PUBLISHED
from policystudy.study import is_published_run, notebooks

FIXTURES = Path(__file__).parent / "fixtures" / "corpora"

#: What a report on another corpus must not contain: the bundled doc_ids, the
#: places of the bundled corpus in pinyin and Chinese (Simplified and Traditional),
#: and its two signature themes.
BUNDLED_WORDS = [
    *PUBLISHED.corpus_sha256,
    "quanzhou", "泉州", "wenzhou", "温州", "溫州", "taizhou", "台州", "臺州",
    "licheng", "鲤城", "鯉城", "fujian", "福建", "zhejiang", "浙江",
    "共同富裕", "市域治理",
]  # fmt: skip
BUNDLED = re.compile("|".join(map(re.escape, BUNDLED_WORDS)), re.IGNORECASE)

RUNS = {
    "folder_no_manifest": ["folder_no_manifest"],
    "id_body": ["id_body.csv", "--text-column", "body", "--id-column", "id"],
    "regional": ["regional"],
    "regional_by_region": ["regional", "--by", "region"],
    "two_docs": ["two_docs.csv"],
}


def test_fixtures_do_not_name_the_bundled_corpus() -> None:
    # The check below means something only if the inputs are clean themselves.
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            found = BUNDLED.findall(path.read_text(encoding="utf-8"))
            assert not found, f"{path.relative_to(FIXTURES)} contains {sorted(set(found))}"


def test_only_the_published_run_runs_the_published_notebooks() -> None:
    assert is_published_run()
    assert is_published_run(parameters={"k": 8, "text_column": "body"}, by="city")
    assert not is_published_run("my_docs/")
    assert not is_published_run(parameters={"k": 6})
    assert not is_published_run(by="doc_type")
    assert not is_published_run(lexicon=["terms.csv"])
    assert not is_published_run(parameters={"n_sample": 10})  # unknown: could change findings
    assert is_published_run(parameters={"n_jobs": 2})  # processes change no finding
    published, generic = notebooks(), notebooks(generic=True)
    assert [p.name[:2] for p in published] == ["01", "02", "03", "04", "05", "06", "07"]
    # 06 is the tutorial built on the bundled documents; 07 runs on any corpus as it is.
    assert [p.name[:2] for p in generic] == ["01", "02", "03", "04", "05", "07"]
    assert all(p.parent.name == "generic" for p in generic[:5]) and generic[5] == published[6]


def _text(notebook: nbformat.NotebookNode) -> str:
    """Everything a reader of the executed notebook sees: sources and outputs."""
    parts = []
    for cell in notebook.cells:
        parts.append(cell.source)
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            parts.append(out.get("evalue", ""))
            for mime, value in out.get("data", {}).items():
                if mime.startswith("text/"):
                    parts.append(value if isinstance(value, str) else "".join(value))
    return "\n".join(parts)


@pytest.fixture(scope="module", params=list(RUNS))
def report(request, tmp_path_factory) -> tuple[str, Path, dict[str, str]]:
    name = request.param
    source, *options = RUNS[name]
    out = tmp_path_factory.mktemp(name) / "reports"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["study", str(FIXTURES / source), *options, "--out", str(out)])
    assert code == 0, printed.getvalue()
    texts = {p.name: _text(nbformat.read(p, as_version=4)) for p in sorted(out.glob("*.ipynb"))}
    return name, out, texts


@pytest.mark.slow
def test_every_notebook_of_the_set_runs_and_names_nothing_bundled(report) -> None:
    name, out, texts = report
    assert sorted(texts) == sorted(p.name for p in notebooks(generic=True)), name
    assert not (out / "_failed").exists()
    pages = {p.name: p.read_text(encoding="utf-8") for p in sorted(out.glob("*.html"))}
    assert len(pages) == len(texts) + 1  # and the index
    for file, text in [*texts.items(), *pages.items()]:
        found = sorted({m.lower() for m in BUNDLED.findall(text)})
        assert not found, f"{name}: {file} names the bundled corpus: {found}"
    for file, text in texts.items():
        assert "Traceback" not in text, f"{name}: {file} shows a traceback"
        # A warning shown raw carries the kernel's temporary file, which changes each run.
        assert "ipykernel_" not in text, f"{name}: {file} shows a warning with a kernel path"


def _markdown(texts: dict[str, str], stem: str) -> str:
    return next(text for file, text in texts.items() if file.startswith(stem))


@pytest.mark.slow
def test_the_computed_sections_are_there(report) -> None:
    name, out, texts = report
    corpus = _markdown(texts, "01")
    n_docs = {"folder_no_manifest": 3, "id_body": 4, "two_docs": 2}.get(name, 22)
    assert f"{n_docs} documents," in corpus
    by = "region" if name.startswith("regional") else "doc_id"
    how = "the `by` parameter" if name == "regional_by_region" else "chosen by `ps.choose_grouping`"
    assert f"Comparisons group by `{by}` ({how}" in corpus
    assert "Columns crossed:" in corpus or "nothing is crossed" in corpus
    assert "removed-spans" in corpus or "removed spans" in corpus

    assert "lexicon term" in _markdown(texts, "02")
    assert "Top over-represented terms by signed G²" in _markdown(texts, "03")

    topics = _markdown(texts, "04")
    assert re.search(r"This notebook uses k = \d+ \(`ps\.default_k`: sqrt\(\d+ units", topics)
    assert "Among the candidates" in topics and "Mean matched Jaccard per alternative" in topics
    assert (out / "04-topics" / "topic_map.png").is_file()

    groups = _markdown(texts, "05")
    assert "Largest excess per group" in groups
    assert re.search(r"`[^`]+` \(\d+ documents?, \d+ units\) against `[^`]+`", groups)
    assert (
        "Confounded:" in groups or "No crossed column" in groups or "nothing is crossed" in groups
    )
    assert "What the data can and cannot support" in groups
    contrast = sorted((out / "05-comparing-groups").glob(f"contrast_{by}_*_vs_*.csv"))
    assert len(contrast) == 1, name
    if name == "folder_no_manifest":
        # Three short documents, one without headings: the section check is named, not skipped.
        assert "Not computed:" in topics or "Adjusted mutual information" in topics
