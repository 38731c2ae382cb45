"""Sentences that state results, made from the results.

The notebooks for any corpus (``notebooks/generic/``) state no finding in
hand-written prose: every sentence about the corpus is one of these functions
applied to the tables computed in the same run, and shown as Markdown
(``display(Markdown(...))``). Each function takes the table of one step of the
study and returns a short Markdown text; none of them knows anything about a
particular corpus. When a step cannot be computed on a corpus,
:func:`not_computed` says what and why, so a report never stays silent about a
missing section.

>>> print(not_computed("keyness by 'region'", "it needs two groups; this corpus has 1"))
**Not computed: keyness by 'region'.** It needs two groups; this corpus has 1.
>>> plural(1, "document"), plural(3, "document"), plural(2, "city", "cities")
('1 document', '3 documents', '2 cities')
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "agenda_text",
    "cleaning_text",
    "confounds_text",
    "contrast_text",
    "corpus_text",
    "group_sizes",
    "grouping_text",
    "k_choice_text",
    "keyness_text",
    "largest_groups",
    "listing",
    "models_agreement_text",
    "not_computed",
    "warnings_as_notes",
    "plural",
    "prevalence_text",
    "robustness_text",
    "similarity_text",
    "stopwords_text",
    "support_text",
    "topic_sources_text",
    "coverage_text",
    "units_text",
    "validity_text",
]

#: Items of a list named in a sentence; longer lists end with "and N more".
MAX_LISTED = 8


def plural(n: int, word: str, words: str | None = None) -> str:
    """``"1 document"``, ``"2 documents"`` (``words`` for an irregular plural)."""
    return f"{n} {word if n == 1 else (words or word + 's')}"


def listing(items: Iterable[Any], limit: int = MAX_LISTED, code: bool = True) -> str:
    """Items joined with commas, as code, cut after ``limit`` with "and N more"."""
    items = [str(i) for i in items]
    shown = [f"`{i}`" if code else i for i in items[:limit]]
    if not shown:
        return "none"
    if len(items) > limit:
        return ", ".join(shown) + f" and {len(items) - limit} more"
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _sentence(text: str) -> str:
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def not_computed(what: str, why: str) -> str:
    """The Markdown line for a step the corpus does not allow: what, and why."""
    return f"**Not computed: {what}.** {_sentence(why)}"


@contextlib.contextmanager
def warnings_as_notes() -> Iterator[list[str]]:
    """Collect the warnings of a block and print each once, as a note, at its end.

    A warning shown by Python carries the path of the code that raised it, which
    in a notebook is a temporary file of the kernel: printed as notes, the
    messages (which say what the library changed for this corpus) stay in the
    report and the executed notebook is the same on every run.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield notes
        finally:
            for warning in caught:
                message = f"{warning.category.__name__}: {warning.message}"
                if message not in notes:
                    notes.append(message)
    for note in notes:
        print(f"Note: {note}")


def _bullets(lines: Iterable[str]) -> str:
    return "\n".join(f"- {line}" for line in lines)


# --------------------------------------------------------------------------- corpus


def corpus_text(docs: pd.DataFrame, units: pd.DataFrame, metadata: Sequence[str]) -> str:
    """Size of the corpus and what its metadata columns record."""
    lines = [
        f"{plural(len(docs), 'document')}, {plural(len(units), 'unit')}, "
        f"{int(docs['n_chars'].sum()):,} characters of cleaned text; documents range from "
        f"{int(docs['n_chars'].min()):,} to {int(docs['n_chars'].max()):,} characters."
    ]
    recorded = []
    empty = []
    for column in metadata:
        values = docs[column].dropna()
        if values.empty:
            empty.append(column)
        else:
            recorded.append(
                f"`{column}` ({plural(values.nunique(), 'value')}, "
                f"{plural(len(docs) - len(values), 'document')} without one)"
            )
    if recorded:
        lines.append("Metadata recorded: " + ", ".join(recorded) + ".")
    else:
        lines.append("The corpus records no metadata beyond the document ids.")
    if empty:
        lines.append(f"Columns present but empty: {listing(empty)}.")
    return _bullets(lines)


