"""The lesson player in the real window: every shipped lesson walked through its buttons, predictions, progress
across a restart, leaving, and broken lesson files."""

from __future__ import annotations

import os

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QDockWidget, QFileDialog, QListWidget, QMessageBox, QPushButton, QWidget

from attnstudio.gui.lesson_panel import progress_folder
from attnstudio.gui.lesson_stage import LOCKED_TIP, VEILED, PanelOverlay
from attnstudio.lessons import shipped_lessons, user_lessons_dir

SHIPPED = [lesson.id for lesson in shipped_lessons()]
BROKEN_LESSON = """format = "attnstudio-lesson"
version = 1
title = "Broken"
summary = "A lesson with a typo."

[[steps]]
text = "Hello"
[steps.task]
prompt = "Do it"
check = { kind = "argmax", query = "black", key = "noire" }
solution = [{ override = { token = "black", stage = "q", dim = "animal", value = 40 } }]
"""


def panel_of(window):
    panel = window.lesson_panel  # built on first use
    assert window.findChild(QWidget, "lessonPanel") is panel
    return panel


def open_from_list(window, qtbot, lesson_id: str):
    """Open a lesson as a learner does: select it in the list, press Start (or Continue)."""
    panel = panel_of(window)
    window.docks["lessonDock"].raise_()
    lessons = panel.findChild(QListWidget, "lessonList")
    row = next(i for i in range(lessons.count()) if lessons.item(i).data(Qt.ItemDataRole.UserRole) == lesson_id)
    lessons.setCurrentRow(row)
    qtbot.mouseClick(panel.findChild(QPushButton, "lessonStart"), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.active and panel.session.lesson.id == lesson_id)
    return panel


def status(panel) -> str:
    return panel.findChild(QWidget, "lessonTaskStatus").text()


def press(qtbot, panel, name: str) -> None:
    button = panel.findChild(QPushButton, name)
    assert button.isVisible() and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def click_key_in_canvas(qtbot, window, key_index: int) -> None:
    canvas = window.canvas
    canvas.repaint()
    box = canvas.geometry_of_figure().key_rects[key_index]
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=box.center().toPoint())


def test_the_player_is_built_on_first_use_and_the_menus_work_before(window, qtbot):
    assert window.findChild(QWidget, "lessonPanel") is None  # behind the sentences' tab: not built at start
    menu = window.lessons_menu
    assert [a.objectName() for a in menu.actions()] == ["actionOpenLesson", "actionLeaveLesson"]
    assert not window.findChild(QAction, "actionLeaveLesson").isEnabled()
    window.leave_lesson()  # (model mode and closing do this) leaving a lesson never opened builds nothing
    assert window.findChild(QWidget, "lessonPanel") is None
    menu.aboutToShow.emit()  # opening the menu lists the lessons
    assert window.findChild(QWidget, "lessonPanel") is window.lesson_panel
    titles = [a.text() for a in menu.actions()]
    assert titles[0] == f"&1 {shipped_lessons()[0].title}" and len(titles) == len(SHIPPED) + 3
    menu.actions()[0].trigger()
    assert window.lesson_panel.active and window.findChild(QAction, "actionLeaveLesson").isEnabled()
    window.findChild(QAction, "actionLeaveLesson").trigger()
    assert not window.lesson_panel.active


def test_panel_has_names_a_dock_and_menu_entries(window):
    panel = panel_of(window)
    assert panel.accessibleName() == "Lesson player"
    assert panel.parent() is window.findChild(QDockWidget, "lessonDock").widget()  # the holder built it
    for name in ("actionOpenLesson", "actionLeaveLesson"):
        assert window.findChild(QAction, name) is not None
    assert window.lesson_panel.action_open_lesson in window.file_menu.actions()
    lessons_menu = window.findChild(QWidget, "menuLessons")
    panel.fill_menu(lessons_menu)
    titles = [a.text() for a in lessons_menu.actions()]
    assert titles[: len(SHIPPED)] == [f"&{i + 1} {lesson.title}" for i, lesson in enumerate(shipped_lessons())]
    for name in ("lessonList", "lessonText", "lessonBack", "lessonNext", "lessonShowMe", "lessonHintButton",
                 "lessonResetStep", "lessonLeave", "lessonStepCounter", "lessonTaskStatus"):
        assert panel.findChild(QWidget, name).accessibleName(), name


