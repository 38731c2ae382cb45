"""Validity against the documents' own structure.

Do units under the same top-level heading share a dominant topic more than
knowing the document alone would predict? :func:`heading_agreement` scores one
model, :func:`validity_table` several beside the document-only baseline.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_mutual_info_score, normalized_mutual_info_score

from policystudy._validation import require_columns
from policystudy.features import Features
from policystudy.schema import FALLBACK_SECTION_IDS
from policystudy.topics._fit import Method, fit_topics
from policystudy.topics._model import TopicModel, _check_model

__all__ = ["heading_agreement", "validity_table"]

_DOC_BASELINE = "doc_only"


def heading_agreement(
    model: TopicModel,
    *,
    exclude_section_ids: Sequence[str] = FALLBACK_SECTION_IDS,
) -> pd.DataFrame:
    """Agreement between units' dominant topics and their enclosing headings.

    Each unit's section is qualified by its document (``doc_id`` + ``section``)
    because documents do not share headings. Units in a fallback section
    (no real top-level heading: ``section_id`` in ``exclude_section_ids``)
    are left out. The model's clustering is the dominant topic (units
    without a topic form their own cluster). A baseline clustering that
    knows only each unit's document is scored the same way: since sections
    are nested in documents it already agrees partly with them. A third
    clustering crosses the two (dominant topic within document): AMI
    corrects for chance, so it rises above the baseline only if topics
    separate the sections of a document from each other.

    Parameters
    ----------
    model : TopicModel
        Fitted model; its ``unit_topics_`` must have ``doc_id`` and
        ``section`` columns.
    exclude_section_ids : sequence of str, default ("preamble", "none")
        ``section_id`` values that mark fallback sections: text before the
        first top-level heading and documents without headings (see
        :func:`policystudy.split_units`).

    Returns
    -------
    pandas.DataFrame
        Columns ``model`` (the model's method for its dominant topics;
        ``"<method>+doc"`` for the dominant topic within each document;
        ``"doc_only"`` for the baseline), ``measure`` (``"ami"``: adjusted
        mutual information, in [-1, 1], 0 = chance; ``"nmi"``: normalised mutual information, in
        [0, 1]), ``value`` (rounded to 4 decimals), ``n_units``,
        ``n_sections``.
    """
    _check_model(model)
    table = model.unit_topics_
    require_columns(table, ("doc_id", "section"), "heading_agreement: model.unit_topics_")
    keep = np.ones(len(table), dtype=bool)
    if "section_id" in table.columns:
        keep &= (
            ~table["section_id"].astype(str).isin([str(s) for s in exclude_section_ids]).to_numpy()
        )
    keep &= table["section"].notna().to_numpy()
    sub = table.loc[keep]
    if sub.empty:
        raise ValueError("heading_agreement: no units with a real section heading")
    sections = (sub["doc_id"].astype(str) + "|" + sub["section"].astype(str)).to_numpy()
    n_sections = len(set(sections))
    doc = sub["doc_id"].astype(str).to_numpy()
    topic = sub["topic"].to_numpy()
    clusterings = (
        (model.method, topic),
        # Topic within document: do topics add to what the document tells?
        (
            f"{model.method}+doc",
            (sub["doc_id"].astype(str) + "|" + sub["topic"].astype(str)).to_numpy(),
        ),
        (_DOC_BASELINE, doc),
    )
    measures = (("ami", adjusted_mutual_info_score), ("nmi", normalized_mutual_info_score))
    rows = []
    for name, clusters in clusterings:
        for measure, func in measures:
            rows.append(
                {
                    "model": name,
                    "measure": measure,
                    "value": round(float(func(sections, clusters)), 4),
                    "n_units": int(len(sub)),
                    "n_sections": n_sections,
                }
            )
    return pd.DataFrame(rows)


def validity_table(
    features: Features,
    k: int | None = None,
    *,
    methods: Sequence[Method] = ("nmf", "lda"),
    random_state: int = 0,
    exclude_section_ids: Sequence[str] = FALLBACK_SECTION_IDS,
    **kwargs: Any,
) -> pd.DataFrame:
    """Heading agreement of several topic models next to the document-only baseline.

    Parameters
    ----------
    features : Features
        Output of :func:`policystudy.build_features`.
    k : int, optional
        Number of topics for every model (default: :func:`default_k`).
    methods : sequence of {"nmf", "lda"}, default ("nmf", "lda")
    random_state : int, default 0
    exclude_section_ids : sequence of str, default ("preamble", "none")
        See :func:`heading_agreement`.
    **kwargs
        Passed to :func:`fit_topics`.

    Returns
    -------
    pandas.DataFrame
        Columns ``model``, ``measure``, ``value``, ``n_units``, ``n_sections``:
        the rows of :func:`heading_agreement` for each method, followed once
        by the ``"doc_only"`` baseline rows.
    """
    parts = []
    baseline = None
    for method in methods:
        model = fit_topics(features, k, method=method, random_state=random_state, **kwargs)
        table = heading_agreement(model, exclude_section_ids=exclude_section_ids)
        parts.append(table[table["model"] != _DOC_BASELINE])
        baseline = table[table["model"] == _DOC_BASELINE]
    if baseline is None:
        raise ValueError("methods must name at least one method")
    return pd.concat([*parts, baseline], ignore_index=True)
