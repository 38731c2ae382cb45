"""The package's shape: one heading grammar, one writer, one schema, one module table.

These tests read the source: a heading pattern, an atomic-write implementation or a
column-name list defined a second time outside its one module fails here.
"""

from __future__ import annotations

import ast
import csv
import importlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

import policystudy as ps
from policystudy import _io, markers, schema
from policystudy.load import bundled_data_dir, load_corpus
from policystudy.published import PUBLISHED
from policystudy.units import split_units

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "policystudy"
SOURCES = sorted([*PACKAGE.rglob("*.py"), *(ROOT / "benchmarks").glob("*.py")])
#: Subpackages: a public ``__init__`` re-exporting private implementation modules.
SUBPACKAGES = sorted(
    p.parent.name for p in PACKAGE.glob("*/__init__.py") if not p.parent.name.startswith("_")
)


def _source(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_heading_grammar_is_defined_only_in_markers(path: Path) -> None:
    if path.name == "markers.py":
        return
    text = _source(path)
    # The numeral class of the markers and the Han character range.
    for fragment in ("一二三四五六七八九", "十百零〇", r"\u3400-\u4dbf", "\u3400-\u4dbf"):
        assert fragment not in text, f"{path.name} restates {fragment!r}: use policystudy.markers"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_atomic_writes_are_implemented_only_in_io(path: Path) -> None:
    if path.name == "_io.py":
        return
    tree = ast.parse(_source(path))
    # Scratch folders (tempfile.TemporaryDirectory) are fine; moving files into place is not.
    found = _module_calls(tree, {"os": {"replace", "rename"}, "tempfile": {"mkstemp"}})
    assert not found, f"{path.name} writes files itself ({found}): use policystudy._io"


def _module_calls(tree: ast.AST, names: dict[str, set[str]]) -> list[str]:
    found = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in names.get(node.func.value.id, set())
        ):
            found.append(f"{node.func.value.id}.{node.func.attr}")
    return found


SCHEMA_NAMES = set(schema.DOC_COLUMNS) | set(schema.UNIT_COLUMNS) | set(schema.REMOVED_COLUMNS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_column_name_lists_are_defined_only_in_schema(path: Path) -> None:
    if path.name == "schema.py":
        return
    tree = ast.parse(_source(path))
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)) or not isinstance(
            node.value, (ast.Tuple, ast.List)
        ):
            continue
        strings = [
            e.value
            for e in node.value.elts
            if isinstance(e, ast.Constant) and isinstance(e.value, str)
        ]
        shared = [s for s in strings if s in SCHEMA_NAMES]
        assert len(shared) < 3, (
            f"{path.name}:{node.lineno} lists the schema's column names {shared}: "
            "use policystudy.schema"
        )


def test_the_checks_above_can_fail(tmp_path: Path) -> None:
    # The same scans on a module that breaks each rule must find it.
    bad = "import os, tempfile\nCOLS = ('doc_id', 'unit_id', 'section')\n"
    bad += "os.replace('a', 'b')\nfd = tempfile.mkstemp()\nX = '[一二三四五六七八九十]、'\n"
    tree = ast.parse(bad)
    assert _module_calls(tree, {"os": {"replace"}, "tempfile": {"mkstemp"}}) == [
        "os.replace",
        "tempfile.mkstemp",
    ]
    assert "一二三四五六七八九" in bad
    assert {"doc_id", "unit_id", "section"} <= SCHEMA_NAMES


def test_module_table_covers_every_public_module() -> None:
    public = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    public |= set(SUBPACKAGES)
    assert public == set(ps._MODULES)
    for module in sorted(public):
        assert getattr(ps, module) is importlib.import_module(f"policystudy.{module}")
    for name, module in ps._API.items():
        assert getattr(ps, name) is getattr(importlib.import_module(module), name)
    assert sorted(ps.__all__[1:]) == sorted(ps._API)


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackages_reexport_every_name_of_their_modules(name: str) -> None:
    # scikit-learn's layout: private implementation modules, one small public
    # __init__. A module of a subpackage is private, and every name it exports
    # is exported, as the same object, by the subpackage.
    package = importlib.import_module(f"policystudy.{name}")
    modules = sorted(p.stem for p in (PACKAGE / name).glob("*.py") if p.stem != "__init__")
    assert modules and all(m.startswith("_") for m in modules), modules
    assert set(ps._MODULES[name]) <= set(package.__all__)
    for stem in modules:
        module = importlib.import_module(f"policystudy.{name}.{stem}")
        for exported in module.__all__:
            assert exported in package.__all__, f"{stem}.{exported} is not re-exported"
            assert getattr(package, exported) is getattr(module, exported)


