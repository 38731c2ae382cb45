"""Loading: bundled corpus, folders, tables, encodings and errors."""

from __future__ import annotations

import doctest
import shutil
import warnings
from pathlib import Path

import pandas as pd
import pytest

from policystudy import load
from policystudy.load import CorpusError, bundled_data_dir, decode_bytes, load_corpus, removed_spans


def test_doctests_pass() -> None:
    result = doctest.testmod(load)
    assert result.attempted >= 4 and result.failed == 0


def test_bundled_corpus(docs) -> None:
    manifest = pd.read_csv(bundled_data_dir() / "manifest.csv", dtype=str)
    assert list(docs["doc_id"]) == list(manifest["doc_id"])
    for column in ("doc_id", "city", "doc_type", "year", "script", "text", "raw_text", "n_chars"):
        assert column in docs.columns
    assert (docs["n_chars"] == docs["text"].str.len()).all()
    assert docs["year"].dtype == "Int64"
    for doc in docs.itertuples():
        assert doc.raw_text == (bundled_data_dir() / doc.file).read_text(encoding="utf-8")
        assert doc.encoding == "utf-8"


def test_traditional_converted(docs) -> None:
    d = docs.set_index("doc_id")
    wz = d.loc["wenzhou-2020-governance-decision"]
    assert wz.detected_script == "traditional" and wz.script == "traditional"
    assert "溫州" in wz.raw_text and "溫州" not in wz.text and "温州" in wz.text
    assert "市域治理现代化" in wz.text
    qz = d.loc["quanzhou-2024-reform-decision"]
    # a Simplified document with a stray Traditional form is converted but stays Simplified
    assert qz.detected_script == "simplified"
    assert "金門" in qz.raw_text and "金门" in qz.text and qz.n_converted_chars >= 1
    assert (d.drop(index="wenzhou-2020-governance-decision").detected_script == "simplified").all()


