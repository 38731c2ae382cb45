"""Self-contained HTML: notebook reports, the report index and tables for JupyterLab.

A report must show every character on a machine without a Chinese font and
without network access. Every HTML page written here therefore

- embeds the bundled font (:data:`policystudy.plots.FONT_PATH`, Noto Sans SC,
  OFL 1.1) as WOFF in a ``data:`` URL, subset to the characters of that page,
  declared with ``@font-face`` and used for all text, tables and code;
- loads no script, style sheet or font from the network: the notebook template
  is nbconvert's ``lab`` template without require.js, MathJax, Mermaid or the
  widget loader, and TeX in Markdown (``$G^2$``) is written as HTML text.

The same inputs give byte-identical pages: the font subset keeps the source
font's timestamps and the page holds no date or path of the run.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path

__all__ = [
    "FONT_FACE_NAME",
    "StyledTable",
    "embed_font",
    "font_face_css",
    "font_subset",
    "math_to_html",
    "notebook_html",
    "styled_table",
    "write_index",
]

#: CSS family name of the embedded font in a report page.
FONT_FACE_NAME = "policystudy Noto Sans SC"

# WOFF (zlib) rather than WOFF2 (brotli): every current browser reads both, and
# WOFF needs no compression library beyond the standard one. For the reports of
# the study the difference is about a quarter of the font's size (tens of KB).
_FONT_FORMAT = "woff"

# Code keeps a monospaced font for Latin text where one is installed; Chinese
# characters, which those fonts lack, fall through to the embedded font.
_MONO_STACK = '"DejaVu Sans Mono", Menlo, Consolas, "Liberation Mono"'

_PAGE_CSS = """
:root {{
  --jp-ui-font-family: "{name}", sans-serif;
  --jp-content-font-family: "{name}", sans-serif;
  --jp-code-font-family: {mono}, "{name}", monospace;
}}
body, table, th, td, caption, button, input {{ font-family: "{name}", sans-serif; }}
pre, code, kbd, samp, .highlight pre, .jp-RenderedText pre {{
  font-family: {mono}, "{name}", monospace;
}}
"""

# nbconvert's lab template, minus everything it would fetch from a CDN.
_TEMPLATE_NAME = "policystudy-offline.html.j2"
_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}
<style type="text/css">
.ps-nav { margin: 0.5em 0 1em; font-size: 90%; }
.ps-math i { font-style: italic; }
</style>
{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
{%- if resources.policystudy_index -%}
<nav class="ps-nav"><a href="{{ resources.policystudy_index }}">← all reports (index)</a></nav>
{%- endif -%}
{%- endblock body_header -%}
"""


# --------------------------------------------------------------------------- font


def font_subset(text: str, *, font_path: str | os.PathLike[str] | None = None) -> bytes:
    """The bundled font as WOFF, reduced to the characters of ``text``.

    Characters the font lacks are left to the reader's fonts. The subset keeps the
    source font's ``head`` timestamps, so the same text gives the same bytes.
    """
    from fontTools import subset
    from fontTools.ttLib import TTFont

    from policystudy.plots import FONT_PATH

    options = subset.Options()
    options.flavor = _FONT_FORMAT
    # notdef kept: a character outside the subset shows as a visible box, not nothing.
    options.notdef_outline = True
    # The font file stays open while its tables load lazily: close it when done.
    with TTFont(font_path or FONT_PATH, recalcTimestamp=False, lazy=True) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted({ord(ch) for ch in text}))
        subsetter.subset(font)
        font.flavor = _FONT_FORMAT
        buffer = io.BytesIO()
        font.save(buffer, reorderTables=True)
    return buffer.getvalue()


def font_face_css(text: str, *, family: str | None = None) -> tuple[str, str]:
    """An ``@font-face`` rule embedding the font subset for ``text``.

    Parameters
    ----------
    text : str
        Every character the rule must cover (a whole page or fragment).
    family : str, optional
        CSS family name. Default: :data:`FONT_FACE_NAME` followed by a hash of
        the subset, so that fragments on one page (JupyterLab outputs), each
        with its own subset, never replace one another's glyphs.

    Returns
    -------
    (css, family) : tuple of str
    """
    data = font_subset(text)
    if family is None:
        family = f"{FONT_FACE_NAME} {hashlib.sha256(data).hexdigest()[:10]}"
    encoded = base64.b64encode(data).decode("ascii")
    css = (
        f'@font-face {{ font-family: "{family}"; font-style: normal; font-weight: normal; '
        f'src: url(data:font/{_FONT_FORMAT};base64,{encoded}) format("{_FONT_FORMAT}"); }}'
    )
    return css, family


