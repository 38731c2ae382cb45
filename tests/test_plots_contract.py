"""The figures take the library's real tables: prevalence, keyness, similarity, select_k.

test_plots.py checks the figures on hand-made tables shaped like the library's;
here every plot gets the tables the library itself returns on the bundled corpus,
so a renamed column, a changed dtype or a new index on either side fails here.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # tests only: the library never picks a backend

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from policystudy import compare, plots  # noqa: E402
from policystudy.features import Features  # noqa: E402
from policystudy.topics import TopicModel, fit_topics, select_k  # noqa: E402

K = 4


@pytest.fixture(scope="module")
def model(features: Features) -> TopicModel:
    return fit_topics(features, K, random_state=0)


@pytest.fixture(scope="module")
def tables(features: Features, model: TopicModel) -> dict[str, pd.DataFrame]:
    return {
        "prevalence": compare.prevalence(model, by="city", n_boot=50),
        "prevalence_doc_type": compare.prevalence(model, by="doc_type", n_boot=50),
        "keyness": compare.keyness(features, by="city"),
        "similarity": compare.similarity(features, level="doc"),
        "similarity_section": compare.similarity(features, level="section"),
        "select_k": select_k(features, ks=(3, 4), n_restarts=1, n_subsamples=1),
        "topic_terms": model.topic_terms_,
        "units": features.units,
    }


#: Each plot of policystudy.plots with the library tables it draws.
PLOTS = {
    "topic_heatmap": lambda t: [
        plots.topic_heatmap(t["prevalence"], by="city"),
        plots.topic_heatmap(t["prevalence"], by="city", value="diff_from_rest"),
        plots.topic_heatmap(t["prevalence_doc_type"], by="doc_type"),
    ],
    "prevalence_intervals": lambda t: [
        plots.prevalence_intervals(t["prevalence"], by="city"),
        plots.prevalence_intervals(t["prevalence_doc_type"], by="doc_type"),
    ],
    "keyness_bars": lambda t: [
        plots.keyness_bars(t["keyness"], group=group) for group in t["keyness"]["group"].unique()
    ],
    "similarity_matrix": lambda t: [
        plots.similarity_matrix(t["similarity"]),
        plots.similarity_matrix(t["similarity_section"]),
    ],
    "k_selection": lambda t: [plots.k_selection(t["select_k"])],
    "top_terms": lambda t: [plots.top_terms(t["topic_terms"])],
    "units_per_document": lambda t: [plots.units_per_document(t["units"])],
}
#: Functions of policystudy.plots that draw no table.
NOT_PLOTS = {"figure_title", "save_figure", "use_cjk_font"}


def test_every_plot_is_in_the_contract() -> None:
    functions = {name for name in plots.__all__ if callable(getattr(plots, name))}
    assert functions - NOT_PLOTS == set(PLOTS)


@pytest.mark.parametrize("name", sorted(PLOTS))
def test_plot_draws_the_library_table(name: str, tables: dict[str, pd.DataFrame]) -> None:
    before = {key: table.copy() for key, table in tables.items()}
    figures = PLOTS[name](tables)
    try:
        assert figures and all(isinstance(fig, Figure) for fig in figures)
        for fig in figures:
            fig.canvas.draw()
            assert any(ax.has_data() or ax.images or ax.texts for ax in fig.axes)
    finally:
        for fig in figures:
            plt.close(fig)
    # A figure never changes the table it draws.
    for key, table in tables.items():
        pd.testing.assert_frame_equal(table, before[key])


def test_heatmap_shows_every_group_and_topic(tables: dict[str, pd.DataFrame]) -> None:
    prevalence = tables["prevalence"]
    fig = plots.topic_heatmap(prevalence, by="city")
    try:
        fig.canvas.draw()
        ax = fig.axes[0]
        shown = {t.get_text() for t in [*ax.get_xticklabels(), *ax.get_yticklabels()]}
        assert set(prevalence["city"]) <= shown
        assert len(ax.get_yticklabels()) == prevalence["topic"].nunique()
    finally:
        plt.close(fig)
