"""Audits of the corpus preparation: what cleaning dropped, what the lexicon keeps whole.

Two checks the study's notebooks show for every corpus they run on (notebooks 01
and 02), as functions so that they are tested once and read the same everywhere:

* :func:`cleaning_audit`: does the record of removed spans account for every
  visible character that cleaning dropped from each document?
* :func:`kept_whole` and :func:`lexicon_coverage`: how many occurrences of each
  lexicon term survive segmentation uncut, with and without the lexicon.

>>> import pandas as pd
>>> docs = pd.DataFrame({"doc_id": ["a"], "raw_text": ["标题\\n来源:网站\\n正文。"],
...                      "text": ["标题\\n正文。"]})
>>> removed = pd.DataFrame({"doc_id": ["a"], "rule": ["page_metadata"], "text": ["来源:网站"]})
>>> cleaning_audit(docs, removed).to_dict("records")
[{'doc_id': 'a', 'visible_chars_dropped': 5, 'visible_chars_listed': 5}]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

__all__ = ["cleaning_audit", "kept_whole", "lexicon_coverage"]

#: The rule that joins broken lines: it records a join, not removed text.
_JOIN_RULE = "rejoin_broken_lines"


def _visible(texts: pd.Series) -> pd.Series:
    """Characters that are not whitespace, per text."""
    return texts.str.replace(r"\s", "", regex=True).str.len()


def cleaning_audit(docs: pd.DataFrame, removed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Visible characters cleaning dropped from each document, beside those it recorded.

    Parameters
    ----------
    docs : pandas.DataFrame
        Documents from :func:`policystudy.load_corpus` (``doc_id``, ``raw_text``,
        ``text``).
    removed : pandas.DataFrame, optional
        The record of removed spans (default: :func:`policystudy.removed_spans`
        of ``docs``); its ``rejoin_broken_lines`` rows mark joins and remove
        nothing, so they are not counted.

    Returns
    -------
    pandas.DataFrame
        One row per document, in the order of ``docs``: ``doc_id``,
        ``visible_chars_dropped`` (non-whitespace characters of ``raw_text``
        missing from ``text``) and ``visible_chars_listed`` (non-whitespace
        characters of the recorded spans). Equal columns mean that every
        visible character cleaning dropped is in the record; whitespace is
        normalised without being recorded, which is why it is left out.
    """
    if removed is None:
        from policystudy.load import removed_spans

        removed = removed_spans(docs)
    spans = removed[removed["rule"] != _JOIN_RULE]
    listed = spans.assign(visible=_visible(spans["text"])).groupby("doc_id")["visible"].sum()
    return pd.DataFrame(
        {
            "doc_id": docs["doc_id"],
            "visible_chars_dropped": _visible(docs["raw_text"]) - _visible(docs["text"]),
            "visible_chars_listed": docs["doc_id"].map(listed).fillna(0).astype("int64"),
        }
    )


def _joined(texts: Iterable[str], tokenizer: Any) -> list[str]:
    # Pieces joined with "|": a token boundary inside a term breaks its match.
    return ["|".join(tokenizer.segment(t)) for t in texts]


def kept_whole(texts: Sequence[str], tokenizer: Any, terms: Iterable[str]) -> pd.Series:
    """Occurrences of each term that no token boundary of ``tokenizer`` cuts.

    A term is kept whole where it lies inside one piece of the raw segmentation
    (``tokenizer.segment``), alone or within a longer piece.

    Parameters
    ----------
    texts : sequence of str
        The texts (e.g. ``units["text"]``).
    tokenizer : Tokenizer
        Any object with ``segment(text) -> list of str``.
    terms : iterable of str

    Returns
    -------
    pandas.Series
        Counts indexed by term, in the order given.
    """
    joined = _joined(texts, tokenizer)
    terms = list(terms)
    return pd.Series(
        [sum(s.count(x) for s in joined) for x in terms], index=pd.Index(terms, name="term")
    )


def lexicon_coverage(
    texts: Sequence[str], tokenizer: Any, plain: Any = None, terms: Iterable[str] | None = None
) -> pd.DataFrame:
    """How the lexicon's terms fare in segmentation, with and without the lexicon.

    Parameters
    ----------
    texts : sequence of str
        The texts (e.g. ``units["text"]``).
    tokenizer : Tokenizer
        The tokenizer with the lexicon.
    plain : Tokenizer, optional
        The tokenizer without it (default: ``Tokenizer(lexicon=None)``).
    terms : iterable of str, optional
        Terms to count (default: ``tokenizer.terms_``, the lexicon).

    Returns
    -------
    pandas.DataFrame
        One row per term found in ``texts``: ``term``, ``occurrences`` (of the
        string), ``whole_without_lexicon`` and ``whole_with_lexicon`` (occurrences
        not cut by a token boundary, see :func:`kept_whole`) and
        ``as_token_with_lexicon`` (times the term is a token of its own with the
        lexicon: nested terms count only where no longer term contains them).
        Sorted by occurrences (descending), then term.
    """
    if plain is None:
        from policystudy.tokens import Tokenizer

        plain = Tokenizer(lexicon=None)
    texts = list(texts)
    terms = list(tokenizer.terms_ if terms is None else terms)
    segments = [tokenizer.segment(t) for t in texts]
    coverage = pd.DataFrame({"term": terms})
    coverage["occurrences"] = [sum(t.count(x) for t in texts) for x in terms]
    coverage["whole_without_lexicon"] = kept_whole(texts, plain, terms).to_numpy()
    joined = ["|".join(s) for s in segments]
    coverage["whole_with_lexicon"] = [sum(s.count(x) for s in joined) for x in terms]
    coverage["as_token_with_lexicon"] = [sum(s.count(x) for s in segments) for x in terms]
    return coverage[coverage["occurrences"] > 0].sort_values(
        ["occurrences", "term"], ascending=[False, True], ignore_index=True
    )
