"""An interactive topic explorer: distance map, relevance-ranked terms, groups, examples.

The numbers are computed here, in the manner of LDAvis (Sievert & Shirley 2014),
from a fitted :class:`~policystudy.topics.TopicModel` and the
:class:`~policystudy.features.Features` it was fitted on:

* :func:`topic_term_distributions` -- each topic's row of ``components_``
  normalised to sum 1 (for NMF the loadings, for LDA the pseudo-counts: the
  result is p(w | t) either way);
* :func:`topic_prevalence` -- each topic's share of the total unit-topic weight
  (every unit counts once, as in :func:`policystudy.compare.prevalence`);
* :func:`term_frequencies` -- term counts over all units;
* :func:`topic_map` -- Jensen-Shannon distances between the topic-term
  distributions, scaled to two dimensions by classical multidimensional
  scaling (principal coordinates, as pyLDAvis's ``jsPCA``);
* :func:`relevance` -- ``lam * log p(w|t) + (1 - lam) * log(p(w|t) / p(w))``
  with p(w) the term's share of all tokens;
* :func:`topic_groups` -- prevalence per group with intervals
  (:func:`policystudy.compare.prevalence`), and :func:`topic_examples`.

:func:`explorer_html` draws them as one self-contained page with plotly:
plotly.js and a subset of the bundled Noto Sans SC (as a base64 WOFF
``@font-face``) are inlined, so the page works offline and shows Chinese on a
machine without CJK fonts. The same inputs give the same bytes: element ids are
fixed, numbers are rounded, and every JSON object the page carries has sorted
keys. :func:`policystudy.plot_topic_map.topic_map_figure` is the static
(matplotlib) counterpart for notebooks.

This module imports plotly and fontTools only when a page is drawn.
"""

from __future__ import annotations

import base64
import functools
import html
import io
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial.distance import jensenshannon

from policystudy._io import atomic_write
from policystudy._validation import MissingColumnError

__all__ = [
    "EXPLORER_DIV_ID",
    "LAMBDA_GRID",
    "explorer_html",
    "jensen_shannon_distances",
    "pcoa",
    "relevance",
    "term_frequencies",
    "topic_examples",
    "topic_groups",
    "topic_map",
    "topic_prevalence",
    "topic_term_distributions",
    "write_explorer",
]

#: Values of the relevance weight the page precomputes (its slider's steps).
LAMBDA_GRID: tuple[float, ...] = tuple(round(i / 10, 1) for i in range(11))

#: Id of the page's plotly figure; the other element ids derive from it.
EXPLORER_DIV_ID = "policystudy-explorer"

# CSS family name of the embedded subset: distinct from any installed
# "Noto Sans SC", so the page always uses the subset it carries.
_CSS_FAMILY = "policystudy Noto Sans SC"


def _family(div_id: str) -> str:
    """CSS family of one explorer's font subset: two explorers in a page keep their own."""
    return _CSS_FAMILY if div_id == EXPLORER_DIV_ID else f"{_CSS_FAMILY} {div_id}"


def _font_stack(family: str) -> str:
    return f"'{family}', 'Noto Sans SC', sans-serif"


# Coordinates and shares are written with this many significant digits: enough
# for any display, and last-bit differences between BLAS builds do not show.
_DIGITS = 6
_SELECTED = "#d62728"
_UNSELECTED = "#1f77b4"


# --------------------------------------------------------------------------- data


def _check(model: Any, features: Any | None = None) -> None:
    for attr in ("components_", "doc_topic_", "vocabulary_", "labels_", "unit_topics_"):
        if not hasattr(model, attr):
            raise TypeError(
                f"expected a fitted TopicModel (from fit_topics) with .{attr}; "
                f"got {type(model).__name__}"
            )
    if features is None:
        return
    for attr in ("counts", "vocabulary", "units"):
        if not hasattr(features, attr):
            raise TypeError(
                f"expected a Features object (from build_features) with .{attr}; "
                f"got {type(features).__name__}"
            )
    vocabulary = np.asarray(features.vocabulary)
    if vocabulary.shape != np.asarray(model.vocabulary_).shape or not np.array_equal(
        vocabulary, np.asarray(model.vocabulary_)
    ):
        raise ValueError(
            "the model was not fitted on these features: their vocabularies differ "
            f"({len(model.vocabulary_)} and {len(vocabulary)} terms)"
        )


def topic_term_distributions(model: Any) -> np.ndarray:
    """p(w | t): the model's components with every row normalised to sum 1.

    Parameters
    ----------
    model : TopicModel
        A fitted model (NMF or LDA).

    Returns
    -------
    numpy.ndarray, shape (k, n_terms)
        Non-negative rows summing to 1. A topic whose component row is all
        zero (possible for NMF) gets the uniform distribution, so that its
        distances stay defined.
    """
    _check(model)
    components = np.clip(np.asarray(model.components_, dtype=float), 0.0, None)
    totals = components.sum(axis=1, keepdims=True)
    uniform = np.full_like(components, 1.0 / components.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, components / totals, uniform)


