"""Cosine similarity of documents, sections or groups on TF-IDF, and its long form."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics.pairwise import cosine_similarity

from policystudy._validation import require_columns
from policystudy.compare._grouping import _check_features, choose_grouping, metadata_columns
from policystudy.compare._keyness import _tfidf_transformer
from policystudy.features import Features

__all__ = ["similarity", "similarity_long"]


def _similarity_keys(units: pd.DataFrame, level: str, by: str | None) -> np.ndarray:
    if by is not None:
        require_columns(units, [by], "features.units")
        if units[by].isna().any():
            raise ValueError(f"column {by!r} of features.units has missing values")
        return units[by].to_numpy()
    if level == "doc":
        require_columns(units, ["doc_id"], "features.units")
        return units["doc_id"].astype(str).to_numpy()
    if level == "section":
        require_columns(units, ["doc_id", "section"], "features.units")
        section = units["section"].astype("object").where(units["section"].notna(), "")
        return (units["doc_id"].astype(str) + "|" + section.astype(str)).to_numpy()
    raise ValueError(f"level must be 'doc' or 'section'; got {level!r}")


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars so attrs stay simple and comparable."""
    return value.item() if isinstance(value, np.generic) else value


def similarity(features: Features, level: str = "doc", *, by: str | None = None) -> pd.DataFrame:
    """Cosine similarity between documents (or sections, or groups) on TF-IDF.

    Unit count rows are summed per key, re-weighted with
    :class:`~sklearn.feature_extraction.text.TfidfTransformer` (IDF across the
    keys; smoothed idf, ``sublinear_tf`` from ``features.params``; l2 norm)
    and compared with :func:`sklearn.metrics.pairwise.cosine_similarity`.

    Parameters
    ----------
    features : Features
        From :func:`policystudy.build_features`.
    level : {"doc", "section"}, default "doc"
        Keys are ``doc_id`` or ``"<doc_id>|<section>"``.
    by : str, optional
        Aggregate by this column of ``features.units`` instead (e.g.
        ``"city"``); ``level`` is then ignored.

    Returns
    -------
    pandas.DataFrame
        Square, symmetric, index and columns the sorted keys, values rounded to
        4 places.  The diagonal is 1 except for a key with no vocabulary term
        (all zeros).  ``attrs["metadata"]`` maps each key to ``doc_id`` and
        the metadata columns (:func:`metadata_columns`) that are constant
        within it; used by :func:`similarity_long`.
    """
    _check_features(features)
    units = features.units
    keys = _similarity_keys(units, level, by)
    agg, uniq = features.doc_term(keys, sparse=True)
    weights = _tfidf_transformer(features).fit_transform(agg)
    sim = np.round(cosine_similarity(weights), 4)
    sim = np.minimum(sim, 1.0)  # keep the diagonal at exactly 1 despite rounding noise
    names = [str(k) for k in uniq]
    out = pd.DataFrame(sim, index=pd.Index(names), columns=pd.Index(names))

    meta: dict[str, dict[str, Any]] = {}
    cols = ["doc_id", *metadata_columns(units)]
    key_series = pd.Series(keys, index=units.index).astype(str)
    for key, part in units[cols].groupby(key_series, sort=True):
        entry = {}
        for col in cols:
            values = part[col].dropna().unique()
            if len(values) == 1:
                entry[col] = _plain(values[0])
        meta[str(key)] = entry
    out.attrs = {"level": level if by is None else by, "metadata": meta}
    return out


def _default_pair_columns(metadata: Mapping[str, Mapping[str, Any]]) -> list[str]:
    if not metadata:
        return []
    frame = pd.DataFrame.from_dict(dict(metadata), orient="index")
    if "doc_id" not in frame.columns:
        frame["doc_id"] = frame.index
    grouping = choose_grouping(frame.reset_index(drop=True))
    return [] if grouping == "doc_id" else [grouping]


def similarity_long(
    sim: pd.DataFrame,
    *,
    columns: Iterable[str] | None = None,
    metadata: pd.DataFrame | Mapping[str, Mapping[str, Any]] | None = None,
    include_diagonal: bool = False,
) -> pd.DataFrame:
    """Long form of a :func:`similarity` matrix: one row per unordered pair.

    Parameters
    ----------
    sim : pandas.DataFrame
        Square matrix from :func:`similarity`.
    columns : iterable of str, optional
        Metadata to attach for both sides as ``<col>_a`` and ``<col>_b``
        (default: the column :func:`choose_grouping` picks from the keys'
        metadata, ``city`` on the bundled corpus; none when that is
        ``doc_id``).
    metadata : DataFrame or mapping, optional
        Key -> metadata.  A DataFrame is indexed by key (or has the key in a
        ``doc_id`` column).  Defaults to ``sim.attrs["metadata"]``.
    include_diagonal : bool, default False
        Also emit each key paired with itself.

    Returns
    -------
    pandas.DataFrame
        Columns ``a``, ``b`` (``a < b``, or ``a == b`` on the diagonal),
        ``cosine``, then ``<col>_a``, ``<col>_b`` for each column (missing
        when unknown); sorted by ``a`` then ``b``.
    """
    if list(sim.index) != list(sim.columns):
        raise ValueError("sim must be square with the same labels on index and columns")
    if metadata is None:
        metadata = sim.attrs.get("metadata", {})
    if isinstance(metadata, pd.DataFrame):
        frame = metadata.set_index("doc_id") if "doc_id" in metadata.columns else metadata
        frame = frame[~frame.index.duplicated()]
        metadata = {str(k): row.to_dict() for k, row in frame.iterrows()}
    if columns is None:
        columns = _default_pair_columns(metadata)
    columns = list(columns)
    keys = sorted(map(str, sim.index))
    values = sim.copy()
    values.index = values.index.astype(str)
    values.columns = values.columns.astype(str)
    rows = []
    for i, a in enumerate(keys):
        for b in keys[i if include_diagonal else i + 1 :]:
            row: dict[str, Any] = {"a": a, "b": b, "cosine": float(values.at[a, b])}
            for col in columns:
                row[f"{col}_a"] = metadata.get(a, {}).get(col)
                row[f"{col}_b"] = metadata.get(b, {}).get(col)
            rows.append(row)
    cols = ["a", "b", "cosine"] + [f"{c}_{s}" for c in columns for s in ("a", "b")]
    return pd.DataFrame(rows, columns=cols)
