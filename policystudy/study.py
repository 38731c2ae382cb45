"""Running the study's notebooks: executed copies, HTML, tables and figures.

``policystudy study`` (and ``make study``) executes every notebook with papermill
on a corpus, writes the executed copies and their HTML renderings into an output
folder, and lets each notebook write its tables (CSV) and figures (PNG/PDF) into
``<out>/<notebook>/``. Tracked files are never modified: the notebooks are read,
never rewritten in place.

Two sets of notebooks share the numbers 01, 02 …: the published study
(``notebooks/NN-*.ipynb``), whose prose describes the bundled corpus and asserts
its findings, and the notebooks for any corpus (``notebooks/generic/``), whose
every result sentence is computed from the run's own tables. The published run
(:data:`policystudy.PUBLISHED`: the bundled corpus with the published
parameters) executes the first set; any other corpus or parameter the second,
with each published notebook that has no generic counterpart and is marked as
running on any corpus (notebook metadata ``{"policystudy": {"corpus": "any"}}``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policystudy.pipeline import PipelineParams

__all__ = [
    "GENERIC_DIR",
    "StudyError",
    "is_published_run",
    "notebook_dir",
    "notebooks",
    "run_study",
    "save_figures",
    "save_table",
]

#: Subfolder of the notebook folder holding the notebooks for any corpus.
GENERIC_DIR = "generic"

#: Parameters of a run that are not findings-shaping parameters of the published
#: run: they only say where the run reads and writes, or how many processes it uses.
_LOCATION_PARAMETERS = frozenset({"text_column", "id_column", "output_dir", "workdir", "n_jobs"})


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


def notebooks(*, generic: bool = False) -> list[Path]:
    """The numbered notebooks, in order.

    Parameters
    ----------
    generic : bool, default False
        False: the published study (``notebooks/NN-*.ipynb``). True: the set for
        any corpus: for each number, the notebook of ``notebooks/generic/``
        with that number, else the published notebook when its metadata marks
        it as running on any corpus (``policystudy.corpus == "any"``); a
        published notebook with neither (the tutorial 06, built on the bundled
        documents) is not part of it.
    """
    published = sorted(p for p in notebook_dir().glob("[0-9]*.ipynb"))
    if not generic:
        return published
    counterparts = {_number(p): p for p in (notebook_dir() / GENERIC_DIR).glob("[0-9]*.ipynb")}
    chosen = []
    for path in published:
        if _number(path) in counterparts:
            chosen.append(counterparts.pop(_number(path)))
        elif _runs_on_any_corpus(path):
            chosen.append(path)
    return sorted([*chosen, *counterparts.values()], key=lambda p: p.name)


def _number(path: Path) -> str:
    return path.name.split("-", 1)[0]


def _runs_on_any_corpus(path: Path) -> bool:
    import json

    metadata = json.loads(path.read_text(encoding="utf-8")).get("metadata", {})
    return metadata.get("policystudy", {}).get("corpus") == "any"


def is_published_run(
    source: str | os.PathLike[str] | None = None,
    *,
    parameters: dict | None = None,
    lexicon: Sequence[str | os.PathLike[str]] = (),
    by: str | None = None,
) -> bool:
    """Whether a study run is the published run, so that the published notebooks run.

    The bundled corpus (``source=None``), no extra lexicon, the published
    grouping (or none given) and every other parameter either one of
    :meth:`policystudy.PublishedRun.parameters` with its published value or a
    location (``text_column``, ``id_column``). A parameter the published run
    does not know could change a finding, so it makes the run another run. A
    ``source`` naming a copy of the bundled files is another run too: the
    decision is taken before anything is loaded, and the notebooks for any
    corpus state only what they compute, which is true of that copy as well.
    """
    from policystudy.published import PUBLISHED

    if source is not None or list(lexicon):
        return False
    if by is not None and by != PUBLISHED.by:
        return False
    given = {k: v for k, v in (parameters or {}).items() if k not in _LOCATION_PARAMETERS}
    known = PUBLISHED.parameters()
    if set(given) - set(known):
        return False
    return PUBLISHED.matches(None, **given)


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
    extras: bool = True,
    params: PipelineParams | None = None,
    generic: bool | None = None,
    n_jobs: int = 1,
) -> list[Path]:
    """Execute the notebooks into ``out`` and write the report index ``<out>/index.html``.

    Parameters
    ----------
    source : path, optional
        Corpus for every notebook's ``source`` parameter (default: the bundled corpus).
    out : path
        Output folder: ``<out>/<name>.ipynb`` (executed), ``<out>/<name>.html`` (a
        self-contained report, see :mod:`policystudy.report`), ``<out>/<name>/``
        (the notebook's tables and figures) and ``<out>/index.html`` (every report,
        table and figure in the folder, one line each).
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
    params : PipelineParams, optional
        The pipeline parameters of the run (:func:`policystudy.prepare`); when
        given, its ``text_column``, ``id_column`` and ``lexicon`` are the
        notebooks' and the three arguments above are ignored.
    extras : bool
        Also write the topic explorer, word clouds and one Excel workbook per
        notebook folder (:func:`policystudy.report_extras.write_report_extras`).
    generic : bool, optional
        Which notebooks run (see :func:`notebooks`): ``None`` (default) decides
        by :func:`is_published_run`, the published study for the published run
        and the notebooks for any corpus otherwise.
    n_jobs : int, default 1
        Processes for the steps of a notebook that can use several (tokenizing,
        the fits of :func:`policystudy.select_k`; -1: every core), passed as the
        parameter ``n_jobs`` to the notebooks that declare it, and only when it
        is not 1. The results are the same for any value; the executed
        notebooks show it in their injected parameters.

    Returns
    -------
    list of Path
        The executed notebooks. The same inputs give byte-identical notebooks and
        HTML: the notebooks see ``output_dir`` as a path relative to the executed
        notebook (``"01-corpus"``), and papermill's timestamps, durations and
        paths are removed from their metadata.

    Raises
    ------
    StudyError
        A notebook failed, or a package the study needs is missing. The message
        names the notebook, the cell as the reader sees it (its position among
        the notebook's cells and its first line) and the error it raised (for a
        source that cannot be read, the loader's message, which names the file
        and the problem). The notebook, executed up to the error, is written to
        ``<out>/_failed/<name>.ipynb``, outside the set of results, and removed
        by the next run in which it succeeds. The results replace earlier ones in
        ``out`` as one set, only when every notebook has succeeded; files the run
        does not write are never touched.
    """
    from policystudy._validation import check_n_jobs

    _require_study_packages()
    n_jobs = check_n_jobs(n_jobs) or 1
    if params is not None:
        text_column, id_column, lexicon = params.text_column, params.id_column, params.lexicon
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from policystudy._io import OutputSet, atomic_write
    from policystudy.report import FAILED_DIR, write_index

    out = Path(out).resolve()
    if generic is None:
        generic = not is_published_run(source, parameters=parameters, lexicon=lexicon, by=by)
    study_set = notebooks(generic=generic)
    selected = [
        path for path in study_set if not only or any(path.name.startswith(p) for p in only)
    ]
    if not selected:
        which = "the notebooks for any corpus" if generic else "the published study"
        raise StudyError(
            f"no notebook of {which} starts with {' or '.join(only)}; it has "
            f"{', '.join(p.name for p in study_set)}"
        )
    # Every result of this run is staged and replaces earlier ones only when every
    # notebook has succeeded: a failed run leaves the previous reports intact.
    outputs = OutputSet(out, name="study")
    done = []
    try:
        for path in selected:
            stem = path.stem
            outputs.path(stem)  # the notebook's folder is one entry of the set
            injected = {
                "text_column": text_column,
                "id_column": id_column,
                "lexicon": [str(Path(p).resolve()) for p in lexicon],
                **(parameters or {}),
                **({} if by is None else {"by": by}),
                "source": None if source is None else str(Path(source).resolve()),
                # Relative to the kernel's working folder, the staging folder, which
                # is the executed notebook's folder: the notebook never shows (or
                # depends on) a temporary path, and reopened from <out>/ it still
                # writes beside itself.
                "output_dir": stem,
            }
            if n_jobs != 1 and "n_jobs" in papermill.inspect_notebook(str(path)):
                injected["n_jobs"] = n_jobs
            staged = outputs.path(path.name)
            try:
                papermill.execute_notebook(
                    str(path),
                    str(staged),
                    parameters=injected,
                    kernel_name=kernel_name,
                    cwd=str(outputs.staging),
                    progress_bar=False,
                    log_output=False,
                    **_kernel_options(),
                )
            except PapermillExecutionError as err:
                failed = out / FAILED_DIR / path.name
                executed = _stable_notebook(staged)
                atomic_write(failed, _notebook_bytes(executed))
                raise StudyError(
                    f"{path.name} failed in {_failing_cell(path, executed)}: "
                    f"{err.ename}: {err.evalue} (the notebook as executed up to the error: "
                    f"{failed})"
                ) from None
            executed = _stable_notebook(staged)
            atomic_write(staged, _notebook_bytes(executed))
            if html:
                from policystudy.report import notebook_html

                atomic_write(outputs.path(f"{stem}.html"), notebook_html(executed, stem))
            done.append(out / path.name)
        if extras:
            from policystudy.report_extras import write_report_extras

            write_report_extras(
                [outputs.staging / p.stem for p in selected],
                source=source,
                text_column=text_column,
                id_column=id_column,
                lexicon=lexicon,
                k=(parameters or {}).get("k"),
                by=by,
                random_state=(parameters or {}).get("random_state", 0),
            )
    except BaseException:
        outputs.discard()
        if (out / FAILED_DIR).is_dir():
            write_index(out, study_set)  # so that the index lists the failed notebook
        raise
    outputs.commit()
    for path in selected:
        (out / FAILED_DIR / path.name).unlink(missing_ok=True)
    if (out / FAILED_DIR).is_dir() and not any((out / FAILED_DIR).iterdir()):
        (out / FAILED_DIR).rmdir()
    write_index(out, study_set)
    return done


#: Import name -> distribution of every package ``run_study`` needs beyond the
#: library's own (all of them base dependencies of policystudy).
STUDY_PACKAGES = {
    "papermill": "papermill",
    "nbformat": "nbformat",
    "nbconvert": "nbconvert",
    "ipykernel": "ipykernel",
    "fontTools": "fonttools",
}


def _require_study_packages() -> None:
    """Raise one readable :class:`StudyError` if a package of the study is missing."""
    import importlib
    import sys

    missing = []
    for module, distribution in STUDY_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(distribution)
    if missing:
        raise StudyError(
            f"running the notebooks needs {', '.join(missing)}, not installed for "
            f"{sys.executable}; install with: {sys.executable} -m pip install "
            f"{' '.join(missing)} (or reinstall policystudy, which depends on them)"
        )


def _stable_notebook(path: Path):
    """Read an executed notebook and drop what differs between identical runs.

    papermill records start and end times, durations, its input and output paths
    (the staging folder) and per-cell timing; nbclient records message times; and
    the parameters cell papermill injects gets a random cell id. Printed text
    arrives in as many stream outputs as the kernel happened to flush; it is
    joined into one output per run of the same stream, as Jupyter shows it.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    run = nb.metadata.get("papermill", {})
    nb.metadata["papermill"] = {
        key: run[key] for key in ("default_parameters", "parameters", "version") if key in run
    }
    errors = 0
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.cell_type == "code":
            cell.outputs = _joined_streams(cell.outputs)
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags:
            cell["id"] = "injected-parameters"
        elif "papermill-error-cell-tag" in tags:
            errors += 1
            cell["id"] = f"papermill-error-{errors}"
    return nb


