"""The alignment canvas, spotlight strip and heatmap with a real Controller: hover, click, keys, zoom, empty."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QHelpEvent, QImage, QPalette, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from attnstudio.gui.alignment import AlignmentCanvas, SpotlightStrip
from attnstudio.gui.controller import Controller
from attnstudio.gui.heatmap import MAX_CELL, HeatmapView
from attnstudio.gui.painting import EMPTY_MESSAGE
from tests.screen_probes import PaintRecorder, on_screen

BLACK, NOIR = 1, 2  # "black" in "The black cat sleeps on the couch"; "noir" in "Le chat noir dort sur le canapé"


@pytest.fixture
def controller():
    controller = Controller()
    yield controller
    controller.undo_stack.clear()  # break the command ↔ controller cycle before Qt tears down (see test_qkspace)


@pytest.fixture
def canvas(qtbot, controller) -> AlignmentCanvas:
    widget = AlignmentCanvas(controller)
    qtbot.addWidget(widget)
    widget.resize(900, 480)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.geometry_of_figure() is not None)
    return widget


@pytest.fixture
def heatmap(qtbot, controller) -> HeatmapView:
    view = HeatmapView(controller)
    qtbot.addWidget(view)
    view.resize(560, 460)
    view.show()
    qtbot.waitExposed(view)
    qtbot.waitUntil(lambda: view.canvas.geometry_of_figure() is not None)
    return view


def ink_fraction(image: QImage, background: QColor) -> float:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    px = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    bg = np.array([background.blue(), background.green(), background.red()])
    return float((np.abs(px[:, : image.width(), :3].astype(int) - bg).sum(-1) > 60).mean())


def tooltip_at(widget, pos: QPoint) -> str:
    """Send the tool-tip event Qt sends after a pause, and read the tip shown."""
    QToolTip.hideText()
    event = QHelpEvent(QEvent.Type.ToolTip, pos, widget.mapToGlobal(pos))
    QApplication.sendEvent(widget, event)
    return QToolTip.text()


# -- alignment canvas ------------------------------------------------------------------------------------
def test_canvas_names_and_figure(canvas, controller):
    assert canvas.objectName() == "alignmentCanvas" and canvas.accessibleName() == "Alignment canvas"
    assert canvas.focusPolicy() == Qt.FocusPolicy.StrongFocus
    fig = canvas.figure()
    assert fig.query_labels == "The black cat sleeps on the couch".split()
    assert fig.key_labels == "Le chat noir dort sur le canapé".split()
    assert fig.focus == controller.scene.focus == BLACK and fig.title
    np.testing.assert_array_equal(fig.weights, controller.result().weights)


def test_hovering_a_line_shows_its_exact_weight(qtbot, canvas, controller):
    geometry = canvas.geometry_of_figure()
    weight = controller.result().weights[BLACK, NOIR]
    a, b = geometry.key_anchors[NOIR], geometry.query_anchors[BLACK]
    point = QPointF(*(0.4 * a + 0.6 * b)).toPoint()
    qtbot.mouseMove(canvas, point)
    qtbot.waitUntil(lambda: f"{weight:.4f}" in canvas.hover_text())
    assert "“black” → “noir”" in canvas.hover_text()
    assert f"{weight:.4f}" in tooltip_at(canvas, point)


def test_hovering_a_key_word_names_who_looks_at_it(qtbot, canvas, controller):
    box = canvas.geometry_of_figure().key_rects[NOIR]
    qtbot.mouseMove(canvas, box.center().toPoint())
    best = controller.result().weights[:, NOIR].max()
    qtbot.waitUntil(lambda: "“noir” is looked at most by “black”" in canvas.hover_text())
    assert f"{best:.4f}" in canvas.hover_text()


def test_clicking_a_query_word_focuses_it(qtbot, canvas, controller):
    box = canvas.geometry_of_figure().query_rects[2]  # "cat"
    with qtbot.waitSignal(controller.focus_changed) as signal:
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=box.center().toPoint())
    assert signal.args == [2] and controller.scene.focus == 2
    qtbot.waitUntil(lambda: canvas.figure().focus == 2)


def test_in_self_attention_a_key_word_can_be_clicked_too(qtbot, canvas, controller):
    controller.set_settings(mode="self")
    canvas.repaint()
    box = canvas.geometry_of_figure().key_rects[4]  # "sur", in the row of keys
    with qtbot.waitSignal(controller.focus_changed):
        qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=box.center().toPoint())
    assert controller.scene.focus == 4


def test_arrow_keys_move_the_focus(qtbot, canvas, controller):
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    qtbot.keyClick(canvas, Qt.Key.Key_Right)
    assert controller.scene.focus == BLACK + 1
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    qtbot.keyClick(canvas, Qt.Key.Key_Left)
    assert controller.scene.focus == BLACK - 1
    qtbot.keyClick(canvas, Qt.Key.Key_Left)  # stays on the first word
    assert controller.scene.focus == 0
    qtbot.keyClick(canvas, Qt.Key.Key_End)
    assert controller.scene.focus == 6


def test_empty_sentence_shows_the_friendly_message(qtbot, canvas, controller):
    with qtbot.waitSignal(controller.scene_changed):
        controller.set_sentence("source", "")
    fig = canvas.figure()
    assert fig.empty and fig.empty_message == EMPTY_MESSAGE
    image = canvas.grab().toImage()
    background = image.pixelColor(20, 20)  # inside the keyboard-focus frame
    middle = image.copy(0, image.height() // 3, image.width(), image.height() // 3)
    assert ink_fraction(middle, background) > 0.002, "a message is written across the middle"
    assert ink_fraction(image.copy(10, 10, image.width() - 20, image.height() // 4), background) < 0.001


def test_long_sentence_scrolls_sideways_and_follows_the_focus(qtbot, canvas, controller):
    words = " ".join(["le chat noir dort sur le canapé"] * 18)  # 126 tokens, too many for 900 pixels
    controller.set_settings(mode="self")
    controller.set_sentence("source", words)
    qtbot.waitUntil(lambda: canvas.scrollbar.isVisible())
    canvas.setFocus()
    qtbot.keyClick(canvas, Qt.Key.Key_End)
    assert controller.scene.focus == 125
    qtbot.waitUntil(lambda: canvas.scrollbar.value() > 0)
    canvas.repaint()
    geometry = canvas.geometry_of_figure()
    shown = [box for box in geometry.query_rects if box is not None]
    assert len(shown) == 126
    for left, right in zip(shown, shown[1:]):
        assert left.right() <= right.left()


def test_palette_change_repaints_in_the_dark_theme(qtbot, canvas):
    palette = QPalette()
    for role, colour in ((QPalette.ColorRole.Window, "#202124"), (QPalette.ColorRole.Base, "#17181a"),
                         (QPalette.ColorRole.Text, "#e8eaed"), (QPalette.ColorRole.WindowText, "#e8eaed")):
        palette.setColor(role, QColor(colour))
    canvas.setPalette(palette)
    qtbot.waitUntil(lambda: canvas._theme.is_dark)
    corner = canvas.grab().toImage().pixelColor(3, 3)
    assert corner.lightnessF() < 0.2


def _edit_focused_query(controller, value: float = 40.0) -> int:
    """Set the focused query's component in the meaning dimension the keys carry most of (the weights move);
    returns that dimension."""
    scene = controller.scene
    dim = int(np.argmax(np.abs(controller.result().k[:, :6]).sum(0)))
    assert controller.set_component(scene.query_side(), scene.focus, "q", dim, value)
    return dim


# -- spotlight strip -------------------------------------------------------------------------------------
def test_spotlight_strip_follows_the_focus(qtbot, controller):
    strip = SpotlightStrip(controller)
    qtbot.addWidget(strip)
    strip.resize(700, 120)
    strip.show()
    qtbot.waitExposed(strip)
    assert strip.objectName() == "spotlightStrip"
    assert strip.caption() == "“black” looks at:"
    qtbot.waitUntil(lambda: len(strip.word_boxes()) == 7)
    controller.set_focus(2)
    assert strip.caption() == "“cat” looks at:"
    box = strip.word_boxes()[1]  # "chat"
    weight = controller.result().weights[2, 1]
    assert f"{weight:.4f}" in tooltip_at(strip, box.center().toPoint())


@pytest.mark.parametrize("width", [700, 733])  # 733: boxes end between pixels
def test_spotlight_repaints_only_words_whose_look_changed_and_matches_a_whole_paint(qtbot, controller, monkeypatch,
                                                                                     width):
    import attnstudio.gui.alignment as alignment_module

    strip = SpotlightStrip(controller)
    qtbot.addWidget(strip)
    strip.resize(width, 120)
    strip.show()
    qtbot.waitExposed(strip)
    strip.grab()
    painted = []
    original = alignment_module.paint_spotlight
    monkeypatch.setattr(alignment_module, "paint_spotlight",
                        lambda *args, **kw: painted.append(kw.get("words")) or original(*args, **kw))
    _edit_focused_query(controller)
    shown = strip.grab().toImage()
    assert len(painted) == 1 and painted[0] and len(painted[0]) < 7  # some words, not the whole strip
    strip._strip = None  # noqa: SLF001 (force a whole paint: the reference)
    whole = strip.grab().toImage()
    assert painted[-1] is None
    assert _pixels(shown).tobytes() == _pixels(whole).tobytes()


# -- heatmap ---------------------------------------------------------------------------------------------
def test_heatmap_hover_gives_query_key_and_weight(qtbot, heatmap, controller):
    assert heatmap.objectName() == "heatmapView"
    geometry = heatmap.canvas.geometry_of_figure()
    point = geometry.cell_rect(BLACK, NOIR).center().toPoint()
    weight = controller.result().weights[BLACK, NOIR]
    qtbot.mouseMove(heatmap.canvas, point)
    qtbot.waitUntil(lambda: f"{weight:.4f}" in heatmap.hover_text())
    text = tooltip_at(heatmap.canvas, point)
    assert "“black”" in text and "“noir”" in text and f"{weight:.4f}" in text


def test_heatmap_click_on_a_row_focuses_its_query(qtbot, heatmap, controller):
    geometry = heatmap.canvas.geometry_of_figure()
    with qtbot.waitSignal(controller.focus_changed):
        qtbot.mouseClick(heatmap.canvas, Qt.MouseButton.LeftButton,
                         pos=geometry.cell_rect(4, 0).center().toPoint())
    assert controller.scene.focus == 4
    with qtbot.waitSignal(controller.focus_changed):  # the row's label counts too
        qtbot.mouseClick(heatmap.canvas, Qt.MouseButton.LeftButton,
                         pos=geometry.query_rects[6].center().toPoint())
    assert controller.scene.focus == 6


def test_heatmap_zooms_with_keys_and_ctrl_wheel(qtbot, heatmap):
    canvas = heatmap.canvas
    heatmap.canvas.setFocus()
    fit = heatmap.current_cell()
    for _ in range(2):
        qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert heatmap.cell_px == pytest.approx(fit * 1.25 ** 2)
    assert canvas.width() > heatmap.viewport().width() or canvas.height() > heatmap.viewport().height()
    canvas.repaint()
    assert canvas.geometry_of_figure().grid.width() / 7 == pytest.approx(heatmap.cell_px, rel=0.02)
    qtbot.keyClick(canvas, Qt.Key.Key_0)
    assert heatmap.cell_px is None and canvas.size() == heatmap.viewport().size()
    wheel = QWheelEvent(QPointF(100, 100), QPointF(canvas.mapToGlobal(QPoint(100, 100))), QPoint(0, 0),
                        QPoint(0, 240), Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(canvas, wheel)
    assert heatmap.cell_px == pytest.approx(fit * 1.25 ** 2)
    for _ in range(10):
        qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert heatmap.cell_px == MAX_CELL, "zooming stops when one cell is big enough"
    qtbot.keyClick(canvas, Qt.Key.Key_Minus)
    assert heatmap.cell_px == pytest.approx(MAX_CELL / 1.25)


def test_heatmap_empty_and_large(qtbot, heatmap, controller):
    controller.set_sentence("source", "")
    heatmap.canvas.repaint()
    assert heatmap.figure().empty and heatmap.canvas.geometry_of_figure().grid.isEmpty()
    controller.set_settings(mode="self")
    controller.set_sentence("source", " ".join(["le chat noir dort sur le canapé"] * 18))
    heatmap.canvas.repaint()
    geometry = heatmap.canvas.geometry_of_figure()
    assert geometry.n_q == geometry.n_k == 126 and geometry.label_steps[0] > 1
    assert not np.isnan(heatmap.figure().weights).any()


def _full_paint(canvas):
    """The canvas's figure painted in one go, as the exporters do: the reference the cached layers must match."""
    from PySide6.QtGui import QPainter, QPixmap

    from attnstudio.gui.painting import paint_alignment_base

    rect = canvas._plot_rect()  # noqa: SLF001 (the canvas's own figure rectangle)
    pixmap = QPixmap(int(rect.width()), int(rect.height()))
    pixmap.fill(canvas._theme.background)  # noqa: SLF001
    painter = QPainter(pixmap)
    geometry = paint_alignment_base(painter, rect, canvas._shown(), canvas._theme)  # noqa: SLF001
    painter.end()
    return pixmap.toImage(), geometry


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    # A copy while the converted image lives: the array would otherwise point into memory freed on return.
    return np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4).copy()


