"""Tests for policystudy.compare on the bundled corpus."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from scipy.stats import chi2_contingency, false_discovery_control

from policystudy import compare
from policystudy.features import Features
from policystudy.topics import TopicModel, fit_topics

K = 6
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model(features: Features) -> TopicModel:
    return fit_topics(features, K, random_state=0)


@pytest.fixture(scope="module")
def prev(model: TopicModel) -> pd.DataFrame:
    return compare.prevalence(model, by="city")


@pytest.fixture(scope="module")
def key(features: Features) -> pd.DataFrame:
    return compare.keyness(features, by="city")


def _shares(model: TopicModel) -> tuple[pd.DataFrame, list[str]]:
    """Units with some topic mass (prevalence leaves all-zero rows out) and share columns."""
    cols = [f"topic_{t}" for t in range(K)]
    ut = model.unit_topics_
    return ut[ut[cols].sum(axis=1) > 0], cols


def _with_unit_topics(model: TopicModel, unit_topics: pd.DataFrame) -> TopicModel:
    return dataclasses.replace(model, unit_topics_=unit_topics)


# --------------------------------------------------------------------------- prevalence


def test_prevalence_columns_and_order(prev: pd.DataFrame) -> None:
    expected = ["city", "topic", "label", "share", "diff_from_rest", "share_rest", "ci_low",
                "ci_high", "n_docs", "n_units", "n_units_empty", "interval", "level"]  # fmt: skip
    assert list(prev.columns) == expected
    assert len(prev) == 3 * K
    assert prev[["city", "topic"]].equals(
        prev[["city", "topic"]].sort_values(["city", "topic"]).reset_index(drop=True)
    )
    assert (prev["level"] == 0.95).all()


def test_prevalence_shares_sum_to_one_per_group(prev: pd.DataFrame) -> None:
    sums = prev.groupby("city")["share"].sum()
    np.testing.assert_allclose(sums.to_numpy(), 1.0, atol=1e-9)


def test_prevalence_share_is_unit_weighted_mean(model: TopicModel, prev: pd.DataFrame) -> None:
    ut, cols = _shares(model)
    for city, part in ut.groupby("city"):
        rest = ut[ut["city"] != city]
        got = prev[prev["city"] == city].sort_values("topic")
        np.testing.assert_allclose(got["share"], part[cols].mean().to_numpy(), atol=1e-12)
        np.testing.assert_allclose(got["share_rest"], rest[cols].mean().to_numpy(), atol=1e-12)
        np.testing.assert_allclose(
            got["diff_from_rest"], got["share"] - got["share_rest"], atol=1e-12
        )


def test_prevalence_counts_documents_and_units(
    model: TopicModel, prev: pd.DataFrame, docs: pd.DataFrame
) -> None:
    per_city = prev.drop_duplicates("city").set_index("city")
    expected_docs = docs.groupby("city")["doc_id"].nunique()
    assert per_city["n_docs"].to_dict() == expected_docs.to_dict()
    assert per_city.loc["quanzhou", "n_docs"] == 3
    assert per_city.loc["wenzhou", "n_docs"] == 1
    assert per_city.loc["taizhou", "n_docs"] == 1
    ut, cols = _shares(model)
    assert per_city["n_units"].to_dict() == ut.groupby("city").size().to_dict()
    empty = model.unit_topics_.groupby("city").size() - ut.groupby("city").size()
    assert per_city["n_units_empty"].to_dict() == empty.to_dict()


def test_prevalence_interval_labels(prev: pd.DataFrame) -> None:
    labels = prev.groupby("city")["interval"].unique().map(list).to_dict()
    assert labels == {
        "quanzhou": ["bootstrap_documents"],
        "taizhou": ["within_document_units"],
        "wenzhou": ["within_document_units"],
    }


def test_prevalence_intervals_contain_estimate(prev: pd.DataFrame) -> None:
    assert prev[["ci_low", "ci_high"]].notna().all().all()
    assert (prev["ci_low"] <= prev["share"] + 1e-12).all()
    assert (prev["share"] <= prev["ci_high"] + 1e-12).all()
    assert (prev["ci_low"] >= 0).all() and (prev["ci_high"] <= 1).all()


def test_prevalence_document_bootstrap_resamples_documents(model: TopicModel) -> None:
    # Resampling whole documents pools units of resampled documents, so every draw is a
    # weighted mean of per-document shares; with 3 documents "the same document three times"
    # has probability 1/27 > 2.5%, so the percentile bounds are the extreme document shares.
    table = compare.prevalence(model, by="city", n_boot=4000)
    ut, cols = _shares(model)
    doc_means = ut[ut["city"] == "quanzhou"].groupby("doc_id")[cols].mean()
    got = table[table["city"] == "quanzhou"].sort_values("topic")
    np.testing.assert_allclose(got["ci_low"], doc_means.min().to_numpy(), atol=1e-12)
    np.testing.assert_allclose(got["ci_high"], doc_means.max().to_numpy(), atol=1e-12)


def test_prevalence_within_document_interval_matches_unit_variation(
    model: TopicModel, prev: pd.DataFrame
) -> None:
    ut, cols = _shares(model)
    part = ut[ut["city"] == "wenzhou"]
    got = prev[prev["city"] == "wenzhou"].set_index("topic")
    topic = int(got["share"].idxmax())
    values = part[cols[topic]].to_numpy()
    half_normal = 1.96 * values.std(ddof=1) / np.sqrt(len(values))
    half_boot = (got.loc[topic, "ci_high"] - got.loc[topic, "ci_low"]) / 2
    assert half_boot == pytest.approx(half_normal, rel=0.25)


def test_prevalence_deterministic_and_seeded(model: TopicModel, prev: pd.DataFrame) -> None:
    again = compare.prevalence(model, by="city")
    pd.testing.assert_frame_equal(prev, again)
    other = compare.prevalence(model, by="city", random_state=1)
    np.testing.assert_array_equal(other["share"], prev["share"])
    assert not np.allclose(other["ci_low"], prev["ci_low"])


def test_prevalence_group_draws_do_not_depend_on_other_groups(
    model: TopicModel, prev: pd.DataFrame
) -> None:
    ut = model.unit_topics_
    only = compare.prevalence(_with_unit_topics(model, ut[ut["city"] != "quanzhou"]), by="city")
    for city in ("taizhou", "wenzhou"):
        a = prev.loc[prev["city"] == city, ["ci_low", "ci_high"]].to_numpy()
        b = only.loc[only["city"] == city, ["ci_low", "ci_high"]].to_numpy()
        np.testing.assert_array_equal(a, b)


def test_prevalence_single_unit_groups_have_no_interval(model: TopicModel) -> None:
    sub = model.unit_topics_.groupby("doc_id").head(2)
    table = compare.prevalence(_with_unit_topics(model, sub), by="unit_id", n_boot=50)
    assert (table["interval"] == "none").all()
    assert table["ci_low"].isna().all() and table["ci_high"].isna().all()
    assert (table["n_units"] == 1).all()
    first = sub.iloc[0]
    got = table[table["unit_id"] == first["unit_id"]].sort_values("topic")["share"]
    np.testing.assert_allclose(got, first[[f"topic_{t}" for t in range(K)]].astype(float))


def test_prevalence_leaves_out_units_without_topic_mass(model: TopicModel) -> None:
    ut = model.unit_topics_.copy()
    cols = [f"topic_{t}" for t in range(K)]
    target = ut.index[ut["city"] == "wenzhou"][0]
    ut.loc[target, cols] = 0.0
    base = compare.prevalence(model, by="city", n_boot=50)
    table = compare.prevalence(_with_unit_topics(model, ut), by="city", n_boot=50)
    change = table[["n_units_empty", "n_units"]] - base[["n_units_empty", "n_units"]]
    is_wz = (table["city"] == "wenzhou").to_numpy()
    assert (change.loc[is_wz, "n_units_empty"] == 1).all()
    assert (change.loc[is_wz, "n_units"] == -1).all()
    assert (change.loc[~is_wz] == 0).all().all()
    assert table.loc[is_wz, "share"].sum() == pytest.approx(1.0)


def test_prevalence_does_not_mutate_model(model: TopicModel) -> None:
    before = model.unit_topics_.copy()
    compare.prevalence(model, by="doc_type", n_boot=20)
    pd.testing.assert_frame_equal(model.unit_topics_, before)


def test_prevalence_bad_input(model: TopicModel) -> None:
    with pytest.raises(KeyError, match="no_such_column"):
        compare.prevalence(model, by="no_such_column")
    with pytest.raises(ValueError, match="level"):
        compare.prevalence(model, level=1.5)
    with pytest.raises(ValueError, match="n_boot"):
        compare.prevalence(model, n_boot=0)
    with pytest.raises(TypeError, match="TopicModel"):
        compare.prevalence(pd.DataFrame())


def test_prevalence_contrast(model: TopicModel, prev: pd.DataFrame) -> None:
    vs_rest = compare.prevalence_contrast(model, "city", "wenzhou")
    ref = prev[prev["city"] == "wenzhou"].set_index("topic")
    got = vs_rest.set_index("topic").loc[ref.index]
    np.testing.assert_allclose(got["diff"], ref["diff_from_rest"], atol=1e-12)
    assert (vs_rest["b"] == "rest").all()
    assert (vs_rest["interval_a"] == "within_document_units").all()
    assert (vs_rest["interval_b"] == "bootstrap_documents").all()
    assert (vs_rest["n_docs_b"] == 4).all()
    assert list(vs_rest["diff"]) == sorted(vs_rest["diff"], reverse=True)

    pair = compare.prevalence_contrast(model, "city", "quanzhou", "taizhou")
    shares = prev.pivot(index="topic", columns="city", values="share")
    got = pair.set_index("topic").sort_index()
    np.testing.assert_allclose(got["diff"], shares["quanzhou"] - shares["taizhou"], atol=1e-12)
    assert (pair["ci_low"] <= pair["diff"] + 1e-12).all()
    assert (pair["diff"] <= pair["ci_high"] + 1e-12).all()
    with pytest.raises(ValueError, match="not found"):
        compare.prevalence_contrast(model, "city", "hangzhou")


# --------------------------------------------------------------------------- confounds


def test_confounds_one_row_per_document(docs: pd.DataFrame, units: pd.DataFrame) -> None:
    table = compare.confounds(units)
    assert sorted(table["doc_id"]) == sorted(docs["doc_id"])
    assert list(table.columns[:5]) == ["doc_id", "city", "doc_type", "province", "year"]
    assert (
        table.set_index("doc_id")["n_units"].to_dict() == units.groupby("doc_id").size().to_dict()
    )
    quanzhou = table[table["city"] == "quanzhou"]
    assert len(quanzhou) == 3 and (quanzhou["docs_same_city"] == 3).all()
    assert (table.loc[table["city"] != "quanzhou", "docs_same_city"] == 1).all()
    assert "n_units" not in compare.confounds(docs).columns
    assert "city ~" in table.attrs["confounded"]


def test_confound_summary(docs: pd.DataFrame) -> None:
    summary = compare.confound_summary(docs).set_index("column")
    assert list(summary.index) == ["doc_id", "city", "doc_type", "province", "year"]
    # Every city lies in one province; each year belongs to exactly one document here.
    assert "province" in summary.loc["city", "nested_in"].split(", ")
    assert (docs.groupby("city")["province"].nunique() == 1).all()
    # The five bundled documents are of five different years (data/manifest.csv).
    assert docs["year"].is_unique
    assert summary.loc["year", "identical_to"] == "doc_id"
    # plenum_decision occurs in both provinces, so genre is not nested in province.
    assert (docs.groupby("doc_type")["province"].nunique() > 1).any()
    assert "province" not in summary.loc["doc_type", "nested_in"].split(", ")
    assert summary.loc["doc_id", "n_single_doc_levels"] == len(docs)
    single_doc_cities = int((docs["city"].value_counts() == 1).sum())
    assert single_doc_cities == 2  # taizhou and wenzhou; quanzhou has three documents
    assert summary.loc["city", "n_single_doc_levels"] == single_doc_cities


def test_confounds_rejects_unit_level_columns(units: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="section"):
        compare.confounds(units, columns=("city", "section"))
    with pytest.raises(KeyError, match="nope"):
        compare.confounds(units, columns=("nope",))


# --------------------------------------------------------------------------- keyness


def _group_mask(features: Features, group: str) -> np.ndarray:
    return (features.units["city"] == group).to_numpy()


def test_keyness_columns_sort_and_caveat(key: pd.DataFrame, features: Features) -> None:
    expected = ["group", "term", "count_group", "count_rest", "freq_group_per_10k",
                "freq_rest_per_10k", "g2", "chi2", "p_value", "p_adj", "log_ratio",
                "n_docs_group", "n_units_group", "rank"]  # fmt: skip
    assert list(key.columns) == expected
    assert key.attrs["caveat"] == compare.KEYNESS_CAVEAT
    assert "overstate" in key.attrs["caveat"]
    assert key[["group", "rank"]].equals(
        key[["group", "rank"]].sort_values(["group", "rank"]).reset_index(drop=True)
    )
    for _, part in key.groupby("group"):
        assert list(part["rank"]) == list(range(1, len(part) + 1))
        g2 = part["g2"].to_numpy()
        assert (np.diff(g2) <= 0).all()
    n_docs = key.drop_duplicates("group").set_index("group")["n_docs_group"].to_dict()
    assert n_docs == {"quanzhou": 3, "taizhou": 1, "wenzhou": 1}
    assert key.attrs["n_terms_tested"] + key.attrs["n_terms_below_min_count"] == len(
        features.vocabulary
    )


def test_keyness_counts_and_frequencies(key: pd.DataFrame, features: Features) -> None:
    totals = pd.Series(np.asarray(features.counts.sum(axis=0)).ravel(), index=features.vocabulary)
    for group, part in key.groupby("group"):
        mask = _group_mask(features, group)
        in_group = pd.Series(
            np.asarray(features.counts[mask].sum(axis=0)).ravel(), index=features.vocabulary
        )
        n1, n2 = in_group.sum(), totals.sum() - in_group.sum()
        terms = part["term"].to_numpy()
        np.testing.assert_array_equal(part["count_group"], in_group[terms])
        np.testing.assert_array_equal(part["count_rest"], totals[terms] - in_group[terms])
        np.testing.assert_allclose(part["freq_group_per_10k"], part["count_group"] / n1 * 1e4)
        np.testing.assert_allclose(part["freq_rest_per_10k"], part["count_rest"] / n2 * 1e4)
    assert ((key["count_group"] + key["count_rest"]) >= 5).all()


def test_keyness_matches_scipy_on_sample_terms(key: pd.DataFrame, features: Features) -> None:
    checked = 0
    for group, part in key.groupby("group"):
        mask = _group_mask(features, group)
        n1 = int(features.counts[mask].sum())
        n2 = int(features.counts[~mask].sum())
        zero = part[part["count_group"] == 0].head(1)
        for row in pd.concat([part.head(3), part.tail(3), zero]).itertuples():
            table = np.array(
                [[row.count_group, n1 - row.count_group], [row.count_rest, n2 - row.count_rest]]
            )
            g2 = chi2_contingency(table, correction=False, lambda_="log-likelihood")
            chi2 = chi2_contingency(table, correction=True)
            over = row.count_group / n1 > row.count_rest / n2
            assert abs(row.g2) == pytest.approx(g2.statistic, rel=1e-9, abs=1e-12)
            assert np.sign(row.g2) == (1 if over else -1)
            assert row.chi2 == pytest.approx(chi2.statistic, rel=1e-9, abs=1e-12)
            assert row.p_value == pytest.approx(g2.pvalue, rel=1e-9)
            a = row.count_group if row.count_group else 0.5
            b = row.count_rest if row.count_rest else 0.5
            assert row.log_ratio == pytest.approx(np.log2((a / n1) / (b / n2)))
            checked += 1
    assert checked >= 18


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) as written: the i-th smallest of m p-values times m - i + 1, running max."""
    m = len(p)
    out = np.empty(m)
    running = 0.0
    for rank, i in enumerate(sorted(range(m), key=lambda j: p[j])):
        running = max(running, (m - rank) * p[i])
        out[i] = min(1.0, running)
    return out


