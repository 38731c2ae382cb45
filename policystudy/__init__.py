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

_API = {
    "load_corpus": "policystudy.load",
    "removed_spans": "policystudy.load",
    "bundled_data_dir": "policystudy.load",
    "CorpusError": "policystudy.load",
    "clean_text": "policystudy.clean",
    "split_units": "policystudy.units",
    "Tokenizer": "policystudy.tokens",
    "tokenize": "policystudy.tokens",
    "harvest_terms": "policystudy.tokens",
    "write_lexicon": "policystudy.tokens",
    "discover_terms": "policystudy.terms",
    "TokenCache": "policystudy.cache",
    "build_features": "policystudy.features",
    "Features": "policystudy.features",
    "fit_topics": "policystudy.topics",
    "select_k": "policystudy.topics",
    "heading_agreement": "policystudy.topics",
    "validity_table": "policystudy.topics",
    "TopicModel": "policystudy.topics",
    "topic_coherence": "policystudy.topics",
    "match_topics": "policystudy.topics",
    "prevalence_contrast": "policystudy.compare",
    "confound_summary": "policystudy.compare",
    "similarity_long": "policystudy.compare",
    "tokenize_dask": "policystudy.scale",
    "count_terms_dask": "policystudy.scale",
    "fit_topics_minibatch": "policystudy.scale",
    "topic_agreement": "policystudy.scale",
    "save_table": "policystudy.study",
    "save_figures": "policystudy.study",
    "run_study": "policystudy.study",
    "prevalence": "policystudy.compare",
    "keyness": "policystudy.compare",
    "distinctive_tfidf": "policystudy.compare",
    "similarity": "policystudy.compare",
    "confounds": "policystudy.compare",
    "export_for_r": "policystudy.compare",
}

__all__ = ["__version__", *sorted(_API)]


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        if name in (
            "plots",
            "clean",
            "load",
            "units",
            "tokens",
            "cache",
            "features",
            "topics",
            "compare",
            "terms",
            "cli",
        ):
            return importlib.import_module(f"policystudy.{name}")
        raise AttributeError(f"module 'policystudy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
