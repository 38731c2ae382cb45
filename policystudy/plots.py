"""Matplotlib figures for the comparison tables, with a bundled Chinese font.

Every plotting function takes one of the tables documented in
:mod:`policystudy.compare` / :mod:`policystudy.topics`, checks its columns,
never mutates it, and returns a :class:`matplotlib.figure.Figure`.  Figures
are created with :func:`matplotlib.pyplot.subplots`, so they are managed by
pyplot: in Jupyter a figure returned as a cell's last expression is shown
(once), and in scripts the caller closes it (``plt.close(fig)``) when done.
Functions that accept ``ax=`` draw into that Axes and return its figure.
Nothing is shown or printed, and the drawing involves no randomness.

Chinese text needs a font with CJK glyphs, which most machines lack.  The
package ships Noto Sans SC Regular (SIL Open Font License 1.1, static TrueType,
``policystudy/resources/fonts/``); :func:`use_cjk_font` registers it with
matplotlib and every plotting function calls it the first time it runs.  Call
``use_cjk_font(font)`` yourself to use another font file or installed family.

This module imports matplotlib; ``import policystudy`` does not import it.
"""

from __future__ import annotations

import math
import os
import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import IO

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from policystudy._io import atomic_write_with
from policystudy.schema import INTERVAL_DOCS, INTERVAL_NONE, INTERVAL_UNITS

__all__ = [
    "FONT_FAMILY",
    "COLUMN_LABELS",
    "FONT_PATH",
    "INTERVAL_STYLES",
    "figure_title",
    "k_selection",
    "keyness_bars",
    "prevalence_intervals",
    "save_figure",
    "similarity_matrix",
    "top_terms",
    "topic_heatmap",
    "units_per_document",
    "use_cjk_font",
]

FONT_PATH = Path(__file__).resolve().parent / "resources" / "fonts" / "NotoSansSC-Regular.ttf"
"""The bundled font file (Noto Sans SC Regular, OFL 1.1)."""

FONT_FAMILY = "Noto Sans SC"
"""Family name of :data:`FONT_PATH` as matplotlib knows it."""

# How each interval kind of compare.prevalence is drawn and named in legends.
INTERVAL_STYLES: dict[str, dict[str, str]] = {
    INTERVAL_DOCS: {
        "marker": "o",
        "linestyle": "-",
        "label": "bootstrap over documents (between-document variation)",
    },
    INTERVAL_UNITS: {
        "marker": "s",
        "linestyle": "--",
        "label": "bootstrap over units of one document (within-document only)",
    },
    INTERVAL_NONE: {"marker": "x", "linestyle": "none", "label": "no interval (one unit)"},
}

_FONT_SUFFIXES = (".ttf", ".otf", ".ttc", ".otc")
_SAVE_FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
# Drop timestamps and random ids so the same figure gives the same bytes.
_SAVE_METADATA = {
    "png": {"Software": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "svg": {"Date": None},
}
_SVG_HASHSALT = "policystudy"

# The font chosen by the last use_cjk_font call: (what was asked for, family).
_active_font: tuple[str | None, str] | None = None


# --------------------------------------------------------------------------- font


def _is_font_path(font: str | os.PathLike[str]) -> bool:
    if isinstance(font, os.PathLike):
        return True
    return font.lower().endswith(_FONT_SUFFIXES) or os.sep in font or "/" in font


def _register_font_file(path: Path) -> str:
    """Add a font file to matplotlib's font list once; return its family name."""
    real = os.path.realpath(path)
    for entry in font_manager.fontManager.ttflist:
        if os.path.realpath(entry.fname) == real:
            return entry.name
    try:
        font = mpl.ft2font.FT2Font(real)
        name = font_manager.ttfFontProperty(font).name
    except (OSError, RuntimeError, ValueError) as exc:
        raise ValueError(f"font file {str(path)!r} could not be read as a font: {exc}") from exc
    font_manager.fontManager.addfont(real)
    return name


def use_cjk_font(font: str | os.PathLike[str] | None = None) -> str:
    """Make matplotlib draw Chinese text with a CJK font; return the family name.

    Registers the font file with ``matplotlib.font_manager.fontManager.addfont``
    (in memory only: matplotlib's font cache on disk is left alone; calling
    again with the same file adds nothing) and sets these rcParams:

    - ``font.family = "sans-serif"`` and the family first in ``font.sans-serif``
      (the previous entries follow it, as fallbacks for other scripts);
    - ``axes.unicode_minus = False`` (CJK fonts often lack U+2212 MINUS SIGN);
    - ``pdf.fonttype = ps.fonttype = 42``: the font is embedded as TrueType
      (subset) so PDF text stays selectable and searchable;
    - ``svg.fonttype = "path"``: glyphs are written as outlines, so an SVG
      shows the same text on a machine without the font.

    Plotting functions in this module call it once with no argument unless it
    has already been called; they call it again with the last choice if the
    rcParams have since been reset (e.g. by ``matplotlib.rcdefaults()``).

    Parameters
    ----------
    font : str or path-like, optional
        ``None`` (default): the bundled Noto Sans SC Regular (:data:`FONT_PATH`).
        A path to a font file (``.ttf``, ``.otf``, ``.ttc``, ``.otc``): that
        file is registered and used.  Any other string: the family name of a
        font matplotlib already knows (system-installed or added earlier).

    Returns
    -------
    str
        The font family now first in ``font.sans-serif``.

    Raises
    ------
    FileNotFoundError
        ``font`` is a path and no file exists there.
    ValueError
        The file is not a readable font, or no known font has that family name.
    """
    global _active_font
    if font is None:
        family = _register_font_file(FONT_PATH)
    elif _is_font_path(font):
        path = Path(font).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"font file not found: {str(path)!r}")
        family = _register_font_file(path)
    else:
        known = {entry.name for entry in font_manager.fontManager.ttflist}
        if font not in known:
            raise ValueError(
                f"no font family {font!r} is known to matplotlib; pass the path to a font "
                "file instead, or None for the bundled Noto Sans SC"
            )
        family = font
    fallbacks = [f for f in mpl.rcParams["font.sans-serif"] if f != family]
    mpl.rcParams.update(
        {
            "font.family": ["sans-serif"],
            "font.sans-serif": [family, *fallbacks],
            "axes.unicode_minus": False,
            "pdf.fonttype": 42,
            "ps.fonttype": 42,
            "svg.fonttype": "path",
        }
    )
    _active_font = (None if font is None else os.fspath(font), family)
    return family


