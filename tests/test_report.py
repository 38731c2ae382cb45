"""Self-contained HTML: the embedded font subset, TeX without MathJax, tables for JupyterLab."""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
from fontTools.ttLib import TTFont

from policystudy import report


def _cmap(css: str) -> set[int]:
    (data,) = re.findall(r"base64,([A-Za-z0-9+/=]+)\)", css)
    return set(TTFont(io.BytesIO(base64.b64decode(data))).getBestCmap())


def test_font_subset_covers_the_text_and_is_reproducible() -> None:
    text = "市域治理 共同富裕 G2 (p < 0.05)"
    data = report.font_subset(text)
    assert data[:4] == b"wOFF"
    cmap = set(TTFont(io.BytesIO(data)).getBestCmap())
    assert {ord(ch) for ch in text} <= cmap
    assert ord("泉") not in cmap  # a subset, not the whole font
    assert len(data) < 20_000
    assert report.font_subset(text) == data  # no timestamp in the bytes


def test_embed_font_goes_last_in_head_and_covers_the_page() -> None:
    page = "<html><head><style>body{}</style></head><body><p>晋江经验</p></body></html>"
    embedded = report.embed_font(page)
    head = embedded[: embedded.index("</head>")]
    assert head.index("<style>body{}") < head.index("@font-face")
    assert {ord(ch) for ch in "晋江经验"} <= _cmap(embedded)
    assert embedded.endswith("<body><p>晋江经验</p></body></html>")


def test_math_to_html_leaves_code_and_prices_alone() -> None:
    assert report.math_to_html("Dunning's $G^2$") == (
        'Dunning\'s <span class="ps-math"><i>G</i><sup>2</sup></span>'
    )
    assert "χ" in report.math_to_html(r"$\chi^{2}_{1}$")
    for untouched in ("costs $5 and $6", "`stm_input$vocab`", "```r\nx$a + y$b\n```"):
        assert report.math_to_html(untouched) == untouched
    assert report.math_to_html(r"$\unknown x$").count(r"\unknown") == 1  # shown as written


def test_styled_table_carries_a_font_scoped_to_itself() -> None:
    table = pd.DataFrame({"term": ["最多跑一次", "市域治理"], "count": [11, 45]})
    html = report.styled_table(table, caption="政策词")._repr_html_()
    assert "最多跑一次" in html and "政策词" in html
    assert {ord(ch) for ch in "最多跑一次市域治理政策词"} <= _cmap(html)
    (family,) = set(re.findall(r'font-family: "(policystudy Noto Sans SC \w+)"', html))
    css_class = "ps-table-" + family.rsplit(" ", 1)[-1]
    assert f'<div class="{css_class}">' in html
    style = html[: html.index("</style>")]
    assert ":root" not in style and "body" not in style  # nothing outside the table changes
    other = report.styled_table(table.head(1))._repr_html_()
    assert family not in other  # another subset, another family name: no clash


def test_index_of_an_empty_folder_says_how_to_fill_it(tmp_path) -> None:
    path = report.write_index(tmp_path, [])
    assert path == tmp_path / "index.html"
    assert "policystudy study" in path.read_text(encoding="utf-8")
