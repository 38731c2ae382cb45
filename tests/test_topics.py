"""Tests for policystudy.topics on the bundled corpus."""

from __future__ import annotations

import dataclasses
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from policystudy.features import Features, build_features
from policystudy.topics import (
    FALLBACK_SECTION_IDS,
    TopicModel,
    fit_topics,
    heading_agreement,
    match_topics,
    select_k,
    topic_coherence,
    validity_table,
)

K = 6


@pytest.fixture(scope="module")
def nmf(features: Features) -> TopicModel:
    return fit_topics(features, K)


@pytest.fixture(scope="module")
def lda(features: Features) -> TopicModel:
    return fit_topics(features, K, method="lda")


def _assert_same(a: TopicModel, b: TopicModel) -> None:
    assert np.array_equal(a.components_, b.components_)
    assert np.array_equal(a.doc_topic_, b.doc_topic_)
    pd.testing.assert_frame_equal(a.topic_terms_, b.topic_terms_)
    pd.testing.assert_frame_equal(a.unit_topics_, b.unit_topics_)


@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_default_fit_converges_without_warnings(features: Features, method: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = fit_topics(features, method=method, cache=False)
    assert model.k == 8 and model.method == method
    if method == "nmf":
        assert model.model_.n_iter_ < model.model_.max_iter


def test_same_seed_same_model(features: Features, nmf: TopicModel) -> None:
    _assert_same(nmf, fit_topics(features, K, cache=False))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("method", ["nmf", "lda"])
def test_fits_run_single_threaded(features: Features, monkeypatch, method: str) -> None:
    # The thread pools as the estimator sees them, recorded from inside its fit:
    # fit_topics must limit them to one thread whatever the caller allows.
    from sklearn.decomposition import NMF, LatentDirichletAllocation
    from threadpoolctl import threadpool_info

    cls = NMF if method == "nmf" else LatentDirichletAllocation
    seen: list[int] = []
    real = cls.fit_transform

    def spy(self, *args, **kwargs):
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        return real(self, *args, **kwargs)

    monkeypatch.setattr(cls, "fit_transform", spy)
    with threadpool_limits(limits=2):
        assert all(pool["num_threads"] <= 2 for pool in threadpool_info())
        fit_topics(features, 4, method=method, max_iter=5, cache=False)
    assert seen and set(seen) == {1}


def test_thread_count_does_not_change_results(features: Features, nmf: TopicModel) -> None:
    with threadpool_limits(limits=2):
        two_threads = fit_topics(features, K, cache=False)
    _assert_same(nmf, two_threads)


def test_lda_deterministic(features: Features, lda: TopicModel) -> None:
    _assert_same(lda, fit_topics(features, K, method="lda", cache=False))


def test_model_cache_returns_the_same_fit(features: Features, tokens, tmp_path) -> None:
    from policystudy.cache import ModelCache

    store = ModelCache(tmp_path)
    fresh = fit_topics(features, K, cache=False)
    first = fit_topics(features, K, cache=store)
    assert store.info()["entries"] == 1
    again = fit_topics(features, K, cache=store)
    assert store.info()["entries"] == 1  # read back, not refitted
    _assert_same(fresh, first)
    _assert_same(fresh, again)
    assert again.model_.n_iter_ == fresh.model_.n_iter_
    # every parameter and the matrix itself are part of the key
    fit_topics(features, K, cache=store, alpha_W=0.01)
    fit_topics(features, K, random_state=1, cache=store)
    fit_topics(build_features(tokens, min_df=3), K, cache=store)
    assert store.info()["entries"] == 4


@pytest.mark.parametrize("name", ["nmf", "lda"])
def test_unit_topic_shares(request: pytest.FixtureRequest, features: Features, name: str) -> None:
    model: TopicModel = request.getfixturevalue(name)
    table = model.unit_topics_
    share_cols = [f"topic_{t}" for t in range(model.k)]
    assert len(table) == features.n_units
    assert list(table["unit_id"]) == list(features.units["unit_id"])
    assert set(features.units.columns) <= set(table.columns)
    shares = table[share_cols].to_numpy()
    assert np.array_equal(shares, model.doc_topic_)
    assert (shares >= 0).all()
    totals = shares.sum(axis=1)
    has_topic = table["topic"].to_numpy() >= 0
    assert np.allclose(totals[has_topic], 1.0)
    assert (totals[~has_topic] == 0).all()
    assert has_topic.mean() > 0.9
    assert np.array_equal(table["topic"].to_numpy()[has_topic], shares[has_topic].argmax(axis=1))
    assert np.allclose(table["weight"].to_numpy()[has_topic], shares[has_topic].max(axis=1))
    expected = [model.labels_[t] if t >= 0 else "(no topic)" for t in table["topic"]]
    assert list(table["label"]) == expected


def test_topic_terms(features: Features, nmf: TopicModel) -> None:
    terms = nmf.topic_terms_
    assert list(terms.columns) == ["topic", "rank", "term", "weight"]
    assert len(terms) == K * nmf.n_top_terms
    assert terms.groupby("topic")["rank"].apply(list).map(lambda r: r == list(range(1, 11))).all()
    assert terms.groupby("topic")["weight"].apply(lambda w: w.is_monotonic_decreasing).all()
    assert set(terms["term"]) <= set(features.vocabulary)
    # Weights are shares of each topic's component row.
    row0 = nmf.components_[0] / nmf.components_[0].sum()
    col = {t: j for j, t in enumerate(features.vocabulary)}
    top0 = terms[terms["topic"] == 0]
    assert np.allclose(top0["weight"], [row0[col[t]] for t in top0["term"]])
    assert top0["term"].iloc[0] == features.vocabulary[nmf.components_[0].argmax()]
    wide = nmf.top_terms(15)
    assert list(wide.columns) == ["topic", "label", "terms"]
    assert wide["terms"].str.split(" ").map(len).eq(15).all()


def test_auto_labels_and_relabelling(nmf: TopicModel) -> None:
    first3 = nmf.topic_terms_[nmf.topic_terms_["rank"] <= 3].groupby("topic")["term"]
    assert list(nmf.labels_) == list(first3.apply("/".join))
    assert nmf.labels_.is_unique

    renamed = nmf.with_labels({0: "开放合作", 2: "基层治理"})
    assert renamed.labels_[0] == "开放合作" and renamed.labels_[2] == "基层治理"
    assert renamed.labels_[1] == nmf.labels_[1]
    assert (
        renamed.unit_topics_.loc[renamed.unit_topics_["topic"] == 0, "label"] == "开放合作"
    ).all()
    # The original model is unchanged.
    assert nmf.labels_[0] != "开放合作"
    assert "开放合作" not in set(nmf.unit_topics_["label"])
    assert nmf.set_labels({1: "x"}).labels_[1] == "x"

    with pytest.raises(KeyError, match="topic 99"):
        nmf.with_labels({99: "x"})
    with pytest.raises(ValueError, match="unique"):
        nmf.with_labels({0: "same", 1: "same"})
    with pytest.raises(ValueError, match="non-empty"):
        nmf.with_labels({0: ""})
    with pytest.raises(TypeError, match="int"):
        nmf.with_labels({"0": "x"})


def test_lda_topic_terms_are_probabilities(lda: TopicModel) -> None:
    probabilities = lda.components_ / lda.components_.sum(axis=1, keepdims=True)
    top1 = lda.topic_terms_[lda.topic_terms_["rank"] == 1]
    assert np.allclose(top1["weight"], probabilities.max(axis=1))
    assert lda.model_.__class__.__name__ == "LatentDirichletAllocation"


def test_match_topics_identical_runs_are_fully_stable(features: Features, nmf: TopicModel) -> None:
    matched = match_topics(nmf, fit_topics(features, K, cache=False))
    assert len(matched) == K
    assert (matched["jaccard"] == 1.0).all()
    assert list(matched["topic_a"]) == list(matched["topic_b"]) == list(range(K))
    other = match_topics(nmf, fit_topics(features, K, init="random", random_state=3, cache=False))
    assert sorted(other["topic_b"]) == list(range(K))
    assert ((other["jaccard"] >= 0) & (other["jaccard"] <= 1)).all()


def test_topic_coherence_matches_direct_count(
    tokens: pd.DataFrame, features: Features, nmf: TopicModel
) -> None:
    table = topic_coherence(nmf, features)
    assert list(table.columns) == ["topic", "label", "npmi", "n_pairs"]
    assert (table["n_pairs"] == 45).all()
    assert table["npmi"].between(-1, 1).all()
    # Recompute topic 0 from the units' token sets.
    by_id = dict(zip(tokens["unit_id"], tokens["tokens"], strict=True))
    sets = [set(by_id[u]) for u in features.units["unit_id"]]
    n = len(sets)
    top = list(nmf.topic_terms_.loc[nmf.topic_terms_["topic"] == 0, "term"])
    values = []
    for a, b in combinations(top, 2):
        p_a = sum(a in s for s in sets) / n
        p_b = sum(b in s for s in sets) / n
        p_ab = sum(a in s and b in s for s in sets) / n
        values.append(-1.0 if p_ab == 0 else np.log(p_ab / (p_a * p_b)) / -np.log(p_ab))
    assert np.isclose(table["npmi"].iloc[0], np.mean(values))


def test_select_k_table(features: Features) -> None:
    table = select_k(features, ks=(6, 4), n_restarts=2, n_subsamples=2, cache=False)
    assert list(table.columns) == [
        "k",
        "method",
        "coherence_npmi",
        "stability_restarts",
        "stability_restarts_sd",
        "stability_subsamples",
        "stability_subsamples_sd",
        "n_runs",
    ]
    assert list(table["k"]) == [4, 6]
    assert (table["method"] == "nmf").all()
    assert (table["n_runs"] == 5).all()
    assert table["coherence_npmi"].between(-1, 1).all()
    for col in ["stability_restarts", "stability_subsamples"]:
        assert table[col].between(0, 1).all()
    # Coherence is that of the model fit_topics returns for the same k.
    reference = topic_coherence(fit_topics(features, 6, cache=False), features)["npmi"].mean()
    assert table.loc[table["k"] == 6, "coherence_npmi"].iloc[0] == round(reference, 4)
    pd.testing.assert_frame_equal(
        table, select_k(features, ks=(4, 6), n_restarts=2, n_subsamples=2, cache=False)
    )


def test_select_k_lda_and_no_extra_runs(features: Features) -> None:
    table = select_k(features, ks=[4], method="lda", n_restarts=1, n_subsamples=0, max_iter=10)
    assert table["method"].iloc[0] == "lda"
    assert table["n_runs"].iloc[0] == 2
    assert 0 <= table["stability_restarts"].iloc[0] <= 1
    assert np.isnan(table["stability_restarts_sd"].iloc[0])
    assert np.isnan(table["stability_subsamples"].iloc[0])


def test_heading_agreement(nmf: TopicModel) -> None:
    table = heading_agreement(nmf)
    assert list(table.columns) == ["model", "measure", "value", "n_units", "n_sections"]
    assert list(table["model"]) == ["nmf", "nmf", "nmf+doc", "nmf+doc", "doc_only", "doc_only"]
    assert list(table["measure"]) == ["ami", "nmi"] * 3
    assert table["value"].between(-1, 1).all()
    assert table.loc[table["measure"] == "nmi", "value"].between(0, 1).all()
    units = nmf.unit_topics_
    real = ~units["section_id"].isin(FALLBACK_SECTION_IDS)
    assert (table["n_units"] == int(real.sum())).all()
    assert 0 < real.sum() < len(units)
    qualified = units.loc[real, "doc_id"] + "|" + units.loc[real, "section"]
    assert (table["n_sections"] == qualified.nunique()).all()
    # Counting every unit, fallback sections included, changes the sample.
    everything = heading_agreement(nmf, exclude_section_ids=())
    assert (everything["n_units"] == len(units)).all()


def _with_topics(model: TopicModel, topics: np.ndarray) -> TopicModel:
    return dataclasses.replace(model, unit_topics_=model.unit_topics_.assign(topic=topics))


def test_heading_agreement_known_answers(nmf: TopicModel) -> None:
    units = nmf.unit_topics_
    real = ~units["section_id"].isin(FALLBACK_SECTION_IDS).to_numpy()
    sections = (units["doc_id"] + "|" + units["section"].astype(str)).to_numpy()
    # Topics that are the sections themselves: AMI 1 for the topics and for topics
    # within documents; the document alone knows less.
    as_sections = _with_topics(nmf, pd.factorize(sections)[0])
    table = heading_agreement(as_sections).set_index(["model", "measure"])["value"]
    assert table[("nmf", "ami")] == 1.0
    assert table[("nmf+doc", "ami")] == 1.0
    assert table[("doc_only", "ami")] < 0.9
    # The document baseline is the documents as clusters, whatever the topics.
    n_sections = len(set(sections[real]))
    by_doc = _with_topics(nmf, pd.factorize(units["doc_id"])[0])
    doc_table = heading_agreement(by_doc).set_index(["model", "measure"])["value"]
    assert doc_table[("nmf", "ami")] == table[("doc_only", "ami")]
    assert doc_table[("nmf+doc", "ami")] == table[("doc_only", "ami")]
    # A random partition into as many topics as a model has: AMI is corrected for
    # chance and stays near 0, NMI is not (it grows with the number of clusters).
    rng = np.random.default_rng(0)
    random = _with_topics(nmf, rng.integers(0, K, size=len(units)))
    rand_table = heading_agreement(random).set_index(["model", "measure"])["value"]
    assert abs(rand_table[("nmf", "ami")]) < 0.05
    assert rand_table[("nmf", "nmi")] > 0.1
    assert n_sections > K


def test_validity_table(features: Features) -> None:
    table = validity_table(features, K)
    assert list(table["model"]) == [
        "nmf",
        "nmf",
        "nmf+doc",
        "nmf+doc",
        "lda",
        "lda",
        "lda+doc",
        "lda+doc",
        "doc_only",
        "doc_only",
    ]
    assert table["value"].between(-1, 1).all()
    assert table["n_units"].nunique() == 1


def test_bad_arguments(features: Features) -> None:
    with pytest.raises(ValueError, match="method"):
        fit_topics(features, 4, method="lsa")
    with pytest.raises(ValueError, match="k="):
        fit_topics(features, features.n_units + 1)
    with pytest.raises(ValueError, match="k must be"):
        fit_topics(features, 1)
    with pytest.raises(TypeError, match="random_state"):
        fit_topics(features, 4, n_components=5)
    with pytest.raises(TypeError, match="Features"):
        fit_topics(features.tfidf, 4)
    with pytest.raises(ValueError, match="subsample_frac"):
        select_k(features, ks=[4], subsample_frac=1.5)


# --------------------------------------------------------------------------- NMF precision


def test_bundled_corpus_resolves_to_float64(features: Features, nmf: TopicModel) -> None:
    # The published outputs depend on it: the bundled corpus is below the threshold.
    from policystudy.topics import FLOAT32_MIN_UNITS

    assert features.n_units < FLOAT32_MIN_UNITS
    assert nmf.dtype_ == "float64" and nmf.model_.components_.dtype == np.float64
    explicit = fit_topics(features, K, dtype="float64", cache=False)
    _assert_same(nmf, explicit)
    assert np.array_equal(nmf.model_.components_, explicit.model_.components_)


@pytest.mark.parametrize(
    ("offset", "expected"), [(0, "float32"), (-50, "float32"), (1, "float64"), (100, "float64")]
)
def test_auto_dtype_follows_the_number_of_units(
    features: Features, monkeypatch, offset: int, expected: str
) -> None:
    # The threshold moved around the bundled corpus's size instead of a big corpus.
    from policystudy.topics import _fit, resolve_dtype

    monkeypatch.setattr(_fit, "FLOAT32_MIN_UNITS", features.n_units + offset)
    assert resolve_dtype("auto", features.n_units) == expected
    assert resolve_dtype("auto", features.n_units, "lda") == "float64"
    model = fit_topics(features, K, cache=False)
    assert model.dtype_ == expected
    assert model.model_.components_.dtype == np.dtype(expected)
    # What "auto" fitted is exactly the explicit fit in that precision.
    _assert_same(model, fit_topics(features, K, dtype=expected, cache=False))
    assert fit_topics(features, K, method="lda", max_iter=5, cache=False).dtype_ == "float64"


def test_float32_fit_is_float32_inside_and_float64_outside(
    features: Features, nmf: TopicModel
) -> None:
    single = fit_topics(features, K, dtype="float32", cache=False)
    assert single.dtype_ == "float32"
    assert single.model_.components_.dtype == np.float32
    assert single.model_.reconstruction_err_.dtype == np.float32
    assert single.components_.dtype == np.float64 and single.doc_topic_.dtype == np.float64
    share_cols = [f"topic_{t}" for t in range(K)]
    assert single.unit_topics_[share_cols].dtypes.eq(np.float64).all()
    assert np.allclose(single.doc_topic_.sum(axis=1)[single.unit_topics_["topic"] >= 0], 1.0)
    # Another computation (not the float64 numbers relabelled) with the same topics.
    assert not np.array_equal(single.doc_topic_, nmf.doc_topic_)
    assert np.abs(single.doc_topic_ - nmf.doc_topic_).max() < 1e-3
    assert (match_topics(nmf, single)["jaccard"] == 1.0).all()
    assert np.array_equal(single.unit_topics_["topic"], nmf.unit_topics_["topic"])
    # Deterministic like float64.
    _assert_same(single, fit_topics(features, K, dtype="float32", cache=False))


def test_select_k_resolves_the_dtype_once(features: Features, monkeypatch) -> None:
    # Subsamples have fewer units than the threshold here; they still fit in float32.
    from policystudy.topics import _evaluation, _fit

    monkeypatch.setattr(_fit, "FLOAT32_MIN_UNITS", features.n_units)
    seen: list[tuple[int, str]] = []
    real = _evaluation._fit_matrix

    def spy(matrix, *args):
        estimator, weights = real(matrix, *args)
        seen.append((matrix.shape[0], estimator.components_.dtype.name))
        return estimator, weights

    monkeypatch.setattr(_evaluation, "_fit_matrix", spy)
    select_k(features, ks=[4], n_restarts=1, n_subsamples=1, cache=False)
    assert [dtype for _, dtype in seen] == ["float32"] * 3
    assert min(n for n, _ in seen) < features.n_units  # the subsample was fitted
    seen.clear()
    select_k(features, ks=[4], n_restarts=1, n_subsamples=0, dtype="float64", cache=False)
    assert [dtype for _, dtype in seen] == ["float64"] * 2


def test_bad_dtype(features: Features) -> None:
    allowed = "'auto', 'float64', 'float32'"
    for bad in ("float16", "FLOAT32", "", None, np.float32):
        with pytest.raises(ValueError, match=allowed):
            fit_topics(features, 4, dtype=bad, cache=False)
    with pytest.raises(ValueError, match=allowed):
        select_k(features, ks=[4], n_restarts=0, n_subsamples=0, dtype="half")
    with pytest.raises(ValueError, match="float32.*nmf"):
        fit_topics(features, 4, method="lda", dtype="float32", cache=False)
    with pytest.raises(ValueError, match="seeded"):
        fit_topics(features, 4, seed_words="default", dtype="float32")


@pytest.fixture(scope="module")
def regional_features() -> Features:
    """A corpus that is not the bundled one: 22 documents of ``tests/fixtures/corpora``."""
    from pathlib import Path

    from policystudy.pipeline import prepare

    regional = Path(__file__).parent / "fixtures" / "corpora" / "regional"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # its columns named like the package's
        return prepare(regional, cache=False).features


@pytest.mark.parametrize("corpus", ["features", "regional_features"])
def test_select_k_in_two_processes_gives_the_same_table(
    request: pytest.FixtureRequest, corpus: str
) -> None:
    feats = request.getfixturevalue(corpus)
    args = {"ks": [2, 3, 4], "n_restarts": 2, "n_subsamples": 2, "cache": False}
    one = select_k(feats, n_jobs=1, **args)
    two = select_k(feats, n_jobs=2, **args)
    pd.testing.assert_frame_equal(one, two)
    # Each k has its own fits: a table that paired them wrongly would differ here.
    assert one["stability_subsamples"].nunique() > 1


def test_select_k_replays_the_warnings_of_its_workers(features: Features) -> None:
    from sklearn.exceptions import ConvergenceWarning

    args = {"ks": [4], "n_restarts": 1, "n_subsamples": 1, "cache": False, "max_iter": 3}
    caught = {}
    for n_jobs in (1, 2):
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            select_k(features, n_jobs=n_jobs, **args)
        caught[n_jobs] = [(w.category, w.filename) for w in seen]
    assert len(caught[1]) == 3  # one per fit: the reference, a restart, a subsample
    assert all(category is ConvergenceWarning for category, _ in caught[1])
    assert caught[2] == caught[1]


def test_select_k_workers_share_the_model_cache(features: Features, tmp_path) -> None:
    from policystudy.cache import ModelCache

    args = {"ks": [3, 4], "n_restarts": 1, "n_subsamples": 1, "n_jobs": 2}
    first = select_k(features, cache=tmp_path, **args)
    entries = sorted(p.name for p in tmp_path.glob("*.model"))
    assert len(entries) == 6  # 2 ks x (reference, restart, subsample), written by the workers
    again = select_k(features, cache=ModelCache(tmp_path), **args)
    pd.testing.assert_frame_equal(first, again)
    assert sorted(p.name for p in tmp_path.glob("*.model")) == entries
    pd.testing.assert_frame_equal(first, select_k(features, cache=False, **args))


@pytest.mark.parametrize("bad", [0, -2, True, 1.5, "2"])
def test_select_k_bad_n_jobs(features: Features, bad) -> None:
    with pytest.raises(ValueError, match="n_jobs"):
        select_k(features, ks=[4], n_restarts=0, n_subsamples=0, n_jobs=bad)
