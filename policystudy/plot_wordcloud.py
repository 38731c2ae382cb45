"""Word clouds per topic and per group, drawn with the bundled Chinese font.

A word cloud shows the terms of one topic or group sized by weight. It is a
common figure in Chinese social science, and a poor instrument for comparing
numbers (sizes are read badly and placement is random): report the tables
(:func:`policystudy.explorer.relevance`, :func:`policystudy.compare.keyness`)
beside it.

The layout comes from the ``wordcloud`` package and is rendered as an image
into a matplotlib figure, so :func:`policystudy.plots.save_figure` writes it as
PNG, PDF or SVG like any other figure (the cloud itself is a raster picture;
titles are text in the embedded font). Word and layout order do not depend on
the order of the input, and a given ``random_state`` gives the same picture.
"""

from __future__ import annotations

import functools
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from policystudy.plots import FONT_PATH, _ensure_font, _shorten

__all__ = ["group_wordclouds", "topic_wordclouds", "wordcloud_figure", "wordcloud_image"]


@functools.lru_cache(maxsize=4)
def _cmap_of(path: str) -> frozenset[int]:
    """Code points the font file has glyphs for."""
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True, fontNumber=0) as font:
        return frozenset(font.getBestCmap() or {})


def _font_file(font: str | os.PathLike[str] | None) -> str:
    if font is None:
        return str(FONT_PATH)
    path = Path(font).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"font file not found: {str(path)!r}")
    return str(path)


def _weights(weights: Mapping[str, float] | pd.Series, max_words: int) -> dict[str, float]:
    """Positive finite weights, largest first, ties by term; at most ``max_words``."""
    if isinstance(weights, pd.Series):
        items = list(zip(weights.index.astype(str), weights.to_numpy(dtype=float), strict=True))
    elif isinstance(weights, Mapping):
        items = [(str(k), float(v)) for k, v in weights.items()]
    else:
        raise TypeError(
            f"weights must be a mapping of term -> weight or a pandas Series; "
            f"got {type(weights).__name__}"
        )
    kept = sorted(
        ((term, w) for term, w in items if term.strip() and math.isfinite(w) and w > 0),
        key=lambda item: (-item[1], item[0]),
    )
    if not kept:
        raise ValueError("weights has no positive finite weight: nothing to draw")
    return dict(kept[:max_words])


def _check_glyphs(terms: list[str], path: str) -> None:
    # PIL draws a missing glyph as an empty box without any warning: say so here.
    cmap = _cmap_of(path)
    missing = sorted({c for term in terms for c in term if not c.isspace() and ord(c) not in cmap})
    if missing:
        warnings.warn(
            f"the font {Path(path).name} has no glyph for {''.join(missing)!r}: "
            "those characters show as boxes in the word cloud",
            UserWarning,
            stacklevel=3,
        )


def wordcloud_image(
    weights: Mapping[str, float] | pd.Series,
    *,
    font: str | os.PathLike[str] | None = None,
    random_state: int = 0,
    max_words: int = 100,
    width: int = 800,
    height: int = 450,
    background_color: str = "white",
    colormap: str = "viridis",
    prefer_horizontal: float = 1.0,
) -> np.ndarray:
    """The word cloud of ``weights`` as an RGB array (height x width x 3, uint8).

    See :func:`wordcloud_figure` for the parameters.
    """
    from wordcloud import WordCloud

    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)):
        raise TypeError(f"random_state must be an int, got {random_state!r}")
    path = _font_file(font)
    freqs = _weights(weights, int(max_words))
    _check_glyphs(list(freqs), path)
    cloud = WordCloud(
        font_path=path,
        width=int(width),
        height=int(height),
        max_words=int(max_words),
        background_color=background_color,
        colormap=colormap,
        prefer_horizontal=float(prefer_horizontal),
        random_state=int(random_state),
        # Chinese terms are whole tokens already: no regexp, plurals or collocations.
        collocations=False,
        normalize_plurals=False,
        include_numbers=True,
    )
    cloud.generate_from_frequencies(freqs)
    return cloud.to_array()


