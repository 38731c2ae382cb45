"""Loading unusual and hostile inputs: paths, encodings of tables, sheets, skipped files, years."""

from __future__ import annotations

import doctest
import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from policystudy import load
from policystudy.cli import main
from policystudy.load import CorpusError, load_corpus, parse_year

TEXT_A = (
    "中共泉州市委关于推进市域治理现代化的决定\n一、总体要求\n坚持党的全面领导,推动高质量发展。\n"
)
TEXT_B = "温州市人民政府工作报告\n一、过去一年的工作\n全市经济运行稳中有进。\n"
TEXT_SECRET = "机密文件:不应读入语料库的内容。\n"


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A corpus folder with a.txt and sub/b.txt, and a secret file beside the folder.

    Every file in the temporary tree has the same bytes after the test as before.
    """
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "a.txt").write_text(TEXT_A, "utf-8")
    (corpus / "sub" / "b.txt").write_text(TEXT_B, "utf-8")
    (tmp_path / "secret.txt").write_text(TEXT_SECRET, "utf-8")
    yield corpus, tmp_path
    # the inputs are never modified (the manifests are written by the tests before loading)
    assert _snapshot(tmp_path) == _after_writes.pop(str(tmp_path), _snapshot(tmp_path))


_after_writes: dict[str, dict[str, bytes]] = {}


def _manifest(corpus: Path, body: str, encoding: str = "utf-8") -> None:
    (corpus / "manifest.csv").write_bytes(body.encode(encoding))
    _after_writes[str(corpus.parent)] = _snapshot(corpus.parent)


def _load_quietly(source: Path, **kwargs) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_corpus(source, **kwargs)


# --------------------------------------------------------------------------
# Manifest paths stay inside the corpus folder
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file",
    [
        "../secret.txt",
        "sub/../../secret.txt",
        "../../../../../../../../etc/passwd",
        "{outside}/secret.txt",
        "../corpus-other/a.txt",  # shares the folder's name as a prefix, still outside
    ],
)
def test_manifest_path_leaving_folder_refused_before_opening(tree, monkeypatch, file: str) -> None:
    corpus, outside = tree
    (outside / "corpus-other").mkdir()
    (outside / "corpus-other" / "a.txt").write_text(TEXT_SECRET, "utf-8")
    file = file.format(outside=outside)
    _manifest(corpus, f"doc_id,file\na,a.txt\nb,sub/b.txt\nleak,{file}\n")
    opened: list[Path] = []
    real_read = load._read_bytes
    monkeypatch.setattr(load, "_read_bytes", lambda p: opened.append(p) or real_read(p))
    with pytest.raises(CorpusError) as info:
        load_corpus(corpus)
    message = str(info.value)
    assert message.startswith(f"{corpus / 'manifest.csv'}: row 3 (doc_id leak): ")
    assert repr(file) in message and "outside the corpus folder" in message
    assert "\n" not in message
    assert opened == [corpus / "manifest.csv"]  # no document opened, not even the good ones


def test_manifest_path_outside_and_missing_is_refused_as_outside(tree) -> None:
    # the path is refused on its form: its existence is not even looked up
    corpus, _ = tree
    _manifest(corpus, "doc_id,file\na,a.txt\nb,sub/b.txt\nx,../nothing-here.txt\n")
    with pytest.raises(CorpusError, match=r"row 3 \(doc_id x\): the file '\.\./nothing-here"):
        load_corpus(corpus)


@pytest.mark.parametrize("file", ["{corpus}/a.txt", "./a.txt", "sub/../a.txt", "sub//../a.txt"])
def test_manifest_paths_inside_folder_allowed(tree, file: str) -> None:
    corpus, _ = tree
    _manifest(corpus, f"doc_id,file\nx,{file.format(corpus=corpus)}\ny,sub/b.txt\n")
    out = _load_quietly(corpus)
    assert list(out["doc_id"]) == ["x", "y"]
    assert out["raw_text"].tolist() == [TEXT_A, TEXT_B]


def test_absolute_path_through_the_real_folder_allowed(tree) -> None:
    # the corpus is given through a symlink; the manifest names files by the real path
    corpus, outside = tree
    alias = outside / "alias"
    alias.symlink_to(corpus, target_is_directory=True)
    _manifest(corpus, f"doc_id,file\nx,{corpus}/a.txt\ny,{alias}/sub/b.txt\n")
    out = _load_quietly(alias)
    assert out["raw_text"].tolist() == [TEXT_A, TEXT_B]


def test_symlink_inside_folder_is_followed(tree) -> None:
    corpus, outside = tree
    (corpus / "linked.txt").symlink_to(outside / "secret.txt")
    (outside / "elsewhere").mkdir()
    (outside / "elsewhere" / "c.txt").write_text(TEXT_B + "另一份。\n", "utf-8")
    (corpus / "shelf").symlink_to(outside / "elsewhere", target_is_directory=True)
    _manifest(
        corpus,
        "doc_id,file\na,a.txt\nb,sub/b.txt\nl,linked.txt\nc,shelf/c.txt\n",
    )
    out = _load_quietly(corpus).set_index("doc_id")
    assert out.loc["l", "raw_text"] == TEXT_SECRET  # the user's link, followed
    assert out.loc["c", "raw_text"] == TEXT_B + "另一份。\n"


def test_dotdot_after_a_symlinked_folder_stays_in_the_folder(tree) -> None:
    # 'shelf/../a.txt' is read as the folder's a.txt, never as <link target>/../a.txt
    corpus, outside = tree
    (outside / "elsewhere").mkdir()
    (outside / "a.txt").write_text(TEXT_SECRET, "utf-8")
    (corpus / "shelf").symlink_to(outside / "elsewhere", target_is_directory=True)
    _manifest(corpus, "doc_id,file\na,shelf/../a.txt\nb,sub/b.txt\n")
    with pytest.warns(UserWarning, match=r"not read .*: shelf/$"):  # no file read through it
        out = load_corpus(corpus)
    assert out["raw_text"].tolist() == [TEXT_A, TEXT_B]


def test_manifest_row_without_file(tree) -> None:
    corpus, _ = tree
    _manifest(corpus, "doc_id,file\na,a.txt\nb,\n")
    with pytest.raises(CorpusError, match=r"manifest\.csv: row 2 \(doc_id b\): no file named"):
        load_corpus(corpus)


def test_cli_reports_a_refused_path_in_one_line(tree, capsys) -> None:
    corpus, _ = tree
    _manifest(corpus, "doc_id,file\na,a.txt\nb,sub/b.txt\nleak,../secret.txt\n")
    assert main(["corpus", str(corpus)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and "Traceback" not in captured.err
    assert lines[0].startswith("policystudy corpus: error: ")
    assert "row 3 (doc_id leak)" in lines[0] and "'../secret.txt'" in lines[0]


# --------------------------------------------------------------------------
# Encodings of tables and manifests
# --------------------------------------------------------------------------

_TABLE = pd.DataFrame(
    {
        "doc_id": ["quanzhou-2024-reform-decision", "wenzhou-2020-governance-decision"],
        "city": ["泉州", "温州"],
        "text": [TEXT_A, TEXT_B],
    }
)


@pytest.mark.parametrize("sep", [",", "\t"])
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8-sig", "utf-8", "utf-16"])
def test_table_encodings_detected(tmp_path: Path, sep: str, encoding: str) -> None:
    # Excel on Chinese Windows writes GBK with CRLF line ends
    path = tmp_path / ("t.csv" if sep == "," else "t.tsv")
    _TABLE.to_csv(path, sep=sep, index=False, encoding=encoding, lineterminator="\r\n")
    before = path.read_bytes()
    out = _load_quietly(path)
    assert out["city"].tolist() == ["泉州", "温州"]
    assert out["raw_text"].tolist() == _TABLE["text"].tolist()
    assert out["text"].str.startswith(("中共泉州市委", "温州市人民政府")).all()
    assert list(out.columns[:2]) == ["doc_id", "city"]  # no BOM glued to a column name
    assert path.read_bytes() == before


def test_short_gbk_table_is_not_ambiguous(tmp_path: Path) -> None:
    # few Chinese characters among many ASCII ones: GBK bytes that also decode as Big5
    path = tmp_path / "short.csv"
    url = "https://www.wenzhou.gov.cn/art/2020/1/6/art_1217832_41794352.html"
    path.write_bytes(f"doc_id,source,city,text\nwz-2020,{url},温州,城市治理\n".encode("gbk"))
    assert "温州城市".encode("gbk").decode("big5")  # the trap: a wrong reading without error
    out = _load_quietly(path)
    assert out.loc[0, "city"] == "温州" and out.loc[0, "raw_text"] == "城市治理"
    assert out.loc[0, "source"] == url


def test_big5_table(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    table = pd.DataFrame({"doc_id": ["wz"], "city": ["溫州"], "text": ["推動市域治理現代化"]})
    table.to_csv(path, index=False, encoding="big5")
    out = _load_quietly(path)
    assert out.loc[0, "city"] == "溫州" and out.loc[0, "text"] == "推动市域治理现代化"


def test_table_named_encoding(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    _TABLE.to_csv(path, index=False, encoding="gbk")
    assert _load_quietly(path, encoding="gbk")["city"].tolist() == ["泉州", "温州"]
    with pytest.raises(CorpusError, match=r"t\.csv: cannot decode as 'utf-8'"):
        load_corpus(path, encoding="utf-8")


def test_undecodable_table_names_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_bytes(b"doc_id,text\n" + bytes(range(0x80, 0x100)) * 8 + b"\n")
    with pytest.raises(CorpusError, match=r"t\.csv: (cannot decode|ambiguous).*encoding=\.\.\."):
        load_corpus(path)
    path.write_bytes(b"")
    with pytest.raises(CorpusError, match=r"t\.csv: the file is empty"):
        load_corpus(path)


def test_malformed_table_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text('doc_id,text\na,"市域治理\n', "utf-8")
    with pytest.raises(CorpusError, match=r"t\.csv: cannot read the table") as info:
        load_corpus(path)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-8-sig"])
def test_manifest_encodings_detected(tree, encoding: str) -> None:
    corpus, _ = tree
    _manifest(corpus, "doc_id,file,city\na,a.txt,泉州\nb,sub/b.txt,温州\n", encoding)
    out = _load_quietly(corpus)
    assert out["city"].tolist() == ["泉州", "温州"] and out["doc_id"].tolist() == ["a", "b"]


@pytest.mark.parametrize("manifest_encoding", ["gbk", "utf-8"])
def test_gbk_documents_with_named_encoding(tree, manifest_encoding: str) -> None:
    # UTF-8 bytes of Chinese decode as GBK without error: a UTF-8 manifest must not be
    # garbled when the documents' encoding is named; a GBK manifest reads as GBK.
    corpus, _ = tree
    (corpus / "a.txt").write_bytes(TEXT_A.encode("gbk"))
    (corpus / "sub" / "b.txt").write_bytes(TEXT_B.encode("gbk"))
    _manifest(corpus, "doc_id,file,city\na,a.txt,泉州\nb,sub/b.txt,温州\n", manifest_encoding)
    out = _load_quietly(corpus, encoding="gbk")
    assert out["city"].tolist() == ["泉州", "温州"]
    assert out["raw_text"].tolist() == [TEXT_A, TEXT_B] and (out["encoding"] == "gbk").all()


def test_ascii_manifest_needs_no_chinese(tree) -> None:
    corpus, _ = tree
    _manifest(corpus, "doc_id,file\na,a.txt\nb,sub/b.txt\n")
    assert _load_quietly(corpus)["doc_id"].tolist() == ["a", "b"]


# --------------------------------------------------------------------------
# Excel workbooks with several sheets
# --------------------------------------------------------------------------


def _workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)


def _sheet(ids: list[str], texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"doc_id": ids, "city": ["泉州"] * len(ids), "text": texts})


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    _workbook(
        path,
        {
            "2023": _sheet(["a", "b"], [TEXT_A, TEXT_B]),
            "2024": _sheet(["c"], [TEXT_B]),
        },
    )
    return path


def test_all_sheets_loaded_with_one_warning(book: Path) -> None:
    before = book.read_bytes()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = load_corpus(book)
    assert out["doc_id"].tolist() == ["a", "b", "c"]
    assert out["sheet"].tolist() == ["2023", "2023", "2024"]
    assert out["raw_text"].tolist() == [TEXT_A, TEXT_B, TEXT_B]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert str(book) in messages[0] and "'2023' (2 rows), '2024' (1 rows)" in messages[0]
    assert book.read_bytes() == before


@pytest.mark.parametrize("sheet", ["2024", 1])
def test_one_sheet_by_name_or_position(book: Path, sheet) -> None:
    out = _load_quietly(book, sheet=sheet)
    assert out["doc_id"].tolist() == ["c"] and "sheet" not in out.columns


def test_single_sheet_workbook_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "one.xlsx"
    _workbook(path, {"Sheet1": _sheet(["a", "b"], [TEXT_A, TEXT_B])})
    out = _load_quietly(path)
    assert out["doc_id"].tolist() == ["a", "b"] and "sheet" not in out.columns


@pytest.mark.parametrize(
    ("sheet", "pattern"),
    [
        ("nope", r"no sheet 'nope' \(sheets: 2023, 2024\)"),
        (2, r"no sheet number 2 \(sheets, from 0: 2023, 2024\)"),
        (-1, r"no sheet number -1"),
    ],
)
def test_unknown_sheet(book: Path, sheet, pattern: str) -> None:
    with pytest.raises(CorpusError, match=rf"book\.xlsx: {pattern}"):
        load_corpus(book, sheet=sheet)


def test_sheets_with_different_columns(tmp_path: Path) -> None:
    path = tmp_path / "mixed.xlsx"
    other = _sheet(["c"], [TEXT_B]).rename(columns={"city": "county"})
    _workbook(path, {"main": _sheet(["a"], [TEXT_A]), "notes": other})
    with pytest.raises(CorpusError) as info:
        load_corpus(path)
    message = str(info.value)
    assert message.startswith(f"{path}: sheet 'notes' does not have the columns of sheet 'main'")
    assert "lacks: city" in message and "extra: county" in message
    assert _load_quietly(path, sheet="main")["doc_id"].tolist() == ["a"]


def test_empty_sheet_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    _workbook(path, {"docs": _sheet(["a"], [TEXT_A]), "blank": pd.DataFrame()})
    with pytest.warns(UserWarning, match=r"'docs' \(1 rows\), 'blank' \(empty\)"):
        out = load_corpus(path)
    assert out["doc_id"].tolist() == ["a"] and out["sheet"].tolist() == ["docs"]


def test_sheet_column_clash(tmp_path: Path) -> None:
    path = tmp_path / "clash.xlsx"
    frame = _sheet(["a"], [TEXT_A]).assign(sheet="x")
    _workbook(path, {"one": frame, "two": frame.assign(doc_id="b")})
    with pytest.raises(CorpusError, match=r"column 'sheet'"):
        load_corpus(path)
    assert _load_quietly(path, sheet="two")["sheet"].tolist() == ["x"]


def test_sheet_only_for_workbooks(tree, tmp_path: Path) -> None:
    corpus, _ = tree
    path = tmp_path / "t.csv"
    _TABLE.to_csv(path, index=False)
    for source in (path, corpus):
        with pytest.raises(CorpusError, match=r"sheet= applies to Excel workbooks only"):
            load_corpus(source, sheet=0)


# --------------------------------------------------------------------------
# Files a folder holds besides its .txt documents
# --------------------------------------------------------------------------


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    (tmp_path / "a.txt").write_text(TEXT_A, "utf-8")
    (tmp_path / "B.TXT").write_text(TEXT_B, "utf-8")
    for name in ("c.docx", "d.pdf", "e.html", "f.doc", "~$c.docx", ".DS_Store", "Thumbs.db"):
        (tmp_path / name).write_bytes(b"PK\x03\x04 not text")
    (tmp_path / "README.md").write_text("# 说明\n", "utf-8")
    (tmp_path / "originals").mkdir()
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_any_case_txt_loaded_and_others_listed_in_one_warning(mixed: Path) -> None:
    before = _snapshot(mixed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = load_corpus(mixed)
    assert out["doc_id"].tolist() == ["B", "a"]
    assert out["raw_text"].tolist() == [TEXT_B, TEXT_A]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].endswith(": c.docx, d.pdf, e.html, f.doc, originals/")
    assert "5 item(s) not read" in messages[0] and "subfolders" in messages[0]
    for quiet in ("~$c.docx", ".DS_Store", "Thumbs.db", "README.md", ".git"):
        assert quiet not in messages[0]
    assert _snapshot(mixed) == before


def test_clean_folder_and_bundled_corpus_warn_nothing(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT_A, "utf-8")
    (tmp_path / ".hidden.txt").write_bytes(b"\x00\x01 not a document")  # hidden: passed over
    assert _load_quietly(tmp_path)["doc_id"].tolist() == ["a"]
    assert len(_load_quietly(None)) == 5


def test_folder_with_only_unreadable_files(tmp_path: Path) -> None:
    (tmp_path / "report.docx").write_bytes(b"PK\x03\x04")
    with pytest.raises(CorpusError, match=r"no \.txt files and no manifest\.csv.*report\.docx"):
        load_corpus(tmp_path)


def test_manifest_folder_lists_unlisted_files_once(mixed: Path) -> None:
    (mixed / "originals" / "a.txt").write_text(TEXT_A, "utf-8")
    (mixed / "notes.md").write_text("市域治理的说明。\n", "utf-8")
    (mixed / "manifest.csv").write_text(
        "doc_id,file\na,a.txt\nb,B.TXT\nn,notes.md\no,originals/a.txt\n", "utf-8"
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = load_corpus(mixed)
    assert out["doc_id"].tolist() == ["a", "b", "n", "o"]
    (message,) = [str(w.message) for w in caught]
    # listed files (notes.md, the originals/ folder) are not reported as skipped
    assert message.endswith(": c.docx, d.pdf, e.html, f.doc")
    assert "subfolders" not in message


def test_manifest_must_list_upper_case_txt(mixed: Path) -> None:
    (mixed / "manifest.csv").write_text("doc_id,file\na,a.txt\n", "utf-8")
    with pytest.raises(CorpusError, match=r"not in the manifest: B\.TXT"):
        load_corpus(mixed)


@pytest.mark.parametrize("file", ["c.docx", "d.pdf", "e.html", "f.doc"])
def test_manifest_pointing_at_a_non_text_file(mixed: Path, file: str) -> None:
    (mixed / "manifest.csv").write_text(f"doc_id,file\na,a.txt\nb,B.TXT\nx,{file}\n", "utf-8")
    with pytest.raises(CorpusError, match=rf"row 3 \(doc_id x\): '{file}' is not a plain-text"):
        load_corpus(mixed)


# --------------------------------------------------------------------------
# A manifest listing one file twice
# --------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["a.txt", "./a.txt", "sub/../a.txt", "{corpus}/a.txt", "al.txt"])
def test_same_file_twice(tree, second: str) -> None:
    corpus, _ = tree
    (corpus / "al.txt").symlink_to(corpus / "a.txt")  # a second name of the same file
    second = second.format(corpus=corpus)
    _manifest(corpus, f"doc_id,file\nfirst,a.txt\nb,sub/b.txt\nagain,{second}\n")
    with pytest.raises(CorpusError) as info:
        load_corpus(corpus)
    message = str(info.value)
    assert message.startswith(f"{corpus / 'manifest.csv'}: ")
    assert "row 1 (doc_id first) and row 3 (doc_id again) list the same file" in message
    assert repr(second) in message


def test_two_files_with_the_same_text_are_two_documents(tree) -> None:
    corpus, _ = tree
    (corpus / "copy.txt").write_text(TEXT_A, "utf-8")
    _manifest(corpus, "doc_id,file\na,a.txt\nb,sub/b.txt\nc,copy.txt\n")
    assert _load_quietly(corpus)["doc_id"].tolist() == ["a", "b", "c"]


# --------------------------------------------------------------------------
# Years
# --------------------------------------------------------------------------

YEARS = [
    ("2021", 2021),
    (" 2021 ", 2021),
    ("2021年", 2021),
    ("2021年度", 2021),
    ("2021年5月30日", 2021),
    ("2021年05月", 2021),
    ("二〇二二年", 2022),
    ("二零二二年", 2022),
    ("二〇二一年十二月三十一日", 2021),
    ("二〇二〇年十月", 2020),
    ("２０２１年", 2021),
    ("2021-05-30", 2021),
    ("2021-5", 2021),
    ("2021/05/30", 2021),
    ("2021.5", 2021),
    ("2021.05.30", 2021),
    ("2021.0", 2021),
    ("2021-05-30 00:00:00", 2021),
    ("2021-05-30T08:15", 2021),
    (2021, 2021),
    (2021.0, 2021),
    (pd.Timestamp("2019-03-01"), 2019),
]
NOT_YEARS = [
    "21",
    "明年",
    "unknown",
    "2021-13-01",
    "2021-05-32",
    "2021年13月",
    "2021-05/30",
    "20210530",
    "2021 年 5 月",
    "二千零二十一年",
    "2021-",
    True,
    99999,
    21,
]


@pytest.mark.parametrize(("value", "year"), YEARS, ids=str)
def test_parse_year(value, year: int) -> None:
    assert parse_year(value) == year


@pytest.mark.parametrize("value", ["", "  ", None, pd.NA, float("nan"), pd.NaT])
def test_parse_year_missing(value) -> None:
    assert parse_year(value) is None


@pytest.mark.parametrize("value", NOT_YEARS, ids=str)
def test_parse_year_refuses(value) -> None:
    with pytest.raises(ValueError, match=r"cannot read a year from"):
        parse_year(value)


def test_parse_year_doctests() -> None:
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(parse_year, "parse_year", globs={"parse_year": parse_year}):
        runner.run(test)
    assert runner.summarize(verbose=False).attempted >= 4
    assert runner.summarize(verbose=False).failed == 0


_YEAR_CELLS = ["2021年", "二〇二二年", "2021-05-30", "2021.5", "2021/05/30", ""]
_EXPECTED = [2021, 2022, 2021, 2021, 2021, pd.NA]


def test_manifest_years(tree) -> None:
    corpus, _ = tree
    for i in range(len(_YEAR_CELLS)):
        (corpus / f"d{i}.txt").write_text(TEXT_A + f"第{i}号\n", "utf-8")
    body = "".join(f"x{i},d{i}.txt,{y}\n" for i, y in enumerate(_YEAR_CELLS))
    (corpus / "a.txt").unlink()
    (corpus / "sub" / "b.txt").unlink()
    (corpus / "sub").rmdir()
    _manifest(corpus, "doc_id,file,year\n" + body)
    out = _load_quietly(corpus)
    assert out["year"].dtype == "Int64"
    assert out["year"].tolist() == _EXPECTED


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx"])
def test_table_years(tmp_path: Path, suffix: str) -> None:
    table = pd.DataFrame(
        {
            "doc_id": [f"x{i}" for i in range(len(_YEAR_CELLS))],
            "year": _YEAR_CELLS,
            "text": [TEXT_A] * len(_YEAR_CELLS),
        }
    )
    path = tmp_path / f"t{suffix}"
    _write_table(table, path)
    out = _load_quietly(path)
    assert out["year"].dtype == "Int64"
    assert out["year"].tolist() == _EXPECTED


def test_excel_date_cells_and_parquet_dates(tmp_path: Path) -> None:
    dates = pd.to_datetime(["2021-05-30", "2022-01-01"])
    table = pd.DataFrame({"doc_id": ["a", "b"], "year": dates, "text": [TEXT_A, TEXT_B]})
    for suffix in (".xlsx", ".parquet"):
        path = tmp_path / f"t{suffix}"
        _write_table(table, path)
        assert _load_quietly(path)["year"].tolist() == [2021, 2022]
    nullable = table.assign(year=pd.array([2020, None], dtype="Int64"))
    _write_table(nullable, tmp_path / "n.parquet")
    assert _load_quietly(tmp_path / "n.parquet")["year"].tolist() == [2020, pd.NA]


def _write_table(table: pd.DataFrame, path: Path) -> None:
    if path.suffix == ".xlsx":
        table.to_excel(path, index=False)
    elif path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    else:
        table.to_csv(path, sep="\t" if path.suffix == ".tsv" else ",", index=False)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".xlsx"])
def test_unreadable_year_in_table_names_file_row_and_value(tmp_path: Path, suffix: str) -> None:
    table = pd.DataFrame({"doc_id": ["a", "b"], "year": ["2021", "去年"], "text": [TEXT_A, TEXT_B]})
    path = tmp_path / f"t{suffix}"
    _write_table(table, path)
    with pytest.raises(CorpusError) as info:
        load_corpus(path)
    assert str(info.value).startswith(f"{path}: row 2 (doc_id b): cannot read a year from '去年'")


def test_unreadable_year_in_a_sheet_names_the_sheet(tmp_path: Path) -> None:
    path = tmp_path / "b.xlsx"
    good = pd.DataFrame({"doc_id": ["a"], "year": ["2021"], "text": [TEXT_A]})
    bad = pd.DataFrame({"doc_id": ["b", "c"], "year": ["2022", "2022年13月"], "text": [TEXT_B] * 2})
    _workbook(path, {"one": good, "two": bad})
    with pytest.raises(
        CorpusError, match=r"b\.xlsx: sheet 'two' row 2 \(doc_id c\): .*'2022年13月'"
    ):
        load_corpus(path)


def test_unreadable_year_in_manifest_names_row_and_value(tree, capsys) -> None:
    corpus, _ = tree
    _manifest(corpus, "doc_id,file,year\na,a.txt,2021\nb,sub/b.txt,二〇二X年\n")
    with pytest.raises(CorpusError) as info:
        load_corpus(corpus)
    assert str(info.value).startswith(
        f"{corpus / 'manifest.csv'}: row 2 (doc_id b): cannot read a year from '二〇二X年'"
    )
    assert main(["corpus", str(corpus)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "'二〇二X年'" in err


def test_dangling_link_in_manifest_is_missing(tree) -> None:
    corpus, _ = tree
    (corpus / "gone.txt").symlink_to(corpus / "nowhere.txt")  # a dangling link
    _manifest(corpus, "doc_id,file\na,a.txt\nb,sub/b.txt\ng,gone.txt\n")
    with pytest.raises(CorpusError, match=r"missing: gone\.txt"):
        load_corpus(corpus)
