"""Outputs of ``policystudy study`` beside the notebooks: explorer, word clouds, workbooks.

After the notebooks have run, :func:`write_report_extras` adds to the reports folder

* ``<notebook>/tables.xlsx`` for every notebook folder with tables: all of its CSV
  tables as one Excel workbook, with a README sheet describing every column
  (:func:`policystudy.exports.write_workbook_from_folder`);
* ``04-topics/explorer.html``: the interactive topic explorer
  (:func:`policystudy.explorer.explorer_html`), self-contained and offline;
* ``04-topics/wordclouds_topics.png`` (and PDF) and, when the grouping column has two
  or more groups, ``04-topics/wordclouds_groups.png``: word clouds per topic and per
  group with the bundled font.

The explorer and the word clouds show the topic model of notebook 04 as the study
runs it: the same corpus, lexicon, vocabulary bounds, ``k`` (the study's ``--k``,
else :func:`policystudy.topics.default_k`), ``random_state`` and grouping (``--by``,
else :func:`policystudy.compare.choose_grouping`). The token and model caches make
this a second reading of the same fit, not a second fit.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

__all__ = ["TOPICS_FOLDER", "write_report_extras"]

#: Folder of the topic notebook's outputs, where the explorer and word clouds go.
TOPICS_FOLDER = "04-topics"


def write_report_extras(
    folders: Sequence[Path],
    *,
    source: str | os.PathLike[str] | None = None,
    text_column: str = "text",
    id_column: str = "doc_id",
    lexicon: Sequence[str | os.PathLike[str]] = (),
    k: int | None = None,
    by: str | None = None,
    random_state: int = 0,
) -> list[Path]:
    """Write the workbooks, and the explorer and word clouds into the topics folder.

    Parameters
    ----------
    folders : sequence of Path
        The notebooks' output folders (staged or final). A folder named
        :data:`TOPICS_FOLDER` gets the explorer and the word clouds.
    source, text_column, id_column, lexicon
        The corpus and its options, as given to the notebooks.
    k : int, optional
        Number of topics (default :func:`policystudy.topics.default_k`).
    by : str, optional
        Grouping column (default :func:`policystudy.compare.choose_grouping`).
    random_state : int
        Seed of the fit and of the word-cloud layouts.

    Returns
    -------
    list of Path
        The files written.
    """
    written: list[Path] = []
    topics = [f for f in folders if f.name == TOPICS_FOLDER and f.is_dir()]
    if topics:
        written += _topic_extras(
            topics[0],
            source=source,
            text_column=text_column,
            id_column=id_column,
            lexicon=lexicon,
            k=k,
            by=by,
            random_state=random_state,
        )
    from policystudy.exports import write_workbook_from_folder

    for folder in folders:
        if folder.is_dir() and any(folder.rglob("*.csv")):
            written.append(write_workbook_from_folder(folder))
    return written


def _topic_extras(folder: Path, *, source, text_column, id_column, lexicon, k, by, random_state):
    import matplotlib.pyplot as plt

    from policystudy.compare import choose_grouping
    from policystudy.explorer import write_explorer
    from policystudy.pipeline import PipelineParams, prepare
    from policystudy.plot_wordcloud import group_wordclouds, topic_wordclouds
    from policystudy.study import save_figures
    from policystudy.topics import default_k, fit_topics

    params = PipelineParams(
        text_column=text_column,
        id_column=id_column,
        lexicon=tuple(str(p) for p in lexicon),
    )
    with warnings.catch_warnings():
        # The notebooks have reported what loading this corpus warns about.
        warnings.simplefilter("ignore")
        run = prepare(source, params=params)
        docs, features = run.documents, run.features
    k = default_k(features) if k is None else k
    model = fit_topics(features, k=k, random_state=random_state)
    by = choose_grouping(docs) if by is None else by
    groups = features.units[by].nunique(dropna=True) if by in features.units.columns else 0
    written = [
        write_explorer(
            folder / "explorer.html",
            model,
            features,
            by=by if groups >= 2 else None,
            random_state=random_state,
        )
    ]
    fig = topic_wordclouds(model, random_state=random_state)
    written += save_figures(fig, folder, "wordclouds_topics")
    plt.close(fig)
    if groups >= 2:
        fig = group_wordclouds(features, by=by, random_state=random_state)
        written += save_figures(fig, folder, "wordclouds_groups")
        plt.close(fig)
    return written
