"""The ``policystudy`` command line.

::

    policystudy corpus [SOURCE]                    summary table of the documents
    policystudy cache --info | --clear             the token and model caches
    policystudy topics [SOURCE] [--k K] [--by COL] --out DIR    topic model tables
    policystudy compare [SOURCE] [--by COL] --out DIR           comparison tables
    policystudy agenda [SOURCE] [--by COL] --out DIR            policy-agenda dictionary codes
    policystudy terms [SOURCE] --out DIR                        candidate terms -> DIR/terms.csv
    policystudy study [SOURCE] [--by COL] --out DIR             run every notebook into DIR

SOURCE is what :func:`policystudy.load_corpus` accepts (default: the bundled
corpus); ``--text-column`` and ``--id-column`` name the columns of a table.
``topics``, ``compare``, ``agenda`` and ``study`` take ``--lexicon FILE``
(repeatable: a lexicon text file or a ``terms.csv``), added in the same way by
all of them to the lexicon :func:`policystudy.tokens.lexicon_for` chooses.

Choices the commands make when not told, each reported in one line on stderr
(``policystudy <command>: ...``; stdout lists the files written):

- ``--by``: :func:`policystudy.compare.choose_grouping` (``city`` when it has two
  or more values, else the first metadata column splitting the documents into
  2..n-1 groups, else ``doc_id``);
- ``--k``: :func:`policystudy.topics.default_k` (``sqrt(n_units / 2)`` rounded
  down to an even number);
- ``--dtype``: the NMF precision, :func:`policystudy.topics.resolve_dtype`
  (float32 from :data:`policystudy.topics.FLOAT32_MIN_UNITS` units, reported
  only then; float64 below);
- the columns ``compare`` crosses in ``confounds.csv``:
  :func:`policystudy.compare.confound_columns` (the skipped ones and why);
- document-frequency bounds lowered for a tiny corpus
  (:func:`policystudy.features.document_frequency_bounds`).

A rerun of ``topics``, ``compare``, ``agenda`` or ``terms`` with the same input
bytes, arguments and package reads its tables back from the stage cache
(:func:`policystudy.stage_cache.command_key`) and prints the same notes and
warnings the first run printed; ``--no-cache`` computes everything again.

User errors (a ``--by`` that is no metadata column, a grouping with fewer than
two groups for ``compare``, a ``--k`` the corpus cannot support) are one line on
stderr and exit status 2, before any tokenizing or fitting.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main", "build_parser"]

#: Commands whose results are only the CSV tables they write: a rerun with the
#: same input, arguments and package reads them back (see the module docs).
TABLE_COMMANDS = ("topics", "compare", "agenda", "terms")


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


def _params(args: argparse.Namespace):
    """The pipeline parameters the command line asks for (one object for every command)."""
    from policystudy.pipeline import PipelineParams

    fields = {}
    if getattr(args, "min_df", None) is not None:
        # "--min-df 2" is a number of units, "--min-df 0.01" a proportion.
        fields["min_df"] = int(args.min_df) if float(args.min_df).is_integer() else args.min_df
    if getattr(args, "max_df", None) is not None:
        fields["max_df"] = int(args.max_df) if args.max_df > 1 else args.max_df
    return PipelineParams(
        text_column=args.text_column,
        id_column=args.id_column,
        encoding=getattr(args, "encoding", None),
        errors="skip" if getattr(args, "skip_bad", False) else "raise",
        lexicon=tuple(_lexicon_files(args)),
        **fields,
    )


def _prepare(args: argparse.Namespace):
    """:func:`policystudy.prepare` of the command's source and parameters, documents loaded."""

    from policystudy.pipeline import prepare

    params = _params(args)
    # The loader's warnings (renamed columns, files not read, skipped documents)
    # reach stderr as one line each through main().
    return prepare(
        args.source,
        params=params,
        n_jobs=getattr(args, "n_jobs", 1),
        cache=not getattr(args, "no_cache", False),
    )


#: Longest metadata cell of the text table of ``policystudy corpus`` (``--csv`` keeps
#: every character).
CELL_MAX = 24


def _cell(value: object) -> object:
    if isinstance(value, str) and len(value) > CELL_MAX:
        return value[: CELL_MAX - 1] + "…"
    return value


def _cmd_corpus(args: argparse.Namespace) -> int:
    from policystudy.units import corpus_summary

    docs = _prepare(args).documents
    table = corpus_summary(docs, metadata=True)
    if args.csv:
        sys.stdout.write(table.to_csv(index=False))
    else:
        # Free-text metadata (titles, notes) would make every line screen-wide; the
        # summary's own columns are shown whole.
        extra = list(table.columns[len(corpus_summary(docs.head(0)).columns) :])
        table[extra] = table[extra].map(_cell)
        print(table.to_string(index=False))
    return 0


