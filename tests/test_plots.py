"""Tests for policystudy.plots: figures, bundled CJK font, reproducible export."""

from __future__ import annotations

import subprocess
import sys
import unicodedata
import warnings

import matplotlib

matplotlib.use("Agg")  # tests only: the library never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from policystudy import plots  # noqa: E402

CITIES = ["quanzhou", "taizhou", "wenzhou"]
LABELS = {0: "共同富裕/收入/群体", 1: "市域治理/社会/基层", 2: "最多跑一次/改革/服务"}
DOCS = [
    "quanzhou-2024-reform-decision",
    "wenzhou-2020-governance-decision",
    "licheng-2023-work-report",
    "taizhou-2021-common-prosperity-plan",
]


# --------------------------------------------------------------------------- fixtures
# Shaped exactly like the compare/topics tables; values are made up, terms are
# from the bundled corpus.


@pytest.fixture
def prevalence_table() -> pd.DataFrame:
    shares = {
        "quanzhou": [0.22, 0.31, 0.47],
        "taizhou": [0.61, 0.14, 0.25],
        "wenzhou": [0.09, 0.58, 0.33],
    }
    kinds = {
        "quanzhou": "bootstrap_documents",
        "taizhou": "within_document_units",
        "wenzhou": "within_document_units",
    }
    rows = []
    for city in CITIES:
        for topic, share in enumerate(shares[city]):
            rows.append(
                {
                    "city": city,
                    "topic": topic,
                    "label": LABELS[topic],
                    "share": share,
                    "diff_from_rest": share - 1 / 3,
                    "share_rest": 1 / 3,
                    "ci_low": share - 0.05,
                    "ci_high": share + 0.07,
                    "n_docs": 3 if city == "quanzhou" else 1,
                    "n_units": 40,
                    "n_units_empty": 0,
                    "interval": kinds[city],
                    "level": 0.95,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture
def topic_terms_table() -> pd.DataFrame:
    terms = {
        0: ["共同富裕", "收入", "群体", "高质量发展", "分配"],
        1: ["市域治理", "社会", "基层", "平安", "网格"],
        2: ["最多跑一次", "改革", "服务", "营商环境", "晋江经验"],
    }
    rows = [
        {"topic": t, "rank": r + 1, "term": term, "weight": round(1.0 / (r + 1) + 0.1 * t, 4)}
        for t, words in terms.items()
        for r, term in enumerate(words)
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def keyness_table() -> pd.DataFrame:
    terms = ["晋江经验", "营商环境", "两岸", "市域治理", "共同富裕", "最多跑一次", "改革"]
    g2 = [41.2, 18.5, 12.0, -25.3, -30.1, -3.2, 0.4]
    rows = []
    for i, (term, value) in enumerate(zip(terms, g2, strict=True)):
        rows.append(
            {
                "group": "quanzhou",
                "term": term,
                "count_group": 10 + i,
                "count_rest": 5 + i,
                "freq_group_per_10k": 12.5,
                "freq_rest_per_10k": 3.1,
                "g2": value,
                "chi2": abs(value),
                "p_value": 0.001 if abs(value) > 5 else 0.3,
                "p_adj": 0.004 if abs(value) > 5 else 0.9,
                "log_ratio": np.sign(value) * (1 + i / 10),
                "n_docs_group": 3,
                "n_units_group": 120,
                "rank": i + 1,
            }
        )
    other = dict(rows[0], group="wenzhou", term="市域治理", g2=25.3, log_ratio=1.5)
    return pd.DataFrame([*rows, other])


@pytest.fixture
def similarity_table() -> pd.DataFrame:
    labels = [f"{DOCS[0]}|八、构建高水平社会主义市场经济体制", f"{DOCS[1]}|市域治理", *DOCS[2:]]
    values = np.array(
        [
            [1.0, 0.2134, 0.3301, 0.1875],
            [0.2134, 1.0, 0.1502, 0.2411],
            [0.3301, 0.1502, 1.0, 0.2968],
            [0.1875, 0.2411, 0.2968, 1.0],
        ]
    )
    return pd.DataFrame(values, index=labels, columns=labels)


@pytest.fixture
def select_k_table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "k": [4, 6, 8, 10],
            "method": "nmf",
            "coherence_npmi": [0.0812, 0.1033, 0.0951, 0.0724],
            "stability_restarts": [0.71, 0.78, 0.66, 0.59],
            "stability_restarts_sd": [0.05, 0.04, 0.07, 0.08],
            "stability_subsamples": [0.62, 0.7, 0.6, 0.51],
            "stability_subsamples_sd": [0.06, np.nan, 0.05, 0.09],
            "n_runs": 5,
        }
    )


@pytest.fixture(autouse=True)
def _strict_and_tidy():
    """Every warning (e.g. a missing glyph) fails; figures are closed afterwards."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield
    plt.close("all")


@pytest.fixture
def all_figures(
    prevalence_table, topic_terms_table, keyness_table, similarity_table, select_k_table
) -> dict[str, Figure]:
    return {
        "topic_heatmap": plots.topic_heatmap(prevalence_table),
        "prevalence_intervals": plots.prevalence_intervals(prevalence_table),
        "top_terms": plots.top_terms(topic_terms_table, n=5, labels=LABELS),
        "keyness_bars": plots.keyness_bars(keyness_table, group="quanzhou", n=3),
        "similarity_matrix": plots.similarity_matrix(similarity_table),
        "k_selection": plots.k_selection(select_k_table),
    }


def _texts(fig: Figure) -> list[Text]:
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _has_han(s: str) -> bool:
    return any(unicodedata.name(ch, "").startswith("CJK UNIFIED") for ch in s)


# --------------------------------------------------------------------------- font


def test_bundled_font_is_static_truetype_with_licence():
    assert plots.FONT_PATH.is_file()
    assert (plots.FONT_PATH.parent / "OFL.txt").is_file()
    font = matplotlib.ft2font.FT2Font(str(plots.FONT_PATH))
    assert font.family_name == plots.FONT_FAMILY
    assert font.style_name == "Regular"
    head = plots.FONT_PATH.read_bytes()[: 12 + 16 * 40]
    assert head[:4] == b"\x00\x01\x00\x00"  # TrueType outlines, not CFF ("OTTO")
    assert b"glyf" in head and b"fvar" not in head  # static, not variable
    # Full GB2312 level-1 and level-2 hanzi: users plot their own corpora.
    hanzi = [
        bytes([b1, b2]).decode("gb2312")
        for b1 in range(0xB0, 0xF8)
        for b2 in range(0xA1, 0xFF)
        if not (b1 == 0xD7 and b2 > 0xF9)
    ]
    cmap = font.get_charmap()
    assert len(hanzi) == 6763
    assert all(ord(ch) in cmap for ch in hanzi)


def test_use_cjk_font_sets_rcparams_and_is_idempotent():
    family = plots.use_cjk_font()
    n_entries = len(font_manager.fontManager.ttflist)
    assert plots.use_cjk_font() == family == "Noto Sans SC"
    assert len(font_manager.fontManager.ttflist) == n_entries
    rc = matplotlib.rcParams
    assert rc["font.sans-serif"][0] == family
    assert rc["font.sans-serif"].count(family) == 1
    assert rc["font.family"] == ["sans-serif"]
    assert rc["axes.unicode_minus"] is False
    assert rc["pdf.fonttype"] == 42 and rc["ps.fonttype"] == 42
    assert rc["svg.fonttype"] == "path"
    resolved = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert resolved == str(plots.FONT_PATH)


def test_every_plot_renders_chinese_with_the_bundled_font(all_figures):
    for name, fig in all_figures.items():
        assert isinstance(fig, Figure), name
        fig.canvas.draw()  # glyphs are looked up here: a missing one would warn
        texts = _texts(fig)
        if name != "k_selection":  # the only plot whose table holds no Chinese
            assert any(_has_han(t.get_text()) for t in texts), f"{name} shows no Chinese text"
        for text in texts:
            path = font_manager.findfont(text.get_fontproperties())
            assert path == str(plots.FONT_PATH), (name, text.get_text(), path)


def test_font_is_reapplied_after_rc_reset(prevalence_table):
    plots.use_cjk_font()
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        assert matplotlib.rcParams["font.sans-serif"][0] != plots.FONT_FAMILY
        fig = plots.topic_heatmap(prevalence_table)
        fig.canvas.draw()
        assert matplotlib.rcParams["font.sans-serif"][0] == plots.FONT_FAMILY


def test_user_font_path_overrides_and_bad_fonts_fail_clearly(tmp_path, prevalence_table):
    try:
        assert plots.use_cjk_font(str(plots.FONT_PATH)) == plots.FONT_FAMILY
        assert plots.use_cjk_font(plots.FONT_PATH) == plots.FONT_FAMILY
        assert plots.use_cjk_font("Noto Sans SC") == plots.FONT_FAMILY
        plots.prevalence_intervals(prevalence_table).canvas.draw()

        missing = tmp_path / "no-such-font.ttf"
        with pytest.raises(FileNotFoundError, match="no-such-font.ttf"):
            plots.use_cjk_font(missing)
        not_a_font = tmp_path / "notes.ttf"
        not_a_font.write_text("共同富裕", encoding="utf-8")
        with pytest.raises(ValueError, match="notes.ttf"):
            plots.use_cjk_font(not_a_font)
        with pytest.raises(ValueError, match="No Such Family"):
            plots.use_cjk_font("No Such Family")
    finally:
        plots.use_cjk_font()


# --------------------------------------------------------------------------- export


def test_exports_embed_font_and_are_byte_identical(tmp_path, all_figures):
    for name, fig in all_figures.items():
        for ext in ("pdf", "svg", "png"):
            first = plots.save_figure(fig, tmp_path / f"{name}.{ext}")
            data = first.read_bytes()
            again = plots.save_figure(fig, tmp_path / f"{name}-again.{ext}").read_bytes()
            assert data == again, f"{name}.{ext} differs between saves"
            if ext == "pdf":
                assert data.startswith(b"%PDF")
                assert b"NotoSansSC-Regular" in data and b"FontFile2" in data, name
                assert b"CreationDate" not in data
            elif ext == "svg":
                text = data.decode("utf-8")
                assert "NotoSansSC-Regular" in text  # glyph outlines as <path> defs
                assert "<text" not in text and "<dc:date>" not in text
            else:
                assert data.startswith(b"\x89PNG")
    assert not list(tmp_path.glob(".*.tmp"))


def test_same_input_gives_same_svg(tmp_path, prevalence_table):
    a = plots.save_figure(plots.topic_heatmap(prevalence_table), tmp_path / "a.svg")
    b = plots.save_figure(plots.topic_heatmap(prevalence_table), tmp_path / "b.svg")
    assert a.read_bytes() == b.read_bytes()


def test_save_figure_is_atomic(tmp_path, prevalence_table, monkeypatch):
    fig = plots.topic_heatmap(prevalence_table)
    target = tmp_path / "out" / "heatmap.png"
    plots.save_figure(fig, target)
    before = target.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        plots.save_figure(fig, target)
    assert target.read_bytes() == before
    assert sorted(p.name for p in target.parent.iterdir()) == ["heatmap.png"]
    with pytest.raises(ValueError, match=r"heatmap\.jpg"):
        plots.save_figure(fig, tmp_path / "heatmap.jpg")


# --------------------------------------------------------------------------- content


def test_topic_heatmap_cells(prevalence_table):
    before = prevalence_table.copy()
    fig = plots.topic_heatmap(prevalence_table)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        f"T{t} {label}" for t, label in LABELS.items()
    ]
    assert [t.get_text() for t in ax.get_xticklabels()] == CITIES
    cells = [t.get_text() for t in ax.texts]
    # row-major: topic 0 across cities, then topic 1 ...
    assert cells[:3] == ["0.22", "0.61", "0.09"]
    pd.testing.assert_frame_equal(prevalence_table, before)

    fig = plots.topic_heatmap(prevalence_table, value="diff_from_rest")
    assert fig.axes[0].texts[0].get_text() == "-0.11"


def test_topic_heatmap_turns_long_group_labels_only(prevalence_table):
    fig = plots.topic_heatmap(prevalence_table)  # city names fit their columns
    assert {t.get_rotation() for t in fig.axes[0].get_xticklabels()} == {0.0}

    doc_of_city = dict(zip(CITIES, DOCS[:3], strict=True))
    by_doc = prevalence_table.assign(doc_id=prevalence_table["city"].map(doc_of_city))
    ax = plots.topic_heatmap(by_doc, by="doc_id").axes[0]
    labels = ax.get_xticklabels()
    assert [t.get_text() for t in labels] == sorted(DOCS[:3])
    # vertical, not slanted: a slanted label wider than its column overlaps its neighbours
    assert {t.get_rotation() for t in labels} == {90.0}
    # the layout makes room for the slanted labels: none is cut off by the figure edge
    fig = ax.figure
    fig.draw_without_rendering()
    inside = fig.bbox.padded(1)
    corners = [corner for t in labels for corner in t.get_window_extent().corners()]
    assert all(inside.contains(*corner) for corner in corners)


def test_prevalence_intervals_name_the_interval_kind(prevalence_table):
    fig = plots.prevalence_intervals(prevalence_table)
    ax = fig.axes[0]
    legends = fig.findobj(matplotlib.legend.Legend)
    legend_texts = [t.get_text() for legend in legends for t in legend.get_texts()]
    assert plots.INTERVAL_STYLES["bootstrap_documents"]["label"] in legend_texts
    assert plots.INTERVAL_STYLES["within_document_units"]["label"] in legend_texts
    assert plots.INTERVAL_STYLES["none"]["label"] not in legend_texts
    assert set(CITIES) <= set(legend_texts)
    markers = {line.get_marker() for line in ax.get_lines() if len(line.get_xdata()) == 1}
    assert markers == {"o", "s"}
    titles = [legend.get_title().get_text() for legend in legends]
    assert "95% interval" in titles

    bad = prevalence_table.assign(interval="jackknife")
    with pytest.raises(ValueError, match="jackknife"):
        plots.prevalence_intervals(bad)


def test_top_terms_one_panel_per_topic(topic_terms_table):
    fig = plots.top_terms(topic_terms_table, n=3, labels=LABELS)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 3
    assert [ax.get_title() for ax in visible] == [f"T{t} {label}" for t, label in LABELS.items()]
    assert [t.get_text() for t in visible[0].get_yticklabels()] == ["共同富裕", "收入", "群体"]
    widths = [bar.get_width() for bar in visible[2].patches]
    assert widths == sorted(widths, reverse=True) and len(widths) == 3
    # labels as a Series (TopicModel.labels_) and no labels at all
    fig = plots.top_terms(topic_terms_table, labels=pd.Series(LABELS))
    assert fig.axes[1].get_title() == f"T1 {LABELS[1]}"
    assert plots.top_terms(topic_terms_table).axes[0].get_title() == "T0"


def test_keyness_bars_signed_and_ordered(keyness_table):
    fig = plots.keyness_bars(keyness_table, group="quanzhou", n=2)
    ax = fig.axes[0]
    terms = [t.get_text() for t in ax.get_yticklabels()]
    assert terms == ["晋江经验", "营商环境", "市域治理", "共同富裕"]
    widths = [bar.get_width() for bar in ax.patches]
    assert widths == [41.2, 18.5, -25.3, -30.1]

    fig = plots.keyness_bars(keyness_table, group="quanzhou", n=15, measure="log_ratio")
    widths = [bar.get_width() for bar in fig.axes[0].patches]
    assert widths == sorted(widths, reverse=True) and len(widths) == 7
    faint = [bar.get_alpha() for bar in fig.axes[0].patches]
    assert sorted(set(faint)) == [0.35, 1.0]  # p_adj 0.9 rows are pale

    with pytest.raises(ValueError, match="taizhou"):
        plots.keyness_bars(keyness_table, group="taizhou")
    with pytest.raises(ValueError, match="measure"):
        plots.keyness_bars(keyness_table, group="quanzhou", measure="chi2")


def test_similarity_matrix_annotations(similarity_table):
    fig = plots.similarity_matrix(similarity_table)
    ax = fig.axes[0]
    cells = [t.get_text() for t in ax.texts]
    assert len(cells) == 16 and cells[:4] == ["1.00", "0.21", "0.33", "0.19"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == similarity_table.index[0][:39] + "…"  # cut at max_label_chars=40
    assert labels[1:] == list(similarity_table.index[1:])
    full = plots.similarity_matrix(similarity_table, max_label_chars=100).axes[0]
    assert full.get_xticklabels()[0].get_text() == similarity_table.index[0]
    assert not plots.similarity_matrix(similarity_table, annotate=False).axes[0].texts

    with pytest.raises(ValueError, match="square"):
        plots.similarity_matrix(similarity_table.iloc[:, :3])
    with pytest.raises(ValueError, match="square"):
        plots.similarity_matrix(similarity_table.iloc[::-1])


def test_k_selection_curves_and_bands(select_k_table):
    fig = plots.k_selection(select_k_table)
    ax_coh, ax_stab = fig.axes
    assert list(ax_coh.get_lines()[0].get_xdata()) == [4, 6, 8, 10]
    assert len(ax_stab.get_lines()) == 2
    assert len(ax_stab.collections) == 2 and not ax_coh.collections  # sd bands only where given
    no_sd = select_k_table.drop(columns=["stability_restarts_sd", "stability_subsamples_sd"])
    assert not plots.k_selection(no_sd).axes[1].collections


def test_k_selection_bands_stay_within_the_range_of_each_measure(select_k_table):
    wide = select_k_table.assign(
        coherence_npmi=[0.95, -0.9, 0.1, 0.0],
        coherence_npmi_sd=[0.2, 0.3, 0.05, 0.1],
        stability_restarts=[0.97, 0.9, 0.1, 1.0],
        stability_restarts_sd=[0.1, 0.2, 0.3, 0.0],
    )
    ax_coh, ax_stab = plots.k_selection(wide).axes

    def band_limits(collection):
        y = np.concatenate([path.vertices[:, 1] for path in collection.get_paths()])
        return y.min(), y.max()

    low, high = band_limits(ax_coh.collections[0])
    assert low == -1.0 and high == 1.0  # 0.95 + 0.2 and -0.9 - 0.3 are clipped
    restarts = ax_stab.collections[0]
    low, high = band_limits(restarts)
    assert low == 0.0 and high == 1.0  # 0.1 - 0.3 and 0.97 + 0.1 are clipped
    # bands inside the range are left alone
    low, high = band_limits(plots.k_selection(select_k_table).axes[1].collections[0])
    assert (low, high) == pytest.approx((0.59 - 0.08, 0.78 + 0.04))


@pytest.mark.parametrize(
    ("func", "fixture", "kwargs", "dropped"),
    [
        (plots.topic_heatmap, "prevalence_table", {}, "share"),
        (plots.topic_heatmap, "prevalence_table", {"by": "doc_type"}, "doc_type"),
        (plots.prevalence_intervals, "prevalence_table", {}, "ci_low"),
        (plots.prevalence_intervals, "prevalence_table", {}, "interval"),
        (plots.top_terms, "topic_terms_table", {}, "weight"),
        (plots.keyness_bars, "keyness_table", {"group": "quanzhou"}, "g2"),
        (plots.k_selection, "select_k_table", {}, "stability_subsamples"),
    ],
)
def test_missing_columns_are_named(request, func, fixture, kwargs, dropped):
    table = request.getfixturevalue(fixture)
    if dropped in table.columns:
        table = table.drop(columns=[dropped])
    with pytest.raises(ValueError, match=f"missing required column.*'{dropped}'"):
        func(table, **kwargs)


def test_import_policystudy_does_not_import_matplotlib():
    code = "import sys, policystudy; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _luminance(color) -> float:
    channels = [
        c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
        for c in matplotlib.colors.to_rgb(color)
    ]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


@pytest.mark.parametrize("value", ["share", "diff_from_rest"])
def test_heatmap_cell_text_contrasts_with_the_rendered_cell(prevalence_table, value):
    # The diverging map is pale in the middle and dark at both ends: the text colour
    # must follow the colour drawn, not the value's place in the colour range.
    fig = plots.topic_heatmap(prevalence_table, value=value)
    ax = fig.axes[0]
    mesh = ax.collections[0]
    colors = mesh.cmap(mesh.norm(np.ravel(mesh.get_array())))  # row-major, like the texts
    for text, cell in zip(ax.texts, colors, strict=True):
        lum_cell, lum_text = _luminance(cell), _luminance(text.get_color())
        ratio = (max(lum_cell, lum_text) + 0.05) / (min(lum_cell, lum_text) + 0.05)
        assert ratio >= 4.5, (text.get_text(), text.get_color(), cell)
    plt.close(fig)


def test_figures_name_columns_in_words(prevalence_table, keyness_table):
    fig = plots.topic_heatmap(prevalence_table, value="diff_from_rest")
    ax, cax = fig.axes[0], fig.axes[1]
    shown = [ax.get_title(), ax.get_xlabel(), cax.get_ylabel()]
    fig = plots.keyness_bars(keyness_table, group="quanzhou")
    shown += [fig.axes[0].get_xlabel(), fig.axes[0].get_title()]
    for raw in ("diff_from_rest", "g2", "log_ratio", "p_adj"):
        assert not any(raw in text for text in shown), (raw, shown)
    assert "share minus the other groups' share" in cax.get_ylabel()
    assert plots.figure_title(plots.topic_heatmap(prevalence_table)) == "Topic prevalence by city"
    plt.close("all")


# --------------------------------------------------------------------------- scaling
# Figures at 3 and at 40 groups (and topics): tick labels do not overlap in the
# rendered figure, no side exceeds 3000 px at the saved resolution, and no colour
# stands for two groups.

SAVE_DPI = 150  # save_figure's default


def _group_names(n: int) -> list[str]:
    # Labels of realistic length: a few short, some as long as a doc_id.
    return [f"区县{i:02d}" if i % 3 else f"region-{i:02d}-municipal-plan" for i in range(n)]


def _prevalence(n_groups: int, n_topics: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for g, name in enumerate(_group_names(n_groups)):
        for t in range(n_topics):
            share = float(rng.uniform(0.02, 0.4))
            rows.append(
                {
                    "group": name, "topic": t, "label": f"主题{t}/服务/建设/发展", "share": share,
                    "diff_from_rest": share - 0.2, "ci_low": share * 0.8, "ci_high": share * 1.2,
                    "n_docs": 1 + g % 3, "n_units": 10,
                    "interval": "bootstrap_documents" if g % 3 else "within_document_units",
                    "level": 0.95,
                }
            )  # fmt: skip
    return pd.DataFrame(rows)


def _topic_terms(n_topics: int) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"topic": t, "rank": r + 1, "term": f"词语{t}{r}", "weight": 1.0 / (r + 1)}
            for t in range(n_topics)
            for r in range(10)
        ]
    )


def _similarity(n: int) -> pd.DataFrame:
    names = _group_names(n)
    rng = np.random.default_rng(1)
    values = rng.uniform(0, 1, (n, n))
    values = (values + values.T) / 2
    np.fill_diagonal(values, 1.0)
    return pd.DataFrame(values, index=names, columns=names)


def _keyness(n_terms: int) -> pd.DataFrame:
    g2 = np.linspace(40, -40, n_terms)
    return pd.DataFrame(
        {"group": "g", "term": [f"术语{i:03d}" for i in range(n_terms)], "g2": g2, "p_adj": 0.01}
    )


def _units(n_docs: int) -> pd.DataFrame:
    kinds = ["heading", "item", "paragraph", "title"]
    return pd.DataFrame(
        [{"doc_id": d, "kind": kinds[i % 4]} for d in _group_names(n_docs) for i in range(6)]
    )


def _figures(n: int) -> dict[str, Figure]:
    prevalence = _prevalence(n)
    return {
        "topic_heatmap": plots.topic_heatmap(prevalence, by="group"),
        "topic_heatmap_diff": plots.topic_heatmap(prevalence, by="group", value="diff_from_rest"),
        "topic_heatmap_topics": plots.topic_heatmap(_prevalence(3, n), by="group"),
        "prevalence_intervals": plots.prevalence_intervals(prevalence, by="group"),
        "prevalence_intervals_topics": plots.prevalence_intervals(_prevalence(3, n), by="group"),
        "top_terms": plots.top_terms(_topic_terms(n), labels={t: f"主题{t}" for t in range(n)}),
        "keyness_bars": plots.keyness_bars(_keyness(2 * n), group="g", n=n),
        "similarity_matrix": plots.similarity_matrix(_similarity(n)),
        "units_per_document": plots.units_per_document(_units(n)),
    }


def _overlaps(boxes: list) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]


@pytest.mark.parametrize("n", [3, 40])
def test_figures_scale_without_overlapping_labels(n: int) -> None:
    for name, fig in _figures(n).items():
        width, height = fig.get_size_inches() * SAVE_DPI
        assert max(width, height) <= 3000, f"{name} at {n}: {width:.0f} x {height:.0f} px"
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for ax in fig.axes:
            if not ax.get_visible():
                continue
            for axis in (ax.xaxis, ax.yaxis):
                labels = [t for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
                boxes = [t.get_window_extent(renderer).shrunk(0.98, 0.98) for t in labels]
                clash = _overlaps(boxes)
                assert not clash, (
                    f"{name} at {n}: tick labels overlap, e.g. "
                    f"{labels[clash[0][0]].get_text()!r} / {labels[clash[0][1]].get_text()!r}"
                )
        plt.close(fig)


def _colour(artist) -> tuple:
    colour = artist.get_facecolor() if isinstance(artist, Patch) else artist.get_color()
    return tuple(np.round(matplotlib.colors.to_rgba(colour), 3))


@pytest.mark.parametrize("n", [3, 40])
def test_no_colour_stands_for_two_groups(n: int) -> None:
    prevalence = _prevalence(n)
    fig = plots.prevalence_intervals(prevalence, by="group")
    legends = [lg for lg in fig.findobj(matplotlib.legend.Legend) if lg.get_title().get_text()]
    group_legend = [lg for lg in legends if lg.get_title().get_text() == "group"]
    if n <= plots.PALETTE_SIZE:
        (legend,) = group_legend
        colours = [_colour(h) for h in legend.legend_handles]
        assert len(colours) == n and len(set(colours)) == n
    else:
        # No colour legend: every group is named on the y axis of the panels instead.
        assert not group_legend
        named = {t.get_text() for t in fig.axes[0].get_yticklabels()}
        assert named == set(_group_names(n))
        drawn = {_colour(line) for ax in fig.axes for line in ax.get_lines()}
        assert len(drawn) == 1  # one colour, which therefore distinguishes nothing
    terms = plots.top_terms(_topic_terms(n))
    bar_colours = [
        {_colour(p) for p in ax.patches} for ax in terms.axes if ax.get_visible() and ax.patches
    ]
    if n <= plots.PALETTE_SIZE:
        flat = [c for colours in bar_colours for c in colours]
        assert len(flat) == len(set(flat)) == n
    else:
        assert len(set().union(*bar_colours)) == 1
    units = plots.units_per_document(_units(n))
    kinds = [_colour(p) for p in units.axes[0].get_legend().legend_handles]
    assert len(kinds) == len(set(kinds))


def test_prevalence_intervals_refuses_more_groups_than_colours_on_a_given_axes() -> None:
    _, ax = plt.subplots()
    with pytest.raises(ValueError, match="colours"):
        plots.prevalence_intervals(_prevalence(12), by="group", ax=ax)
