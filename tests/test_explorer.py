"""The topic explorer: its numbers against hand computation, and the page it draws."""

from __future__ import annotations

import base64
import hashlib
import io
import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from scipy.spatial.distance import pdist, squareform

from policystudy import explorer
from policystudy.features import Features, build_features
from policystudy.plot_topic_map import topic_map_figure
from policystudy.plots import save_figure
from policystudy.topics import TopicModel, fit_topics

ROOT = Path(__file__).resolve().parents[1]

# ----------------------------------------------------------------- a toy model
#
# Three topics over four terms "a".."d":
#   p(w|t0) = (1/2, 1/4, 1/4, 0)   p(w|t1) = (0, 1/4, 1/4, 1/2)   p(w|t2) = (1/4, 1/4, 1/4, 1/4)
# and corpus counts (3, 2, 2, 1), so p(w) = (3/8, 1/4, 1/4, 1/8).


def _toy() -> tuple[TopicModel, Features]:
    vocabulary = np.array(["a", "b", "c", "d"])
    components = np.array([[2.0, 1, 1, 0], [0, 1, 1, 2], [3, 3, 3, 3]])
    doc_topic = np.array([[1.0, 0, 0], [0, 1, 0], [0.5, 0.5, 0], [0, 0, 1]])
    counts = sp.csr_matrix(np.array([[2, 1, 0, 0], [0, 1, 1, 1], [1, 0, 1, 0], [0, 0, 0, 0]]))
    units = pd.DataFrame(
        {
            "doc_id": ["d1", "d1", "d2", "d2"],
            "unit_id": ["d1/0", "d1/1", "d2/0", "d2/1"],
            "text": ["甲乙", "丙丁", "甲丙", "戊"],
            "city": ["x", "x", "y", "y"],
        }
    )
    unit_topics = units.assign(
        topic=doc_topic.argmax(axis=1), weight=doc_topic.max(axis=1), label="",
        **{f"topic_{t}": doc_topic[:, t] for t in range(3)},
    )  # fmt: skip
    labels = pd.Series(["甲/乙", "丙/丁", "戊"], index=pd.RangeIndex(3, name="topic"))
    model = TopicModel(
        method="nmf", k=3, random_state=0, params={}, model_=None, components_=components,
        doc_topic_=doc_topic, vocabulary_=vocabulary, topic_terms_=pd.DataFrame(),
        unit_topics_=unit_topics, labels_=labels, n_top_terms=4,
    )  # fmt: skip
    features = Features(
        units=units, counts=counts, tfidf=counts.astype(float), vocabulary=vocabulary,
        params={}, vectorizer_=None,
    )  # fmt: skip
    return model, features


def _bits_entropy(p: list[float]) -> float:
    return -sum(x * math.log2(x) for x in p if x > 0)


def test_topic_term_distributions_and_prevalence_of_the_toy() -> None:
    model, features = _toy()
    phi = explorer.topic_term_distributions(model)
    np.testing.assert_allclose(phi, [[0.5, 0.25, 0.25, 0], [0, 0.25, 0.25, 0.5], [0.25] * 4])
    np.testing.assert_allclose(explorer.topic_prevalence(model), [1.5 / 4, 1.5 / 4, 1 / 4])
    assert explorer.term_frequencies(features).tolist() == [3, 2, 2, 1]


def test_jensen_shannon_distances_by_hand() -> None:
    model, _ = _toy()
    d = explorer.jensen_shannon_distances(explorer.topic_term_distributions(model))
    # t0 vs t1: M is uniform (H = 2 bits), H(P0) = H(P1) = 1.5 bits.
    d01 = math.sqrt(2 - (1.5 + 1.5) / 2)
    # t0 vs t2: M = (3/8, 1/4, 1/4, 1/8); H(P2) = 2 bits.
    h_m = 0.375 * math.log2(8 / 3) + 2 * 0.25 * 2 + 0.125 * 3
    d02 = math.sqrt(h_m - (1.5 + 2) / 2)
    assert d01 == pytest.approx(math.sqrt(0.5), abs=1e-12)
    assert d02 == pytest.approx(0.3945111, abs=1e-6)
    expected = np.array([[0, d01, d02], [d01, 0, d02], [d02, d02, 0]])
    np.testing.assert_allclose(d, expected, atol=1e-12)
    assert _bits_entropy([0.25] * 4) == 2.0