def _note(args: argparse.Namespace, message: str) -> None:
    """One line on stderr: a choice the command made or a change it had to make."""
    _say(args, f"policystudy {args.command}: {message}")


def _say(args: argparse.Namespace, line: str, *, record: bool = True) -> None:
    """Print a line on stderr, kept (``record``) for a rerun that reads the tables back."""
    print(line, file=sys.stderr)
    messages = getattr(args, "messages_", None)
    if record and messages is not None:
        messages.append(line)


def _grouping(args: argparse.Namespace, docs, *, groups: int = 1) -> str:
    """The --by column: checked when given, else chosen by the library's rule and reported."""
    from policystudy.compare import choose_grouping, metadata_columns
    from policystudy.schema import meta_name

    allowed = ["doc_id", *metadata_columns(docs)]
    if args.by is None:
        by = choose_grouping(docs)
        _note(args, f"grouping by {by!r} (no --by; rule: policystudy.compare.choose_grouping)")
    elif args.by not in allowed:
        renamed = meta_name(args.by)
        hint = (
            f"; this corpus's own {args.by!r} column is {renamed!r}" if renamed in allowed else ""
        )
        raise ValueError(
            f"--by {args.by!r} is not a metadata column of this corpus{hint}; use one of "
            f"{', '.join(allowed)}, or leave --by out to choose one"
        )
    else:
        by = args.by
    values = docs[by].dropna().unique()
    if len(values) < groups:
        raise ValueError(
            f"{args.command} needs at least {groups} groups: column {by!r} has "
            f"{len(values)} ({', '.join(map(str, values[:5])) or 'no values'}) among "
            f"{len(docs)} documents; choose another --by"
        )
    return by