def test_the_list_shows_progress_per_lesson(window, qtbot):
    panel = panel_of(window)
    lessons = panel.findChild(QListWidget, "lessonList")
    assert lessons.count() == len(SHIPPED)
    assert "0/4 steps, 0/1 tasks" in lessons.item(0).text()
    assert "0/4 steps, 0/2 tasks" in lessons.item(1).text()


@pytest.mark.parametrize("lesson_id", SHIPPED)
def test_every_shipped_lesson_walks_through_with_show_me(window, qtbot, lesson_id):
    learner_scene = window.controller.scene.to_dict()
    panel = open_from_list(window, qtbot, lesson_id)
    session, stack = panel.session, window.controller.undo_stack
    assert session.index == 0
    counter = panel.findChild(QWidget, "lessonStepCounter")
    while True:
        assert counter.text() == f"Step {session.index + 1} of {session.count}"
        assert stack.count() == 0, "a step opens with an empty undo stack"
        if session.step.task is not None:
            assert not session.result.passed and not status(panel).startswith("✓")
            press(qtbot, panel, "lessonShowMe")
            qtbot.waitUntil(lambda: status(panel) == "✓ Done")
            assert session.result.passed
            undoable = [e for e in session.solution_edits() if e.kind in ("settings", "overrides")]
            if undoable:  # one undo step, named for what it was
                assert stack.count() == 1 and stack.text(0) == "Show me"
        last = session.is_last
        press(qtbot, panel, "lessonNext")
        if last:
            break
    qtbot.waitUntil(lambda: not panel.active)
    lesson = next(lesson for lesson in shipped_lessons() if lesson.id == lesson_id)
    assert panel.progress.is_finished(lesson)
    lessons = panel.findChild(QListWidget, "lessonList")
    assert lessons.item(SHIPPED.index(lesson_id)).text().startswith("✓ ")
    following = min(SHIPPED.index(lesson_id) + 1, len(SHIPPED) - 1)
    assert lessons.currentRow() == following, "the next lesson is ready to start"
    assert window.controller.scene.to_dict() == learner_scene


def test_a_task_turns_done_the_moment_the_edit_meets_it(window, qtbot):
    panel = open_from_list(window, qtbot, "equal-weighting")
    panel.session.go_to(2)  # "switch the variant to scaled"
    assert status(panel) == "○ Not done yet"
    hint = panel.findChild(QWidget, "lessonHint")
    assert not hint.isVisible()
    press(qtbot, panel, "lessonHintButton")
    assert hint.isVisible() and "scaled" in hint.text()
    variant = window.findChild(QWidget, "variantSelector")
    scaled = variant.findData("scaled")
    variant.setCurrentIndex(scaled)  # the learner chooses "scaled" in the controls
    variant.activated.emit(scaled)
    assert status(panel) == "✓ Done"  # no waiting: the session re-checks on every scene change
    assert window.controller.undo_stack.count() == 1
    window.controller.undo_stack.undo()
    assert status(panel) == "○ Not done yet"