def wordcloud_figure(
    weights: Mapping[str, float] | pd.Series,
    *,
    font: str | os.PathLike[str] | None = None,
    random_state: int = 0,
    max_words: int = 100,
    width: int = 800,
    height: int = 450,
    background_color: str = "white",
    colormap: str = "viridis",
    prefer_horizontal: float = 1.0,
    title: str | None = None,
    ax: plt.Axes | None = None,
) -> Figure:
    """A word cloud of terms sized by weight, in a matplotlib figure.

    Parameters
    ----------
    weights : mapping of str to float, or pandas.Series
        Term -> weight (any positive scale: counts, probabilities, TF-IDF).
        Terms with a missing, zero or negative weight are left out.
    font : str or path-like, optional
        Font file for the words (default: the bundled Noto Sans SC). A
        :class:`UserWarning` names characters the font has no glyph for.
    random_state : int, default 0
        Seed of the placement and colours: the same seed, the same picture.
    max_words : int, default 100
        The largest weights drawn.
    width, height : int
        Size of the cloud in pixels (the figure is ``width/100`` x
        ``height/100`` inches, so it saves at its own resolution at 100 dpi
        and sharper at higher ``dpi``).
    background_color, colormap : str
        Background colour and matplotlib colour map of the words.
    prefer_horizontal : float, default 1.0
        Share of words laid out horizontally (1.0: all; Chinese reads badly
        rotated).
    title : str, optional
        Axes title.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _ensure_font()
    image = wordcloud_image(
        weights, font=font, random_state=random_state, max_words=max_words,
        width=width, height=height, background_color=background_color,
        colormap=colormap, prefer_horizontal=prefer_horizontal,
    )  # fmt: skip
    if ax is None:
        fig, ax = plt.subplots(figsize=(width / 100, height / 100 + (0.4 if title else 0.0)))
        fig.subplots_adjust(left=0, right=1, bottom=0, top=0.9 if title else 1)
    else:
        fig = ax.figure
    ax.imshow(image, interpolation="bilinear")
    ax.set_axis_off()
    if title:
        ax.set_title(title, fontsize=11)
    return fig


def _grid(
    clouds: list[tuple[str, dict[str, float]]],
    *,
    ncols: int,
    font: str | os.PathLike[str] | None,
    random_state: int,
    width: int,
    height: int,
    options: Mapping[str, Any],
) -> Figure:
    _ensure_font()
    ncols = max(1, min(int(ncols), len(clouds)))
    nrows = math.ceil(len(clouds) / ncols)
    panel_w, panel_h = width / 100, height / 100 + 0.35
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(panel_w * ncols, panel_h * nrows), squeeze=False
    )
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.95, wspace=0.04, hspace=0.2)
    for i, ax in enumerate(axes.ravel()):
        if i >= len(clouds):
            ax.set_axis_off()
            continue
        title, weights = clouds[i]
        wordcloud_figure(
            weights, font=font, random_state=random_state, width=width, height=height,
            title=title, ax=ax, **options,
        )  # fmt: skip
    return fig


def topic_wordclouds(
    model: Any,
    n: int = 50,
    *,
    ncols: int = 3,
    font: str | os.PathLike[str] | None = None,
    random_state: int = 0,
    width: int = 500,
    height: int = 300,
    label_chars: int = 18,
    **options: Any,
) -> Figure:
    """One word cloud per topic: its ``n`` most probable terms sized by p(w | t).

    Parameters
    ----------
    model : TopicModel
    n : int, default 50
        Terms per topic.
    ncols : int, default 3
        Panels per row.
    font, random_state, width, height
        As in :func:`wordcloud_figure` (``width`` and ``height`` per panel).
    label_chars : int, default 18
        Length at which topic labels in the titles are cut.
    **options
        Further options of :func:`wordcloud_figure` (``colormap``, ...).

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled ``T<n> <label>``, in topic order.
    """
    from policystudy.explorer import topic_term_distributions

    phi = topic_term_distributions(model)
    vocabulary = np.asarray(model.vocabulary_).astype(str)
    labels = [str(v) for v in model.labels_.to_numpy()]
    clouds = []
    for t in range(phi.shape[0]):
        order = np.argsort(-phi[t], kind="stable")[: int(n)]
        weights = {vocabulary[j]: float(phi[t, j]) for j in order if phi[t, j] > 0}
        clouds.append((f"T{t} {_shorten(labels[t], label_chars)}", weights))
    return _grid(
        clouds, ncols=ncols, font=font, random_state=random_state,
        width=width, height=height, options=options,
    )  # fmt: skip


def group_wordclouds(
    features: Any,
    by: str = "city",
    *,
    n: int = 50,
    weight: str = "tfidf",
    ncols: int = 3,
    font: str | os.PathLike[str] | None = None,
    random_state: int = 0,
    width: int = 500,
    height: int = 300,
    **options: Any,
) -> Figure:
    """One word cloud per group of ``by``.

    Parameters
    ----------
    features : Features
    by : str, default "city"
        Column of ``features.units`` to group by.
    n : int, default 50
        Terms per group.
    weight : {"tfidf", "count"}, default "tfidf"
        ``"tfidf"``: the group's distinctive terms, sized by the TF-IDF of
        :func:`policystudy.compare.distinctive_tfidf` (terms common to every
        group weigh little); ``"count"``: the group's most frequent terms,
        sized by count (common terms dominate every cloud).
    ncols, font, random_state, width, height, **options
        As in :func:`topic_wordclouds`.

    Returns
    -------
    matplotlib.figure.Figure
        Panels titled ``<by> = <group>``, groups in sorted order.
    """
    from policystudy.compare import distinctive_tfidf

    if weight == "tfidf":
        table = distinctive_tfidf(features, by=by, n=int(n))
        value = "tfidf"
    elif weight == "count":
        table = _group_counts(features, by, int(n))
        value = "count"
    else:
        raise ValueError(f"weight must be 'tfidf' or 'count', got {weight!r}")
    clouds = []
    for group, rows in table.groupby("group", sort=True):
        weights = dict(zip(rows["term"].astype(str), rows[value].astype(float), strict=True))
        clouds.append((f"{by} = {group}", weights))
    if not clouds:
        raise ValueError(f"no group of {by!r} has any term")
    return _grid(
        clouds, ncols=ncols, font=font, random_state=random_state,
        width=width, height=height, options=options,
    )  # fmt: skip


def _group_counts(features: Any, by: str, n: int) -> pd.DataFrame:
    """``group``, ``term``, ``count``: each group's ``n`` most frequent terms."""
    units = features.units
    if by not in units.columns:
        raise KeyError(
            f"features.units has no column {by!r}; available columns: "
            f"{sorted(map(str, units.columns))}"
        )
    vocabulary = np.asarray(features.vocabulary).astype(str)
    frames = []
    groups = units[by]
    for group in sorted(groups.dropna().unique().tolist(), key=str):
        mask = (groups == group).to_numpy()
        counts = np.asarray(features.counts[mask].sum(axis=0)).ravel()
        order = np.argsort(-counts, kind="stable")[:n]
        order = order[counts[order] > 0]
        frames.append(
            pd.DataFrame({"group": group, "term": vocabulary[order], "count": counts[order]})
        )
    return (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["group", "term", "count"])
    )