def group_sizes(table: pd.DataFrame, by: str, total: str | None = None) -> pd.DataFrame:
    """Documents (and rows, for a per-unit table) per group of ``by``, largest first.

    Missing values form the row ``(missing)`` at the end; ``total`` names a
    numeric column summed per group (e.g. ``n_tokens``).
    """
    values = table[by].astype(object).where(table[by].notna(), "(missing)")
    frame = pd.DataFrame({by: values.astype(str), "doc_id": table["doc_id"]})
    aggregations = {"n_docs": ("doc_id", "nunique"), "n_rows": ("doc_id", "size")}
    if total is not None:
        frame[total] = table[total].to_numpy()
        aggregations[total] = (total, "sum")
    sizes = frame.groupby(by, sort=True).agg(**aggregations).reset_index()
    if not table["doc_id"].duplicated().any():
        sizes = sizes.drop(columns="n_rows")
    missing = sizes[by] == "(missing)"
    order = sizes[~missing].sort_values(["n_docs", by], ascending=[False, True], kind="stable")
    return pd.concat([order, sizes[missing]], ignore_index=True)


def largest_groups(table: pd.DataFrame, by: str, n: int = 2) -> list[Any]:
    """:func:`policystudy.largest_groups`, also when ``by`` is ``doc_id``.

    With ``doc_id`` every document is its own group, so the largest are the
    documents with the most rows (units), ties by id; other columns go to
    :func:`policystudy.largest_groups` (most documents, then rows, then name).
    """
    if by != "doc_id":
        from policystudy.compare import largest_groups as by_documents

        return by_documents(table, by, n)
    rows = table.groupby("doc_id", sort=True).size()
    order = sorted(rows.index, key=lambda d: (-int(rows[d]), str(d)))
    return list(order[: int(n)])


def grouping_text(docs: pd.DataFrame, by: str, *, given: bool) -> str:
    """Which column the comparisons group by, why, and how large the groups are."""
    how = "the `by` parameter" if given else "chosen by `ps.choose_grouping`: no `by` was given"
    if by == "doc_id":
        return (
            f"Comparisons group by `doc_id` ({how}): every document is its own group, so "
            f"group differences are differences between the {plural(len(docs), 'document')}."
        )
    sizes = group_sizes(docs, by)
    known = sizes[sizes[by] != "(missing)"]
    single = int((known["n_docs"] == 1).sum())
    n_missing = int(sizes.loc[sizes[by] == "(missing)", "n_docs"].sum())
    parts = [
        f"Comparisons group by `{by}` ({how}): {plural(len(known), 'group')}, from "
        f"{int(known['n_docs'].min())} to {plural(int(known['n_docs'].max()), 'document')} each"
    ]
    if single:
        verb = "is a single document" if single == 1 else "are single documents"
        parts.append(
            f"{plural(single, 'group')} {verb}: there, a group's profile is one document's profile"
        )
    if n_missing:
        parts.append(
            f"{plural(n_missing, 'document')} without a value of `{by}` "
            f"{'belongs' if n_missing == 1 else 'belong'} to no group"
        )
    return "; ".join(parts) + "."


def confounds_text(conf: pd.DataFrame, summary: pd.DataFrame | None = None) -> str:
    """Which columns travel together, from :func:`policystudy.confounds`."""
    crossed = conf.attrs.get("crossed", "")
    skipped = conf.attrs.get("skipped", "")
    lines = []
    if crossed:
        lines.append(f"Columns crossed: {listing(c.strip() for c in crossed.split(','))}.")
    else:
        lines.append("No metadata column splits the documents into groups, so nothing is crossed.")
    if skipped:
        lines.append(f"Left out: {skipped}.")
    if summary is not None and len(summary):
        rows = summary[summary["column"] != "doc_id"]
        together = [(r.column, _confounded_with(r)) for r in rows.itertuples(index=False)]
        together = [(c, w) for c, w in together if w]
        if together:
            lines.append(
                "Confounded: "
                + "; ".join(f"`{c}` with {listing(w)}" for c, w in together)
                + ". A difference between groups of one column is then also a difference "
                "between groups of the other."
            )
        elif crossed:
            lines.append("No crossed column is nested in or identical to another.")
        single = rows[rows["n_single_doc_levels"] > 0]
        if len(single):
            lines.append(
                "Values held by a single document: "
                + ", ".join(
                    f"`{r.column}` {int(r.n_single_doc_levels)} of {int(r.n_levels)}"
                    for r in single.itertuples(index=False)
                )
                + "."
            )
    return _bullets(lines)


