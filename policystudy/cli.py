"""The ``policystudy`` command line.

::

    policystudy corpus [SOURCE]                    summary table of the documents
    policystudy cache --info | --clear             the token and model caches
    policystudy topics [SOURCE] --k K --out DIR    topic model tables
    policystudy compare [SOURCE] --by city --out DIR
    policystudy study [SOURCE] --out DIR           run every notebook into DIR

SOURCE is what :func:`policystudy.load_corpus` accepts (default: the bundled
corpus); ``--text-column`` and ``--id-column`` name the columns of a table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]


def __getattr__(name: str):
    # corpus_summary lives in the library (policystudy.units); the old import path
    # keeps working without loading pandas when the command starts.
    if name == "corpus_summary":
        from policystudy.units import corpus_summary

        return corpus_summary
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _add_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        nargs="?",
        default=None,
        help="folder of .txt files or a .csv/.xlsx/.parquet table (default: the bundled corpus)",
    )
    parser.add_argument("--text-column", default="text", help="text column of a table source")
    parser.add_argument(
        "--id-column", default="doc_id", help="document id column of a table source"
    )
    parser.add_argument("--encoding", default=None, help="decode every file with this encoding")
    parser.add_argument(
        "--skip-bad",
        action="store_true",
        help="skip undecodable, empty or non-Chinese files with a warning instead of failing",
    )


def _load(args: argparse.Namespace):
    from policystudy.load import load_corpus

    return load_corpus(
        args.source,
        text_column=args.text_column,
        id_column=args.id_column,
        encoding=args.encoding,
        errors="skip" if args.skip_bad else "raise",
    )


def _cmd_corpus(args: argparse.Namespace) -> int:
    from policystudy.units import corpus_summary

    table = corpus_summary(_load(args))
    if args.csv:
        sys.stdout.write(table.to_csv(index=False))
    else:
        print(table.to_string(index=False))
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from policystudy.cache import MODEL_SUBDIR, ModelCache, TokenCache

    tokens = TokenCache(args.dir)
    models = ModelCache(None if args.dir is None else Path(args.dir) / MODEL_SUBDIR)
    if args.clear:
        print(f"removed {tokens.clear()} cached token lists from {tokens.path}")
        print(f"removed {models.clear()} cached models from {models.directory}")
        return 0
    for name, info in (("tokens", tokens.info()), ("models", models.info())):
        print(f"{name}:")
        print(f"  path:     {info['path']}")
        print(f"  entries:  {info['entries']}")
        size, bound = info["size_bytes"] / 1e6, info["max_bytes"] / 1e6
        print(f"  size:     {size:.1f} MB (bound {bound:.0f} MB)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    from policystudy import __version__

    parser = argparse.ArgumentParser(
        prog="policystudy",
        description="Comparative study of Chinese local-government policy documents.",
    )
    parser.add_argument("--version", action="version", version=f"policystudy {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("corpus", help="summary table of the documents")
    _add_source(p)
    p.add_argument("--csv", action="store_true", help="write CSV instead of a text table")
    p.set_defaults(func=_cmd_corpus)

    p = sub.add_parser("cache", help="inspect or clear the token and model caches")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--info", action="store_true", help="show location, entries and size (default)"
    )
    group.add_argument("--clear", action="store_true", help="delete the cache")
    p.add_argument(
        "--dir", default=None, help="cache folder (default: $POLICYSTUDY_CACHE or the user cache)"
    )
    p.set_defaults(func=_cmd_cache)

    p = sub.add_parser("topics", help="fit a topic model and write its tables")
    _add_source(p)
    _add_features(p)
    p.add_argument("--k", type=int, default=8, help="number of topics (default 8)")
    p.add_argument("--method", choices=("nmf", "lda"), default="nmf")
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--by", default="city", help="metadata column for prevalence.csv")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_cmd_topics)

    p = sub.add_parser("compare", help="distinctive terms and similarity tables")
    _add_source(p)
    _add_features(p)
    p.add_argument("--by", default="city", help="metadata column to compare (default city)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=_cmd_compare)

    p = sub.add_parser("study", help="run every notebook of the study into a reports folder")
    p.add_argument("source", nargs="?", default=None, help="corpus (default: the bundled corpus)")
    p.add_argument("--text-column", default="text", help="text column of a table source")
    p.add_argument("--id-column", default="doc_id", help="document id column of a table source")
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument("--k", type=int, default=None, help="number of topics for the notebooks")
    p.add_argument("--only", nargs="*", default=(), help="notebook name prefixes, e.g. 01 04")
    p.add_argument("--no-html", action="store_true", help="skip the HTML renderings")
    p.set_defaults(func=_cmd_study)
    return parser


def _add_features(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n-jobs", type=int, default=1, help="tokenization processes")
    parser.add_argument("--no-cache", action="store_true", help="bypass the token and model caches")
    parser.add_argument("--min-df", type=float, default=2, help="minimum document frequency")
    parser.add_argument("--max-df", type=float, default=0.5, help="maximum document frequency")


def _features(args: argparse.Namespace):
    from policystudy.features import build_features
    from policystudy.tokens import tokenize
    from policystudy.units import split_units

    units = split_units(_load(args))
    tokens = tokenize(units, n_jobs=args.n_jobs, cache=not args.no_cache)
    min_df = int(args.min_df) if float(args.min_df).is_integer() else args.min_df
    max_df = int(args.max_df) if args.max_df > 1 else args.max_df
    return build_features(tokens, min_df=min_df, max_df=max_df)


def _write_tables(out: str, tables: dict, *, command: str) -> None:
    """Write CSV tables into ``out`` as one set (see :class:`policystudy._io.OutputSet`)."""
    from policystudy._io import OutputSet

    with OutputSet(out, name=command) as outputs:
        for name, table in tables.items():
            outputs.write(name, table.to_csv(index=False, float_format="%.6g", lineterminator="\n"))
    for name in sorted(tables):
        print(Path(out) / name)


def _cmd_topics(args: argparse.Namespace) -> int:
    from policystudy.compare import prevalence
    from policystudy.topics import fit_topics

    model = fit_topics(
        _features(args),
        k=args.k,
        method=args.method,
        random_state=args.random_state,
        cache=not args.no_cache,
    )
    unit_topics = model.unit_topics_
    first = ["doc_id", "unit_id", "section", "text", "topic", "weight", "label"]
    unit_topics = unit_topics[first + [c for c in unit_topics.columns if c not in first]]
    _write_tables(
        args.out,
        {
            "unit_topics.csv": unit_topics,
            "topic_terms.csv": model.topic_terms_,
            "prevalence.csv": prevalence(model, by=args.by, random_state=args.random_state),
        },
        command="topics",
    )
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from policystudy.compare import confounds, distinctive_tfidf, keyness, similarity

    features = _features(args)
    doc_sim = similarity(features, level="doc")
    section_sim = similarity(features, level="section")
    _write_tables(
        args.out,
        {
            "keyness.csv": keyness(features, by=args.by),
            "distinctive_tfidf.csv": distinctive_tfidf(features, by=args.by),
            "similarity_doc.csv": doc_sim.reset_index(names=doc_sim.index.name or "doc_id"),
            "similarity_section.csv": section_sim.reset_index(names="section"),
            "confounds.csv": confounds(features.units),
        },
        command="compare",
    )
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from policystudy.study import run_study

    done = run_study(
        args.source,
        args.out,
        parameters={} if args.k is None else {"k": args.k},
        only=args.only,
        html=not args.no_html,
        text_column=args.text_column,
        id_column=args.id_column,
    )
    out = Path(args.out).resolve()
    print(f"executed {len(done)} notebook(s); results in {out}")
    for path in done:
        print(f"  {path}")
    print(f"report index (open in a browser): {out / 'index.html'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``policystudy`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from policystudy._io import check_output_dir
    from policystudy.load import CorpusError
    from policystudy.study import StudyError

    try:
        # Refuse an unusable output folder before any expensive work.
        if getattr(args, "out", None) is not None:
            check_output_dir(args.out)
        return int(args.func(args) or 0)
    except (CorpusError, StudyError, FileNotFoundError, ValueError) as err:
        print(f"policystudy {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
