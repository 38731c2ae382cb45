"""Static inter-topic distance map (matplotlib): the explorer's map as a figure.

Committed notebooks keep this image while reports carry the interactive page of
:func:`policystudy.explorer.explorer_html`; both place the topics by the same
numbers (:func:`policystudy.explorer.topic_map`).
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from policystudy.explorer import topic_map
from policystudy.plots import _ensure_font, _new_axes, _shorten, _steady_ticks

__all__ = ["topic_map_figure"]

# Marker area (points^2) of the most prevalent topic.
_MAX_AREA = 2400.0


def topic_map_figure(
    model: Any,
    features: Any,
    *,
    label_chars: int = 14,
    ax: plt.Axes | None = None,
) -> Figure:
    """Inter-topic distance map: topics by Jensen-Shannon distance, area by prevalence.

    Parameters
    ----------
    model : TopicModel
    features : Features
        The features the model was fitted on.
    label_chars : int, default 14
        Labels longer than this are cut (ending in "…").
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _ensure_font()
    table = topic_map(model, features)
    x = table["x"].to_numpy(dtype=float)
    y = table["y"].to_numpy(dtype=float)
    prevalence = table["prevalence"].to_numpy(dtype=float)
    largest = float(prevalence.max()) or 1.0
    fig, ax = _new_axes(ax, (6.5, 6.0))
    ax.scatter(
        x, y, s=_MAX_AREA * prevalence / largest, color="C0", alpha=0.55,
        edgecolors="white", linewidths=1.0, zorder=2,
    )  # fmt: skip
    for topic, label, xi, yi in zip(table["topic"], table["label"], x, y, strict=True):
        ax.annotate(
            f"T{topic} {_shorten(str(label), label_chars)}", (xi, yi),
            ha="center", va="center", fontsize=9, zorder=3,
        )  # fmt: skip
    # Equal axes with room for the bubbles: distances read the same both ways.
    span = max(float(np.ptp(x)), float(np.ptp(y)), 1e-6)
    pad = 0.25 * span
    cx, cy = (x.max() + x.min()) / 2, (y.max() + y.min()) / 2
    half = span / 2 + pad
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.85", lw=0.8, zorder=1)
    ax.axvline(0, color="0.85", lw=0.8, zorder=1)
    _steady_ticks(ax.xaxis, 5)
    _steady_ticks(ax.yaxis, 5)
    ax.set_xlabel("PC1")
    ax.set_ylabel("PC2")
    ax.set_title("Inter-topic distance map (Jensen–Shannon, PCoA; area ∝ prevalence)", fontsize=10)
    return fig