def _confounded_with(row: Any) -> list[str]:
    """Columns a summary row travels with; ``doc_id`` only when identical to it.

    Every column is determined by ``doc_id``, so "contained in doc_id" says nothing;
    "identical to doc_id" says that each value is one document.
    """
    identical = [c for c in str(row.identical_to or "").split(", ") if c]
    others = [c for c in str(row.confounded_with or "").split(", ") if c and c != "doc_id"]
    return list(dict.fromkeys([*identical, *others]))


def cleaning_text(docs: pd.DataFrame, removed: pd.DataFrame, audit: pd.DataFrame) -> str:
    """What cleaning removed and whether the record accounts for it."""
    spans = removed[removed["rule"] != "rejoin_broken_lines"]
    joins = int((removed["rule"] == "rejoin_broken_lines").sum())
    untouched = sorted(set(docs["doc_id"]) - set(spans["doc_id"]))
    lines = [
        f"Cleaning removed {plural(len(spans), 'span')} ({int(spans['n_chars'].sum()):,} "
        f"characters) from {plural(spans['doc_id'].nunique(), 'document')} and rejoined "
        f"{plural(joins, 'broken line')}; nothing was removed from "
        f"{plural(len(untouched), 'document')}."
    ]
    if len(spans):
        rules = spans["rule"].value_counts().sort_index()
        rules = rules.sort_values(ascending=False, kind="stable")
        lines.append("Spans by rule: " + ", ".join(f"`{r}` {n}" for r, n in rules.items()) + ".")
    differs = audit[audit["visible_chars_dropped"] != audit["visible_chars_listed"]]
    if differs.empty:
        lines.append(
            "Every visible character dropped between `raw_text` and `text` is in the record "
            "of removed spans (the audit table)."
        )
    else:
        lines.append(
            f"In {plural(len(differs), 'document')} ({listing(differs['doc_id'])}) the visible "
            "characters dropped differ from those recorded: read the audit table."
        )
    return _bullets(lines)


def units_text(units: pd.DataFrame, docs: pd.DataFrame) -> str:
    """Units per kind, and the documents without headings."""
    kinds = units["kind"].value_counts().sort_index()
    kinds = kinds.sort_values(ascending=False, kind="stable")
    per_doc = units.groupby("doc_id").size()
    no_headings = sorted(units.loc[units["section_id"] == "none", "doc_id"].unique())
    lines = [
        "Units by kind: " + ", ".join(f"`{k}` {n}" for k, n in kinds.items()) + "; from "
        f"{int(per_doc.min())} to {plural(int(per_doc.max()), 'unit')} per document.",
    ]
    if no_headings:
        lines.append(
            f"{plural(len(no_headings), 'document')} without recognised headings "
            f"({listing(no_headings)}): {'its' if len(no_headings) == 1 else 'their'} units "
            "are all in the section `(no headings)`, which the section-level analyses leave out."
        )
    else:
        lines.append("Every document has at least one recognised heading.")
    traditional = docs["detected_script"].eq("traditional")
    if traditional.any():
        lines.append(
            f"{plural(int(traditional.sum()), 'document')} detected as Traditional script "
            f"({listing(docs.loc[traditional, 'doc_id'])}) converted to Simplified."
        )
    else:
        lines.append("No document was detected as Traditional script.")
    return _bullets(lines)


# --------------------------------------------------------------------------- vocabulary


