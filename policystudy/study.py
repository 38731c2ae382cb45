"""Running the study's notebooks: executed copies, HTML, tables and figures.

``policystudy study`` (and ``make study``) executes every notebook with papermill
on a corpus, writes the executed copies and their HTML renderings into an output
folder, and lets each notebook write its tables (CSV) and figures (PNG/PDF) into
``<out>/<notebook>/``. Tracked files are never modified: the notebooks are read,
never rewritten in place.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["StudyError", "notebook_dir", "notebooks", "run_study", "save_figures", "save_table"]


class StudyError(RuntimeError):
    """A notebook of the study failed; the message names it and the error it raised."""


def notebook_dir() -> Path:
    """The study's notebooks: ``policystudy/_notebooks`` when installed, else ``notebooks/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_notebooks", here.parent / "notebooks"):
        if candidate.is_dir() and any(candidate.glob("*.ipynb")):
            return candidate
    raise FileNotFoundError(
        f"the study notebooks are missing: neither {here / '_notebooks'} nor "
        f"{here.parent / 'notebooks'} holds any .ipynb file"
    )


def notebooks() -> list[Path]:
    """The numbered notebooks, in order."""
    return sorted(p for p in notebook_dir().glob("[0-9]*.ipynb"))


def run_study(
    source: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = "reports",
    *,
    parameters: dict | None = None,
    only: Sequence[str] = (),
    html: bool = True,
    kernel_name: str = "python3",
    text_column: str = "text",
    id_column: str = "doc_id",
    lexicon: Sequence[str | os.PathLike[str]] = (),
    by: str | None = None,
) -> list[Path]:
    """Execute the notebooks into ``out``.

    Parameters
    ----------
    source : path, optional
        Corpus for every notebook's ``source`` parameter (default: the bundled corpus).
    out : path
        Output folder: ``<out>/<name>.ipynb`` (executed), ``<out>/<name>.html`` and
        ``<out>/<name>/`` (the notebook's tables and figures).
    parameters : dict, optional
        Further papermill parameters for every notebook (e.g. ``{"k": 8}``).
    only : sequence of str
        Run only notebooks whose file name starts with one of these prefixes.
    html : bool
        Also render each executed notebook to HTML.
    kernel_name : str
        Jupyter kernel to run the notebooks in.
    text_column, id_column : str
        Columns of a table ``source`` holding the text and the document id
        (see :func:`policystudy.load_corpus`); passed to every notebook.
    lexicon : sequence of paths
        Lexicon files (text or ``terms.csv``) added to the lexicon
        :func:`policystudy.tokens.lexicon_for` chooses for the corpus; every
        notebook's ``lexicon`` parameter, so the notebooks tokenize exactly as
        ``policystudy topics --lexicon`` does.
    by : str, optional
        Grouping column, passed to every notebook as the parameter ``by`` only
        when given (a notebook without a ``by`` parameter keeps its own
        grouping; papermill notes the unknown parameter).

    Returns
    -------
    list of Path
        The executed notebooks. A notebook that fails stops the run with a
        :class:`StudyError` naming the notebook, the cell and the error it raised
        (for a source that cannot be read, the loader's message, which names the
        file and the problem). The results replace earlier ones in ``out`` as one
        set, only when every notebook has succeeded; files the run does not write
        are never touched.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from policystudy._io import OutputSet

    out = Path(out).resolve()
    # Every result of this run is staged and replaces earlier ones only when every
    # notebook has succeeded: a failed run leaves the previous reports intact.
    outputs = OutputSet(out, name="study")
    done = []
    try:
        for path in notebooks():
            if only and not any(path.name.startswith(p) for p in only):
                continue
            stem = path.stem
            params = {
                "text_column": text_column,
                "id_column": id_column,
                "lexicon": [str(Path(p).resolve()) for p in lexicon],
                **(parameters or {}),
                **({} if by is None else {"by": by}),
                "source": None if source is None else str(Path(source).resolve()),
                "output_dir": str(outputs.path(stem)),
            }
            executed = outputs.path(path.name)
            try:
                papermill.execute_notebook(
                    str(path),
                    str(executed),
                    parameters=params,
                    kernel_name=kernel_name,
                    cwd=str(path.parent),
                    progress_bar=False,
                    log_output=False,
                    **_kernel_options(),
                )
            except PapermillExecutionError as err:
                raise StudyError(
                    f"{path.name} failed in cell {err.exec_count}: {err.ename}: {err.evalue}"
                ) from None
            if html:
                _to_html(executed, outputs.path(f"{stem}.html"))
            done.append(out / path.name)
    except BaseException:
        outputs.discard()
        raise
    outputs.commit()
    return done


def _kernel_options() -> dict:
    """Talk to the local kernel over Unix sockets where there are any.

    Over TCP, current kernels print an unencrypted-transport warning to stderr
    for every notebook; IPC keeps the run's output to what the study reports.
    """
    if os.name == "nt":
        return {}
    from traitlets.config import Config

    return {"config": Config({"KernelManager": {"transport": "ipc"}})}


def _to_html(notebook: Path, target: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    from policystudy._io import atomic_write

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    atomic_write(target, body)


def save_table(table, output_dir: str | os.PathLike[str] | None, name: str) -> Path | None:
    """Write a table as ``<output_dir>/<name>.csv`` (UTF-8, atomic); nothing when no folder.

    Notebooks call this so that ``policystudy study`` collects their tables while
    an interactive or test run (``output_dir=None``) writes nothing.
    """
    if output_dir is None:
        return None
    from policystudy._io import atomic_write

    text = table.to_csv(index=False, float_format="%.6g", lineterminator="\n")
    return atomic_write(Path(output_dir) / f"{name}.csv", text)


def save_figures(fig, output_dir: str | os.PathLike[str] | None, name: str) -> list[Path]:
    """Save a figure as PNG and PDF in ``output_dir`` (nothing when no folder)."""
    if output_dir is None:
        return []
    from policystudy.plots import save_figure

    return [save_figure(fig, Path(output_dir) / f"{name}.{ext}") for ext in ("png", "pdf")]
