"""Discovering the corpus's own terms: n-gram cohesion and boundary entropy.

:func:`discover_terms` finds multi-character terms that the segmenter does not
know, with the standard statistics of Chinese new-word discovery:

- **frequency**: how often the n-gram occurs, and in how many documents;
- **cohesion**: pointwise mutual information between its parts, taken at its
  weakest binary split, ``min log p(w) / (p(a) p(b))`` over ``w = a + b``: a term
  is more than the chance meeting of its halves;
- **freedom**: the entropy of the characters just before and just after it
  (the smaller of the two): a term occurs in varied contexts, while a fragment
  of a longer unit always has the same neighbour on one side.

Candidates are Han-character n-grams inside runs of Han characters, so none
spans punctuation, a digit or a Latin letter. All counts come from one pass over
the text with :class:`collections.Counter`, so the cost grows linearly with the
corpus (``make bench`` times it per megabyte).

The table it returns is for review: delete rows, then pass it to
:func:`policystudy.write_lexicon` and ``Tokenizer(lexicon=["default", path])``,
or use ``policystudy terms SRC --out DIR`` and ``--lexicon DIR/terms.csv``.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache

import pandas as pd

from policystudy._validation import MissingColumnError
from policystudy.markers import HAN

__all__ = [
    "COLUMNS",
    "EDGE_CHARS",
    "TRAILING_CHARS",
    "default_thresholds",
    "discover_terms",
]

#: Columns of the :func:`discover_terms` table, in order.
COLUMNS = (
    "term",
    "count",
    "n_docs",
    "pmi",
    "left_entropy",
    "right_entropy",
    "score",
    "example",
)

#: Function characters no term starts or ends with: particles, conjunctions,
#: prepositions, auxiliaries and copulas (的, 和, 与, 在, 是 …). An n-gram bounded by
#: one of them is a fragment of a phrase (``的数字``, ``推进和``), not a term. Terms
#: that contain them inside (``投资于人``, ``宜居宜业和美乡村``) are unaffected.
#: Not listed, because policy terms start or end with them in their content-word
#: sense: 地 (基地, 地方), 要 (要素, 纲要), 会 (委员会), 能 (赋能), 可 (许可),
#: 应 (供应), 所 (场所), 还 (返还), 再 (再生).
EDGE_CHARS = frozenset(
    "的得之其"  # structural particles, pronouns
    "和与及或并而且即"  # conjunctions
    "在对为将把被从以于向由让使给至"  # prepositions and coverbs
    "是了着过也已又等"  # copula, aspect, adverbs, 等
    "各每该此这那第"  # determiners, the ordinal prefix
)
#: Characters no term ends with, though terms may start with them: localisers after
#: a noun phrase (``发展中``, ``基础上``, ``背景下``, ``园区内``; but ``中小企业``,
#: ``上市``, ``下沉``) and the adverbs 就 and 都 (but ``就业``, ``都市圈``).
TRAILING_CHARS = frozenset("中上下内外里间就都")

_HAN_RUN = re.compile(f"[{HAN}]+")
_CONTEXT = 8  # characters either side of the term in ``example``
# Substrings of a longer candidate are dropped when the longer one accounts for at
# least this share of their occurrences: they are its fragments.
_SUBSTRING_SHARE = 0.8


def default_thresholds(n_chars: int, n_docs: int) -> dict:
    """Default thresholds of :func:`discover_terms` for a corpus of this size.

    - ``min_count``: 3 below 100,000 Han characters, then one more for every
      doubling (4 at 200,000, 7 at 1.6 million): in a large corpus chance
      repetitions are frequent;
    - ``min_docs``: 2 when there are at least two documents (a term is shared
      vocabulary, not one author's habit), else 1;
    - ``min_pmi``: 2.0, cohesion well above chance (``e**2`` times the
      independent rate) at the weakest split;
    - ``min_entropy``: 0.6 nats on each side: at the minimum count of 3, at
      least two different neighbours;
    - ``max_len``: 8 characters, the longest slogan-like term.

    >>> default_thresholds(50_000, 5)["min_count"], default_thresholds(1_600_000, 5)["min_count"]
    (3, 7)
    >>> default_thresholds(2_000, 1)["min_docs"]
    1
    """
    extra = max(0, int(math.floor(math.log2(max(n_chars, 1) / 100_000)))) if n_chars else 0
    return {
        "min_count": 3 + extra,
        "min_docs": 2 if n_docs >= 2 else 1,
        "min_pmi": 2.0,
        "min_entropy": 0.6,
        "max_len": 8,
    }


def discover_terms(
    units,
    *,
    column: str = "text",
    doc_column: str = "doc_id",
    min_count: int | None = None,
    min_docs: int | None = None,
    min_pmi: float | None = None,
    min_entropy: float | None = None,
    max_len: int | None = None,
    top: int | None = None,
    exclude_known: bool = True,
    lexicon=("default",),
    stopwords=("default",),
) -> pd.DataFrame:
    """Find multi-character terms of a corpus: frequent, cohesive, freely bounded n-grams.

    Parameters
    ----------
    units : pandas.DataFrame or iterable of str
        The corpus: a table with a text column (units from
        :func:`policystudy.split_units`, or documents from
        :func:`policystudy.load_corpus`), or plain texts, one per document.
    column : str
        The text column of a table.
    doc_column : str
        The document column of a table (``n_docs`` counts its distinct values);
        without it every row is a document.
    min_count : int, optional
        Minimum occurrences. Default from :func:`default_thresholds` (3 for a
        corpus below 100,000 Han characters, rising with its size).
    min_docs : int, optional
        Minimum number of documents; default 2 when the corpus has at least two.
    min_pmi : float, optional
        Minimum cohesion (natural-log PMI at the weakest split); default 2.0.
    min_entropy : float, optional
        Minimum left and right boundary entropy (nats); default 0.6.
    max_len : int, optional
        Longest candidate in characters (2 at least); default 8.
    top : int, optional
        Return only the best ``top`` rows; default all.
    exclude_known : bool
        Leave out words jieba's general dictionary already has whole (default):
        the segmenter keeps them without help.
    lexicon : lexicon specification
        Terms not to break, as for :class:`policystudy.Tokenizer` (default the
        shipped lexicon; ``None`` for none). Occurrences of an n-gram that cut
        through a lexicon term are not counted, and the terms themselves are not
        listed again.
    stopwords : stopword specification
        As for :class:`policystudy.Tokenizer` (default the shipped lists). A
        candidate whose general segmentation starts or ends with a stopword of two
        or more characters (``推动数实融合``, ``深入实施``, ``保障措施``) is a
        phrase around a stop word, not a term, and is dropped (so is the rare name
        ending in one, such as ``整县推进``: add those by hand); ``None`` keeps them.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`COLUMNS`: ``term``, ``count`` (occurrences not cutting
        through a lexicon term), ``n_docs``, ``pmi``, ``left_entropy``,
        ``right_entropy``, ``score`` = ``pmi * min(left_entropy, right_entropy)``
        and ``example`` (the first occurrence with up to eight characters of
        context). Sorted by score (descending), then term; the same corpus and
        options always give the same table. ``attrs["thresholds"]`` holds the
        thresholds used.

    Notes
    -----
    Rules applied after the thresholds: no candidate starts or ends with a
    character of :data:`EDGE_CHARS` or ends with one of :data:`TRAILING_CHARS`;
    a candidate bounded by a stopword (see ``stopwords``) is dropped;
    a candidate is dropped when a longer candidate containing it accounts for
    most of its occurrences (it is a fragment), and a candidate that only adds
    one character to another candidate is dropped when its boundary entropy is
    lower than the shorter one's.

    >>> texts = ["推进数实融合。数实融合发展,数实融合示范。", "以数实融合为主线;支持数实融合。"]
    >>> discover_terms(texts, min_count=3, min_pmi=1.0)["term"].tolist()
    ['数实融合']
    """
    texts, doc_ids = _texts_and_docs(units, column, doc_column)
    n_chars = sum(len(run) for text in texts for run in _HAN_RUN.findall(text))
    n_docs_total = len(dict.fromkeys(doc_ids))
    chosen = default_thresholds(n_chars, n_docs_total)
    for name, value in (
        ("min_count", min_count),
        ("min_docs", min_docs),
        ("min_pmi", min_pmi),
        ("min_entropy", min_entropy),
        ("max_len", max_len),
    ):
        if value is not None:
            chosen[name] = value
    if chosen["max_len"] < 2:
        raise ValueError("discover_terms: max_len must be at least 2")
    if chosen["min_count"] < 1 or chosen["min_docs"] < 1:
        raise ValueError("discover_terms: min_count and min_docs must be at least 1")

    terms = _lexicon_terms(lexicon)
    counts, doc_freq, n_chars = _count(texts, doc_ids, chosen["max_len"], terms)
    table = _score(
        counts, doc_freq, n_chars, chosen, terms, exclude_known, _stop_bounded(stopwords)
    )
    if top is not None:
        table = table.head(int(top))
    table = table.reset_index(drop=True)
    table["example"] = _examples(table["term"].tolist(), texts)
    table = table.loc[:, list(COLUMNS)]
    table.attrs["thresholds"] = dict(chosen)
    return table


# --------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------


def _texts_and_docs(units, column: str, doc_column: str) -> tuple[list[str], list]:
    if isinstance(units, pd.DataFrame):
        if column not in units.columns:
            raise MissingColumnError(f"discover_terms: no column {column!r} in the table")
        texts = units[column].fillna("").astype(str).tolist()
        if doc_column in units.columns:
            return texts, units[doc_column].tolist()
        return texts, list(range(len(texts)))
    if isinstance(units, str):
        units = [units]
    texts = ["" if t is None else str(t) for t in units]
    return texts, list(range(len(texts)))


def _stop_bounded(stopwords):
    """A test for candidates whose general segmentation starts or ends with a stopword."""
    if stopwords is None:
        return lambda gram: False
    from policystudy.tokens import Tokenizer

    # The general dictionary alone decides the pieces: the question is whether the
    # candidate is an ordinary stop word plus something.
    plain = Tokenizer(lexicon=None, stopwords=stopwords)
    stop = {w for w in plain.stopwords_ if len(w) > 1}

    def bounded(gram: str) -> bool:
        pieces = plain.segment(gram)
        return len(pieces) > 1 and (pieces[0] in stop or pieces[-1] in stop)

    return bounded


def _lexicon_terms(lexicon) -> frozenset[str]:
    if lexicon is None:
        return frozenset()
    from policystudy.tokens import Tokenizer

    # Only the lexicon is needed: no stopwords to read.
    return frozenset(t for t in Tokenizer(lexicon=lexicon, stopwords=None).terms_ if len(t) > 1)


class _Counts:
    """N-gram counts: ``raw`` over all occurrences, ``cut`` over those cutting a lexicon term."""

    def __init__(self) -> None:
        self.raw: Counter[str] = Counter()
        self.cut: Counter[str] = Counter()

    def __getitem__(self, gram: str) -> int:
        return self.raw[gram] - self.cut[gram]


def _count(
    texts: Sequence[str], doc_ids: Sequence, max_len: int, terms: frozenset[str]
) -> tuple[_Counts, Counter[str], int]:
    """One pass: n-grams of 1..max_len+1 characters per Han run, and document counts.

    The (max_len + 1)-grams are only the neighbours of the longest candidates.
    """
    counts = _Counts()
    doc_freq: Counter[str] = Counter()
    finder = _TermFinder(terms)
    n_chars = 0
    by_doc: dict = defaultdict(list)
    for text, doc in zip(texts, doc_ids, strict=True):
        by_doc[doc].append(text)
    for doc_texts in by_doc.values():
        kept_in_doc: set[str] = set()
        cut_in_doc: Counter[str] = Counter()
        doc_grams: Counter[str] = Counter()
        for text in doc_texts:
            for run in _HAN_RUN.findall(text):
                n_chars += len(run)
                grams = [
                    run[i : i + n] for n in range(1, max_len + 2) for i in range(len(run) - n + 1)
                ]
                counts.raw.update(grams)
                inside = finder.inner_cuts(run)
                if inside:
                    # Occurrences that start or end inside a lexicon term would
                    # break it: count them apart.
                    cut = [
                        run[i : i + n]
                        for n in range(2, max_len + 2)
                        for i in range(len(run) - n + 1)
                        if i in inside or i + n in inside
                    ]
                    counts.cut.update(cut)
                    cut_in_doc.update(cut)
                    doc_grams.update(g for g in grams if len(g) > 1)
                else:
                    kept_in_doc.update(g for g in grams if 1 < len(g) <= max_len)
        # A document counts for a gram if at least one occurrence is not a cut one.
        for gram, n in doc_grams.items():
            if len(gram) <= max_len and n > cut_in_doc[gram]:
                kept_in_doc.add(gram)
        doc_freq.update(kept_in_doc)
    return counts, doc_freq, n_chars


class _TermFinder:
    """Positions inside occurrences of lexicon terms (longest match first, left to right)."""

    def __init__(self, terms: Iterable[str]) -> None:
        by_first: dict[str, list[str]] = defaultdict(list)
        for term in sorted(terms, key=lambda t: (-len(t), t)):
            by_first[term[0]].append(term)
        self.by_first = dict(by_first)
        self.starts = (
            re.compile("[" + "".join(re.escape(c) for c in sorted(by_first)) + "]")
            if by_first
            else None
        )

    def inner_cuts(self, run: str) -> set[int]:
        """Cut positions strictly inside a lexicon term's occurrence in ``run``."""
        if self.starts is None:
            return set()
        cuts: set[int] = set()
        end = 0
        for match in self.starts.finditer(run):
            i = match.start()
            if i < end:
                continue
            for term in self.by_first[run[i]]:
                if run.startswith(term, i):
                    cuts.update(range(i + 1, i + len(term)))
                    end = i + len(term)
                    break
        return cuts


# --------------------------------------------------------------------------
# Scoring and filtering
# --------------------------------------------------------------------------


def _score(
    counts: _Counts,
    doc_freq: Counter[str],
    n_chars: int,
    chosen: dict,
    terms: frozenset[str],
    exclude_known: bool,
    stop_bounded,
) -> pd.DataFrame:
    max_len, min_count = chosen["max_len"], chosen["min_count"]
    raw = counts.raw
    stats: dict[str, list[float]] = {}
    for gram, n_raw in raw.items():
        if not 2 <= len(gram) <= max_len or n_raw < min_count:
            continue
        if gram[0] in EDGE_CHARS or gram[-1] in EDGE_CHARS or gram[-1] in TRAILING_CHARS:
            continue
        n = counts[gram]
        if n < min_count or doc_freq[gram] < chosen["min_docs"]:
            continue
        # Cohesion at the weakest split; the parts' counts include every
        # occurrence, so cutting through lexicon terms never raises a score.
        pmi = min(
            math.log(raw[gram] * n_chars / (raw[gram[:k]] * raw[gram[k:]]))
            for k in range(1, len(gram))
        )
        if pmi < chosen["min_pmi"]:
            continue
        stats[gram] = [n, doc_freq[gram], pmi]

    # Neighbour counts for the remaining candidates, from the (L+1)-grams.
    left: defaultdict[str, list[int]] = defaultdict(list)
    right: defaultdict[str, list[int]] = defaultdict(list)
    for gram in raw:
        if len(gram) < 3:
            continue
        if gram[1:] in stats:
            left[gram[1:]].append(counts[gram])
        if gram[:-1] in stats:
            right[gram[:-1]].append(counts[gram])
    rows = {}
    for gram, (n, n_docs, pmi) in stats.items():
        h_left = _entropy(n, left.get(gram, ()))
        h_right = _entropy(n, right.get(gram, ()))
        if min(h_left, h_right) < chosen["min_entropy"]:
            continue
        if stop_bounded(gram):
            continue
        rows[gram] = (n, n_docs, pmi, h_left, h_right)

    rows = _prune(rows)
    known = _known_words() if exclude_known else frozenset()
    records = [
        (gram, n, n_docs, pmi, hl, hr, pmi * min(hl, hr))
        for gram, (n, n_docs, pmi, hl, hr) in rows.items()
        if gram not in terms and gram not in known
    ]
    table = pd.DataFrame(records, columns=list(COLUMNS[:-1]))
    table = table.astype(
        {"count": "int64", "n_docs": "int64", "pmi": "float64", "score": "float64"}
    )
    return table.sort_values(["score", "term"], ascending=[False, True], ignore_index=True)


def _entropy(n: int, neighbours: Iterable[int]) -> float:
    """Entropy (nats) of a term's neighbours on one side.

    Occurrences at the edge of a Han run (punctuation, digits, the start or end of
    a text) or next to a lexicon term each count as a distinct neighbour: a term
    that stands between punctuation is well bounded, not badly.
    """
    neighbours = sorted(c for c in neighbours if c > 0)
    edge = n - sum(neighbours)
    h = -sum(c / n * math.log(c / n) for c in neighbours)
    if edge > 0:
        h += edge / n * math.log(n)
    return max(h, 0.0)


def _prune(rows: dict[str, tuple]) -> dict[str, tuple]:
    """Drop fragments of longer candidates, then one-character extensions of shorter ones."""
    fragments = set()
    for longer, (n_longer, *_rest) in rows.items():
        for size in range(2, len(longer)):
            for i in range(len(longer) - size + 1):
                part = longer[i : i + size]
                if part in rows and n_longer >= _SUBSTRING_SHARE * rows[part][0]:
                    fragments.add(part)
    kept = {g: r for g, r in rows.items() if g not in fragments}
    extensions = set()
    for gram, row in kept.items():
        if len(gram) < 3:
            continue
        for shorter in (gram[:-1], gram[1:]):
            other = kept.get(shorter)
            if other is not None and min(row[3], row[4]) < min(other[3], other[4]):
                extensions.add(gram)
    return {g: r for g, r in kept.items() if g not in extensions}


@lru_cache(maxsize=1)
def _known_words() -> frozenset[str]:
    """Multi-character words of jieba's general dictionary (``dict.txt``).

    rjieba embeds the same dictionary; jieba ships it as a file with one
    ``word frequency tag`` line per word.
    """
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("jieba")
    if spec is not None and spec.origin:
        path = Path(spec.origin).parent / "dict.txt"
        if path.is_file():
            with path.open(encoding="utf-8") as fh:
                return frozenset(w for w in (line.split(" ", 1)[0] for line in fh) if len(w) > 1)
    raise RuntimeError(
        "discover_terms(exclude_known=True) needs jieba's dictionary (pip install jieba)"
    )


def _examples(terms: list[str], texts: Sequence[str]) -> list[str]:
    """First occurrence of each term with a little context, in corpus order."""
    out = []
    for term in terms:
        example = ""
        for text in texts:
            i = text.find(term)
            if i >= 0:
                start, end = max(0, i - _CONTEXT), i + len(term) + _CONTEXT
                example = " ".join(text[start:end].split())
                break
        out.append(example)
    return out