@pytest.mark.parametrize("words", [7, 80])
def test_a_query_edit_redraws_only_the_focused_lines_and_matches_a_full_paint(qtbot, canvas, controller,
                                                                               monkeypatch, words):
    import attnstudio.gui.alignment as alignment_module

    if words > 7:  # 80 × 80 pairs: above SKIP_FROM_PAIRS, where weak lines are left out and capped
        lemmas = " ".join(sorted(controller.scene.model.lexicon.languages["en"]["forms"])[:words])
        controller.set_sentence("target", lemmas)
        controller.set_sentence("source", lemmas)
    canvas.grab()
    static_paints = []
    original = alignment_module.paint_alignment_static
    monkeypatch.setattr(alignment_module, "paint_alignment_static",
                        lambda *args: static_paints.append(1) or original(*args))
    scene = controller.scene
    before = canvas.geometry_of_figure()
    dim = _edit_focused_query(controller)
    shown = canvas.grab().toImage()
    assert static_paints == []  # the labels and the other queries' lines were kept
    after = canvas.geometry_of_figure()
    reference, geometry = _full_paint(canvas)
    # The same lines, widths and labels as painting the whole figure again …
    assert np.array_equal(after.pairs, geometry.pairs) and np.allclose(after.widths, geometry.widths)
    assert after.query_rects == geometry.query_rects and after.skipped == geometry.skipped
    assert not np.array_equal(after.widths, before.widths)  # … and the focused lines really moved
    # … and the same pixels, but for the few a dot drawn twice darkens at its rim.
    offset, width = canvas._offset(), min(canvas.width(), reference.width())  # noqa: SLF001 (scrolled at 80 words)
    rows = slice(4, reference.height() - 4)  # not the focus frame
    a = _pixels(shown)[rows, 4: width - 4, :3].astype(int)
    b = _pixels(reference)[rows, offset + 4: offset + width - 4, :3].astype(int)
    assert (np.abs(a - b).max(-1) > 40).mean() < 0.002
    # A key edit moves every query's weights: then the static layer is painted again.
    key = int(np.argmax(np.abs(controller.result().k[:, dim])))
    assert controller.set_component(scene.side_of("k"), key, "k", dim, -25.0)
    canvas.grab()
    assert static_paints == [1]