def test_a_prediction_hides_the_weights_until_a_key_is_clicked(window, qtbot):
    panel = open_from_list(window, qtbot, "spotlight")
    panel.session.go_to(1)  # "where will black look?"
    canvas = window.canvas
    assert canvas.weights_hidden()
    canvas.repaint()
    assert len(canvas.geometry_of_figure().pairs) == 0, "no line may be drawn before the guess"
    assert "black" in canvas._prompt and "French" in canvas._prompt
    veiled = {veil.target.objectName() for veil in panel.stage.veils() if veil.isVisible()}
    shown = {name for name in VEILED if window.findChild(QWidget, name).isVisible()}
    assert shown and shown <= veiled
    guesses = [b for b in panel.findChildren(QPushButton, "lessonGuess") if b.isVisible()]
    assert [b.text() for b in guesses] == ["Le", "chat", "noir", "dort", "sur", "le", "canapé"]

    click_key_in_canvas(qtbot, window, 2)  # "noir"
    qtbot.waitUntil(lambda: not canvas.weights_hidden())
    assert status(panel) == "✓ Done"
    assert not [v for v in panel.stage.veils() if v.isVisible()]
    canvas.repaint()
    assert len(canvas.geometry_of_figure().pairs) > 0


def test_a_wrong_guess_reveals_the_weights_and_try_again_hides_them(window, qtbot):
    panel = open_from_list(window, qtbot, "spotlight")
    panel.session.go_to(2)  # "cat": the tempting wrong answer is "noir"
    guesses = {b.text(): b for b in panel.findChildren(QPushButton, "lessonGuess") if b.isVisible()}
    qtbot.mouseClick(guesses["noir"], Qt.MouseButton.LeftButton)
    assert not window.canvas.weights_hidden()
    assert status(panel) == "✗ Not quite"
    retry = panel.findChild(QPushButton, "lessonResetStep")
    assert retry.text().replace("&", "") == "Try again"
    qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    assert window.canvas.weights_hidden()
    click_key_in_canvas(qtbot, window, 1)  # "chat"
    assert status(panel) == "✓ Done"


def test_steps_show_highlight_and_lock_panels(window, qtbot):
    panel = open_from_list(window, qtbot, "equal-weighting")
    panel.session.go_to(1)  # shows four panels, highlights the heatmap, locks the sentences
    assert not window.docks["inspectorDock"].isVisible()
    assert not window.docks["queryKeyDock"].isVisible()
    assert window.docks["heatmapDock"].isVisible()
    overlays = window.findChildren(PanelOverlay)
    accents = [o for o in overlays if o.kind == "accent" and o.isVisibleTo(o.target)]
    assert [o.target for o in accents] == [window.docks["heatmapDock"]]
    sentences = window.findChild(QWidget, "sentencePanel")
    assert not sentences.isEnabled()
    lock = next(o for o in overlays if o.kind == "lock" and o.target is sentences)
    assert lock.toolTip() == LOCKED_TIP
    assert lock.geometry() == sentences.rect()
    # the canvas keeps a useful share of a 1280-pixel window
    qtbot.waitUntil(lambda: window.canvas.width() >= 450)

    press(qtbot, panel, "lessonLeave")
    assert sentences.isEnabled()
    assert window.docks["inspectorDock"].isVisible() and window.docks["queryKeyDock"].isVisible()
    assert not [o for o in window.findChildren(PanelOverlay) if o.isVisible()]


def test_undo_never_reaches_across_a_step(window, qtbot):
    panel = open_from_list(window, qtbot, "queries-keys-values")
    panel.session.go_to(1)  # "bend the query"
    controller = window.controller
    assert controller.set_component("target", 1, "q", 1, 40.0)
    assert controller.undo_stack.count() == 1
    assert status(panel) == "✓ Done"
    press(qtbot, panel, "lessonNext")
    assert controller.undo_stack.count() == 0
    assert not window.action_undo.isEnabled()


def test_show_me_is_one_undoable_step(window, qtbot):
    panel = open_from_list(window, qtbot, "queries-keys-values")
    panel.session.go_to(3)  # raise the quality of the query of "black"
    press(qtbot, panel, "lessonShowMe")
    assert status(panel) == "✓ Done"
    assert window.action_undo.text() == "&Undo Show me"
    window.action_undo.trigger()
    assert status(panel) == "○ Not done yet"
    assert window.controller.scene.overrides == {}


