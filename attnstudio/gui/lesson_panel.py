"""The lesson player: every lesson with the learner's progress, then one lesson step by step.

Built on the Qt-free :class:`attnstudio.lessons.LessonSession`: the panel starts it on the controller's scene,
mirrors ``session.changed`` (a task turns done the moment an edit meets it), and turns the step's panel set-up
into the window's layout through :class:`LessonStage`. Step set-ups are not undoable, so the undo stack is
cleared whenever a step opens; "Show me" is one undoable macro of controller edits.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QKeyEvent, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from attnstudio.gui.alignment import LANGUAGE_NAMES
from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.lesson_stage import LessonStage, dock_of
from attnstudio.gui.lesson_widgets import LessonList, StepText, make_button, make_label
from attnstudio.gui.widgets import FlowLayout, name_widget
from attnstudio.lessons import (
    Lesson,
    LessonError,
    LessonSession,
    Library,
    Progress,
    SceneEdit,
    SessionError,
    load_library,
    load_lesson,
)
from attnstudio.scene import SceneError

__all__ = ["LessonPanel", "progress_folder"]

LESSON_FILTER = "AttnStudio lessons (*.toml);;All files (*)"
DONE_COLOURS = ("#1a7f37", "#56d364")  # light, dark palette: the "done" green


def progress_folder() -> str:
    """Where the learner's lesson progress is kept (the standard per-user application data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return os.path.join(base, "lessons-progress")


