"""The bundled corpus and its manifest agree: files, checksums, documented fields."""

from __future__ import annotations

import csv
import hashlib
import re
from pathlib import Path

import opencc
import pytest

DATA = Path(__file__).resolve().parents[1] / "data"
MANIFEST = DATA / "manifest.csv"

COLUMNS = [
    "doc_id", "file", "city", "district", "province", "issuer", "publisher", "doc_type",
    "year", "year_basis", "title", "script", "source", "excerpt", "gaps", "sha256", "notes",
]  # fmt: skip
DOC_TYPES = {"plenum_decision", "plenum_resolution", "work_report", "action_plan"}
YEAR_BASES = {"stated", "posting_date", "inferred"}
REQUIRED = [
    "doc_id", "file", "city", "province", "doc_type", "year", "year_basis", "title",
    "script", "source", "excerpt", "gaps", "sha256",
]  # fmt: skip


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with MANIFEST.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_manifest_encoding_and_header():
    raw = MANIFEST.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), "manifest.csv must not start with a BOM"
    assert b"\r" not in raw, "manifest.csv uses \\n line ends"
    raw.decode("utf-8")  # raises on anything that is not UTF-8
    header = next(csv.reader(raw.decode("utf-8").splitlines()))
    assert header == COLUMNS


def test_every_row_is_complete(rows):
    assert rows, "manifest.csv has no rows"
    for row in rows:
        assert None not in row, f"{row['doc_id']}: more fields than columns"
        for col in REQUIRED:
            assert row[col].strip(), f"{row['doc_id'] or row['file']}: empty {col!r}"


def test_files_and_manifest_match(rows):
    listed = [row["file"] for row in rows]
    on_disk = sorted(p.name for p in DATA.glob("*.txt"))
    assert len(listed) == len(set(listed)), "a file is listed twice"
    assert sorted(listed) == on_disk
    assert listed == on_disk, "rows are kept in file order"


def test_sha256_matches_file_bytes(rows):
    for row in rows:
        digest = hashlib.sha256((DATA / row["file"]).read_bytes()).hexdigest()
        assert row["sha256"] == digest, f"{row['file']}: sha256 in manifest.csv is stale"


def test_doc_ids_unique_and_well_formed(rows):
    ids = [row["doc_id"] for row in rows]
    assert len(ids) == len(set(ids))
    for row in rows:
        match = re.fullmatch(r"[a-z]+-(\d{4})-[a-z]+(?:-[a-z]+)*", row["doc_id"])
        assert match, f"{row['doc_id']!r} is not <place>-<year>-<short-type>"
        assert int(match.group(1)) == int(row["year"]), f"{row['doc_id']}: year differs"
        place = row["district"] or row["city"]
        assert row["doc_id"].startswith(place + "-"), f"{row['doc_id']}: place is not {place}"


def test_controlled_vocabularies(rows):
    for row in rows:
        assert row["doc_type"] in DOC_TYPES, row["doc_type"]
        assert row["year_basis"] in YEAR_BASES, row["year_basis"]
        assert row["script"] in {"simplified", "traditional"}, row["script"]
        assert 2019 <= int(row["year"]) <= 2026, row["year"]
        assert row["excerpt"] == "complete" or re.match(r"(complete|partial): ", row["excerpt"])
        for col in ("city", "district", "province"):
            assert re.fullmatch(r"[a-z]*", row[col]), f"{row['doc_id']}: {col} not pinyin"


def test_inferred_years_are_explained(rows):
    # An inferred year is a finding-changing choice: the reason must be written down.
    for row in rows:
        if row["year_basis"] != "stated":
            assert re.search(r"\b(infer|post)", row["notes"], re.I), row["doc_id"]


def test_script_column_matches_the_text(rows):
    to_simplified = opencc.OpenCC("t2s")
    for row in rows:
        text = (DATA / row["file"]).read_text(encoding="utf-8")
        converted = to_simplified.convert(text)
        changed = sum(a != b for a, b in zip(text, converted, strict=True))
        han = len(re.findall(r"[\u4e00-\u9fff]", text))
        share = changed / han
        expected = "traditional" if share > 0.05 else "simplified"
        assert row["script"] == expected, f"{row['file']}: {share:.1%} of Han characters convert"


def test_readme_documents_every_field_and_document(rows):
    readme = (DATA / "README.md").read_text(encoding="utf-8")
    for col in COLUMNS:
        assert f"| `{col}` |" in readme, f"data/README.md does not document {col!r}"
    for row in rows:
        assert row["doc_id"] in readme and row["file"] in readme, row["doc_id"]
    assert "No code writes to this directory" in readme
