"""Freed heap memory handed back to the operating system after a stage that made many objects.

Cleaning and tokenizing make millions of short-lived strings. When they are freed,
glibc's allocator keeps the pages for reuse, so a 100k-paragraph run holds some
hundreds of MB it no longer uses (measured: 735 MB resident after ``load_corpus``,
392 MB after ``malloc_trim``). :func:`release_free_memory` asks glibc to return them,
as Dask's workers do; elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None
    return getattr(libc, "malloc_trim", None)


def release_free_memory() -> None:
    """Return free heap pages to the operating system (glibc only; otherwise a no-op).

    The objects alive are untouched: this only releases memory already freed.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