def _ensure_font() -> str:
    """Apply the bundled font on first use, or re-apply the chosen one after an rc reset."""
    if _active_font is None:
        return use_cjk_font()
    requested, family = _active_font
    sans = mpl.rcParams["font.sans-serif"]
    if not sans or sans[0] != family or list(mpl.rcParams["font.family"]) != ["sans-serif"]:
        return use_cjk_font(requested)
    return family


# --------------------------------------------------------------------------- saving


def _settle_layout(fig: Figure, max_draws: int = 6) -> None:
    """Run the figure's layout to a fixed point and round the axes positions.

    Each constrained-layout pass starts from the positions the previous draw
    left, and text measures differ slightly between renderers, so a figure
    saved after another save (or after display in a notebook) could otherwise
    differ in the last digits of its coordinates and in the SVG ids hashed
    from them.  Rounding to 1e-6 of the figure size (well below a pixel)
    makes the positions independent of that history.
    """
    for _ in range(max_draws):
        before = [ax.get_position().bounds for ax in fig.axes]
        fig.draw_without_rendering()
        if [ax.get_position().bounds for ax in fig.axes] == before:
            break
    for ax in fig.axes:
        in_layout = ax.get_in_layout()  # set_position takes an Axes out of the layout
        ax.set_position([round(float(v), 6) for v in ax.get_position(original=True).bounds])
        ax.set_in_layout(in_layout)


def figure_title(fig: Figure) -> str | None:
    """The figure's title: its suptitle, else the title of its only titled Axes.

    :func:`save_figure` stores it in the file's metadata (PNG ``Title`` text,
    PDF ``/Title``, SVG ``<title>``).
    """
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None and suptitle.get_text().strip():
        return " ".join(suptitle.get_text().split())
    titles = [ax.get_title().strip() for ax in fig.axes if ax.get_title().strip()]
    return " ".join(titles[0].split()) if len(titles) == 1 else None


def save_figure(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Write a figure to PNG, PDF or SVG, reproducibly and atomically.

    The format follows the file suffix.  Timestamps (PDF ``CreationDate``,
    SVG ``Date``), the PNG ``Software`` entry and SVG's random element ids are
    left out or fixed, so saving the same figure again gives identical bytes.
    The figure's title (:func:`figure_title`) is stored as the file's ``Title``.
    The figure is written to a temporary file in the target directory and
    moved into place only when complete: a failed save leaves an earlier file
    at ``path`` untouched.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or path-like
        Target file ending in ``.png``, ``.pdf`` or ``.svg``.  Missing parent
        directories are created.
    dpi : int, default 150
        Resolution of PNG output (and of raster parts of PDF/SVG output).

    Returns
    -------
    pathlib.Path
        The path written.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    target = Path(path)
    fmt = _SAVE_FORMATS.get(target.suffix.lower())
    if fmt is None:
        raise ValueError(
            f"cannot save figure to {str(target)!r}: suffix must be one of {sorted(_SAVE_FORMATS)}"
        )
    engine = fig.get_layout_engine()

    metadata = dict(_SAVE_METADATA[fmt])
    title = figure_title(fig)
    if title:
        # Lets a listing (the report index) say what the file shows without opening it.
        metadata["Title"] = title

    def write(handle: IO[bytes]) -> None:
        with mpl.rc_context({"svg.hashsalt": _SVG_HASHSALT}):
            fig.savefig(handle, format=fmt, dpi=dpi, metadata=metadata)

    try:
        _settle_layout(fig)
        # Write the settled positions as they are: no further layout pass.
        fig.set_layout_engine("none")
        atomic_write_with(target, write)
    finally:
        fig.set_layout_engine(engine)
    return target


# --------------------------------------------------------------------------- helpers


def _require(df: object, columns: Iterable[str], what: str) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame; got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(
            f"{what} is missing required column(s) {missing}; "
            f"available columns: {sorted(map(str, df.columns))}"
        )
    if df.empty:
        raise ValueError(f"{what} has no rows")
    return df


def _numeric(df: pd.DataFrame, column: str, what: str) -> np.ndarray:
    try:
        return pd.to_numeric(df[column], errors="raise").to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"column {column!r} of {what} must be numeric") from exc


def _new_axes(ax: plt.Axes | None, figsize: tuple[float, float]) -> tuple[Figure, plt.Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _new_axes_with_colorbar(
    ax: plt.Axes | None, figsize: tuple[float, float]
) -> tuple[Figure, plt.Axes, plt.Axes | None]:
    """A figure with a narrow fixed column for the colour bar (``cax``).

    A bar attached with ``fig.colorbar(ax=...)`` takes its width from its
    height, which constrained layout changes on every draw, so each save
    would come out slightly different; a grid column of fixed share does not.
    """
    if ax is not None:
        return ax.figure, ax, None
    width = figsize[0]
    fig, (ax, cax) = plt.subplots(
        1, 2, figsize=figsize, layout="constrained", width_ratios=[width - 0.8, 0.15]
    )
    return fig, ax, cax


def _steady_ticks(axis: mpl.axis.Axis, nbins: int = 6) -> None:
    # The default locator chooses how many ticks fit the axis length, and
    # constrained layout changes that length on each draw: with a fixed number
    # of bins the layout, and so the saved bytes, do not depend on earlier draws.
    axis.set_major_locator(mpl.ticker.MaxNLocator(nbins))


def _text_inches(labels: Iterable[str], fontsize: float = 10.0) -> float:
    """Rough width of the longest label: wide (CJK) characters count 1 em, others 0.6."""
    widest = 0.0
    for label in labels:
        ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in label)
        widest = max(widest, ems)
    return widest * fontsize / 72.0


