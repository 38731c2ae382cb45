"""policystudy: a comparative study toolkit for Chinese local-government policy documents.

The stages, one module each, data flowing one way::

    load_corpus -> split_units -> tokenize -> build_features -> fit_topics / compare -> plots

Attributes are imported lazily, so ``import policystudy`` loads no segmentation
dictionary, scikit-learn or matplotlib until they are used.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

#: The public modules and the names each one exports at the top level. Every
#: public module of the package is listed (a test checks it), so
#: ``policystudy.<module>`` works for each, and every name here is importable as
#: ``policystudy.<name>``.
_MODULES: dict[str, tuple[str, ...]] = {
    "load": ("load_corpus", "removed_spans", "bundled_data_dir", "CorpusError"),
    "clean": ("clean_text",),
    "markers": (),
    "schema": ("MissingColumnError",),
    "units": ("split_units", "corpus_summary"),
    "tokens": ("Tokenizer", "tokenize", "harvest_terms", "write_lexicon", "lexicon_for"),
    "terms": ("discover_terms",),
    "cache": ("CacheWarning", "TokenCache"),
    "features": ("build_features", "Features", "document_frequency_bounds"),
    "pipeline": ("prepare", "PipelineParams", "Prepared"),
    "topics": (
        "fit_topics",
        "select_k",
        "heading_agreement",
        "validity_table",
        "TopicModel",
        "topic_coherence",
        "match_topics",
        "default_k",
        "candidate_ks",
        "max_k",
        "fit_topics_minibatch",
        "topic_agreement",
        "MiniBatchTopics",
    ),
    "compare": (
        "prevalence",
        "prevalence_contrast",
        "keyness",
        "distinctive_tfidf",
        "similarity",
        "similarity_long",
        "confounds",
        "confound_summary",
        "export_for_r",
        "choose_grouping",
        "confound_columns",
        "metadata_columns",
        "largest_groups",
    ),
    "validation": (
        "validation_sample",
        "write_coding_sheet",
        "match_coded",
        "agreement",
        "word_intrusion",
        "topic_intrusion",
        "score_word_intrusion",
        "score_topic_intrusion",
        "compare_methods",
    ),
    "agenda": ("lookup", "load_dictionary", "agenda_shares"),
    "seeded": (),
    "plots": (),
    "explorer": ("explorer_html", "write_explorer", "topic_map", "relevance", "topic_groups"),
    "plot_topic_map": ("topic_map_figure",),
    "plot_wordcloud": ("wordcloud_figure", "topic_wordclouds", "group_wordclouds"),
    "exports": ("write_workbook", "write_workbook_from_folder", "column_dictionary"),
    "scale": ("tokenize_dask", "count_terms_dask"),
    "report_extras": (),
    "stage_cache": (),
    "csv_out": (),
    "study": ("save_table", "save_figures", "run_study", "StudyError"),
    "report": ("styled_table",),
    "published": ("PUBLISHED", "PublishedRun"),
    "audit": ("cleaning_audit", "lexicon_coverage", "kept_whole"),
    "matching": ("best_matches",),
    "robustness": ("robustness_alternatives", "robustness_grid", "robust_topics"),
    "narrate": (),
    "cli": (),
}
_API = {name: f"policystudy.{module}" for module, names in _MODULES.items() for name in names}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"policystudy.{name}")
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module 'policystudy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API) | set(_MODULES))
