"""policystudy's pipeline through its Python API, one timed stage at a time.

The same work as ``policystudy topics SRC --k K --out OUT``: load, split into
units, tokenize (with the cache in ``$POLICYSTUDY_CACHE``), build features, fit
NMF, write the tables. Prints one JSON line (stage seconds, peak RSS).

Usage: ``python benchmarks/stages.py SRC --k 10 --n-jobs 1 --out OUT``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

try:
    import resource
except ImportError:  # Windows
    resource = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("src")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--n-jobs", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--profile", default=None, help="write a cProfile file here")
    args = parser.parse_args(argv)

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()

    times: dict[str, float] = {}
    t = time.perf_counter()
    start = t

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        times[name] = now - t
        t = now

    import policystudy
    from policystudy.features import build_features
    from policystudy.load import load_corpus
    from policystudy.tokens import tokenize
    from policystudy.topics import fit_topics
    from policystudy.units import split_units

    lap("import")
    docs = load_corpus(args.src)
    lap("load")
    units = split_units(docs)
    lap("units")
    tokens = tokenize(units, n_jobs=args.n_jobs)
    lap("tokenize")
    features = build_features(tokens)
    lap("features")
    model = fit_topics(features, k=args.k, method="nmf", random_state=0)
    lap("topics")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    try:  # the command line's writer (same text as pandas' to_csv with %.6g floats)
        from policystudy.csv_out import to_csv
    except ImportError:

        def to_csv(table, float_format="%.6g"):
            return table.to_csv(index=False, float_format=float_format, lineterminator="\n")

    tables = {"unit_topics.csv": model.unit_topics_, "topic_terms.csv": model.topic_terms_}
    try:
        from policystudy.compare import prevalence

        tables["prevalence.csv"] = prevalence(model, by="city")
    except ImportError:
        pass
    for name, table in tables.items():
        (out / name).write_text(to_csv(table), encoding="utf-8", newline="")
    lap("output")
    times["total"] = time.perf_counter() - start
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(args.profile)

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 if resource else float("nan")
    print(
        json.dumps(
            {
                "times": times,
                "n_units": int(len(units)),
                "n_bytes": int(units["text"].str.encode("utf-8").str.len().sum()),
                "n_terms": int(features.n_terms),
                "cache_hits": int(tokens.attrs.get("cache_hits", 0)),
                "maxrss_mb": rss,
                "version": policystudy.__version__,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
