"""The Dask route on a local cluster: a large synthetic corpus, timed, with checks.

Run by hand, not in CI (``SIZE=1m`` is about 900 MB of text)::

    python benchmarks/dask_run.py --size 1m --workers 2 --out /tmp/dask-1m
    python benchmarks/dask_run.py --size 300k --check-size 100k --out /tmp/dask-300k

What is timed (the first run: nothing cached anywhere, the token cache is not used on
a cluster):

1. units: every line of every ``.txt`` file of the synthetic corpus is one unit
   (``synth.py`` writes one paragraph per line, which ``split_units`` keeps as one
   unit each); read on the workers, one partition per file group. Cleaning is not run
   on the cluster (the corpus-level template pass needs every document at once;
   synthetic text has nothing to clean);
2. :func:`policystudy.scale.tokenize_dask` (the shipped tokenizer, lexicon
   ``"default"``) and :func:`policystudy.scale.count_terms_dask`;
3. the vocabulary (``min_df=2``, ``max_df=0.5``) and per-partition TF-IDF rows
   (sublinear tf, smoothed idf, l2 rows: :func:`policystudy.build_features`'s
   weighting) built on the workers;
4. :func:`policystudy.scale.fit_topics_minibatch` (k=20) on the chunks.

Memory: the peak RSS of each worker process (sampled every 0.2 s from the
workers' own metrics) and of this (client) process.

Checks on a ``--check-size`` subsample of units (default 100k): tokens and counts of
the Dask route equal those of :func:`policystudy.tokenize` (one process,
``cache=False``); the topics of the streamed fit agree with a full NMF fit
(:func:`policystudy.fit_topics`' estimator, k=20) of that subsample, by the mean
Jaccard of the Hungarian-matched topics' top-10 terms.

Output: one JSON object on stdout and in ``OUT/dask.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402
from run import parse_sizes  # noqa: E402

K = 20


def read_units(paths: list[str]) -> pd.DataFrame:
    """Units of some files: one per non-empty line (doc_id, unit_id, text)."""
    rows = []
    for path in paths:
        doc_id = Path(path).stem
        lines = Path(path).read_text(encoding="utf-8").splitlines()
        for i, line in enumerate(line for line in lines if line.strip()):
            rows.append((doc_id, f"{doc_id}/{i:04d}", line.strip()))
    frame = pd.DataFrame(rows, columns=["doc_id", "unit_id", "text"])
    return frame.astype({"doc_id": "str", "unit_id": "str", "text": "str"})


def tfidf_chunk(tokens: pd.DataFrame, vocabulary: dict, idf: np.ndarray):
    """TF-IDF rows of one partition (sublinear tf, idf, l2), the weighting of build_features."""
    import scipy.sparse as sp

    indptr, indices, data = [0], [], []
    for toks in tokens["tokens"]:
        counts = Counter(t for t in toks if t in vocabulary)
        cols = sorted(vocabulary[t] for t in counts)
        inv = {vocabulary[t]: c for t, c in counts.items()}
        indices.extend(cols)
        data.extend(inv[c] for c in cols)
        indptr.append(len(indices))
    matrix = sp.csr_matrix(
        (np.asarray(data, dtype=np.float64), np.asarray(indices, dtype=np.int32), indptr),
        shape=(len(indptr) - 1, len(idf)),
    )
    matrix.data = (1.0 + np.log(matrix.data)) * idf[matrix.indices]
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    keep = norms > 0
    matrix = sp.diags(np.where(keep, 1.0 / np.where(keep, norms, 1.0), 0.0)) @ matrix
    return matrix.tocsr()[keep]


class MemoryWatch:
    """Peak RSS of every worker (from the scheduler's metrics) and of this process."""

    def __init__(self, client, every: float = 0.2) -> None:
        import psutil

        self.client, self.every = client, every
        self.peaks: dict[str, float] = {}
        self.client_peak = 0.0
        self._me = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                workers = self.client.scheduler_info(n_workers=-1)["workers"]
            except TypeError:  # older distributed: no n_workers argument
                workers = self.client.scheduler_info()["workers"]
            except Exception:
                workers = {}
            for address, info in workers.items():
                mb = info.get("metrics", {}).get("memory", 0) / 2**20
                self.peaks[address] = max(self.peaks.get(address, 0.0), mb)
            self.client_peak = max(self.client_peak, self._me.memory_info().rss / 2**20)
            self._stop.wait(self.every)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def top_terms(components: np.ndarray, vocabulary, n: int = 10) -> list[set]:
    vocabulary = np.asarray(vocabulary)
    return [set(vocabulary[np.argsort(-row, kind="stable")[:n]]) for row in components]


def agreement(a: list[set], b: list[set]) -> tuple[float, float]:
    from scipy.optimize import linear_sum_assignment

    jac = np.array([[len(x & y) / len(x | y) for y in b] for x in a])
    rows, cols = linear_sum_assignment(-jac)
    return float(jac[rows, cols].mean()), float(jac[rows, cols].min())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", default="1m", help="paragraphs (1m, 300k, ...)")
    parser.add_argument("--check-size", default="100k", help="units of the equality checks")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--partitions", type=int, default=64)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--corpus", default=None, help="reuse this synthetic corpus folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--no-checks", action="store_true")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (size,) = parse_sizes(args.size)
    (check_size,) = parse_sizes(args.check_size)
    result: dict = {"size": size, "workers": args.workers, "k": K}

    import dask
    import dask.dataframe as dd
    from dask.distributed import Client, LocalCluster

    from policystudy.scale import count_terms_dask, fit_topics_minibatch, tokenize_dask
    from policystudy.tokens import Tokenizer

    corpus = Path(args.corpus) if args.corpus else out / f"corpus-{size}"
    if not (corpus / "manifest.csv").exists():
        t = time.perf_counter()
        info = synth.make_corpus(corpus, max(1, size // 50), min(50, size))
        result["synth_seconds"] = time.perf_counter() - t
        result["mbytes"] = info["n_bytes"] / 1e6
    files = sorted(str(p) for p in corpus.glob("*.txt"))
    groups = [list(g) for g in np.array_split(files, min(args.partitions, len(files)))]
    tokenizer = Tokenizer(lexicon="default")

    dask.config.set({"dataframe.convert-string": False})
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
        MemoryWatch(client) as watch,
    ):
        t0 = time.perf_counter()
        meta = read_units([])
        units = dd.from_map(read_units, groups, meta=meta)
        tokens = tokenize_dask(units, tokenizer, client=client).persist()
        counts = count_terms_dask(tokens, client=client)
        n_units = int(tokens.map_partitions(len).sum().compute())
        t1 = time.perf_counter()
        keep = (counts["df"] >= 2) & (counts["df"] <= 0.5 * n_units)
        vocab_terms = counts.loc[keep, "term"].tolist()
        vocabulary = {t: i for i, t in enumerate(vocab_terms)}
        df = counts.loc[keep, "df"].to_numpy(dtype=np.float64)
        idf = np.log((1 + n_units) / (1 + df)) + 1.0
        chunks = client.gather(
            client.compute(
                [dask.delayed(tfidf_chunk)(p, vocabulary, idf) for p in tokens.to_delayed()]
            )
        )
        t2 = time.perf_counter()
        batches = [c[i : i + 4096] for c in chunks for i in range(0, c.shape[0], 4096)]
        model = fit_topics_minibatch(
            batches, k=K, n_epochs=args.epochs, random_state=0, vocabulary=vocab_terms
        )
        t3 = time.perf_counter()
        result.update(
            {
                "n_units": n_units,
                "n_terms": len(vocab_terms),
                "tokenize_count_seconds": t1 - t0,
                "tfidf_seconds": t2 - t1,
                "minibatch_nmf_seconds": t3 - t2,
                "first_run_seconds": t3 - t0,
                "worker_peak_rss_mb": sorted(watch.peaks.values()),
                "client_peak_rss_mb": watch.client_peak,
            }
        )
        print(json.dumps(result), file=sys.stderr, flush=True)

        if not args.no_checks:
            result.update(checks(client, groups, tokenizer, check_size, model, vocab_terms))
        tokens = None
    (out / "dask.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result))
    return 0


def checks(client, groups, tokenizer, check_size, model, vocab_terms) -> dict:
    """Equality with the single-process path and agreement with a full fit, on a subsample."""
    import scipy.sparse as sp

    from policystudy.scale import count_terms_dask, tokenize_dask
    from policystudy.tokens import tokenize
    from policystudy.topics import _estimator

    files = [f for g in groups for f in g]
    units = read_units(files[: math.ceil(check_size / 50)]).head(check_size)
    local = tokenize(units, tokenizer, cache=False)
    remote = tokenize_dask(units, tokenizer, client=client)
    same_tokens = bool(
        len(local) == len(remote)
        and all(a == b for a, b in zip(local["tokens"], remote["tokens"], strict=True))
        and (local["n_tokens"].to_numpy() == remote["n_tokens"].to_numpy()).all()
    )
    counts = count_terms_dask(remote, client=client)
    df, tf = Counter(), Counter()
    for toks in local["tokens"]:
        tf.update(toks)
        df.update(set(toks))
    mine = pd.DataFrame(
        {"term": sorted(tf), "df": [df[t] for t in sorted(tf)], "tf": [tf[t] for t in sorted(tf)]}
    )
    same_counts = bool(
        list(counts["term"]) == list(mine["term"])
        and (counts["df"].to_numpy() == mine["df"].to_numpy()).all()
        and (counts["tf"].to_numpy() == mine["tf"].to_numpy()).all()
    )
    # A full NMF fit (the estimator of fit_topics) of the subsample, same weighting.
    n = len(local)
    keep = (mine["df"] >= 2) & (mine["df"] <= 0.5 * n)
    terms = mine.loc[keep, "term"].tolist()
    vocabulary = {t: i for i, t in enumerate(terms)}
    idf = np.log((1 + n) / (1 + mine.loc[keep, "df"].to_numpy(dtype=np.float64))) + 1.0
    matrix = sp.csr_matrix(tfidf_chunk(local, vocabulary, idf))
    t = time.perf_counter()
    full = _estimator("nmf", K, 0, None, {})
    full.fit(matrix)
    full_seconds = time.perf_counter() - t
    mean, low = agreement(
        top_terms(model.components_, vocab_terms), top_terms(full.components_, terms)
    )
    return {
        "check_units": n,
        "tokens_equal": same_tokens,
        "counts_equal": same_counts,
        "full_fit_seconds": full_seconds,
        "full_fit_iterations": int(full.n_iter_),
        "topic_agreement_mean": mean,
        "topic_agreement_min": low,
    }


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