def _shorten(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"


# --------------------------------------------------------------------------- sizing
# Figures grow with their groups, topics and labels, within one bound: no side
# above MAX_INCHES, which at save_figure's 150 dpi is under 3000 pixels. When the
# content would need more, cells, rows and fonts shrink instead, and a colour
# palette is never cycled: beyond PALETTE_SIZE groups a figure names the groups
# directly (tick labels) rather than repeating colours.

#: Longest side of any figure, in inches (2925 px at 150 dpi).
MAX_INCHES = 19.5

#: Distinct colours of the categorical palette (tab10); more groups are labelled directly.
PALETTE_SIZE = 10

# Smallest font for tick labels, in points; and the share of a row or column
# a label's height may take, so that neighbouring labels keep a gap.
_MIN_FONT = 5.0
_LABEL_FILL = 0.8


def _fit(length: float) -> float:
    return min(float(length), MAX_INCHES)


def _fontsize_for(pitch_inches: float, largest: float = 10.0) -> float:
    """Font size whose line height fits ``_LABEL_FILL`` of a row ``pitch_inches`` high."""
    return float(max(_MIN_FONT, min(largest, pitch_inches * 72.0 * _LABEL_FILL / 1.2)))


def _palette(n: int) -> list:
    """``n`` distinct colours of the categorical palette (``n <= PALETTE_SIZE``)."""
    if n > PALETTE_SIZE:
        raise ValueError(f"{n} groups exceed the {PALETTE_SIZE} distinct colours of the palette")
    cmap = plt.get_cmap("tab10")
    return [cmap(i) for i in range(n)]


def _label_columns(ax: plt.Axes, labels: list[str], pitch: float, fontsize: float) -> None:
    """Column tick labels: horizontal when the widest fits its column, else vertical.

    A vertical label takes a column's width only by its line height, so labels
    of neighbouring columns never overlap; a slanted one would overlap its
    neighbours' boxes as soon as it is wider than a column.
    """
    if _text_inches(labels, fontsize) > 0.9 * pitch:
        ax.tick_params(axis="x", labelrotation=90)
    for label in ax.get_xticklabels():
        label.set_fontsize(fontsize)


def _topic_names(df: pd.DataFrame) -> dict[int, str]:
    """Topic number -> "T<n> <label>" (first label seen for each topic)."""
    names: dict[int, str] = {}
    for topic, label in zip(df["topic"].astype(int), df["label"], strict=True):
        if topic not in names:
            text = "" if pd.isna(label) else str(label)
            names[topic] = f"T{topic} {text}".strip()
    return names


def _sorted_groups(values: pd.Series) -> list:
    return sorted(values.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))


def _colorbar(fig: Figure, mappable, ax: plt.Axes, cax: plt.Axes | None, label: str) -> None:
    if cax is None:
        cbar = fig.colorbar(mappable, ax=ax, label=label, shrink=0.8)
    else:
        cbar = fig.colorbar(mappable, cax=cax, label=label)
    # Ticks from the colour limits only, not from the bar's length.
    norm = mappable.norm
    ticks = mpl.ticker.MaxNLocator(5).tick_values(norm.vmin, norm.vmax)
    eps = 1e-9 * (norm.vmax - norm.vmin)
    cbar.set_ticks(ticks[(ticks >= norm.vmin - eps) & (ticks <= norm.vmax + eps)])


def _text_color(value: float, norm: mpl.colors.Normalize, cmap: mpl.colors.Colormap) -> str:
    """Black or white, whichever contrasts more with the cell colour ``cmap(norm(value))``.

    The choice follows the rendered colour's relative luminance (WCAG 2), not the
    value's position in the map: in a diverging map both ends are dark and the
    middle is pale, so a rule on the value alone puts white on white near zero.
    """
    if not np.isfinite(value):
        return "black"  # masked cells show the (white) background
    r, g, b = (
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in mpl.colors.to_rgb(cmap(norm(value)))
    )
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    # Contrast ratios (L1 + 0.05) / (L2 + 0.05) against white (L = 1) and black (L = 0).
    return "white" if 1.05 / (luminance + 0.05) > (luminance + 0.05) / 0.05 else "black"


#: Readable names for the table columns that figures show on axes, colour bars and
#: titles; other column names are shown as they are.
COLUMN_LABELS: dict[str, str] = {
    "share": "share of units' topic weight",
    "diff_from_rest": "share minus the other groups' share",
    "share_rest": "the other groups' share",
    "g2": "signed G² (log-likelihood)",
    "log_ratio": "log ratio (base 2)",
    "doc_id": "document",
    "doc_type": "document type",
    "city": "city",
    "province": "province",
    "district": "district",
    "year": "year",
}


def _label(column: str) -> str:
    return COLUMN_LABELS.get(column, column.replace("_", " "))


# --------------------------------------------------------------------------- plots


