"""The vector inspector, driven through qtbot with a real controller and scene behind it."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QAbstractItemView, QLineEdit

from attnstudio.gui.controller import Controller
from attnstudio.gui.inspector import VectorInspector, format_component

BLACK = 1  # "black" in "The black cat sleeps on the couch"
NOIR = 2  # "noir" in "Le chat noir dort sur le canapé"


@pytest.fixture
def controller() -> Controller:
    return Controller()


@pytest.fixture
def inspector(qtbot, controller) -> VectorInspector:
    widget = VectorInspector(controller)
    qtbot.addWidget(widget)
    widget.resize(1280, 400)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def cell(inspector: VectorInspector, stage: str, dim: int):
    return inspector.table_model.index(inspector.snapshot().stages.index(stage), dim)


def type_into(qtbot, inspector: VectorInspector, stage: str, dim: int, text: str) -> None:
    """Open the cell's editor, type like a learner, press Enter."""
    index = cell(inspector, stage, dim)
    inspector.table.setCurrentIndex(index)
    inspector.table.edit(index)
    editor = inspector.table.indexWidget(index)
    assert isinstance(editor, QLineEdit), "the cell did not open an editor"
    editor.selectAll()
    qtbot.keyClicks(editor, text) if text else editor.clear()
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # Qt commits the editor's text through a queued call: wait until the cell is closed again
    qtbot.waitUntil(lambda: inspector.table.state() != QAbstractItemView.State.EditingState)


def snapshot_arrays(controller: Controller) -> dict[str, np.ndarray]:
    r = controller.result()
    return {"q": r.q.copy(), "k": r.k.copy(), "v": r.v.copy(), "weights": r.weights.copy(), "output": r.output.copy()}


def test_names_and_default_token(inspector, controller):
    assert inspector.objectName() == "vectorInspector"
    assert inspector.accessibleName() == "Vector inspector"
    assert inspector.picker.currentText() == "black (query, English)"
    labels = [inspector.picker.itemText(i) for i in range(inspector.picker.count())]
    assert "noir (key/value, French)" in labels
    assert len(labels) == 7 + 7
    snap = inspector.snapshot()
    assert (snap.side, snap.index) == ("target", BLACK)
    assert snap.stages == ("embedding", "position", "input", "q")
    names = controller.scene.model.dimension_names
    assert inspector.table_model.columnCount() == len(names) == 16
    header_tip = inspector.table_model.headerData(1, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert controller.scene.model.lexicon.dimensions[1].description in header_tip
    np.testing.assert_array_equal(snap.values["q"], controller.result().q[BLACK])
    qv = controller.result().query_vectors
    np.testing.assert_array_equal(snap.values["input"], qv.embedding[BLACK] + qv.position[BLACK])


def test_read_only_rows_are_not_editable(inspector):
    for stage in ("embedding", "position", "input"):
        assert not inspector.table_model.flags(cell(inspector, stage, 0)) & Qt.ItemFlag.ItemIsEditable
    assert inspector.table_model.flags(cell(inspector, "q", 0)) & Qt.ItemFlag.ItemIsEditable


def test_typing_a_q_component_changes_weights_and_undo_restores_exactly(qtbot, inspector, controller):
    before = snapshot_arrays(controller)
    type_into(qtbot, inspector, "q", 1, "7.5")
    after = controller.result()
    assert after.q[BLACK, 1] == 7.5
    assert not np.array_equal(after.weights, before["weights"])
    assert controller.undo_stack.count() == 1
    assert cell(inspector, "q", 1).data() == "7.500"
    controller.undo_stack.undo()
    for name, array in snapshot_arrays(controller).items():
        assert np.array_equal(array, before[name]), name
    assert controller.scene.overrides == {}


@pytest.mark.parametrize("text", ["nan", "inf", "1e308", "abc", ""])
def test_bad_values_are_refused_with_a_message(qtbot, inspector, controller, text):
    before = snapshot_arrays(controller)
    shown = cell(inspector, "q", 1).data()
    with qtbot.waitSignal(controller.message):
        type_into(qtbot, inspector, "q", 1, text)
    assert inspector.message.text().startswith("⚠")
    assert controller.undo_stack.count() == 0
    for name, array in snapshot_arrays(controller).items():
        assert np.array_equal(array, before[name]), name
    assert cell(inspector, "q", 1).data() == shown


def test_decimal_comma_is_accepted(qtbot, inspector, controller):
    type_into(qtbot, inspector, "q", 0, "1,5")
    assert controller.result().q[BLACK, 0] == 1.5
    assert controller.scene.override("target", BLACK, "q", 0) == 1.5
    assert inspector.message.text() == ""


def test_opening_and_leaving_a_cell_is_not_an_edit(qtbot, inspector, controller):
    index = cell(inspector, "q", 2)
    inspector.table.edit(index)
    editor = inspector.table.indexWidget(index)
    assert editor.objectName() == "componentEditor"
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: inspector.table.state() != QAbstractItemView.State.EditingState)
    assert controller.undo_stack.count() == 0


