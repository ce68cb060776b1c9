"""Model mode: the mode selector's "Real model" swaps the toy lab for a real BERT's workspace and back.

The toy scene never hears of it; the tiny random checkpoint of tests/test_bert.py stands in for a real model.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QComboBox, QDialog

pytest.importorskip("safetensors")
pytest.importorskip("tokenizers")

from tests.test_bert import SENTENCE, write_tiny_bert  # noqa: E402

LOAD_TIMEOUT = 20_000  # ms


def choose(window, mode: str) -> None:
    combo = window.findChild(QComboBox, "modeSelector")
    combo.setCurrentIndex(combo.findData(mode))
    combo.activated.emit(combo.currentIndex())


def layout_of(window, sizes: bool = False) -> dict[str, tuple]:
    """Each dock: (shown, floating) and, with ``sizes``, where it is — what the learner sees of the layout.

    A dock behind another's tab is parked off-screen by QMainWindow; where exactly does not matter.
    """
    def where(dock) -> tuple:
        return (dock.geometry().getRect(),) if sizes and dock.x() >= 0 else ()

    return {name: (not dock.isHidden(), dock.isFloating()) + where(dock) for name, dock in window.docks.items()}


@pytest.fixture
def loaded(window, qtbot, tmp_path):
    """The window in model mode with the tiny checkpoint read and the test sentence run."""
    folder = tmp_path / "tiny-bert"
    write_tiny_bert(folder)
    choose(window, "model")
    panel = window.model_panel
    panel.sentence.setText(SENTENCE)
    panel.load(str(folder))
    qtbot.waitUntil(lambda: panel.base is not None, timeout=LOAD_TIMEOUT)
    return window


def test_the_mode_selector_offers_the_real_model(window):
    combo = window.findChild(QComboBox, "modeSelector")
    assert [combo.itemData(i) for i in range(combo.count())] == ["translation", "self", "model"]
    assert not window.model_mode() and combo.currentData() == "translation"  # the app starts in the toy lab


def test_model_mode_takes_the_centre_and_back_restores_the_toy_layout_and_scene(window, qtbot):
    scene_before = window.controller.scene.to_dict()
    qtbot.wait(50)  # the first sharing out of the dock sizes
    layout_before = layout_of(window, sizes=True)
    steps = window.controller.undo_stack.count()
    choose(window, "model")
    qtbot.waitUntil(window.model_panel.isVisible)
    assert window.model_mode() and not window.canvas.isVisible()
    assert {n for n, (shown, _) in layout_of(window).items() if shown} == {"controlsDock"}
    assert window.findChild(QComboBox, "modeSelector").currentData() == "model"
    assert not window.findChild(QComboBox, "variantSelector").isVisible()  # toy controls step aside
    assert window.model_panel.width() >= 900  # at 1280×800 the model gets most of the width
    assert window.controller.scene.to_dict() == scene_before  # not stored in the toy scene
    assert window.controller.undo_stack.count() == steps
    assert not window.action_reset_vectors.isEnabled()  # toy-only commands pause

    choose(window, "translation")
    qtbot.waitUntil(window.canvas.isVisible)
    assert not window.model_mode() and not window.model_panel.isVisible()
    qtbot.waitUntil(lambda: layout_of(window, sizes=True) == layout_before)
    assert window.findChild(QComboBox, "variantSelector").isVisible()
    assert window.controller.scene.to_dict() == scene_before
    assert window.controller.undo_stack.count() == steps
    assert window.action_reset_vectors.isEnabled()


def test_choosing_self_attention_from_model_mode_switches_the_scene_too(window, qtbot):
    choose(window, "model")
    choose(window, "self")
    assert not window.model_mode()
    assert window.controller.scene.settings.mode == "self"
    window.action_undo.trigger()  # the toy undo stack is Edit → Undo's again
    assert window.controller.scene.settings.mode == "translation"


def test_view_menu_mode_actions_and_shortcuts(window, qtbot):
    model = window.findChild(QAction, "actionMode_model")
    assert model in window.view_menu.actions() and model.shortcut().toString() == "Ctrl+3"
    model.trigger()
    assert window.model_mode() and model.isChecked()
    translation = window.findChild(QAction, "actionMode_translation")
    translation.trigger()
    assert not window.model_mode() and translation.isChecked()


def test_without_a_model_the_workspace_shows_its_picker(window, qtbot):
    choose(window, "model")
    panel = window.model_panel
    assert panel.picker.isVisible() and panel.status.text()  # what to choose, or what to install
    assert window.export_figure() is None
    window.export_image()  # nothing to export: a message, no dialog
    assert "choose a model" in window.status_label.text()


def test_closing_in_model_mode_keeps_the_toy_layout_for_next_time(window, qtbot):
    from attnstudio.gui.main_window import MainWindow
    from tests.conftest import _forget_changes

    layout_before = layout_of(window)
    choose(window, "model")
    _forget_changes(window)
    window.close()
    again = MainWindow(settings=window.settings)  # the next start, with what the first one saved
    qtbot.addWidget(again, before_close_func=_forget_changes)
    again.show()
    qtbot.waitExposed(again)
    assert not again.model_mode()
    assert layout_of(again) == layout_before


def test_copy_image_in_model_mode_copies_the_shown_head(loaded, qtbot):
    from PySide6.QtGui import QGuiApplication

    panel = loaded.model_panel
    panel.views.setCurrentWidget(panel.heatmap)
    QGuiApplication.clipboard().clear()
    loaded.action_copy_image.trigger()
    assert "heatmap" in loaded.status_label.text()
    assert not QGuiApplication.clipboard().image().isNull()


def test_clicking_a_token_in_the_model_views_focuses_it(loaded, qtbot):
    panel = loaded.model_panel
    lines = panel.lines
    qtbot.waitUntil(lambda: lines.geometry_drawn is not None)
    geometry = lines.geometry_drawn
    target = 3 if panel.focus != 3 else 4
    qtbot.mouseClick(lines, Qt.MouseButton.LeftButton, pos=geometry.query_rects[target].center().toPoint())
    assert panel.focus == target
    assert panel.focus_selector.currentIndex() == target
    assert lines.figure.focus == target
    # A key word is the same token (self-attention).
    qtbot.mouseClick(lines, Qt.MouseButton.LeftButton, pos=geometry.key_rects[2].center().toPoint())
    assert panel.focus == 2
    # The arrow keys move it.
    qtbot.keyClick(lines, Qt.Key.Key_Right)
    assert panel.focus == 3
    qtbot.keyClick(lines, Qt.Key.Key_Left)
    qtbot.keyClick(lines, Qt.Key.Key_Left)
    assert panel.focus == 1


def test_clicking_a_heatmap_row_focuses_it_with_special_tokens_hidden(loaded, qtbot):
    panel = loaded.model_panel
    panel.hide_special.setChecked(True)  # figure index 0 is then token 1 (after [CLS])
    panel.views.setCurrentWidget(panel.heatmap)
    heatmap = panel.heatmap
    qtbot.waitUntil(lambda: heatmap.geometry_drawn is not None)
    cell = heatmap.geometry_drawn.cell_rect(4, 0).center()
    qtbot.mouseClick(heatmap, Qt.MouseButton.LeftButton, pos=QPointF(cell.x() + 1, cell.y()).toPoint())
    assert panel.focus == 5
    assert heatmap.figure.focus == 4


def test_edit_undo_in_model_mode_undoes_the_query_drag(loaded):
    panel = loaded.model_panel
    toy_steps = loaded.controller.undo_stack.count()
    before = panel.head_weights().copy()
    panel.drag_query((0.5, -0.5))
    assert not np.array_equal(panel.head_weights(), before)
    loaded.action_undo.trigger()
    np.testing.assert_array_equal(panel.head_weights(), before)
    assert loaded.controller.undo_stack.count() == toy_steps


def _export(window, monkeypatch, path) -> QDialog:
    """File → Export Image… with the dialog's Export pressed for ``path``."""
    from attnstudio.gui import export_dialog

    shown = []

    def accept_at_once(dialog):
        shown.append(dialog)
        assert dialog.export_to(str(path))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(export_dialog.ExportDialog, "exec", accept_at_once)
    window.action_export_image.trigger()
    assert path.exists() and str(path) in window.status_label.text()
    return shown[0]