@guard_overrides
class LessonPanel(QWidget):
    """The lesson list (with progress) and the player of the open lesson."""

    active_changed = Signal(bool)  # a lesson started (True) or ended (False)

    def __init__(self, controller: Controller, host: QMainWindow, open_action: QAction, leave_action: QAction,
                 progress: Progress | None = None) -> None:
        """``open_action`` and ``leave_action`` are the window's "Open Lesson…" and "Leave Lesson" (they exist
        before the player is built, in the File and Lessons menus): the player lists them in the Lessons menu and
        enables "Leave Lesson" while a lesson runs."""
        super().__init__(host)
        name_widget(self, "lessonPanel", "Lesson player",
                    "Guided lessons: read a step, do its task, move on. Alt+Left / Alt+Right: back / next.")
        self.controller = controller
        self.host = host
        self.progress = progress or Progress.load(progress_folder())
        self.progress.save_failed.connect(self._on_progress_not_saved)
        self.library = Library()
        self.opened: list[Lesson] = []  # lessons opened from a file, listed after the library
        self.session: LessonSession | None = None
        self.stage = LessonStage(host)
        self._canvas = None
        self.pages = QStackedWidget(self)
        self.list_page = LessonList(self)
        self.list_page.start_requested.connect(self._on_start_requested)
        self.list_page.start_over_requested.connect(self.start_over)
        self.list_page.open_file_requested.connect(self.open_lesson_dialog)
        self.pages.addWidget(self.list_page)
        self.pages.addWidget(self._build_lesson_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)
        self.action_open_lesson = open_action
        self.action_leave_lesson = leave_action
        self._build_shortcuts()
        self.reload_library()
        if self.progress.load_problem:
            controller.message.emit(f"Lesson progress: {self.progress.load_problem}")

    # -- construction -----------------------------------------------------------------------------------
    def _build_lesson_page(self) -> QWidget:
        page = QWidget(self)
        self.list_button = make_button("◂ All lessons", "lessonShowList", "The list of lessons (this lesson "
                                       "stays open until you leave it)", page, self.show_list)
        self.list_button.setFlat(True)
        self.lesson_title = make_label("", "lessonTitle", "Lesson", page)
        self.step_counter = make_label("", "lessonStepCounter", "Step counter", page, wrap=False)
        self.step_title = make_label("", "lessonStepTitle", "Step title", page)
        font = self.step_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.step_title.setFont(font)
        self.text = name_widget(StepText(page), "lessonText", "Step text")
        self.text.setOpenLinks(False)  # links open in the web browser (or not at all), never inside the panel
        self.text.anchorClicked.connect(self._on_link)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        text_font = self.text.font()
        text_font.setPointSizeF(text_font.pointSizeF() * 1.1)
        self.text.setFont(text_font)
        self.text.document().setDocumentMargin(6)
        top = QHBoxLayout()
        top.addWidget(self.list_button)
        top.addStretch(1)
        top.addWidget(self.step_counter)
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(top)
        column.addWidget(self.lesson_title)
        column.addWidget(self.step_title)
        column.addWidget(self.text, 1)
        column.addWidget(self._build_task_box(page))
        column.addLayout(self._build_nav(page))
        return page

    def _build_task_box(self, page: QWidget) -> QFrame:
        box = name_widget(QFrame(page), "lessonTask", "Task")
        box.setFrameShape(QFrame.Shape.StyledPanel)
        box.setBackgroundRole(QPalette.ColorRole.AlternateBase)
        box.setAutoFillBackground(True)
        self.task_box = box
        self.task_prompt = make_label("", "lessonTaskPrompt", "Task", box)
        bold = self.task_prompt.font()
        bold.setBold(True)
        self.task_prompt.setFont(bold)
        self.task_status = make_label("", "lessonTaskStatus", "Task status", box)
        self.task_status.setFont(bold)
        self.task_detail = make_label("", "lessonTaskDetail", "What the check says", box)
        self.guess_box = name_widget(QWidget(box), "lessonGuesses", "Your guess")
        self.guess_layout = FlowLayout(self.guess_box, spacing=4)
        self.hint_label = make_label("", "lessonHint", "Hint", box)
        self.hint_button = make_button("&Hint", "lessonHintButton", "Show a hint for this task", box, self.show_hint)
        self.show_me_button = make_button("Show &me", "lessonShowMe", "Do the task for me (Undo takes it back)",
                                          box, self.show_me)
        self.reset_button = make_button("&Reset step", "lessonResetStep", "Put this step back as it opened",
                                        box, self.reset_step)
        buttons = QHBoxLayout()
        for button in (self.hint_button, self.show_me_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        column = QVBoxLayout(box)
        column.setContentsMargins(8, 6, 8, 6)
        for widget in (self.task_prompt, self.task_status, self.task_detail, self.guess_box, self.hint_label):
            column.addWidget(widget)
        column.addLayout(buttons)
        return box

    def _build_nav(self, page: QWidget) -> QHBoxLayout:
        self.back_button = make_button("◂ &Back", "lessonBack", "The previous step (Alt+Left)", page, self.back)
        self.next_button = make_button("&Next ▸", "lessonNext", "The next step (Alt+Right; Ctrl+Enter when the "
                                       "task is done)", page, self.next)
        self.leave_button = make_button("&Leave lesson", "lessonLeave", "End the lesson and get your own scene "
                                        "back", page, self.leave)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addWidget(self.next_button)
        row.addStretch(1)
        row.addWidget(self.leave_button)
        return row

    def _build_shortcuts(self) -> None:
        for keys, slot in (("Alt+Left", self.back), ("Alt+Right", self.next)):  # while the panel has focus
            shortcut = QShortcut(QKeySequence(keys), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        # Ctrl+Enter works from anywhere in the window during a lesson: the learner's hands are on the task.
        self.check_shortcuts = []
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.host, context=Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.check_or_next)
            shortcut.setEnabled(False)
            self.check_shortcuts.append(shortcut)

    def fill_menu(self, menu: QMenu) -> None:
        """The Lessons menu: every lesson (✓ when finished), then open a file, then leave."""
        menu.clear()
        running = self.session.lesson.id if self.active else None
        for row, lesson in enumerate(self.lessons()):
            mark = " ◂ open" if lesson.id == running else " ✓" if self.progress.is_finished(lesson) else ""
            number = f"&{row + 1} " if row < 9 else ""
            action = menu.addAction(f"{number}{lesson.title}{mark}")
            action.setData(row)
            action.setStatusTip(lesson.summary)
            action.triggered.connect(self._on_menu_lesson)
        menu.addSeparator()
        menu.addAction(self.action_open_lesson)
        menu.addAction(self.action_leave_lesson)

    def _on_menu_lesson(self) -> None:
        action = self.sender()
        if action is not None:
            self.start_lesson(self.lessons()[action.data()])

    # -- the list ---------------------------------------------------------------------------------------
    def lessons(self) -> list[Lesson]:
        return self.library.lessons + self.opened

    def reload_library(self) -> None:
        """Read the shipped and the teacher's lessons again (a broken user file is listed, never raised)."""
        try:
            self.library = load_library()
        except LessonError as exc:  # a broken *shipped* lesson: a packaging error, but say it, do not crash
            self.library = Library(problems=[exc])
        self._fill_list()

    def _fill_list(self, select: str | None = None) -> None:
        self.list_page.fill(self.lessons(), self.library.problems, self.progress,
                            self.session.lesson.id if self.active else None, select)

    def _on_start_requested(self, lesson: Lesson) -> None:
        running = self.active and self.session.lesson.id == lesson.id
        # a finished lesson opens at its first step (its ✓ stays); any other where it was left
        self.start_lesson(lesson, 0 if self.progress.is_finished(lesson) and not running else None)

    def start_over(self, lesson: Lesson) -> None:
        """Forget the learner's progress in ``lesson`` and open its first step."""
        if self.active and self.session.lesson.id == lesson.id:
            self.leave()
        self.progress.reset(lesson.id)
        self.start_lesson(lesson, step=0)

    def show_list(self, select: str | None = None) -> None:
        """The list of lessons; ``select`` a lesson by id (the list keeps its row otherwise)."""
        self._fill_list(select)
        self.pages.setCurrentIndex(0)
        self.list_page.list.setFocus()

    # -- opening a lesson file --------------------------------------------------------------------------
    def open_lesson_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.host, "Open lesson", os.path.expanduser("~"), LESSON_FILTER)
        if path:
            self.open_lesson_file(path)

    def open_lesson_file(self, path: str) -> bool:
        """Read a lesson from anywhere and open it; a broken file gets a message naming it and its problems."""
        try:
            lesson = load_lesson(path, "user")
        except (LessonError, OSError, ValueError) as exc:
            QMessageBox.warning(self.host, "Cannot open lesson",
                                f"The lesson file “{os.path.basename(path)}” cannot be used.\n\n{exc}")
            return False
        self.opened = [known for known in self.opened if known.id != lesson.id] + [lesson]
        return self.start_lesson(lesson)

    # -- running a lesson -------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.session is not None and self.session.active

    def start_lesson(self, lesson: Lesson, step: int | None = None) -> bool:
        """Open ``lesson`` where the learner left it (or at ``step``), leaving any other lesson first."""
        if self.active and self.session.lesson.id == lesson.id and step is None:
            self._show_lesson_page()
            return True
        self.leave()
        self.session = LessonSession(lesson, self.controller.scene, self.progress)
        self.session.changed.connect(self._on_session_changed)
        self.stage.lesson_dock = self._dock()
        self.stage.begin()
        self.controller.begin_separate_history()  # the learner's Undo waits, untouched, for the lesson's end
        try:
            self.session.start(step)
        except BaseException as exc:
            # The session gave the learner's scene back; the window, its layout and Undo come back here.
            self.controller.end_separate_history()
            self.stage.end()
            self.session = None
            if not isinstance(exc, (SceneError, SessionError, ValueError)):
                raise  # a bug: the exception hook reports it, and the next lesson can still start
            QMessageBox.warning(self.host, "Cannot open lesson", f"“{lesson.title}” cannot start:\n\n{exc}")
            return False
        return True

    def resume(self, lesson_id: object, step: object = None) -> bool:
        """Reopen the lesson ``lesson_id`` at ``step`` (as an autosave recorded them before a crash).

        A step that is not a valid index opens where the progress left off; False when no lesson of that id is
        known any more (an opened file is not remembered across sessions) or it cannot start.
        """
        lesson = next((known for known in self.lessons() if known.id == lesson_id), None)
        if lesson is None:
            return False
        valid = isinstance(step, int) and not isinstance(step, bool) and 0 <= step < len(lesson.steps)
        return self.start_lesson(lesson, step if valid else None)

    def leave(self) -> None:
        """End the lesson: the learner's own scene, layout and file commands come back exactly."""
        if self.active:
            self.session.leave()  # announces "active": _finish does the rest

    def _finish(self) -> None:
        self._set_weights_hidden(False)
        self.stage.end()
        # The learner's own Undo/Redo come back, and with their clean state the window's "modified" mark.
        self.controller.end_separate_history()
        self._set_extra(lesson=None, step=None)
        self.action_leave_lesson.setEnabled(False)
        for shortcut in self.check_shortcuts:
            shortcut.setEnabled(False)
        self.show_list()
        self.active_changed.emit(False)

    def _dock(self) -> QDockWidget | None:
        return dock_of(self)

    def _show_lesson_page(self) -> None:
        self.pages.setCurrentIndex(1)
        dock = self._dock()
        if dock is not None:
            dock.show()
            dock.raise_()

    def _on_session_changed(self, what: frozenset) -> None:
        session = self.session
        if session is None:
            return
        if "active" in what and not session.active:
            self._finish()
            return
        if "active" in what:
            self.action_leave_lesson.setEnabled(True)
            for shortcut in self.check_shortcuts:
                shortcut.setEnabled(True)
            self._show_lesson_page()
            self.controller.message.emit(f"Lesson: {session.lesson.title}. “Leave lesson” gives you your own "
                                         "scene back.")
            self.active_changed.emit(True)
        if "step" in what:
            self._show_step()
        if "prediction" in what or "step" in what:
            self._set_weights_hidden(session.weights_hidden)
            self._fill_guesses()
        if what & {"result", "passed", "prediction", "step"}:
            self._show_result()

    # -- one step ---------------------------------------------------------------------------------------
    def _show_step(self) -> None:
        session, step = self.session, self.session.step
        self.controller.undo_stack.clear()  # the set-up is not undoable: Undo must not reach across it
        self.lesson_title.setText(session.lesson.title)
        self.step_counter.setText(f"Step {session.index + 1} of {session.count}")
        self.step_title.setText(step.title)
        self.step_title.setVisible(bool(step.title))
        self.text.set_markdown(step.text)
        task = step.task
        self.task_box.setVisible(task is not None)
        if task is not None:
            self.task_prompt.setText(task.prompt or "Your task")
            self.hint_label.setText(f"Hint: {task.hint}")
            self.hint_label.hide()
            self.hint_button.setEnabled(bool(task.hint))
        self.back_button.setEnabled(not session.is_first)
        self.next_button.setText("&Finish ✓" if session.is_last else "&Next ▸")
        self.stage.apply(session.panels)
        self._set_extra(lesson=session.lesson.id, step=session.index)
        self.text.setFocus()

    def _show_result(self) -> None:
        session = self.session
        task, result = session.step.task, session.result
        if task is None or result is None:
            return
        dark = self.palette().color(self.palette().ColorRole.Window).lightnessF() < 0.5
        guessed_wrong = session.state.reveals_after_prediction and session.state.prediction is not None
        if result.passed:
            self.task_status.setText("✓ Done")
            self.task_status.setStyleSheet(f"color: {DONE_COLOURS[dark]};")
        else:
            waiting = session.weights_hidden
            self.task_status.setText("Your guess:" if waiting
                                     else "✗ Not quite" if guessed_wrong else "○ Not done yet")
            self.task_status.setStyleSheet("")
        self.task_status.setAccessibleDescription(self.task_status.text())
        self.task_detail.setText(result.detail)
        self.show_me_button.setEnabled(not result.passed)
        self.reset_button.setText("&Try again" if guessed_wrong and not result.passed else "&Reset step")
        self.next_button.setDefault(result.passed)

    def _fill_guesses(self) -> None:
        """One button per key word while a guess is awaited (the canvas takes clicks too)."""
        while self.guess_layout.count():
            item = self.guess_layout.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        can_guess = self.session.state.can_predict
        self.guess_box.setVisible(can_guess)
        if not can_guess:
            return
        for j, word in enumerate(w.token.surface for w in self.controller.result().key_words):
            button = name_widget(QPushButton(word, self.guess_box), "lessonGuess", f"Guess “{word}”",
                                 f"“{word}” is the word it will look at most")
            button.setProperty("keyIndex", j)
            button.clicked.connect(self._on_guess_button)
            self.guess_layout.addWidget(button)
            button.show()  # now, not at the next turn of the event loop

    def _on_guess_button(self) -> None:
        button = self.sender()
        if button is not None:
            self.guess(int(button.property("keyIndex")))

    def guess(self, key_index: int) -> None:
        """The learner's prediction (a key word clicked here or in the canvas): once per visit of the step."""
        if self.active and self.session.state.can_predict:
            self.session.predict(key_index)

    def _prompt(self) -> str:
        scene, task = self.controller.scene, self.session.step.task
        surfaces = [w.token.surface for w in scene.tokens(scene.query_side()).words]
        try:
            word = surfaces[task.prediction.query.resolve(surfaces, "the query sentence")]
        except (AttributeError, ValueError, IndexError):
            word = surfaces[min(scene.focus, len(surfaces) - 1)] if surfaces else "this word"
        code = scene.settings.source_language
        language = LANGUAGE_NAMES.get(code, code)
        return f"Make your prediction: click the {language} word you think “{word}” will look at"

    def _set_weights_hidden(self, hidden: bool) -> None:
        canvas = self.canvas()
        if canvas is not None:
            canvas.set_weights_hidden(hidden, self._prompt() if hidden else "")
        self.stage.hide_weights(hidden)

    def canvas(self):
        """The window's alignment canvas, connected once: a click on a key word there is a guess."""
        if self._canvas is None:
            self._canvas = self.host.findChild(QWidget, "alignmentCanvas")
            if self._canvas is not None and hasattr(self._canvas, "key_chosen"):
                self._canvas.key_chosen.connect(self.guess)
        return self._canvas if hasattr(self._canvas, "set_weights_hidden") else None

    # -- the buttons ------------------------------------------------------------------------------------
    def back(self) -> None:
        if self.active:
            self.session.back()

    def next(self) -> None:
        if not self.active:
            return
        if not self.session.next():  # the last step: the lesson is finished
            lesson = self.session.lesson
            self.leave()
            ids = [known.id for known in self.lessons()]
            following = ids[ids.index(lesson.id) + 1:] if lesson.id in ids else []
            self.show_list(select=following[0] if following else lesson.id)  # what comes next, ready to start
            self.controller.message.emit(f"Lesson finished: {lesson.title}")

    def check_or_next(self) -> None:
        """Ctrl+Enter: move on when the task is met (or there is none); otherwise say what is still missing."""
        if not self.active:
            return
        result = self.session.check()
        if result is None or result.passed:
            self.next()
        else:
            self._show_result()
            self.controller.message.emit(f"Not yet: {result.detail.splitlines()[0]}")

    def show_hint(self) -> None:
        self.hint_label.setVisible(True)

    def reset_step(self) -> None:
        if self.active:
            self.session.reset_step()

    def show_me(self) -> None:
        """Do the task for the learner, as one undoable "Show me" step (focus and head are not undoable)."""
        if not self.active:
            return
        stack = self.controller.undo_stack
        try:
            edits = self.session.solution_edits()
        except ValueError as exc:  # EditError: the learner retyped the sentence and a word the lesson needs is gone
            self.controller.message.emit(f"Show me cannot work on this sentence: {exc}. Reset the step to get the "
                                         "lesson's sentence back.")
            return
        undoable = any(edit.kind in ("settings", "overrides") for edit in edits)
        self.controller.end_merge()
        if undoable:
            stack.beginMacro("Show me")
        try:
            self.session.apply_solution(apply_edit=self._apply_edit)
        finally:
            if undoable:
                stack.endMacro()
            self.controller.end_merge()

    def _apply_edit(self, edit: SceneEdit) -> None:
        controller = self.controller
        if edit.kind == "settings":
            controller.set_settings(**edit.value)
        elif edit.kind == "overrides":
            controller.set_components(edit.value, edit.label)
        elif edit.kind == "focus":
            controller.set_focus(edit.value)
        elif edit.kind == "head":
            controller.set_head(edit.value)
        else:
            raise SessionError(f"cannot show an edit of kind {edit.kind!r}")

    # -- keyboard, links, persistence -------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        # PageUp/PageDown reach here only when the focused child did not use them (the text scrolls first).
        if self.active and self.pages.currentIndex() == 1 and event.key() in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            self.back() if event.key() == Qt.Key.Key_PageUp else self.next()
            event.accept()
            return
        super().keyPressEvent(event)

    def _on_link(self, url: QUrl) -> None:
        if url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)

    def _set_extra(self, **extra) -> None:
        autosaver = getattr(self.host, "autosaver", None)
        if autosaver is not None:
            in_lesson = extra.get("lesson") is not None
            autosaver.document_source = self._learner_document if in_lesson else None
            autosaver.set_extra(**extra)

    def _learner_document(self) -> dict | None:
        """What the autosave keeps during a lesson: the learner's own scene, not the lesson's."""
        session = self.session
        return session.learner_scene if session is not None else None

    def _on_progress_not_saved(self, message: str) -> None:
        self.controller.message.emit(f"Your lesson progress could not be saved: {message}")
