"""Word clouds: drawn with the bundled font, no missing glyphs, reproducible."""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from policystudy.features import Features, build_features
from policystudy.plot_wordcloud import (
    group_wordclouds,
    topic_wordclouds,
    wordcloud_figure,
    wordcloud_image,
)
from policystudy.plots import _shorten, save_figure
from policystudy.topics import TopicModel, fit_topics

WEIGHTS = {"共同富裕": 9.0, "高质量发展": 7.5, "乡村振兴": 6.0, "数字经济": 4.0, "治理": 3.0,
           "营商环境": 2.5, "GDP": 2.0, "绿色": 1.5, "民生": 1.0}  # fmt: skip
SMALL = {"width": 240, "height": 140}


@pytest.fixture(scope="module")
def features(tokens: pd.DataFrame) -> Features:
    return build_features(tokens)


@pytest.fixture(scope="module")
def model(features: Features) -> TopicModel:
    return fit_topics(features, k=3, random_state=0, cache=False)


def test_renders_chinese_without_warnings(tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = wordcloud_figure(WEIGHTS, title="词云 · 示例", **SMALL)
        save_figure(fig, tmp_path / "cloud.png")
        pdf = save_figure(fig, tmp_path / "cloud.pdf").read_bytes()
        svg = save_figure(fig, tmp_path / "cloud.svg").read_text(encoding="utf-8")
    plt.close(fig)
    # The title is text in the embedded font; the SVG has outlines, no <text>.
    assert b"/FontFile2" in pdf and b"NotoSansSC" in pdf
    assert "<text" not in svg


def test_draws_something() -> None:
    image = wordcloud_image(WEIGHTS, **SMALL)
    assert image.shape == (140, 240, 3) and image.dtype == np.uint8
    # White background with coloured words on it.
    assert (image != 255).any(axis=2).mean() > 0.05


def test_same_seed_same_picture_whatever_the_input_order() -> None:
    a = wordcloud_image(WEIGHTS, random_state=3, **SMALL)
    b = wordcloud_image(dict(reversed(list(WEIGHTS.items()))), random_state=3, **SMALL)
    c = wordcloud_image(pd.Series(WEIGHTS), random_state=3, **SMALL)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)
    assert not np.array_equal(a, wordcloud_image(WEIGHTS, random_state=4, **SMALL))


def test_saved_bytes_are_reproducible(tmp_path: Path) -> None:
    first = wordcloud_figure(WEIGHTS, **SMALL)
    second = wordcloud_figure(WEIGHTS, **SMALL)
    a = save_figure(first, tmp_path / "a.png").read_bytes()
    b = save_figure(second, tmp_path / "b.png").read_bytes()
    plt.close(first)
    plt.close(second)
    assert a == b


def test_missing_glyph_is_reported() -> None:
    with pytest.warns(UserWarning, match="no glyph"):
        wordcloud_image({"发展": 2.0, "😀": 1.0}, **SMALL)


def test_refuses_nothing_to_draw() -> None:
    with pytest.raises(ValueError, match="nothing to draw"):
        wordcloud_image({"发展": 0.0, "治理": float("nan")})
    with pytest.raises(TypeError):
        wordcloud_image(["发展"])  # type: ignore[arg-type]


def test_topic_and_group_clouds(tmp_path: Path, model: TopicModel, features: Features) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = topic_wordclouds(model, n=20, **SMALL)
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        assert titles == [f"T{t} {_shorten(model.labels_[t], 18)}" for t in range(3)]
        save_figure(fig, tmp_path / "topics.png")
        plt.close(fig)
        fig = group_wordclouds(features, by="city", n=20, **SMALL)
        groups = sorted(features.units["city"].dropna().unique())
        assert [ax.get_title() for ax in fig.axes if ax.get_title()] == [
            f"city = {g}" for g in groups
        ]
        plt.close(fig)
        fig = group_wordclouds(features, by="city", n=20, weight="count", **SMALL)
        plt.close(fig)
    with pytest.raises(ValueError, match="weight"):
        group_wordclouds(features, by="city", weight="g2")