def test_pcoa_recovers_euclidean_distances() -> None:
    points = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0], [-1.0, 2.0], [1.0, -2.0]])
    d = squareform(pdist(points))
    coords = explorer.pcoa(d, 2)
    np.testing.assert_allclose(squareform(pdist(coords)), d, atol=1e-9)
    np.testing.assert_allclose(coords.mean(axis=0), 0, atol=1e-12)
    # The first axis carries the most variance.
    assert coords[:, 0].var() >= coords[:, 1].var()


def test_pcoa_sign_is_fixed() -> None:
    points = np.array([[0.0, 0.0], [3.0, 0.0], [3.0, 4.0], [-1.0, 2.0]])
    a = explorer.pcoa(squareform(pdist(points)))
    b = explorer.pcoa(squareform(pdist(-points)))  # the same distances
    np.testing.assert_array_equal(a, b)
    for axis in range(2):
        column = a[:, axis]
        assert column[np.argmax(np.abs(column))] > 0


def test_pcoa_refuses_non_square() -> None:
    with pytest.raises(ValueError, match="square"):
        explorer.pcoa(np.zeros((2, 3)))


def test_relevance_at_lambda_one_is_log_probability() -> None:
    model, features = _toy()
    table = explorer.relevance(model, features, lam=1.0, n=4)
    t0 = table[table["topic"] == 0]
    # Term d has p(d|t0) = 0 and is never listed; b before c on the tie.
    assert t0["term"].tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(t0["relevance"], [math.log(0.5), math.log(0.25), math.log(0.25)])
    t2 = table[table["topic"] == 2]
    np.testing.assert_allclose(t2["relevance"], [math.log(0.25)] * 4)
    np.testing.assert_allclose(table["relevance"], np.log(table["p_term_topic"]))


def test_relevance_at_lambda_zero_is_log_lift() -> None:
    model, features = _toy()
    table = explorer.relevance(model, features, lam=0.0, n=4)
    t0 = table[table["topic"] == 0]
    assert t0["term"].tolist() == ["a", "b", "c"]
    np.testing.assert_allclose(t0["relevance"], [math.log(0.5 / 0.375), 0, 0], atol=1e-12)
    t1 = table[table["topic"] == 1]
    assert t1["term"].tolist() == ["d", "b", "c"]
    np.testing.assert_allclose(t1["relevance"], [math.log(4), 0, 0], atol=1e-12)
    t2 = table[table["topic"] == 2]
    assert t2["term"].tolist() == ["d", "b", "c", "a"]
    np.testing.assert_allclose(t2["lift"], [0.25 / 0.125, 1, 1, 0.25 / 0.375], atol=1e-12)
    np.testing.assert_allclose(table["relevance"], np.log(table["lift"]), atol=1e-12)


def test_relevance_in_between_and_columns() -> None:
    model, features = _toy()
    table = explorer.relevance(model, features, lam=0.6, n=2)
    assert list(table.columns[:7]) == [
        "topic", "term", "rank", "relevance", "p_term_topic", "lift", "term_freq",
    ]  # fmt: skip
    assert table.groupby("topic").size().tolist() == [2, 2, 2]
    a0 = table[(table["topic"] == 0) & (table["term"] == "a")]
    assert a0["relevance"].item() == pytest.approx(
        0.6 * math.log(0.5) + 0.4 * math.log(0.5 / 0.375)
    )
    # The topics' estimated counts of a term add up to its count.
    full = explorer.relevance(model, features, lam=1.0, n=4)
    sums = full.groupby("term")["term_freq_topic"].sum()
    np.testing.assert_allclose(sums.loc[["a", "b", "c", "d"]], [3, 2, 2, 1])
    with pytest.raises(ValueError, match="lam"):
        explorer.relevance(model, features, lam=1.5)