def test_a_drag_is_one_undo_step(qtbot, inspector, controller):
    bars = inspector.bars
    start = bars.bar_point("q", 1)
    before = float(controller.result().q[BLACK, 1])
    qtbot.mousePress(bars, Qt.MouseButton.LeftButton, pos=start)
    for dy in (5, 10, 20, 30):
        qtbot.mouseMove(bars, start - QPoint(0, dy))
    qtbot.mouseRelease(bars, Qt.MouseButton.LeftButton, pos=start - QPoint(0, 30))
    after = float(controller.result().q[BLACK, 1])
    assert after > before
    assert controller.scene.override("target", BLACK, "q", 1) == after
    assert controller.undo_stack.count() == 1
    controller.undo_stack.undo()
    assert float(controller.result().q[BLACK, 1]) == before
    # the next drag is a new undo step, not folded into the first
    qtbot.mousePress(bars, Qt.MouseButton.LeftButton, pos=start)
    qtbot.mouseMove(bars, start + QPoint(0, 15))
    qtbot.mouseRelease(bars, Qt.MouseButton.LeftButton, pos=start + QPoint(0, 15))
    assert controller.undo_stack.count() == 1 and controller.undo_stack.index() == 1


def test_keyboard_nudges_and_delete_resets(qtbot, inspector, controller):
    inspector.table.setFocus()
    inspector.table.setCurrentIndex(cell(inspector, "q", 3))
    before = float(controller.result().q[BLACK, 3])
    qtbot.keyClick(inspector.table, Qt.Key.Key_Up)
    assert controller.result().q[BLACK, 3] == pytest.approx(before + 0.1)
    qtbot.keyClick(inspector.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert controller.result().q[BLACK, 3] == pytest.approx(before + 0.1 - 1.0)
    qtbot.keyClick(inspector.table, Qt.Key.Key_Delete)
    assert controller.scene.override("target", BLACK, "q", 3) is None
    assert controller.result().q[BLACK, 3] == before
    qtbot.keyClick(inspector.table, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)  # Ctrl: just move
    assert inspector.table.currentIndex() == cell(inspector, "input", 3)
    assert controller.scene.overrides == {}
    # the bars answer the same keys for the component selected there
    inspector.bars.setFocus()
    inspector.bars.set_current("q", 5)
    qtbot.keyClick(inspector.bars, Qt.Key.Key_Up)
    assert controller.scene.override("target", BLACK, "q", 5) is not None
    qtbot.keyClick(inspector.bars, Qt.Key.Key_Backspace)
    assert controller.scene.override("target", BLACK, "q", 5) is None


def test_edited_components_are_marked_and_reset(qtbot, inspector, controller):
    controller.set_component("target", BLACK, "q", 4, 2.0)
    index = cell(inspector, "q", 4)
    assert index.data(Qt.ItemDataRole.FontRole).bold()
    assert index.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "the model computes" in index.data(Qt.ItemDataRole.ToolTipRole)
    assert cell(inspector, "q", 5).data(Qt.ItemDataRole.BackgroundRole) is None
    assert inspector.reset_button.isEnabled()
    menu = inspector.context_menu("q", 4)
    reset_one = next(a for a in menu.actions() if a.text() == "Reset this component")
    assert reset_one.isEnabled()
    reset_one.trigger()
    assert controller.scene.overrides == {}
    assert cell(inspector, "q", 4).data(Qt.ItemDataRole.BackgroundRole) is None
    assert cell(inspector, "q", 4).data(Qt.ItemDataRole.FontRole) is None
    assert not inspector.reset_button.isEnabled()


def test_reset_token_is_one_undo_step(qtbot, inspector, controller):
    for dim in (0, 2, 9):
        controller.set_component("target", BLACK, "q", dim, 1.25)
    controller.set_component("target", 0, "q", 0, 3.0)  # another token's edit survives
    count = controller.undo_stack.count()
    qtbot.mouseClick(inspector.reset_button, Qt.MouseButton.LeftButton)
    assert list(controller.scene.overrides) == [("target", 0, "q", 0)]
    assert controller.undo_stack.count() == count + 1
    assert not inspector.snapshot().edited["q"].any()


def test_key_token_and_mode_switch_update_roles(qtbot, inspector, controller):
    inspector.choose("source", NOIR)
    assert inspector.snapshot().stages == ("embedding", "position", "input", "k", "v")
    assert "key" in inspector.role_text() and "no query" in inspector.role_text()
    type_into(qtbot, inspector, "k", 5, "0.25")
    assert controller.scene.override("source", NOIR, "k", 5) == 0.25
    assert controller.result().k[NOIR, 5] == 0.25

    controller.set_settings(mode="self")
    snap = inspector.snapshot()
    assert (snap.side, snap.index) == ("source", NOIR)  # the chosen key token is kept
    assert snap.stages == ("embedding", "position", "input", "q", "k", "v")
    assert "self-attention" in inspector.role_text()
    assert inspector.picker.currentText() == "noir (query, key/value, French)"
    assert inspector.picker.count() == 7
    type_into(qtbot, inspector, "q", 0, "2")
    assert controller.scene.override("source", NOIR, "q", 0) == 2.0

    controller.set_settings(mode="translation")
    assert "no query" in inspector.role_text()


def test_english_query_token_falls_back_when_mode_drops_it(inspector, controller):
    controller.set_settings(mode="self")
    snap = inspector.snapshot()
    assert snap.side == "source" and snap.index == controller.scene.focus
    assert "q" in snap.stages and "k" in snap.stages


def test_follows_focus_and_sets_it(inspector, controller):
    controller.set_focus(3)
    assert (inspector.snapshot().side, inspector.snapshot().index) == ("target", 3)
    inspector.choose("target", 5)
    assert controller.scene.focus == 5
    inspector.choose("source", 0)
    controller.set_settings(temperature=2.0)  # re-announces the same focus: the key token stays
    assert (inspector.snapshot().side, inspector.snapshot().index) == ("source", 0)


def test_copy_selected_cells_as_tab_separated_text(qtbot, inspector, controller):
    table = inspector.table
    table.setFocus()
    selection = table.selectionModel()
    top, bottom = cell(inspector, "embedding", 0), cell(inspector, "position", 2)
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    selection.select(QItemSelection(top, bottom), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.keyClick(table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    text = QGuiApplication.clipboard().text()
    lines = text.split("\n")
    assert len(lines) == 2 and all(len(line.split("\t")) == 3 for line in lines)
    qv = controller.result().query_vectors
    assert lines[0].split("\t")[1] == format_component(qv.embedding[BLACK, 1])


def test_view_updates_record_no_undo_steps(inspector, controller):
    controller.set_focus(2)
    controller.set_settings(positions=False)
    controller.set_sentence("target", "The cat")
    assert [controller.undo_stack.text(i) for i in range(controller.undo_stack.count())] == [
        "Change positions", "Type the target sentence"]


def test_empty_sentence_shows_friendly_state(inspector, controller):
    controller.set_sentence("target", "")
    assert inspector.pages.currentWidget() is not inspector.empty  # the French key tokens remain
    assert inspector.snapshot().side == "source"
    controller.set_sentence("source", "")
    assert inspector.pages.currentWidget() is inspector.empty
    assert inspector.snapshot() is None
    assert "type a sentence" in inspector.empty.text().lower()
    controller.undo_stack.undo()
    assert inspector.snapshot() is not None


def test_long_sentence_edits_do_not_rebuild_the_token_list(inspector, controller):
    long_target = " ".join(["the black cat sleeps"] * 128)  # 512 tokens
    controller.set_sentence("target", long_target)
    assert inspector.picker.count() == 512 + 7
    resets = []
    inspector.tokens.modelReset.connect(lambda: resets.append(1))
    controller.set_focus(400)
    assert inspector.snapshot().index == 400
    controller.set_component("target", 400, "q", 0, 1.0)
    controller.set_settings(temperature=0.5)
    assert resets == []
    assert inspector.snapshot().values["q"][0] == 1.0
    assert "#401" in inspector.picker.currentText()  # repeated words are told apart by position


def test_format_component():
    assert format_component(0.0) == "0"
    assert format_component(0.54772) == "0.548"
    assert format_component(-1e-9) == "0.000"
    assert format_component(-1000.0) == "-1000.0"