def topic_heatmap(
    prevalence: pd.DataFrame,
    *,
    by: str = "city",
    value: str = "share",
    ax: plt.Axes | None = None,
) -> Figure:
    """Heatmap of topic prevalence: one row per topic, one column per group.

    Parameters
    ----------
    prevalence : pandas.DataFrame
        Table from :func:`policystudy.compare.prevalence` (columns ``<by>``,
        ``topic``, ``label`` and ``value`` are used).
    by : str, default "city"
        Group column (the ``by`` the table was made with).
    value : str, default "share"
        Numeric column shown as colour and printed in each cell (two
        decimals), e.g. ``"share"`` or ``"diff_from_rest"``.  A diverging
        colour map centred on 0 is used when the column has negative values.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Group labels are written horizontally when they fit their column (city
    names); when the longest is wider (doc_ids, doc_types) all are written
    vertically, so that neighbouring labels never overlap. Columns are up to
    0.9 in wide and rows 0.42 in high, narrower when the figure would exceed
    :data:`MAX_INCHES`; fonts follow the cell size, and cell values are printed
    only where they fit.
    """
    _ensure_font()
    what = "prevalence table"
    df = _require(prevalence, [by, "topic", "label", value], what)
    values = _numeric(df, value, what)
    if df.duplicated([by, "topic"]).any():
        raise ValueError(f"{what} has more than one row per ({by!r}, 'topic')")
    names = _topic_names(df)
    topics = sorted(names)
    groups = _sorted_groups(df[by])
    grid = (
        pd.DataFrame({"g": df[by].to_numpy(), "t": df["topic"].astype(int).to_numpy(), "v": values})
        .pivot(index="t", columns="g", values="v")
        .reindex(index=topics, columns=groups)
        .to_numpy(dtype=float)
    )
    finite = grid[np.isfinite(grid)]
    if finite.size and finite.min() < 0:
        bound = float(np.abs(finite).max()) or 1.0
        cmap, norm = plt.get_cmap("RdBu_r"), mpl.colors.Normalize(-bound, bound)
    else:
        top = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        cmap, norm = plt.get_cmap("Blues"), mpl.colors.Normalize(0.0, top)

    row_labels = [names[t] for t in topics]
    col_labels = [str(g) for g in groups]
    # Columns of up to 0.9 in and rows of up to 0.42 in, shrunk to keep each side
    # within MAX_INCHES; labels and cell numbers follow the cell size.
    fixed_w = 1.8 + _text_inches(row_labels)
    col_w = max(0.12, min(0.9, (MAX_INCHES - fixed_w) / max(len(groups), 1)))
    col_font = _fontsize_for(col_w)
    below = (
        min(_text_inches(col_labels, col_font), 6.0)
        if _text_inches(col_labels, col_font) > 0.9 * col_w
        else 0.0
    )
    row_h = max(0.12, min(0.42, (MAX_INCHES - 1.7 - below) / max(len(topics), 1)))
    width = _fit(fixed_w + col_w * len(groups))
    fig, ax, cax = _new_axes_with_colorbar(ax, (width, _fit(1.7 + below + row_h * len(topics))))
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(grid), cmap=cmap, norm=norm, edgecolors="white", linewidth=0.5
    )
    # A number is printed in a cell only where "-0.00" fits at 5 pt or more.
    cell_font = min(8.0, col_w * 72.0 * 0.9 / (5 * 0.6), _fontsize_for(row_h, 8.0))
    if cell_font >= _MIN_FONT:
        for i in range(len(topics)):
            for j in range(len(groups)):
                v = grid[i, j]
                text = f"{v:.2f}" if np.isfinite(v) else "–"
                ax.text(
                    j + 0.5, i + 0.5, text, ha="center", va="center",
                    fontsize=cell_font, color=_text_color(v, norm, cmap),
                )  # fmt: skip
    ax.set_xticks(np.arange(len(groups)) + 0.5, col_labels)
    _label_columns(ax, col_labels, col_w, col_font)
    ax.set_yticks(np.arange(len(topics)) + 0.5, row_labels)
    for label in ax.get_yticklabels():
        label.set_fontsize(_fontsize_for(row_h))
    ax.set_xlim(0, len(groups))
    ax.set_ylim(len(topics), 0)
    ax.set_xlabel(_label(by))
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    _colorbar(fig, mesh, ax, cax, _label(value))
    title = f"Topic prevalence by {_label(by)}"
    ax.set_title(title if value == "share" else f"{title}\n({_label(value)})")
    return fig


