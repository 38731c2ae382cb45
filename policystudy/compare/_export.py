"""The unit x term counts for R (quanteda, stm)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

from policystudy._io import atomic_write, refuse_corpus_dir
from policystudy._validation import require_columns
from policystudy.compare._grouping import _check_features
from policystudy.features import Features

__all__ = ["export_for_r"]


_R_README = """\
Document-term matrix exported by policystudy.compare.export_for_r

dtm.mtx      units x terms counts, Matrix Market coordinate format (1-based)
terms.txt    one term per line, UTF-8, in column order
docvars.csv  one row per unit, UTF-8, in row order (empty field = missing)

Rows: {n_units} units; columns: {n_terms} terms; non-zero cells: {nnz}.
Parameters used to build the features: {params}

In R:

docvars <- read.csv("docvars.csv", encoding = "UTF-8", fileEncoding = "UTF-8",
                    stringsAsFactors = FALSE, na.strings = "")
m <- Matrix::readMM("dtm.mtx")
dimnames(m) <- list(docvars$unit_id, readLines("terms.txt", encoding = "UTF-8"))
d <- quanteda::as.dfm(m)
quanteda::docvars(d) <- docvars

# structural topic model route
stm_input <- quanteda::convert(d, to = "stm")
# fit <- stm::stm(stm_input$documents, stm_input$vocab, K = 8,
#                 data = stm_input$meta, prevalence = ~ city, seed = 0)

Units are paragraphs nested in documents; most cities have one document.
"""


def _docvars(units: pd.DataFrame) -> pd.DataFrame:
    """Unit metadata without list-valued columns (e.g. tokens), which CSV cannot hold."""
    keep = [
        c
        for c in units.columns
        if not units[c].map(lambda v: isinstance(v, (list, tuple, np.ndarray, set, dict))).any()
    ]
    return units[keep]


def export_for_r(features: Features, directory: str | os.PathLike[str]) -> dict[str, Path]:
    """Write the unit x term count matrix for R (quanteda / stm).

    Files (overwritten atomically: written to a temporary file in
    ``directory`` and moved into place):

    ``dtm.mtx``      ``features.counts`` via :func:`scipy.io.mmwrite`
                     (coordinate, integer, general)
    ``terms.txt``    ``features.vocabulary``, one per line
    ``docvars.csv``  ``features.units`` (list-valued columns dropped), UTF-8,
                     ``\\n`` line endings, missing values as empty fields
    ``README.txt``   what the files are and an R snippet to load them

    The same features give byte-identical files.

    Parameters
    ----------
    features : Features
        From :func:`policystudy.build_features`.
    directory : path
        Output directory, created if needed.  Refused if it is inside the
        bundled corpus directory (``data/``).

    Returns
    -------
    dict of str to pathlib.Path
        Keys ``"dtm"``, ``"terms"``, ``"docvars"``, ``"readme"``.
    """
    from scipy.io import mmwrite

    _check_features(features)
    units, counts, vocabulary = features.units, features.counts, np.asarray(features.vocabulary)
    require_columns(units, ["unit_id"], "features.units (unit_id names the rows)")
    directory = Path(directory)
    refuse_corpus_dir(directory)
    bad_terms = [t for t in map(str, vocabulary) if "\n" in t or "\r" in t]
    if bad_terms:
        raise ValueError(f"terms contain line breaks and cannot go in terms.txt: {bad_terms[:5]}")
    directory.mkdir(parents=True, exist_ok=True)

    buf = io.BytesIO()
    coo = sparse.coo_matrix(counts.astype(np.int64))
    mmwrite(buf, coo, field="integer", symmetry="general")
    terms = "".join(f"{t}\n" for t in map(str, vocabulary)).encode("utf-8")
    docvars = _docvars(units).to_csv(index=False, lineterminator="\n", na_rep="")
    params = features.params or {}
    readme = _R_README.format(
        n_units=counts.shape[0],
        n_terms=counts.shape[1],
        nnz=counts.nnz,
        params=", ".join(f"{k}={params[k]!r}" for k in sorted(params)) or "(not recorded)",
    )
    files = {
        "dtm": (directory / "dtm.mtx", buf.getvalue()),
        "terms": (directory / "terms.txt", terms),
        "docvars": (directory / "docvars.csv", docvars.encode("utf-8")),
        "readme": (directory / "README.txt", readme.encode("utf-8")),
    }
    for path, data in files.values():
        atomic_write(path, data)
    return {name: path for name, (path, _) in files.items()}