def _cmd_cache(args: argparse.Namespace) -> int:
    from policystudy.cache import MODEL_SUBDIR, ModelCache, TokenCache
    from policystudy.stage_cache import STAGE_SUBDIR, StageCache

    tokens = TokenCache(args.dir)
    models = ModelCache(None if args.dir is None else Path(args.dir) / MODEL_SUBDIR)
    stages = StageCache(None if args.dir is None else Path(args.dir) / STAGE_SUBDIR)
    if args.clear:
        # Read what is there first: clear() removes damaged and stale files too,
        # and the user should see that it did.
        token_info, model_info = tokens.info(), models.info()
        print(f"removed {tokens.clear()} cached token lists from {tokens.path}")
        if token_info["damaged"]:
            print(f"removed damaged token cache {tokens.path} ({token_info['damaged']})")
        if token_info["stale"]:
            print(f"removed {token_info['stale']} stale token cache files of earlier versions")
        print(f"removed {models.clear()} cached models from {models.directory}")
        if model_info["stale"]:
            print(f"removed {model_info['stale']} stale model files (*.pkl) of earlier versions")
        print(f"removed {stages.clear()} cached stage results from {stages.directory}")
        return 0
    infos = (("tokens", tokens.info()), ("models", models.info()), ("stages", stages.info()))
    for name, info in infos:
        print(f"{name}:")
        print(f"  path:     {info['path']}")
        print(f"  entries:  {info['entries']}")
        size, bound = info["size_bytes"] / 1e6, info["max_bytes"] / 1e6
        print(f"  size:     {size:.1f} MB (bound {bound:.0f} MB)")
        if info.get("damaged"):
            print(f"  damaged:  {info['path']} ({info['damaged']}); --clear removes it")
        if info["stale"]:
            kind = "token cache files" if name == "tokens" else "pickle files (*.pkl)"
            print(
                f"  stale:    {info['stale']} {kind} of earlier versions, never read "
                f"({info['stale_bytes'] / 1e6:.1f} MB); --clear removes them"
            )
            for path in info.get("stale_files", ()):
                print(f"            {path}")
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
    group.add_argument(
        "--clear",
        action="store_true",
        help="delete the cache, damaged files and files of earlier versions included",
    )
    p.add_argument(
        "--dir", default=None, help="cache folder (default: $POLICYSTUDY_CACHE or the user cache)"
    )
    p.set_defaults(func=_cmd_cache)

    p = sub.add_parser("topics", help="fit a topic model and write its tables")
    _add_source(p)
    _add_features(p)
    p.add_argument(
        "--k",
        type=int,
        default=None,
        help="number of topics (default: sqrt(units / 2) rounded down to even, 8 on the "
        "bundled corpus; with --seed-words: the seeded topics plus 2)",
    )
    p.add_argument(
        "--seed-words",
        default=None,
        help="seeded NMF: 'default' (the agenda dictionary's categories) or a dictionary file",
    )
    p.add_argument("--method", choices=("nmf", "lda"), default="nmf")
    p.add_argument(
        "--dtype",
        choices=("auto", "float64", "float32"),
        default="auto",
        help="precision of the NMF fit (default auto: float64 below "
        "policystudy.topics.FLOAT32_MIN_UNITS units, float32 from it; LDA and "
        "--seed-words fit in float64)",
    )
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument(
        "--by", default=None, help="metadata column for prevalence.csv (default: chosen, see above)"
    )
    p.add_argument("--out", required=True, help="output folder")
    _add_lexicon(p)
    p.set_defaults(func=_cmd_topics)

    p = sub.add_parser("compare", help="distinctive terms and similarity tables")
    _add_source(p)
    _add_features(p)
    p.add_argument(
        "--by",
        default=None,
        help="metadata column to compare (default: city, else the first column with 2..n-1 "
        "groups, else doc_id)",
    )
    p.add_argument("--out", required=True, help="output folder")
    _add_lexicon(p)
    p.set_defaults(func=_cmd_compare)

    # --- agenda (policy-agenda dictionary coding) ---
    p = sub.add_parser("agenda", help="policy-agenda dictionary codes and shares per group")
    _add_source(p)
    p.add_argument("--n-jobs", type=int, default=1, help="tokenization processes")
    p.add_argument(
        "--no-cache", action="store_true", help="bypass the token, stage and table caches"
    )
    p.add_argument(
        "--dictionary", default="default", help="'default' or a dictionary file (CSV or YAML)"
    )
    p.add_argument(
        "--by", default=None, help="metadata column for agenda_shares.csv (default: chosen)"
    )
    p.add_argument("--random-state", type=int, default=0)
    p.add_argument("--out", required=True, help="output folder")
    _add_lexicon(p)
    p.set_defaults(func=_cmd_agenda)

    p = sub.add_parser("study", help="run every notebook of the study into a reports folder")
    p.add_argument("source", nargs="?", default=None, help="corpus (default: the bundled corpus)")
    p.add_argument("--text-column", default="text", help="text column of a table source")
    p.add_argument("--id-column", default="doc_id", help="document id column of a table source")
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument("--k", type=int, default=None, help="number of topics for the notebooks")
    p.add_argument("--by", default=None, help="grouping column for the notebooks that take one")
    p.add_argument("--only", nargs="*", default=(), help="notebook name prefixes, e.g. 01 04")
    p.add_argument("--no-html", action="store_true", help="skip the HTML renderings")
    p.add_argument(
        "--n-jobs",
        type=int,
        default=1,
        help="processes for tokenizing and select_k in the notebooks that take them "
        "(-1: every core); the results are the same",
    )
    _add_lexicon(p)
    p.set_defaults(func=_cmd_study)

    p = sub.add_parser("terms", help="discover candidate terms of a corpus -> DIR/terms.csv")
    _add_source(p)
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--no-cache", action="store_true", help="compute again (bypass the stage caches)"
    )
    p.add_argument("--min-count", type=int, default=None, help="minimum occurrences")
    p.add_argument("--min-docs", type=int, default=None, help="minimum documents")
    p.add_argument("--max-len", type=int, default=None, help="longest term (characters)")
    p.add_argument("--top", type=int, default=None, help="keep the best N candidates")
    p.add_argument(
        "--include-known",
        action="store_true",
        help="also list words jieba's general dictionary already has",
    )
    p.add_argument(
        "--lexicon",
        action="append",
        default=[],
        metavar="FILE",
        help="further lexicon whose terms are not to be broken (repeatable)",
    )
    p.set_defaults(func=_cmd_terms)
    return parser


def _add_lexicon(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--lexicon",
        action="append",
        default=[],
        metavar="FILE",
        help="add a lexicon text file or a terms.csv (column 'term') to the default "
        "lexicon (repeatable)",
    )


def _lexicon_files(args: argparse.Namespace) -> list[str]:
    """The ``--lexicon`` files, checked and made absolute (notebooks run elsewhere)."""
    files = []
    for name in getattr(args, "lexicon", None) or ():
        path = Path(name)
        if not path.is_file():
            raise FileNotFoundError(f"{name}: lexicon file not found")
        files.append(str(path.resolve()))
    return files