def topic_prevalence(model: Any) -> np.ndarray:
    """Each topic's share of the total unit-topic weight.

    Every unit's topic shares (``doc_topic_``) sum to 1, so this is the mean
    share over units: each unit counts once, whatever its length, as in
    :func:`policystudy.compare.prevalence`. Units without any topic weight
    add nothing.

    Returns
    -------
    numpy.ndarray, shape (k,)
        Sums to 1 (uniform when no unit has topic weight).
    """
    _check(model)
    weights = np.asarray(model.doc_topic_, dtype=float).sum(axis=0)
    total = weights.sum()
    if total <= 0:
        return np.full(len(weights), 1.0 / len(weights))
    return weights / total


def term_frequencies(features: Any) -> np.ndarray:
    """Count of every vocabulary term over all units (``features.counts`` column sums).

    Returns
    -------
    numpy.ndarray of int64, shape (n_terms,)
    """
    counts = features.counts
    return np.asarray(counts.sum(axis=0), dtype=np.int64).ravel()


def jensen_shannon_distances(distributions: np.ndarray) -> np.ndarray:
    """Pairwise Jensen-Shannon distances (base 2, so in [0, 1]) between rows.

    The distance is the square root of the Jensen-Shannon divergence
    (:func:`scipy.spatial.distance.jensenshannon`), a metric.

    Parameters
    ----------
    distributions : array, shape (k, n)
        Probability distributions, one per row.

    Returns
    -------
    numpy.ndarray, shape (k, k)
        Symmetric, zero on the diagonal.
    """
    p = np.asarray(distributions, dtype=float)
    if p.ndim != 2:
        raise ValueError(f"distributions must be a 2-D array, got shape {p.shape}")
    k = p.shape[0]
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = float(jensenshannon(p[i], p[j], base=2))
    return out


def pcoa(distances: np.ndarray, n_components: int = 2) -> np.ndarray:
    """Classical multidimensional scaling (principal coordinates) of a distance matrix.

    Double-centres the squared distances, ``B = -1/2 J D^2 J``, and returns the
    eigenvectors of the ``n_components`` largest eigenvalues scaled by their
    square roots (negative eigenvalues count as 0). When the distances are
    Euclidean in ``n_components`` dimensions the coordinates reproduce them.

    Eigenvectors have no sign of their own; each axis is flipped so that its
    coordinate of largest magnitude is positive (the first such point on a
    tie), so the same distances always give the same picture.

    Parameters
    ----------
    distances : array, shape (k, k)
        Symmetric distance matrix.
    n_components : int, default 2

    Returns
    -------
    numpy.ndarray, shape (k, n_components)
        Centred coordinates (zero columns where fewer dimensions exist).
    """
    d = np.asarray(distances, dtype=float)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square matrix, got shape {d.shape}")
    if not np.allclose(d, d.T):
        raise ValueError("distances must be symmetric")
    k = d.shape[0]
    centring = np.eye(k) - np.full((k, k), 1.0 / k)
    b = -0.5 * centring @ (d**2) @ centring
    b = (b + b.T) / 2  # exact symmetry for eigh
    values, vectors = np.linalg.eigh(b)
    order = np.argsort(-values, kind="stable")[:n_components]
    coords = np.zeros((k, n_components))
    for axis, index in enumerate(order):
        value = max(float(values[index]), 0.0)
        vector = vectors[:, index]
        # Round before choosing the sign so that last-bit noise cannot flip it.
        rounded = np.round(vector, 9)
        if rounded[int(np.argmax(np.abs(rounded)))] < 0:
            vector = -vector
        coords[:, axis] = vector * np.sqrt(value)
    return coords


