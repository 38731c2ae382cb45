"""Synthetic corpora for the benchmarks, resampled from the bundled corpus.

The body units of the bundled corpus (kinds ``paragraph``, ``item`` and
``target`` from ``split_units(load_corpus())``) are the material. Each synthetic
paragraph takes the sentence count of a randomly drawn real unit and fills it
with sentences drawn at random from all real units, so that:

- the vocabulary, sentence lengths and paragraph lengths are those of real
  policy prose;
- the paragraphs are (practically) all distinct. ``tokenize`` segments each
  distinct text once, so resampling whole paragraphs (173 distinct ones) would
  flatter it; ``--whole`` does exactly that, to measure the effect.

Numbering markers (``八、``, ``(29)``, ``1.``, ``——``) are stripped from the start of
each sentence, so every line of a synthetic file is one unit for
``split_units`` and one paragraph for a script that splits lines.

Output (never inside ``data/``)::

    OUT/doc-00001.txt ...   one paragraph per line, blank line between paragraphs
    OUT/manifest.csv        doc_id,file,city,doc_type,year (cycling the real documents)

Usage::

    python benchmarks/synth.py --docs 200 --paragraphs 50 --out /tmp/corpus-10k
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import numpy as np

from policystudy.markers import HEADING_MARKER

__all__ = ["DEFAULT_SEED", "make_corpus", "source_units"]

DEFAULT_SEED = 20240722
BODY_KINDS = ("paragraph", "item", "target")

# A sentence runs up to and including its end mark (or to the end of the unit).
_SENTENCE = re.compile(r"[^。！？；!?;]+[。！？；!?;]?")


def source_units() -> tuple[list[str], list[dict]]:
    """Body-unit texts and per-document metadata of the bundled corpus."""
    from policystudy.load import load_corpus
    from policystudy.units import split_units

    docs = load_corpus()
    units = split_units(docs)
    body = units[units["kind"].isin(BODY_KINDS)]
    meta = [
        {"city": str(r.city), "doc_type": str(r.doc_type), "year": int(r.year)}
        for r in docs.itertuples(index=False)
    ]
    return body["text"].astype(str).tolist(), meta


def _sentences(text: str) -> list[str]:
    out = []
    for piece in _SENTENCE.findall(text):
        piece = piece.strip()
        # Strip structure markers: resampled sentences must not carry numbering.
        marker = HEADING_MARKER.match(piece)
        if marker:
            piece = piece[marker.end() :].strip()
        if len(piece) >= 4:
            # Every sentence ends with a stop, so no line looks like a broken line.
            out.append(piece if piece[-1] in "。！？；!?;" else piece + "。")
    return out


def make_corpus(
    out: str | Path,
    n_docs: int,
    n_paragraphs: int,
    *,
    seed: int = DEFAULT_SEED,
    whole: bool = False,
) -> dict:
    """Write a synthetic corpus of ``n_docs`` documents x ``n_paragraphs`` paragraphs.

    Parameters
    ----------
    out : path
        Output folder (created; must not be inside the bundled ``data/`` folder).
    n_docs, n_paragraphs : int
        Documents, and paragraphs per document.
    seed : int
        Seed of the resampling: the same arguments give byte-identical files.
    whole : bool
        Resample whole paragraphs instead of recombining sentences.

    Returns
    -------
    dict
        ``path``, ``n_docs``, ``n_paragraphs`` (total), ``n_bytes`` (UTF-8 bytes of
        paragraph text), ``n_distinct`` (distinct paragraphs).
    """
    from policystudy._io import refuse_corpus_dir

    if n_docs < 1 or n_paragraphs < 1:
        raise ValueError("n_docs and n_paragraphs must be >= 1")
    out = Path(out)
    refuse_corpus_dir(out)
    texts, meta = source_units()
    rng = np.random.default_rng(seed)
    per_unit = [_sentences(t) for t in texts]
    pool = [s for sents in per_unit for s in sents]
    lengths = np.array([max(1, len(s)) for s in per_unit])
    cleaned = ["".join(s) for s in per_unit]

    out.mkdir(parents=True, exist_ok=True)
    width = max(5, len(str(n_docs)))
    n_bytes, seen = 0, set()
    rows = []
    for d in range(n_docs):
        if whole:
            picks = rng.integers(0, len(cleaned), n_paragraphs)
            paragraphs = [cleaned[i] for i in picks]
        else:
            templates = rng.integers(0, len(lengths), n_paragraphs)
            paragraphs = []
            for t in templates:
                n = int(lengths[t])
                text = "".join(pool[i] for i in rng.integers(0, len(pool), n))
                # Distinct paragraphs: a repeat (likely for one-sentence
                # templates) is redrawn with one more sentence.
                while text in seen:
                    n += 1
                    text = "".join(pool[i] for i in rng.integers(0, len(pool), n))
                seen.add(text)
                paragraphs.append(text)
        doc_id = f"doc-{d + 1:0{width}d}"
        name = f"{doc_id}.txt"
        body = "\n\n".join(paragraphs) + "\n"
        (out / name).write_text(body, encoding="utf-8", newline="\n")
        n_bytes += sum(len(p.encode("utf-8")) for p in paragraphs)
        seen.update(paragraphs)
        m = meta[d % len(meta)]
        rows.append([doc_id, name, m["city"], m["doc_type"], m["year"]])
    with open(out / "manifest.csv", "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(["doc_id", "file", "city", "doc_type", "year"])
        writer.writerows(rows)
    return {
        "path": str(out),
        "n_docs": n_docs,
        "n_paragraphs": n_docs * n_paragraphs,
        "n_bytes": n_bytes,
        "n_distinct": len(seen),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, required=True, help="number of documents")
    parser.add_argument("--paragraphs", type=int, default=50, help="paragraphs per document")
    parser.add_argument("--out", required=True, help="output folder (not inside data/)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--whole", action="store_true", help="resample whole paragraphs")
    args = parser.parse_args(argv)
    info = make_corpus(args.out, args.docs, args.paragraphs, seed=args.seed, whole=args.whole)
    print(
        f"{info['path']}: {info['n_docs']} documents, {info['n_paragraphs']} paragraphs "
        f"({info['n_distinct']} distinct), {info['n_bytes'] / 1e6:.2f} MB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