def coverage_text(coverage: pd.DataFrame, n_lexicon_terms: int) -> str:
    """What the lexicon changes, from :func:`policystudy.audit.lexicon_coverage`."""
    if coverage.empty:
        return (
            f"None of the {n_lexicon_terms:,} lexicon terms occurs in this corpus: the "
            "lexicon changes no token here."
        )
    total = coverage[["occurrences", "whole_without_lexicon", "whole_with_lexicon"]].sum()
    cut = coverage[coverage["whole_without_lexicon"] < coverage["occurrences"]]
    always = int((coverage["whole_with_lexicon"] == coverage["occurrences"]).sum())
    lines = [
        f"{plural(len(coverage), 'lexicon term')} of {n_lexicon_terms:,} occur in the corpus, "
        f"{int(total['occurrences']):,} times.",
        f"Kept whole: {int(total['whole_without_lexicon']):,} occurrences without the lexicon, "
        f"{int(total['whole_with_lexicon']):,} with it; {always} of the {len(coverage)} terms "
        "are whole at every occurrence with the lexicon.",
    ]
    if len(cut):
        lines.append(
            f"Terms the plain dictionary cuts at least once ({len(cut)}), most frequent first: "
            f"{listing(cut['term'])}."
        )
    return _bullets(lines)


def stopwords_text(effect: pd.DataFrame) -> str:
    """Tokens each stopword setting leaves (rows ``default``, ``general only``, ``none``)."""
    by = effect.set_index("setting")
    none, general, default = (int(by.loc[s, "tokens"]) for s in ("none", "general only", "default"))
    return _bullets(
        [
            f"Without stopwords the corpus has {none:,} tokens of "
            f"{int(by.loc['none', 'distinct_terms']):,} distinct terms.",
            f"The general list removes {none - general:,} tokens; the policy list removes "
            f"{general - default:,} more, leaving {default:,} "
            f"({default / none:.0%} of the tokens)."
            if none
            else "The corpus has no tokens.",
        ]
    )


# --------------------------------------------------------------------------- terms


def keyness_text(keyness: pd.DataFrame, by: str, n: int = 5, max_groups: int = 12) -> str:
    """Each group's most over-represented terms, with how many documents stand behind it."""
    over = keyness[keyness["g2"] > 0].sort_values(
        ["group", "g2", "term"], ascending=[True, False, True], kind="stable"
    )
    groups = sorted(keyness["group"].unique(), key=str)
    lines = []
    for group in groups[:max_groups]:
        rows = over[over["group"] == group].head(n)
        n_docs = int(keyness.loc[keyness["group"] == group, "n_docs_group"].iloc[0])
        if rows.empty:
            lines.append(f"`{group}` ({plural(n_docs, 'document')}): no over-represented term.")
            continue
        terms = ", ".join(
            f"{t} ({lr:+.1f})" for t, lr in zip(rows["term"], rows["log_ratio"], strict=True)
        )
        lines.append(f"`{group}` ({plural(n_docs, 'document')}): {terms}")
    if len(groups) > max_groups:
        lines.append(f"… and {len(groups) - max_groups} more groups in the table.")
    single = keyness.groupby("group")["n_docs_group"].first()
    head = (
        f"Top over-represented terms by signed G² per group of `{by}` (log ratio in brackets, "
        f"tested terms: {keyness.attrs.get('n_terms_tested', 'n/a')})."
    )
    tail = []
    n_single = int((single == 1).sum())
    if n_single:
        tail.append(
            f"{plural(n_single, 'group')} of {len(single)} "
            + (
                "is one document: its terms are that document's terms."
                if n_single == 1
                else "are one document each: their terms are those documents' terms."
            )
        )
    return head + "\n\n" + _bullets(lines) + ("\n\n" + " ".join(tail) if tail else "")