def _add_features(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n-jobs", type=int, default=1, help="tokenization processes")
    parser.add_argument(
        "--no-cache", action="store_true", help="bypass the token, stage, model and table caches"
    )
    parser.add_argument("--min-df", type=float, default=2, help="minimum document frequency")
    parser.add_argument("--max-df", type=float, default=0.5, help="maximum document frequency")


def _features(args: argparse.Namespace, prepared):
    """The prepared features; the vocabulary's warnings (bounds lowered) are notes."""
    return prepared.features


def _check_k(args: argparse.Namespace, k: int, n_units: int, n_terms: int | None = None) -> None:
    """Refuse a k the corpus cannot support, with the numbers and what to do."""
    from policystudy.topics import MIN_UNITS_PER_TOPIC, max_k

    limit = max_k(n_units, n_terms)
    terms = "" if n_terms is None else f" and {n_terms} terms"
    if limit < 2:
        raise ValueError(
            f"{n_units} units{terms} are too few for a topic model: 2 topics need at least "
            f"{2 * MIN_UNITS_PER_TOPIC} units; add documents"
        )
    if k > limit:
        raise ValueError(
            f"--k {k} is more topics than {n_units} units{terms} support (at most {limit}: "
            f"{MIN_UNITS_PER_TOPIC} units per topic); use --k {limit} or fewer"
        )


def _write_tables(args: argparse.Namespace, tables: dict) -> None:
    """Write CSV tables into ``--out`` as one set (see :class:`policystudy._io.OutputSet`)."""
    from policystudy.csv_out import to_csv  # = to_csv(index=False, float_format="%.6g")

    _write_files(args, {name: to_csv(table, float_format="%.6g") for name, table in tables.items()})


def _write_files(args: argparse.Namespace, files: dict) -> None:
    from policystudy._io import OutputSet

    with OutputSet(args.out, name=args.command) as outputs:
        for name, data in files.items():
            outputs.write(name, data)
    args.tables_ = {
        name: data.encode("utf-8") if isinstance(data, str) else data
        for name, data in files.items()
    }
    for name in sorted(files):
        print(Path(args.out) / name)


def _cmd_topics(args: argparse.Namespace) -> int:
    from policystudy.compare import prevalence
    from policystudy.topics import FLOAT32_MIN_UNITS, default_k, fit_topics

    prepared = _prepare(args)
    by = _grouping(args, prepared.documents)
    units = prepared.units
    if args.k is not None:
        if args.k < 2:
            raise ValueError(f"--k {args.k}: a topic model needs at least 2 topics")
        # Body units bound the units kept, so this refuses before tokenizing.
        _check_k(args, args.k, int((~units["is_heading"]).sum()))
    features = _features(args, prepared)
    k = args.k
    if k is None and args.seed_words is None:
        k = default_k(features)
        _note(
            args,
            f"k={k} (no --k; rule: policystudy.topics.default_k, sqrt({features.n_units} units"
            " / 2) rounded down to an even number)",
        )
    if k is not None:
        _check_k(args, k, features.n_units, features.n_terms)
    model = fit_topics(
        features,
        k=k,
        method=args.method,
        random_state=args.random_state,
        cache=not args.no_cache,
        seed_words=args.seed_words,
        dtype=args.dtype,
    )
    if args.dtype == "auto" and model.dtype_ == "float32":
        _note(
            args,
            f"NMF fitted in float32 (no --dtype; rule: {features.n_units} units >= "
            f"policystudy.topics.FLOAT32_MIN_UNITS = {FLOAT32_MIN_UNITS}; --dtype float64 "
            "for full precision)",
        )
    unit_topics = model.unit_topics_
    first = ["doc_id", "unit_id", "section", "text", "topic", "weight", "label"]
    unit_topics = unit_topics[first + [c for c in unit_topics.columns if c not in first]]
    _write_tables(
        args,
        {
            "unit_topics.csv": unit_topics,
            "topic_terms.csv": model.topic_terms_,
            "prevalence.csv": prevalence(model, by=by, random_state=args.random_state),
        },
    )
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from policystudy.compare import (
        confound_columns,
        confounds,
        describe_skipped,
        distinctive_tfidf,
        keyness,
        similarity,
    )

    prepared = _prepare(args)
    docs = prepared.documents
    by = _grouping(args, docs, groups=2)
    crossed, skipped = confound_columns(docs, by)
    features = _features(args, prepared)
    if features.units[by].nunique() < 2:
        raise ValueError(
            f"compare needs at least 2 groups: column {by!r} has "
            f"{features.units[by].nunique()} among the units left after the vocabulary filter"
        )
    skipped_text = f"; skipped: {describe_skipped(skipped)}" if skipped else ""
    _note(args, f"confounds.csv crosses {', '.join(crossed) or 'no column'}{skipped_text}")
    doc_sim = similarity(features, level="doc")
    section_sim = similarity(features, level="section")
    _write_tables(
        args,
        {
            "keyness.csv": keyness(features, by=by),
            "distinctive_tfidf.csv": distinctive_tfidf(features, by=by),
            "similarity_doc.csv": doc_sim.reset_index(names=doc_sim.index.name or "doc_id"),
            "similarity_section.csv": section_sim.reset_index(names="section"),
            "confounds.csv": confounds(features.units, crossed),
        },
    )
    return 0


def _cmd_agenda(args: argparse.Namespace) -> int:
    """Dictionary codes per unit and agenda shares per group (one output set)."""
    from policystudy.agenda import agenda_shares, lookup

    prepared = _prepare(args)
    by = _grouping(args, prepared.documents)
    tokens = prepared.tokens
    body = tokens[~tokens["is_heading"].fillna(False).to_numpy(dtype=bool)]
    codes = lookup(body, args.dictionary)
    shares = agenda_shares(codes, by=by, random_state=args.random_state)
    first = ["doc_id", "unit_id", "section", "text", "category", "category_share", "n_matches"]
    codes = codes[first + [c for c in codes.columns if c not in first]]
    _write_tables(args, {"agenda_units.csv": codes, "agenda_shares.csv": shares})
    return 0


def _cmd_study(args: argparse.Namespace) -> int:
    from policystudy.study import run_study

    params = _params(args)  # each notebook adds the lexicons by the same rule
    if args.by is not None:
        # Checked on the corpus first: a wrong column would otherwise fail in a notebook.
        _grouping(args, _prepare(args).documents)
    done = run_study(
        args.source,
        args.out,
        parameters={} if args.k is None else {"k": args.k},
        by=args.by,
        only=args.only,
        html=not args.no_html,
        params=params,
        n_jobs=args.n_jobs,
    )
    out = Path(args.out).resolve()
    print(f"executed {len(done)} notebook(s); results in {out}")
    for path in done:
        print(f"  {path}")
    print(f"report index (open in a browser): {out / 'index.html'}")
    return 0


def _cmd_terms(args: argparse.Namespace) -> int:
    from policystudy.terms import discover_terms

    prepared = _prepare(args)
    table = discover_terms(
        prepared.units,
        min_count=args.min_count,
        min_docs=args.min_docs,
        max_len=args.max_len,
        top=args.top,
        exclude_known=not args.include_known,
        lexicon=prepared.lexicon,
    )
    _write_tables(args, {"terms.csv": table})
    return 0


def _run_cached(args: argparse.Namespace) -> int:
    """Run a table command, or write the tables of an identical earlier run."""
    from policystudy import stage_cache

    key = stage_cache.command_key(args.command, vars(args))
    hit = stage_cache.get_tables(key) if key is not None else None
    if hit is not None:
        files, messages = hit
        for line in messages:
            print(line, file=sys.stderr)
        _write_files(args, files)
        return 0
    args.messages_ = []
    status = int(args.func(args) or 0)
    tables = getattr(args, "tables_", None)
    if key is not None and status == 0 and tables is not None:
        stage_cache.put_tables(key, tables, args.messages_)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``policystudy`` command.

    Every user error (a source that cannot be read, a column that does not exist,
    an output folder that cannot be used) is one line on stderr and exit status 2;
    warnings are one line each. Set ``POLICYSTUDY_DEBUG=1`` for the traceback.
    """
    import os
    import warnings

    parser = build_parser()
    args = parser.parse_args(argv)
    from policystudy._io import check_output_dir
    from policystudy.cache import CacheWarning
    from policystudy.load import CorpusError
    from policystudy.study import StudyError

    def show(message, category, filename, lineno, file=None, line=None) -> None:
        # A cache's own trouble is not a property of the corpus: never replayed.
        record = not issubclass(category, CacheWarning)
        _say(args, f"policystudy {args.command}: warning: {message}", record=record)

    try:
        with warnings.catch_warnings():
            # Every warning, each time it is raised, as one line on stderr.
            warnings.simplefilter("always")
            warnings.showwarning = show
            # Refuse an unusable output folder before any expensive work.
            if getattr(args, "out", None) is not None:
                check_output_dir(args.out)
            if args.command in TABLE_COMMANDS and not args.no_cache:
                return _run_cached(args)
            return int(args.func(args) or 0)
    except (CorpusError, StudyError, ValueError, KeyError, OSError) as err:
        if os.environ.get("POLICYSTUDY_DEBUG"):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"policystudy {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
