"""Best matches between the sections (or documents) of different groups.

Notebook 03 asks, for each section, which section of *another* group resembles
it most. :func:`best_matches` answers it from the long similarity table
(:func:`policystudy.similarity_long`): every pair is read in both directions,
so each label gets its own best partner whichever side of the pair it was on.

>>> import pandas as pd
>>> pairs = pd.DataFrame({"a": ["x", "x", "y"], "b": ["y", "z", "z"],
...                       "city_a": ["p", "p", "q"], "city_b": ["q", "r", "r"],
...                       "cosine": [0.5, 0.2, 0.4]})
>>> best_matches(pairs)[["a", "b", "cosine"]].to_dict("records")
[{'a': 'x', 'b': 'y', 'cosine': 0.5}, {'a': 'y', 'b': 'x', 'cosine': 0.5}, \
{'a': 'z', 'b': 'y', 'cosine': 0.4}]
"""

from __future__ import annotations

import pandas as pd

__all__ = ["best_matches"]


def _swapped_names(columns: pd.Index) -> dict[str, str]:
    """``a`` <-> ``b`` and every ``<name>_a`` <-> ``<name>_b`` present."""
    mapping = {"a": "b", "b": "a"}
    for column in map(str, columns):
        for this, other in (("_a", "_b"), ("_b", "_a")):
            if column.endswith(this) and f"{column[: -len(this)]}{other}" in columns:
                mapping[column] = f"{column[: -len(this)]}{other}"
    return mapping


def best_matches(pairs: pd.DataFrame) -> pd.DataFrame:
    """Each label's most similar partner among the pairs given, read in both directions.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Rows of :func:`policystudy.similarity_long` (columns ``a``, ``b``,
        ``cosine`` and any ``<name>_a`` / ``<name>_b`` pairs), usually already
        restricted to pairs across groups (``pairs[pairs.city_a != pairs.city_b]``).

    Returns
    -------
    pandas.DataFrame
        One row per label that occurs in ``pairs``, as ``a``, with its best
        partner as ``b`` (highest cosine; ties to the partner first in sorted
        order), with the same columns as ``pairs`` and sorted by ``a``.
    """
    for column in ("a", "b", "cosine"):
        if column not in pairs.columns:
            raise ValueError(f"pairs table lacks the column {column!r}; got {list(pairs.columns)}")
    swapped = pairs.rename(columns=_swapped_names(pairs.columns))
    return (
        pd.concat([pairs, swapped])
        .sort_values(["a", "cosine", "b"], ascending=[True, False, True])
        .drop_duplicates("a")
        .reset_index(drop=True)
    )
