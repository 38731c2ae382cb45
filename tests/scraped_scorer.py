"""Score cleaning on labelled scraped pages: chrome removed, content kept, wrong joins.

Each fixture ``<name>.txt`` in ``tests/fixtures/scraped`` has a sidecar
``<name>.labels.tsv`` with one row per line: ``line`` (1-based), ``label``
(``content``, ``heading``, ``chrome`` or ``caption``) and ``join`` (1 when the
line continues the sentence of the line before, so rejoining it is right).
The fixtures were written for these tests from patterns seen on scraped
government portals, news sites and database exports.
"""

from __future__ import annotations

import csv
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from policystudy.clean import normalize_punctuation, normalize_width, remove_format_chars
from policystudy.load import load_corpus, removed_spans

FIXTURES = Path(__file__).parent / "fixtures" / "scraped"
#: Rules that record a part of a line (or a join), not the removal of the line.
PARTIAL_RULES = frozenset(
    {"rejoin_broken_lines", "format_chars", "inline_url", "inline_source", "table_pipes"}
)
KEEP_LABELS = ("content", "heading")


@dataclass
class Score:
    """Counts over every labelled line of the fixtures."""

    chrome: int = 0
    chrome_removed: int = 0
    content: int = 0
    content_kept: int = 0
    captions: int = 0
    captions_glued: int = 0
    joins: int = 0
    wrong_joins: int = 0
    missed_joins: int = 0
    lost: list[tuple[str, int, str]] = field(default_factory=list)
    left: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def chrome_removed_share(self) -> float:
        return self.chrome_removed / self.chrome if self.chrome else 1.0

    @property
    def content_kept_share(self) -> float:
        return self.content_kept / self.content if self.content else 1.0


def read_labels(name: str) -> dict[int, tuple[str, bool]]:
    with open(FIXTURES / f"{name}.labels.tsv", encoding="utf-8", newline="") as fh:
        return {
            int(row["line"]): (row["label"], row["join"] == "1")
            for row in csv.DictReader(fh, delimiter="\t")
        }


def fixture_names() -> list[str]:
    return sorted(p.stem for p in FIXTURES.glob("*.txt"))


def load_fixtures(**options: object) -> pd.DataFrame:
    """The fixtures through :func:`policystudy.load_corpus` (as one corpus)."""
    with tempfile.TemporaryDirectory() as tmp:
        for path in FIXTURES.glob("*.txt"):
            shutil.copy(path, Path(tmp) / path.name)
        return load_corpus(tmp, **options)


def score(docs: pd.DataFrame | None = None) -> Score:
    docs = load_fixtures() if docs is None else docs
    spans = removed_spans(docs)
    result = Score()
    for doc in docs.itertuples():
        labels = read_labels(doc.doc_id)
        raw_lines = doc.raw_text.split("\n")
        mine = spans[spans["doc_id"] == doc.doc_id]
        whole = set(mine.loc[~mine["rule"].isin(PARTIAL_RULES), "line"])
        joined = set(mine.loc[mine["rule"] == "rejoin_broken_lines", "line"])
        kept_lines = set(doc.text.split("\n"))
        for number, (label, join) in labels.items():
            line = raw_lines[number - 1]
            if label == "chrome":
                result.chrome += 1
                result.chrome_removed += number in whole
                if number not in whole:
                    result.left.append((doc.doc_id, number, line))
            elif label == "caption":
                result.captions += 1
                normal = normalize_punctuation(normalize_width(remove_format_chars(line))).strip()
                result.captions_glued += number not in whole and normal not in kept_lines
            else:
                result.content += 1
                result.content_kept += number not in whole
                if number in whole:
                    result.lost.append((doc.doc_id, number, line))
            if number in joined:
                result.joins += 1
                result.wrong_joins += not (join and label in KEEP_LABELS)
            elif join:
                result.missed_joins += 1
    return result
