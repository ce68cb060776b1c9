"""The lesson player: every lesson with the learner's progress, then one lesson step by step.

Built on the Qt-free :class:`attnstudio.lessons.LessonSession`: the panel starts it on the controller's scene,
mirrors ``session.changed`` (a task turns done the moment an edit meets it), and turns the step's panel set-up
into the window's layout through :class:`LessonStage`. Step set-ups are not undoable, so the undo stack is
cleared whenever a step opens; "Show me" is one undoable macro of controller edits.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QStandardPaths, Qt, QUrl, Signal
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QFontDatabase,
    QFontMetricsF,
    QKeyEvent,
    QKeySequence,
    QPalette,
    QShortcut,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from attnstudio.gui.alignment import LANGUAGE_NAMES
from attnstudio.gui.controller import Controller
from attnstudio.gui.lesson_stage import LessonStage
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
TEXT_LINE_HEIGHT = 125  # percent: step text reads more easily with a little air between the lines
MIN_FORMULA_PT = 7.5  # a formula block shrinks to fit the column's width, but not below this
DONE_COLOURS = ("#1a7f37", "#56d364")  # light, dark palette: the "done" green


def progress_folder() -> str:
    """Where the learner's lesson progress is kept (the standard per-user application data folder)."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return os.path.join(base, "lessons-progress")


def progress_text(progress: Progress, lesson: Lesson) -> str:
    """ "3/5 steps, 2/2 tasks" (tasks only when the lesson has some)."""
    done, steps, passed, tasks = progress.counts(lesson)
    return f"{done}/{steps} steps" + (f", {passed}/{tasks} tasks" if tasks else "")


