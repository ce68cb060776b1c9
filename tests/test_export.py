"""Exported figures: PNG pixels, SVG vectors with real text, one-page PDFs with embedded fonts, sizes that keep
every label whole (also for 40+ words), the dialog that remembers its choices, and Copy Image."""

from __future__ import annotations

import math
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetricsF, QImage

from attnstudio.export.figures import scene_figure
from attnstudio.export.render import (
    LINE_CLASS,
    ExportError,
    ExportOptions,
    PdfExporter,
    PngExporter,
    SvgExporter,
    export_figure,
    exporter_for,
    figure_layout,
)
from attnstudio.gui.painting import AlignmentFigure, Theme, line_opacity, line_width
from attnstudio.scene import Scene

SVG = "{http://www.w3.org/2000/svg}"
SEED_WORDS = "The black cat sleeps on the couch".split() + "Le chat noir dort sur le canapé".split()
# 44 words each way: a sentence long enough that the labels must be rotated to fit.
LONG_SOURCE = ("Le chat noir dort sur le canapé pendant que la pluie tombe doucement sur les toits gris de la ville "
               "et que les enfants rêvent encore dans leurs lits chauds avant le lever du soleil demain matin quand "
               "les oiseaux chantent dans les arbres du jardin")
LONG_TARGET = ("The black cat sleeps on the couch while the rain falls gently on the grey roofs of the city and "
               "the children still dream in their warm beds before the sunrise tomorrow morning when the birds "
               "sing in the trees of the garden")


@pytest.fixture
def seed(qapp) -> AlignmentFigure:
    return scene_figure(Scene())


@pytest.fixture
def long_figure(qapp) -> AlignmentFigure:
    scene = Scene()
    scene.set_sentence("source", LONG_SOURCE)
    scene.set_sentence("target", LONG_TARGET)
    scene.set_focus(20)
    fig = scene_figure(scene)
    assert len(fig.query_labels) >= 40 and len(fig.key_labels) >= 40
    return fig


