"""Benchmarks: policystudy against the hand-written floor, on synthetic corpora.

For each size (paragraphs) a synthetic corpus is generated (``synth.py``) and
timed, every run in a fresh Python process:

- ``floor``: ``floor.py`` -- read lines, ``jieba.lcut``, ``TfidfVectorizer``, ``NMF``;
- ``policystudy`` end to end: ``policystudy topics SRC --k K --out DIR --n-jobs N``
  with an empty cache folder (``cold``) and again with the filled one (``warm``),
  for each number of workers (route ``cli``; if the installed ``policystudy``
  has no ``topics`` command, ``stages.py`` stands in, route ``api``);
- ``policystudy`` per stage: ``stages.py`` (load, units, tokenize, features,
  topics, output), cold and warm, for each number of workers;
- ``import policystudy``: wall time and which heavy modules it loads.

Peak memory: ``maxrss_mb`` is the kernel's peak resident set of the process
(``wait4``); ``tree_rss_mb`` is the peak of the summed RSS of the process and
its worker processes, sampled every 20 ms with psutil (NaN without psutil). Forked
workers share the parent's pages, which summed RSS counts once per process;
``tree_pss_mb`` sums the proportional set size instead (each shared page divided
among the processes sharing it: the memory the run really occupies; Linux only,
NaN elsewhere). The memory target uses ``tree_pss_mb`` where it exists.

Results: ``OUT/bench.csv`` (one row per measured stage), ``OUT/targets.csv``
(one row per target check), ``OUT/bench.png`` (end-to-end time vs size, log-log),
and a table on stdout with PASS/FAIL per target.

Usage::

    python benchmarks/run.py                      # sizes 1k,10k
    python benchmarks/run.py --size 100k
    python benchmarks/run.py --size 1k,10k,100k --out benchmarks/results
    python benchmarks/run.py --smoke --out /tmp/bench   # seconds; checks the machinery
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import synth  # noqa: E402

#: Columns of bench.csv, in this order.
COLUMNS = (
    "size",
    "n_docs",
    "n_units",
    "mbytes",
    "tool",
    "route",
    "cache",
    "n_jobs",
    "stage",
    "seconds",
    "maxrss_mb",
    "tree_rss_mb",
    "tree_pss_mb",
    "runs",
)
TARGET_COLUMNS = ("target", "size", "n_jobs", "value", "op", "threshold", "unit", "result")
#: Targets apply from this many paragraphs up.
TARGET_MIN_SIZE = 10_000
HEAVY_MODULES = ("jieba", "rjieba", "sklearn", "matplotlib")
PARAGRAPHS_PER_DOC = 50
K = 20
#: Targets (issue 17): ratios of end-to-end wall time to the floor measured in the same run.
FIRST_RUN = 0.30
RERUN = 0.10
FIRST_RUN_100K = 0.25
MEMORY_100K_MB = 1536
#: Topics of the --smoke run (20 paragraphs).
SMOKE_K = 4


# --------------------------------------------------------------------------
# Running one measured process
# --------------------------------------------------------------------------


def _tree_memory(proc) -> tuple[int, float]:
    """Summed RSS and summed PSS (NaN where PSS is unavailable) of a process tree."""
    rss, pss = 0, 0.0
    try:
        procs = [proc, *proc.children(recursive=True)]
    except Exception:
        return 0, math.nan
    for p in procs:
        try:
            rss += p.memory_info().rss
        except Exception:
            continue
        try:
            value = getattr(p.memory_full_info(), "pss", None)
        except Exception:  # the process ended, or access denied
            continue
        pss = math.nan if value is None else pss + value
    return rss, pss


def measure(cmd: list[str], env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` in a fresh process; wall time, peak memory, stdout.

    Raises RuntimeError with the process's stderr when it fails.
    """
    try:
        import psutil
    except ImportError:
        psutil = None
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        watched = psutil.Process(proc.pid) if psutil else None
        peak_tree = 0
        peak_pss = 0.0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if watched is not None:
                rss, pss = _tree_memory(watched)
                peak_tree = max(peak_tree, rss)
                if pss == pss:  # not NaN
                    peak_pss = max(peak_pss, pss)
            time.sleep(0.02)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{stderr[-3000:]}")
    maxrss = usage.ru_maxrss / (1024 if sys.platform != "darwin" else 1024 * 1024)
    return {
        "wall": wall,
        "maxrss_mb": maxrss,
        "tree_rss_mb": peak_tree / 2**20 if psutil else math.nan,
        "tree_pss_mb": peak_pss / 2**20 if psutil and peak_pss > 0 else math.nan,
        "stdout": stdout,
    }