def _joined_streams(outputs: list) -> list:
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = previous["text"] + output["text"]
        else:
            joined.append(output)
    return joined


def _notebook_bytes(nb) -> bytes:
    import nbformat

    return (nbformat.writes(nb) + "\n").encode("utf-8")


def _failing_cell(source: Path, executed) -> str:
    """The failing cell as the reader sees it: ``cell 7 of 47 (`docs = ...`)``.

    papermill's execution count is not that cell: it counts the parameters cell
    it injects and skips Markdown. The cell is found by its error output and
    placed by its id among the cells of the notebook the reader opens.
    """
    import nbformat

    cell = next(
        (
            c
            for c in executed.cells
            if any(o.get("output_type") == "error" for o in c.get("outputs", []))
        ),
        None,
    )
    if cell is None:
        return "a cell"
    if "injected-parameters" in cell.metadata.get("tags", []):
        return "the parameters cell that papermill injected"
    original = nbformat.read(source, as_version=4).cells
    ids = [c.get("id") for c in original]
    if cell.get("id") in ids:
        position = ids.index(cell.get("id")) + 1
    else:  # a notebook without cell ids: count the cells papermill did not add
        added = {"injected-parameters", "papermill-error-cell-tag"}
        own = [c for c in executed.cells if not added & set(c.metadata.get("tags", []))]
        position = next(i for i, c in enumerate(own, 1) if c is cell)
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    if len(first) > 70:
        first = first[:69] + "…"
    return f"cell {position} of {len(original)} (`{first}`)"


def _kernel_options() -> dict:
    """Keep the kernel's own log lines off the run's stderr.

    Over TCP, current kernels print an unencrypted-transport warning for every
    notebook, so they talk over Unix sockets where there are any; and a kernel
    stopped after its last cell may log "KeyboardInterrupt caught in kernel".
    Errors of the notebook's cells are in its outputs and in the study's one-line
    message either way.
    """
    options: dict = {"extra_arguments": ["--IPKernelApp.log_level=CRITICAL"]}
    if os.name == "nt":
        return options
    from traitlets.config import Config

    return {**options, "config": Config({"KernelManager": {"transport": "ipc"}})}


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