def pixels(image: QImage) -> np.ndarray:
    """(h, w, 4) uint8 RGBA."""
    image = image.convertToFormat(QImage.Format.Format_RGBA8888)
    raw = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return raw[:, : image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def inked(rgba: np.ndarray, box: QRectF, scale: float, background: QColor) -> int:
    """How many pixels in ``box`` (logical pixels) differ clearly from the background."""
    x0, y0 = int(box.left() * scale), int(box.top() * scale)
    x1, y1 = int(math.ceil(box.right() * scale)), int(math.ceil(box.bottom() * scale))
    region = rgba[y0:y1, x0:x1, :3].astype(int)
    bg = np.array([background.red(), background.green(), background.blue()])
    return int((np.abs(region - bg).max(axis=2) > 60).sum())


# -- PNG -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("scale", [1, 2, 3, 4])
def test_png_has_the_expected_size_and_ink_where_the_words_are(seed, scale):
    exporter = PngExporter(seed, ExportOptions(view="lines", scale=scale))
    data = exporter.export(to_bytes=True)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = QImage.fromData(data, "PNG")
    width, height = exporter.layout.size.width(), exporter.layout.size.height()
    assert (image.width(), image.height()) == (round(width * scale), round(height * scale))
    assert round(image.dotsPerMeterX() * 0.0254) == 96 * scale, "a 2× PNG is placed at the 1× size"
    rgba = pixels(image)
    background = Theme.light().background
    assert (np.abs(rgba[..., :3].astype(int) - 255).max(axis=2) > 60).mean() > 0.01, "not blank"
    geometry = exporter.rendered.lines
    for box in geometry.query_rects + geometry.key_rects:
        assert box is not None
        assert inked(rgba, box, scale, background) >= 3 * scale * scale, f"no ink in the label at {box}"


def test_png_transparent_background_keeps_line_opacity(seed):
    exporter = PngExporter(seed, ExportOptions(view="lines", transparent=True))
    rgba = pixels(exporter.to_image())
    assert rgba[1, 1, 3] == 0 and rgba[-2, -2, 3] == 0, "the corners are see-through"
    geometry = exporter.rendered.lines
    q, k = 6, 6  # couch → canapé, the heaviest unfocused line; sample it halfway, away from other lines
    mid = (geometry.query_anchors[q] + geometry.key_anchors[k]) / 2
    alpha = rgba[int(mid[1]), int(mid[0]), 3] / 255
    expected = float(line_opacity(seed.weights[q, k])) * Theme.light().fade  # the other queries fade
    assert abs(alpha - expected) < 0.06, (alpha, expected)


def test_lines_encode_the_weights_as_on_screen(seed):
    exporter = PngExporter(seed)
    exporter.to_image()
    geometry = exporter.rendered.lines
    weights = seed.weights[geometry.pairs[:, 0], geometry.pairs[:, 1]]
    assert len(geometry.pairs) == seed.weights.size
    assert np.allclose(geometry.widths, line_width(weights), atol=0.03)
    faded = np.where(geometry.pairs[:, 0] == seed.focus, 1.0, Theme.light().fade)
    assert np.allclose(geometry.opacities, line_opacity(weights) * faded, atol=0.01)


def test_too_large_png_is_refused_with_a_reason(qapp):
    labels = [f"mot{i}" for i in range(512)]
    fig = AlignmentFigure(labels, labels, np.full((512, 512), 1 / 512))
    with pytest.raises(ExportError, match="too large"):
        PngExporter(fig, ExportOptions(view="both", scale=4)).to_image()


@pytest.mark.parametrize("options, message", [
    (ExportOptions(view="table"), "unknown view"), (ExportOptions(theme="pink"), "unknown theme"),
    (ExportOptions(scale=9), "scale"), (ExportOptions(scale=float("nan")), "scale"),
])
def test_bad_options_say_what_is_wrong(seed, options, message):
    with pytest.raises(ExportError, match=message):
        PngExporter(seed, options)


# -- SVG -------------------------------------------------------------------------------------------------
def svg_root(fig: AlignmentFigure, options: ExportOptions = ExportOptions()) -> tuple[ET.Element, SvgExporter]:
    exporter = SvgExporter(fig, options)
    return ET.fromstring(exporter.export(to_bytes=True)), exporter


def test_svg_is_vectors_with_every_word_as_text(seed):
    root, exporter = svg_root(seed, ExportOptions(view="both"))
    assert root.tag == f"{SVG}svg"
    width, height = exporter.layout.size.width(), exporter.layout.size.height()
    assert root.get("viewBox") == f"0 0 {width:g} {height:g}"
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    for word in SEED_WORDS:
        assert texts.count(word) >= 2, f"{word!r} is text in both panels"  # canapé, accent intact
    assert "attention weight" in texts, "the colour bar is labelled"
    assert seed.title in texts
    images = list(root.iter(f"{SVG}image"))
    bar = exporter.rendered.heatmap.colorbar
    assert len(images) == 1 and float(images[0].get("width")) == pytest.approx(bar.width()), \
        "only the colour bar's ramp is a picture"
    assert len(list(root.iter(f"{SVG}rect"))) >= 49, "the cells are rectangles"


def test_svg_draws_one_line_per_pair_with_the_screen_widths(seed):
    root, exporter = svg_root(seed)
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == LINE_CLASS]
    lines = [(float(g.get("stroke-width")), child) for g in groups for child in g]
    assert len(lines) == seed.weights.size == 49
    assert all(child.tag == f"{SVG}polyline" for _, child in lines)
    assert np.allclose(sorted(w for w, _ in lines), sorted(exporter.rendered.lines.widths), atol=1e-3)