def embed_font(page: str) -> str:
    """Return ``page`` (a whole HTML document) with the font embedded and used for all text.

    The ``<style>`` goes last in ``<head>``, after the template's own styles, so its
    font families take precedence over theirs.
    """
    face, family = font_face_css(page, family=FONT_FACE_NAME)
    style = (
        '<style type="text/css">\n'
        + face
        + _PAGE_CSS.format(name=family, mono=_MONO_STACK)
        + "</style>\n"
    )
    head_end = page.find("</head>")
    if head_end < 0:
        return style + page
    return page[:head_end] + style + page[head_end:]


# --------------------------------------------------------------------------- math

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "theta": "θ",
    "lambda": "λ", "mu": "μ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Delta": "Δ", "Sigma": "Σ", "Omega": "Ω",
}  # fmt: skip
_SYMBOLS = {
    "times": "×", "cdot": "·", "pm": "±", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
    "ne": "≠", "neq": "≠", "approx": "≈", "sim": "~", "infty": "∞", "sum": "∑", "to": "→",
    "log": "log", "ln": "ln", "exp": "exp", "min": "min", "max": "max", ",": " ", ";": " ",
    "quad": " ",
}  # fmt: skip
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)([^$\n]+?)(?<!\s)\$(?![$\d])")
_CODE = re.compile(r"(^(?P<fence>```|~~~).*?^(?P=fence)[^\n]*$|`[^`\n]*`)", re.M | re.S)


def _tex_group(tex: str, i: int) -> tuple[str, int]:
    """The argument starting at ``tex[i]``: a ``{...}`` group or one character/command."""
    if i >= len(tex):
        return "", i
    if tex[i] == "{":
        depth, j = 1, i + 1
        while j < len(tex) and depth:
            depth += {"{": 1, "}": -1}.get(tex[j], 0)
            j += 1
        return tex[i + 1 : j - 1], j
    if tex[i] == "\\":
        match = re.match(r"\\([A-Za-z]+|.)", tex[i:])
        return match.group(0), i + len(match.group(0))
    return tex[i], i + 1