class StepText(QTextBrowser):
    """A step's Markdown: a little air between lines; formula blocks (indented code) shrunk to fit the column
    on unbroken lines, so that aligned columns stay aligned (a block too wide even then wraps, never hides)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._formula_pt = 0.0

    def set_markdown(self, text: str) -> None:
        self.setMarkdown(text)
        cursor = QTextCursor(self.document())
        cursor.select(QTextCursor.SelectionType.Document)
        spacing = QTextBlockFormat()
        spacing.setLineHeight(TEXT_LINE_HEIGHT, QTextBlockFormat.LineHeightTypes.ProportionalHeight.value)
        cursor.mergeBlockFormat(spacing)
        self._formula_pt = 0.0
        self.fit_formulas()
        self.verticalScrollBar().setValue(0)

    def formula_blocks(self) -> list:
        blocks, block = [], self.document().begin()
        while block.isValid():
            if block.blockFormat().hasProperty(QTextFormat.Property.BlockCodeLanguage):
                blocks.append(block)
            block = block.next()
        return blocks

    def fit_formulas(self) -> None:
        blocks = self.formula_blocks()
        if not blocks:
            return
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        base = self.font().pointSizeF()
        mono.setPointSizeF(base)
        widest = max(QFontMetricsF(mono).horizontalAdvance(block.text()) for block in blocks)
        room = self.viewport().width() - 2 * self.document().documentMargin() - 8
        size = max(MIN_FORMULA_PT, min(base, base * room / max(widest, 1.0)))
        if abs(size - self._formula_pt) < 0.05:
            return
        self._formula_pt = size
        char = QTextCharFormat()
        char.setFontFamilies([mono.family()])
        char.setFontPointSize(size)
        lines = QTextBlockFormat()
        lines.setNonBreakableLines(widest * size / base <= room)
        for block in blocks:
            cursor = QTextCursor(block)  # this block only: its text for the font, the block for the wrapping
            cursor.mergeBlockFormat(lines)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            cursor.mergeCharFormat(char)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.fit_formulas()


def _label(text: str, name: str, accessible: str, parent: QWidget, wrap: bool = True) -> QLabel:
    label = name_widget(QLabel(text, parent), name, accessible)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _button(text: str, name: str, tip: str, parent: QWidget, slot) -> QPushButton:
    button = name_widget(QPushButton(text, parent), name, text.replace("&", "").strip(" ◂▸"), tip)
    button.clicked.connect(slot)
    return button


class LessonPanel(QWidget):
    """The lesson list (with progress) and the player of the open lesson."""

    active_changed = Signal(bool)  # a lesson started (True) or ended (False)

    def __init__(self, controller: Controller, host: QMainWindow, progress: Progress | None = None) -> None:
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
        self._learner_modified = False
        self._canvas = None
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self._build_list_page())
        self.pages.addWidget(self._build_lesson_page())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)
        self._build_actions()
        self._build_shortcuts()
        self.reload_library()
        if self.progress.load_problem:
            controller.message.emit(f"Lesson progress: {self.progress.load_problem}")

    # -- construction -----------------------------------------------------------------------------------
    def _build_list_page(self) -> QWidget:
        page = QWidget(self)
        intro = _label("Short guided walks through attention, on the sentence pair you know. "
                       "Your progress is kept.", "lessonIntro", "About the lessons", page)
        self.lesson_list = name_widget(QListWidget(page), "lessonList", "Lessons",
                                       "Double-click or press Enter to open a lesson")
        self.lesson_list.setWordWrap(True)
        self.lesson_list.setUniformItemSizes(False)
        self.lesson_list.setSpacing(2)
        self.lesson_list.currentRowChanged.connect(self._on_lesson_selected)
        self.lesson_list.itemActivated.connect(self._on_item_activated)
        self.lesson_summary = _label("", "lessonSummary", "What the lesson is about", page)
        self.start_button = _button("&Start", "lessonStart", "Open the selected lesson where you left it", page,
                                    self._start_selected)
        self.start_over_button = _button("Start &over", "lessonStartOver", "Forget your progress in this lesson "
                                         "and open its first step", page, self._start_over_selected)
        self.open_file_button = _button("Open lesson &file…", "lessonOpenFile", "Open a lesson file (*.toml) "
                                        "from anywhere", page, self.open_lesson_dialog)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.start_over_button)
        buttons.addStretch(1)
        column = QVBoxLayout(page)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(intro)
        column.addWidget(self.lesson_list, 1)
        column.addWidget(self.lesson_summary)
        column.addLayout(buttons)
        column.addWidget(self.open_file_button, 0, Qt.AlignmentFlag.AlignLeft)
        return page

    def _build_lesson_page(self) -> QWidget:
        page = QWidget(self)
        self.list_button = _button("◂ All lessons", "lessonShowList", "The list of lessons (this lesson stays "
                                   "open until you leave it)", page, self.show_list)
        self.list_button.setFlat(True)
        self.lesson_title = _label("", "lessonTitle", "Lesson", page)
        self.step_counter = _label("", "lessonStepCounter", "Step counter", page, wrap=False)
        self.step_title = _label("", "lessonStepTitle", "Step title", page)
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
        self.task_prompt = _label("", "lessonTaskPrompt", "Task", box)
        bold = self.task_prompt.font()
        bold.setBold(True)
        self.task_prompt.setFont(bold)
        self.task_status = _label("", "lessonTaskStatus", "Task status", box)
        self.task_status.setFont(bold)
        self.task_detail = _label("", "lessonTaskDetail", "What the check says", box)
        self.guess_box = name_widget(QWidget(box), "lessonGuesses", "Your guess")
        self.guess_layout = FlowLayout(self.guess_box, spacing=4)
        self.hint_label = _label("", "lessonHint", "Hint", box)
        self.hint_button = _button("&Hint", "lessonHintButton", "Show a hint for this task", box, self.show_hint)
        self.show_me_button = _button("Show &me", "lessonShowMe", "Do the task for me (Undo takes it back)",
                                      box, self.show_me)
        self.reset_button = _button("&Reset step", "lessonResetStep", "Put this step back as it opened",
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
        self.back_button = _button("◂ &Back", "lessonBack", "The previous step (Alt+Left)", page, self.back)
        self.next_button = _button("&Next ▸", "lessonNext", "The next step (Alt+Right; Ctrl+Enter when the task "
                                   "is done)", page, self.next)
        self.leave_button = _button("&Leave lesson", "lessonLeave", "End the lesson and get your own scene back",
                                    page, self.leave)
        row = QHBoxLayout()
        row.addWidget(self.back_button)
        row.addWidget(self.next_button)
        row.addStretch(1)
        row.addWidget(self.leave_button)
        return row

    def _build_actions(self) -> None:
        self.action_open_lesson = QAction("Open &Lesson…", self.host)
        self.action_open_lesson.setObjectName("actionOpenLesson")
        self.action_open_lesson.setStatusTip("Open a lesson file (*.toml) from anywhere")
        self.action_open_lesson.triggered.connect(self.open_lesson_dialog)
        self.action_leave_lesson = QAction("&Leave Lesson", self.host)
        self.action_leave_lesson.setObjectName("actionLeaveLesson")
        self.action_leave_lesson.setStatusTip("End the lesson and get your own scene back")
        self.action_leave_lesson.triggered.connect(self.leave)
        self.action_leave_lesson.setEnabled(False)

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

    def attach_menu(self, menu: QMenu) -> None:
        menu.aboutToShow.connect(self._refill_menu)
        self._menu = menu
        self.fill_menu(menu)

    def _refill_menu(self) -> None:
        self.fill_menu(self._menu)

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

    def _fill_list(self) -> None:
        current = self.lesson_list.currentRow()
        self.lesson_list.clear()
        running = self.session.lesson.id if self.session is not None and self.session.active else None
        for lesson in self.lessons():
            finished = self.progress.is_finished(lesson)
            status = "running" if lesson.id == running else progress_text(self.progress, lesson)
            item = QListWidgetItem(f"{'✓ ' if finished else ''}{lesson.title}\n    {status}")
            item.setToolTip(lesson.summary)
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"{lesson.title}, {status}{', finished' if finished else ''}")
            self.lesson_list.addItem(item)
        muted = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for problem in self.library.problems:
            item = QListWidgetItem(f"⚠ {os.path.basename(problem.file)}\n    cannot be used")
            item.setToolTip(str(problem))
            item.setForeground(muted)
            item.setData(Qt.ItemDataRole.UserRole + 1, str(problem))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Broken lesson file: {problem}")
            self.lesson_list.addItem(item)
        if self.lesson_list.count():
            self.lesson_list.setCurrentRow(min(max(current, 0), self.lesson_list.count() - 1))
        self._on_lesson_selected(self.lesson_list.currentRow())

    def _selected(self) -> Lesson | None:
        row = self.lesson_list.currentRow()
        return self.lessons()[row] if 0 <= row < len(self.lessons()) else None

    def _on_lesson_selected(self, row: int) -> None:
        lesson = self._selected()
        item = self.lesson_list.item(row) if row >= 0 else None
        problem = item.data(Qt.ItemDataRole.UserRole + 1) if item is not None else None
        if lesson is None:
            self.lesson_summary.setText(f"This lesson file cannot be used:\n{problem}" if problem else "")
            self.start_button.setEnabled(False)
            self.start_over_button.setEnabled(False)
            return
        entry = self.progress.lesson(lesson.id)
        self.lesson_summary.setText(lesson.summary)
        running = self.session is not None and self.session.active and self.session.lesson.id == lesson.id
        finished = self.progress.is_finished(lesson)
        self.start_button.setText("&Return" if running else "&Open again" if finished
                                  else "&Continue" if entry.current or entry.done else "&Start")
        self.start_button.setEnabled(True)
        self.start_over_button.setEnabled(bool(entry.current or entry.done))

    def _on_item_activated(self, _item: QListWidgetItem) -> None:
        self._start_selected()

    def _start_selected(self) -> None:
        lesson = self._selected()
        if lesson is not None:
            running = self.active and self.session.lesson.id == lesson.id
            # a finished lesson opens at its first step (its ✓ stays); any other where it was left
            self.start_lesson(lesson, 0 if self.progress.is_finished(lesson) and not running else None)

    def _start_over_selected(self) -> None:
        lesson = self._selected()
        if lesson is not None:
            if self.session is not None and self.session.active and self.session.lesson.id == lesson.id:
                self.leave()
            self.progress.reset(lesson.id)
            self.start_lesson(lesson, step=0)

    def show_list(self, select: str | None = None) -> None:
        """The list of lessons; ``select`` a lesson by id (the list keeps its row otherwise)."""
        self._fill_list()
        ids = [lesson.id for lesson in self.lessons()]
        if select in ids:
            self.lesson_list.setCurrentRow(ids.index(select))
        self.pages.setCurrentIndex(0)
        self.lesson_list.setFocus()

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
        stack = self.controller.undo_stack
        self._learner_modified = self.host.isWindowModified() or not stack.isClean()
        self.session = LessonSession(lesson, self.controller.scene, self.progress)
        self.session.changed.connect(self._on_session_changed)
        self.stage.lesson_dock = self._dock()
        self.stage.begin()
        try:
            self.session.start(step)
        except (SceneError, SessionError, ValueError) as exc:
            self.stage.end()
            self.session = None
            QMessageBox.warning(self.host, "Cannot open lesson", f"“{lesson.title}” cannot start:\n\n{exc}")
            return False
        return True

    def leave(self) -> None:
        """End the lesson: the learner's own scene, layout and file commands come back exactly."""
        if self.active:
            self.session.leave()  # announces "active": _finish does the rest

    def _finish(self) -> None:
        self._set_weights_hidden(False)
        self.stage.end()
        stack = self.controller.undo_stack
        stack.clear()
        if self._learner_modified:
            stack.resetClean()  # their edits before the lesson are still unsaved
            self.host.setWindowModified(True)
        self._set_extra(lesson=None, step=None)
        self.action_leave_lesson.setEnabled(False)
        for shortcut in self.check_shortcuts:
            shortcut.setEnabled(False)
        self.show_list()
        self.active_changed.emit(False)

    def _dock(self):
        parent = self.parentWidget()
        while parent is not None and parent is not self.host and not parent.inherits("QDockWidget"):
            parent = parent.parentWidget()
        return parent if parent is not None and parent.inherits("QDockWidget") else None

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
            self.task_status.setText("Your guess:" if waiting else "✗ Not quite" if guessed_wrong else "○ Not done yet")
            self.task_status.setStyleSheet("")
        self.task_status.setAccessibleDescription(self.task_status.text())
        self.task_detail.setText(result.detail)
        self.task_detail.setVisible(not session.weights_hidden)  # the prompt already says how to guess
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
        undoable = any(edit.kind in ("settings", "overrides") for edit in self.session.solution_edits())
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
            autosaver.set_extra(**extra)

    def _on_progress_not_saved(self, message: str) -> None:
        self.controller.message.emit(f"Your lesson progress could not be saved: {message}")
