"""Human validation of topics and codes: coding sheets, intrusion tests, agreement.

* :func:`validation_sample` draws units for hand coding (stratified by document)
  and :func:`write_coding_sheet` writes the sheet (CSV and Excel, with an empty
  ``label`` column and the codebook). Units are keyed by :func:`unit_keys`
  (document id plus a hash of the unit's text), so :func:`match_coded` finds coded
  units again after unit ids change.
* :func:`word_intrusion` / :func:`topic_intrusion` make the intrusion tests of
  Chang et al. (2009, "Reading tea leaves") for a fitted model, with the answer key
  kept apart; :func:`score_word_intrusion` gives model precision per topic and
  :func:`score_topic_intrusion` topic log odds per unit.
* :func:`agreement` compares two labelings of the same units (topics, dictionary
  codes, hand codes, sections): one-to-one and many-to-one accuracy, Cohen's kappa,
  AMI and NMI, with the document-only baseline beside them.
* :func:`compare_methods` puts unsupervised NMF, seeded NMF, dictionary coding and
  the document-only baseline side by side on a coded sample.

The shipped coded sample (:func:`coded_sample`) is the project authors' own coding
of the bundled corpus: not independent and not blind, so its agreement figures are
illustrative.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment
from sklearn.metrics import (
    adjusted_mutual_info_score,
    cohen_kappa_score,
    normalized_mutual_info_score,
)

from policystudy._io import OutputSet
from policystudy._validation import MissingColumnError
from policystudy.exports import _normalise_zip
from policystudy.schema import UNIT_COLUMNS

__all__ = [
    "SHEET_COLUMNS",
    "agreement",
    "codebook",
    "coded_sample",
    "compare_methods",
    "many_to_one_accuracy",
    "match_coded",
    "one_to_one_accuracy",
    "read_coded",
    "score_topic_intrusion",
    "score_word_intrusion",
    "topic_intrusion",
    "unit_keys",
    "validation_sample",
    "word_intrusion",
    "write_coding_sheet",
]

# The unit columns a coder sees, in the schema's order.
_SHEET_UNIT_COLUMNS = tuple(
    c for c in UNIT_COLUMNS if c in {"doc_id", "unit_id", "section", "text"}
)
#: Columns of a coding sheet, in order (``label`` and ``note`` are for the coder).
SHEET_COLUMNS = ("unit_key", *_SHEET_UNIT_COLUMNS, "label", "note")
_UNMATCHED = "(unmatched)"
_KEY_CHARS = 12  # 48 bits of SHA-256: no collision among a corpus' units in practice
# Topic log odds need log(theta); a topic with zero share gets this floor.
_THETA_FLOOR = 1e-6


def _resource(name: str) -> Path:
    return Path(str(resources.files("policystudy").joinpath("resources", "validation", name)))


def codebook() -> pd.DataFrame:
    """The shipped codebook of policy themes (``resources/validation/codebook.csv``).

    Columns ``theme``, ``label_zh``, ``label_en``, ``cap_topics``, ``definition``;
    the rules for coding are in ``codebook.md`` next to it.
    """
    return pd.read_csv(_resource("codebook.csv"), keep_default_na=False)


def coded_sample() -> pd.DataFrame:
    """The shipped coded sample of the bundled corpus (the project authors' coding).

    One row per coded unit: ``unit_key``, ``doc_id``, ``unit_id`` (at coding time),
    ``label`` (a codebook theme), ``note``, ``coder``. Not independent, not blind
    (the coders wrote the codebook, the dictionary and the package): agreement on
    it is illustrative. Provenance: ``resources/validation/coded_sample.md``.
    """
    return pd.read_csv(_resource("coded_sample.csv"), keep_default_na=False)


# --------------------------------------------------------------------------- keys


def _canonical(text: str) -> str:
    # Keys must not change when only layout changes: NFKC, no whitespace at all
    # (Chinese text has no word spaces; the bundled files break words with spaces).
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def unit_keys(doc_ids: Sequence[Any], texts: Sequence[Any]) -> np.ndarray:
    """Stable keys of units: ``<doc_id>:<first 12 hex digits of SHA-256 of the text>``.

    The text is normalised first (NFKC, whitespace removed), so a key survives
    re-numbering of units and changes of layout, but not changes of the words.
    A text repeated within a document gets ``#2``, ``#3`` … on its later copies.

    Parameters
    ----------
    doc_ids, texts : sequences of the same length

    Returns
    -------
    numpy.ndarray of str
    """
    if len(doc_ids) != len(texts):
        raise ValueError("doc_ids and texts must have the same length")
    seen: dict[str, int] = {}
    keys = []
    for doc, text in zip(doc_ids, texts, strict=True):
        digest = hashlib.sha256(_canonical(text).encode("utf-8")).hexdigest()[:_KEY_CHARS]
        key = f"{doc}:{digest}"
        seen[key] = seen.get(key, 0) + 1
        keys.append(key if seen[key] == 1 else f"{key}#{seen[key]}")
    return np.array(keys, dtype=object)


def _keys_of(table: pd.DataFrame) -> np.ndarray:
    for column in ("doc_id", "text"):
        if column not in table.columns:
            raise MissingColumnError(f"the units table needs a {column!r} column to key units")
    return unit_keys(table["doc_id"].astype(str).tolist(), table["text"].tolist())


# --------------------------------------------------------------------------- sample


def _allocate(sizes: np.ndarray, n: int) -> np.ndarray:
    """Proportional allocation by largest remainder, at least one unit per stratum.

    ``n`` is at least the number of strata (the caller draws strata otherwise).
    """
    if n >= sizes.sum():
        return sizes.copy()
    quota = n * sizes / sizes.sum()
    alloc = np.minimum(np.maximum(np.floor(quota).astype(int), 1), sizes)
    # Hand out (or take back) the remaining units by largest remainder.
    while alloc.sum() < n:
        room = alloc < sizes
        gap = np.where(room, quota - alloc, -np.inf)
        alloc[int(np.argmax(gap))] += 1
    while alloc.sum() > n:
        spare = alloc > 1
        over = np.where(spare, alloc - quota, -np.inf)
        alloc[int(np.argmax(over))] -= 1
    return alloc


def validation_sample(
    units: pd.DataFrame,
    n: int,
    *,
    stratify: str | None = "doc_id",
    random_state: int = 0,
    include_headings: bool = False,
) -> pd.DataFrame:
    """Draw units for hand coding and return the coding sheet.

    Parameters
    ----------
    units : pandas.DataFrame
        Units from :func:`policystudy.split_units` (or any table with ``doc_id``
        and ``text``; a tokenized table works too).
    n : int
        Units to draw (all units when ``n`` is at least their number).
    stratify : str or None, default "doc_id"
        Column whose groups are sampled in proportion to their size (largest
        remainder), each group with at least one unit; with more groups than
        ``n``, ``n`` groups drawn with probability proportional to their size,
        one unit from each. None: a simple random sample.
    random_state : int, default 0
        Seed; the same seed and units give the same sample.
    include_headings : bool, default False
        Also sample heading units (``is_heading``); they are not coded by default,
        as topic models do not see them.

    Returns
    -------
    pandas.DataFrame
        :data:`SHEET_COLUMNS`: ``unit_key`` (see :func:`unit_keys`), ``doc_id``,
        ``unit_id``, ``section``, ``text``, and empty ``label`` and ``note``
        columns, in corpus order. ``unit_id`` and ``section`` are empty when the
        units lack them.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    table = units.reset_index(drop=True)
    keys = _keys_of(table)
    keep = np.ones(len(table), dtype=bool)
    if not include_headings and "is_heading" in table.columns:
        keep &= ~table["is_heading"].fillna(False).to_numpy(dtype=bool)
    pool = np.flatnonzero(keep)
    if pool.size == 0:
        raise ValueError("validation_sample: no units to sample")
    rng = np.random.default_rng(random_state)
    if stratify is None:
        chosen = rng.choice(pool, size=min(int(n), pool.size), replace=False)
    else:
        if stratify not in table.columns:
            raise MissingColumnError(f"stratify column {stratify!r} not in the units table")
        groups = table[stratify].astype(str).to_numpy()[pool]
        names, inverse = np.unique(groups, return_inverse=True)
        sizes = np.bincount(inverse)
        if n < len(names):
            # Not room for one unit per group: n groups, drawn in proportion to
            # their size, one unit from each.
            alloc = np.zeros(len(names), dtype=int)
            alloc[rng.choice(len(names), size=int(n), replace=False, p=sizes / sizes.sum())] = 1
        else:
            alloc = _allocate(sizes, int(n))
        chosen = np.concatenate(
            [
                rng.choice(pool[inverse == g], size=int(alloc[g]), replace=False)
                for g in range(len(names))
            ]
        )
    chosen = np.sort(chosen)
    sheet = pd.DataFrame({"unit_key": keys[chosen]})
    for column in _SHEET_UNIT_COLUMNS:
        values = table[column].iloc[chosen] if column in table.columns else ""
        sheet[column] = np.asarray(values, dtype=object) if column in table.columns else values
    sheet["label"] = ""
    sheet["note"] = ""
    sheet.attrs = {"n_pool": int(pool.size), "stratify": stratify, "random_state": random_state}
    return sheet[list(SHEET_COLUMNS)]


def write_coding_sheet(
    sheet: pd.DataFrame,
    out: str | Path,
    *,
    name: str = "coding_sheet",
    codebook_table: pd.DataFrame | None = None,
) -> list[Path]:
    """Write a coding sheet as CSV and Excel, with the codebook beside it.

    Files (written together through :class:`policystudy._io.OutputSet`):
    ``<name>.csv`` (the sheet), ``<name>_codebook.csv`` and ``<name>.xlsx`` with
    two sheets, ``coding`` and ``codebook``.

    Parameters
    ----------
    sheet : pandas.DataFrame
        From :func:`validation_sample` (or :func:`word_intrusion` /
        :func:`topic_intrusion`: any table).
    out : str or Path
        Output folder (not inside the bundled corpus).
    name : str, default "coding_sheet"
        File name stem.
    codebook_table : pandas.DataFrame, optional
        Default: the shipped :func:`codebook`.

    Returns
    -------
    list of Path
        The files written.
    """
    book = codebook() if codebook_table is None else codebook_table
    csv_opts = {"index": False, "lineterminator": "\n"}
    with OutputSet(out, name=f"validation-{name}") as outputs:
        # UTF-8 with BOM so that Excel opens the CSV with the right encoding.
        outputs.write(f"{name}.csv", "\ufeff" + sheet.to_csv(**csv_opts))
        outputs.write(f"{name}_codebook.csv", "\ufeff" + book.to_csv(**csv_opts))

        excel = io.BytesIO()
        with pd.ExcelWriter(excel, engine="openpyxl") as writer:
            sheet.to_excel(writer, sheet_name="coding", index=False)
            book.to_excel(writer, sheet_name="codebook", index=False)
        # openpyxl stamps the time of saving: fixed, so that a rerun gives the same bytes.
        outputs.write(f"{name}.xlsx", _normalise_zip(excel.getvalue()))
    out = Path(out)
    return [out / f"{name}.csv", out / f"{name}_codebook.csv", out / f"{name}.xlsx"]


def read_coded(path: str | Path) -> pd.DataFrame:
    """Read a filled coding sheet (``.csv`` or ``.xlsx``: its first sheet)."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xls"):
        table = pd.read_excel(path, sheet_name=0, dtype=str)
    else:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    return table.fillna("")


def match_coded(units: pd.DataFrame, coded: pd.DataFrame) -> pd.DataFrame:
    """Find coded units in a units table by their keys.

    Parameters
    ----------
    units : pandas.DataFrame
        Current units (``doc_id``, ``text``; e.g. from :func:`split_units`,
        :func:`tokenize`, or a model's ``unit_topics_``).
    coded : pandas.DataFrame
        Coded units with ``unit_key`` and ``label`` (e.g. :func:`coded_sample`).

    Returns
    -------
    pandas.DataFrame
        One row per coded unit, in the coded table's order: the coded columns,
        then ``found`` (bool) and ``row`` (position in ``units``; -1 when not
        found) and the current ``unit_id`` as ``unit_id_now`` when ``units`` has
        one. ``attrs["n_missing"]`` counts the coded units not found.
    """
    if "unit_key" not in coded.columns:
        raise MissingColumnError("coded table needs a 'unit_key' column (see validation_sample)")
    position = {k: i for i, k in enumerate(_keys_of(units.reset_index(drop=True)))}
    rows = np.array([position.get(k, -1) for k in coded["unit_key"]], dtype=np.int64)
    out = coded.reset_index(drop=True).copy()
    out["found"] = rows >= 0
    out["row"] = rows
    if "unit_id" in units.columns:
        ids = units["unit_id"].to_numpy(dtype=object)
        out["unit_id_now"] = [ids[r] if r >= 0 else "" for r in rows]
    out.attrs = {"n_missing": int((rows < 0).sum())}
    return out


# --------------------------------------------------------------------------- agreement


def _pairs(a: Sequence[Any], b: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    a_arr = pd.Series(list(a), dtype=object)
    b_arr = pd.Series(list(b), dtype=object)
    if len(a_arr) != len(b_arr):
        raise ValueError(f"labelings differ in length: {len(a_arr)} and {len(b_arr)}")
    ok = (a_arr.notna() & b_arr.notna()).to_numpy()
    return a_arr[ok].astype(str).to_numpy(), b_arr[ok].astype(str).to_numpy()


def _contingency(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    la, ia = np.unique(a, return_inverse=True)
    lb, ib = np.unique(b, return_inverse=True)
    table = np.zeros((len(la), len(lb)), dtype=np.int64)
    np.add.at(table, (ia, ib), 1)
    return table, la, lb


def _one_to_one_map(a: np.ndarray, b: np.ndarray) -> dict[str, str]:
    table, la, lb = _contingency(a, b)
    rows, cols = linear_sum_assignment(table, maximize=True)
    return {str(la[r]): str(lb[c]) for r, c in zip(rows, cols, strict=True)}


def one_to_one_accuracy(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Share of units whose label in ``a``, mapped one-to-one to ``b``, equals ``b``.

    The mapping maximises the number of agreeing units (Hungarian algorithm,
    :func:`scipy.optimize.linear_sum_assignment`); labels of the larger labeling
    left without a partner count as wrong.
    """
    a, b = _pairs(a, b)
    if a.size == 0:
        return float("nan")
    mapping = _one_to_one_map(a, b)
    return float(np.mean([mapping.get(x) == y for x, y in zip(a, b, strict=True)]))


def many_to_one_accuracy(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Share of units correct when each label of ``a`` is mapped to its majority label in ``b``.

    Not symmetric: more labels in ``a`` can only raise it (each unit its own label
    scores 1), so read it beside the number of labels.
    """
    a, b = _pairs(a, b)
    if a.size == 0:
        return float("nan")
    table, _, _ = _contingency(a, b)
    return float(table.max(axis=1).sum() / a.size)


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    mapping = _one_to_one_map(a, b)
    mapped = np.array([mapping.get(x, _UNMATCHED) for x in a], dtype=object)
    if len(set(mapped) | set(b)) < 2:
        return 1.0 if np.array_equal(mapped, b) else 0.0
    return float(cohen_kappa_score(mapped.astype(str), b.astype(str)))


def _scores(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    table, _, _ = _contingency(a, b)
    mapping = _one_to_one_map(a, b)
    return {
        "one_to_one": float(np.mean([mapping.get(x) == y for x, y in zip(a, b, strict=True)])),
        "many_to_one": float(table.max(axis=1).sum() / a.size),
        "kappa": _kappa(a, b),
        "ami": float(adjusted_mutual_info_score(b, a)),
        "nmi": float(normalized_mutual_info_score(b, a)),
    }


def agreement(
    a: Sequence[Any],
    b: Sequence[Any],
    *,
    docs: Sequence[Any] | None = None,
    name: str = "a",
) -> pd.DataFrame:
    """Agreement between two labelings of the same units, beside the document baseline.

    Parameters
    ----------
    a : sequence
        The labeling under test (dominant topics, dictionary codes, …); its labels
        need not share names with ``b``.
    b : sequence
        The reference labeling (e.g. hand codes), same length and unit order.
    docs : sequence, optional
        Document id of each unit. When given, a second row scores the labeling
        that knows only each unit's document (``"doc_only"``): what a topic model
        must beat to show it sees more than which document a unit comes from.
    name : str, default "a"
        Name of ``a`` in the ``labeling`` column.

    Returns
    -------
    pandas.DataFrame
        One row per labeling: ``labeling``, ``one_to_one`` (accuracy after the
        best one-to-one mapping of labels, Hungarian), ``many_to_one`` (accuracy
        when each label of ``a`` takes its majority label of ``b``), ``kappa``
        (Cohen's kappa of ``a`` mapped one-to-one onto ``b``; unmapped labels stay
        wrong), ``ami`` and ``nmi`` (adjusted and normalised mutual information,
        scikit-learn, arithmetic normalisation), ``n_units`` (pairs with both
        labels present), ``n_labels`` (distinct labels of the row's labeling),
        ``n_labels_ref``.

    Notes
    -----
    Units with a missing label on either side are left out. AMI is 0 in
    expectation for random labels and 1 for identical partitions; NMI and the
    accuracies are not corrected for chance (many labels raise them).
    """
    rows = [(name, a)]
    if docs is not None:
        rows.append(("doc_only", docs))
    out = []
    for label, values in rows:
        x, y = _pairs(values, b)
        if x.size == 0:
            raise ValueError("agreement: no unit has both labels")
        out.append(
            {
                "labeling": label,
                **_scores(x, y),
                "n_units": int(x.size),
                "n_labels": int(len(set(x))),
                "n_labels_ref": int(len(set(y))),
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------- intrusion


def _check_model(model: Any) -> None:
    for attr in ("components_", "vocabulary_", "doc_topic_", "k"):
        if not hasattr(model, attr):
            raise TypeError(f"expected a fitted TopicModel, got {type(model).__name__}")


def word_intrusion(
    model: Any,
    *,
    n_words: int = 5,
    n_top: int = 10,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Word-intrusion items for a fitted topic model (Chang et al. 2009).

    For each topic, ``n_words - 1`` words are drawn from its ``n_top`` top terms
    and one intruder is added: a term that is among the top terms of another
    topic but in the bottom half of this topic's weights. The words are shuffled;
    the coder marks the word that does not belong.

    Parameters
    ----------
    model : TopicModel
    n_words : int, default 5
        Words per item (the intruder included).
    n_top : int, default 10
        Size of the top-term lists the words and intruders come from.
    random_state : int, default 0

    Returns
    -------
    sheet : pandas.DataFrame
        For the coder: ``item``, ``word_1`` … ``word_<n_words>``, empty
        ``answer``. Items are in random order and carry no topic number.
    key : pandas.DataFrame
        Kept from the coder: ``item``, ``topic``, ``label``, ``intruder``,
        ``intruder_position`` (1-based), ``intruder_topic``.
    """
    _check_model(model)
    if n_words < 3 or n_top < n_words - 1:
        raise ValueError("need n_words >= 3 and n_top >= n_words - 1")
    rng = np.random.default_rng(random_state)
    comp = np.asarray(model.components_, dtype=np.float64)
    vocab = np.asarray(model.vocabulary_)
    k = comp.shape[0]
    order = np.argsort(-comp, axis=1, kind="stable")
    top = order[:, :n_top]
    ranks = np.argsort(order, axis=1)  # rank of every term in every topic
    items = rng.permutation(k)
    sheet_rows, key_rows = [], []
    for item, t in enumerate(items, start=1):
        words = list(rng.choice(top[t], size=n_words - 1, replace=False))
        others = [o for o in range(k) if o != t]
        candidates = [
            (o, j)
            for o in others
            for j in top[o]
            if ranks[t, j] >= comp.shape[1] // 2 and j not in top[t]
        ]
        if not candidates:  # tiny vocabularies: any other topic's top term not in t's
            candidates = [(o, j) for o in others for j in top[o] if j not in top[t]]
        if not candidates:
            raise ValueError(f"topic {t}: no term can serve as intruder")
        o, intruder = candidates[int(rng.integers(len(candidates)))]
        position = int(rng.integers(n_words))
        words.insert(position, intruder)
        sheet_rows.append(
            {"item": item, **{f"word_{i + 1}": vocab[j] for i, j in enumerate(words)}, "answer": ""}
        )
        labels = getattr(model, "labels_", pd.Series(dtype=object))
        key_rows.append(
            {
                "item": item,
                "topic": int(t),
                "label": str(labels.get(int(t), "")),
                "intruder": vocab[intruder],
                "intruder_position": position + 1,
                "intruder_topic": int(o),
            }
        )
    return pd.DataFrame(sheet_rows), pd.DataFrame(key_rows)


def score_word_intrusion(sheet: pd.DataFrame, key: pd.DataFrame) -> pd.DataFrame:
    """Model precision per topic from filled word-intrusion sheets.

    Parameters
    ----------
    sheet : pandas.DataFrame
        Filled sheet(s): ``item`` and ``answer`` (the word chosen, or its
        position 1 … n as a number); with several coders, stack their sheets and
        add a ``coder`` column. Empty answers are left out.
    key : pandas.DataFrame
        The key from :func:`word_intrusion`.

    Returns
    -------
    pandas.DataFrame
        One row per topic, by topic: ``topic``, ``label``, ``n_answers``,
        ``n_correct``, ``precision`` (share of answers naming the intruder,
        Chang et al.'s model precision; NaN without answers).
    """
    merged = sheet.merge(key, on="item", how="inner", validate="many_to_one")
    answers = merged["answer"].astype(str).str.strip()
    given = answers != ""
    position = pd.to_numeric(answers, errors="coerce")
    correct = (answers == merged["intruder"].astype(str)) | (
        position == merged["intruder_position"]
    )
    merged = merged.assign(_given=given, _correct=correct & given)
    rows = []
    for row in key.sort_values("topic").itertuples(index=False):
        part = merged[merged["topic"] == row.topic]
        n = int(part["_given"].sum())
        c = int(part["_correct"].sum())
        rows.append(
            {
                "topic": int(row.topic),
                "label": row.label,
                "n_answers": n,
                "n_correct": c,
                "precision": c / n if n else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def topic_intrusion(
    model: Any,
    units: pd.DataFrame | None = None,
    *,
    n_units: int = 20,
    n_options: int = 4,
    n_words: int = 8,
    random_state: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Topic-intrusion items: a unit's text with its top topics and one intruder.

    For each sampled unit, the ``n_options - 1`` topics with the largest shares
    in it and one intruder topic drawn from those with the smallest shares are
    shown (each as its ``n_words`` top terms), shuffled. The coder marks the
    topic that does not fit the text.

    Parameters
    ----------
    model : TopicModel
    units : pandas.DataFrame, optional
        Table with the units' ``text`` in the row order of the model's units
        (default: ``model.unit_topics_``, which carries the text).
    n_units : int, default 20
        Units to draw (among units with a topic).
    n_options : int, default 4
        Topics shown per unit (the intruder included); at most ``model.k``.
    n_words : int, default 8
        Top terms describing each topic.
    random_state : int, default 0

    Returns
    -------
    sheet : pandas.DataFrame
        ``item``, ``text``, ``option_1`` … ``option_<n_options>``, empty ``answer``.
    key : pandas.DataFrame
        ``item``, ``row`` (unit position in the model), ``unit_key``,
        ``intruder_position`` (1-based), ``topic_1`` … (the topic of each option)
        and ``theta_1`` … (the unit's share of each option's topic).
    """
    _check_model(model)
    table = model.unit_topics_ if units is None else units
    if len(table) != model.doc_topic_.shape[0]:
        raise ValueError("units must have one row per unit of the model, in its order")
    if not 3 <= n_options <= model.k:
        raise ValueError(f"n_options must be between 3 and k={model.k}")
    rng = np.random.default_rng(random_state)
    theta = np.asarray(model.doc_topic_, dtype=np.float64)
    eligible = np.flatnonzero(theta.sum(axis=1) > 0)
    rows_drawn = np.sort(rng.choice(eligible, size=min(n_units, eligible.size), replace=False))
    vocab = np.asarray(model.vocabulary_)
    top = np.argsort(-np.asarray(model.components_), axis=1, kind="stable")[:, :n_words]
    described = [" ".join(vocab[r]) for r in top]
    keys = _keys_of(table.reset_index(drop=True)) if "doc_id" in table.columns else None
    texts = table["text"].to_numpy(dtype=object)
    sheet_rows, key_rows = [], []
    n_low = max(1, model.k // 2)
    for item, r in enumerate(rng.permutation(rows_drawn), start=1):
        order = np.argsort(-theta[r], kind="stable")
        shown = list(order[: n_options - 1])
        intruder = int(rng.choice(order[-n_low:]))
        position = int(rng.integers(n_options))
        shown.insert(position, intruder)
        sheet_rows.append(
            {
                "item": item,
                "text": texts[r],
                **{f"option_{i + 1}": described[t] for i, t in enumerate(shown)},
                "answer": "",
            }
        )
        key_rows.append(
            {
                "item": item,
                "row": int(r),
                "unit_key": keys[r] if keys is not None else "",
                "intruder_position": position + 1,
                **{f"topic_{i + 1}": int(t) for i, t in enumerate(shown)},
                **{f"theta_{i + 1}": float(theta[r, t]) for i, t in enumerate(shown)},
            }
        )
    return pd.DataFrame(sheet_rows), pd.DataFrame(key_rows)


def score_topic_intrusion(sheet: pd.DataFrame, key: pd.DataFrame) -> pd.DataFrame:
    """Topic log odds per unit from filled topic-intrusion sheets (Chang et al. 2009).

    ``TLO = mean over answers of log theta(intruder) - log theta(chosen topic)``:
    0 when every coder finds the intruder, more negative the more the chosen
    topic matters to the unit by the model's account. Shares are floored at
    1e-6 before the logarithm (NMF gives exact zeros).

    Parameters
    ----------
    sheet : pandas.DataFrame
        Filled sheet(s): ``item`` and ``answer`` (option number 1 … n); stack the
        sheets of several coders (with a ``coder`` column).
    key : pandas.DataFrame
        The key from :func:`topic_intrusion`.

    Returns
    -------
    pandas.DataFrame
        One row per item: ``item``, ``row``, ``unit_key``, ``n_answers``,
        ``n_correct``, ``topic_log_odds`` (NaN without answers).
    """
    merged = sheet[["item", "answer"]].merge(key, on="item", how="inner", validate="many_to_one")
    chosen = pd.to_numeric(merged["answer"].astype(str).str.strip(), errors="coerce")
    n_options = sum(1 for c in key.columns if c.startswith("theta_"))
    rows = []
    for item, part in merged.assign(_chosen=chosen).groupby("item", sort=True):
        part = part[part["_chosen"].between(1, n_options)]
        first = key[key["item"] == item].iloc[0]
        log_intruder = np.log(max(first[f"theta_{int(first['intruder_position'])}"], _THETA_FLOOR))
        values = [
            log_intruder - np.log(max(first[f"theta_{int(c)}"], _THETA_FLOOR))
            for c in part["_chosen"]
        ]
        rows.append(
            {
                "item": int(item),
                "row": int(first["row"]),
                "unit_key": first["unit_key"],
                "n_answers": len(values),
                "n_correct": int((part["_chosen"] == first["intruder_position"]).sum()),
                "topic_log_odds": float(np.mean(values)) if values else float("nan"),
            }
        )
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- comparison


def _coded_labels(table: pd.DataFrame, coded: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Rows of ``table`` holding coded units and their codes."""
    matched = match_coded(table, coded)
    found = matched["found"].to_numpy()
    return matched["row"].to_numpy()[found], matched["label"].to_numpy(dtype=object)[found]


def compare_methods(
    tokens: pd.DataFrame | None = None,
    coded: pd.DataFrame | None = None,
    *,
    ks: Sequence[int] = (4, 6, 8, 10, 12, 14, 16),
    default_k: int = 8,
    seeded_ks: Sequence[int | None] = (None, 12),
    dictionary: Any = "default",
    random_state: int = 0,
    features_kwargs: dict[str, Any] | None = None,
) -> pd.DataFrame:
    """Agreement of topic models, seeded topics and dictionary codes with hand codes.

    Parameters
    ----------
    tokens : pandas.DataFrame, optional
        Tokenized units (default: the bundled corpus through ``split_units`` and
        ``tokenize`` with their defaults).
    coded : pandas.DataFrame, optional
        Hand codes with ``unit_key`` and ``label`` (default: :func:`coded_sample`).
    ks : sequence of int, default (4, 6, 8, 10, 12, 14, 16)
        Numbers of topics of the unsupervised NMF fits; the one with the highest
        NMI is reported as the k the validation prefers.
    default_k : int, default 8
        The package's default k (always reported).
    seeded_ks : sequence of int or None, default (None, 12)
        Values of ``k`` for seeded NMF (``None``: seeded topics plus the default
        number of free topics).
    dictionary : default "default"
        Dictionary for :func:`policystudy.agenda.lookup` and the seed words.
    random_state : int, default 0
    features_kwargs : dict, optional
        Passed to :func:`policystudy.build_features`.

    Returns
    -------
    pandas.DataFrame
        One row per method: ``method`` (``"nmf"``, ``"nmf (validation k)"``,
        ``"seeded_nmf"``, ``"dictionary"``, ``"section"`` (the documents' own
        top-level sections), ``"doc_only"``), ``k`` (number of labels the method
        used; NA for the baselines), ``kappa``, ``ami``, ``nmi``, ``one_to_one``,
        ``many_to_one``, ``n_units``. ``attrs["nmf_by_k"]`` holds the NMF rows
        for every k in ``ks``.
    """
    from policystudy.agenda import lookup
    from policystudy.features import build_features
    from policystudy.topics import fit_topics

    if tokens is None:
        from policystudy.load import load_corpus
        from policystudy.tokens import tokenize
        from policystudy.units import split_units

        tokens = tokenize(split_units(load_corpus()))
    coded = coded_sample() if coded is None else coded
    features = build_features(tokens, **(features_kwargs or {}))
    units = features.units
    rows_idx, codes = _coded_labels(units, coded)
    if rows_idx.size == 0:
        raise ValueError("compare_methods: no coded unit is among the features' units")
    docs = units["doc_id"].astype(str).to_numpy()[rows_idx]

    def score(method: str, labels: np.ndarray, k: Any) -> dict[str, Any]:
        table = agreement(labels, codes)
        return {"method": method, "k": k, **table.iloc[0].drop("labeling").to_dict()}

    nmf_rows = []
    for k in sorted(set(ks) | {default_k}):
        model = fit_topics(features, k=k, random_state=random_state, cache=False)
        labels = model.unit_topics_["topic"].to_numpy()[rows_idx]
        nmf_rows.append(score("nmf", labels, k))
    by_k = pd.DataFrame(nmf_rows)
    in_ks = by_k[by_k["k"].isin(list(ks))]
    best = in_ks.loc[in_ks["nmi"].idxmax()].to_dict()
    best["method"] = "nmf (validation k)"
    rows = [by_k[by_k["k"] == default_k].iloc[0].to_dict(), best]
    for k in seeded_ks:
        model = fit_topics(
            features, k=k, seed_words=dictionary, random_state=random_state, cache=False
        )
        labels = model.unit_topics_["topic"].to_numpy()[rows_idx]
        rows.append(score("seeded_nmf", labels, model.k))
    looked = lookup(tokens[tokens["unit_id"].isin(units["unit_id"])], dictionary)
    dict_rows, dict_codes = _coded_labels(looked, coded)
    dict_labels = looked["category"].to_numpy(dtype=object)[dict_rows]
    d = agreement(dict_labels, dict_codes).iloc[0].drop("labeling").to_dict()
    rows.append({"method": "dictionary", "k": len(looked.attrs["categories"]), **d})
    sections = (units["doc_id"].astype(str) + "|" + units["section_id"].astype(str)).to_numpy()
    rows.append(score("section", sections[rows_idx], pd.NA))
    rows.append(score("doc_only", docs, pd.NA))
    out = pd.DataFrame(rows)
    columns = ["method", "k", "kappa", "ami", "nmi", "one_to_one", "many_to_one", "n_units"]
    out = out[columns]
    value_cols = ["kappa", "ami", "nmi", "one_to_one", "many_to_one"]
    out[value_cols] = out[value_cols].astype(np.float64).round(4)
    out.attrs = {"nmf_by_k": by_k[columns].round(4).to_dict("records")}
    return out
