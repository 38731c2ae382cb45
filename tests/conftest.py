"""Shared fixtures: the bundled corpus through the real pipeline, built once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest

from policystudy.features import Features, build_features
from policystudy.load import load_corpus
from policystudy.tokens import tokenize
from policystudy.units import split_units


@pytest.fixture(scope="session", autouse=True)
def tmp_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Keep the token cache of the test session in a temporary directory."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("POLICYSTUDY_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def docs() -> pd.DataFrame:
    return load_corpus()


@pytest.fixture(scope="session")
def units(docs: pd.DataFrame) -> pd.DataFrame:
    return split_units(docs)


@pytest.fixture(scope="session")
def tokens(units: pd.DataFrame) -> pd.DataFrame:
    return tokenize(units)


@pytest.fixture(scope="session")
def features(tokens: pd.DataFrame) -> Features:
    """Features of the bundled corpus with the default vocabulary (never modified by a test)."""
    return build_features(tokens)