def test_keyboard_moves_between_steps(window, qtbot):
    panel = open_from_list(window, qtbot, "equal-weighting")
    window.activateWindow()
    text = panel.findChild(QWidget, "lessonText")
    text.setFocus()
    qtbot.waitUntil(text.hasFocus)
    qtbot.keyClick(text, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert panel.session.index == 1
    qtbot.keyClick(text, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert panel.session.index == 2
    qtbot.keyClick(text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.session.index == 2, "Ctrl+Enter does not skip a task that is not met"
    qtbot.keyClick(text, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert panel.session.index == 1
    qtbot.keyClick(text, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert panel.session.index == 2, "Ctrl+Enter goes on after a step without a task"
    press(qtbot, panel, "lessonShowMe")
    canvas = window.canvas  # Ctrl+Enter works from anywhere in the window, not only the panel
    canvas.setFocus()
    qtbot.waitUntil(canvas.hasFocus)
    qtbot.keyClick(canvas, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    assert panel.session.index == 3


def test_progress_and_position_survive_a_restart(window, qtbot):
    panel = open_from_list(window, qtbot, "scaling-temperature")
    press(qtbot, panel, "lessonNext")
    press(qtbot, panel, "lessonNext")
    assert panel.session.index == 2
    assert window.autosaver.extra == {"lesson": "scaling-temperature", "step": 2}
    assert os.path.isfile(os.path.join(progress_folder(), "progress.json"))
    window.close()

    from attnstudio.gui.main_window import MainWindow

    settings = QSettings(os.path.join(str(qtbot_tmp(window)), "again.ini"), QSettings.Format.IniFormat)
    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    lessons = again.lesson_panel.findChild(QListWidget, "lessonList")
    row = SHIPPED.index("scaling-temperature")
    assert "1/5 steps, 0/3 tasks" in lessons.item(row).text()  # step 2's task was not met
    resumed = open_from_list(again, qtbot, "scaling-temperature")
    assert resumed.session.index == 2
    assert resumed.findChild(QWidget, "lessonStepCounter").text() == "Step 3 of 5"
    resumed.leave()
    again.controller.undo_stack.setClean()
    again.autosaver.discard()


def qtbot_tmp(window) -> str:
    return os.path.dirname(window.settings.fileName())


def test_leaving_gives_back_the_learners_own_scene_exactly(window, qtbot):
    controller = window.controller
    controller.set_sentence("target", "The black cat sleeps")
    controller.set_settings(variant="dot", temperature=0.7)
    controller.set_component("target", 1, "q", 5, 3.25)
    controller.set_focus(2)
    mine = controller.scene.to_dict()
    panel = open_from_list(window, qtbot, "queries-keys-values")
    assert controller.scene.to_dict() != mine
    press(qtbot, panel, "lessonNext")
    press(qtbot, panel, "lessonShowMe")
    press(qtbot, panel, "lessonLeave")
    assert controller.scene.to_dict() == mine
    assert window.is_modified(), "the learner's unsaved edits are still unsaved"
    assert window.findChild(QAction, "actionSave").isEnabled()
    assert window.autosaver.extra == {"lesson": None, "step": None}


def test_a_lesson_keeps_the_learners_undo_history_aside_and_gives_it_back(window, qtbot):
    controller = window.controller
    controller.set_sentence("target", "The black cat sleeps")
    controller.end_merge()
    controller.set_component("target", 1, "q", 5, 3.25)
    controller.end_merge()
    controller.set_component("target", 1, "q", 5, -1.5)
    edited = controller.scene.to_dict()
    mine = controller.undo_stack
    assert mine.count() == 3
    controller.undo_stack.undo()
    before_last = controller.scene.to_dict()
    controller.undo_stack.redo()
    window.undo_view  # the history list is built: it must follow the switch too

    panel = open_from_list(window, qtbot, "queries-keys-values")
    assert controller.undo_stack is not mine and controller.undo_stack.count() == 0
    assert window.undo_group.activeStack() is controller.undo_stack
    assert not window.action_undo.isEnabled(), "Undo must not reach the learner's edits from inside the lesson"
    press(qtbot, panel, "lessonNext")
    press(qtbot, panel, "lessonShowMe")
    assert window.action_undo.text() == "&Undo Show me"
    assert mine.count() == 3 and mine.index() == 3, "the learner's history is kept untouched"
    assert window.undo_view.emptyLabel() == "Start of this lesson step"

    press(qtbot, panel, "lessonLeave")
    assert controller.undo_stack is mine and window.undo_group.activeStack() is mine
    assert window.undo_view.stack() in (mine, None)
    assert controller.scene.to_dict() == edited
    assert window.is_modified()
    assert window.action_undo.isEnabled()
    window.action_undo.trigger()  # the learner's last edit, undone in the learner's scene
    assert controller.scene.to_dict() == before_last
    window.action_redo.trigger()
    assert controller.scene.to_dict() == edited
    while mine.canUndo():
        mine.undo()
    assert not window.is_modified(), "undone back to where the learner began: clean, as before the lesson"


def test_a_lesson_that_fails_to_start_with_a_bug_leaves_everything_as_it_was(window, qtbot, monkeypatch):
    from attnstudio.lessons import LessonSession

    controller = window.controller
    controller.set_component("target", 1, "q", 5, 3.25)
    mine, history = controller.scene.to_dict(), controller.undo_stack
    panel = window.lesson_panel

    def broken(self, step=None):
        raise KeyError("a bug in a step")

    with monkeypatch.context() as patch:
        patch.setattr(LessonSession, "start", broken)
        with pytest.raises(KeyError):
            panel.start_lesson(shipped_lessons()[0])
    assert not panel.active and not controller.separate_history
    assert controller.undo_stack is history and window.undo_group.activeStack() is history
    assert controller.scene.to_dict() == mine and window.action_undo.isEnabled()
    assert panel.start_lesson(shipped_lessons()[0]), "the next lesson still starts"
    panel.leave()
    assert controller.undo_stack is history


def test_file_commands_that_would_overwrite_the_learners_scene_pause_during_a_lesson(window, qtbot):
    names = ("actionNew", "actionOpen", "actionSave", "actionSaveAs")
    open_from_list(window, qtbot, "spotlight")
    assert not any(window.findChild(QAction, name).isEnabled() for name in names)
    window.lesson_panel.leave()
    assert all(window.findChild(QAction, name).isEnabled() for name in names)


def test_choosing_another_lesson_leaves_the_first(window, qtbot):
    mine = window.controller.scene.to_dict()
    panel = open_from_list(window, qtbot, "self-attention")
    assert window.controller.scene.settings.mode == "self"
    press(qtbot, panel, "lessonShowList")
    panel = open_from_list(window, qtbot, "spotlight")
    assert window.controller.scene.settings.mode == "translation"
    panel.leave()
    assert window.controller.scene.to_dict() == mine


def test_a_broken_lesson_file_opened_from_the_menu_names_the_file(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "typo-lesson.toml"
    path.write_text(BROKEN_LESSON, encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    window.findChild(QAction, "actionOpenLesson").trigger()
    assert len(shown) == 1
    assert "typo-lesson.toml" in shown[0] and "noire" in shown[0]
    assert not window.lesson_panel.active


def test_a_good_lesson_file_opens_from_anywhere(window, qtbot, tmp_path, monkeypatch):
    path = tmp_path / "mine.toml"
    path.write_text(BROKEN_LESSON.replace('"noire"', '"chat"'), encoding="utf-8")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]))
    window.findChild(QAction, "actionOpenLesson").trigger()
    panel = window.lesson_panel
    assert not shown
    assert panel.active and panel.session.lesson.title == "Broken"


def test_a_broken_user_lesson_is_listed_greyed_with_its_problem(window, qtbot):
    folder = user_lessons_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "typo-lesson.toml").write_text(BROKEN_LESSON, encoding="utf-8")
    panel = panel_of(window)
    panel.reload_library()
    lessons = panel.findChild(QListWidget, "lessonList")
    item = lessons.item(lessons.count() - 1)
    assert "typo-lesson.toml" in item.text()
    assert "noire" in item.toolTip()
    assert item.foreground().color() == panel.palette().color(panel.palette().ColorRole.PlaceholderText)
    lessons.setCurrentRow(lessons.count() - 1)
    assert not panel.findChild(QPushButton, "lessonStart").isEnabled()
    assert "noire" in panel.findChild(QWidget, "lessonSummary").text()


def test_closing_during_a_lesson_keeps_the_layout_of_the_learner(window, qtbot):
    open_from_list(window, qtbot, "equal-weighting")
    assert not window.docks["inspectorDock"].isVisible()
    window.controller.undo_stack.setClean()
    window.close()
    assert not window.lesson_panel.active
    assert window.docks["inspectorDock"].isVisibleTo(window)


def test_the_lock_overlay_says_why_on_hover(window, qtbot):
    open_from_list(window, qtbot, "queries-keys-values")
    window.lesson_panel.session.go_to(3)  # the controls are locked
    controls = window.findChild(QWidget, "controlsPanel")
    assert not controls.isEnabled()
    lock = next(o for o in window.findChildren(PanelOverlay) if o.kind == "lock" and o.target is controls)
    assert lock.isVisible() and lock.childAt(QPoint(5, 5)) is None
    # the highlighted panel (the inspector, where the task is done) is raised above the trace it is tabbed with
    from PySide6.QtWidgets import QTabBar

    def raised_tab() -> str:
        bar = next(b for b in window.findChildren(QTabBar) if b.isVisible()
                   and "Computation trace" in [b.tabText(i) for i in range(b.count())])
        return bar.tabText(bar.currentIndex())

    qtbot.waitUntil(lambda: raised_tab() == "Vector inspector")


def test_no_stray_tab_strip_is_left_by_lessons(window, qtbot):
    from PySide6.QtWidgets import QTabBar

    def strips():
        bars = [b for b in window.findChildren(QTabBar) if b.isVisible() and b.count()]
        return sorted(tuple(b.tabText(i) for i in range(b.count())) for b in bars)

    before = strips()
    panel = open_from_list(window, qtbot, "equal-weighting")  # hides the inspector and query–key groups
    qtbot.waitUntil(lambda: strips() == [("Sentences", "Lessons")])
    panel.leave()
    qtbot.waitUntil(lambda: strips() == before)


def test_a_finished_lesson_opens_again_at_its_first_step(window, qtbot):
    panel = open_from_list(window, qtbot, "equal-weighting")
    press(qtbot, panel, "lessonNext")
    press(qtbot, panel, "lessonNext")
    press(qtbot, panel, "lessonShowMe")
    press(qtbot, panel, "lessonNext")
    press(qtbot, panel, "lessonNext")  # "Finish"
    assert not panel.active
    lessons = panel.findChild(QListWidget, "lessonList")
    lessons.setCurrentRow(0)
    assert panel.findChild(QPushButton, "lessonStart").text().replace("&", "") == "Open again"
    panel = open_from_list(window, qtbot, "equal-weighting")
    assert panel.session.index == 0


def test_autosave_during_a_lesson_keeps_the_learners_own_work(window, qtbot):
    import json

    controller = window.controller
    controller.set_component("target", 1, "q", 5, 2.75)
    mine = controller.scene.to_dict()
    open_from_list(window, qtbot, "queries-keys-values")
    assert controller.scene.to_dict() != mine
    assert window.autosaver.save_now()
    with open(window.autosaver.path, encoding="utf-8") as fh:
        saved = json.load(fh)
    meta = saved.pop("autosave")
    assert saved == mine, "a crash mid-lesson must give back the learner's scene, not the lesson's"
    assert meta["extra"]["lesson"] == "queries-keys-values"
    press(qtbot, panel_of(window), "lessonLeave")
    assert window.autosaver.document_source is None
