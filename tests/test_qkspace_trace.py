"""The query–key space (drag the query, watch the weights) and the computation trace, with a real Controller."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from attnstudio.gui.controller import Controller
from attnstudio.gui.qkspace import QueryKeySpace, best_plane, head_vectors, largest_dims, query_draw_scale
from attnstudio.gui.trace import ComputationPanel, TraceModel, compute_trace, format_number
from tests.screen_probes import PaintRecorder, on_screen

BLACK = 1  # "black" in "The black cat sleeps on the couch"


@pytest.fixture
def controller():
    controller = Controller()
    yield controller
    # Undo commands point back at the controller; left to the garbage collector, that cycle can be torn
    # down in an order that crashes Qt (QUndoStack::clear on deleted commands). Break it here.
    controller.undo_stack.clear()


@pytest.fixture
def space(qtbot, controller, monkeypatch) -> QueryKeySpace:
    import pyqtgraph as pg

    # pyqtgraph drops mouse moves closer than 1/mouseRateLimit s apart; synthetic moves come all at once.
    monkeypatch.setitem(pg.CONFIG_OPTIONS, "mouseRateLimit", 0)
    panel = QueryKeySpace(controller)
    qtbot.addWidget(panel)
    panel.resize(700, 560)
    panel.show()
    qtbot.waitExposed(panel)
    panel.fit_view()
    return panel


@pytest.fixture
def trace(qtbot, controller) -> ComputationPanel:
    panel = ComputationPanel(controller)
    qtbot.addWidget(panel)
    panel.resize(1000, 420)
    panel.show()
    qtbot.waitExposed(panel)
    return panel


def _on_screen(panel: QueryKeySpace, x: float, y: float) -> QPoint:
    """Viewport pixel of a point given in the plot's coordinates."""
    scene_point = panel.plot.getViewBox().mapViewToScene(QPointF(x, y))
    return panel.plot.mapFromScene(scene_point)


