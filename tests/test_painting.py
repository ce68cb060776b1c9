"""The painters, drawn into images with no window: ink where the labels are, lines that follow the weights,
a heatmap the right way round, and 128 words without a collision."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, QSize
from PySide6.QtGui import QColor, QImage, QPainter, QPalette

from attnstudio.gui.painting import (
    EMPTY_MESSAGE,
    MAX_LINES,
    AlignmentFigure,
    Theme,
    alignment_min_width,
    heatmap_size,
    line_opacity,
    line_width,
    paint_alignment,
    paint_heatmap,
    paint_spotlight,
    viridis,
)

KEYS = "Le chat noir dort sur le canapé".split()
QUERIES = "The black cat sleeps on the couch".split()
# An alignment with the crossing of the seed pair: black ↔ noir, cat ↔ chat.
ORDER = [0, 2, 1, 3, 4, 5, 6]


def seed_weights() -> np.ndarray:
    weights = np.full((7, 7), 0.02)
    weights[np.arange(7), ORDER] = 0.88
    return weights / weights.sum(1, keepdims=True)  # (n_q, n_k), rows sum to 1


def render(paint, size=(900, 500), theme: Theme | None = None):
    """Run ``paint(painter, rect, theme)`` on a fresh image; return (image, what paint returned)."""
    theme = theme or Theme.light()
    image = QImage(*size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(theme.background)
    painter = QPainter(image)
    try:
        out = paint(painter, QRectF(0, 0, *size), theme)
    finally:
        painter.end()
    return image, out


def pixels(image: QImage) -> np.ndarray:
    """(h, w, 4) uint8 view of an ARGB32 image as B, G, R, A (little-endian)."""
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    array = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return array[:, : image.width()].copy()


def inked(image: QImage, rect: QRectF, background: QColor) -> int:
    """How many pixels inside ``rect`` differ from the background."""
    px = pixels(image)
    x0, y0 = max(int(rect.left()), 0), max(int(rect.top()), 0)
    x1, y1 = min(int(rect.right()) + 1, image.width()), min(int(rect.bottom()) + 1, image.height())
    region = px[y0:y1, x0:x1, :3].astype(int)
    bg = np.array([background.blue(), background.green(), background.red()])
    return int((np.abs(region - bg).sum(-1) > 60).sum())


def rgb_at(image: QImage, x: float, y: float) -> tuple[int, int, int]:
    colour = image.pixelColor(int(x), int(y))
    return colour.red(), colour.green(), colour.blue()


def relative_luminance(colour: QColor) -> float:
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
                for c in (colour.redF(), colour.greenF(), colour.blueF())]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


# -- colours ---------------------------------------------------------------------------------------------
def test_viridis_is_the_real_table_and_safe_on_bad_input():
    colours = viridis(np.array([0.0, 0.5, 1.0, np.nan, -3.0, 7.0]))
    assert colours.shape == (6, 4) and colours.dtype == np.uint8
    assert tuple(colours[0, :3]) == (68, 1, 84)  # matplotlib's viridis(0) = #440154
    assert tuple(colours[2, :3]) == (253, 231, 37)  # viridis(1) = #fde725
    assert tuple(colours[3]) == tuple(colours[0]) == tuple(colours[4])  # NaN and below 0 show as 0
    assert tuple(colours[5]) == tuple(colours[2])
    assert (colours[:, 3] == 255).all()
    ramp = viridis(np.linspace(0, 1, 64)).astype(float)
    lightness = ramp[:, :3] @ [0.2126, 0.7152, 0.0722]
    assert (np.diff(lightness) > 0).all(), "viridis grows lighter all the way: it reads in grey too"


def test_viridis_does_not_import_pyqtgraph():
    code = ("import sys; from attnstudio.gui.painting import viridis; viridis([0.5]); "
            "print('pyqtgraph' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"


def test_theme_follows_the_palette(qapp):
    dark = QPalette()
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Base, QColor("#17181a"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#e8eaed"))
    theme = Theme.from_palette(dark)
    assert theme.is_dark and theme.background == QColor("#17181a")
    light = QPalette()
    light.setColor(QPalette.ColorRole.Window, QColor("#efefef"))
    light.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    light.setColor(QPalette.ColorRole.Text, QColor("#000000"))
    assert not Theme.from_palette(light).is_dark
    for t in (Theme.light(), Theme.dark()):  # text readable on its background: WCAG contrast ≥ 7
        lum = [relative_luminance(c) for c in (t.text, t.background)]
        assert (max(lum) + 0.05) / (min(lum) + 0.05) > 7
        lum = [relative_luminance(c) for c in (t.muted, t.background)]
        assert (max(lum) + 0.05) / (min(lum) + 0.05) > 4.5, "muted captions still pass WCAG AA"


def test_figure_checks_shapes_and_never_holds_nan():
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        AlignmentFigure(["a", "b"], ["x", "y", "z"], np.zeros((3, 2)))
    fig = AlignmentFigure(["a"], ["x", "y"], np.array([[np.nan, np.inf]]))
    assert np.isfinite(fig.weights).all()


def test_line_mapping_grows_with_weight():
    w = np.linspace(0, 1, 11)
    assert np.all(np.diff(line_width(w)) > 0) and np.all(np.diff(line_opacity(w)) > 0)
    assert line_width(0.0) == pytest.approx(0.5) and line_width(1.0) == pytest.approx(7.5)
    assert line_opacity(0.0) == pytest.approx(0.08) and line_opacity(1.0) == pytest.approx(1.0)


# -- alignment -------------------------------------------------------------------------------------------
def test_alignment_draws_labels_and_one_line_per_pair(qapp):
    fig = AlignmentFigure(QUERIES, KEYS, seed_weights(), focus=1)
    theme = Theme.light()
    image, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t), theme=theme)
    assert inked(image, QRectF(0, 0, 900, 500), theme.background) > 2000, "the figure is not blank"
    assert len(geometry.pairs) == 49, "every (query, key) pair has its line"
    for box in geometry.query_rects + geometry.key_rects:
        assert box is not None and QRectF(0, 0, 900, 500).contains(box), "no label clipped"
        assert inked(image, box, theme.background) > 10, "each label's box holds ink"
    # the focused query's lines come last (on top), and only they do
    assert set(geometry.pairs[-7:, 0]) == {1} and 1 not in set(geometry.pairs[:-7, 0])
    # widths follow the weights (to the drawing's 1/128 quantisation)
    weights = fig.weights
    for q in range(7):
        for k in range(7):
            assert geometry.width_of(q, k) == pytest.approx(line_width(weights[q, k]), abs=0.03)
    assert geometry.width_of(1, 2) > 5 * geometry.width_of(1, 1)  # black → noir far thicker than → chat


def test_alignment_lines_cross_where_word_order_differs(qapp):
    fig = AlignmentFigure(QUERIES, KEYS, seed_weights())
    _, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t))
    black_to_noir = geometry.key_anchors[2, 0] - geometry.query_anchors[1, 0]
    cat_to_chat = geometry.key_anchors[1, 0] - geometry.query_anchors[2, 0]
    assert black_to_noir > 0 > cat_to_chat, "the two heavy lines lean opposite ways, so they cross"


def test_alignment_hit_testing(qapp):
    fig = AlignmentFigure(QUERIES, KEYS, seed_weights(), focus=1)
    _, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t))
    a, b = geometry.key_anchors[2], geometry.query_anchors[1]
    from PySide6.QtCore import QPointF

    assert geometry.line_at(QPointF(*(0.3 * a + 0.7 * b))) == (1, 2)
    assert geometry.token_at(geometry.query_rects[3].center()) == ("query", 3)
    assert geometry.token_at(geometry.key_rects[6].center()) == ("key", 6)


def test_masked_pairs_get_no_line(qapp):
    mask = np.tril(np.ones((7, 7), bool))  # causal: a query sees keys 0..i
    weights = mask / mask.sum(1, keepdims=True)
    fig = AlignmentFigure(KEYS, KEYS, weights, mask=mask)
    _, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t))
    assert len(geometry.pairs) == int(mask.sum())
    assert all(mask[q, k] for q, k in geometry.pairs)


def test_128_tokens_rotate_without_overlap_and_stay_bounded(qapp):
    rng = np.random.default_rng(1)
    labels = [f"mot{i}" for i in range(128)]
    weights = rng.random((128, 128)) ** 6
    weights /= weights.sum(1, keepdims=True)
    fig = AlignmentFigure(labels, labels, weights, focus=60)
    width = 1800
    assert alignment_min_width(fig, Theme.light()) <= width
    _, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t), size=(width, 700))
    assert geometry.rotated
    for rects in (geometry.query_rects, geometry.key_rects):
        shown = [box for box in rects if box is not None]
        assert len(shown) == 128, "at this width every label is drawn"
        for left, right in zip(shown, shown[1:]):
            assert left.right() <= right.left(), "neighbouring labels do not overlap"
        assert all(QRectF(0, 0, width, 700).contains(box) for box in shown)
    assert len(geometry.pairs) <= MAX_LINES + 128 and geometry.skipped > 0
    assert set(geometry.pairs[-128:, 0]) == {60}, "the focused query keeps all its lines"


def test_too_narrow_thins_labels_instead_of_overlapping(qapp):
    labels = [f"mot{i}" for i in range(128)]
    fig = AlignmentFigure(labels, labels, np.full((128, 128), 1 / 128), focus=5)
    _, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t), size=(500, 400))
    shown = [box for box in geometry.query_rects if box is not None]
    assert 0 < len(shown) < 128 and geometry.query_rects[5] is not None
    for left, right in zip(shown, shown[1:]):
        assert left.right() <= right.left()


def test_empty_figure_shows_the_message(qapp):
    fig = AlignmentFigure(["The"], [], np.zeros((1, 0)))
    theme = Theme.dark()
    image, geometry = render(lambda p, r, t: paint_alignment(p, r, fig, t), theme=theme)
    assert fig.empty and fig.empty_message == EMPTY_MESSAGE and len(geometry.pairs) == 0
    assert inked(image, QRectF(200, 200, 500, 100), theme.background) > 100, "the message is drawn, centred"


def test_alignment_exports_real_text_to_svg(qapp):
    from PySide6.QtSvg import QSvgGenerator

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(QSize(800, 400))
    generator.setViewBox(QRectF(0, 0, 800, 400))
    painter = QPainter(generator)
    paint_alignment(painter, QRectF(0, 0, 800, 400), AlignmentFigure(QUERIES, KEYS, seed_weights(), focus=1),
                    Theme.light())
    painter.end()
    svg = bytes(data).decode("utf-8")
    assert "<text" in svg and "canapé" in svg and "black" in svg


# -- heatmap ---------------------------------------------------------------------------------------------
def test_heatmap_rows_are_queries_and_columns_keys(qapp):
    weights = np.zeros((3, 4))
    weights[0, 2] = 1.0  # query 0 looks only at key 2
    fig = AlignmentFigure(["q0", "q1", "q2"], ["k0", "k1", "k2", "k3"], weights)
    image, geometry = render(lambda p, r, t: paint_heatmap(p, r, fig, t), size=(600, 450))
    hot, cold = viridis(1.0)[:3], viridis(0.0)[:3]
    for q in range(3):
        for k in range(4):
            cell = geometry.cell_rect(q, k)
            colour = np.array(rgb_at(image, cell.left() + 3, cell.top() + 3))  # a corner: clear of the value
            expected = hot if (q, k) == (0, 2) else cold
            assert np.abs(colour - expected).max() <= 3, f"cell ({q}, {k}) is {colour}, expected {expected}"
    assert geometry.cell_at(geometry.cell_rect(0, 2).center()) == (0, 2)
    # row labels sit left of their rows, column labels above their columns
    assert geometry.query_rects[1].right() < geometry.grid.left()
    assert abs(geometry.query_rects[1].center().y() - geometry.cell_rect(1, 0).center().y()) < 2
    assert geometry.key_rects[3].bottom() < geometry.grid.top()
    assert abs(geometry.key_rects[3].center().x() - geometry.cell_rect(0, 3).center().x()) < 2


def test_heatmap_writes_values_with_contrast_and_outlines_the_focus(qapp):
    fig = AlignmentFigure(QUERIES, KEYS, seed_weights(), focus=1)
    theme = Theme.light()
    image, geometry = render(lambda p, r, t: paint_heatmap(p, r, fig, t), size=(700, 560), theme=theme)
    assert geometry.values_shown and geometry.colorbar is not None
    assert inked(image, geometry.colorbar.adjusted(geometry.colorbar.width() + 2, 0, 40, 0), theme.background) > 20
    focus_row = geometry.cell_rect(1, 0)
    edge = rgb_at(image, geometry.grid.center().x(), focus_row.top())
    assert np.abs(np.array(edge) - [theme.highlight.red(), theme.highlight.green(), theme.highlight.blue()]).max() < 40


def test_heatmap_512_is_one_image_with_thinned_labels(qapp):
    import time

    rng = np.random.default_rng(2)
    weights = rng.random((512, 512))
    weights /= weights.sum(1, keepdims=True)
    labels = [f"w{i}" for i in range(512)]
    fig = AlignmentFigure(labels, labels, weights, focus=100)
    start = time.perf_counter()
    _, geometry = render(lambda p, r, t: paint_heatmap(p, r, fig, t), size=(900, 800))
    assert time.perf_counter() - start < 5.0  # generous: it takes ~40 ms; a per-cell loop would take seconds
    assert geometry.label_steps[0] > 1 and not geometry.values_shown
    shown = [box for box in geometry.query_rects if box is not None]
    for upper, lower in zip(shown, shown[1:]):
        assert upper.bottom() <= lower.top()
    assert geometry.query_rects[100] is not None, "the focused row keeps its label"


def test_heatmap_size_grows_with_the_zoom(qapp):
    fig = AlignmentFigure(QUERIES, KEYS, seed_weights())
    small, big = heatmap_size(fig, 10, Theme.light()), heatmap_size(fig, 40, Theme.light())
    assert big[0] - small[0] == pytest.approx(7 * 30, abs=40) and big[1] > small[1]


# -- spotlight -------------------------------------------------------------------------------------------
def test_spotlight_lights_words_by_weight(qapp):
    theme = Theme.light()
    row = seed_weights()[1]  # "black"
    image, boxes = render(lambda p, r, t: paint_spotlight(p, r, KEYS, row, t, caption="“black” looks at:"),
                          size=(700, 140), theme=theme)
    assert len(boxes) == 7 and all(box is not None for box in boxes)
    spot = np.array([theme.spot.red(), theme.spot.green(), theme.spot.blue()])

    def glow(j: int) -> float:  # distance of the box's inner corner from the spotlight colour
        return float(np.abs(np.array(rgb_at(image, boxes[j].left() + 4, boxes[j].top() + 3)) - spot).sum())

    assert glow(2) < glow(0) and glow(2) < glow(1), "noir, the word black looks at, is the brightest"
    assert inked(image, boxes[6], theme.background) > 30, "canapé is written (the accent font is there)"


def test_spotlight_wraps_and_says_what_it_left_out(qapp):
    labels = [f"mot{i}" for i in range(200)]
    _, boxes = render(lambda p, r, t: paint_spotlight(p, r, labels, np.full(200, 1 / 200), t), size=(400, 90))
    shown = [box for box in boxes if box is not None]
    assert 0 < len(shown) < 200
    assert len({round(box.top()) for box in shown}) >= 2, "words wrap onto several lines"
