"""The real window, driven through the object names a user (and a screen reader) sees."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDockWidget, QLineEdit, QWidget

from attnstudio.gui import MainWindow

NAMES = ["sourceSentenceEdit", "targetSentenceEdit", "modeSelector", "vectorInspector", "alignmentCanvas",
         "heatmapView", "queryKeySpace", "computationPanel", "temperatureControl", "variantSelector",
         "headSelector", "causalMaskToggle", "positionsToggle"]
ACTIONS = ["actionUndo", "actionRedo", "actionOpen", "actionSave", "actionSaveAs", "actionExportImage",
           "actionResetVectors"]


def find(window, cls, name):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def test_window_has_every_named_widget_and_action(window, qtbot):
    window.docks["traceDock"].raise_()  # the trace is built the first time its tab is shown
    qtbot.waitUntil(lambda: window.findChild(QWidget, "computationPanel") is not None)
    for name in NAMES:
        widget = find(window, QWidget, name)
        assert widget.accessibleName(), f"{name} has no accessible name"
    from PySide6.QtGui import QAction

    for name in ACTIONS:
        find(window, QAction, name)
    assert isinstance(window, MainWindow)


def test_the_trace_behind_its_tab_is_built_when_first_shown(window, qtbot):
    assert window.findChild(QWidget, "computationPanel") is None  # not built at start: nobody sees it yet
    window.docks["traceDock"].raise_()
    qtbot.waitUntil(lambda: window.findChild(QWidget, "computationPanel") is not None)
    trace = window.findChild(QWidget, "computationPanel")
    assert trace is window.trace and trace.isVisible()
    assert trace.accessibleName() == "Computation trace"
    assert trace.trace.query == "black"  # the scene's state as it is now, not as it was at start
    window.controller.set_focus(0)
    assert trace.trace.query == window.controller.result().query_words[0].token.surface


def test_seed_pair_loaded_with_black_focused(window):
    c = window.controller
    r = c.result()
    assert [w.token.surface for w in r.key_words] == ["Le", "chat", "noir", "dort", "sur", "le", "canapé"]
    assert r.query_words[c.scene.focus].token.surface == "black"
    assert find(window, QLineEdit, "sourceSentenceEdit").text() == "Le chat noir dort sur le canapé"


def test_typing_a_sentence_updates_tokens_and_matrix(window, qtbot):
    edit = find(window, QLineEdit, "targetSentenceEdit")
    edit.clear()
    qtbot.keyClicks(edit, "The cat sleeps")
    r = window.controller.result()
    assert [w.token.surface for w in r.query_words] == ["The", "cat", "sleeps"]
    assert r.weights.shape == (3, 7)
    chips = window.findChild(QWidget, "targetTokens")
    assert len(chips.chips()) == 3
    # a burst of typing is one undo step (plus the clear, which is another edit)
    assert window.controller.undo_stack.count() <= 2


def test_unknown_words_are_flagged(window, qtbot):
    edit = find(window, QLineEdit, "sourceSentenceEdit")
    edit.selectAll()
    qtbot.keyClicks(edit, "Le chat zorglub")
    chips = window.findChild(QWidget, "sourceTokens").chips()
    assert chips[2].property("kind") == "unknown"
    assert "zorglub" in window.findChild(QWidget, "sentenceStatus").text()


def test_mode_switch_hides_target(window, qtbot):
    mode = find(window, QComboBox, "modeSelector")
    target = find(window, QLineEdit, "targetSentenceEdit")
    mode.setCurrentIndex(mode.findData("self"))
    mode.activated.emit(mode.currentIndex())
    assert window.controller.scene.settings.mode == "self"
    assert not target.isVisible()
    assert window.controller.result().weights.shape == (7, 7)
    window.controller.undo_stack.undo()
    assert target.isVisible()


def test_variant_heads_mask_controls(window):
    variant = find(window, QComboBox, "variantSelector")
    variant.setCurrentIndex(variant.findData("uniform"))
    variant.activated.emit(variant.currentIndex())
    np.testing.assert_allclose(window.controller.result().weights, 1 / 7)
    heads = find(window, QComboBox, "headCountSelector")
    heads.setCurrentIndex(heads.findData(4))
    heads.activated.emit(heads.currentIndex())
    assert window.controller.result().head_weights.shape[0] == 4
    head = find(window, QComboBox, "headSelector")
    assert head.count() == 4 and head.isEnabled()
    causal = find(window, QCheckBox, "causalMaskToggle")
    mode = find(window, QComboBox, "modeSelector")
    mode.setCurrentIndex(mode.findData("self"))
    mode.activated.emit(mode.currentIndex())
    causal.click()
    w = window.controller.result().weights
    assert np.allclose(np.triu(w, 1), 0)


def test_undo_redo_shortcuts(window, qtbot):
    c = window.controller
    before = c.result().weights.copy()
    c.set_component("target", 1, "q", 1, 9.0)
    window.activateWindow()
    window.action_undo.trigger()
    np.testing.assert_array_equal(c.result().weights, before)
    window.action_redo.trigger()
    assert c.scene.override("target", 1, "q", 1) == 9.0
    assert window.action_undo.shortcut().toString() == "Ctrl+Z"


def test_docks_fit_at_1280x800(window, qtbot):
    window.resize(1280, 800)
    qtbot.wait(50)
    window.docks["traceDock"].raise_()  # built on first show: it must fit once it is there
    qtbot.waitUntil(lambda: window.findChild(QWidget, "computationPanel") is not None)
    qtbot.wait(50)
    for dock in window.findChildren(QDockWidget):
        # a tab behind another is parked off-screen at whatever size: only what is on screen must fit
        if dock.isVisible() and not dock.isFloating() and not dock.visibleRegion().isEmpty():
            assert dock.width() > 150 and dock.height() > 80, dock.objectName()
    assert not window.docks["traceDock"].visibleRegion().isEmpty()
    canvas = find(window, QWidget, "alignmentCanvas")
    assert canvas.width() >= 400 and canvas.height() >= 200


def test_save_open_round_trip_through_window(window, tmp_path):
    c = window.controller
    c.set_component("target", 1, "q", 1, 2.5)
    path = tmp_path / "mine.attn.json"
    assert c.save_scene(str(path))
    assert "mine.attn.json" in window.windowTitle()
    c.new_scene()
    assert c.scene.overrides == {}
    assert window.open_scene(str(path))
    assert c.scene.override("target", 1, "q", 1) == 2.5
    assert window.recent_files()[0].endswith("mine.attn.json")


def test_bad_file_shows_message_and_keeps_scene(window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    path = tmp_path / "bad.attn.json"
    path.write_text("{ not json", encoding="utf-8")
    before = window.controller.scene.to_dict()
    assert not window.open_scene(str(path))
    assert shown and "bad.attn.json" in shown[0]
    assert window.controller.scene.to_dict() == before


def test_every_control_is_reachable_by_keyboard(window):
    for name in ("sourceSentenceEdit", "targetSentenceEdit", "modeSelector", "variantSelector",
                 "causalMaskToggle", "positionsToggle", "alignmentCanvas"):
        widget = find(window, QWidget, name)
        assert widget.focusPolicy() & Qt.FocusPolicy.TabFocus, name


def test_undo_history_follows_the_stack_only_while_its_tab_is_shown(window, qtbot):
    assert window.findChild(QWidget, "undoHistory") is None  # behind its tab: built on first show or use
    controller, view = window.controller, window.undo_view
    side, focus = controller.scene.query_side(), controller.scene.focus
    for value in (0.5, -0.5, 1.5):
        assert controller.set_component(side, focus, "q", 0, value)
    assert view.stack() is None  # behind the query–key tab: each edit would lay its rows out for nothing
    window.docks["undoDock"].raise_()
    qtbot.waitUntil(lambda: view.stack() is controller.undo_stack)
    assert view.model().rowCount() == controller.undo_stack.count() + 1  # + the "Start (seed example)" row
    view.setCurrentIndex(view.model().index(1, 0))  # clicking a line goes back to that point
    assert controller.undo_stack.index() == 1
    window.docks["queryKeyDock"].raise_()
    qtbot.waitUntil(lambda: view.stack() is None)
