"""The library code that the notebooks used to hold: audit, matching, robustness, narrate.

Known answers come from small hand-made inputs whose counts can be read off the
input itself; the bundled corpus checks that the functions give what notebooks 01,
02, 03 and 04 print (their committed outputs are compared by nbval as well).
"""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

import policystudy as ps
from policystudy import audit, matching, narrate, robustness


@pytest.mark.parametrize("module", [audit, matching, narrate])
def test_doctests_run_and_pass(module) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------- audit


def test_cleaning_audit_counts_visible_characters_and_skips_joins() -> None:
    docs = pd.DataFrame(
        {
            "doc_id": ["a", "b"],
            # a: the 5-character label line is removed and recorded; b: one join and a
            # lost character that nothing recorded.
            "raw_text": ["标题\n来源:网站\n正 文。", "第一行\n第二行。x"],
            "text": ["标题\n正文。", "第一行第二行。"],
        }
    )
    removed = pd.DataFrame(
        {
            "doc_id": ["a", "b"],
            "rule": ["page_metadata", "rejoin_broken_lines"],
            "text": ["来源:网站", "行|第"],
        }
    )
    table = audit.cleaning_audit(docs, removed)
    assert table["doc_id"].tolist() == ["a", "b"]
    assert table["visible_chars_dropped"].tolist() == [5, 1]
    assert table["visible_chars_listed"].tolist() == [5, 0]  # a join removes nothing


def test_cleaning_audit_accounts_for_the_bundled_corpus(docs) -> None:
    table = audit.cleaning_audit(docs)  # the record from removed_spans itself
    assert (table["visible_chars_dropped"] == table["visible_chars_listed"]).all()
    assert table["visible_chars_dropped"].sum() > 0


class _Cutter:
    """A tokenizer stand-in: cuts after every character except inside its terms."""

    def __init__(self, terms=()):
        self.terms_ = set(terms)

    def segment(self, text: str) -> list[str]:
        pieces, i = [], 0
        while i < len(text):
            term = next((t for t in sorted(self.terms_, key=len, reverse=True)
                         if text.startswith(t, i)), None)  # fmt: skip
            pieces.append(term or text[i])
            i += len(term) if term else 1
        return pieces


def test_kept_whole_and_lexicon_coverage_known_answers() -> None:
    texts = ["市域治理现代化与市域治理", "共同体", "无关"]
    lexicon = _Cutter(["市域治理现代化", "市域治理", "共同"])
    plain = _Cutter()
    whole = audit.kept_whole(texts, lexicon, ["市域治理", "共同体"])
    assert whole.to_dict() == {"市域治理": 2, "共同体": 0}  # 共同|体 is cut
    table = audit.lexicon_coverage(texts, lexicon, plain)
    assert table.to_dict("records") == [
        # occurs twice: whole both times with the lexicon, a token of its own once
        {"term": "市域治理", "occurrences": 2, "whole_without_lexicon": 0,
         "whole_with_lexicon": 2, "as_token_with_lexicon": 1},
        {"term": "共同", "occurrences": 1, "whole_without_lexicon": 0,
         "whole_with_lexicon": 1, "as_token_with_lexicon": 1},
        {"term": "市域治理现代化", "occurrences": 1, "whole_without_lexicon": 0,
         "whole_with_lexicon": 1, "as_token_with_lexicon": 1},
    ]  # fmt: skip


# --------------------------------------------------------------------------- matching


def test_best_matches_reads_pairs_both_ways_and_swaps_every_side_column() -> None:
    pairs = pd.DataFrame(
        {
            "a": ["x|1", "x|1", "y|1"],
            "b": ["y|1", "z|1", "z|1"],
            "cosine": [0.3, 0.3, 0.9],
            "city_a": ["p", "p", "q"],
            "city_b": ["q", "r", "r"],
            "section_a": ["1", "1", "1"],
            "section_b": ["1", "1", "1"],
        }
    )
    best = matching.best_matches(pairs)
    assert best["a"].tolist() == ["x|1", "y|1", "z|1"]
    # x ties between y and z at 0.3: the partner first in sorted order
    assert best["b"].tolist() == ["y|1", "z|1", "y|1"]
    z = best[best["a"] == "z|1"].iloc[0]
    assert (z["city_a"], z["city_b"]) == ("r", "q")  # the side columns travel with a and b
    assert list(best.columns) == list(pairs.columns)
    with pytest.raises(ValueError, match="cosine"):
        matching.best_matches(pairs.drop(columns="cosine"))


# --------------------------------------------------------------------------- robustness


