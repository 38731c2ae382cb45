"""Seeded NMF through fit_topics(seed_words=...)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from policystudy import fit_topics
from policystudy.agenda import load_dictionary
from policystudy.features import build_features
from policystudy.seeded import DEFAULT_FREE_TOPICS, resolve_seed_words


@pytest.fixture(scope="module")
def features(tokens: pd.DataFrame):
    return build_features(tokens)


def test_seeded_topics_put_their_seed_words_on_top(features) -> None:
    seeds = {"ecology": ["生态", "绿色", "生态环境", "污染"], "law": ["立法", "司法", "执法"]}
    model = fit_topics(features, k=6, seed_words=seeds)
    assert model.labels_.tolist()[:2] == ["ecology", "law"]
    assert all(label.startswith("free:") for label in model.labels_.tolist()[2:])
    for topic, words in enumerate(seeds.values()):
        top = set(model.top_terms(5).loc[topic, "terms"].split())
        assert len(top & set(words)) >= 2, (topic, top)


def test_default_seeds_are_the_dictionary_categories(features) -> None:
    model = fit_topics(features, seed_words="default")
    names = list(load_dictionary())
    assert model.k == len(names) + DEFAULT_FREE_TOPICS
    assert model.labels_.tolist()[: len(names)] == names
    top = model.top_terms(10)
    used = model.params["seed_words"]
    # Every seeded topic keeps at least three of its seed terms among its top ten.
    for topic, name in enumerate(names):
        assert len(set(top.loc[topic, "terms"].split()) & set(used[name])) >= 3, name
    shares = model.unit_topics_[[f"topic_{t}" for t in range(model.k)]].to_numpy()
    assert np.allclose(shares.sum(axis=1), 1.0)


def test_seeded_fits_are_deterministic(features) -> None:
    a = fit_topics(features, k=13, seed_words="default", random_state=3)
    b = fit_topics(features, k=13, seed_words="default", random_state=3)
    assert np.array_equal(a.components_, b.components_)
    assert np.array_equal(a.doc_topic_, b.doc_topic_)


def test_k_below_the_seeded_topics_is_an_error(features) -> None:
    with pytest.raises(ValueError, match="below the number of seeded topics"):
        fit_topics(features, k=8, seed_words="default")
    with pytest.raises(ValueError, match="nmf"):
        fit_topics(features, k=14, seed_words="default", method="lda")
    with pytest.raises(ValueError, match="no seed word"):
        fit_topics(features, k=4, seed_words={"x": ["不存在的词"]})


def test_seed_lists_resolve_prefixes_and_drop_absent_lists() -> None:
    vocab = ["党建", "党建引领", "生态", "绿色"]
    resolved, missing = resolve_seed_words(
        {"party": ["党建*"], "eco": ["生态", "碳"], "none": ["司法"]}, vocab
    )
    assert {k: v.tolist() for k, v in resolved.items()} == {"party": [0, 1], "eco": [2]}
    assert missing == {"party": [], "eco": ["碳"], "none": ["司法"]}


def test_unseeded_default_is_unchanged(features) -> None:
    assert fit_topics(features, cache=False).k == 8


def test_topics_command_with_default_seed_words(tmp_path) -> None:
    from policystudy.cli import main

    assert main(["topics", "--k", "12", "--seed-words", "default", "--out", str(tmp_path)]) == 0
    terms = pd.read_csv(tmp_path / "topic_terms.csv")
    assert terms["topic"].nunique() == 12
    units = pd.read_csv(tmp_path / "unit_topics.csv")
    assert set(units["label"]) <= set(load_dictionary())
    assert main(["topics", "--k", "8", "--seed-words", "default", "--out", str(tmp_path)]) == 2
