"""The hand-written floor: what a user would write without policystudy.

Read the paragraphs of every ``.txt`` file, segment them with ``jieba.lcut``
(its defaults, HMM on), weight them with ``TfidfVectorizer(min_df=2,
max_df=0.5)`` over the token lists and fit ``NMF(k, init="nndsvda",
max_iter=400)``: the pipeline a user writes by hand, with the same document
frequency bounds as policystudy's defaults and enough iterations that NMF
mostly converges. Each stage is timed inside this process; the result is one
JSON line on stdout (stage seconds, peak RSS).

Usage: ``python benchmarks/floor.py SRC --k 20``
"""

from __future__ import annotations

import argparse
import json

try:
    import resource
except ImportError:  # Windows
    resource = None
import sys
import time
from pathlib import Path


def identity(tokens):
    return tokens


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("--k", type=int, default=20)
    args = parser.parse_args(argv)
    times: dict[str, float] = {}

    t0 = time.perf_counter()
    import jieba
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    t1 = time.perf_counter()
    times["import"] = t1 - t0

    paragraphs = []
    for path in sorted(Path(args.src).glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        paragraphs.extend(line.strip() for line in text.splitlines() if line.strip())
    t2 = time.perf_counter()
    times["read"] = t2 - t1

    jieba.initialize()  # what the first lcut call would do; timed on its own too
    t3 = time.perf_counter()
    tokens = [jieba.lcut(p) for p in paragraphs]
    t4 = time.perf_counter()
    times["dictionary"] = t3 - t2
    times["segment"] = t4 - t2

    # min_df falls back to 1 on a corpus too small for two (the smoke run).
    min_df = 2 if len(tokens) >= 30 else 1
    tfidf = TfidfVectorizer(analyzer=identity, min_df=min_df, max_df=0.5).fit_transform(tokens)
    t5 = time.perf_counter()
    times["tfidf"] = t5 - t4

    NMF(n_components=args.k, init="nndsvda", max_iter=400, random_state=0).fit_transform(tfidf)
    t6 = time.perf_counter()
    times["topics"] = t6 - t5
    times["total"] = t6 - t0

    print(
        json.dumps(
            {
                "times": times,
                "n_units": len(paragraphs),
                "n_bytes": sum(len(p.encode("utf-8")) for p in paragraphs),
                "n_terms": int(tfidf.shape[1]),
                "maxrss_mb": (
                    resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                    if resource
                    else float("nan")
                ),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
