"""Widgets of the lesson player: the list of lessons with the learner's progress, and a step's text."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QFontMetricsF, QTextBlockFormat, QTextCharFormat, QTextCursor, QTextFormat
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.widgets import name_widget
from attnstudio.lessons import Lesson, LessonError, Progress

__all__ = ["LessonList", "StepText", "make_button", "make_label", "progress_text"]

TEXT_LINE_HEIGHT = 125  # percent: step text reads more easily with a little air between the lines
MIN_FORMULA_PT = 7.5  # a formula block shrinks to fit the column's width, but not below this
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1  # a broken file's problem, on its list item


def progress_text(progress: Progress, lesson: Lesson) -> str:
    """ "3/5 steps, 2/2 tasks" (tasks only when the lesson has some)."""
    done, steps, passed, tasks = progress.counts(lesson)
    return f"{done}/{steps} steps" + (f", {passed}/{tasks} tasks" if tasks else "")


def make_label(text: str, name: str, accessible: str, parent: QWidget, wrap: bool = True) -> QLabel:
    label = name_widget(QLabel(text, parent), name, accessible)
    label.setWordWrap(wrap)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def make_button(text: str, name: str, tip: str, parent: QWidget, slot) -> QPushButton:
    button = name_widget(QPushButton(text, parent), name, text.replace("&", "").strip(" ◂▸"), tip)
    button.clicked.connect(slot)
    return button


class LessonList(QWidget):
    """Every lesson with "3/5 steps, 2/2 tasks" (✓ when finished), broken lesson files greyed with their problem,
    and the buttons to start one."""

    start_requested = Signal(object)  # the Lesson to open (Start, Continue, Return, Open again, Enter)
    start_over_requested = Signal(object)  # the Lesson to forget and open at its first step
    open_file_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lessons: list[Lesson] = []
        intro = make_label("Short guided walks through attention, on the sentence pair you know. "
                           "Your progress is kept.", "lessonIntro", "About the lessons", self)
        self.list = name_widget(QListWidget(self), "lessonList", "Lessons",
                                "Double-click or press Enter to open a lesson")
        self.list.setWordWrap(True)
        self.list.setUniformItemSizes(False)
        self.list.setSpacing(2)
        self.list.currentRowChanged.connect(self._on_row_changed)
        self.list.itemActivated.connect(self._on_item_activated)
        self.summary = make_label("", "lessonSummary", "What the lesson is about", self)
        self.start_button = make_button("&Start", "lessonStart", "Open the selected lesson where you left it",
                                        self, self._on_start)
        self.start_over_button = make_button("Start &over", "lessonStartOver", "Forget your progress in this "
                                             "lesson and open its first step", self, self._on_start_over)
        self.open_file_button = make_button("Open lesson &file…", "lessonOpenFile", "Open a lesson file (*.toml) "
                                            "from anywhere", self, self.open_file_requested)
        buttons = QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.start_over_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(intro)
        column.addWidget(self.list, 1)
        column.addWidget(self.summary)
        column.addLayout(buttons)
        column.addWidget(self.open_file_button, 0, Qt.AlignmentFlag.AlignLeft)
        self._progress: Progress | None = None
        self._running: str | None = None

    def fill(self, lessons: list[Lesson], problems: list[LessonError], progress: Progress,
             running: str | None = None, select: str | None = None) -> None:
        """Show ``lessons`` then the broken files; keep the selected row unless ``select`` names a lesson id."""
        self._lessons, self._progress, self._running = list(lessons), progress, running
        current = self.list.currentRow()
        self.list.clear()
        for lesson in lessons:
            finished = progress.is_finished(lesson)
            status = "open now" if lesson.id == running else progress_text(progress, lesson)
            item = QListWidgetItem(f"{'✓ ' if finished else ''}{lesson.title}\n    {status}")
            item.setToolTip(lesson.summary)
            item.setData(Qt.ItemDataRole.UserRole, lesson.id)
            item.setData(Qt.ItemDataRole.AccessibleTextRole,
                         f"{lesson.title}, {status}{', finished' if finished else ''}")
            self.list.addItem(item)
        muted = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for problem in problems:
            item = QListWidgetItem(f"⚠ {os.path.basename(problem.file)}\n    cannot be used")
            item.setToolTip(str(problem))
            item.setForeground(muted)
            item.setData(PROBLEM_ROLE, str(problem))
            item.setData(Qt.ItemDataRole.AccessibleTextRole, f"Broken lesson file: {problem}")
            self.list.addItem(item)
        ids = [lesson.id for lesson in lessons]
        if select in ids:
            current = ids.index(select)
        if self.list.count():
            self.list.setCurrentRow(min(max(current, 0), self.list.count() - 1))
        self._on_row_changed(self.list.currentRow())

    def selected(self) -> Lesson | None:
        row = self.list.currentRow()
        return self._lessons[row] if 0 <= row < len(self._lessons) else None

    def _on_row_changed(self, row: int) -> None:
        lesson = self.selected()
        if lesson is None or self._progress is None:
            item = self.list.item(row) if row >= 0 else None
            problem = item.data(PROBLEM_ROLE) if item is not None else None
            self.summary.setText(f"This lesson file cannot be used:\n{problem}" if problem else "")
            self.start_button.setEnabled(False)
            self.start_over_button.setEnabled(False)
            return
        entry = self._progress.lesson(lesson.id)
        begun = bool(entry.current or entry.done)
        self.summary.setText(lesson.summary)
        self.start_button.setText("&Return" if lesson.id == self._running
                                  else "&Open again" if self._progress.is_finished(lesson)
                                  else "&Continue" if begun else "&Start")
        self.start_button.setEnabled(True)
        self.start_over_button.setEnabled(begun)

    def _on_item_activated(self, _item: QListWidgetItem) -> None:
        self._on_start()

    def _on_start(self) -> None:
        if (lesson := self.selected()) is not None:
            self.start_requested.emit(lesson)

    def _on_start_over(self) -> None:
        if (lesson := self.selected()) is not None:
            self.start_over_requested.emit(lesson)


@guard_overrides
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
