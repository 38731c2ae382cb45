"""Tests for policystudy.features on the bundled corpus."""

from __future__ import annotations

import pickle
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from policystudy.features import Features, build_features


def _body(tokens: pd.DataFrame) -> pd.DataFrame:
    return tokens.loc[~tokens["is_heading"].astype(bool)].reset_index(drop=True)


def test_matrices_share_rows_and_columns(features: Features) -> None:
    n_units, n_terms = features.counts.shape
    assert features.tfidf.shape == (n_units, n_terms)
    assert len(features.units) == n_units
    assert len(features.vocabulary) == n_terms
    assert features.counts.dtype == np.int64
    assert features.tfidf.dtype == np.float64
    # Same sparsity pattern: TF-IDF is derived from the counts cell by cell.
    assert np.array_equal(features.counts.indptr, features.tfidf.indptr)
    assert np.array_equal(features.counts.indices, features.tfidf.indices)
    assert list(features.vocabulary) == sorted(set(features.vocabulary))
    assert features.units.index.equals(pd.RangeIndex(n_units))


def test_vocabulary_follows_the_document_frequency_rules(tokens: pd.DataFrame) -> None:
    # Document frequencies counted here, from the token lists: an int bound counts
    # units, a float is a share of the (non-heading) units, both inclusive.
    body = _body(tokens)
    df = Counter(t for toks in body["tokens"] for t in set(toks))
    n = len(body)
    for min_df, max_df in [(2, 0.5), (3, 0.2), (0.01, 40)]:
        feats = build_features(tokens, min_df=min_df, max_df=max_df)
        low = min_df if isinstance(min_df, int) else min_df * n
        high = max_df if isinstance(max_df, int) else max_df * n
        assert list(feats.vocabulary) == sorted(t for t in df if low <= df[t] <= high)


def test_rows_count_the_units_own_tokens(tokens: pd.DataFrame, features: Features) -> None:
    by_id = dict(zip(tokens["unit_id"], tokens["tokens"], strict=True))
    column = {t: j for j, t in enumerate(features.vocabulary)}
    rng = np.random.default_rng(0)
    for i in rng.choice(features.n_units, size=20, replace=False):
        expected = Counter(t for t in by_id[features.units["unit_id"].iloc[i]] if t in column)
        row = features.counts.getrow(i)
        got = {features.vocabulary[j]: int(v) for j, v in zip(row.indices, row.data, strict=True)}
        assert got == dict(expected)
        assert features.units["n_vocab_tokens"].iloc[i] == sum(expected.values())


def _tfidf(counts: np.ndarray, *, sublinear: bool, norm: bool) -> np.ndarray:
    """The TF-IDF documented in build_features, written out: smoothed idf
    ln((1 + n) / (1 + df)) + 1, tf = 1 + ln(count) when sublinear, rows l2-normalised."""
    counts = counts.astype(float)
    present = counts > 0
    tf = np.where(present, 1.0 + np.log(np.where(present, counts, 1.0)), 0.0)
    tf = tf if sublinear else counts
    weights = tf * (np.log((1 + len(counts)) / (1 + present.sum(axis=0))) + 1.0)
    return weights / np.linalg.norm(weights, axis=1, keepdims=True) if norm else weights


def test_tfidf_is_the_documented_weighting(tokens: pd.DataFrame, features: Features) -> None:
    expected = _tfidf(features.counts.toarray(), sublinear=True, norm=True)
    assert abs(expected - features.tfidf.toarray()).max() < 1e-12
    norms = np.sqrt(np.asarray(features.tfidf.multiply(features.tfidf).sum(axis=1)).ravel())
    assert np.allclose(norms, 1.0)
    # The stored vectorizer maps the same token lists to the same TF-IDF rows.
    by_id = dict(zip(tokens["unit_id"], tokens["tokens"], strict=True))
    projected = features.vectorizer_.transform([by_id[u] for u in features.units["unit_id"]])
    assert abs(projected - features.tfidf).max() < 1e-12


def test_sublinear_and_norm_are_applied(tokens: pd.DataFrame, features: Features) -> None:
    raw = build_features(tokens, sublinear_tf=False, norm=None)
    assert raw.params["sublinear_tf"] is False and raw.params["norm"] is None
    expected = _tfidf(raw.counts.toarray(), sublinear=False, norm=False)
    assert abs(expected - raw.tfidf.toarray()).max() < 1e-12
    assert abs(raw.tfidf - features.tfidf).max() > 0.1


def test_headings_excluded_and_reported(tokens: pd.DataFrame, features: Features) -> None:
    n_headings = int(tokens["is_heading"].sum())
    assert n_headings > 0
    assert not features.units["is_heading"].any()
    d = features.dropped_
    assert d["n_headings"] == n_headings
    assert d["n_input"] == len(tokens)
    assert d["n_input"] == d["n_headings"] + d["n_empty"] + d["n_kept"]
    assert d["n_kept"] == features.n_units
    removed = features.dropped_units_
    assert (removed["reason"] == "heading").sum() == n_headings
    assert (removed["reason"] == "empty").sum() == d["n_empty"]
    assert set(removed["unit_id"]).isdisjoint(features.units["unit_id"])
    with_headings = build_features(tokens, include_headings=True)
    assert with_headings.dropped_["n_headings"] == 0
    assert with_headings.units["is_heading"].sum() > 0