def test_svg_counts_only_allowed_pairs_under_a_causal_mask(qapp):
    scene = Scene()
    scene.set_settings(mode="self", causal=True)
    fig = scene_figure(scene)
    root, _ = svg_root(fig, ExportOptions(view="lines"))
    lines = [c for g in root.iter(f"{SVG}g") if g.get("class") == LINE_CLASS for c in g]
    assert len(lines) == int(fig.allowed().sum()) == 7 * 8 // 2


def test_svg_fonts_are_in_logical_pixels(seed):
    """Resolution 96: a 13 px label is font-size 13 (any other DPI would scale the text off the layout)."""
    root, exporter = svg_root(seed)
    sizes = {float(t.get("font-size")) for t in root.iter(f"{SVG}text") if "".join(t.itertext()) == "cat"}
    assert sizes == {exporter.rendered.lines.font_px}


@pytest.mark.skipif(shutil.which("rsvg-convert") is None, reason="rsvg-convert (librsvg2-bin) is not installed")
def test_svg_renders_elsewhere(seed, tmp_path):
    path = tmp_path / "seed.svg"
    export_figure(seed, path, ExportOptions(view="both", theme="dark"))
    subprocess.run(["rsvg-convert", str(path), "-o", str(tmp_path / "seed.png")], check=True)
    image = QImage(str(tmp_path / "seed.png"))
    assert image.width() == figure_layout(seed, ExportOptions(view="both")).size.width()
    rgba = pixels(image)
    dark = Theme.dark().background
    assert (np.abs(rgba[..., :3].astype(int) - [dark.red(), dark.green(), dark.blue()]).max(axis=2) > 60).mean() > 0.02


# -- PDF -------------------------------------------------------------------------------------------------
def test_pdf_is_one_page_the_size_of_the_figure_with_embedded_fonts(seed):
    exporter = PdfExporter(seed, ExportOptions(view="lines"))
    data = exporter.export(to_bytes=True)
    assert data.startswith(b"%PDF-") and data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b(?!s)", data)) == 1
    width, height = exporter.layout.size.width() * 0.75, exporter.layout.size.height() * 0.75  # px → pt
    box = re.search(rb"/MediaBox\s*\[\s*([\d.\s]+)\]", data).group(1).split()
    assert [float(x) for x in box] == [0, 0, width, height]
    assert b"/FontFile" in data, "fonts are embedded"
    assert b"/Subtype /Image" not in data, "the lines are vectors"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed")
def test_pdf_text_can_be_extracted(seed, tmp_path):
    path = tmp_path / "seed.pdf"
    export_figure(seed, path, ExportOptions(view="heatmap", caption="Figure 1: le canapé."))
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    for word in SEED_WORDS + ["attention weight", "Figure 1: le canapé."]:
        assert word in text


# -- sizes: every label whole, none overlapping ----------------------------------------------------------
def assert_labels_whole_and_apart(rects, labels, px, focus, page, rotated_ok=True, horizontal=None):
    theme = Theme.light()
    shown = [(i, r) for i, r in enumerate(rects) if r is not None]
    assert len(shown) == len(labels), "no label is thinned out"
    for i, box in shown:
        assert page.contains(box), f"label {labels[i]!r} at {box} leaves the page {page}"
        full = QFontMetricsF(theme.font(px, bold=i == focus)).horizontalAdvance(labels[i])
        assert max(box.width(), box.height()) >= full - 0.5, f"label {labels[i]!r} is elided"
    boxes = [r for _, r in shown]
    key = (lambda r: r.left()) if horizontal is not False else (lambda r: r.top())
    boxes.sort(key=key)
    for a, b in zip(boxes, boxes[1:]):
        overlap = a.intersected(b)
        assert overlap.width() <= 0.01 or overlap.height() <= 0.01, f"{a} overlaps {b}"