def test_export_image_in_model_mode_writes_the_shown_head_as_svg(loaded, monkeypatch, tmp_path):
    panel = loaded.model_panel
    panel.select_head(2, 1)
    dialog = _export(loaded, monkeypatch, tmp_path / "head.svg")
    assert dialog.figure.title == f"{panel.model.name}: Self-attention, layer 2, head 1"  # as the CLI titles it
    text = (tmp_path / "head.svg").read_text(encoding="utf-8")
    pieces = [p for p in panel.base.tokens.pieces if p.isalpha() and len(p) > 2]
    assert pieces and all(f">{p}<" in text for p in pieces[:3])
    assert "[CLS]" in text and "layer 2, head 1" in text


def test_export_image_in_model_mode_writes_a_png_with_ink(loaded, monkeypatch, tmp_path):
    _export(loaded, monkeypatch, tmp_path / "head.png")
    image = QImage(str(tmp_path / "head.png"))
    assert not image.isNull() and image.width() > 200
    corner = image.pixelColor(1, 1)
    inked = sum(image.pixelColor(x, y) != corner for x in range(0, image.width(), 7)
                for y in range(0, image.height(), 7))
    assert inked > 50  # words and lines, not an empty page


def test_export_back_in_the_toy_lab_exports_the_toy_scene(loaded, monkeypatch, tmp_path):
    choose(loaded, "translation")
    dialog = _export(loaded, monkeypatch, tmp_path / "toy.svg")
    assert dialog.figure.query_labels == loaded.canvas.figure().query_labels