def _json_line(stdout: str) -> dict:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON result in the output:\n{stdout[-2000:]}")


def policystudy_command() -> list[str]:
    exe = Path(sys.executable).with_name("policystudy")
    if exe.is_file():
        return [str(exe)]
    found = shutil.which("policystudy")
    return [found] if found else [sys.executable, "-m", "policystudy.cli"]


def has_topics_command() -> bool:
    cmd = [*policystudy_command(), "topics", "--help"]
    return subprocess.run(cmd, capture_output=True).returncode == 0


# --------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------


def import_check(repeat: int = 5) -> dict:
    """Median wall time of ``import policystudy`` in a fresh process, and heavy modules."""
    code = (
        "import sys, time, json\n"
        "t = time.perf_counter()\n"
        "import policystudy\n"
        "t = time.perf_counter() - t\n"
        f"heavy = [m for m in {HEAVY_MODULES!r} if m in sys.modules]\n"
        "print(json.dumps({'seconds': t, 'heavy': heavy}))\n"
    )
    runs = [_json_line(measure([sys.executable, "-c", code])["stdout"]) for _ in range(repeat)]
    seconds = sorted(r["seconds"] for r in runs)[len(runs) // 2]
    heavy = sorted({m for r in runs for m in r["heavy"]})
    return {"seconds": seconds, "heavy": heavy}


def corpus_info(src: Path) -> dict:
    """Documents, paragraphs (non-empty lines) and UTF-8 bytes of a folder of .txt files."""
    files = sorted(src.glob("*.txt"))
    lines = [
        line.strip()
        for f in files
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    if not lines:
        raise SystemExit(f"{src}: no .txt paragraphs to benchmark")
    return {
        "n_docs": len(files),
        "n_paragraphs": len(lines),
        "n_bytes": sum(len(line.encode("utf-8")) for line in lines),
    }


def bench_size(
    src: Path,
    workdir: Path,
    jobs: list[int],
    cli: bool,
    log,
    k: int = K,
    repeat: int = 3,
    api: bool = True,
) -> list[dict]:
    """Time the floor and policystudy on the corpus in ``src``; rows of bench.csv.

    Every measurement is repeated ``repeat`` times in fresh processes; the rows
    hold the median seconds and the highest peak memory (:func:`median_rows`).
    ``api=False`` skips the per-stage driver (halves the time of a large run).
    """
    info = corpus_info(src)
    size = info["n_paragraphs"]
    base = {
        "size": size,
        "n_docs": info["n_docs"],
        "n_units": info["n_paragraphs"],
        "mbytes": round(info["n_bytes"] / 1e6, 3),
    }
    rows: list[dict] = []

    def add(tool, route, cache, n_jobs, stage, seconds, run):
        rows.append(
            {
                **base,
                "tool": tool,
                "route": route,
                "cache": cache,
                "n_jobs": n_jobs,
                "stage": stage,
                "seconds": seconds,
                "maxrss_mb": run["maxrss_mb"],
                "tree_rss_mb": run["tree_rss_mb"],
                "tree_pss_mb": run["tree_pss_mb"],
            }
        )

    for i in range(repeat):
        log(f"[{size}] floor (jieba + TfidfVectorizer + NMF), run {i + 1}/{repeat}")
        run = measure([sys.executable, str(HERE / "floor.py"), str(src), "--k", str(k)])
        result = _json_line(run["stdout"])
        add("floor", "floor", "none", 1, "end_to_end", run["wall"], run)
        for stage in ("import", "read", "dictionary", "segment", "tfidf", "topics"):
            add("floor", "floor", "none", 1, stage, result["times"][stage], run)

    env = dict(os.environ)
    routes = ("api", "cli") if cli and api else ("cli",) if cli else ("api",)
    for n_jobs, route, i in ((n, r, i) for n in jobs for r in routes for i in range(repeat)):
        # Every repetition starts from an empty cache folder (cold), then reruns (warm);
        # the per-stage driver and the command line each get their own folders.
        cache_dir = workdir / f"cache-{size}-{route}-{n_jobs}"
        shutil.rmtree(cache_dir, ignore_errors=True)
        cache_dir.mkdir(parents=True)
        env["POLICYSTUDY_CACHE"] = str(cache_dir)
        for cache in ("cold", "warm"):
            out = workdir / f"out-{size}-{route}-{n_jobs}-{cache}"
            log(f"[{size}] policystudy {route} n_jobs={n_jobs} {cache}, run {i + 1}/{repeat}")
            if route == "api":
                cmd = [sys.executable, str(HERE / "stages.py"), str(src)]
                cmd += ["--k", str(k), "--n-jobs", str(n_jobs), "--out", str(out)]
                run = measure(cmd, env)
                result = _json_line(run["stdout"])
                for stage, seconds in result["times"].items():
                    if stage != "total":
                        add("policystudy", "api", cache, n_jobs, stage, seconds, run)
                if not cli:
                    add("policystudy", "api", cache, n_jobs, "end_to_end", run["wall"], run)
            else:
                cmd = [*policystudy_command(), "topics", str(src), "--k", str(k)]
                cmd += ["--method", "nmf", "--random-state", "0", "--out", str(out)]
                cmd += ["--n-jobs", str(n_jobs)]
                run = measure(cmd, env)
                add("policystudy", "cli", cache, n_jobs, "end_to_end", run["wall"], run)
    return median_rows(rows)


#: Memory columns: the worst of the repeated runs is kept (a bound must hold every time).
MEMORY_COLUMNS = ("maxrss_mb", "tree_rss_mb", "tree_pss_mb")


def median_rows(rows: list[dict]) -> list[dict]:
    """One row per measurement: the median seconds of its repeated runs, the peak memory."""
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        key = tuple(row[c] for c in COLUMNS if c not in ("seconds", "runs", *MEMORY_COLUMNS))
        groups.setdefault(key, []).append(row)
    out = []
    for group in groups.values():
        merged = dict(group[0])
        merged["seconds"] = _median([r["seconds"] for r in group])
        for column in MEMORY_COLUMNS:
            values = [r[column] for r in group if r[column] == r[column]]
            merged[column] = max(values) if values else math.nan
        merged["runs"] = len(group)
        out.append(merged)
    return out


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def bench_study(src: Path | None, workdir: Path, log, label: str, n_jobs: int = 1) -> list[dict]:
    """Wall time and peak memory of ``policystudy study`` (every notebook, HTML) once.

    One run, not three: the study of a 10k corpus takes many minutes. The cache
    folder starts empty. ``n_jobs`` is the study's ``--n-jobs`` (the most workers
    of ``--jobs``).
    """
    if src is None:
        from policystudy.load import bundled_data_dir

        info = corpus_info(bundled_data_dir())
    else:
        info = corpus_info(src)
    cache_dir = workdir / f"cache-study-{label}"
    shutil.rmtree(cache_dir, ignore_errors=True)
    env = {**os.environ, "POLICYSTUDY_CACHE": str(cache_dir)}
    env.pop("MPLBACKEND", None)
    cmd = [*policystudy_command(), "study", *([] if src is None else [str(src)])]
    cmd += ["--out", str(workdir / f"study-{label}")]
    cmd += [] if n_jobs == 1 else ["--n-jobs", str(n_jobs)]
    log(f"[{label}] policystudy study n_jobs={n_jobs}")
    start = time.perf_counter()
    try:
        run = measure(cmd, env)
    except RuntimeError as err:
        # A study that fails is reported (with the time until it failed), not fatal:
        # the other measurements of the run are still written.
        last = [line for line in str(err).splitlines() if line.strip()][-1:]
        log(f"[{label}] policystudy study failed: {' '.join(last)}")
        run = {"wall": time.perf_counter() - start}
        run.update(dict.fromkeys(MEMORY_COLUMNS, math.nan))
        label = f"{label}:failed"
    return [
        {
            "size": info["n_paragraphs"],
            "n_docs": info["n_docs"],
            "n_units": info["n_paragraphs"],
            "mbytes": round(info["n_bytes"] / 1e6, 3),
            "tool": "policystudy",
            "route": "study",
            "cache": "cold",
            "n_jobs": n_jobs,
            "stage": f"study:{label}",
            "seconds": run["wall"],
            "maxrss_mb": run["maxrss_mb"],
            "tree_rss_mb": run["tree_rss_mb"],
            "tree_pss_mb": run["tree_pss_mb"],
            "runs": 1,
        }
    ]


# --------------------------------------------------------------------------
# Tables and targets
# --------------------------------------------------------------------------


def _get(rows, **where) -> dict | None:
    for row in rows:
        if all(row[k] == v for k, v in where.items()):
            return row
    return None


def ratio_table(rows: list[dict]) -> list[dict]:
    """policystudy/floor ratios per size, cache state and number of workers."""
    table = []
    sizes = sorted({r["size"] for r in rows})
    for size in sizes:
        floor = {r["stage"]: r for r in rows if r["size"] == size and r["tool"] == "floor"}
        mb = floor["end_to_end"]["mbytes"]
        combos = sorted(
            {(r["n_jobs"], r["cache"]) for r in rows if r["size"] == size and r["tool"] != "floor"},
            key=lambda c: (c[0], c[1] != "cold"),
        )
        for n_jobs, cache in combos:

            def stage(name, size=size, n_jobs=n_jobs, cache=cache):
                where = {"tool": "policystudy", "route": "api", "cache": cache}
                row = _get(rows, size=size, n_jobs=n_jobs, stage=name, **where)
                return row["seconds"] if row else math.nan

            e2e = next(
                r
                for r in rows
                if r["size"] == size
                and r["tool"] == "policystudy"
                and r["stage"] == "end_to_end"
                and r["n_jobs"] == n_jobs
                and r["cache"] == cache
            )
            tok = stage("tokenize")
            table.append(
                {
                    "size": size,
                    "n_jobs": n_jobs,
                    "cache": cache,
                    "route": e2e["route"],
                    "segmentation": tok / floor["segment"]["seconds"],
                    "tfidf": stage("features") / floor["tfidf"]["seconds"],
                    "topics": stage("topics") / floor["topics"]["seconds"],
                    "end_to_end": e2e["seconds"] / floor["end_to_end"]["seconds"],
                    "e2e_s": e2e["seconds"],
                    "floor_s": floor["end_to_end"]["seconds"],
                    "mem_mb": _mem(e2e),
                    "floor_mem_mb": _mem(floor["end_to_end"]),
                    "seg_mb_s": mb / tok if tok > 0 else math.nan,
                    "jieba_mb_s": mb / floor["segment"]["seconds"],
                }
            )
    return table


def _mem(row: dict) -> float:
    for column in ("tree_pss_mb", "tree_rss_mb"):
        value = row.get(column, math.nan)
        if value == value and value > 0:
            return value
    return row["maxrss_mb"]


def evaluate(table: list[dict], imports: dict, study: list[dict] | None = None) -> list[dict]:
    """PASS/FAIL per target (sizes from TARGET_MIN_SIZE up); INFO rows for reported values."""
    checks = []

    ops = {"<=": float.__le__, "<": float.__lt__, ">=": float.__ge__, "==": float.__eq__}

    def check(target, size, n_jobs, value, op, threshold, unit):
        ok = ops[op](float(value), float(threshold))
        checks.append(
            {
                "target": target,
                "size": size,
                "n_jobs": n_jobs,
                "value": round(float(value), 3),
                "op": op,
                "threshold": threshold,
                "unit": unit,
                "result": "PASS" if ok else "FAIL",
            }
        )

    def report(target, size, n_jobs, value, unit):
        checks.append(
            {
                "target": target,
                "size": size,
                "n_jobs": n_jobs,
                "value": round(float(value), 3),
                "op": "report",
                "threshold": "",
                "unit": unit,
                "result": "INFO",
            }
        )

    for row in table:
        if row["size"] < TARGET_MIN_SIZE:
            continue
        size, n_jobs = row["size"], row["n_jobs"]
        if row["cache"] == "cold":
            check("first_run", size, n_jobs, row["end_to_end"], "<=", FIRST_RUN, "x floor")
        else:
            check("rerun", size, n_jobs, row["end_to_end"], "<=", RERUN, "x floor")
        if size >= 100_000 and row["cache"] == "cold":
            check(
                "100k_first_run", size, n_jobs, row["end_to_end"], "<=", FIRST_RUN_100K, "x floor"
            )
            check("100k_memory", size, n_jobs, row["mem_mb"], "<=", MEMORY_100K_MB, "MB")
    for row in study or ():
        stage = row["stage"].replace(":", "_seconds:", 1)
        report(stage, row["size"], row["n_jobs"], row["seconds"], "s")
    report("import_seconds", 0, 0, imports["seconds"], "s")
    report("import_heavy_modules", 0, 0, len(imports["heavy"]), "modules")
    return checks


def _fmt(value: float, digits: int = 2) -> str:
    return "nan" if value != value else f"{value:.{digits}f}"


def print_report(table, checks, imports, floor_rows, out=sys.stdout) -> None:
    w = out.write
    w("\npolicystudy / floor (time ratios; < 1 is faster than the floor)\n")
    head = (
        f"{'size':>7} {'jobs':>4} {'cache':>5} {'route':>5} {'segment':>8} {'tfidf':>6} "
        f"{'topics':>6} {'e2e':>6} {'e2e_s':>7} {'floor_s':>7} {'mem_MB':>7} "
        f"{'floorMB':>7} {'seg_MB/s':>8} {'jieba_MB/s':>10}\n"
    )
    w(head)
    for r in table:
        w(
            f"{r['size']:>7} {r['n_jobs']:>4} {r['cache']:>5} {r['route']:>5} "
            f"{_fmt(r['segmentation']):>8} {_fmt(r['tfidf']):>6} {_fmt(r['topics']):>6} "
            f"{_fmt(r['end_to_end']):>6} {_fmt(r['e2e_s'], 1):>7} {_fmt(r['floor_s'], 1):>7} "
            f"{_fmt(r['mem_mb'], 0):>7} {_fmt(r['floor_mem_mb'], 0):>7} "
            f"{_fmt(r['seg_mb_s'], 1):>8} {_fmt(r['jieba_mb_s'], 2):>10}\n"
        )
    w("\nfloor stages (s)\n")
    sizes = sorted({r["size"] for r in floor_rows})
    stages = ("import", "read", "dictionary", "segment", "tfidf", "topics", "end_to_end")
    w(f"{'size':>7} " + " ".join(f"{s:>10}" for s in stages) + "\n")
    for size in sizes:
        by = {r["stage"]: r["seconds"] for r in floor_rows if r["size"] == size}
        w(f"{size:>7} " + " ".join(f"{_fmt(by.get(s, math.nan)):>10}" for s in stages) + "\n")
    heavy = ", ".join(imports["heavy"]) or "none"
    w(f"\nimport policystudy: {imports['seconds']:.3f} s; heavy modules loaded: {heavy}\n")
    w("\ntargets (sizes >= 10k paragraphs; medians of the repeated runs)\n")
    for c in checks:
        where = f"size={c['size']} jobs={c['n_jobs']}" if c["size"] else ""
        goal = "reported" if c["result"] == "INFO" else f"target {c['op']} {c['threshold']}"
        w(f"  {c['result']:<4}  {c['target']:<26} {where:<20} {c['value']} {c['unit']} ({goal})\n")


def stage_table(rows: list[dict], out=sys.stdout) -> None:
    stages = ("import", "load", "units", "tokenize", "features", "topics", "output")
    out.write("\npolicystudy stages (s, Python API driver)\n")
    out.write(f"{'size':>7} {'jobs':>4} {'cache':>5} " + " ".join(f"{s:>8}" for s in stages))
    out.write("\n")
    keys = sorted(
        {(r["size"], r["n_jobs"], r["cache"]) for r in rows if r["route"] == "api"},
        key=lambda k: (k[0], k[1], k[2] != "cold"),
    )
    for size, n_jobs, cache in keys:
        by = {
            r["stage"]: r["seconds"]
            for r in rows
            if r["route"] == "api" and (r["size"], r["n_jobs"], r["cache"]) == (size, n_jobs, cache)
        }
        out.write(
            f"{size:>7} {n_jobs:>4} {cache:>5} "
            + " ".join(f"{_fmt(by.get(s, math.nan)):>8}" for s in stages)
            + "\n"
        )


def write_csv(path: Path, rows: list[dict], columns) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
            )


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    series: dict[str, list[tuple[int, float]]] = {}
    for r in rows:
        if r["stage"] != "end_to_end":
            continue
        name = (
            "floor (jieba)"
            if r["tool"] == "floor"
            else f"policystudy {r['cache']}, {r['n_jobs']} job(s)"
        )
        series.setdefault(name, []).append((r["size"], r["seconds"]))
    for name in sorted(series):
        points = sorted(series[name])
        ax.plot(*zip(*points, strict=True), marker="o", label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("paragraphs")
    ax.set_ylabel("end-to-end time (s)")
    ax.set_title(f"Topics on synthetic corpora (k={K} NMF)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def parse_sizes(spec: str) -> list[int]:
    """``"1k,10k"`` -> ``[1000, 10000]``; ``"default"`` -> 1k,10k."""
    if spec in ("", "default"):
        spec = "1k,10k"
    sizes = []
    for part in spec.split(","):
        part = part.strip().lower()
        factor = 1
        if part.endswith("k"):
            part, factor = part[:-1], 1000
        elif part.endswith("m"):
            part, factor = part[:-1], 1_000_000
        try:
            value = int(float(part) * factor)
        except ValueError:
            raise SystemExit(f"--size: cannot read {part!r} (use e.g. 1k,10k,100k)") from None
        if value < 1:
            raise SystemExit("--size: sizes must be positive")
        sizes.append(value)
    return sorted(set(sizes))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="policystudy benchmarks (see module docs)")
    parser.add_argument("--size", default="default", help="paragraphs: 1k,10k (default), 100k")
    parser.add_argument("--out", default=str(HERE / "results"), help="results folder")
    parser.add_argument("--jobs", default="1,2", help="numbers of workers to time (1,2)")
    parser.add_argument("--workdir", default=None, help="scratch folder (default: a temp dir)")
    parser.add_argument(
        "--src", default=None, help="benchmark this folder of .txt files instead of --size"
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny corpus (5 docs x 4 paragraphs), 1 worker, no plot",
    )
    parser.add_argument("--no-plot", action="store_true")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per measurement; medians are reported (3)"
    )
    parser.add_argument(
        "--no-api", action="store_true", help="skip the per-stage driver (stages.py)"
    )
    parser.add_argument(
        "--study",
        default="bundled,10k",
        help="time `policystudy study` on these corpora: 'bundled' and/or sizes of --size "
        "(default bundled,10k; 'none' to skip; one run each)",
    )
    args = parser.parse_args(argv)
    repeat = 1 if args.smoke else max(1, args.repeat)
    study_on = set() if args.smoke else {s.strip().lower() for s in args.study.split(",")}
    study_spec = ",".join(sorted(study_on - {"bundled", "none", ""}))
    study_sizes = set(parse_sizes(study_spec)) if study_spec else set()

    jobs = [int(j) for j in args.jobs.split(",")]
    # The smoke corpus has 20 paragraphs: the CLI refuses more than one topic per 3 units.
    k = SMOKE_K if args.smoke else K
    if args.smoke:
        plan = [(5, 4)]
        jobs = [1]
    else:
        plan = []
        for size in parse_sizes(args.size):
            per_doc = min(PARAGRAPHS_PER_DOC, size)
            plan.append((max(1, size // per_doc), per_doc))
    out = Path(args.out)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    cli = has_topics_command()
    if not cli:
        log("`policystudy topics` is not available: end-to-end times come from stages.py")
    rows: list[dict] = []
    studies: list[dict] = []
    api = not args.no_api
    with tempfile.TemporaryDirectory(prefix="policystudy-bench-", dir=args.workdir) as tmp:
        if "bundled" in study_on:
            studies += bench_study(None, Path(tmp), log, "bundled", max(jobs))
        if args.src:
            rows += bench_size(Path(args.src), Path(tmp), jobs, cli, log, k, repeat, api)
        for n_docs, n_paragraphs in [] if args.src else plan:
            size = n_docs * n_paragraphs
            src = Path(tmp) / f"corpus-{size}"
            synth.make_corpus(src, n_docs, n_paragraphs)
            rows += bench_size(src, Path(tmp), jobs, cli, log, k, repeat, api)
            if size in study_sizes:
                studies += bench_study(src, Path(tmp), log, f"{size // 1000}k", max(jobs))
            shutil.rmtree(src, ignore_errors=True)
    rows += studies
    log("import policystudy")
    imports = import_check(1 if args.smoke else 5)
    rows.append(
        {
            "size": 0,
            "n_docs": 0,
            "n_units": 0,
            "mbytes": 0.0,
            "tool": "policystudy",
            "route": "import",
            "cache": "none",
            "n_jobs": 0,
            "stage": "import:" + ("+".join(imports["heavy"]) or "light"),
            "seconds": imports["seconds"],
            "maxrss_mb": math.nan,
            "tree_rss_mb": math.nan,
            "tree_pss_mb": math.nan,
            "runs": 1 if args.smoke else 5,
        }
    )

    measured = [r for r in rows if r["route"] not in ("import", "study")]
    table = ratio_table(measured)
    checks = evaluate(table, imports, studies)
    write_csv(out / "bench.csv", rows, COLUMNS)
    write_csv(out / "targets.csv", checks, TARGET_COLUMNS)
    if not (args.smoke or args.no_plot):
        plot(measured, out / "bench.png")
    print_report(table, checks, imports, [r for r in measured if r["tool"] == "floor"])
    stage_table(measured)
    print(f"\nwritten: {out / 'bench.csv'}, {out / 'targets.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
