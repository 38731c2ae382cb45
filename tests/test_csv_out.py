"""The column-wise CSV writer gives pandas' bytes, and falls back to pandas for the rest."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from policystudy import csv_out
from policystudy.csv_out import to_csv

TRICKY = ["", "a,b", 'say "hi"', "line\nbreak", "cr\rhere", " lead", "tab\tx", "一，二。", "\u2028"]


def _pandas(frame: pd.DataFrame) -> str:
    return frame.to_csv(index=False, float_format="%.6g", lineterminator="\n")


FRAMES = {
    "text": pd.DataFrame({"s": pd.array([*TRICKY, None], dtype="str"), "n": range(10)}),
    "object text": pd.DataFrame({"o": pd.Series(TRICKY, dtype=object)}),
    "one empty column": pd.DataFrame({"s": pd.array(["", None, "x"], dtype="str")}),
    "floats": pd.DataFrame(
        {
            "f": [0.1, 1 / 3, np.nan, -0.0, np.inf, -np.inf, 1e-300, 123456789.0, 5e-5, 2.0],
            "f32": np.array([0.1, 1 / 3, np.nan, 1, 2, 3, 4, 5, 6, 7], dtype=np.float32),
        }
    ),
    "integers and booleans": pd.DataFrame(
        {
            "i": np.array([-1, 0, 2**62], dtype=np.int64),
            "u": np.array([0, 1, 2], dtype=np.uint8),
            "b": [True, False, True],
            "I": pd.array([1, None, 3], dtype="Int64"),
            "B": pd.array([True, None, False], dtype="boolean"),
        }
    ),
    "header to quote": pd.DataFrame({"a,b": [1], 'q"': [2.5], "": ["x"]}),
    "no rows": pd.DataFrame({"a": pd.array([], dtype="str"), "b": np.array([], dtype=float)}),
    # Kinds the writer leaves to pandas.
    "categorical": pd.DataFrame({"c": pd.Categorical(["x", "y", "x"])}),
    "mixed objects": pd.DataFrame({"m": pd.Series([1, "a", None], dtype=object)}),
    "datetimes": pd.DataFrame({"t": pd.to_datetime(["2020-01-01", None])}),
    "integer column names": pd.DataFrame({0: [1.5], 1: ["x"]}),
    "multiindex columns": pd.DataFrame(
        [[1, 2]], columns=pd.MultiIndex.from_tuples([("a", "b"), ("a", "c")])
    ),
}


@pytest.mark.parametrize("name", list(FRAMES))
def test_same_bytes_as_pandas(name: str) -> None:
    frame = FRAMES[name]
    assert to_csv(frame) == _pandas(frame)
    assert to_csv(frame, engine="pandas") == _pandas(frame)


def test_fast_path_is_taken_for_the_command_tables(monkeypatch, features) -> None:
    from policystudy.compare import prevalence
    from policystudy.topics import fit_topics

    model = fit_topics(features, k=4)
    tables = [model.unit_topics_, model.topic_terms_, prevalence(model, by="city")]
    expected = [_pandas(t) for t in tables]

    def refuse(*args, **kwargs):
        raise AssertionError("fell back to pandas")

    # With pandas' to_csv unavailable, the column-wise writer alone gives the same text.
    monkeypatch.setattr(pd.DataFrame, "to_csv", refuse)
    assert [to_csv(t) for t in tables] == expected


def test_quoting_follows_this_pythons_csv_module() -> None:
    chars = csv_out._quoting_chars()
    assert {",", '"', "\n"} <= chars
    assert "a" not in chars and "，" not in chars


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="engine"):
        to_csv(pd.DataFrame({"a": [1]}), engine="arrow")