def prevalence_intervals(
    prevalence: pd.DataFrame,
    *,
    by: str = "city",
    ax: plt.Axes | None = None,
) -> Figure:
    """Topic shares per group with their uncertainty intervals.

    One row per topic; within it one point per group (colour) with a
    horizontal interval from ``ci_low`` to ``ci_high``.  The kind of interval
    (column ``interval``) sets marker and line style and is named in a second
    legend, because the kinds measure different things (see
    :data:`INTERVAL_STYLES`): a bootstrap over documents (circle, solid line)
    reflects between-document variation, a bootstrap over one document's
    units (square, dashed line) only variation within that document, and a
    group with a single unit has no interval (cross).

    Up to :data:`PALETTE_SIZE` groups get one colour each; with more, no colour
    is repeated: the figure has one panel per topic and one row per group,
    named by the tick labels (``ax=`` is then refused).

    Parameters
    ----------
    prevalence : pandas.DataFrame
        Table from :func:`policystudy.compare.prevalence` (columns ``<by>``,
        ``topic``, ``label``, ``share``, ``ci_low``, ``ci_high``,
        ``interval``; ``level`` if present names the coverage).
    by : str, default "city"
        Group column.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _ensure_font()
    what = "prevalence table"
    df = _require(
        prevalence, [by, "topic", "label", "share", "ci_low", "ci_high", "interval"], what
    )
    share = _numeric(df, "share", what)
    low = _numeric(df, "ci_low", what)
    high = _numeric(df, "ci_high", what)
    kinds = df["interval"].astype(str).to_numpy()
    unknown = sorted(set(kinds) - set(INTERVAL_STYLES))
    if unknown:
        raise ValueError(
            f"column 'interval' of {what} has unknown value(s) {unknown}; "
            f"expected {sorted(INTERVAL_STYLES)}"
        )
    names = _topic_names(df)
    topics = sorted(names)
    groups = _sorted_groups(df[by])
    level = None
    if "level" in df.columns:
        levels = pd.to_numeric(df["level"], errors="coerce").dropna().unique()
        if len(levels) == 1:
            level = float(levels[0])
    coverage = f"{level:.0%} " if level is not None else ""
    kind_handles = [
        Line2D(
            [],
            [],
            color="0.3",
            marker=INTERVAL_STYLES[k]["marker"],
            linestyle=INTERVAL_STYLES[k]["linestyle"],
            label=INTERVAL_STYLES[k]["label"],
        )  # fmt: skip
        for k in INTERVAL_STYLES
        if k in set(kinds)
    ]
    kind_legend = {"handles": kind_handles, "title": f"{coverage}interval", "fontsize": 8}
    if len(groups) > PALETTE_SIZE:
        # More groups than distinct colours: one panel per topic, groups named on the axis.
        if ax is not None:
            raise ValueError(
                f"{len(groups)} groups exceed the {PALETTE_SIZE} colours of one Axes; "
                "call without ax= to draw one panel per topic"
            )
        return _prevalence_panels(
            df, by, names, topics, groups, (share, low, high, kinds), kind_legend
        )
    colors = _palette(len(groups))

    width = _fit(5.5 + _text_inches(names.values()))
    fig, ax = _new_axes(ax, (width, _fit(1.8 + 0.22 * len(topics) * max(len(groups), 2))))
    row_of = {t: i for i, t in enumerate(topics)}
    step = 0.8 / max(len(groups), 1)
    group_values = df[by].to_numpy()
    topic_values = df["topic"].astype(int).to_numpy()
    for gi, group in enumerate(groups):
        color = colors[gi]
        for idx in np.flatnonzero(group_values == group):
            if not np.isfinite(share[idx]):
                continue
            style = INTERVAL_STYLES[kinds[idx]]
            y = row_of[topic_values[idx]] - 0.4 + step * (gi + 0.5)
            if np.isfinite(low[idx]) and np.isfinite(high[idx]):
                ax.hlines(y, low[idx], high[idx], color=color, linestyle=style["linestyle"], lw=1.5)
            ax.plot(share[idx], y, marker=style["marker"], color=color, markersize=6, ls="none")
    ax.set_yticks(np.arange(len(topics)), [names[t] for t in topics])
    ax.set_ylim(len(topics) - 0.5, -0.5)
    for boundary in np.arange(len(topics) - 1) + 0.5:
        ax.axhline(boundary, color="0.9", lw=0.8, zorder=0)
    ax.set_xlabel("share of units' topic weight")
    ax.set_xlim(left=0)
    _steady_ticks(ax.xaxis)

    group_handles = [Patch(color=colors[i], label=str(g)) for i, g in enumerate(groups)]
    # Legends outside the data: right of the axes (groups) and under the figure (kinds).
    group_legend = ax.legend(
        handles=group_handles,
        title=_label(by),
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
    )
    if isinstance(fig.get_layout_engine(), mpl.layout_engine.ConstrainedLayoutEngine):
        fig.legend(loc="outside lower center", **kind_legend)
    else:
        ax.add_artist(group_legend)  # the next ax.legend call replaces ax.legend_
        ax.legend(loc="lower left", bbox_to_anchor=(1.01, 0.0), **kind_legend)
    ax.set_title(f"Topic prevalence by {_label(by)}")
    return fig


def _prevalence_panels(
    df: pd.DataFrame,
    by: str,
    names: dict[int, str],
    topics: list[int],
    groups: list,
    values: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    kind_legend: dict,
) -> Figure:
    """:func:`prevalence_intervals` for more groups than colours: a panel per topic.

    Each panel has one row per group, named by the shared y tick labels of the
    first column, so no colour has to tell groups apart; marker and line style
    still give the kind of interval.
    """
    share, low, high, kinds = values
    label_w = _text_inches([str(g) for g in groups], 8.0)
    # Rows of 0.16-0.25 in; as many panel rows as fit in MAX_INCHES, then columns.
    row_h = max(0.12, min(0.25, (MAX_INCHES - 2.0) / len(groups)))
    panel_h = row_h * len(groups) + 0.5
    nrows = max(1, min(len(topics), int((MAX_INCHES - 1.5) // panel_h)))
    ncols = math.ceil(len(topics) / nrows)
    nrows = math.ceil(len(topics) / ncols)
    panel_w = max(0.9, min(2.4, (MAX_INCHES - label_w - 0.6) / ncols))
    fig, axes = plt.subplots(
        nrows, ncols, sharey=True, squeeze=False, layout="constrained",
        figsize=(_fit(label_w + 0.6 + panel_w * ncols), _fit(1.5 + panel_h * nrows)),
    )  # fmt: skip
    row_of = {g: i for i, g in enumerate(groups)}
    group_values = df[by].to_numpy()
    topic_values = df["topic"].astype(int).to_numpy()
    tick_font = _fontsize_for(row_h, 8.0)
    title_chars = max(6, int(panel_w * 72 / (0.6 * 8)))
    for i, topic in enumerate(topics):
        ax = axes.flat[i]
        for idx in np.flatnonzero(topic_values == topic):
            if not np.isfinite(share[idx]):
                continue
            style = INTERVAL_STYLES[kinds[idx]]
            y = row_of[group_values[idx]]
            if np.isfinite(low[idx]) and np.isfinite(high[idx]):
                ax.hlines(y, low[idx], high[idx], color="C0", linestyle=style["linestyle"], lw=1)
            ax.plot(share[idx], y, marker=style["marker"], color="C0", markersize=3, ls="none")
        ax.set_title(_shorten(names[topic], title_chars), fontsize=8)
        ax.set_xlim(left=0)
        _steady_ticks(ax.xaxis, 3)
        ax.tick_params(axis="x", labelsize=7)
    first = axes.flat[0]
    first.set_yticks(np.arange(len(groups)), [str(g) for g in groups])
    first.set_ylim(len(groups) - 0.5, -0.5)
    for ax in axes[:, 0]:
        ax.tick_params(axis="y", labelsize=tick_font)
    for ax in axes.flat[len(topics) :]:
        ax.set_visible(False)
    fig.supxlabel("share of units' topic weight", fontsize=9)
    fig.legend(loc="outside lower center", **kind_legend)
    fig.suptitle(f"Topic prevalence by {_label(by)}", fontsize=10)
    return fig


def top_terms(
    topic_terms: pd.DataFrame,
    *,
    n: int = 10,
    labels: Mapping[int, str] | pd.Series | None = None,
) -> Figure:
    """Top terms of each topic as horizontal bars, one panel per topic.

    Parameters
    ----------
    topic_terms : pandas.DataFrame
        ``TopicModel.topic_terms_`` (columns ``topic``, ``rank``, ``term``,
        ``weight``).
    n : int, default 10
        Terms per topic (those with ``rank`` 1..n), highest weight on top.
    labels : mapping or Series, optional
        Topic number -> name shown in the panel title (e.g. ``model.labels_``).

    Returns
    -------
    matplotlib.figure.Figure
        Panels in topic order, four per row; x axes are not shared because
        weights are on different scales across topics.
    """
    _ensure_font()
    what = "topic_terms table"
    df = _require(topic_terms, ["topic", "rank", "term", "weight"], what)
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    weight = _numeric(df, "weight", what)
    rank = _numeric(df, "rank", what)
    table = pd.DataFrame(
        {"topic": df["topic"].astype(int).to_numpy(), "rank": rank, "term": df["term"].astype(str),
         "weight": weight}
    )  # fmt: skip
    table = table[table["rank"] <= n].sort_values(["topic", "rank", "term"], kind="stable")
    topics = sorted(table["topic"].unique().tolist())
    label_of = dict(labels.items()) if labels is not None else {}

    # Four panels a row, more when the rows would not fit MAX_INCHES; panels
    # narrow and term rows shrink (down to 0.14 in) before the figure outgrows it.
    term_h = 0.25
    panel_h = 0.25 * n + 0.6
    max_rows = max(1, int((MAX_INCHES - 0.9) // panel_h))
    ncols = min(len(topics), max(4, math.ceil(len(topics) / max_rows)))
    nrows = math.ceil(len(topics) / ncols)
    if 0.9 + panel_h * nrows > MAX_INCHES:
        term_h = max(0.14, ((MAX_INCHES - 0.9) / nrows - 0.6) / n)
        panel_h = term_h * n + 0.6
    panel_w = min(3.0, MAX_INCHES / ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(_fit(panel_w * ncols), _fit(0.9 + panel_h * nrows)),
        layout="constrained", squeeze=False,
    )  # fmt: skip
    # One colour per topic while the palette lasts; beyond it the panel titles
    # name the topics and every bar takes the same colour, so none is repeated
    # to mean two things.
    colors = _palette(len(topics)) if len(topics) <= PALETTE_SIZE else ["C0"] * len(topics)
    term_font = _fontsize_for(term_h)
    title_chars = max(6, int(panel_w * 72 / (0.8 * 9)))
    for i, topic in enumerate(topics):
        ax = axes.flat[i]
        rows = table[table["topic"] == topic]
        y = np.arange(len(rows))
        ax.barh(y, rows["weight"].to_numpy(), color=colors[i])
        ax.set_yticks(y, rows["term"].tolist())
        ax.tick_params(axis="y", labelsize=term_font)
        ax.set_ylim(n - 0.5, -0.5)
        ax.tick_params(axis="x", labelsize=7)
        _steady_ticks(ax.xaxis, 4)
        label = label_of.get(topic)
        title = f"T{topic}" if label is None or pd.isna(label) else f"T{topic} {label}"
        ax.set_title(_shorten(title, title_chars), fontsize=9)
    for ax in axes.flat[len(topics) :]:
        ax.set_visible(False)
    fig.supxlabel("weight", fontsize=9)
    fig.suptitle("Top terms of each topic", fontsize=10)
    return fig


def keyness_bars(
    keyness: pd.DataFrame,
    *,
    group: object,
    n: int = 15,
    measure: str = "g2",
    alpha: float = 0.05,
) -> Figure:
    """Signed keyness of one group's most over- and under-represented terms.

    The ``n`` terms with the largest positive ``measure`` (more frequent in the
    group than in the rest) and the ``n`` with the most negative are drawn as
    horizontal bars, ordered by value (ties by term).  Bars whose ``p_adj``
    exceeds ``alpha`` are drawn pale: per :data:`policystudy.compare.KEYNESS_CAVEAT`
    the p-values overstate certainty, so read the sizes first.

    Parameters
    ----------
    keyness : pandas.DataFrame
        Table from :func:`policystudy.compare.keyness` (columns ``group``,
        ``term`` and ``measure``; ``p_adj`` if present).
    group : group value
        Which group to show (a value of the ``group`` column).
    n : int, default 15
        Terms per side.
    measure : {"g2", "log_ratio"}, default "g2"
        Signed statistic to order and draw (both are positive when the term
        is relatively more frequent in the group).
    alpha : float, default 0.05
        Threshold on ``p_adj`` below which a bar is drawn in full colour.

    Returns
    -------
    matplotlib.figure.Figure
    """
    _ensure_font()
    if measure not in ("g2", "log_ratio"):
        raise ValueError(f"measure must be 'g2' or 'log_ratio'; got {measure!r}")
    if int(n) != n or n < 1:
        raise ValueError(f"n must be a positive integer; got {n!r}")
    what = "keyness table"
    df = _require(keyness, ["group", "term", measure], what)
    in_group = df["group"] == group
    if not in_group.any():
        raise ValueError(
            f"group {group!r} not in column 'group' of {what}; "
            f"available: {[str(g) for g in _sorted_groups(df['group'])]}"
        )
    sub = df.loc[in_group]
    table = pd.DataFrame(
        {
            "term": sub["term"].astype(str).to_numpy(),
            "score": _numeric(sub, measure, what),
            "p_adj": _numeric(sub, "p_adj", what) if "p_adj" in sub.columns else np.nan,
        }
    )
    table = table[np.isfinite(table["score"])]
    pos = table[table["score"] > 0].sort_values(["score", "term"], ascending=[False, True])
    neg = table[table["score"] < 0].sort_values(["score", "term"], ascending=[True, True])
    shown = pd.concat([pos.head(n), neg.head(n).iloc[::-1]], ignore_index=True)

    fig, ax = plt.subplots(
        figsize=(6.5, _fit(1.2 + 0.27 * max(len(shown), 1))), layout="constrained"
    )
    faint = shown["p_adj"].to_numpy() > alpha
    colors = np.where(shown["score"].to_numpy() > 0, "#c0392b", "#2c6fbb")
    y = np.arange(len(shown))
    bars = ax.barh(y, shown["score"].to_numpy(), color=colors)
    for bar, is_faint in zip(bars, faint, strict=True):
        bar.set_alpha(0.35 if is_faint else 1.0)
    height = _fit(1.2 + 0.27 * max(len(shown), 1))
    ax.set_yticks(
        y, shown["term"].tolist(), fontsize=_fontsize_for((height - 1.2) / max(len(shown), 1))
    )
    ax.set_ylim(len(shown) - 0.5, -0.5)
    ax.axvline(0, color="0.3", lw=0.8)
    ax.set_xlabel(f"{_label(measure)} (> 0: more frequent in {group}; < 0: in the rest)")
    _steady_ticks(ax.xaxis)
    handles = [
        Patch(color="#c0392b", label=f"over-represented in {group}"),
        Patch(color="#2c6fbb", label="under-represented"),
    ]
    if faint.any():
        handles.append(Patch(color="0.6", alpha=0.35, label=f"adjusted p > {alpha:g}"))
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), fontsize=8)
    ax.set_title(f"Keyness: {group} vs rest")
    return fig


def similarity_matrix(
    similarity: pd.DataFrame,
    *,
    ax: plt.Axes | None = None,
    annotate: bool | None = None,
    max_label_chars: int = 40,
) -> Figure:
    """Annotated heatmap of a square cosine-similarity table.

    Parameters
    ----------
    similarity : pandas.DataFrame
        Square table from :func:`policystudy.compare.similarity` (index and
        columns are the same labels in the same order).
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.
    annotate : bool, optional
        Print each value (two decimals) in its cell.  Default: only when the
        table has at most 20 rows, where the numbers stay legible.
    max_label_chars : int, default 40
        Longer row/column labels (e.g. ``"<doc_id>|<section>"``) are cut to
        this many characters, ending in "…".

    Returns
    -------
    matplotlib.figure.Figure
    """
    _ensure_font()
    what = "similarity table"
    if not isinstance(similarity, pd.DataFrame):
        raise TypeError(f"{what} must be a pandas DataFrame; got {type(similarity).__name__}")
    if similarity.empty:
        raise ValueError(f"{what} has no rows")
    if similarity.shape[0] != similarity.shape[1] or not similarity.index.equals(
        similarity.columns
    ):
        raise ValueError(
            f"{what} must be square with the same labels, in the same order, as index and "
            f"columns; got shape {similarity.shape}"
        )
    try:
        grid = similarity.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{what} must hold numbers only") from exc
    size = len(grid)
    if annotate is None:
        annotate = size <= 20
    labels = [_shorten(str(v), max_label_chars) for v in similarity.index]
    norm = mpl.colors.Normalize(0.0, 1.0)
    cmap = plt.get_cmap("viridis")

    cell = min(0.8, max(0.2, 6.0 / size))
    label_font = _fontsize_for(cell)
    labels_w = _text_inches(labels, label_font)
    # Cells shrink (and labels with them) before the figure exceeds MAX_INCHES.
    cell = max(0.05, min(cell, (MAX_INCHES - 2.3 - labels_w) / size))
    label_font = min(label_font, _fontsize_for(cell))
    labels_w = _text_inches(labels, label_font)
    side = 1.0 + cell * size + labels_w
    fig, ax, cax = _new_axes_with_colorbar(ax, (_fit(side + 1.0), _fit(side + 0.3)))
    mesh = ax.pcolormesh(
        np.ma.masked_invalid(grid), cmap=cmap, norm=norm, edgecolors="white", linewidth=0.5
    )
    if annotate:
        for i in range(size):
            for j in range(size):
                v = grid[i, j]
                ax.text(
                    j + 0.5, i + 0.5, f"{v:.2f}" if np.isfinite(v) else "–",
                    ha="center", va="center", fontsize=8,
                    color=_text_color(v, norm, cmap),
                )  # fmt: skip
    ticks = np.arange(size) + 0.5
    ax.set_xticks(ticks, labels, rotation=90, fontsize=label_font)
    ax.set_yticks(ticks, labels, fontsize=label_font)
    ax.set_xlim(0, size)
    ax.set_ylim(size, 0)
    ax.tick_params(length=0)
    _colorbar(fig, mesh, ax, cax, "cosine similarity (TF-IDF)")
    ax.set_title("Similarity")
    return fig


def k_selection(select_k_table: pd.DataFrame) -> Figure:
    """Coherence and stability against the number of topics.

    Two panels sharing the k axis: NPMI coherence, and stability across
    restarts and across subsamples.  A band of +/- one standard deviation is
    drawn where a ``<column>_sd`` column is present and finite, clipped to the
    range the measure can take ([-1, 1] for NPMI, [0, 1] for the Jaccard
    stabilities), so a band never suggests impossible values.  With several
    methods in the table (column ``method``) each gets its own line style.

    Parameters
    ----------
    select_k_table : pandas.DataFrame
        Table from :func:`policystudy.topics.select_k` (columns ``k``,
        ``coherence_npmi``, ``stability_restarts``, ``stability_subsamples``;
        ``*_sd`` and ``method`` if present).

    Returns
    -------
    matplotlib.figure.Figure
    """
    _ensure_font()
    what = "select_k table"
    metrics = ["coherence_npmi", "stability_restarts", "stability_subsamples"]
    df = _require(select_k_table, ["k", *metrics], what)
    data = pd.DataFrame({"k": _numeric(df, "k", what)})
    for column in metrics + [f"{m}_sd" for m in metrics]:
        if column in df.columns:
            data[column] = _numeric(df, column, what)
    data["method"] = df["method"].astype(str).to_numpy() if "method" in df.columns else ""
    methods = sorted(data["method"].unique().tolist())
    styles = ["-", "--", ":", "-."]

    fig, (ax_coh, ax_stab) = plt.subplots(
        2, 1, figsize=(6.0, 5.5), sharex=True, layout="constrained"
    )
    panels = [
        (ax_coh, "coherence_npmi", "coherence (NPMI)", "C0"),
        (ax_stab, "stability_restarts", "stability: restarts", "C1"),
        (ax_stab, "stability_subsamples", "stability: subsamples", "C2"),
    ]
    # The range each measure can take: NPMI in [-1, 1], Jaccard in [0, 1].
    bounds = {
        "coherence_npmi": (-1.0, 1.0),
        "stability_restarts": (0.0, 1.0),
        "stability_subsamples": (0.0, 1.0),
    }
    for mi, method in enumerate(methods):
        rows = data[data["method"] == method].sort_values("k")
        k = rows["k"].to_numpy()
        for ax, column, label, color in panels:
            name = f"{label} ({method})" if len(methods) > 1 else label
            ax.plot(k, rows[column], marker="o", color=color, ls=styles[mi % 4], label=name)
            sd_column = f"{column}_sd"
            if sd_column in rows.columns and np.isfinite(rows[sd_column]).any():
                mean, sd = rows[column].to_numpy(), rows[sd_column].to_numpy()
                low, high = bounds[column]
                ax.fill_between(
                    k, np.clip(mean - sd, low, high), np.clip(mean + sd, low, high),
                    color=color, alpha=0.2, lw=0,
                )  # fmt: skip
    ax_coh.set_ylabel("NPMI coherence")
    ax_stab.set_ylabel("stability (mean matched\ntop-term Jaccard)")
    ax_stab.set_xlabel("number of topics k")
    ax_stab.set_xticks(sorted(data["k"].unique()))
    for ax in (ax_coh, ax_stab):
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        _steady_ticks(ax.yaxis, 5)
    fig.suptitle("Choosing k (bands: ± 1 sd)")
    return fig


def units_per_document(units: pd.DataFrame) -> Figure:
    """Units per document, stacked by kind (heading, item, paragraph …).

    Parameters
    ----------
    units : pandas.DataFrame
        Table from :func:`policystudy.split_units` (columns ``doc_id``, ``kind``).

    Returns
    -------
    matplotlib.figure.Figure
        One bar per document, in the order of first appearance; rows of up to
        0.3 in, narrower (with smaller labels) for many documents so that the
        figure stays within :data:`MAX_INCHES`.
    """
    _ensure_font()
    what = "units table"
    df = _require(units, ["doc_id", "kind"], what)
    order = list(dict.fromkeys(df["doc_id"].tolist()))
    counts = pd.crosstab(df["doc_id"], df["kind"]).reindex(order)
    kinds = list(counts.columns)
    if len(kinds) > PALETTE_SIZE:
        raise ValueError(f"{len(kinds)} unit kinds exceed the {PALETTE_SIZE} colours")
    colors = _palette(len(kinds))
    row_h = max(0.1, min(0.3, (MAX_INCHES - 1.5) / len(order)))
    labels = [str(d) for d in order]
    font = _fontsize_for(row_h)
    width = _fit(5.5 + _text_inches(labels, font))
    fig, ax = plt.subplots(figsize=(width, _fit(1.5 + row_h * len(order))), layout="constrained")
    left = np.zeros(len(order))
    y = np.arange(len(order))
    for kind, color in zip(kinds, colors, strict=True):
        values = counts[kind].to_numpy(dtype=float)
        ax.barh(y, values, left=left, color=color, label=str(kind), height=0.8)
        left += values
    ax.set_yticks(y, labels, fontsize=font)
    ax.set_ylim(len(order) - 0.5, -0.5)
    ax.set_xlabel("units")
    _steady_ticks(ax.xaxis)
    ax.legend(title="kind", loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.set_title("Units per document, by kind")
    return fig