@pytest.mark.parametrize("view", ["lines", "heatmap", "both"])
def test_long_sentence_labels_never_overlap_nor_clip(long_figure, view):
    exporter = PngExporter(long_figure, ExportOptions(view=view))
    exporter.to_image()
    page = QRectF(0, 0, exporter.layout.size.width(), exporter.layout.size.height())
    fig = long_figure
    if exporter.rendered.lines is not None:
        geometry = exporter.rendered.lines
        assert geometry.rotated and geometry.label_step == 1 and geometry.font_px >= 12
        assert_labels_whole_and_apart(geometry.query_rects, fig.query_labels, geometry.font_px, fig.focus, page)
        assert_labels_whole_and_apart(geometry.key_rects, fig.key_labels, geometry.font_px, None, page)
        span = geometry.query_anchors[0, 1] - geometry.key_anchors[0, 1]
        assert span >= 160, "the lines keep room to be read"
    if exporter.rendered.heatmap is not None:
        geometry = exporter.rendered.heatmap
        assert geometry.label_steps == (1, 1)
        cell = geometry.cell_rect(0, 0)
        assert abs(cell.width() - cell.height()) < 1e-6, "square cells"
        assert_labels_whole_and_apart(geometry.query_rects, fig.query_labels, geometry.label_px, fig.focus, page,
                                      horizontal=False)
        assert_labels_whole_and_apart(geometry.key_rects, fig.key_labels, geometry.label_px, None, page)
        assert page.contains(geometry.colorbar)


def test_panels_side_by_side_do_not_overlap(long_figure):
    layout = figure_layout(long_figure, ExportOptions(view="both", caption="A caption " * 30))
    assert not layout.lines.intersects(layout.heatmap)
    assert layout.title.bottom() <= layout.lines.top() and layout.caption.top() >= layout.lines.bottom()
    assert layout.caption.height() > 20, "a long caption wraps"


@pytest.mark.parametrize("n", [1, 2, 7, 20, 128])
def test_natural_size_fits_every_label_for_any_length(qapp, n):
    rng = np.random.default_rng(n)
    words = ["a", "le", "chat", "anticonstitutionnellement", "canapé", "dort", "œuvre", "garçon"]
    queries = [words[i % len(words)] for i in range(n)]
    keys = [words[(3 * i + 1) % len(words)] for i in range(n + 1)]
    weights = rng.random((n, n + 1))
    fig = AlignmentFigure(queries, keys, weights / weights.sum(1, keepdims=True), focus=n // 2)
    exporter = PngExporter(fig, ExportOptions(view="both"))
    exporter.to_image()
    page = QRectF(0, 0, exporter.layout.size.width(), exporter.layout.size.height())
    lines = exporter.rendered.lines
    assert_labels_whole_and_apart(lines.query_rects, queries, lines.font_px, fig.focus, page)
    assert_labels_whole_and_apart(lines.key_rects, keys, lines.font_px, None, page)
    heat = exporter.rendered.heatmap
    assert heat.label_steps == (1, 1)
    assert_labels_whole_and_apart(heat.key_rects, keys, heat.label_px, None, page)


def test_the_figure_of_a_scene_is_the_windows(window):
    for change in ({}, {"mode": "self"}, {"num_heads": 2}):
        if change:
            window.controller.set_settings(**change)
        ours, theirs = scene_figure(window.controller.scene), window.canvas.figure()
        assert (ours.query_labels, ours.key_labels, ours.title, ours.focus) == \
               (theirs.query_labels, theirs.key_labels, theirs.title, theirs.focus)
        assert (ours.query_caption, ours.key_caption) == (theirs.query_caption, theirs.key_caption)
        assert np.array_equal(ours.weights, theirs.weights)


def test_exporter_for_picks_by_extension_and_refuses_others():
    assert exporter_for("a/b.PNG") is PngExporter and exporter_for("x.svg") is SvgExporter
    with pytest.raises(ExportError, match="unknown extension"):
        exporter_for("figure.tiff")


def test_failed_write_leaves_the_old_file(seed, tmp_path, monkeypatch):
    from attnstudio.fileio import SaveError

    path = tmp_path / "figure.png"
    path.write_bytes(b"old")

    def refuse(*_args):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("attnstudio.fileio.os.replace", refuse)
    with pytest.raises(SaveError, match="Permission denied"):
        export_figure(seed, path)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"], "no temporary file is left behind"


# -- the window ------------------------------------------------------------------------------------------
def test_export_dialog_remembers_the_choices(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from attnstudio.gui.export_dialog import ExportDialog

    dialog = ExportDialog(window.canvas.figure(), window.settings, window)
    dialog.view.setCurrentIndex(dialog.view.findData("both"))
    dialog.format.setCurrentIndex(dialog.format.findData(".svg"))
    dialog.scale.setValue(3)
    dialog.theme.setCurrentIndex(dialog.theme.findData("dark"))
    dialog.transparent.setChecked(True)
    dialog.colorbar.setChecked(False)
    dialog.title_check.setChecked(False)
    dialog.caption.setText("Figure 2")
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *args: (str(tmp_path / "figure"), "SVG image (*.svg)"))
    dialog.accept()
    assert dialog.result() == ExportDialog.DialogCode.Accepted
    svg = (tmp_path / "figure.svg").read_text(encoding="utf-8")  # the chosen format's extension is added
    assert "Figure 2" in svg and "attention weight" not in svg and window.canvas.figure().title not in svg

    again = ExportDialog(window.canvas.figure(), window.settings, window)
    assert again.options() == replace(dialog.options(), caption="")  # the caption belongs to that figure
    assert again.suffix() == ".svg" and again._start_path().startswith(str(tmp_path))


def test_export_dialog_says_why_and_keeps_the_old_file(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from attnstudio.gui.export_dialog import ExportDialog

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append(text))
    dialog = ExportDialog(window.canvas.figure(), window.settings, window)
    assert not dialog.export_to(str(tmp_path / "missing" / "figure.png"))
    assert "does not exist" in warnings[-1] and "unchanged" in warnings[-1]
    target = tmp_path / "figure.pdf"
    target.write_bytes(b"old")
    monkeypatch.setattr("attnstudio.fileio.os.replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space")))
    assert not dialog.export_to(str(target))
    assert "No space" in warnings[-1] and target.read_bytes() == b"old"