def test_export_weights_in_model_mode_writes_the_shown_view_as_the_cli_does(loaded, monkeypatch, tmp_path):
    import json

    from attnstudio.gui import export_dialog

    panel = loaded.model_panel
    panel.select_head(1, 2)
    panel.drag_query((0.4, 0.3))  # an edit not yet propagated: the file has what the window shows
    path = tmp_path / "head.json"
    monkeypatch.setattr(export_dialog, "_ask_save_path", lambda *args: (str(path), ".json"))
    loaded.action_export_weights.trigger()
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["format"] == "attnstudio-model-weights"
    assert (document["layer"], document["head"]) == (1, 2)
    assert document["tokens"] == list(panel.base.tokens.pieces)
    np.testing.assert_allclose(document["weights"], panel.shown_weights())


def test_model_mode_during_a_lesson_leaves_it_and_comes_back_to_the_learners_layout(window, qtbot):
    from attnstudio.lessons import shipped_lessons

    lessons = window.lesson_panel  # built on first use: in a short window its height re-splits the left column
    qtbot.wait(50)  # the first sharing out of the dock sizes
    scene_before = window.controller.scene.to_dict()
    layout_before = layout_of(window, sizes=True)
    assert lessons.start_lesson(shipped_lessons()[0])
    assert lessons.active
    window.findChild(QAction, "actionMode_model").trigger()  # the selector may be locked by the lesson
    assert window.model_mode() and not lessons.active
    assert not window.lessons_menu.menuAction().isEnabled()  # no lesson starts over the model
    window.findChild(QAction, "actionMode_translation").trigger()
    assert window.lessons_menu.menuAction().isEnabled()
    qtbot.waitUntil(lambda: layout_of(window, sizes=True) == layout_before)
    assert window.controller.scene.to_dict() == scene_before


def test_a_cancelled_close_leaves_model_mode_as_it_was(window, monkeypatch):
    window.set_model_mode(True)
    monkeypatch.setattr(window, "_confirm_discard", lambda: False)  # the learner answers Cancel
    assert not window.close()
    assert window.model_mode()  # still where the learner was, the workspace not shut down
    monkeypatch.undo()