def similarity_text(pairs: pd.DataFrame, column: str | None) -> str:
    """Most and least similar document pairs, and within- against across-group similarity."""
    ranked = pairs.sort_values(["cosine", "a", "b"], ascending=[False, True, True])
    most, least = ranked.iloc[0], ranked.iloc[-1]
    if len(pairs) == 1:
        return f"- The one pair: `{most['a']}` and `{most['b']}`, cosine {most['cosine']:.2f}."
    lines = [
        f"Most similar pair: `{most['a']}` and `{most['b']}` (cosine {most['cosine']:.2f}); "
        f"least similar: `{least['a']}` and `{least['b']}` ({least['cosine']:.2f}); mean over "
        f"{plural(len(pairs), 'pair')}: {pairs['cosine'].mean():.2f}."
    ]
    if column and f"{column}_a" in pairs.columns:
        same = pairs[f"{column}_a"] == pairs[f"{column}_b"]
        if same.any() and (~same).any():
            within, across = pairs.loc[same, "cosine"].mean(), pairs.loc[~same, "cosine"].mean()
            relation = "higher than" if within > across else "not higher than"
            lines.append(
                f"Mean cosine within one `{column}` group {within:.2f} "
                f"({plural(int(same.sum()), 'pair')}), {relation} across groups {across:.2f} "
                f"({plural(int((~same).sum()), 'pair')})."
            )
        else:
            lines.append(
                f"No pair {'shares' if not same.any() else 'differs in'} its `{column}` group, so "
                "within- and across-group similarity cannot be compared."
            )
    return _bullets(lines)


# --------------------------------------------------------------------------- topics


def k_choice_text(
    select_k: pd.DataFrame, k: int, *, chosen: str, n_units: int, default: int
) -> str:
    """The number of topics used and the evidence of :func:`policystudy.select_k` beside it.

    Parameters
    ----------
    select_k : pandas.DataFrame
        Table of :func:`policystudy.select_k`.
    k : int
        The number of topics the notebook uses.
    chosen : {"parameter", "default"}
        Whether ``k`` was given or is :func:`policystudy.default_k`.
    n_units, default : int
        Units with vocabulary, and ``default_k`` for them.
    """
    by_k = select_k.set_index("k")
    best_coherence = int(by_k["coherence_npmi"].idxmax())
    steadiest = int(by_k["stability_restarts_sd"].idxmin())
    most_stable = int(by_k["stability_restarts"].idxmax())
    why = (
        "given as the `k` parameter"
        if chosen == "parameter"
        else f"`ps.default_k`: sqrt({n_units} units / 2) rounded down to an even number"
    )
    lines = [
        f"This notebook uses k = {k} ({why}; the default for this corpus is {default}).",
        f"Among the candidates {listing(by_k.index, code=False)}: highest coherence at k = "
        f"{best_coherence}, highest mean restart stability at k = {most_stable}, smallest "
        f"restart spread at k = {steadiest}.",
    ]
    if k in by_k.index:
        row = by_k.loc[k]
        lines.append(
            f"At k = {k}: coherence {row['coherence_npmi']:.3f}, restart stability "
            f"{row['stability_restarts']:.2f} (sd {row['stability_restarts_sd']:.2f}), "
            f"subsample stability {row['stability_subsamples']:.2f}."
        )
    agree = {best_coherence, steadiest, most_stable}
    if agree == {k}:
        lines.append(f"All three criteria point to k = {k}.")
    elif k in agree:
        lines.append(
            f"The criteria disagree; k = {k} is best on at least one of them. Refit at another "
            "candidate (parameter `k`) to see what changes."
        )
    else:
        lines.append(
            f"No criterion points to k = {k}; the candidates they favour are "
            f"{listing(sorted(agree), code=False)}. Consider rerunning with one of them "
            "(parameter `k`)."
        )
    return _bullets(lines)


