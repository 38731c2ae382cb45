"""NMF in float64 against float32: fit time and topic agreement, one JSON line per corpus.

For each corpus, ``fit_topics`` is run ``--repeat`` times in each precision
(``dtype="float64"`` and ``"float32"``, model cache off; the median time is
kept), and the two fits are compared: the mean and the lowest Jaccard similarity
of the Hungarian-matched topics' top-10 terms (``topic_agreement``), the largest
difference of a unit's topic share, the number of units whose dominant topic
changes, and what ``dtype="auto"`` resolves to. The measurements behind
``policystudy.topics.FLOAT32_MIN_UNITS`` (see "NMF precision" in README.md).

Usage::

    python benchmarks/synth.py --docs 200 --paragraphs 50 --out /tmp/corpus-10k
    python benchmarks/precision.py bundled:8 /tmp/corpus-10k:20
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

__all__ = ["compare_precisions"]


def compare_precisions(features, k: int, repeat: int = 3) -> dict:
    """Times and agreement of the float64 and float32 fits of ``features`` at ``k``."""
    from policystudy.topics import fit_topics, resolve_dtype, topic_agreement

    models, seconds = {}, {}
    for dtype in ("float64", "float32"):
        runs = []
        for _ in range(repeat):
            start = time.perf_counter()
            models[dtype] = fit_topics(features, k, dtype=dtype, cache=False)
            runs.append(time.perf_counter() - start)
        seconds[dtype] = statistics.median(runs)
    a, b = models["float64"], models["float32"]
    mean, pairs = topic_agreement(a, b, return_pairs=True)
    return {
        "n_units": features.n_units,
        "k": k,
        "auto": resolve_dtype("auto", features.n_units),
        "seconds_float64": round(seconds["float64"], 3),
        "seconds_float32": round(seconds["float32"], 3),
        "ratio": round(seconds["float32"] / seconds["float64"], 2),
        "n_iter": [a.model_.n_iter_, b.model_.n_iter_],
        "jaccard_mean": round(mean, 4),
        "jaccard_min": round(float(pairs["jaccard"].min()), 4),
        "max_share_diff": float(f"{np.abs(a.doc_topic_ - b.doc_topic_).max():.2g}"),
        "dominant_changed": int((a.unit_topics_["topic"] != b.unit_topics_["topic"]).sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "corpora", nargs="+", metavar="SRC:K", help="'bundled' or a corpus folder, and k"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per precision (median)")
    args = parser.parse_args(argv)
    from policystudy.pipeline import prepare

    for spec in args.corpora:
        source, _, k = spec.rpartition(":")
        features = prepare(None if source == "bundled" else source).features
        row = {"corpus": source, **compare_precisions(features, int(k), args.repeat)}
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
