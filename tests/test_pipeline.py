"""ps.prepare: one entry point for load -> units -> tokens -> features."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import policystudy as ps
from policystudy.pipeline import PipelineParams, Prepared, prepare


def test_params_are_frozen_hashable_and_default_to_the_stage_defaults() -> None:
    params = PipelineParams()
    assert hash(params) == hash(PipelineParams())
    assert params == PipelineParams(lexicon=[])  # a list becomes a tuple
    assert PipelineParams(lexicon=["a.txt"]).lexicon == ("a.txt",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.min_df = 3  # type: ignore[misc]
    with pytest.raises(TypeError, match="sequence"):
        PipelineParams(lexicon="a.txt")
    with pytest.raises(ValueError, match="errors"):
        PipelineParams(errors="ignore")  # type: ignore[arg-type]
    # Every argument of build_features is a field, with build_features' default.
    import inspect

    defaults = {
        name: p.default
        for name, p in inspect.signature(ps.build_features).parameters.items()
        if p.kind is p.KEYWORD_ONLY
    }
    assert params.features_kwargs() == defaults
    load = inspect.signature(ps.load_corpus).parameters
    assert all(load[name].default == value for name, value in params.load_kwargs().items())


@pytest.fixture(scope="module")
def chained(docs, units) -> tuple[pd.DataFrame, ps.Features]:
    """The stages chained by hand, with the lexicon rule of every command."""
    from policystudy.tokens import Tokenizer, lexicon_for, tokenize

    tokens = tokenize(units, Tokenizer(lexicon=lexicon_for([], docs=docs)))
    return tokens, ps.build_features(tokens)


def test_prepare_is_the_chain_of_the_stages(docs, units, chained) -> None:
    tokens, features = chained
    prepared = prepare()
    assert isinstance(prepared, Prepared)
    assert ps.prepare is prepare
    pd.testing.assert_frame_equal(prepared.documents, docs)
    # The stage cache gives the units with the documents; without it nothing is computed.
    assert "computed=['units']" in repr(prepared)
    assert "computed=[]" in repr(prepare(cache=False))
    # The bundled corpus, unchanged and without extra lexicons: the published lexicon.
    assert prepared.lexicon == [ps.tokens.PUBLISHED_LEXICON]
    pd.testing.assert_frame_equal(prepared.units, units)
    pd.testing.assert_frame_equal(prepared.tokens, tokens)
    assert prepared.features.params == features.params
    assert (prepared.features.counts != features.counts).nnz == 0
    assert list(prepared.features.vocabulary) == list(features.vocabulary)
    assert prepared.features is prepared.features  # computed once


def test_params_reach_the_features(chained) -> None:
    tokens, _ = chained
    prepared = prepare(params=PipelineParams(min_df=5, include_headings=True))
    expected = ps.build_features(tokens, min_df=5, include_headings=True)
    assert list(prepared.features.vocabulary) == list(expected.vocabulary)
    assert prepared.features.units["is_heading"].any()
    np.testing.assert_array_equal(prepared.features.counts.toarray(), expected.counts.toarray())
    with pytest.raises(TypeError, match="PipelineParams"):
        prepare(params={"min_df": 5})  # type: ignore[arg-type]


def test_cli_features_are_the_prepared_features(tmp_path, capsys) -> None:
    # The command line builds PipelineParams and calls prepare: same vocabulary.
    from policystudy.cli import main

    assert main(["compare", "--by", "city", "--min-df", "3", "--out", str(tmp_path)]) == 0
    capsys.readouterr()
    key = pd.read_csv(tmp_path / "keyness.csv")
    expected = ps.keyness(prepare(params=PipelineParams(min_df=3)).features, by="city")
    assert sorted(key["term"].unique()) == sorted(expected["term"].unique())