def test_holm_known_answer() -> None:
    from policystudy.compare._keyness import _p_adjust

    # Sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04; the
    # running maximum lifts the last to 0.06. Bonferroni would give 0.04, 0.16, 0.12,
    # 0.02; Hochberg's step-up 0.04, 0.04, 0.04, 0.02.
    p = np.array([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(_p_adjust(p, "holm"), [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    np.testing.assert_allclose(_p_adjust(np.array([0.5, 0.6]), "holm"), [1.0, 1.0])


def test_keyness_adjusted_p_values(features: Features, key: pd.DataFrame) -> None:
    bh = compare.keyness(features, by="city", correction="fdr_bh")
    for (_, holm_part), (_, bh_part) in zip(key.groupby("group"), bh.groupby("group"), strict=True):
        p = holm_part["p_value"].to_numpy()
        np.testing.assert_allclose(holm_part["p_adj"], _holm(p), rtol=1e-12)
        fdr = bh_part.set_index("term").loc[holm_part["term"], "p_adj"].to_numpy()
        np.testing.assert_allclose(fdr, false_discovery_control(p, method="bh"), rtol=1e-12)
    none = compare.keyness(features, by="city", correction="none")
    np.testing.assert_array_equal(none["p_adj"], none["p_value"])


@pytest.mark.parametrize(("group", "term"), [("taizhou", "共同富裕"), ("wenzhou", "市域治理")])
def test_keyness_ranks_distinctive_term_high(
    key: pd.DataFrame, features: Features, group: str, term: str
) -> None:
    # The title phrase of each document: first check from the raw counts that it really is
    # concentrated in that city, then that keyness puts it near the top for the city.
    assert term in set(features.vocabulary)
    col = int(np.flatnonzero(features.vocabulary == term)[0])
    mask = _group_mask(features, group)
    a = int(features.counts[mask, col].sum())
    b = int(features.counts[~mask, col].sum())
    rate_ratio = (a / features.counts[mask].sum()) / (b / features.counts[~mask].sum())
    assert a >= 10 and rate_ratio > 2
    part = key[key["group"] == group].set_index("term")
    assert part.loc[term, "g2"] > 0
    assert part.loc[term, "rank"] <= max(10, 0.02 * len(part))
    for other in key.loc[key["group"] != group, "group"].unique():
        assert key[(key["group"] == other) & (key["term"] == term)]["g2"].iloc[0] < 0


def test_keyness_target_and_errors(features: Features, key: pd.DataFrame) -> None:
    only = compare.keyness(features, by="city", target="wenzhou")
    assert set(only["group"]) == {"wenzhou"}
    pd.testing.assert_frame_equal(
        only, key[key["group"] == "wenzhou"].reset_index(drop=True), check_like=False
    )
    strict = compare.keyness(features, by="city", target="wenzhou", min_count=20)
    assert ((strict["count_group"] + strict["count_rest"]) >= 20).all()
    assert len(strict) < len(only)
    with pytest.raises(ValueError, match="hangzhou"):
        compare.keyness(features, target="hangzhou")
    with pytest.raises(KeyError, match="no_such_column"):
        compare.keyness(features, by="no_such_column")
    with pytest.raises(ValueError, match="correction"):
        compare.keyness(features, correction="bonferroni")
    one_group = dataclasses.replace(features, units=features.units.assign(everything="all"))
    with pytest.raises(ValueError, match="two groups"):
        compare.keyness(one_group, by="everything")
    with pytest.raises(TypeError, match="Features"):
        compare.keyness(features.counts)


def _summed_counts(features: Features, keys: pd.Series) -> pd.DataFrame:
    """Term counts per key, by pandas from the dense unit counts (not by doc_term)."""
    return features.to_frame("counts").groupby(keys.to_numpy()).sum().sort_index()


def _tfidf(counts: np.ndarray) -> np.ndarray:
    """Smoothed-idf, sublinear, l2-normalised TF-IDF written out (the weighting documented
    in build_features): tf = 1 + ln(count), idf = ln((1 + n) / (1 + df)) + 1."""
    counts = counts.astype(float)
    tf = np.where(counts > 0, 1.0 + np.log(np.where(counts > 0, counts, 1.0)), 0.0)
    idf = np.log((1 + len(counts)) / (1 + (counts > 0).sum(axis=0))) + 1.0
    weights = tf * idf
    return weights / np.linalg.norm(weights, axis=1, keepdims=True)


def test_distinctive_tfidf(features: Features) -> None:
    table = compare.distinctive_tfidf(features, by="city", n=15)
    expected = ["group", "term", "tfidf", "count_group", "n_groups_with_term", "n_docs_group",
                "n_units_group", "rank"]  # fmt: skip
    assert list(table.columns) == expected
    assert table.groupby("group").size().to_dict() == {"quanzhou": 15, "taizhou": 15, "wenzhou": 15}
    counts = _summed_counts(features, features.units["city"])
    weights = pd.DataFrame(_tfidf(counts.to_numpy()), index=counts.index, columns=counts.columns)
    for group, part in table.groupby("group"):
        assert list(part["rank"]) == list(range(1, 16))
        np.testing.assert_allclose(part["tfidf"], weights.loc[group, part["term"]], rtol=1e-12)
        expected = weights.loc[group].sort_values(ascending=False).iloc[14]
        assert part["tfidf"].min() == pytest.approx(expected)
        np.testing.assert_array_equal(part["count_group"], counts.loc[group, part["term"]])


# --------------------------------------------------------------------------- similarity


def test_similarity_documents(features: Features, docs: pd.DataFrame) -> None:
    sim = compare.similarity(features, level="doc")
    ids = sorted(docs["doc_id"])
    assert list(sim.index) == ids and list(sim.columns) == ids
    values = sim.to_numpy()
    np.testing.assert_array_equal(values, values.T)
    np.testing.assert_array_equal(np.diag(values), 1.0)
    assert ((values >= 0) & (values <= 1)).all()
    np.testing.assert_array_equal(values, np.round(values, 4))
    # Same numbers as TF-IDF on the summed unit counts of each document.
    tfidf = _tfidf(_summed_counts(features, features.units["doc_id"]).to_numpy())
    expected = np.round(tfidf @ tfidf.T, 4)
    np.testing.assert_allclose(values, expected, atol=1e-12)
    assert compare.similarity(features).equals(sim)


def test_similarity_sections_and_groups(features: Features) -> None:
    sim = compare.similarity(features, level="section")
    pairs = features.units[["doc_id", "section"]].drop_duplicates()
    assert sim.shape == (len(pairs), len(pairs))
    assert list(sim.index) == sorted(sim.index)
    assert all(key.split("|", 1)[0] in set(features.units["doc_id"]) for key in sim.index)
    np.testing.assert_array_equal(sim.to_numpy(), sim.to_numpy().T)
    by_city = compare.similarity(features, by="city")
    assert list(by_city.index) == ["quanzhou", "taizhou", "wenzhou"]
    with pytest.raises(ValueError, match="level"):
        compare.similarity(features, level="paragraph")


def test_similarity_long(features: Features, docs: pd.DataFrame) -> None:
    sim = compare.similarity(features)
    long = compare.similarity_long(sim)
    assert list(long.columns) == ["a", "b", "cosine", "city_a", "city_b"]
    assert len(long) == 10
    assert (long["a"] < long["b"]).all()
    city = docs.set_index("doc_id")["city"]
    assert (long["city_a"] == long["a"].map(city)).all()
    assert (long["city_b"] == long["b"].map(city)).all()
    for row in long.itertuples():
        assert row.cosine == sim.loc[row.a, row.b]
    with_docs = compare.similarity_long(sim, metadata=docs, columns=("doc_type",))
    assert (
        with_docs["doc_type_a"] == with_docs["a"].map(docs.set_index("doc_id")["doc_type"])
    ).all()


# --------------------------------------------------------------------------- export


def test_export_for_r_round_trip(features: Features, tmp_path: Path) -> None:
    paths = compare.export_for_r(features, tmp_path / "r")
    assert set(paths) == {"dtm", "terms", "docvars", "readme"}
    m = scipy.io.mmread(paths["dtm"])
    assert m.shape == features.counts.shape
    assert (abs(m.tocsr() - features.counts)).nnz == 0
    assert np.issubdtype(m.dtype, np.integer)
    terms = paths["terms"].read_text(encoding="utf-8").split("\n")
    assert terms[-1] == "" and terms[:-1] == list(features.vocabulary)
    docvars = pd.read_csv(paths["docvars"], encoding="utf-8", keep_default_na=False)
    assert list(docvars["unit_id"]) == list(features.units["unit_id"])
    assert list(docvars["city"]) == list(features.units["city"])
    assert list(docvars["text"]) == list(features.units["text"])
    readme = paths["readme"].read_text(encoding="utf-8")
    assert 'Matrix::readMM("dtm.mtx")' in readme
    assert 'quanteda::convert(d, to = "stm")' in readme
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == sorted(
        p.name for p in paths.values()
    )


def test_export_for_r_is_byte_identical(features: Features, tmp_path: Path) -> None:
    first = compare.export_for_r(features, tmp_path / "one")
    before = {k: p.read_bytes() for k, p in first.items()}
    again = compare.export_for_r(features, tmp_path / "one")
    other = compare.export_for_r(features, tmp_path / "two")
    for k in before:
        assert again[k].read_bytes() == before[k]
        assert other[k].read_bytes() == before[k]
    assert b"\r\n" not in before["docvars"]


def test_export_for_r_never_writes_into_data(features: Features) -> None:
    target = REPO / "data" / "r-export"
    with pytest.raises(ValueError, match="corpus directory"):
        compare.export_for_r(features, target)
    assert not target.exists()