def test_study_and_scale_are_attributes() -> None:
    # Both raised AttributeError when the module list was written by hand.
    assert ps.study.run_study is ps.run_study
    assert ps.scale.tokenize_dask is ps.tokenize_dask
    with pytest.raises(AttributeError):
        _ = ps.no_such_thing


def test_stages_import_constants_from_schema_not_from_each_other() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(_source(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in {
                "policystudy.load",
                "policystudy.units",
            }:
                imported = {a.name for a in node.names}
                assert not imported & {
                    "DOC_COLUMNS",
                    "UNIT_COLUMNS",
                    "PREAMBLE",
                    "NO_HEADINGS",
                    "REMOVED_COLUMNS",
                }, f"{path.name} imports constants from a sibling stage"


# --------------------------------------------------------------------------- grammar


REGULATION = (
    "某市城市管理条例\n"
    "第一章 总则\n"
    "第一条 为了加强城市管理,根据有关法律、法规,结合本市实际\n"
    "第二条 本条例适用于本市行政区域内的城市管理活动。\n"
    "第三条 市人民政府应当加强对城市管理工作的领导。\n"
    "第二章 管理职责\n"
    "第四条 城市管理部门负责本条例的组织实施。\n"
)


def test_articles_stay_apart_through_load_corpus(tmp_path: Path) -> None:
    # clean's own heading pattern did not know 第…条: the first article, which
    # ends without a full stop, was joined to the second.
    (tmp_path / "reg.txt").write_text(REGULATION, encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert "结合本市实际\n第二条" in docs.loc[0, "text"]
    units = split_units(docs)
    articles = units[units["text"].str.startswith("第")]
    assert articles["text"].str[:3].tolist() == ["第一章", "第一条", "第二条", "第三条"] + [
        "第二章",
        "第四条",
    ]
    assert units.loc[units["text"].str.startswith("第二条"), "kind"].item() == "item"
    assert units.loc[units["text"].str.startswith("第四条"), "section"].item() == "第二章 管理职责"


RUN_IN_REGULATION = (
    "某市河道管理条例\n"
    "第一章 总则 第一条 为了加强河道管理,制定本条例。 第二条 本条例适用于本市河道。\n"
    "第三条 市水行政主管部门负责河道的监督管理。\n"
    "第二章 河道整治\n"
    "第四条 河道整治应当符合规划。 第五条 禁止在河道内倾倒垃圾。\n"
    "第三章 附则 第六条 本条例自2026年1月1日起施行。\n"
)


def test_run_in_articles_and_chapters_through_load_corpus(tmp_path: Path) -> None:
    # Spaces after 第…章/条 are structure: join_split_words used to remove them,
    # which glued the chapter title to the article and hid the run-in markers.
    (tmp_path / "reg.txt").write_text(RUN_IN_REGULATION, encoding="utf-8")
    docs = load_corpus(tmp_path)
    assert "第一章 总则 第一条 为了" in docs.loc[0, "text"]
    units = split_units(docs)
    assert units["text"].str[:3].tolist() == [
        "某市河",
        "第一章",
        "第一条",
        "第二条",
        "第三条",
        "第二章",
        "第四条",
        "第五条",
        "第三章",
        "第六条",
    ]
    assert units["kind"].tolist() == ["title"] + ["heading", *["item"] * 3] * 1 + [
        "heading",
        "item",
        "item",
        "heading",
        "item",
    ]
    assert units.loc[units["text"].str.startswith("第六条"), "section"].item() == "第三章 附则"
    assert units["section_id"].tolist()[1:] == ["一"] * 4 + ["二"] * 3 + ["三"] * 2


def test_clean_and_units_share_the_marker_table() -> None:
    from policystudy import clean, units

    assert clean.HEADING_MARKER is markers.HEADING_MARKER
    assert units.MARKER_TYPES is markers.MARKER_TYPES
    for line in ("第十二条 本办法自发布之日起施行", "第三章 附则", "（二）工作目标", "3.加强"):
        assert markers.HEADING_MARKER.match(line), line


# --------------------------------------------------------------------------- writer


def test_outputs_get_the_ordinary_mode_and_figures_too(tmp_path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from policystudy.plots import save_figure

    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, 1])
    png = save_figure(fig, tmp_path / "f.png")
    plt.close(fig)
    csv_path = _io.atomic_write(tmp_path / "t.csv", "a,b\n")
    expected = _io.default_mode()
    assert stat.S_IMODE(png.stat().st_mode) == expected
    assert stat.S_IMODE(csv_path.stat().st_mode) == expected
    private = _io.atomic_write(tmp_path / "c.bin", b"x", mode=_io.PRIVATE_MODE)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    folder = _io.private_dir(tmp_path / "cache")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_writer_refuses_the_bundled_corpus() -> None:
    data = bundled_data_dir()
    before = sorted(p.name for p in data.iterdir())
    with pytest.raises(ValueError, match="bundled corpus"):
        _io.atomic_write(data / "out.csv", "x")
    with pytest.raises(ValueError, match="bundled corpus"):
        _io.OutputSet(data / "out", name="topics")
    assert sorted(p.name for p in data.iterdir()) == before


@pytest.mark.parametrize(
    "command",
    [
        ["topics", "--k", "3"],
        ["compare", "--by", "city"],
        ["study", "--only", "01", "--no-html"],
    ],
    ids=lambda c: c[0],
)
def test_commands_refuse_to_write_into_the_corpus(command: list[str], capsys) -> None:
    from policystudy.cli import main

    data = bundled_data_dir()
    before = sorted(p.relative_to(data).as_posix() for p in data.rglob("*"))
    assert main([*command, "--out", str(data / "out")]) == 2
    err = capsys.readouterr().err
    assert "bundled corpus" in err and err.count("\n") == 1
    assert sorted(p.relative_to(data).as_posix() for p in data.rglob("*")) == before


def test_output_set_replaces_only_its_own_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    (tmp_path / "a.csv").write_text("old", encoding="utf-8")
    with _io.OutputSet(tmp_path, name="topics") as out:
        out.write("a.csv", "new\n")
        out.write("sub/b.csv", "b\n")
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "new\n"
    manifest = (tmp_path / ".policystudy-topics.json").read_text(encoding="utf-8")
    assert '"a.csv"' in manifest and '"sub/b.csv"' in manifest
    assert not list(tmp_path.glob(".staging-*"))


def test_output_set_failure_keeps_earlier_outputs(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), _io.OutputSet(tmp_path, name="topics") as out:
        out.write("a.csv", "half")
        raise RuntimeError("fit failed")
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == "old"
    assert not list(tmp_path.glob(".staging-*"))


def test_output_set_removes_leftovers_of_dead_runs_only(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        text=True,
        capture_output=True,
        check=True,
    )
    stale = tmp_path / f".staging-{dead.stdout.strip()}-x"
    alive = tmp_path / f".staging-{os.getpid()}-y"
    for folder in (stale, alive):
        folder.mkdir()
        (folder / "a.csv").write_text("partial", encoding="utf-8")
    _io.OutputSet(tmp_path, name="topics").discard()
    assert not stale.exists()
    assert alive.exists()


def test_output_dir_that_is_a_file_is_one_clear_error(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("x", encoding="utf-8")
    with pytest.raises(_io.OutputError, match="is a file"):
        _io.check_output_dir(target)


# --------------------------------------------------------------------------- published run


def test_published_checksums_are_the_manifest_checksums() -> None:
    with open(bundled_data_dir() / "manifest.csv", encoding="utf-8", newline="") as fh:
        manifest = {row["doc_id"]: row["sha256"] for row in csv.DictReader(fh)}
    assert dict(PUBLISHED.corpus_sha256) == manifest


def test_published_matches_only_the_published_run(docs, tmp_path: Path) -> None:
    assert PUBLISHED.matches(docs, k=8, random_state=0, ks=[4, 6, 8, 10, 12, 14])
    assert not PUBLISHED.matches(docs, k=6)
    assert not PUBLISHED.matches(docs, k=True)  # a bool is not a number of topics
    assert not PUBLISHED.matches(docs, ks=[4, 6, 8])
    assert PUBLISHED.dtype == "float64" and PUBLISHED.parameters()["dtype"] == "float64"
    assert PUBLISHED.matches(docs, k=8, dtype="float64")
    assert not PUBLISHED.matches(docs, k=8, dtype="float32")
    with pytest.raises(TypeError, match="unknown published parameter"):
        PUBLISHED.matches(docs, kk=8)
    edited = docs.copy()
    edited.loc[0, "raw_text"] = edited.loc[0, "raw_text"] + "。"
    assert not PUBLISHED.matches(edited, k=8)
    assert not PUBLISHED.matches(docs.iloc[:3], k=8)


@pytest.mark.slow
def test_study_runs_with_another_k(tmp_path: Path) -> None:
    # Notebook 04 asserted the published k whenever the corpus was the bundled one.
    from policystudy.cli import main

    assert main(["study", "--only", "04", "--k", "6", "--no-html", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "04-topics.ipynb").is_file()
    select_k = (tmp_path / "04-topics" / "select_k.csv").read_text(encoding="utf-8")
    assert select_k.startswith("k,")
