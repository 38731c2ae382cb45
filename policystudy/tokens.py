"""Tokens: a policy-aware, jieba-compatible tokenizer and a cached ``tokenize`` stage.

Segmentation uses jieba's dictionary and algorithm through one of two backends:

- ``"rjieba"`` (default): the jieba-rs binding, an order of magnitude faster;
- ``"jieba"``: the reference Python implementation.

With the HMM for unknown words switched off (``hmm=False``, the default) the two
give identical tokens with the same user dictionary; the test suite checks this on
every unit of the bundled corpus. The HMM is off because its guesses on letter and
number runs differ between the backends and because the policy lexicon, not a
statistical guess, is what keeps the study's key terms whole.

Three shipped files decide what the tokens are, and each can be replaced:

- ``lexicon.txt``: policy slogans and terms kept whole (``最多跑一次``,
  ``晋江经验``, ``市域治理``, ``低空经济`` …); default jieba splits almost all of
  them. The file is versioned (:data:`LEXICON_VERSION`); earlier versions stay
  loadable by name, e.g. ``Tokenizer(lexicon="default-2026.11.1")``, and the
  published run on the bundled corpus pins one (:data:`PUBLISHED_LEXICON`);
- ``stopwords_zh.txt``: general Chinese function words (stopwords-iso, MIT);
- ``stopwords_policy.txt``: policy stock phrases (``推进``, ``加强``, ``完善`` …).

See :func:`resource_path` for their location, :func:`harvest_terms` to collect
quoted terms from a new corpus and :func:`policystudy.discover_terms` to find
unquoted ones; :func:`write_lexicon` turns either table into an editable lexicon
file. :func:`lexicon_for` is the one rule by which the command line and the
notebooks choose the lexicon for a corpus.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import os
import re
import sqlite3
import sys
import threading
import unicodedata
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import pandas as pd

from policystudy._io import atomic_write, refuse_corpus_dir
from policystudy._memory import release_free_memory
from policystudy._validation import MissingColumnError, check_n_jobs
from policystudy.cache import CacheWarning, TokenCache
from policystudy.markers import CN_DIGITS
from policystudy.published import PUBLISHED

__all__ = [
    "Tokenizer",
    "LEXICON_VERSION",
    "PUBLISHED_LEXICON",
    "harvest_terms",
    "lexicon_for",
    "read_wordlist",
    "resource_path",
    "tokenize",
    "write_lexicon",
]

BACKENDS = ("rjieba", "jieba")
#: jieba word frequency given to lexicon terms that have none in the file. High enough
#: that a term beats its pieces in jieba's maximum-probability path on the corpus.
DEFAULT_TERM_FREQ = 20000

# Arabic numbers with their signs, or Chinese numerals with their large units.
_NUMBER = re.compile(rf"^[\d.,%‰+\-·]+$|^[{CN_DIGITS}十百千万亿两]+$")
_LOCK = threading.Lock()
# One segmenter per process and configuration: worker processes and repeated
# Tokenizer objects load the dictionary once.
_SEGMENTERS: dict[str, Any] = {}


def resource_path(name: str) -> Path:
    """Path of a shipped resource file (``lexicon.txt``, ``stopwords_zh.txt`` …)."""
    path = Path(str(resources.files("policystudy").joinpath("resources", name)))
    if not path.is_file():
        raise FileNotFoundError(f"no shipped resource named {name!r} (looked in {path.parent})")
    return path


#: Version of the shipped ``lexicon.txt`` (``"default"``), as in its first line.
LEXICON_VERSION = "2026.12.1"
#: The lexicon the published study (the committed notebook outputs on the bundled
#: corpus) was made with. Its file ships beside the current one so the published
#: numbers reproduce after the default lexicon grows.
PUBLISHED_LEXICON = PUBLISHED.lexicon

_NAMED = {
    "default": ("lexicon.txt",),
    f"default-{LEXICON_VERSION}": ("lexicon.txt",),
    "default-2026.11.1": ("lexicon-2026.11.1.txt",),
    "default-general": ("stopwords_zh.txt",),
    "default-policy": ("stopwords_policy.txt",),
}


def lexicon_for(extra: Iterable[str | os.PathLike[str]] | None = (), *, docs: Any) -> list:
    """The lexicon specification of a run: a base plus ``extra``.

    Tokens depend on the corpus and the lexicon, not on the later stages' options.
    The base is :data:`PUBLISHED_LEXICON` when the corpus is the published corpus
    (:meth:`policystudy.PUBLISHED.is_corpus`: the bundled documents, unchanged)
    and no extra lexicon is given, so the published results reproduce; for every
    other corpus, and whenever extra lexicons are added, it is ``"default"`` (the
    current version). ``policystudy topics``, ``compare``, ``terms`` and ``study``
    and the study's notebooks all call this, so one corpus and one set of
    options give the same tokens everywhere. To tokenize the bundled corpus with
    the current version, pass ``Tokenizer(lexicon="default")`` yourself.

    Parameters
    ----------
    extra : iterable of paths or terms
        Further lexicons: text files, ``terms.csv`` tables with a ``term`` column
        (from ``policystudy terms``), or single terms.
    docs : pandas.DataFrame or None
        The run's documents (``None``: the bundled corpus).

    >>> lexicon_for([], docs=None)
    ['default-2026.11.1']
    >>> lexicon_for(["my_terms.txt"], docs=None)
    ['default', 'my_terms.txt']
    """
    extra = [] if extra is None else [str(e) for e in extra]
    published = PUBLISHED.matches(docs, extra_lexicon=tuple(extra))
    base = PUBLISHED_LEXICON if published else "default"
    return [base, *extra]


def read_wordlist(path: str | Path) -> list[tuple[str, int | None]]:
    """Read a word list: one entry per line, optional integer frequency, ``#`` comments.

    ``#`` starts a comment anywhere on a line (so no entry may contain ``#``).
    A ``.csv`` file is read as a table with a ``term`` column (and an optional
    integer ``freq`` column), such as the ``terms.csv`` of ``policystudy terms``.

    Returns ``(word, frequency or None)`` pairs in file order.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return _read_term_table(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: word list not found") from None
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: word lists must be UTF-8 ({err})") from None
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()  # comments, also at the end of a line
        if not line:
            continue
        parts = line.split()
        freq = None
        if len(parts) > 1:
            try:
                freq = int(parts[1])
            except ValueError:
                raise ValueError(
                    f"{path}, line {number}: frequency {parts[1]!r} is not an integer"
                ) from None
        entries.append((unicodedata.normalize("NFKC", parts[0]), freq))
    return entries


def _read_term_table(path: Path) -> list[tuple[str, int | None]]:
    try:
        table = pd.read_csv(path, dtype={"term": str}, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: word list not found") from None
    if "term" not in table.columns:
        raise ValueError(f"{path}: a CSV lexicon needs a 'term' column")
    freqs = table["freq"].tolist() if "freq" in table.columns else [None] * len(table)
    return [
        (unicodedata.normalize("NFKC", term.strip()), None if freq is None else int(freq))
        for term, freq in zip(table["term"], freqs, strict=True)
        if term.strip()
    ]


def _resolve(spec, kind: str) -> tuple[list[Path], list[str]]:
    """Files and inline words from a lexicon/stopword specification."""
    if spec is None:
        return [], []
    if isinstance(spec, (str, Path)):
        spec = [spec]
    files, words = [], []
    for item in spec:
        if isinstance(item, str) and item in _NAMED:
            if kind == "stopwords" and item == "default":
                files += [resource_path("stopwords_zh.txt"), resource_path("stopwords_policy.txt")]
            else:
                files += [resource_path(n) for n in _NAMED[item]]
        elif isinstance(item, Path) or Path(item).is_file() or _looks_like_path(item):
            path = Path(item)
            if not path.is_file():
                raise FileNotFoundError(f"{path}: {kind} file not found")
            files.append(path)
        else:
            words.append(str(item))
    return files, words


def _looks_like_path(item: str) -> bool:
    return "/" in item or "\\" in item or bool(re.search(r"\.[A-Za-z]{2,4}$", item))


class Tokenizer:
    """A picklable, quiet, deterministic Chinese tokenizer for policy text.

    ``tok(text)`` returns the filtered tokens; :meth:`segment` the raw
    segmentation. Use it directly or with scikit-learn::

        TfidfVectorizer(tokenizer=Tokenizer(), token_pattern=None, lowercase=False)

    Parameters
    ----------
    backend : {"rjieba", "jieba"}
        Segmentation engine. Both use jieba's dictionary; with ``hmm=False`` they
        give the same tokens.
    hmm : bool
        Use jieba's HMM to guess unknown words. Off by default (see module docs).
    lexicon : "default", path, list of paths/terms, or None
        Terms added to the segmenter's dictionary. ``"default"`` is the shipped
        policy lexicon (version :data:`LEXICON_VERSION`), ``"default-2026.11.1"``
        its previous version; list several sources to combine them, e.g.
        ``["default", "my_terms.txt"]`` (text files or ``terms.csv`` tables);
        ``None`` for plain jieba.
    term_freq : int
        Frequency given to lexicon terms without one in their file.
    stopwords : "default", path, list, or None
        Tokens to drop. ``"default"`` = ``"default-general"`` (stopwords-iso)
        + ``"default-policy"`` (policy stock phrases); paths and words can be mixed.
    min_length : int
        Drop tokens shorter than this many characters (single characters by
        default), except lexicon terms.
    drop_numbers : bool
        Drop numbers (``2025``, ``3.5``, ``二十``).
    drop_punctuation : bool
        Drop tokens without any letter, digit or Han character.

    Attributes
    ----------
    settings : dict
        Every setting that changes the tokens, with file contents as SHA-256 hashes
        and the backend's version; :attr:`fingerprint` hashes it (the cache key).
    """

    def __init__(
        self,
        backend: str = "rjieba",
        *,
        hmm: bool = False,
        lexicon=("default",),
        term_freq: int = DEFAULT_TERM_FREQ,
        stopwords=("default",),
        min_length: int = 2,
        drop_numbers: bool = True,
        drop_punctuation: bool = True,
    ):
        if backend not in BACKENDS:
            raise ValueError(f"backend must be one of {BACKENDS}, not {backend!r}")
        self.backend = backend
        self.hmm = bool(hmm)
        self.lexicon = lexicon
        self.term_freq = int(term_freq)
        self.stopwords = stopwords
        self.min_length = int(min_length)
        self.drop_numbers = bool(drop_numbers)
        self.drop_punctuation = bool(drop_punctuation)
        self._setup()

    # -- construction --------------------------------------------------------
    def _setup(self) -> None:
        lex_files, lex_words = _resolve(self.lexicon, "lexicon")
        stop_files, stop_words = _resolve(self.stopwords, "stopwords")
        terms: dict[str, int] = {}
        for path in lex_files:
            for word, freq in read_wordlist(path):
                terms[word] = freq if freq is not None else self.term_freq
        for word in lex_words:
            terms[unicodedata.normalize("NFKC", word)] = self.term_freq
        self.terms_ = dict(sorted(terms.items()))
        stop = {w for path in stop_files for w, _ in read_wordlist(path)}
        stop.update(unicodedata.normalize("NFKC", w) for w in stop_words)
        self.stopwords_ = frozenset(stop)
        self.settings = {
            "backend": self.backend,
            "backend_version": metadata.version(self.backend),
            "hmm": self.hmm,
            "terms_sha256": _sha(json.dumps(self.terms_, ensure_ascii=False)),
            "stopwords_sha256": _sha("\n".join(sorted(self.stopwords_))),
            "min_length": self.min_length,
            "drop_numbers": self.drop_numbers,
            "drop_punctuation": self.drop_punctuation,
            "version": 1,
        }
        self.fingerprint = _sha(json.dumps(self.settings, sort_keys=True))
        self._segment_key = _sha(
            json.dumps(
                [self.backend, self.settings["backend_version"], self.settings["terms_sha256"]]
            )
        )

    def __getstate__(self) -> dict:
        # Native segmenter state cannot be pickled; it is rebuilt on first use.
        return {k: v for k, v in self.__dict__.items() if k not in ("_segmenter", "_kept")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __repr__(self) -> str:
        return (
            f"Tokenizer(backend={self.backend!r}, hmm={self.hmm}, terms={len(self.terms_)}, "
            f"stopwords={len(self.stopwords_)}, min_length={self.min_length})"
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and other.fingerprint == self.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    @property
    def _engine(self):
        engine = self.__dict__.get("_segmenter")
        if engine is None:
            with _LOCK:
                engine = _SEGMENTERS.get(self._segment_key)
                if engine is None:
                    engine = _build_engine(self.backend, self.terms_)
                    _SEGMENTERS[self._segment_key] = engine
            self._segmenter = engine
        return engine

    # -- use -------------------------------------------------------------------
    def segment(self, text: str) -> list[str]:
        """The raw segmentation: every piece in order, before any filtering."""
        if self.backend == "rjieba":
            return self._engine.cut(text, self.hmm)
        return self._engine.lcut(text, HMM=self.hmm)

    def keep(self, token: str) -> bool:
        """Whether a segmented piece is kept as a token."""
        if token in self.stopwords_:
            return False
        if token in self.terms_:
            return True
        if not token.strip():
            return False
        if self.drop_punctuation and not any(ch.isalnum() for ch in token):
            return False
        if self.drop_numbers and _NUMBER.match(token):
            return False
        return len(token) >= self.min_length

    def __call__(self, text: str) -> list[str]:
        """Filtered tokens of ``text``."""
        # Decide each distinct piece once and reuse one string object per token:
        # the filter then costs a dict lookup, and token lists share their strings.
        kept = self.__dict__.get("_kept")
        if kept is None:
            kept = self.__dict__["_kept"] = {}
        out = []
        for piece in self.segment(text):
            token = kept.get(piece)
            if token is None:
                token = kept[piece] = piece if self.keep(piece) else ""
            if token:
                out.append(token)
        return out

    def __dask_tokenize__(self) -> str:
        return self.fingerprint

    def key(self, text: str) -> str:
        """Cache key of ``text`` under this tokenizer's settings."""
        return _sha(self.fingerprint + "\x00" + text)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _build_engine(backend: str, terms: dict[str, int]):
    if backend == "rjieba":
        import rjieba

        engine = rjieba.Jieba()
        for word, freq in terms.items():
            engine.add_word(word, freq, None)
        return engine
    # jieba logs its dictionary loading to stderr and, with some setuptools
    # versions, warns at import: keep both off the user's stderr.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import jieba
    logger = logging.getLogger("jieba")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stderr(io.StringIO()):
            engine = jieba.Tokenizer()
            engine.initialize()
    finally:
        logger.setLevel(level)
    for word, freq in terms.items():
        engine.add_word(word, freq)
    return engine


# --------------------------------------------------------------------------
# Lexicon harvesting
# --------------------------------------------------------------------------

_QUOTED = re.compile(r"[“「『\"]([\u4e00-\u9fff]{2,8})[”」』\"]")


def harvest_terms(
    texts: Iterable[str] | pd.Series,
    *,
    min_count: int = 2,
    min_len: int = 2,
    max_len: int = 8,
    exclude: Iterable[str] = (),
) -> pd.DataFrame:
    """Collect quoted terms (“…”) from a corpus as lexicon candidates.

    Only spans of ``min_len``–``max_len`` Han characters between quotation marks
    count (so quoted sentences and mixed strings such as “10+N” are ignored).

    Parameters
    ----------
    texts : iterable of str
        Cleaned document texts (e.g. ``docs["text"]``).
    min_count : int
        Keep terms quoted at least this often in the corpus.
    min_len, max_len : int
        Length bounds in Han characters (at most 2–8).
    exclude : iterable of str
        Terms to leave out (e.g. ``Tokenizer().terms_`` to list only new ones).

    Returns
    -------
    pandas.DataFrame
        ``term``, ``count`` (times quoted), ``n_docs`` (documents quoting it),
        sorted by count (descending) then term.
    """
    if not 2 <= min_len <= max_len <= 8:
        raise ValueError("need 2 <= min_len <= max_len <= 8")
    exclude = set(exclude)
    counts: Counter[str] = Counter()
    docs: defaultdict[str, set[int]] = defaultdict(set)
    for i, text in enumerate(texts):
        for term in _QUOTED.findall(str(text)):
            if min_len <= len(term) <= max_len and term not in exclude:
                counts[term] += 1
                docs[term].add(i)
    rows = [(t, c, len(docs[t])) for t, c in counts.items() if c >= min_count]
    table = pd.DataFrame(rows, columns=["term", "count", "n_docs"])
    return table.sort_values(["count", "term"], ascending=[False, True], ignore_index=True)


def write_lexicon(terms: pd.DataFrame | Iterable[str], path: str | Path, *, note: str = "") -> Path:
    """Write terms to an editable lexicon file (UTF-8, one term per line).

    ``terms`` is a list of terms or a table with a ``term`` column: the result of
    :func:`harvest_terms` or :func:`policystudy.discover_terms`. The file records
    each term's evidence as a comment so a researcher can review and delete lines
    before using it with ``Tokenizer(lexicon=["default", path])``. Written
    atomically. Refuses to write inside the bundled ``data/`` folder.
    """
    path = Path(path)
    refuse_corpus_dir(path)
    if isinstance(terms, pd.DataFrame):
        if "term" not in terms.columns:
            raise MissingColumnError("write_lexicon: the table needs a 'term' column")
        rows = [_lexicon_row(r, terms.columns) for r in terms.to_dict("records")]
    else:
        rows = [str(t) for t in terms]
    header = [
        "# policystudy lexicon: one term per line, optional integer frequency after it.",
        "# Review: delete lines that are not terms you want kept whole.",
    ]
    if note:
        header.append(f"# {note}")
    atomic_write(path, "\n".join([*header, *rows]) + "\n")
    return path


def _lexicon_row(row: dict, columns) -> str:
    """One lexicon line with the evidence for the term as a comment."""
    term = str(row["term"])
    if "#" in term or not term.strip() or len(term.split()) > 1:
        raise ValueError(f"write_lexicon: {term!r} cannot be a lexicon entry")
    if "count" not in columns:
        return term
    where = f"{row['count']}x in {row['n_docs']} document(s)" if "n_docs" in columns else ""
    if "pmi" in columns:  # a discover_terms table
        entropy = min(row["left_entropy"], row["right_entropy"])
        return f"{term}  # {where}; pmi {row['pmi']:.2f}, boundary entropy {entropy:.2f}"
    return f"{term}  # quoted {where}"


# --------------------------------------------------------------------------
# The tokenize stage
# --------------------------------------------------------------------------

#: Below this many characters still to tokenize, ``n_jobs`` is ignored: starting
#: worker processes costs more than it saves (measured by ``make bench``).
PARALLEL_MIN_CHARS = 2_000_000
#: Below this many uncached texts no progress bar is shown even in a terminal.
PROGRESS_MIN = 20000


def _tokenize_chunk(tokenizer: Tokenizer, texts: Sequence[str]) -> list[list[str]]:
    return [tokenizer(t) for t in texts]


def tokenize(
    units: pd.DataFrame,
    tokenizer: Tokenizer | None = None,
    n_jobs: int = 1,
    *,
    column: str = "text",
    cache: bool | str | Path | TokenCache = True,
    progress: bool | None = None,
) -> pd.DataFrame:
    """Tokenize every unit, with an on-disk cache.

    Parameters
    ----------
    units : pandas.DataFrame
        A table with a text column (e.g. from :func:`policystudy.split_units`).
        Not modified.
    tokenizer : Tokenizer, optional
        Default ``Tokenizer()``.
    n_jobs : int or None
        Worker processes for texts not in the cache (``-1``: all cores; None: 1;
        0 and other negative numbers are a ValueError), used when
        at least :data:`PARALLEL_MIN_CHARS` characters remain to tokenize. Results
        are identical to ``n_jobs=1``; each worker loads the dictionary once.
    column : str
        The text column.
    cache : bool, path or TokenCache
        ``True``: the user cache (:func:`policystudy.cache.cache_dir`); a folder or
        a :class:`~policystudy.cache.TokenCache`; ``False`` to bypass it.
    progress : bool, optional
        Show a progress bar (needs ``tqdm``). Default: only in a terminal and only
        for large inputs, never in a notebook.

    Returns
    -------
    pandas.DataFrame
        A copy of ``units`` with ``tokens`` (list of str) and ``n_tokens``.
        ``result.attrs["tokenizer"]`` holds the tokenizer's settings and
        ``result.attrs["cache_hits"]`` how many distinct texts came from the cache.
    """
    if column not in units.columns:
        raise MissingColumnError(f"tokenize: no column {column!r} in the units table")
    n_jobs = check_n_jobs(n_jobs) or 1  # checked even when every text is cached
    tokenizer = tokenizer or Tokenizer()
    texts = units[column].fillna("").astype(str).tolist()
    unique = list(dict.fromkeys(texts))
    keys = {t: tokenizer.key(t) for t in unique}

    store = None
    if cache is not False and cache is not None:
        store = (
            cache if isinstance(cache, TokenCache) else TokenCache(None if cache is True else cache)
        )
    found: dict[str, list[str]] = {}
    if store:
        try:
            found = store.get_many(keys.values())
        except (OSError, sqlite3.Error) as exc:
            _cache_unusable(store, exc, explicit=cache is not True)
            store = None
    todo = [t for t in unique if keys[t] not in found]

    if todo:
        show = (
            progress
            if progress is not None
            else (sys.stderr.isatty() and len(todo) >= PROGRESS_MIN)
        )
        results = _run(tokenizer, todo, n_jobs, show)
        new = {keys[t]: toks for t, toks in zip(todo, results, strict=True)}
        if store:
            try:
                store.put_many(new)
            except (OSError, sqlite3.Error) as exc:
                _cache_unusable(store, exc, explicit=cache is not True)
        found.update(new)

    out = units.copy()
    out["tokens"] = [found[keys[t]] for t in texts]
    out["n_tokens"] = out["tokens"].map(len).astype("int64")
    out.attrs = {
        **units.attrs,
        "tokenizer": dict(tokenizer.settings),
        "cache_hits": len(unique) - len(todo),
    }
    release_free_memory()  # the segmenter's pieces and the workers' results
    return out


def _cache_unusable(store: TokenCache, exc: Exception, *, explicit: bool) -> None:
    """A cache the user named must work; the default one may fail (read-only home)."""
    if explicit:
        raise OSError(f"token cache {store.path} cannot be used: {exc}") from exc
    warnings.warn(
        f"token cache {store.path} cannot be used ({exc}); tokenizing without it. "
        "Set POLICYSTUDY_CACHE to a writable folder, or pass cache=False.",
        CacheWarning,
        stacklevel=3,
    )


def _run(tokenizer: Tokenizer, texts: list[str], n_jobs: int, show: bool) -> list[list[str]]:
    n_jobs = (os.cpu_count() or 1) if n_jobs == -1 else n_jobs
    if sum(map(len, texts)) < PARALLEL_MIN_CHARS:
        n_jobs = 1  # starting processes costs more than it saves on small inputs
    n_chunks = 1 if n_jobs == 1 else min(len(texts), n_jobs * 8)
    size = -(-len(texts) // n_chunks)
    chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
    bar = None
    if show:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(texts), unit="unit", desc="tokenize")
        except ImportError:
            bar = None
    results: list[list[str]] = []
    if n_jobs == 1:
        for chunk in chunks:
            results.extend(_tokenize_chunk(tokenizer, chunk))
            if bar:
                bar.update(len(chunk))
    else:
        from concurrent.futures import ProcessPoolExecutor

        from policystudy.stage_cache import wait_for_writes

        wait_for_writes()  # workers are forked: no other thread may be running
        with ProcessPoolExecutor(max_workers=n_jobs) as pool:
            for part in pool.map(_tokenize_chunk, [tokenizer] * len(chunks), chunks):
                results.extend(part)
                if bar:
                    bar.update(len(part))
    if bar:
        bar.close()
    return results