def test_empty_units_dropped_unless_asked(tokens: pd.DataFrame, features: Features) -> None:
    assert (features.units["n_vocab_tokens"] > 0).all()
    assert (np.diff(features.counts.indptr) > 0).all()
    kept = build_features(tokens, drop_empty=False)
    assert kept.dropped_["n_empty"] == 0
    assert kept.n_units == features.n_units + features.dropped_["n_empty"]
    # A stricter vocabulary empties more units, and says so.
    strict = build_features(tokens, min_df=20)
    assert strict.dropped_["n_empty"] > features.dropped_["n_empty"]
    empty_ids = strict.dropped_units_.loc[strict.dropped_units_["reason"] == "empty", "unit_id"]
    lookup = tokens.set_index("unit_id")["tokens"]
    vocab = set(strict.vocabulary)
    assert all(not vocab.intersection(lookup[u]) for u in empty_ids)


def test_metadata_travels_and_input_untouched(tokens: pd.DataFrame) -> None:
    before = tokens.copy(deep=True)
    feats = build_features(tokens)
    pd.testing.assert_frame_equal(tokens, before)
    assert "tokens" not in feats.units.columns
    assert set(tokens.columns) - {"tokens"} <= set(feats.units.columns)
    # Units keep their corpus order.
    order = tokens.reset_index(drop=True).reset_index().set_index("unit_id")["index"]
    assert order[feats.units["unit_id"]].is_monotonic_increasing


def test_params_recorded_and_repr(features: Features) -> None:
    assert features.params == {
        "min_df": 2,
        "max_df": 0.5,
        "sublinear_tf": True,
        "include_headings": False,
        "include_back_matter": False,
        "max_features": None,
        "norm": "l2",
        "drop_empty": True,
    }
    text = repr(features)
    assert f"n_units={features.n_units}" in text and f"n_terms={features.n_terms}" in text


def test_max_features_keeps_most_frequent(tokens: pd.DataFrame, features: Features) -> None:
    small = build_features(tokens, max_features=50)
    assert small.n_terms == 50
    assert set(small.vocabulary) <= set(features.vocabulary)


def test_to_frame(features: Features) -> None:
    frame = features.to_frame("counts")
    assert frame.shape == features.counts.shape
    assert frame.index.name == "unit_id" and frame.columns.name == "term"
    assert list(frame.index) == list(features.units["unit_id"])
    assert int(frame.to_numpy().sum()) == int(features.counts.sum())
    assert np.allclose(features.to_frame().to_numpy(), features.tfidf.toarray())
    with pytest.raises(ValueError, match="kind"):
        features.to_frame("tf")


def test_doc_term_sums_units_per_group(features: Features) -> None:
    table = features.doc_term()
    assert list(table.index) == sorted(features.units["doc_id"].unique())
    assert table.index.name == "doc_id"
    assert (table.sum(axis=1) == features.units.groupby("doc_id")["n_vocab_tokens"].sum()).all()
    doc = table.index[0]
    rows = (features.units["doc_id"] == doc).to_numpy()
    assert np.array_equal(table.loc[doc].to_numpy(), features.counts[rows].sum(axis=0).A1)

    matrix, index = features.doc_term(["city", "doc_type"], sparse=True)
    assert matrix.shape == (len(index), features.n_terms)
    assert list(index.names) == ["city", "doc_type"]
    assert int(matrix.sum()) == int(features.counts.sum())

    tfidf_sum = features.doc_term("city", kind="tfidf")
    assert np.isclose(tfidf_sum.to_numpy().sum(), features.tfidf.sum())
    with pytest.raises(KeyError, match="no_such_column"):
        features.doc_term("no_such_column")


def test_pickle_roundtrip(features: Features) -> None:
    clone = pickle.loads(pickle.dumps(features))
    assert (clone.tfidf != features.tfidf).nnz == 0
    assert list(clone.vocabulary) == list(features.vocabulary)
    row = clone.vectorizer_.transform([list(features.vocabulary[:3])])
    assert row.nnz == 3


def test_deterministic(tokens: pd.DataFrame, features: Features) -> None:
    again = build_features(tokens)
    assert (again.counts != features.counts).nnz == 0
    assert abs(again.tfidf - features.tfidf).max() == 0
    pd.testing.assert_frame_equal(again.units, features.units)


def test_bad_input_errors(tokens: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="'tokens'"):
        build_features(tokens.drop(columns=["tokens"]))
    broken = tokens.copy()
    broken["tokens"] = broken["tokens"].astype(object)
    broken.loc[3, "tokens"] = "not a list"
    with pytest.raises(ValueError, match=str(broken.loc[3, "unit_id"])):
        build_features(broken)
    with pytest.raises(ValueError, match="is_heading"):
        build_features(tokens.drop(columns=["is_heading"]))
    with pytest.raises(ValueError, match="min_df"):
        build_features(tokens, min_df=10_000)
    with pytest.raises(TypeError, match="DataFrame"):
        build_features(list(tokens["tokens"]))