def test_removed_table(docs) -> None:
    removed = removed_spans(docs)
    assert list(removed.columns) == ["doc_id", "rule", "line", "text", "n_chars"]
    per_doc = removed.groupby("doc_id")["n_chars"].sum()
    assert (
        docs.set_index("doc_id")["n_removed_chars"].drop(per_doc.index, errors="ignore") == 0
    ).all()
    for doc_id, n in per_doc.items():
        assert docs.set_index("doc_id").loc[doc_id, "n_removed_chars"] == n
    assert set(removed["doc_id"]) <= set(docs["doc_id"])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    src = bundled_data_dir()
    for name in ("000_66259ee8af5d5068.txt", "001_dba0a2be495cfd36.txt"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def test_folder_without_manifest(folder: Path, docs) -> None:
    out = load_corpus(folder)
    assert list(out["doc_id"]) == ["000_66259ee8af5d5068", "001_dba0a2be495cfd36"]
    assert out["city"].isna().all() and out["year"].isna().all()
    assert out["text"].iloc[1] == docs.set_index("file").loc["001_dba0a2be495cfd36.txt", "text"]


def _write_encoded(path: Path, text: str, encoding: str) -> None:
    path.write_bytes(text.encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le", "gb18030", "gbk"])
def test_encodings_simplified(tmp_path: Path, docs, encoding: str) -> None:
    doc = docs.iloc[0]
    # CRLF line endings too
    _write_encoded(tmp_path / "a.txt", doc.raw_text.replace("\n", "\r\n"), encoding)
    out = load_corpus(tmp_path).iloc[0]
    assert out.text == doc.text
    assert out.encoding.replace("-le", "").replace("gbk", "gb18030") in (
        encoding.replace("-sig", "").replace("-le", "").replace("gbk", "gb18030"),
    )


def test_big5_traditional_not_misread_as_gb18030(tmp_path: Path, docs) -> None:
    raw = docs.set_index("doc_id").loc["wenzhou-2020-governance-decision", "raw_text"]
    body = "\n".join(line for line in raw.splitlines() if _encodable(line, "big5"))
    _write_encoded(tmp_path / "wz.txt", body, "big5")
    data = (tmp_path / "wz.txt").read_bytes()
    data.decode("gb18030")  # the trap: decodes without error ...
    out = load_corpus(tmp_path).iloc[0]
    assert out.encoding == "big5"  # ... but is recognised as Big5
    assert out.raw_text == body and "溫州" in out.raw_text and "温州" in out.text


def _encodable(line: str, codec: str) -> bool:
    try:
        line.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def test_named_encoding_in_manifest(tmp_path: Path, docs) -> None:
    doc = docs.iloc[0]
    _write_encoded(tmp_path / "a.txt", doc.raw_text, "gb18030")
    (tmp_path / "manifest.csv").write_text(
        "doc_id,file,encoding,city\nx,a.txt,gb18030,泉州\n", "utf-8"
    )
    out = load_corpus(tmp_path)
    assert out.loc[0, "encoding"] == "gb18030" and out.loc[0, "city"] == "泉州"


def test_undecodable_file_names_file(tmp_path: Path) -> None:
    (tmp_path / "bad.txt").write_bytes(bytes(range(0x80, 0x100)) * 20)
    with pytest.raises(CorpusError, match=r"bad\.txt.*(confidence|ambiguous)"):
        load_corpus(tmp_path)


def test_wrong_named_encoding(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("市域治理".encode())
    with pytest.raises(CorpusError, match=r"a\.txt.*ascii"):
        load_corpus(tmp_path, encoding="ascii")


def test_empty_and_non_chinese_files(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"\r\n  \n")
    with pytest.raises(CorpusError, match=r"empty\.txt: the file is empty"):
        load_corpus(tmp_path)
    (tmp_path / "empty.txt").unlink()
    (tmp_path / "english.txt").write_text("Only English here.", "utf-8")
    with pytest.raises(CorpusError, match=r"english\.txt: no Chinese text"):
        load_corpus(tmp_path)


def test_skip_bad_files_with_one_warning(folder: Path) -> None:
    (folder / "empty.txt").write_bytes(b"")
    (folder / "english.txt").write_text("Only English here.", "utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = load_corpus(folder, errors="skip")
    assert len(out) == 2
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "empty.txt" in messages[0] and "english.txt" in messages[0]


def test_manifest_errors(folder: Path) -> None:
    manifest = folder / "manifest.csv"
    manifest.write_text(
        "doc_id,file\na,000_66259ee8af5d5068.txt\na,001_dba0a2be495cfd36.txt\n", "utf-8"
    )
    with pytest.raises(CorpusError, match=r"manifest\.csv: duplicate doc_id\(s\): a"):
        load_corpus(folder)
    manifest.write_text("doc_id,file\na,000_66259ee8af5d5068.txt\nb,missing.txt\n", "utf-8")
    with pytest.raises(CorpusError, match=r"missing: missing\.txt"):
        load_corpus(folder)
    manifest.write_text("doc_id,file\na,000_66259ee8af5d5068.txt\n", "utf-8")
    with pytest.raises(CorpusError, match=r"not in the manifest: 001_dba0a2be495cfd36\.txt"):
        load_corpus(folder)
    manifest.write_text("file\n000_66259ee8af5d5068.txt\n", "utf-8")
    with pytest.raises(CorpusError, match=r"lacks the column\(s\) doc_id"):
        load_corpus(folder)


def _table(docs) -> pd.DataFrame:
    return pd.DataFrame(
        {"id": docs["doc_id"], "body": docs["raw_text"], "city": docs["city"], "year": docs["year"]}
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet"])
def test_table_sources(tmp_path: Path, docs, suffix: str) -> None:
    table = _table(docs)
    path = tmp_path / f"corpus{suffix}"
    {
        ".csv": lambda p: table.to_csv(p, index=False),
        ".xlsx": lambda p: table.to_excel(p, index=False),
        ".parquet": lambda p: table.to_parquet(p, index=False),
    }[suffix](path)
    out = load_corpus(path, text_column="body", id_column="id")
    assert list(out["doc_id"]) == list(docs["doc_id"])
    assert list(out["city"]) == list(docs["city"])
    assert list(out["year"]) == list(docs["year"])
    assert list(out["text"]) == list(docs["text"])


def test_table_errors(tmp_path: Path, docs) -> None:
    path = tmp_path / "c.csv"
    _table(docs).to_csv(path, index=False)
    with pytest.raises(CorpusError, match=r"c\.csv: no text column 'text'"):
        load_corpus(path)
    with pytest.raises(CorpusError, match=r"c\.csv: no id column 'nope'"):
        load_corpus(path, text_column="body", id_column="nope")
    numbered = load_corpus(path, text_column="body", id_column=None)
    assert list(numbered["doc_id"]) == [f"doc-{i}" for i in range(1, 6)]
    with pytest.raises(CorpusError, match=r"no such file"):
        load_corpus(tmp_path / "nothing.csv")
    with pytest.raises(CorpusError, match=r"unsupported file type '\.doc'"):
        (tmp_path / "x.doc").write_text("x")
        load_corpus(tmp_path / "x.doc")


def test_does_not_modify_inputs(docs, tmp_path) -> None:
    # Neither the document table given to the next stages nor the files read change.
    from policystudy.tokens import tokenize
    from policystudy.units import split_units

    before = docs.copy()
    tokenize(split_units(docs).head(20), cache=False)
    pd.testing.assert_frame_equal(docs, before)
    source = tmp_path / "a.txt"
    source.write_bytes("一、总则\n推进治理现代化。\n".encode("gb18030"))
    raw = source.read_bytes()
    load_corpus(tmp_path)
    assert source.read_bytes() == raw


def test_reproducible(docs) -> None:
    again = load_corpus()
    pd.testing.assert_frame_equal(again, docs)
    pd.testing.assert_frame_equal(removed_spans(again), removed_spans(docs))


def test_decode_bytes_utf16_without_bom() -> None:
    text, codec = decode_bytes("市域治理现代化".encode("utf-16-le"))
    assert text == "市域治理现代化" and codec == "utf-16-le"


def test_docs_combine_with_pandas(docs) -> None:
    # the removed spans travel in attrs without breaking concat, merge or astype
    joined = pd.concat([docs.iloc[:2], docs.iloc[2:]], ignore_index=True)
    pd.testing.assert_frame_equal(joined, docs)
    assert len(docs.merge(docs[["doc_id"]], on="doc_id")) == len(docs)
    assert len(removed_spans(docs.astype({"city": "str"}))) == len(removed_spans(docs))