def test_topic_map_of_the_toy() -> None:
    model, features = _toy()
    tmap = explorer.topic_map(model, features)
    assert list(tmap.columns) == ["topic", "x", "y", "prevalence", "label"]
    coords = tmap[["x", "y"]].to_numpy()
    d = explorer.jensen_shannon_distances(explorer.topic_term_distributions(model))
    # Three points always fit in two dimensions exactly (up to rounding).
    np.testing.assert_allclose(squareform(pdist(coords)), d, atol=1e-5)
    assert tmap["label"].tolist() == ["甲/乙", "丙/丁", "戊"]


def test_examples_are_the_highest_share_units() -> None:
    model, _ = _toy()
    ex = explorer.topic_examples(model, n=2)
    assert ex[ex["topic"] == 0]["unit_id"].tolist() == ["d1/0", "d2/0"]
    assert ex[ex["topic"] == 2]["unit_id"].tolist() == ["d2/1"]


def test_model_and_features_must_match() -> None:
    model, features = _toy()
    other = Features(
        units=features.units, counts=features.counts, tfidf=features.tfidf,
        vocabulary=np.array(["a", "b", "c", "e"]), params={}, vectorizer_=None,
    )  # fmt: skip
    with pytest.raises(ValueError, match="vocabularies differ"):
        explorer.topic_map(model, other)


# ----------------------------------------------------------------- the real corpus


@pytest.fixture(scope="module")
def features(tokens: pd.DataFrame) -> Features:
    return build_features(tokens)


@pytest.fixture(scope="module")
def model(features: Features) -> TopicModel:
    return fit_topics(features, k=4, random_state=0, cache=False)


_OPTIONS = {"by": "city", "examples": 2, "n_terms": 15, "n_boot": 50}


@pytest.fixture(scope="module")
def page(model: TopicModel, features: Features) -> str:
    return explorer.explorer_html(model, features, **_OPTIONS)


def test_topic_map_of_the_corpus(model: TopicModel, features: Features) -> None:
    tmap = explorer.topic_map(model, features)
    assert tmap["prevalence"].sum() == pytest.approx(1, abs=1e-5)
    assert np.isfinite(tmap[["x", "y"]].to_numpy()).all()
    groups = explorer.topic_groups(model, "city", n_boot=20)
    assert {"city", "topic", "share", "ci_low", "ci_high"} <= set(groups.columns)


def test_page_is_byte_identical_on_a_second_run(
    page: str, model: TopicModel, features: Features
) -> None:
    explorer._font_subset.cache_clear()
    assert explorer.explorer_html(model, features, **_OPTIONS) == page


_SCRIPT = """
import hashlib, sys
from policystudy import build_features, fit_topics, load_corpus, split_units, tokenize
from policystudy.explorer import explorer_html
features = build_features(tokenize(split_units(load_corpus())))
model = fit_topics(features, k=4, random_state=0, cache=False)
page = explorer_html(model, features, **{options!r})
sys.stdout.write(hashlib.sha256(page.encode("utf-8")).hexdigest())
"""