def test_robustness_grid_of_a_model_against_itself_is_one(features) -> None:
    model = ps.fit_topics(features, k=4, random_state=0)
    grid = robustness.robustness_grid(model, {"same": model})
    assert grid.index.tolist() == model.labels_.tolist()
    assert (grid["same"] == 1.0).all()
    assert robustness.robust_topics(grid).tolist() == model.labels_.tolist()


def test_robust_topics_ignores_missing_partners_and_lda() -> None:
    grid = pd.DataFrame(
        {"k=2": [0.9, np.nan, 0.2], "seed+1": [0.6, 0.7, 0.9], "LDA": [0.0, 0.0, 0.0]},
        index=pd.Index(["a", "b", "c"], name="topic"),
    )
    assert robustness.robust_topics(grid).tolist() == ["a", "b"]
    assert robustness.robust_topics(grid, exclude=()).tolist() == []


def test_robustness_alternatives_skip_what_the_corpus_cannot_fit(features) -> None:
    alternatives, skipped = robustness.robustness_alternatives(features, 2, random_state=0)
    assert list(alternatives) == ["k=4", "seed+1 (random init)", "seed+2 (random init)"]
    assert skipped == {"k=0": "a topic model needs at least two topics"}
    limit = ps.max_k(features)
    _, skipped = robustness.robustness_alternatives(features, limit - 1, random_state=0)
    assert f"k={limit + 1}" in skipped and "max_k" in skipped[f"k={limit + 1}"]


# --------------------------------------------------------------------------- narrate


def test_group_sizes_and_grouping_sentences() -> None:
    docs = pd.DataFrame({"doc_id": list("abcde"), "region": ["n", "n", "s", None, "w"]})
    sizes = narrate.group_sizes(docs, "region")
    assert sizes.to_dict("records") == [
        {"region": "n", "n_docs": 2},
        {"region": "s", "n_docs": 1},
        {"region": "w", "n_docs": 1},
        {"region": "(missing)", "n_docs": 1},
    ]
    text = narrate.grouping_text(docs, "region", given=True)
    assert "`region` (the `by` parameter): 3 groups, from 1 to 2 documents each" in text
    assert "2 groups are single documents" in text
    assert "1 document without a value of `region` belongs to no group" in text
    alone = narrate.grouping_text(docs, "doc_id", given=False)
    assert "every document is its own group" in alone and "5 documents" in alone


def test_k_choice_says_which_criteria_point_where() -> None:
    sk = pd.DataFrame(
        {
            "k": [2, 4, 6],
            "coherence_npmi": [0.1, 0.3, 0.2],
            "stability_restarts": [0.5, 0.9, 0.7],
            "stability_restarts_sd": [0.2, 0.05, 0.1],
            "stability_subsamples": [0.4, 0.6, 0.5],
        }
    )
    text = narrate.k_choice_text(sk, 4, chosen="default", n_units=40, default=4)
    assert "k = 4 (`ps.default_k`: sqrt(40 units / 2)" in text
    assert "All three criteria point to k = 4." in text
    other = narrate.k_choice_text(sk, 6, chosen="parameter", n_units=40, default=4)
    assert "given as the `k` parameter" in other and "No criterion points to k = 6" in other


def test_contrast_and_not_computed_sentences() -> None:
    contrast = pd.DataFrame(
        {
            "a": "x", "b": "y", "label": ["t0", "t1"], "diff": [0.2, -0.1],
            "ci_low": [0.05, -0.3], "ci_high": [0.3, 0.1], "n_docs_a": 3, "n_docs_b": 1,
            "n_units_a": 30, "n_units_b": 9,
        }
    )  # fmt: skip
    text = narrate.contrast_text(contrast)
    assert "`x` (3 documents, 30 units) against `y` (1 document, 9 units)" in text
    assert "excludes zero: `t0`." in text and "single document" in text
    why = narrate.not_computed("keyness by 'x'", "keyness needs two groups in 'x': 1 here")
    assert why == "**Not computed: keyness by 'x'.** Keyness needs two groups in 'x': 1 here."


def test_narrate_names_nothing_it_was_not_given(docs) -> None:
    # Sentences about another corpus may only name what is in that corpus's tables.
    other = docs.assign(doc_id=[f"d{i}" for i in range(len(docs))], city=list("aabbc"))
    text = narrate.grouping_text(other, "city", given=False)
    assert "quanzhou" not in text.lower() and "`city`" in text


def test_largest_groups_also_by_document() -> None:
    units = pd.DataFrame({"doc_id": list("abbccc"), "region": list("xyyxxx")})
    assert narrate.largest_groups(units, "doc_id", 2) == ["c", "b"]
    assert narrate.largest_groups(units, "region", 1) == ["x"]
