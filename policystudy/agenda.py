"""Policy-agenda dictionary coding: :func:`lookup` (like quanteda's ``dfm_lookup``) and shares.

* :func:`load_dictionary` reads the shipped Chinese policy-agenda dictionary
  (``resources/agenda_dictionary.csv``, modelled on the major topics of the
  Comparative Agendas Project, documented in ``resources/agenda_dictionary.md``)
  or a replacement (CSV, YAML, or a mapping).
* :func:`lookup` counts, per unit, the tokens that match each category's entries
  (single tokens, sequences of consecutive tokens, prefixes) and names each unit's
  dominant category.
* :func:`agenda_shares` gives each category's share within groups of units, with
  the bootstrap intervals of :func:`policystudy.compare.prevalence` (it runs that
  very function on the dictionary shares).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import normalize

from policystudy._validation import MissingColumnError

__all__ = [
    "DEFAULT_DICTIONARY",
    "NO_CATEGORY",
    "agenda_shares",
    "load_dictionary",
    "lookup",
]

#: Name of the shipped dictionary in :func:`load_dictionary`.
DEFAULT_DICTIONARY = "default"
#: ``category`` of a unit in which no entry matched.
NO_CATEGORY = "(none)"
_PREFIX = "*"
_LEVELS = ("category", "cap_topic")


def _dictionary_path() -> Path:
    return Path(str(resources.files("policystudy").joinpath("resources", "agenda_dictionary.csv")))


def _normalise(entry: str) -> str:
    # Same normal form as the tokenizer's lexicon (NFKC), single spaces.
    return " ".join(unicodedata.normalize("NFKC", str(entry)).split())


def _read_csv(path: Path, level: str) -> dict[str, list[str]]:
    text = path.read_text(encoding="utf-8-sig")
    # '#' starts a comment only at the start of a line (entries never begin with it).
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    rows = list(csv.DictReader(io.StringIO(body)))
    if not rows:
        raise ValueError(f"{path}: no dictionary rows")
    missing = [c for c in (level, "entry") if c not in rows[0]]
    if missing:
        raise ValueError(
            f"{path}: dictionary CSV needs column(s) {missing}; it has {list(rows[0])}"
        )
    out: dict[str, list[str]] = {}
    for number, row in enumerate(rows, start=2):
        key, entry = (row.get(level) or "").strip(), _normalise(row.get("entry") or "")
        if not key or not entry:
            raise ValueError(f"{path}, row {number}: empty {level!r} or 'entry'")
        out.setdefault(key, []).append(entry)
    return out


def _read_yaml(path: Path) -> dict[str, list[str]]:
    try:
        import yaml
    except ImportError:  # PyYAML is not a dependency of policystudy
        raise ImportError(
            f"{path}: reading a YAML dictionary needs PyYAML (pip install pyyaml); "
            "or write the dictionary as CSV with columns category,entry"
        ) from None
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: a YAML dictionary maps category names to lists of entries")
    return {str(k): v for k, v in data.items()}


def load_dictionary(
    dictionary: str | Path | Mapping[str, Sequence[str]] = DEFAULT_DICTIONARY,
    *,
    level: str = "category",
) -> dict[str, list[str]]:
    """Read a policy-agenda dictionary into ``{category: [entries]}``.

    Parameters
    ----------
    dictionary : "default", path or mapping, default "default"
        ``"default"``: the shipped dictionary (12 categories, one per theme of the
        validation codebook, modelled on the Comparative Agendas Project's major
        topics; see ``policystudy/resources/agenda_dictionary.md``). A ``.csv``
        path: columns ``category`` and ``entry`` (``#`` lines at the top are
        comments). A ``.yaml``/``.yml`` path: ``category: [entries]`` (needs
        PyYAML). A mapping: used as given.
    level : {"category", "cap_topic"}, default "category"
        For a CSV dictionary, the column that names the categories: the codebook
        themes, or the CAP major topic of each entry.

    Returns
    -------
    dict of str to list of str
        Categories in file order; entries normalised (NFKC, single spaces) and
        de-duplicated within a category, in file order.
    """
    if level not in _LEVELS:
        raise ValueError(f"level must be one of {_LEVELS}, got {level!r}")
    if isinstance(dictionary, Mapping):
        raw: Mapping[str, Any] = dictionary
    else:
        path = _dictionary_path() if str(dictionary) == DEFAULT_DICTIONARY else Path(dictionary)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: dictionary file not found")
        if path.suffix.lower() in (".yaml", ".yml"):
            raw = _read_yaml(path)
        else:
            raw = _read_csv(path, level)
    out: dict[str, list[str]] = {}
    for key, entries in raw.items():
        if isinstance(entries, str) or not isinstance(entries, Sequence):
            raise TypeError(f"category {key!r}: entries must be a list of str, got {entries!r}")
        clean = [_normalise(e) for e in entries if _normalise(e)]
        if not clean:
            raise ValueError(f"category {key!r} has no entries")
        out[str(key)] = list(dict.fromkeys(clean))
    if not out:
        raise ValueError("the dictionary has no categories")
    return out


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True)
class _Pattern:
    """One entry as a token sequence; the last element may be a prefix."""

    category: int
    parts: tuple[str, ...]
    prefix_last: bool
    entry: str


def _compile(
    dictionary: Mapping[str, Sequence[str]], tokenizer: Any
) -> tuple[list[_Pattern], list[str]]:
    """Entries as token sequences; entries that cannot match (only stopwords) are returned."""
    patterns: list[_Pattern] = []
    dropped: list[str] = []
    for c, entries in enumerate(dictionary.values()):
        for entry in entries:
            words = entry.split(" ")
            prefix = words[-1].endswith(_PREFIX)
            if prefix:
                words[-1] = words[-1][: -len(_PREFIX)]
            parts: list[str] = []
            for i, word in enumerate(words):
                # A prefix stays as typed; other words are segmented the way units
                # are (stopwords dropped), so they match the tokens actually present.
                if tokenizer is None or (prefix and i == len(words) - 1):
                    parts.append(word)
                else:
                    parts.extend(tokenizer(word))
            if not parts or not all(parts):
                dropped.append(entry)
                continue
            patterns.append(_Pattern(c, tuple(parts), prefix, entry))
    return patterns, dropped


def _match_units(
    token_lists: Sequence[Sequence[str]], patterns: list[_Pattern], n_categories: int
) -> tuple[np.ndarray, np.ndarray]:
    """Counts (n_units, n_categories) and first-match positions (-1: none).

    A token position counts once per category: overlapping entries of one
    category (``乡村`` inside ``乡村 振兴``) are not counted twice; the longest entry
    starting at a position is taken and matching resumes after it.
    """
    by_first: dict[str, list[_Pattern]] = {}
    prefixes: list[_Pattern] = []
    for p in patterns:
        if len(p.parts) == 1 and p.prefix_last:
            prefixes.append(p)
        else:
            by_first.setdefault(p.parts[0], []).append(p)
    for plist in by_first.values():
        plist.sort(key=lambda p: -len(p.parts))
    counts = np.zeros((len(token_lists), n_categories), dtype=np.int64)
    first = np.full((len(token_lists), n_categories), -1, dtype=np.int64)
    for u, tokens in enumerate(token_lists):
        tokens = list(tokens)
        n = len(tokens)
        covered_until = np.zeros(n_categories, dtype=np.int64)
        for i, token in enumerate(tokens):
            # Longest match per category starting at i.
            best: dict[int, int] = {}
            for p in by_first.get(token, ()):
                m = len(p.parts)
                if i + m > n or p.category in best:
                    continue
                if all(tokens[i + j] == p.parts[j] for j in range(1, m - 1)) and (
                    m == 1
                    or (
                        tokens[i + m - 1].startswith(p.parts[-1])
                        if p.prefix_last
                        else tokens[i + m - 1] == p.parts[-1]
                    )
                ):
                    best[p.category] = m
            for p in prefixes:
                if p.category not in best and token.startswith(p.parts[0]):
                    best[p.category] = 1
            for c, m in best.items():
                if i < covered_until[c]:
                    continue
                counts[u, c] += 1
                covered_until[c] = i + m
                if first[u, c] < 0:
                    first[u, c] = i
    return counts, first


def _features_counts(
    features: Any, patterns: list[_Pattern], n_categories: int
) -> tuple[np.ndarray, list[str]]:
    """Counts from a Features matrix: single-token and prefix entries only."""
    vocabulary = np.asarray(features.vocabulary).astype(str)
    index = {t: j for j, t in enumerate(vocabulary)}
    columns: list[set[int]] = [set() for _ in range(n_categories)]
    skipped = []
    for p in patterns:
        if len(p.parts) > 1:
            skipped.append(p.entry)  # a bag of words has no order to match
        elif p.prefix_last:
            columns[p.category].update(
                j for j, t in enumerate(vocabulary) if t.startswith(p.parts[0])
            )
        elif p.parts[0] in index:
            columns[p.category].add(index[p.parts[0]])
    matrix = features.counts.tocsc()
    counts = np.zeros((matrix.shape[0], n_categories), dtype=np.int64)
    for c, cols in enumerate(columns):
        if cols:
            counts[:, c] = np.asarray(matrix[:, sorted(cols)].sum(axis=1)).ravel()
    return counts, skipped


def _default_tokenizer() -> Any:
    from policystudy.tokens import Tokenizer

    return Tokenizer()


def lookup(
    data: Any,
    dictionary: str | Path | Mapping[str, Sequence[str]] = DEFAULT_DICTIONARY,
    *,
    tokenizer: Any = "default",
    column: str = "tokens",
    level: str = "category",
) -> pd.DataFrame:
    """Count dictionary matches per unit and name each unit's dominant category.

    Parameters
    ----------
    data : pandas.DataFrame or Features
        The table from :func:`policystudy.tokenize` (a ``tokens`` column of token
        lists; recommended: sequences and prefixes are matched on the tokens in
        order) or a :class:`~policystudy.features.Features` object (only
        single-token and prefix entries can match, and only terms in its
        vocabulary; sequence entries are skipped and listed in
        ``attrs["skipped_entries"]``).
    dictionary : "default", path or mapping, default "default"
        See :func:`load_dictionary`.
    tokenizer : "default", Tokenizer or None, default "default"
        Segments each word of an entry the way units were segmented, so that an
        entry matches the tokens it became (``"default"``: ``Tokenizer()``, the
        default of :func:`policystudy.tokenize`; pass the tokenizer you used).
        ``None`` matches entries exactly as written (words split on spaces).
    column : str, default "tokens"
        Token column of a table.
    level : {"category", "cap_topic"}, default "category"
        See :func:`load_dictionary`.

    Returns
    -------
    pandas.DataFrame
        One row per unit, in input order: the unit metadata (every column but
        the tokens), ``n_<category>`` (matches per category), ``n_matches``
        (their sum), ``category`` (the dominant category, ``"(none)"`` when
        nothing matched) and ``category_share`` (its share of the unit's
        matches, 0 when none). ``attrs["categories"]`` lists the categories in
        dictionary order, ``attrs["dropped_entries"]`` the entries that cannot
        match (made only of stopwords under the tokenizer).

    Notes
    -----
    Every token position counts once for each category whose entry matches
    there (the longest entry of the category, after which matching resumes), so
    a token may count for several categories. **Ties** for the dominant category
    go to the category whose first match comes earliest in the unit (as the
    codebook's rule lets the unit's first sentence decide); with a Features
    input, which has no token order, to the category listed first in the
    dictionary.
    """
    categories = load_dictionary(dictionary, level=level)
    names = list(categories)
    if isinstance(tokenizer, str):
        if tokenizer != "default":
            raise ValueError(f"tokenizer must be 'default', a Tokenizer or None, got {tokenizer!r}")
        tokenizer = _default_tokenizer()
    patterns, dropped = _compile(categories, tokenizer)
    k = len(names)
    skipped: list[str] = []
    if isinstance(data, pd.DataFrame):
        if column not in data.columns:
            raise MissingColumnError(
                f"lookup: no column {column!r}; pass the table returned by tokenize() "
                "or a Features object"
            )
        counts, first = _match_units(data[column].tolist(), patterns, k)
        meta = data.drop(columns=[column]).reset_index(drop=True)
    elif hasattr(data, "counts") and hasattr(data, "vocabulary") and hasattr(data, "units"):
        counts, skipped = _features_counts(data, patterns, k)
        first = np.where(counts > 0, np.arange(k)[None, :], -1)
        meta = data.units.reset_index(drop=True).copy()
    else:
        raise TypeError(
            f"lookup expects a tokenized table or a Features object, got {type(data).__name__}"
        )
    total = counts.sum(axis=1)
    top = counts.max(axis=1, initial=0)
    # Among the tied categories, the one whose first match is earliest.
    order_key = np.where((counts == top[:, None]) & (counts > 0), first, np.iinfo(np.int64).max)
    dominant = order_key.argmin(axis=1)
    out = meta.copy()
    for c, name in enumerate(names):
        out[f"n_{name}"] = counts[:, c]
    out["n_matches"] = total
    labels = np.array(names, dtype=object)[dominant]
    out["category"] = np.where(total > 0, labels, NO_CATEGORY)
    out["category_share"] = np.divide(
        top, total, out=np.zeros(len(total), dtype=np.float64), where=total > 0
    )
    out.attrs = {
        "categories": names,
        "level": level,
        "dropped_entries": dropped,
        "skipped_entries": skipped,
    }
    return out


# --------------------------------------------------------------------------- shares


def agenda_shares(
    result: pd.DataFrame,
    by: str = "city",
    *,
    measure: str = "share",
    n_boot: int = 1000,
    level: float = 0.95,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Share of each agenda category within groups of units, with bootstrap intervals.

    The intervals are those of :func:`policystudy.compare.prevalence`, computed
    by that function: documents resampled when a group has at least two, units
    within its one document otherwise (the ``interval`` column says which).

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`lookup` (needs ``doc_id`` and ``by``).
    by : str, default "city"
        Unit column to group by.
    measure : {"share", "dominant"}, default "share"
        ``"share"``: each unit contributes its matches' distribution over the
        categories (unit-weighted mean, like topic shares). ``"dominant"``: each
        unit counts wholly for its dominant category (share of units).
    n_boot, level, random_state
        As in :func:`policystudy.compare.prevalence`.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`~policystudy.compare.prevalence` with ``category``
        in place of ``topic`` and ``label``: ``<by>``, ``category``, ``share``,
        ``diff_from_rest``, ``share_rest``, ``ci_low``, ``ci_high``, ``n_docs``,
        ``n_units``, ``n_units_empty`` (units without any match, left out),
        ``interval``, ``level``; plus ``measure``.
    """
    from policystudy.compare._prevalence import _shares_by_group

    names = result.attrs.get("categories")
    if not names:
        raise ValueError("agenda_shares needs the table returned by lookup() (attrs['categories'])")
    if measure not in ("share", "dominant"):
        raise ValueError(f"measure must be 'share' or 'dominant', got {measure!r}")
    counts = result[[f"n_{c}" for c in names]].to_numpy(dtype=np.float64)
    total = counts.sum(axis=1)
    if measure == "share":
        # Match counts are integers: a unit with matches has a total >= 1, so
        # normalize's zero-norm rule only ever applies to units without any.
        shares = normalize(counts, norm="l1")
    else:
        shares = np.zeros_like(counts)
        matched = total > 0
        index = {c: i for i, c in enumerate(names)}
        cols = result["category"].map(index).to_numpy()
        shares[np.flatnonzero(matched), cols[matched].astype(int)] = 1.0
    table = result.drop(columns=[c for c in result.columns if str(c).startswith("topic")])
    share_cols = pd.DataFrame(
        shares, columns=[f"topic_{i}" for i in range(len(names))], index=table.index
    )
    out = _shares_by_group(
        pd.concat([table, share_cols], axis=1),
        pd.Series(names, index=pd.RangeIndex(len(names), name="topic")),
        by,
        n_boot=n_boot,
        level=level,
        random_state=random_state,
    )
    out = out.drop(columns=["topic"]).rename(columns={"label": "category"})
    out["measure"] = measure
    out.attrs = {**out.attrs, "measure": measure}
    return out