@pytest.mark.slow
def test_page_is_byte_identical_across_processes(page: str) -> None:
    digests = set()
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run(
            [sys.executable, "-c", _SCRIPT.format(options=_OPTIONS)],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=600,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        digests.add(proc.stdout.strip())
    assert digests == {hashlib.sha256(page.encode("utf-8")).hexdigest()}


def test_page_loads_nothing_from_the_network(page: str) -> None:
    tags = re.findall(r"<(?:script|link|img|iframe|source)\b[^>]*>", page, re.IGNORECASE)
    for tag in tags:
        assert not re.search(r"""\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", tag), tag
    assert "<link" not in page.lower()
    assert page.count("<script") >= 3  # plotly.js inline, the figure, the data


def test_page_has_fixed_ids_and_no_random_ones(page: str) -> None:
    assert f'id="{explorer.EXPLORER_DIV_ID}"' in page
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    from plotly.offline import get_plotlyjs

    assert not uuid.search(page.replace(get_plotlyjs(), ""))


def _embedded_font(page: str):
    from fontTools.ttLib import TTFont

    match = re.search(r"@font-face\{[^}]*src:url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", page)
    assert match, "no embedded @font-face"
    return TTFont(io.BytesIO(base64.b64decode(match.group(1))))


def _is_han(ch: str) -> bool:
    cp = ord(ch)
    return (
        0x3400 <= cp <= 0x4DBF
        or 0x4E00 <= cp <= 0x9FFF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3134F
        or 0x3000 <= cp <= 0x303F  # CJK punctuation
        or 0xFF00 <= cp <= 0xFFEF  # full-width forms
    )


def test_every_han_character_is_in_the_embedded_font(page: str) -> None:
    from plotly.offline import get_plotlyjs

    font = _embedded_font(page)
    cmap = set(font.getBestCmap())
    # plotly.js itself has a few Han characters (calendar names) it never shows.
    text = page.replace(get_plotlyjs(), "")
    # plotly writes the figure's strings as \\uXXXX escapes.
    text += "".join(chr(int(h, 16)) for h in re.findall(r"\\u([0-9a-fA-F]{4})", text))
    han = {c for c in text if _is_han(c)}
    assert len(han) > 100
    missing = sorted(c for c in han if ord(c) not in cmap)
    assert not missing, "".join(missing)
    # A subset, not the whole 11 MB font.
    assert len(cmap) < 5000


def test_page_uses_the_embedded_family(page: str) -> None:
    family = explorer._CSS_FAMILY
    assert f"font-family:'{family}'" in page
    assert f"\\u0027{family}\\u0027" in page or f"'{family}'" in page
    assert page.startswith("<!DOCTYPE html>")


def test_fragment_and_script_safety(model: TopicModel, features: Features) -> None:
    odd = model.with_labels({0: "</script><b>x"})
    fragment = explorer.explorer_html(odd, features, n_terms=5, examples=1, full_html=False)
    assert fragment.startswith("<style>")
    assert "<html" not in fragment
    assert "</script><b>" not in fragment


def test_write_explorer(tmp_path: Path, model: TopicModel, features: Features) -> None:
    target = explorer.write_explorer(tmp_path / "explorer.html", model, features, n_terms=5)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


# ----------------------------------------------------------------- the static figure


def test_topic_map_figure_embeds_font_and_draws_paths(
    tmp_path: Path, model: TopicModel, features: Features
) -> None:
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = topic_map_figure(model, features)
        pdf = save_figure(fig, tmp_path / "map.pdf").read_bytes()
        svg = save_figure(fig, tmp_path / "map.svg").read_text(encoding="utf-8")
        png = save_figure(fig, tmp_path / "map.png").read_bytes()
    plt.close(fig)
    assert b"/FontFile2" in pdf and b"NotoSansSC" in pdf
    assert "<text" not in svg and "<path" in svg
    again = topic_map_figure(model, features)
    assert save_figure(again, tmp_path / "again.png").read_bytes() == png
    plt.close(again)


def test_two_explorers_in_one_page(model: TopicModel, features: Features) -> None:
    first = explorer.explorer_html(model, features, n_terms=5, examples=1, full_html=False)
    second = explorer.explorer_html(
        model, features, n_terms=5, examples=1, full_html=False, div_id="second",
        include_plotlyjs=False,
    )  # fmt: skip
    from plotly.offline import get_plotlyjs

    assert get_plotlyjs() in first and get_plotlyjs() not in second
    assert 'id="second"' in second and 'id="second-data"' in second
    # Each keeps its own font subset and styles.
    assert f"font-family:'{explorer._CSS_FAMILY} second'" in second
    assert "#second-page{" in second and f"#{explorer.EXPLORER_DIV_ID}-page{{" in first