def topic_sources_text(by_doc: pd.DataFrame) -> str:
    """How many topics draw most of their units from one document (topic x doc counts)."""
    counts = by_doc.drop(columns="top_doc_share", errors="ignore")
    share = counts.max(axis=1) / counts.sum(axis=1).where(counts.sum(axis=1) > 0)
    one_doc = share[share > 0.5]
    lines = [
        f"{plural(len(one_doc), 'topic')} of {len(counts)} draw more than half of their "
        "dominant units from one document"
        + (
            ": "
            + ", ".join(
                f"topic {t} ({counts.loc[t].idxmax()}, {s:.0%})" for t, s in one_doc.items()
            )
            if len(one_doc) and len(one_doc) <= MAX_LISTED
            else ""
        )
        + ".",
    ]
    if len(counts.columns) > 1 and len(one_doc):
        lines.append(
            "Such topics separate documents rather than find themes they share; a group "
            "difference in them is a difference between those documents."
        )
    return _bullets(lines)


def models_agreement_text(matched: pd.DataFrame, k: int, distinct: Mapping[str, int]) -> str:
    """NMF against LDA, from :func:`policystudy.match_topics` (``nmf``/``lda`` label columns)."""
    best = matched.loc[matched["jaccard"].idxmax()]
    return _bullets(
        [
            f"Mean matched Jaccard overlap of the top-10 terms, NMF against LDA: "
            f"{matched['jaccard'].mean():.2f} over {plural(k, 'topic')}.",
            f"Best-matched pair: {best['nmf']} ~ {best['lda']} ({best['jaccard']:.2f}).",
            "Distinct terms among the top 10 of all topics: "
            + ", ".join(f"{m} {n}" for m, n in distinct.items())
            + ".",
        ]
    )


def validity_text(ami: pd.Series) -> str:
    """Topics against section headings (AMI by model, from :func:`policystudy.validity_table`)."""
    doc_only = ami.get("doc_only", np.nan)
    lines = [
        "Adjusted mutual information with the section headings: "
        + ", ".join(f"{m} {v:.2f}" for m, v in ami.items())
        + "."
    ]
    if np.isfinite(doc_only):
        better = [m for m, v in ami.items() if m != "doc_only" and v > doc_only]
        lines.append(
            f"Models above the document-only baseline ({doc_only:.2f}): {listing(better)}."
            if better
            else f"No model beats the document-only baseline ({doc_only:.2f}): knowing a "
            "unit's document predicts its section at least as well as its topic does."
        )
    return _bullets(lines)


def robustness_text(grid: pd.DataFrame, robust: Sequence[str], skipped: Mapping[str, str]) -> str:
    """The robustness grid in sentences (:mod:`policystudy.robustness`)."""
    means = grid.mean()
    lines = [
        "Mean matched Jaccard per alternative: "
        + ", ".join(f"{name} {value:.2f}" for name, value in means.items())
        + ".",
        f"Topics matched at 0.5 or better under every NMF alternative: {len(robust)} of "
        f"{len(grid)}" + (f" ({listing(robust)})." if len(robust) else "."),
    ]
    if len(means):
        lines.append(f"The alternative that changes the topics most: {means.idxmin()}.")
    for name, why in skipped.items():
        lines.append(not_computed(f"alternative {name}", why))
    return _bullets(lines)


# --------------------------------------------------------------------------- prevalence


def prevalence_text(prevalence: pd.DataFrame, by: str, max_groups: int = 12) -> str:
    """Interval kinds and each group's largest effect, from :func:`policystudy.prevalence`."""
    groups = prevalence.groupby(by, sort=True)[["n_docs", "n_units", "interval"]].first()
    kinds = groups["interval"].value_counts()
    names = {
        "bootstrap_documents": "intervals from resampling documents (between-document variation)",
        "within_document_units": "intervals from resampling the units of their one document "
        "(within-document variation only; not comparable with document-bootstrap intervals)",
        "none": "a single unit, so no interval",
    }
    lines = [
        f"{plural(int(n), 'group')} of `{by}`: {names.get(kind, kind)}."
        for kind, n in kinds.items()
    ]
    ordered = prevalence.sort_values([by, "diff_from_rest", "topic"], ascending=[True, False, True])
    first = ordered.groupby(by, sort=True).first()
    effects = [
        f"`{g}`: {row['label']} ({row['diff_from_rest']:+.3f}; share {row['share']:.3f})"
        for g, row in list(first.iterrows())[:max_groups]
    ]
    if len(first) > max_groups:
        effects.append(f"… and {len(first) - max_groups} more groups in the table")
    return (
        _bullets(lines)
        + "\n\nLargest excess per group (share minus the other groups' share):\n\n"
        + _bullets(effects)
    )