def test_export_image_action_writes_the_file(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from attnstudio.gui.export_dialog import ExportDialog

    path = tmp_path / "figure.pdf"
    monkeypatch.setattr(ExportDialog, "exec",
                        lambda self: QDialog.DialogCode.Accepted if self.export_to(str(path)) else 0)
    assert window.action_export_image.isEnabled()
    window.action_export_image.trigger()
    assert path.read_bytes().startswith(b"%PDF") and str(path) in window.status_label.text()


def test_copy_image_puts_the_current_view_on_the_clipboard(window, qtbot):
    from PySide6.QtGui import QGuiApplication

    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    assert window.action_copy_image.shortcut().toString() == "Ctrl+Shift+C"
    window.action_copy_image.trigger()
    image = clipboard.image()
    assert not image.isNull() and image.width() > 100
    lines_width = image.width()
    window.heatmap.canvas.setFocus()
    qtbot.waitUntil(lambda: window.current_view() == "heatmap")
    window.action_copy_image.trigger()
    assert not clipboard.image().isNull() and clipboard.image().width() != lines_width
    assert "heatmap" in window.status_label.text()


def test_export_weights_writes_the_cli_formats(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    from attnstudio.export.data import weights_csv, weights_document

    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "w"), "CSV table (*.csv)"))
    window.action_export_weights.trigger()
    assert (tmp_path / "w.csv").read_text(encoding="utf-8") == weights_csv(window.controller.scene)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(tmp_path / "w.json"), "CSV table (*.csv)"))
    window.action_export_weights.trigger()
    import json

    assert json.loads((tmp_path / "w.json").read_text(encoding="utf-8")) == weights_document(window.controller.scene)
    assert "w.json" in window.status_label.text()