def _mouse(widget, kind: QEvent.Type, pos: QPoint, button: Qt.MouseButton, buttons: Qt.MouseButton) -> None:
    # Sent as QMouseEvents carrying the held button: QTest.mouseMove does not carry it in every Qt version,
    # and pyqtgraph only drags on moves whose buttons() include the left button.
    local = QPointF(pos)
    event = QMouseEvent(kind, local, QPointF(widget.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def _drag(qtbot, panel: QueryKeySpace, by: tuple[float, float], steps: int = 6) -> None:
    """Press on the query handle, move in several steps, release: real mouse events through pyqtgraph."""
    start = panel.query_point.pos()
    viewport = panel.plot.viewport()
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    _mouse(viewport, QEvent.Type.MouseButtonPress, _on_screen(panel, start.x(), start.y()), left, left)
    for i in range(1, steps + 1):
        point = _on_screen(panel, start.x() + by[0] * i / steps, start.y() + by[1] * i / steps)
        _mouse(viewport, QEvent.Type.MouseMove, point, none, left)
    end = _on_screen(panel, start.x() + by[0], start.y() + by[1])
    _mouse(viewport, QEvent.Type.MouseButtonRelease, end, left, none)


# -- query–key space ----------------------------------------------------------------------------------------
def test_names_and_default_best_plane(space):
    assert space.objectName() == "queryKeySpace"
    assert space.accessibleName() == "Query–key space"
    assert space.view_mode.currentData() == "best"
    assert space.plane is not None and space.plane.dims is None
    assert space.dim_x.objectName() == "qkDimX" and space.dim_y.objectName() == "qkDimY"
    assert space.dim_x.count() == space.controller.scene.d_model  # one head: every dimension is offered


def test_best_plane_shows_true_dot_products(controller):
    result = controller.result()
    queries, keys = head_vectors(result)
    names = controller.scene.model.dimension_names
    plane = best_plane(queries[BLACK], keys, names)
    assert np.allclose(plane.basis.T @ plane.basis, np.eye(2), atol=1e-12)  # orthonormal
    projected = plane.project(queries[BLACK][None, :])[0] @ plane.project(keys).T
    assert np.allclose(projected, keys @ queries[BLACK], rtol=0, atol=1e-9)  # q lies in the plane: exact q·k


def test_best_plane_without_query_falls_back_to_key_spread():
    keys = np.array([[1.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    plane = best_plane(np.zeros(3), keys, ["a", "b", "c"])
    assert np.allclose(np.abs(plane.basis[:, 0]), [0, 1, 0]) and np.allclose(np.abs(plane.basis[:, 1]), [1, 0, 0])
    assert largest_dims(np.array([0.1, -3.0, 2.0])) == (1, 2)
    assert query_draw_scale(np.array([16.0, 0.0]), np.array([[1.0, 0.0]])) == 16.0
    assert query_draw_scale(np.array([1.0, 0.0]), np.array([[1.0, 0.0]])) == 1.0


def test_drag_changes_weights_live_and_is_one_undo_step(qtbot, space, controller):
    before = controller.result().weights[BLACK].copy()
    sizes_before = space.keys.data["size"].copy()
    stack = controller.undo_stack
    assert stack.count() == 0
    changes = []
    controller.scene_changed.connect(changes.append)
    _drag(qtbot, space, by=(-0.9, 1.4))
    after = controller.result().weights[BLACK]
    assert len(changes) >= 5  # the weights followed the mouse, not only the release
    assert not np.allclose(after, before, atol=1e-3)
    assert stack.count() == 1
    assert stack.undoText().startswith("Drag the query of 'black'")
    assert not np.allclose(space.keys.data["size"], sizes_before)  # the key points were resized
    # The handle ends where the mouse let go, and the scene's q is at that point of the plane.
    q_2d = space.plane.project(head_vectors(controller.result())[0][BLACK][None, :])[0] / space.query_scale
    handle = space.query_point.pos()
    assert math.isclose(q_2d[0], handle.x(), abs_tol=1e-9) and math.isclose(q_2d[1], handle.y(), abs_tol=1e-9)

    stack.undo()
    assert np.array_equal(controller.result().weights[BLACK], before)  # exactly, not approximately
    assert controller.scene.overrides == {}
    stack.redo()
    assert np.allclose(controller.result().weights[BLACK], after, rtol=0, atol=0)


def test_two_drags_are_two_undo_steps(qtbot, space, controller):
    _drag(qtbot, space, by=(-0.5, 0.5))
    _drag(qtbot, space, by=(0.3, -0.8))
    assert controller.undo_stack.count() == 2


def test_drag_in_two_dimensions_sets_exactly_those_components(qtbot, space, controller):
    space.view_mode.setCurrentIndex(space.view_mode.findData("dims"))
    space.view_mode.activated.emit(space.view_mode.currentIndex())
    qtbot.waitUntil(lambda: space.plane.dims is not None)
    q = head_vectors(controller.result())[0][BLACK]
    assert set(space.plane.dims) == set(largest_dims(q))
    dim_x, dim_y = space.plane.dims
    _drag(qtbot, space, by=(0.4, -0.3))
    touched = {key[3] for key in controller.scene.overrides}
    assert touched == {dim_x, dim_y}
    handle = space.query_point.pos()
    new_q = head_vectors(controller.result())[0][BLACK]
    assert math.isclose(new_q[dim_x], handle.x() * space.query_scale, rel_tol=1e-12)
    assert math.isclose(new_q[dim_y], handle.y() * space.query_scale, rel_tol=1e-12)


def test_picking_a_dimension_switches_to_named_axes(qtbot, space, controller):
    index = space.dim_x.findText("animal")
    space.view_mode.setCurrentIndex(1)
    space.view_mode.activated.emit(1)
    space.dim_x.setCurrentIndex(index)
    space.dim_x.activated.emit(index)
    assert space.plane.dims[0] == index
    assert space.plot.getAxis("bottom").labelText == "animal"


def test_arrow_keys_nudge_the_query_one_step_each(qtbot, space, controller):
    q0 = head_vectors(controller.result())[0][BLACK].copy()
    here = space.plane.project(q0[None, :])[0]
    space.setFocus()
    qtbot.keyClick(space, Qt.Key.Key_Up)
    q1 = head_vectors(controller.result())[0][BLACK]
    assert np.allclose(space.plane.project(q1[None, :])[0] - here, [0.0, 0.1], atol=1e-12)
    qtbot.keyClick(space.plot, Qt.Key.Key_Left, modifier=Qt.KeyboardModifier.ShiftModifier)
    q2 = head_vectors(controller.result())[0][BLACK]
    assert np.allclose(space.plane.project(q2[None, :])[0] - here, [-1.0, 0.1], atol=1e-12)
    assert controller.undo_stack.count() == 2
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert np.array_equal(head_vectors(controller.result())[0][BLACK], q0)


def test_equal_weighting_ignores_the_query(qtbot, space, controller):
    controller.set_settings(variant="uniform")
    before = controller.result().weights[BLACK].copy()
    _drag(qtbot, space, by=(-0.5, 0.8))
    assert controller.undo_stack.undoText().startswith("Drag the query")  # q moved ...
    assert np.array_equal(controller.result().weights[BLACK], before)  # ... and no weight did
    assert "Equal weighting is on" in space.caption.text()


def test_hover_text_names_score_and_weight(space, controller):
    result = controller.result()
    noir = [w.token.surface for w in result.key_words].index("noir")
    text = space._key_tip(0.0, 0.0, noir)
    assert "noir" in text and "q·k" in text and f"{result.weights[BLACK, noir]:.1%}" in text


def test_other_head_and_empty_sentence(qtbot, space, controller):
    controller.set_settings(num_heads=4)
    controller.set_head(2)
    qtbot.waitUntil(lambda: space.dim_x.count() == 4)  # the view catches up on the next event-loop turn
    assert space.dim_x.count() == 4 and space.dim_x.itemData(0) == 8  # the head's own dimensions
    q, k = head_vectors(controller.result())
    assert q.shape[1] == 4 and space.plane.basis.shape == (4, 2)
    controller.set_sentence("source", "")
    space.flush()
    assert space.stack.currentWidget() is space.empty
    qtbot.keyClick(space, Qt.Key.Key_Up)  # nothing to nudge: no error, no undo step
    assert controller.undo_stack.undoText().startswith("Type")


def test_dark_palette_repaints_the_plot(qtbot, space):
    from PySide6.QtGui import QColor, QPalette

    palette = QPalette(space.palette())
    palette.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    palette.setColor(QPalette.ColorRole.Text, QColor("#e6e6e6"))
    space.setPalette(palette)
    assert space.plot.backgroundBrush().color() == QColor("#1e1e1e")
    assert space._dark()


# -- computation trace ---------------------------------------------------------------------------------------
def test_trace_names(trace):
    assert trace.objectName() == "computationPanel"
    assert trace.accessibleName() == "Computation trace"


def test_trace_weights_equal_the_scene(trace, controller):
    result = controller.result()
    t = trace.trace
    assert t.query == "black"
    assert t.keys == [w.token.surface for w in result.key_words]
    assert np.allclose(t.weights, result.weights[BLACK], rtol=0, atol=1e-12)
    assert np.allclose(t.scores, result.scores[BLACK], rtol=0, atol=1e-12)
    assert np.allclose(t.exps / t.exps.sum(), result.weights[BLACK], rtol=0, atol=1e-12)
    assert np.allclose(t.dots * t.scale / t.temperature, t.scores, rtol=0, atol=1e-12)
    model = trace.trace_model
    assert model.rowCount() == len(result.key_words)
    shown = [float(model.text(r, 6)) for r in range(model.rowCount())]
    assert np.allclose(shown, result.weights[BLACK], rtol=1e-3)
    assert model.headerData(2, Qt.Orientation.Horizontal) == "÷√16"


def test_trace_follows_focus_head_and_temperature(trace, controller):
    controller.set_focus(2)
    assert trace.trace.query == "cat"
    controller.set_settings(num_heads=2, temperature=0.5)
    controller.set_head(1)
    result = controller.result()
    assert trace.trace.d_head == 8 and trace.trace.temperature == 0.5
    assert np.allclose(trace.trace.weights, result.weights[2], rtol=0, atol=1e-12)
    assert trace.trace_model.headerData(2, Qt.Orientation.Horizontal) == "÷√8"


def test_trace_for_every_query_matches_with_hand_edits(controller):
    controller.set_component("source", 2, "k", 5, 3.5)
    controller.set_settings(variant="dot", temperature=2.0)
    result = controller.result()
    for focus in range(len(result.query_words)):
        t = compute_trace(result, focus, "dot", 2.0)
        assert np.allclose(t.weights, result.weights[focus], rtol=0, atol=1e-12)


def test_uniform_variant_gives_every_word_the_same_context(trace, controller):
    controller.set_settings(variant="uniform")
    result = controller.result()
    t = trace.trace
    n = len(result.key_words)
    assert np.allclose(t.weights, 1.0 / n, rtol=0, atol=1e-15)
    assert trace.trace_model.text(0, 1) == "—" and trace.trace_model.text(0, 2) == "—"
    assert float(np.max(np.ptp(result.uniform_output, axis=0))) == 0.0  # every row is the same vector
    assert "same context vector" in trace.bottleneck.text()
    assert "at most 0." in trace.bottleneck.text() or "at most 0 " in trace.bottleneck.text()


def test_bottleneck_sentence_contrasts_average_and_attention(trace, controller):
    result = controller.result()
    assert float(np.max(np.ptp(result.output, axis=0))) > 0.1
    assert "at most 0)" in trace.bottleneck.text()
    assert trace.output_model.rowCount() == controller.scene.d_model
    assert np.array_equal(trace.output_model.attention, result.output[BLACK])
    assert np.array_equal(trace.output_model.average, result.uniform_output[BLACK])
    # One head and W_O = I: the output is literally Σ weight·v.
    assert np.allclose(result.weights[BLACK] @ result.v, result.output[BLACK], atol=1e-12)


def test_causal_mask_shows_masked_keys(trace, controller):
    controller.set_settings(mode="self", causal=True)
    controller.set_focus(3)
    t = trace.trace
    assert list(t.allowed) == [True] * 4 + [False] * (len(t.keys) - 4)
    model = trace.trace_model
    assert model.text(5, 4) == "−∞ (masked)"
    assert model.text(5, 6) == "0"
    assert model.data(model.index(5, 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert np.allclose(t.weights, controller.result().weights[3], rtol=0, atol=1e-12)
    assert "causal mask" in trace.bottleneck.text()


def test_copy_puts_tsv_on_the_clipboard(qtbot, trace):
    trace.table.setFocus()
    trace.table.clearSelection()
    qtbot.keyClick(trace.table, Qt.Key.Key_C, modifier=Qt.KeyboardModifier.ControlModifier)
    lines = QApplication.clipboard().text().splitlines()
    assert lines[0].split("\t") == TraceModel.HEADERS
    assert len(lines) == 1 + len(trace.trace.keys)
    noir = lines[3].split("\t")
    assert noir[0] == "noir" and float(noir[6]) == trace.trace.weights[2]  # full precision
    trace.table.selectRow(2)
    qtbot.keyClick(trace.table, Qt.Key.Key_C, modifier=Qt.KeyboardModifier.ControlModifier)
    assert QApplication.clipboard().text().splitlines()[1].startswith("noir\t")
    qtbot.mouseClick(trace.copy_button, Qt.MouseButton.LeftButton)
    everything = QApplication.clipboard().text()
    assert everything.startswith("query\tblack") and "attention Σ w·v" in everything


def test_empty_sentence_and_no_nan_on_screen(trace, controller):
    controller.set_sentence("target", "")
    assert trace.stack.currentWidget() is trace.empty
    controller.set_sentence("target", "The black cat")
    assert trace.stack.currentIndex() == 0
    assert format_number(float("nan")) == "—" and format_number(-math.inf) == "−∞"
    model = trace.trace_model
    texts = [model.text(r, c) for r in range(model.rowCount()) for c in range(7)]
    assert not any("nan" in t.lower() for t in texts)


def test_a_row_with_no_allowed_key_is_all_zero(controller):
    controller.set_settings(causal=True)  # translation: 7 queries, 7 keys; shrink the source below the target
    controller.set_sentence("source", "Le chat")
    result = controller.result()
    t = compute_trace(result, 0, "scaled", 1.0)
    assert not t.allowed.any()
    assert np.array_equal(t.weights, np.zeros(2)) and np.array_equal(t.exps, np.zeros(2))


def test_512_keys_refresh_quickly(qtbot, trace, controller):
    import time

    controller.set_sentence("source", " ".join(["chat noir"] * 256))
    assert trace.trace_model.rowCount() == 512
    start = time.perf_counter()
    controller.set_component("target", BLACK, "q", 5, 1.0)
    QApplication.processEvents()
    assert time.perf_counter() - start < 1.0
    assert np.allclose(trace.trace.weights, controller.result().weights[BLACK], rtol=0, atol=1e-12)


def test_edits_are_gathered_into_one_refresh_on_the_next_turn(qtbot, space, controller, monkeypatch):
    refreshes = []
    original = space.refresh
    monkeypatch.setattr(space, "refresh", lambda refit=True, steady=False: refreshes.append(refit) or original(refit, steady))
    for value in (1.0, 2.0, 3.0):
        controller.set_component("target", BLACK, "q", 0, value)
    assert refreshes == []  # the four main panels paint first
    qtbot.waitUntil(lambda: refreshes == [True])  # then one refresh for the three edits
    assert space.keys.data["size"].shape == (len(controller.result().key_words),)


def test_a_key_right_after_a_head_change_moves_the_new_heads_query(qtbot, space, controller):
    controller.set_settings(num_heads=4)  # the plane of the old head is stale until the next turn …
    before = head_vectors(controller.result())[0][BLACK].copy()
    QTest.keyClick(space, Qt.Key.Key_Up)  # … so the key brings the view up to date first
    after = head_vectors(controller.result())[0][BLACK]
    assert space.plane.basis.shape[0] == 4 and not np.allclose(before, after)


def test_a_long_sentence_labels_only_its_strongest_keys(qtbot, space, controller):
    from attnstudio.gui.qkspace import MAX_KEY_LABELS

    controller.set_sentence("source", "Le petit chat noir de ma voisine dort tranquillement sur le vieux canapé rouge du salon")
    space.flush()
    shown = [label for label in space.labels if label.isVisible()]
    assert len(shown) == MAX_KEY_LABELS  # 16 keys: the rest are named on hover, not piled on each other
    weights = controller.result().weights[BLACK]
    best = controller.result().key_words[int(np.argmax(weights))].token.surface
    assert any(label.toPlainText().startswith(best) for label in shown)


def test_a_hidden_space_catches_up_when_shown_again(qtbot, space, controller, monkeypatch):
    refreshes = []
    original = space.refresh
    monkeypatch.setattr(space, "refresh", lambda refit=True, steady=False: refreshes.append(refit) or original(refit, steady))
    space.hide()  # a closed dock, or a window being torn down
    controller.set_component("target", BLACK, "q", 0, 2.5)
    qtbot.wait(30)
    assert refreshes == []  # nothing drawn for nobody
    space.show()
    qtbot.waitUntil(lambda: refreshes == [True])  # shown again: one refresh brings it up to date


def test_the_query_label_moves_below_the_handle_when_a_key_sits_just_above(space):
    space.flush()
    space.keys.setData(pos=np.array([[0.5, 0.2], [0.0, -1.5]]))  # a key (and its label) just above-left of q
    assert space._query_label_anchor(1.0, 0.0) == (1.1, -0.1)  # noqa: SLF001 — written below-left instead
    space.keys.setData(pos=np.array([[0.5, -0.2], [0.0, 1.5]]))  # now just below-left
    assert space._query_label_anchor(1.0, 0.0) == (1.1, 1.1)  # noqa: SLF001 — the usual place, above-left


def test_an_edit_keeps_the_view_while_the_points_stay_well_inside_it(qtbot, space, controller):
    view = space.plot.getViewBox()
    scene = controller.scene
    side, focus = scene.query_side(), scene.focus
    dim = int(np.argmax(np.abs(controller.result().k[:, :6]).sum(0)))
    base = float(controller.result().q[focus, dim])
    assert controller.set_component(side, focus, "q", dim, base + 0.5)
    space.flush()
    before = view.viewRect()
    for value in (base + 0.4, base + 0.6, base + 0.45):  # small nudges: the view holds still
        assert controller.set_component(side, focus, "q", dim, value)
        space.flush()
        assert view.viewRect() == before
    for value in (base + 60.0, base - 60.0):  # big steps: whatever the view does, every point stays in it
        assert controller.set_component(side, focus, "q", dim, value)
        space.flush()
        shown, (xs, ys) = view.viewRect(), space.keys.getData()
        assert shown.contains(space.query_point.pos())
        assert all(shown.contains(QPointF(float(x), float(y))) for x, y in zip(xs, ys))
    controller.set_focus((focus + 1) % len(controller.result().query_words))  # another query: fitted exactly
    space.flush()
    fitted = view.viewRect()
    space.fit_view()
    assert view.viewRect() == fitted


def _plot_pixels(image) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = image.convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    return rows[:, :image.width(), :3].copy()


def _plot_on_screen(panel: QueryKeySpace) -> np.ndarray:
    """The plot's pixels as its window shows them (what the partial repaints left there), not painted afresh."""
    return _plot_pixels(on_screen(panel.plot.viewport()))


def test_an_edit_repaints_part_of_the_plot_and_the_screen_matches_a_whole_paint(qtbot, space, controller):
    """The axes draw only what lies in an edit's repaint (their grid spans the plot): the pixels must be those
    of a whole paint — after edits in a still view, a focus change, and self-attention with the causal mask."""
    scene = controller.scene
    viewport = space.plot.viewport()

    def settle() -> None:
        space.flush()
        qtbot.wait(20)
        QApplication.processEvents()

    def edits(values) -> list:
        paints = PaintRecorder(viewport)
        side, focus = scene.query_side(), scene.focus
        dim = int(np.argmax(np.abs(controller.result().k[:, :6]).sum(0)))
        base = float(controller.result().q[focus, dim])
        for value in values:
            assert controller.set_component(side, focus, "q", dim, base + value)
            settle()
            shown, whole = _plot_on_screen(space), _plot_pixels(space.plot.grab().toImage())
            assert np.array_equal(shown, whole), np.argwhere(np.abs(shown.astype(int) - whole).max(-1) > 0)[:5]
        viewport.removeEventFilter(paints)
        return paints.rects

    settle()
    rects = edits((0.5, 0.4, 0.6, 0.45))
    assert rects and any(r.width() < viewport.width() or r.height() < viewport.height() for r in rects)
    controller.set_focus((scene.focus + 2) % len(controller.result().query_words))
    settle()
    assert np.array_equal(_plot_on_screen(space), _plot_pixels(space.plot.grab().toImage()))
    edits((0.3, -0.2))
    controller.set_settings(mode="self", causal=True)
    controller.set_focus(2)
    settle()
    assert np.array_equal(_plot_on_screen(space), _plot_pixels(space.plot.grab().toImage()))
    edits((0.3, -0.2, 1.0))


def test_the_plane_pickers_start_hidden_so_the_first_fill_lays_nothing_out_again(qtbot, controller):
    panel = QueryKeySpace(controller)
    qtbot.addWidget(panel)
    assert panel.dims_row.isHidden() and panel.plane is None  # the default (best) plane has no pickers
    panel.resize(700, 560)
    panel.show()
    qtbot.waitExposed(panel)
    panel.flush()
    assert panel.dims_row.isHidden() and panel.plane is not None and panel.plane.dims is None