def _tex_to_html(tex: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(tex):
        ch = tex[i]
        if ch in "^_":
            arg, i = _tex_group(tex, i + 1)
            tag = "sup" if ch == "^" else "sub"
            out.append(f"<{tag}>{_tex_to_html(arg)}</{tag}>")
        elif ch == "\\":
            match = re.match(r"\\([A-Za-z]+|.)", tex[i:])
            name = match.group(1)
            i += len(match.group(0))
            if name == "frac":
                num, i = _tex_group(tex, i)
                den, i = _tex_group(tex, i)
                out.append(f"{_tex_to_html(num)}/{_tex_to_html(den)}")
            elif name in ("text", "mathrm", "operatorname"):
                arg, i = _tex_group(tex, i)
                out.append(html.escape(arg))
            elif name in _GREEK:
                out.append(f"<i>{_GREEK[name]}</i>")
            elif name in _SYMBOLS:
                out.append(_SYMBOLS[name])
            else:
                out.append(html.escape(match.group(0)))  # unknown: shown as written
        elif ch in "{}":
            i += 1
        elif ch.isalpha() and ch.isascii():
            out.append(f"<i>{ch}</i>")
            i += 1
        else:
            out.append(html.escape(ch))
            i += 1
    return "".join(out)


def math_to_html(markdown: str) -> str:
    """Replace inline TeX (``$G^2$``) in Markdown by HTML that needs no MathJax.

    Letters become italic, ``^``/``_`` become ``<sup>``/``<sub>``, Greek letters and
    common operators become their characters; a command it does not know is shown
    as written. Code spans and fenced code blocks are left alone, and so is a
    ``$`` that does not open and close math on one line (prices, shell variables).

    >>> math_to_html("Dunning's $G^2$ and `$HOME`")
    'Dunning\\'s <span class="ps-math"><i>G</i><sup>2</sup></span> and `$HOME`'
    """
    pieces = []
    last = 0
    for match in _CODE.finditer(markdown):
        pieces.append(_math_in_text(markdown[last : match.start()]))
        pieces.append(match.group(0))
        last = match.end()
    pieces.append(_math_in_text(markdown[last:]))
    return "".join(pieces)


def _math_in_text(text: str) -> str:
    return _INLINE_MATH.sub(
        lambda m: f'<span class="ps-math">{_tex_to_html(m.group(1))}</span>', text
    )


# --------------------------------------------------------------------------- notebooks


def notebook_html(notebook, name: str, *, index: str | None = "index.html") -> str:
    """Render an executed notebook as one self-contained HTML page.

    Parameters
    ----------
    notebook : nbformat.NotebookNode
        The notebook (not modified).
    name : str
        Page title (the notebook's file name without suffix).
    index : str, optional
        Relative link to the report index shown at the top; ``None`` for none.
    """
    import copy

    import jinja2
    from nbconvert import HTMLExporter

    nb = copy.deepcopy(notebook)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = math_to_html(cell.source)
    exporter = HTMLExporter(
        template_name="lab",
        template_file=_TEMPLATE_NAME,
        extra_loaders=[jinja2.DictLoader({_TEMPLATE_NAME: _TEMPLATE})],
    )
    resources = {"metadata": {"name": name}, "policystudy_index": index}
    body, _ = exporter.from_notebook_node(nb, resources=resources)
    return embed_font(body)


# --------------------------------------------------------------------------- JupyterLab


class StyledTable:
    """A table whose HTML carries its own font, for JupyterLab and exported pages.

    ``_repr_html_`` returns the table (pandas' HTML) inside a ``<div>`` whose class
    names an embedded font subset holding exactly the table's characters, so the
    Chinese text shows in JupyterLab on a machine without a Chinese font. The font
    applies to this ``<div>`` only; the rest of the notebook is untouched.
    """

    def __init__(self, table, *, caption: str | None = None, max_rows: int = 60) -> None:
        self.table = table
        self.caption = caption
        self.max_rows = max_rows

    def _repr_html_(self) -> str:
        body = self.table.to_html(max_rows=self.max_rows, border=0)
        if self.caption:
            body = f"<p><b>{html.escape(self.caption)}</b></p>\n" + body
        face, family = font_face_css(body)
        css_class = "ps-table-" + family.rsplit(" ", 1)[-1]
        return (
            f"<style>{face} .{css_class}, .{css_class} * "
            f'{{ font-family: "{family}", sans-serif; }}</style>\n'
            f'<div class="{css_class}">{body}</div>'
        )

    def __repr__(self) -> str:
        return repr(self.table)


def styled_table(table, *, caption: str | None = None, max_rows: int = 60) -> StyledTable:
    """Wrap a DataFrame so that its HTML output shows Chinese without a system font.

    >>> import pandas as pd
    >>> html_text = styled_table(pd.DataFrame({"term": ["共同富裕"]}))._repr_html_()
    >>> "@font-face" in html_text and "共同富裕" in html_text
    True
    """
    return StyledTable(table, caption=caption, max_rows=max_rows)


# --------------------------------------------------------------------------- index

INDEX_NAME = "index.html"
FAILED_DIR = "_failed"

# What a table or file of the study holds, by name (the longest matching prefix
# wins); every table also gets its number of rows and its columns.
_DESCRIPTIONS = {
    "documents": "the documents and their metadata",
    "documents_by_place_and_genre": "number of documents by province, city and genre",
    "corpus_summary": "size of each document: characters, units, tokens, removed text",
    "removed_spans": "every span of text that cleaning removed, with the rule",
    "removed_spans_summary": "removed text per document and cleaning rule",
    "script_conversion": "script of each document and characters converted to Simplified",
    "units_by_kind": "number of units (headings, items, paragraphs) per document",
    "sections": "the sections of each document with their units and characters",
    "harvested_terms": "candidate lexicon terms quoted in the documents",
    "lexicon_coverage": "how often each lexicon term occurs and whether it stays whole",
    "lexicon_examples": "segmentation of example clauses with and without the lexicon",
    "stopword": "stopword settings and their effect on the tokens kept",
    "stopword_lists": "the stopword lists: their files and number of entries",
    "top_tokens": "most frequent tokens under each stopword setting",
    "keyness": "distinctive terms of each group against the rest (G², log ratio, adjusted p)",
    "tfidf": "highest-TF-IDF terms of each group",
    "similarity": "cosine similarity (TF-IDF) between documents",
    "similarity_doc_pairs": "pairs of documents ranked by cosine similarity",
    "section_best_match": "each section's most similar section in another document",
    "select_k": "coherence and stability of the topic model for each candidate k",
    "topic_terms": "top terms of each topic with their weights",
    "match_nmf_lda": "NMF topics matched to LDA topics by their top terms",
    "robustness": "agreement of the topics with alternative models",
    "validity": "agreement of units' dominant topics with the documents' headings",
    "confound": "which metadata columns vary together across the documents",
    "prevalence": "topic prevalence per group with intervals and group sizes",
    "contrast": "difference in topic prevalence between two groups, with an interval",
    "theme": "theme terms: counts and rates per document",
    "my_terms": "candidate lexicon file (one term per line), to edit and reuse",
    "tables": "every table of this notebook as one Excel workbook, with a README sheet "
    "describing every column",
    "explorer": "interactive topic explorer (offline): inter-topic distance map, terms by "
    "relevance (λ), prevalence per group and example units",
    "wordclouds_topics": "word clouds of the topics' top terms",
    "wordclouds_groups": "word clouds of each group's terms (TF-IDF)",
    "r_export/README": "how to read the R export with quanteda or stm",
    "r_export/dtm": "unit × term counts (Matrix Market) for R",
    "r_export/terms": "the vocabulary, one term per line in column order",
    "r_export/docvars": "one row per unit with its metadata, for R",
}


def _describe_name(relative: str) -> str | None:
    stem = relative.rsplit(".", 1)[0]
    tail = stem.split("/", 1)[1] if "/" in stem else stem
    best = None
    for key, text in _DESCRIPTIONS.items():
        for candidate in (tail, tail.rsplit("/", 1)[-1]):
            if candidate.startswith(key) and (best is None or len(key) > len(best[0])):
                best = (key, text)
    return None if best is None else best[1]


def _table_shape(path: Path) -> str:
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, [])
            rows = sum(1 for _ in reader)
    except (OSError, UnicodeDecodeError, csv.Error):
        return "table"
    shown = ", ".join(header[:6]) + (", …" if len(header) > 6 else "")
    return f"{rows} rows; columns {shown}" if header else "empty table"