def contrast_text(contrast: pd.DataFrame) -> str:
    """A two-group contrast (:func:`policystudy.prevalence_contrast`) in sentences."""
    a, b = contrast["a"].iloc[0], contrast["b"].iloc[0]
    row = contrast.iloc[0]
    excludes = contrast[(contrast["ci_low"] > 0) | (contrast["ci_high"] < 0)]
    lines = [
        f"`{a}` ({plural(int(row['n_docs_a']), 'document')}, {int(row['n_units_a'])} units) "
        f"against `{b}` ({plural(int(row['n_docs_b']), 'document')}, "
        f"{int(row['n_units_b'])} units).",
        f"Largest difference: {row['label']} ({row['diff']:+.3f}); smallest: "
        f"{contrast.iloc[-1]['label']} ({contrast.iloc[-1]['diff']:+.3f}).",
    ]
    if contrast[["ci_low", "ci_high"]].isna().all().all():
        lines.append(
            "No interval: a side has a single unit, so the difference cannot be resampled."
        )
    elif excludes.empty:
        lines.append("No topic's interval for the difference excludes zero.")
    else:
        lines.append(
            f"Topics whose interval for the difference excludes zero: {listing(excludes['label'])}."
        )
    if int(row["n_docs_a"]) < 2 or int(row["n_docs_b"]) < 2:
        lines.append(
            "At least one side is a single document: its interval resamples that document's "
            "units and says nothing about other documents of the group."
        )
    return _bullets(lines)


def agenda_text(shares: pd.DataFrame, by: str, coverage: float, max_groups: int = 12) -> str:
    """Each group's leading agenda category (:func:`policystudy.agenda_shares`)."""
    top = shares.sort_values([by, "share", "category"], ascending=[True, False, True])
    first = top.groupby(by, sort=True).first()
    lines = [f"Units with at least one dictionary match: {coverage:.0%}."]
    lines += [
        f"`{g}`: {row['category']} ({row['share']:.2f})"
        for g, row in list(first.iterrows())[:max_groups]
    ]
    if len(first) > max_groups:
        lines.append(f"… and {len(first) - max_groups} more groups in the table.")
    return _bullets(lines)


def support_text(docs: pd.DataFrame, by: str, summary: pd.DataFrame | None) -> str:
    """What comparisons by ``by`` can and cannot support on this corpus."""
    if by == "doc_id":
        return _bullets(
            [
                "Descriptions of these documents: which topics and terms each uses, and how much.",
                "Not: statements about any group of documents, since each document is its own "
                "group; record metadata (a manifest or table columns) to compare groups.",
            ]
        )
    sizes = group_sizes(docs, by)
    known = sizes[sizes[by] != "(missing)"]
    single = int((known["n_docs"] == 1).sum())
    lines = [
        "Descriptions of these documents and of the groups as collections of them "
        "(shares, rates, with the documents named)."
    ]
    if single == len(known):
        lines.append(
            f"Not: differences between `{by}` groups as such: every group is one document."
        )
    elif single:
        lines.append(
            f"With care: differences between `{by}` groups; {single} of {len(known)} groups "
            "are single documents, where a group difference is a document difference."
        )
    else:
        lines.append(
            f"Comparisons between `{by}` groups, each of at least "
            f"{plural(int(known['n_docs'].min()), 'document')}, with document-bootstrap intervals."
        )
    if summary is not None and len(summary) and "confounded_with" in summary.columns:
        row = summary[summary["column"] == by]
        with_by = _confounded_with(next(row.itertuples(index=False))) if len(row) else []
        if with_by:
            lines.append(
                f"Not separately: `{by}` from {listing(with_by)}, which travel with it in "
                "this corpus."
            )
    lines.append(
        "Not: inference to documents outside the corpus; the intervals describe these documents."
    )
    return _bullets(lines)