def _round(values: np.ndarray | float) -> np.ndarray:
    """Round to _DIGITS significant digits (0 stays 0)."""
    a = np.asarray(values, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        magnitude = np.where(a == 0, 0, np.floor(np.log10(np.abs(np.where(a == 0, 1, a)))))
    scale = 10.0 ** (_DIGITS - 1 - magnitude)
    return np.where(np.isfinite(a), np.round(a * scale) / scale, a)


def topic_map(model: Any, features: Any) -> pd.DataFrame:
    """The inter-topic distance map: topics placed by Jensen-Shannon distance.

    Parameters
    ----------
    model : TopicModel
    features : Features
        The features the model was fitted on (checked: same vocabulary).

    Returns
    -------
    pandas.DataFrame
        One row per topic: ``topic``, ``x``, ``y`` (principal coordinates of
        the Jensen-Shannon distances between p(w | t), :func:`pcoa`),
        ``prevalence`` (:func:`topic_prevalence`), ``label``. Values are
        rounded to 6 significant digits.
    """
    _check(model, features)
    coords = pcoa(jensen_shannon_distances(topic_term_distributions(model)), 2)
    k = coords.shape[0]
    return pd.DataFrame(
        {
            "topic": np.arange(k),
            "x": _round(coords[:, 0]),
            "y": _round(coords[:, 1]),
            "prevalence": _round(topic_prevalence(model)),
            "label": [str(v) for v in model.labels_.to_numpy()],
        }
    )


def _relevance_parts(model: Any, features: Any) -> dict[str, np.ndarray]:
    phi = topic_term_distributions(model)
    freq = term_frequencies(features)
    total = freq.sum()
    p_term = freq / total if total > 0 else np.full(len(freq), 1.0 / len(freq))
    prevalence = topic_prevalence(model)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_phi = np.log(phi)
        log_lift = log_phi - np.log(p_term)[None, :]
        # p(t | w) by Bayes' rule with the topics' prevalence as prior: the
        # share of each term's count the topic accounts for (LDAvis's red bar).
        joint = phi * prevalence[:, None]
        column = joint.sum(axis=0, keepdims=True)
        p_topic_term = np.where(column > 0, joint / column, 0.0)
    usable = (phi > 0) & (p_term > 0)[None, :]
    return {
        "phi": phi,
        "freq": freq,
        "log_phi": log_phi,
        "log_lift": log_lift,
        "usable": usable,
        "freq_topic": freq[None, :] * p_topic_term,
    }


def _relevance_from(
    parts: Mapping[str, np.ndarray], vocabulary: np.ndarray, lam: float, n: int
) -> pd.DataFrame:
    usable = parts["usable"]
    score = np.full(usable.shape, -np.inf)
    # Only where p(w|t) > 0: 0 * log(0) would otherwise give NaN at lam = 0 or 1.
    score[usable] = lam * parts["log_phi"][usable] + (1 - lam) * parts["log_lift"][usable]
    rows = []
    for t in range(score.shape[0]):
        order = np.argsort(-score[t], kind="stable")
        order = order[np.isfinite(score[t, order])][:n]
        rows.append(
            pd.DataFrame(
                {
                    "topic": t,
                    "term": vocabulary[order],
                    "rank": np.arange(1, len(order) + 1),
                    "relevance": score[t, order],
                    "p_term_topic": parts["phi"][t, order],
                    "lift": np.exp(parts["log_lift"][t, order]),
                    "term_freq": parts["freq"][order],
                    "term_freq_topic": parts["freq_topic"][t, order],
                }
            )
        )
    out = pd.concat(rows, ignore_index=True)
    out["topic"] = out["topic"].astype(np.int64)
    out["rank"] = out["rank"].astype(np.int64)
    out["term"] = out["term"].astype(str)
    return out


def _check_lam(lam: float) -> float:
    if isinstance(lam, bool) or not isinstance(lam, (int, float, np.floating)):
        raise TypeError(f"lam must be a number in [0, 1], got {lam!r}")
    if not 0.0 <= float(lam) <= 1.0:
        raise ValueError(f"lam must be in [0, 1], got {lam!r}")
    return float(lam)


def _check_n(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be a positive int, got {n!r}")
    return int(n)


def relevance(model: Any, features: Any, *, lam: float = 0.6, n: int = 30) -> pd.DataFrame:
    """Top terms of every topic ranked by relevance (Sievert & Shirley 2014).

    ``relevance(w | t) = lam * log p(w|t) + (1 - lam) * log(p(w|t) / p(w))``,
    where p(w) is the term's share of all tokens (:func:`term_frequencies`).
    ``lam = 1`` ranks by probability within the topic (frequent terms shared by
    many topics come first); ``lam = 0`` by lift (terms specific to the topic,
    often rare). Sievert & Shirley found ``lam = 0.6`` to work best for
    interpretation.

    Parameters
    ----------
    model : TopicModel
    features : Features
        The features the model was fitted on.
    lam : float, default 0.6
        Weight of log p(w|t), in [0, 1].
    n : int, default 30
        Terms per topic. Terms with p(w|t) = 0 are never listed.

    Returns
    -------
    pandas.DataFrame
        Sorted by ``topic`` then ``rank``: ``topic``, ``term``, ``rank``
        (1 = most relevant; ties by term order), ``relevance``,
        ``p_term_topic`` (p(w|t)), ``lift`` (p(w|t) / p(w)), ``term_freq``
        (count in the corpus) and ``term_freq_topic`` (the part of that count
        the topic accounts for: ``term_freq * p(t|w)``, with p(t|w) from
        p(w|t) and the topics' prevalence).
    """
    _check(model, features)
    lam = _check_lam(lam)
    n = _check_n(n)
    parts = _relevance_parts(model, features)
    return _relevance_from(parts, np.asarray(features.vocabulary).astype(str), lam, n)


def topic_groups(
    model: Any,
    by: str = "city",
    *,
    n_boot: int = 1000,
    level: float = 0.95,
    random_state: Any = 0,
) -> pd.DataFrame:
    """Prevalence of every topic per group of ``by``, with bootstrap intervals.

    A thin call of :func:`policystudy.compare.prevalence` (see there for the
    columns and what each kind of interval measures), so that the explorer
    shows exactly the numbers of the report's prevalence tables.
    """
    from policystudy.compare import prevalence

    _check(model)
    return prevalence(model, by, n_boot=n_boot, level=level, random_state=random_state)


def _truncate(text: str, max_chars: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= max_chars else text[: max_chars - 1] + "…"


def topic_examples(model: Any, *, n: int = 3, max_chars: int = 160) -> pd.DataFrame:
    """The ``n`` units with the highest share of each topic, their text truncated.

    Parameters
    ----------
    model : TopicModel
    n : int, default 3
        Units per topic (fewer when fewer units carry the topic).
    max_chars : int, default 160
        Texts longer than this are cut and end in "…" (whitespace collapsed).

    Returns
    -------
    pandas.DataFrame
        ``topic``, ``rank``, ``doc_id``, ``unit_id`` (when the units have
        them), ``weight`` (the unit's share of the topic), ``text``; ties in
        weight by unit order.
    """
    _check(model)
    n = _check_n(n)
    max_chars = _check_n(max_chars, "max_chars")
    shares = np.asarray(model.doc_topic_, dtype=float)
    ut = model.unit_topics_.reset_index(drop=True)
    texts = ut["text"].astype(str).to_numpy() if "text" in ut.columns else None
    rows = []
    for t in range(shares.shape[1]):
        order = np.argsort(-shares[:, t], kind="stable")
        order = order[shares[order, t] > 0][:n]
        for rank, i in enumerate(order, start=1):
            row: dict[str, Any] = {"topic": t, "rank": rank}
            for column in ("doc_id", "unit_id"):
                if column in ut.columns:
                    row[column] = str(ut[column].iat[i])
            row["weight"] = float(shares[i, t])
            row["text"] = "" if texts is None else _truncate(texts[i], max_chars)
            rows.append(row)
    columns = ["topic", "rank", *[c for c in ("doc_id", "unit_id") if c in ut.columns]]
    return pd.DataFrame(rows, columns=[*columns, "weight", "text"])


# --------------------------------------------------------------------------- font


def _strings(value: Any) -> Iterable[str]:
    """Every str inside nested dicts, lists and tuples (keys included)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


@functools.lru_cache(maxsize=8)
def _font_subset(chars: str, path: str) -> bytes:
    """WOFF (zlib) of the font at ``path`` reduced to ``chars``; same input, same bytes.

    WOFF rather than WOFF2: WOFF2 needs brotli, WOFF only zlib, and every
    current browser reads both. The font's own timestamps are kept
    (``recalcTimestamp=False``), so the bytes do not depend on the date.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.hinting = False  # outlines only: hinting adds size and matters little on screens
    options.notdef_outline = True
    font = TTFont(path, recalcTimestamp=False, lazy=False)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=sorted({ord(c) for c in chars}))
    subsetter.subset(font)
    buffer = io.BytesIO()
    subset.save_font(font, buffer, options)
    return buffer.getvalue()


def _font_face(chars: Iterable[str], font: str | os.PathLike[str] | None, family: str) -> str:
    from policystudy.plots import FONT_PATH

    path = str(FONT_PATH if font is None else Path(font))
    # Printable ASCII always, so numbers and Latin labels use the same face.
    used = set(map(chr, range(0x20, 0x7F))) | {c for s in chars for c in s}
    used = {c for c in used if c.isprintable()}
    data = base64.b64encode(_font_subset("".join(sorted(used)), path)).decode("ascii")
    return (
        f"@font-face{{font-family:'{family}';font-style:normal;font-weight:400;"
        f'src:url(data:font/woff;base64,{data}) format("woff");}}'
    )


# --------------------------------------------------------------------------- page


def _sorted_json(value: Any) -> Any:
    """A copy with every mapping's keys sorted (plotly keeps insertion order)."""
    if isinstance(value, Mapping):
        return {key: _sorted_json(value[key]) for key in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_sorted_json(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _script_json(value: Any) -> str:
    """JSON safe inside a ``<script>`` element: sorted keys, no ``<``, ``>`` or ``&``."""
    text = json.dumps(
        _sorted_json(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
        allow_nan=False,
    )  # fmt: skip
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _plain(values: Iterable[Any]) -> list[Any]:
    """Floats rounded, non-finite values as null (JSON has no NaN)."""
    out: list[Any] = []
    for v in values:
        if isinstance(v, (float, np.floating)):
            out.append(float(_round(float(v))) if np.isfinite(v) else None)
        elif isinstance(v, np.integer):
            out.append(int(v))
        else:
            out.append(v)
    return out


def _topic_name(topic: int, label: str) -> str:
    return f"T{topic} {label}".strip()


def _lambda_grid(lam: float) -> list[float]:
    return sorted({*LAMBDA_GRID, round(lam, 6)})


def _explorer_data(
    model: Any,
    features: Any,
    *,
    by: str | None,
    examples: int,
    lam: float,
    n_terms: int,
    max_chars: int,
    n_boot: int,
    random_state: Any,
) -> dict[str, Any]:
    """Everything the page shows, as plain JSON-ready values."""
    tmap = topic_map(model, features)
    parts = _relevance_parts(model, features)
    vocabulary = np.asarray(features.vocabulary).astype(str)
    lams = _lambda_grid(lam)
    k = len(tmap)
    topics: list[dict[str, Any]] = [
        {"name": _topic_name(t, tmap["label"].iat[t]), "relevance": []} for t in range(k)
    ]
    for value in lams:
        table = _relevance_from(parts, vocabulary, value, n_terms)
        for t, rows in table.groupby("topic", sort=True):
            topics[int(t)]["relevance"].append(
                {
                    "terms": rows["term"].tolist(),
                    "relevance": _plain(rows["relevance"]),
                    "p_term_topic": _plain(rows["p_term_topic"]),
                    "lift": _plain(rows["lift"]),
                    "term_freq": _plain(rows["term_freq"]),
                    "term_freq_topic": _plain(rows["term_freq_topic"]),
                }
            )
    ex = topic_examples(model, n=examples, max_chars=max_chars)
    for t in range(k):
        rows = ex[ex["topic"] == t]
        topics[t]["examples"] = [
            {
                "doc_id": str(r.get("doc_id", "")),
                "unit_id": str(r.get("unit_id", "")),
                "weight": float(_round(r["weight"])),
                "text": r["text"],
            }
            for r in rows.to_dict("records")
        ]
    groups: dict[str, Any] | None = None
    if by is not None:
        prev = topic_groups(model, by, n_boot=n_boot, random_state=random_state)
        names = [str(g) for g in dict.fromkeys(prev[by].tolist())]
        groups = {"by": by, "names": names}
        for t in range(k):
            rows = prev[prev["topic"] == t]
            topics[t]["groups"] = {
                "share": _plain(rows["share"]),
                "ci_low": _plain(rows["ci_low"]),
                "ci_high": _plain(rows["ci_high"]),
                "n_docs": _plain(rows["n_docs"]),
                "interval": rows["interval"].astype(str).tolist(),
            }
    return {
        "topics": topics,
        "map": {
            "x": _plain(tmap["x"]),
            "y": _plain(tmap["y"]),
            "prevalence": _plain(tmap["prevalence"]),
        },
        "lambdas": lams,
        "groups": groups,
    }


def _bars(rel: Mapping[str, Any]) -> dict[str, Any]:
    return {"y": rel["terms"], "overall": rel["term_freq"], "topic": rel["term_freq_topic"]}


def _error(share: list, low: list, high: list) -> tuple[list, list]:
    up = [
        None if s is None or h is None else float(_round(h - s))
        for s, h in zip(share, high, strict=True)
    ]
    down = [
        None if s is None or lo is None else float(_round(s - lo))
        for s, lo in zip(share, low, strict=True)
    ]
    return up, down


def _figure(data: Mapping[str, Any], *, topic: int, lam_index: int, font_family: str) -> Any:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    topics = data["topics"]
    k = len(topics)
    with_groups = data["groups"] is not None
    n_terms = max(len(t["relevance"][lam_index]["terms"]) for t in topics)
    if with_groups:
        fig = make_subplots(
            rows=2, cols=2, column_widths=[0.48, 0.52], row_heights=[0.62, 0.38],
            specs=[[{"rowspan": 2}, {}], [None, {}]],
            horizontal_spacing=0.16, vertical_spacing=0.1,
        )  # fmt: skip
    else:
        fig = make_subplots(rows=1, cols=2, column_widths=[0.48, 0.52], horizontal_spacing=0.16)
    # Trace 0: the map. Bubble areas proportional to prevalence.
    prevalence = data["map"]["prevalence"]
    largest = max(prevalence) or 1.0
    names = [t["name"] for t in topics]
    fig.add_trace(
        go.Scatter(
            x=data["map"]["x"], y=data["map"]["y"], mode="markers+text",
            text=[f"T{t}" for t in range(k)], textposition="middle center",
            textfont={"color": "white", "size": 12},
            customdata=[[n, p] for n, p in zip(names, prevalence, strict=True)],
            hovertemplate="%{customdata[0]}<br>prevalence %{customdata[1]:.1%}<extra></extra>",
            marker={
                "size": prevalence, "sizemode": "area",
                "sizeref": 2.0 * largest / 70.0**2, "sizemin": 8,
                "color": [_SELECTED if t == topic else _UNSELECTED for t in range(k)],
                "opacity": 0.75, "line": {"color": "white", "width": 1},
            },
            name="topics", showlegend=False,
        ),
        row=1, col=1,
    )  # fmt: skip
    bars = _bars(topics[topic]["relevance"][lam_index])
    # Traces 1 and 2: the grey bar (count in the corpus) behind the red one
    # (the part the topic accounts for), as in LDAvis.
    fig.add_trace(
        go.Bar(
            x=bars["overall"], y=bars["y"], orientation="h", marker={"color": "#c7c7c7"},
            name="term count in the corpus", hovertemplate="%{y}: %{x:.0f}<extra>corpus</extra>",
        ),
        row=1, col=2,
    )  # fmt: skip
    fig.add_trace(
        go.Bar(
            x=bars["topic"], y=bars["y"], orientation="h", marker={"color": _SELECTED},
            name="estimated count in the topic",
            hovertemplate="%{y}: %{x:.1f}<extra>topic</extra>",
        ),
        row=1, col=2,
    )  # fmt: skip
    if with_groups:
        g = topics[topic]["groups"]
        up, down = _error(g["share"], g["ci_low"], g["ci_high"])
        fig.add_trace(
            go.Bar(
                x=data["groups"]["names"], y=g["share"], marker={"color": _SELECTED},
                error_y={"type": "data", "array": up, "arrayminus": down, "color": "#444"},
                name="share in the group (bootstrap interval)",
                hovertemplate="%{x}: %{y:.1%}<extra></extra>", showlegend=False,
            ),
            row=2, col=2,
        )  # fmt: skip
        fig.add_trace(
            go.Scatter(
                x=data["groups"]["names"], y=[prevalence[topic]] * len(data["groups"]["names"]),
                mode="lines", line={"color": "#444", "dash": "dot", "width": 1},
                name="share in the whole corpus", hoverinfo="skip", showlegend=False,
            ),
            row=2, col=2,
        )  # fmt: skip
        fig.update_yaxes(title_text="share of units' topic weight", tickformat=".0%", row=2, col=2)
        fig.update_xaxes(title_text=data["groups"]["by"], row=2, col=2)
    fig.update_xaxes(title_text="PC1", zeroline=True, row=1, col=1)
    fig.update_yaxes(title_text="PC2", zeroline=True, scaleanchor="x", row=1, col=1)
    # Every term labelled (plotly would otherwise skip labels when crowded).
    fig.update_yaxes(autorange="reversed", dtick=1, tickfont={"size": 12}, row=1, col=2)
    fig.update_xaxes(title_text="term count", row=1, col=2)
    lams = data["lambdas"]
    fig.update_layout(
        template="plotly_white",
        height=max(760, 300 + 22 * n_terms + (320 if with_groups else 0)),
        font={"family": font_family, "size": 13},
        barmode="overlay",
        margin={"t": 150, "l": 60, "r": 30, "b": 60},
        legend={"orientation": "h", "x": 0.55, "y": 1.02, "xanchor": "left", "yanchor": "bottom"},
        updatemenus=[
            {
                "type": "dropdown", "active": topic, "x": 0.0, "y": 1.17,
                "xanchor": "left", "yanchor": "top", "showactive": True,
                # "skip": the page's script redraws; plotly only reports the choice.
                "buttons": [{"label": n, "method": "skip", "args": [None]} for n in names],
            }
        ],
        sliders=[
            {
                "active": lam_index, "x": 0.55, "len": 0.45, "y": 1.2, "yanchor": "top",
                "currentvalue": {"prefix": "relevance λ = ", "visible": True},
                "pad": {"t": 0, "b": 0},
                "steps": [{"label": f"{v:g}", "method": "skip", "args": [None]} for v in lams],
            }
        ],
        annotations=[
            {
                "text": "Inter-topic distance map (Jensen–Shannon, PCoA; area ∝ prevalence)",
                "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.06,
                "xanchor": "left", "yanchor": "bottom", "showarrow": False,
            },
        ],
    )  # fmt: skip
    return fig


_SCRIPT = """
(function () {
  var gd = document.getElementById("%(div)s");
  var data = JSON.parse(document.getElementById("%(div)s-data").textContent);
  var state = {topic: %(topic)d, lam: %(lam)d};
  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) { el.className = cls; }
    return el;
  }
  function render() {
    var t = data.topics[state.topic];
    var r = t.relevance[state.lam];
    var colors = data.topics.map(function (_, i) {
      return i === state.topic ? "%(selected)s" : "%(unselected)s";
    });
    Plotly.restyle(gd, {"marker.color": [colors]}, [0]);
    Plotly.restyle(gd, {x: [r.term_freq, r.term_freq_topic], y: [r.terms, r.terms]}, [1, 2]);
    if (data.groups) {
      var g = t.groups, up = [], down = [];
      for (var i = 0; i < g.share.length; i++) {
        var s = g.share[i];
        up.push(s === null || g.ci_high[i] === null ? null : g.ci_high[i] - s);
        down.push(s === null || g.ci_low[i] === null ? null : s - g.ci_low[i]);
      }
      Plotly.restyle(gd, {y: [g.share], "error_y.array": [up], "error_y.arrayminus": [down]}, [3]);
      var overall = data.groups.names.map(function () {
        return data.map.prevalence[state.topic];
      });
      Plotly.restyle(gd, {y: [overall]}, [4]);
    }
    document.getElementById("%(div)s-selected").textContent = t.name;
    var list = document.getElementById("%(div)s-examples");
    while (list.firstChild) { list.removeChild(list.firstChild); }
    t.examples.forEach(function (e) {
      var li = document.createElement("li");
      li.appendChild(text("span", e.doc_id + " · " + e.unit_id + " · share " +
        (100 * e.weight).toFixed(1) + "%%", "meta"));
      li.appendChild(text("span", e.text, "text"));
      list.appendChild(li);
    });
  }
  function select(topic) {
    state.topic = topic;
    Plotly.relayout(gd, {"updatemenus[0].active": topic});
    render();
  }
  gd.on("plotly_buttonclicked", function (e) { state.topic = e.active; render(); });
  gd.on("plotly_sliderchange", function (e) { state.lam = e.slider.active; render(); });
  gd.on("plotly_click", function (e) {
    if (e.points.length && e.points[0].curveNumber === 0) { select(e.points[0].pointNumber); }
  });
  // Text was measured before the embedded font had loaded: draw again once it has.
  if (document.fonts && document.fonts.ready) {
    document.fonts.ready.then(function () { Plotly.Plots.resize(gd); });
  }
  window.policystudyExplorer = window.policystudyExplorer || {};
  window.policystudyExplorer["%(div)s"] = {
    select: select,
    setLambda: function (i) {
      state.lam = i;
      Plotly.relayout(gd, {"sliders[0].active": i});
      render();
    }
  };
})();
"""

_CSS = """
%(scope)s{font-family:%(stack)s;color:#222;max-width:1400px;}
%(scope)s h2{font-size:20px;font-weight:400;margin:8px 0;}
%(scope)s h3{font-size:16px;font-weight:400;margin:12px 0 4px;}
%(scope)s p.note{font-size:13px;color:#555;margin:4px 0 8px;}
%(scope)s ol{font-size:14px;line-height:1.6;padding-left:24px;}
%(scope)s li .meta{display:block;color:#777;font-size:12px;}
"""


def _page_body(
    data: Mapping[str, Any], figure_html: str, *, topic: int, title: str, div: str
) -> str:
    t = data["topics"][topic]
    items = "".join(
        '<li><span class="meta">{}</span><span class="text">{}</span></li>'.format(
            html.escape(f"{e['doc_id']} · {e['unit_id']} · share {100 * e['weight']:.1f}%"),
            html.escape(e["text"]),
        )
        for e in t["examples"]
    )
    note = (
        "Topics are placed by the Jensen–Shannon distance between their term "
        "distributions (principal coordinates); bubble area is the topic's share of "
        "all units' topic weight. Choose a topic in the menu or click a bubble. Terms "
        "are ranked by relevance: λ = 1 ranks by probability in the topic, λ = 0 by lift "
        "(probability in the topic over probability in the corpus)."
    )
    return (
        f'<div class="policystudy-explorer" id="{div}-page">'
        f"<h2>{html.escape(title)}</h2>"
        f'<p class="note">{html.escape(note)}</p>'
        f'<script type="application/json" id="{div}-data">{_script_json(data)}</script>'
        f"{figure_html}"
        f'<h3>Example units: <span id="{div}-selected">{html.escape(t["name"])}</span></h3>'
        f'<ol id="{div}-examples">{items}</ol>'
        "</div>"
    )


def explorer_html(
    model: Any,
    features: Any,
    *,
    by: str | None = None,
    examples: int = 3,
    lam: float = 0.6,
    n_terms: int = 30,
    max_chars: int = 160,
    title: str = "Topic explorer",
    full_html: bool = True,
    include_plotlyjs: bool = True,
    div_id: str = EXPLORER_DIV_ID,
    font: str | os.PathLike[str] | None = None,
    n_boot: int = 1000,
    random_state: Any = 0,
) -> str:
    """A self-contained interactive page exploring a topic model (plotly, offline).

    The page shows the inter-topic distance map (:func:`topic_map`; bubble
    area proportional to prevalence), a topic menu (a bubble can also be
    clicked), the selected topic's ``n_terms`` most relevant terms with a
    slider for λ over :data:`LAMBDA_GRID` (precomputed; no server), the
    topic's prevalence per group of ``by`` with bootstrap intervals
    (:func:`topic_groups`) and its ``examples`` highest-share units.

    plotly.js and a subset of the font (every character the page shows, as a
    base64 WOFF ``@font-face``) are inlined: nothing is loaded from the
    network, and Chinese renders without CJK system fonts. Identical inputs
    give identical bytes (fixed element ids, rounded numbers, sorted JSON
    keys, no timestamps).

    Parameters
    ----------
    model : TopicModel
    features : Features
        The features the model was fitted on.
    by : str, optional
        Column of ``model.unit_topics_`` to show prevalence by (e.g.
        ``"city"``); no group panel when None.
    examples : int, default 3
        Example units per topic.
    lam : float, default 0.6
        The slider's initial λ (added to the grid if not on it).
    n_terms : int, default 30
        Terms per topic in the bar chart.
    max_chars : int, default 160
        Length at which example texts are cut.
    title : str, default "Topic explorer"
    full_html : bool, default True
        A complete HTML document; False gives a ``<div>`` fragment (with its
        own ``<style>``) to embed in a report or a notebook output.
    include_plotlyjs : bool, default True
        Inline plotly.js (about 4.7 MB). False for a second explorer in a
        page that already carries it (with a distinct ``div_id``).
    div_id : str, default :data:`EXPLORER_DIV_ID`
        Id of the figure's element; other ids are derived from it. Use
        distinct ids for two explorers in one page.
    font : str or path-like, optional
        Font file to embed (default: the bundled Noto Sans SC).
    n_boot, random_state
        Passed to :func:`policystudy.compare.prevalence` for the group panel.

    Returns
    -------
    str
        The HTML.
    """
    import plotly.io as pio
    import plotly.io.json as pio_json
    from plotly.offline import get_plotlyjs

    _check(model, features)
    lam = _check_lam(lam)
    examples = _check_n(examples, "examples")
    n_terms = _check_n(n_terms, "n_terms")
    if by is not None and by not in model.unit_topics_.columns:
        raise MissingColumnError(
            f"by={by!r} is not a column of model.unit_topics_; "
            f"available columns: {sorted(map(str, model.unit_topics_.columns))}"
        )
    data = _explorer_data(
        model, features, by=by, examples=examples, lam=lam, n_terms=n_terms,
        max_chars=max_chars, n_boot=n_boot, random_state=random_state,
    )  # fmt: skip
    topic = 0
    lam_index = data["lambdas"].index(round(lam, 6))
    fig = _figure(data, topic=topic, lam_index=lam_index, font_family=_font_stack(_family(div_id)))
    figure = _sorted_json(fig.to_plotly_json())
    script = _SCRIPT % {
        "div": div_id, "topic": topic, "lam": lam_index,
        "selected": _SELECTED, "unselected": _UNSELECTED,
    }  # fmt: skip
    # The standard-library encoder, whatever engine is configured: orjson
    # writes some floats differently, which would change the bytes.
    engine = pio_json.config.default_engine
    pio_json.config.default_engine = "json"
    try:
        figure_html = pio.to_html(
            figure, include_plotlyjs=bool(include_plotlyjs), full_html=False, div_id=div_id,
            validate=False, post_script=script, default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )  # fmt: skip
    finally:
        pio_json.config.default_engine = engine
    body = _page_body(data, figure_html, topic=topic, title=title, div=div_id)
    # Every character the page can show: the figure's and the data's strings
    # (plotly writes them \u-escaped) and the page's own text, less plotly.js.
    library = get_plotlyjs()
    shown = [*_strings(figure), *_strings(data), body.replace(library, "")]
    family = _family(div_id)
    css = _CSS % {"stack": _font_stack(family), "scope": f"#{div_id}-page"}
    style = f"<style>{_font_face(shown, font, family)}{css}</style>"
    if not full_html:
        return f"{style}{body}"
    return (
        '<!DOCTYPE html>\n<html lang="zh-Hans">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n{style}\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def write_explorer(path: str | os.PathLike[str], model: Any, features: Any, **options: Any) -> Path:
    """Write :func:`explorer_html` to ``path`` (UTF-8, atomically); return the path.

    ``options`` are those of :func:`explorer_html`.
    """
    return atomic_write(path, explorer_html(model, features, **options))