@pytest.mark.parametrize("words", [7, 12])
def test_heatmap_keeps_its_labels_while_weights_change_and_matches_a_full_paint(qtbot, heatmap, controller,
                                                                                 monkeypatch, words):
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter, QPixmap

    import attnstudio.gui.heatmap as heatmap_module
    from attnstudio.gui.painting import heatmap_image, paint_heatmap

    if words > 7:  # the focus in the middle of a longer pair: rows above and below it are kept
        lemmas = " ".join(sorted(controller.scene.model.lexicon.languages["en"]["forms"])[:words])
        controller.set_sentence("target", lemmas)
        controller.set_sentence("source", lemmas)
        controller.set_focus(words // 2)
    canvas = heatmap.canvas
    canvas.grab()
    frames, cell_paints = [], []
    original = heatmap_module.paint_heatmap_frame
    monkeypatch.setattr(heatmap_module, "paint_heatmap_frame", lambda *args: frames.append(1) or original(*args))
    original_cells = heatmap_module.paint_heatmap_cells
    monkeypatch.setattr(heatmap_module, "paint_heatmap_cells",
                        lambda *args, **kw: cell_paints.append(kw.get("rows")) or original_cells(*args, **kw))
    scene = controller.scene
    _edit_focused_query(controller)
    shown = canvas.grab().toImage()
    assert frames == [] and cell_paints == [(scene.focus, scene.focus + 1)]  # the focused row alone
    fig = heatmap.shown()  # the cells' image, coloured again only in that row, is the image of all the weights
    whole = heatmap_image(fig.weights, fig.mask, heatmap.theme.grid)
    assert _pixels(heatmap.image()).tobytes() == _pixels(whole).tobytes()
    reference = QPixmap(canvas.size())
    reference.fill(heatmap.theme.background)
    painter = QPainter(reference)
    paint_heatmap(painter, QRectF(canvas.rect()), heatmap.shown(), heatmap.theme, image=heatmap.image())
    painter.end()
    inner = (slice(4, canvas.height() - 4), slice(4, canvas.width() - 4), slice(0, 3))  # not the focus frame
    a, b = _pixels(shown)[inner].astype(int), _pixels(reference.toImage())[inner].astype(int)
    assert np.array_equal(a, b), np.argwhere(np.abs(a - b).max(-1) > 0)[:5]  # the same pixels exactly
    controller.set_focus(0)  # another row in bold: the labels are painted again
    canvas.grab()
    assert frames == [1]


def test_moving_to_a_screen_of_another_pixel_ratio_rebuilds_the_cached_layers(qtbot, canvas, controller, monkeypatch):
    canvas.grab()  # layers cached at ratio 1
    monkeypatch.setattr(canvas, "devicePixelRatioF", lambda: 2.0)  # dragged onto a 2× screen, same logical size
    _edit_focused_query(controller)  # a q edit: the static layer is kept?
    inner = (slice(4, canvas.height() - 4), slice(4, canvas.width() - 4), slice(0, 3))  # not the focus frame
    layered = _pixels(canvas.grab().toImage())[inner].astype(int)
    assert canvas._static.devicePixelRatio() == 2.0  # noqa: SLF001
    canvas._set_hover((controller.scene.focus, None))  # noqa: SLF001 (hovering paints over the base pixmap)
    canvas.grab()
    assert canvas._base.devicePixelRatio() == 2.0  # noqa: SLF001
    canvas._set_hover(None)  # noqa: SLF001
    canvas._static = canvas._base = canvas._geometry = None  # noqa: SLF001 — everything painted afresh
    fresh = _pixels(canvas.grab().toImage())[inner].astype(int)
    assert (np.abs(layered - fresh).max(-1) > 40).mean() < 0.002


# -- what an edit repaints on screen ----------------------------------------------------------------------
def _on_screen(widget) -> np.ndarray:
    return _pixels(on_screen(widget))


def _edit_and_paint(qtbot, controller, widget, value: float) -> list:
    QApplication.processEvents()  # anything pending is painted first
    paints = PaintRecorder(widget)
    _edit_focused_query(controller, value)
    qtbot.waitUntil(lambda: len(paints.rects) > 0)
    QApplication.processEvents()
    widget.removeEventFilter(paints)
    return paints.rects


@pytest.mark.parametrize("height", [480, 300])
def test_a_query_edit_repaints_only_the_band_of_the_focused_lines_and_the_screen_matches_a_whole_paint(
        qtbot, canvas, controller, height):
    canvas.resize(900, height)
    qtbot.waitUntil(lambda: canvas.geometry_of_figure() is not None and canvas.height() == height)
    for value in (40.0, -30.0, 5.0):  # the lines grow and shrink: the old ones must be gone everywhere
        rects = _edit_and_paint(qtbot, controller, canvas, value)
        assert all(r.height() < canvas.height() - 40 and r.width() == canvas.width() for r in rects)  # a band
        shown = _on_screen(canvas)
        whole = _pixels(canvas.grab().toImage())  # every pixel painted again
        assert np.array_equal(shown[..., :3], whole[..., :3]), np.argwhere(np.abs(
            shown[..., :3].astype(int) - whole[..., :3]).max(-1) > 0)[:5]


def test_the_canvas_paints_the_same_pixels_through_its_base_pixmap_as_straight_onto_the_widget(qtbot, canvas,
                                                                                                controller):
    _edit_focused_query(controller)
    direct = _pixels(canvas.grab().toImage())  # no hover: both layers straight onto the widget
    canvas._base_layer()  # noqa: SLF001 (what hovering paints over)
    base = _pixels(canvas._base.toImage())  # noqa: SLF001
    inner = (slice(4, base.shape[0] - 4), slice(4, base.shape[1] - 4), slice(0, 3))  # not the focus frame
    assert np.array_equal(base[inner], direct[inner])


@pytest.mark.parametrize("size", [(560, 460), (384, 223), (500, 300), (420, 190)])
def test_a_query_edit_repaints_only_the_focused_heatmap_row_and_the_screen_matches_a_whole_paint(
        qtbot, heatmap, controller, size):
    canvas = heatmap.canvas
    heatmap.resize(*size)
    qtbot.waitUntil(lambda: canvas.size() == heatmap.viewport().size() and canvas.geometry_of_figure() is not None)
    canvas.grab()
    for value in (40.0, -30.0, 5.0):
        rects = _edit_and_paint(qtbot, controller, canvas, value)
        row = canvas.geometry_of_figure().cell_rect(controller.scene.focus, 0)
        assert rects and all(r.height() <= row.height() + 6 for r in rects)  # the row alone
        shown = _on_screen(canvas)
        whole = _pixels(canvas.grab().toImage())
        assert np.array_equal(shown[..., :3], whole[..., :3]), np.argwhere(np.abs(
            shown[..., :3].astype(int) - whole[..., :3]).max(-1) > 0)[:5]
