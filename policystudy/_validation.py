"""Argument checks shared by every stage, and the errors they raise.

One place for the checks the public functions repeat: a table has the columns a
function reads, a count is a positive integer (``True`` is not one), a coverage
level lies strictly between 0 and 1, a random state is an int, a NumPy
Generator or None, an option is one of its allowed values. Each check raises
the exception the stages raised before they shared it
(:class:`MissingColumnError` is both the ``KeyError`` some stages raised and
the ``ValueError`` others did), so callers' ``except`` clauses keep working.
"""

from __future__ import annotations

import zlib
from collections.abc import Hashable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "MissingColumnError",
    "check_choice",
    "check_level",
    "check_n_jobs",
    "check_positive_int",
    "check_random_state",
    "group_rng",
    "require_columns",
]


class MissingColumnError(KeyError, ValueError):
    """A table lacks a column the function needs.

    A ``KeyError`` (as pandas raises for a missing column) and a ``ValueError``
    (an unsuitable argument), so that ``except KeyError`` and ``except
    ValueError`` both catch it. The message names the missing columns and the
    available ones.
    """

    def __str__(self) -> str:
        # KeyError.__str__ shows the repr of its argument (quotes, escaped
        # characters); the message is meant to be read as written.
        return str(self.args[0]) if self.args else ""


def require_columns(table: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    """Raise :class:`MissingColumnError` unless ``table`` has every one of ``columns``.

    Parameters
    ----------
    table : pandas.DataFrame
        The table to check.
    columns : iterable of str
        Columns the caller reads.
    what : str
        How the message names the table (``"features.units"``, ``"the units table"``).
    """
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise MissingColumnError(
            f"{what} has no column(s) {missing}; available columns: "
            f"{sorted(map(str, table.columns))}"
        )


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int if it is an integer ``>= minimum``, else raise ValueError.

    Integral floats (``5.0``) are accepted, as the functions accepted them
    before; booleans are refused everywhere (``True`` is a flag, not a count).
    """
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        value = int(value)
    if not _is_int(value) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}; got {value!r}")
    return int(value)


def check_n_jobs(value: Any) -> int | None:
    """Return a number of processes as joblib reads it: None (one), ``>= 1``, or ``-1`` (all).

    ``0``, other negative numbers, booleans and non-integers are a ValueError.
    """
    if value is None or value == -1 and _is_int(value):
        return None if value is None else -1
    try:
        return check_positive_int(value, "n_jobs")
    except ValueError:
        raise ValueError(
            f"n_jobs must be an integer >= 1, -1 (every core) or None (one); got {value!r}"
        ) from None


def check_choice(value: Any, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of the strings ``choices``, else raise ValueError.

    The message names every allowed value, in the order given.
    """
    if not isinstance(value, str) or value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}")
    return value


def check_level(level: Any) -> float:
    """Return the coverage ``level`` as a float if ``0 < level < 1``, else raise ValueError."""
    if isinstance(level, (bool, np.bool_)) or not 0 < level < 1:
        raise ValueError(f"level must be strictly between 0 and 1; got {level!r}")
    return float(level)


def check_random_state(random_state: Any) -> None:
    """Raise TypeError unless ``random_state`` is an int, a NumPy Generator or None."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return
    if not _is_int(random_state):
        raise TypeError(
            f"random_state must be an int, None or numpy Generator; got {random_state!r}"
        )


def group_rng(random_state: Any, key: Hashable) -> np.random.Generator:
    """Generator for one group, seeded from ``random_state`` and the group's name.

    Seeding per group keeps a group's draws identical whichever other groups are
    present or requested. A Generator is used as given (shared by the groups);
    None gives fresh entropy.
    """
    check_random_state(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    tag = zlib.crc32(repr(key).encode("utf-8"))
    return np.random.default_rng([int(random_state), tag])
