"""How much a topic model's themes depend on the choices made to fit it.

Notebook 04 refits the model under reasonable alternatives (two topics fewer
and more, other seeds with a random initialisation, no policy lexicon, LDA) and
matches each alternative to the reference topic by topic. The functions here
are that grid: :func:`robustness_alternatives` fits the alternatives the corpus
allows, :func:`robustness_grid` matches them, :func:`robust_topics` reads off
the topics that survive every NMF alternative.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

__all__ = ["robust_topics", "robustness_alternatives", "robustness_grid"]

#: Matched Jaccard overlap of top-10 terms at or above which a topic counts as found again.
ROBUST_JACCARD = 0.5


def robustness_alternatives(
    features: Any,
    k: int,
    *,
    random_state: int = 0,
    plain_features: Any = None,
    lda: Any = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Fit the alternative models of the robustness grid that the corpus allows.

    Parameters
    ----------
    features : Features
        The features of the reference model.
    k : int
        Its number of topics.
    random_state : int, default 0
        Its seed; the seed alternatives use ``random_state + 1`` and ``+ 2``.
    plain_features : Features, optional
        The same units tokenized without the policy lexicon: adds ``"no lexicon"``.
    lda : TopicModel, optional
        An LDA fit at ``k``: adds ``"LDA"``.

    Returns
    -------
    (alternatives, skipped) : dict of str to TopicModel, dict of str to str
        The fitted alternatives by name (``"k=<k-2>"``, ``"k=<k+2>"``, ``"seed+1
        (random init)"``, ``"seed+2 (random init)"``, ``"no lexicon"``, ``"LDA"``,
        in that order), and each alternative that could not be fitted with the
        reason (fewer than two topics; more than :func:`policystudy.max_k`).
    """
    import policystudy as ps

    limit = ps.max_k(features)
    alternatives: dict[str, Any] = {}
    skipped: dict[str, str] = {}
    for other in (k - 2, k + 2):
        name = f"k={other}"
        if other < 2:
            skipped[name] = "a topic model needs at least two topics"
        elif other > limit:
            skipped[name] = f"more topics than the corpus supports (max_k = {limit})"
        else:
            alternatives[name] = ps.fit_topics(features, k=other, random_state=random_state)
    for step in (1, 2):
        alternatives[f"seed+{step} (random init)"] = ps.fit_topics(
            features, k=k, random_state=random_state + step, init="random"
        )
    if plain_features is not None:
        if k > ps.max_k(plain_features):
            skipped["no lexicon"] = "more topics than the plain vocabulary supports"
        else:
            alternatives["no lexicon"] = ps.fit_topics(
                plain_features, k=k, random_state=random_state
            )
    if lda is not None:
        alternatives["LDA"] = lda
    return alternatives, skipped


def robustness_grid(model: Any, alternatives: Mapping[str, Any]) -> pd.DataFrame:
    """Matched Jaccard overlap of each reference topic under each alternative.

    Parameters
    ----------
    model : TopicModel
        The reference model (its labels name the rows).
    alternatives : mapping of str to TopicModel
        From :func:`robustness_alternatives`, or any models to compare.

    Returns
    -------
    pandas.DataFrame
        One row per reference topic (index ``topic``: the model's labels, in
        topic order), one column per alternative: the Jaccard overlap of the
        top-10 terms of the topic and its partner under
        :func:`policystudy.match_topics` (Hungarian matching); NaN where an
        alternative with fewer topics leaves the topic without a partner.
    """
    import policystudy as ps

    k = len(model.labels_)
    robust = pd.DataFrame(
        {
            name: ps.match_topics(model, alt).set_index("topic_a")["jaccard"]
            for name, alt in alternatives.items()
        }
    ).reindex(range(k))
    robust.index = pd.Index(model.labels_.tolist(), name="topic")
    return robust


def robust_topics(
    grid: pd.DataFrame, threshold: float = ROBUST_JACCARD, exclude: tuple[str, ...] = ("LDA",)
) -> pd.Index:
    """Topics matched at ``threshold`` or better under every alternative but ``exclude``.

    A topic without a partner (NaN: an alternative with fewer topics) is not
    counted against it. LDA is left out by default: it is a different model,
    read as a check beside the NMF alternatives.
    """
    kept = grid.drop(columns=[c for c in exclude if c in grid.columns])
    if kept.shape[1] == 0:
        return grid.index[:0]
    return kept.index[kept.min(axis=1) >= threshold]
