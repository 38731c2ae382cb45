"""Cost of ``discover_terms`` per megabyte, on synthetic corpora of growing size.

Each corpus is resampled from the bundled corpus by ``synth.make_corpus``; the
time covers ``discover_terms`` alone (documents already loaded). Prints one JSON
line per size with the seconds, the megabytes of UTF-8 text and seconds per MB:
a constant ``s_per_mb`` across sizes means linear cost.

Usage: ``python benchmarks/terms.py --sizes 1,2,4 --out /tmp/terms-bench``
(sizes in units of 200 documents x 25 paragraphs, about 1.4 MB).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1,2,4", help="multiples of 200 docs x 25 paragraphs")
    parser.add_argument("--out", required=True, help="folder for the synthetic corpora")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE))
    from synth import make_corpus

    from policystudy import load_corpus
    from policystudy.terms import discover_terms

    for size in (int(s) for s in args.sizes.split(",")):
        info = make_corpus(Path(args.out) / f"x{size}", 200 * size, 25)
        docs = load_corpus(info["path"])
        mb = docs["text"].str.encode("utf-8").str.len().sum() / 1e6
        start = time.perf_counter()
        table = discover_terms(docs)
        seconds = time.perf_counter() - start
        row = {
            "size": size,
            "mb": round(mb, 2),
            "seconds": round(seconds, 2),
            "s_per_mb": round(seconds / mb, 2),
            "candidates": len(table),
        }
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