def _figure_title(path: Path) -> str | None:
    try:
        from PIL import Image

        with Image.open(path) as image:
            return image.text.get("Title")  # written by policystudy.plots.save_figure
    except (ImportError, OSError, AttributeError):
        return None


def _notebook_title(path: Path) -> tuple[str, str]:
    """First heading and first sentence of the notebook's first Markdown cell."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return path.stem, ""
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        source = "".join(cell.get("source", ""))
        lines = [line.strip() for line in source.splitlines() if line.strip()]
        if not lines:
            continue
        title = lines[0].lstrip("#").strip() if lines[0].startswith("#") else path.stem
        rest = " ".join(line for line in lines[1:] if not line.startswith("#"))
        summary = re.split(r"(?<=[.?!。？])\s", rest, maxsplit=1)[0] if rest else ""
        return title, summary
    return path.stem, ""


def _link(out: Path, target: Path, text: str | None = None) -> str:
    relative = target.relative_to(out).as_posix()
    return f'<a href="{html.escape(relative)}">{html.escape(text or relative)}</a>'


def _file_lines(out: Path, folder: Path) -> list[str]:
    lines = []
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    present = set(files)
    for path in files:
        relative = path.relative_to(out).as_posix()
        suffix = path.suffix.lower()
        if suffix == ".pdf" and path.with_suffix(".png") in present:
            continue  # listed on the line of its PNG
        if suffix in (".png", ".svg", ".pdf"):
            what = _figure_title(path) if suffix == ".png" else None
            text = f"figure: {what}" if what else "figure"
            links = _link(out, path)
            if path.with_suffix(".pdf") in present and suffix != ".pdf":
                links += " (" + _link(out, path.with_suffix(".pdf"), "PDF") + ")"
        else:
            known = _describe_name(relative)
            if suffix == ".csv":
                shape = _table_shape(path)
                text = f"table: {known} ({shape})" if known else f"table ({shape})"
            else:
                text = known or "file"
            links = _link(out, path)
        lines.append(f"<li>{links} — {html.escape(text)}</li>")
    return lines


def _other_outputs(out: Path) -> list[tuple[str, list[str]]]:
    """Files written into ``out`` by the other commands (``topics``, ``compare`` …)."""
    groups = []
    for manifest in sorted(out.glob(".policystudy-*.json")):
        command = manifest.stem[len(".policystudy-") :]
        if command == "study":
            continue
        try:
            files = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        except (OSError, ValueError):
            continue
        items = []
        for name in sorted(files):
            path = out / name
            if not path.is_file():
                continue
            known = _describe_name(name)
            shape = _table_shape(path) if path.suffix == ".csv" else ""
            text = ", ".join(t for t in (known, shape) if t) or "file"
            items.append(f"<li>{_link(out, path)} — {html.escape(text)}</li>")
        if items:
            groups.append((command, items))
    return groups


def write_index(out: str | os.PathLike[str], notebooks: Sequence[Path]) -> Path:
    """Write ``<out>/index.html``: every report, table and figure in ``out``, one line each.

    The page lists, in notebook order, each notebook's HTML report, executed
    notebook and the files in its folder (tables with their size and columns,
    figures with their title), then notebooks that failed (``_failed/``) and the
    files of other commands run into the same folder. It is built from the folder
    as it is, so results of earlier partial runs (``--only``) are listed too.

    Parameters
    ----------
    out : path
        The reports folder.
    notebooks : sequence of Path
        The study's notebooks (their titles and order).
    """
    from policystudy._io import atomic_write

    out = Path(out)
    sections = []
    for source in notebooks:
        stem = source.stem
        executed, report, folder = out / source.name, out / f"{stem}.html", out / stem
        if not (executed.exists() or report.exists()):
            continue
        title, summary = _notebook_title(source)
        links = []
        if report.exists():
            links.append(_link(out, report, "report (HTML)"))
        if executed.exists():
            links.append(_link(out, executed, "executed notebook"))
        items = _file_lines(out, folder) if folder.is_dir() else []
        sections.append(
            f"<section>\n<h2>{html.escape(title)}</h2>\n"
            + (f"<p>{html.escape(summary)}</p>\n" if summary else "")
            + f"<p>{' · '.join(links)}</p>\n"
            + (
                f"<ul>\n{chr(10).join(items)}\n</ul>\n"
                if items
                else "<p>No tables or figures.</p>\n"
            )
            + "</section>"
        )
    failed = sorted((out / FAILED_DIR).glob("*.ipynb")) if (out / FAILED_DIR).is_dir() else []
    if failed:
        items = [
            f"<li>{_link(out, p)} — executed up to the cell that failed; "
            "the error is that cell's output</li>"
            for p in failed
        ]
        sections.append(
            '<section class="failed">\n<h2>Notebooks that failed</h2>\n'
            f"<ul>\n{chr(10).join(items)}\n</ul>\n</section>"
        )
    for command, items in _other_outputs(out):
        sections.append(
            f"<section>\n<h2>Written by <code>policystudy {html.escape(command)}</code></h2>\n"
            f"<ul>\n{chr(10).join(items)}\n</ul>\n</section>"
        )
    if not sections:
        sections.append("<p>No reports yet: run <code>policystudy study</code>.</p>")
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        "<title>policystudy reports</title>\n"
        '<style type="text/css">\n'
        "body { max-width: 60em; margin: 2em auto; padding: 0 1em; line-height: 1.5; }\n"
        "h2 { margin-top: 1.6em; border-bottom: 1px solid #ddd; }\n"
        "li { margin: 0.2em 0; } .failed h2 { color: #a40000; }\n"
        "</style>\n</head>\n<body>\n<h1>policystudy reports</h1>\n"
        "<p>Every notebook of the study as a report, with the tables (CSV) and figures "
        "(PNG, PDF) it wrote. All links are relative: the folder can be moved or "
        "shared as it is.</p>\n" + "\n".join(sections) + "\n</body>\n</html>\n"
    )
    return atomic_write(out / INDEX_NAME, embed_font(page))
