"""The shared argument checks: one error for a missing column, one rule for counts."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from policystudy import compare
from policystudy._validation import (
    MissingColumnError,
    check_level,
    check_positive_int,
    check_random_state,
    group_rng,
    require_columns,
)
from policystudy.features import Features, build_features
from policystudy.schema import MissingColumnError as public_error
from policystudy.tokens import tokenize
from policystudy.topics import TopicModel, fit_topics, heading_agreement
from policystudy.units import split_units


@pytest.fixture(scope="module")
def model(features: Features) -> TopicModel:
    return fit_topics(features, 4)


def test_missing_column_error_is_both_key_and_value_error() -> None:
    assert public_error is MissingColumnError
    table = pd.DataFrame({"a": [1]})
    for caught in (KeyError, ValueError, MissingColumnError):
        with pytest.raises(caught):
            require_columns(table, ["a", "b"], "the table")
    with pytest.raises(MissingColumnError) as info:
        require_columns(table, ["b"], "the table")
    # Read as written, not as the repr KeyError gives its argument.
    assert str(info.value) == "the table has no column(s) ['b']; available columns: ['a']"


def test_every_stage_raises_the_same_error_for_a_missing_column(
    docs: pd.DataFrame, units: pd.DataFrame, tokens: pd.DataFrame, features, model
) -> None:
    calls = {
        "split_units": lambda: split_units(docs.drop(columns=["text"])),
        "tokenize": lambda: tokenize(units.drop(columns=["text"]), cache=False),
        "build_features": lambda: build_features(tokens.drop(columns=["tokens"])),
        "doc_term": lambda: features.doc_term("no_such_column"),
        "keyness": lambda: compare.keyness(features, by="no_such_column"),
        "prevalence": lambda: compare.prevalence(model, by="no_such_column"),
        "confounds": lambda: compare.confounds(units, columns=("no_such_column",)),
        "heading_agreement": lambda: heading_agreement(
            dataclasses.replace(model, unit_topics_=model.unit_topics_.drop(columns=["section"]))
        ),
    }
    for name, call in calls.items():
        with pytest.raises(MissingColumnError):
            call()
        assert name


def test_counts_refuse_booleans_everywhere(features, model) -> None:
    for bad in (True, False, 0, -1, 2.5, "3"):
        with pytest.raises(ValueError):
            check_positive_int(bad, "n")
    assert check_positive_int(3, "n") == 3 and check_positive_int(4.0, "n") == 4
    assert check_positive_int(0, "n", minimum=0) == 0
    with pytest.raises(ValueError, match="n_boot"):
        compare.prevalence(model, n_boot=True)
    with pytest.raises(ValueError, match="min_count"):
        compare.keyness(features, min_count=True)
    with pytest.raises(ValueError, match="n"):
        compare.distinctive_tfidf(features, n=True)
    with pytest.raises(ValueError, match="n"):
        model.top_terms(True)
    with pytest.raises(ValueError, match="n_top_terms"):
        fit_topics(features, 4, n_top_terms=True)


def test_levels_and_random_states() -> None:
    assert check_level(0.9) == 0.9
    for bad in (0, 1, 1.5, True):
        with pytest.raises(ValueError, match="level"):
            check_level(bad)
    for good in (None, 0, np.int64(3), np.random.default_rng(0)):
        check_random_state(good)
    for bad in (True, 1.5, "0"):
        with pytest.raises(TypeError, match="random_state"):
            check_random_state(bad)
    # One generator per group, from the seed and the group's name only.
    a = group_rng(0, "wenzhou").random(3)
    np.testing.assert_array_equal(a, group_rng(0, "wenzhou").random(3))
    assert not np.array_equal(a, group_rng(0, "taizhou").random(3))


def test_comparisons_take_the_package_types(features, model) -> None:
    with pytest.raises(TypeError, match="Features"):
        compare.similarity(features.counts)
    with pytest.raises(TypeError, match="Features"):
        compare.distinctive_tfidf(features.units)
    with pytest.raises(TypeError, match="TopicModel"):
        compare.prevalence_contrast(model.unit_topics_)
    with pytest.raises(TypeError, match="TopicModel"):
        heading_agreement(model.unit_topics_)


def test_doc_term_is_the_one_grouping(features: Features) -> None:
    # Keys as a Series, units with a missing key left out only when asked.
    city = features.units["city"].where(features.units["doc_type"] != "work_report")
    with pytest.raises(ValueError, match="missing"):
        features.doc_term(city)
    summed, index = features.doc_term(city, sparse=True, dropna=True)
    kept = city.notna().to_numpy()
    assert list(index) == sorted(city.dropna().unique())
    assert int(summed.sum()) == int(features.counts[kept].sum())
    dense = features.to_frame("counts")[kept].groupby(city[kept].to_numpy()).sum()
    np.testing.assert_array_equal(summed.toarray(), dense.sort_index().to_numpy())


def test_choices_name_every_allowed_value() -> None:
    from policystudy._validation import check_choice

    assert check_choice("b", "opt", ("a", "b")) == "b"
    for bad in ("c", "A", None, 1):
        with pytest.raises(ValueError) as info:
            check_choice(bad, "opt", ("a", "b"))
        assert str(info.value) == f"opt must be one of 'a', 'b'; got {bad!r}"
