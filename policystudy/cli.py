"""The ``policystudy`` command line.

::

    policystudy corpus [SOURCE]                    summary table of the documents
    policystudy cache --info | --clear             the token cache
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

__all__ = ["main", "corpus_summary"]


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


def corpus_summary(docs, units=None):
    """One row per document: doc_id, city, doc_type, year, script, chars, units, removed.

    ``chars`` counts the cleaned text, ``removed_chars`` the characters of removed
    boilerplate spans, ``units`` the analysis units (headings included).
    """
    import pandas as pd

    from policystudy.units import split_units

    units = split_units(docs) if units is None else units
    counts = units.groupby("doc_id", sort=False).size()
    return pd.DataFrame(
        {
            "doc_id": docs["doc_id"],
            "city": docs["city"],
            "doc_type": docs["doc_type"],
            "year": docs["year"],
            "script": docs["detected_script"],
            "chars": docs["n_chars"],
            "units": docs["doc_id"].map(counts).fillna(0).astype("int64"),
            "removed_chars": docs["n_removed_chars"],
        }
    )


def _cmd_corpus(args: argparse.Namespace) -> int:
    table = corpus_summary(_load(args))
    if args.csv:
        sys.stdout.write(table.to_csv(index=False))
    else:
        print(table.to_string(index=False))
    return 0


def _cmd_cache(args: argparse.Namespace) -> int:
    from policystudy.cache import TokenCache

    store = TokenCache(args.dir)
    if args.clear:
        n = store.clear()
        print(f"removed {n} cached entries from {store.path}")
        return 0
    info = store.info()
    print(f"path:     {info['path']}")
    print(f"entries:  {info['entries']}")
    print(f"size:     {info['size_bytes'] / 1e6:.1f} MB (bound {info['max_bytes'] / 1e6:.0f} MB)")
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

    p = sub.add_parser("cache", help="inspect or clear the token cache")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--info", action="store_true", help="show location, entries and size (default)"
    )
    group.add_argument("--clear", action="store_true", help="delete the cache")
    p.add_argument(
        "--dir", default=None, help="cache folder (default: $POLICYSTUDY_CACHE or the user cache)"
    )
    p.set_defaults(func=_cmd_cache)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``policystudy`` command."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from policystudy.load import CorpusError

    try:
        return int(args.func(args) or 0)
    except (CorpusError, FileNotFoundError, ValueError) as err:
        print(f"policystudy {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
