"""The vector inspector's table: a model of one token's stages by named dimension, its q/k/v cell editor, the view."""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRectF, Qt, Signal
from PySide6.QtGui import QFont, QGuiApplication, QKeySequence, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QStyle,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from attnstudio.gui.cell_delegate import CELL_ROLES, Cell, CellDelegate, cell_data, differs
from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.inspector_snapshot import BIG_NUDGE, EDITABLE, NUDGE, TokenSnapshot, _blend, format_component
from attnstudio.gui.widgets import name_widget
from attnstudio.scene import MAX_COMPONENT

ROW_LABELS = {"embedding": "embedding", "position": "+ position", "input": "= input",
              "q": "q  query", "k": "k  key", "v": "v  value"}
ROW_TIPS = {
    "embedding": "What the word means, read from the lexicon (read-only).",
    "position": "Where the word stands: a sinusoidal code in the position dimensions (read-only).",
    "input": "embedding + position: what the projections W_Q, W_K, W_V see (read-only).",
    "q": "Query = input · W_Q: what this word is looking for. Type, drag its bar, or press Up/Down to edit.",
    "k": "Key = input · W_K: what this word offers to be found by. Editable.",
    "v": "Value = input · W_V: what this word passes on when it is looked at. Editable.",
}
EDITED_ROLE = Qt.ItemDataRole.UserRole + 1
_RIGHT = (Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value


def _header_label(name: str) -> str:
    """Two short lines for a dimension name, so a fixed narrow column shows it whole ("identity\\n1")."""
    if len(name) <= 8:
        return name
    if " " in name:
        head, _, tail = name.rpartition(" ")
        return f"{head}\n{tail}"
    return name.replace("/", "/\n", 1)


# -- the table ------------------------------------------------------------------------------------------

def _cells_changed(old: TokenSnapshot, new: TokenSnapshot, stage: str) -> np.ndarray:
    """Per dimension, whether a stage's cell shows something else: its value, or whether it was edited by hand."""
    changed = differs(old.values[stage], new.values[stage])
    if stage in new.edited:
        changed |= differs(old.edited[stage], new.edited[stage])
    return changed


def _row_marked(snap: TokenSnapshot, stage: str) -> bool:
    """Whether a row's header carries the "edited" dot."""
    return stage in snap.edited and bool(snap.edited[stage].any())


@guard_overrides
class VectorTableModel(QAbstractTableModel):
    """Rows = the chosen token's stages, columns = named dimensions. Edits go to ``apply_edit``."""

    def __init__(self, controller: Controller, apply_edit: Callable[[str, int, str], bool], parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.apply_edit = apply_edit
        self.snapshot: TokenSnapshot | None = None
        self.palette = QPalette()
        self.bold = QFont()
        self.bold.setBold(True)

    def set_snapshot(self, snapshot: TokenSnapshot | None) -> bool:
        """Show ``snapshot``; True when the table's shape or its row headers changed (the view must refit)."""
        old = self.snapshot
        if (old is None or snapshot is None or old.stages != snapshot.stages
                or old.values[old.stages[0]].shape != snapshot.values[snapshot.stages[0]].shape):  # other columns
            self.beginResetModel()
            self.snapshot = snapshot
            self.endResetModel()
            return True
        else:
            # Announce only the rows that changed (an edit of q changes the q row alone): the view repaints
            # just those cells, and a header announced without cause makes the table paint a second time.
            self.snapshot = snapshot
            for row, stage in enumerate(snapshot.stages):  # per row, the span of cells that show another number
                dims = np.flatnonzero(_cells_changed(old, snapshot, stage))
                if len(dims):
                    self.dataChanged.emit(self.index(row, int(dims[0])), self.index(row, int(dims[-1])))
            marked = [row for row, stage in enumerate(snapshot.stages)
                      if _row_marked(old, stage) != _row_marked(snapshot, stage)]
            if marked:
                self.headerDataChanged.emit(Qt.Orientation.Vertical, marked[0], marked[-1])
            return bool(marked)

    def stage(self, row: int) -> str:
        return self.snapshot.stages[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or self.snapshot is None else len(self.snapshot.stages)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.controller.scene.d_model

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsEditable if self.stage(index.row()) in EDITABLE else base

    def edited(self, row: int, dim: int) -> bool:
        """Whether a cell holds a number typed by hand (not what the model computes)."""
        stage = self.stage(row)
        return stage in EDITABLE and bool(self.snapshot.edited[stage][dim])

    def cell(self, row: int, dim: int) -> Cell:
        """What a cell shows: bold on a tint when edited by hand, greyed when read-only."""
        stage = self.stage(row)
        text = format_component(float(self.snapshot.values[stage][dim]))
        if self.edited(row, dim):
            tint = _blend(self.palette.color(QPalette.ColorRole.Highlight), self.palette.color(QPalette.ColorRole.Base), 0.4)
            return Cell(text, _RIGHT, self.bold, None, tint)
        if stage not in EDITABLE:
            grey = _blend(self.palette.color(QPalette.ColorRole.Text), self.palette.color(QPalette.ColorRole.Base), 0.6)
            return Cell(text, _RIGHT, None, grey)
        return Cell(text, _RIGHT)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.snapshot is None:
            return None
        if role in CELL_ROLES:
            return cell_data(self.cell(index.row(), index.column()), role)
        snap, stage, dim = self.snapshot, self.stage(index.row()), index.column()
        value = float(snap.values[stage][dim])
        edited = self.edited(index.row(), dim)
        R = Qt.ItemDataRole
        if role == R.EditRole:
            return f"{value:.10g}"
        if role == EDITED_ROLE:
            return edited
        if role == R.ToolTipRole:
            name = self.controller.scene.model.dimension_names[dim]
            head = f"{stage}[{name}] of “{snap.surface}” = {value:.6g}"
            if stage not in EDITABLE:
                return f"{head}\nRead-only: computed from the lexicon and the position."
            if edited:
                return (f"{head}\nEdited by hand; the model computes {float(snap.computed[stage][dim]):.6g}.\n"
                        "Right-click → Reset this component, or press Delete.")
            return f"{head}\nType a number, drag its bar, or press Up/Down (Shift: ×10)."
        return None

    def setData(self, index: QModelIndex, value, role: int = Qt.ItemDataRole.EditRole) -> bool:  # noqa: N802
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or self.stage(index.row()) not in EDITABLE:
            return False
        return self.apply_edit(self.stage(index.row()), index.column(), str(value))

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):  # noqa: N802
        R = Qt.ItemDataRole
        if orientation == Qt.Orientation.Horizontal:
            dims = self.controller.scene.model.lexicon.dimensions
            if not 0 <= section < len(dims):
                return None
            if role == R.DisplayRole:
                return _header_label(dims[section].name)
            if role == R.ToolTipRole:
                return f"{dims[section].name} ({dims[section].role}): {dims[section].description}"
            return None
        if self.snapshot is None or not 0 <= section < len(self.snapshot.stages):
            return None
        stage = self.stage(section)
        if role == R.DisplayRole:
            edited = stage in EDITABLE and int(self.snapshot.edited[stage].sum())
            return f"{ROW_LABELS[stage]} ●" if edited else ROW_LABELS[stage]
        if role == R.ToolTipRole:
            return ROW_TIPS[stage]
        if role == R.ForegroundRole and stage not in EDITABLE:
            return _blend(self.palette.color(QPalette.ColorRole.WindowText), self.palette.color(QPalette.ColorRole.Window), 0.6)
        return None


@guard_overrides
class ComponentDelegate(CellDelegate):
    """A line edit for a q/k/v cell; leaves the scene alone when the text was not changed."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:  # noqa: N802
        editor = QLineEdit(parent)
        name_widget(editor, "componentEditor", "Component value",
                    f"A number between -{MAX_COMPONENT:g} and {MAX_COMPONENT:g}; a decimal comma is fine.")
        editor.setAlignment(Qt.AlignmentFlag.AlignRight)
        return editor

    def setEditorData(self, editor: QLineEdit, index: QModelIndex) -> None:  # noqa: N802
        text = index.data(Qt.ItemDataRole.EditRole)
        editor.setText(text)
        editor.setProperty("initialText", text)
        editor.selectAll()

    def setModelData(self, editor: QLineEdit, model, index: QModelIndex) -> None:  # noqa: N802
        if editor.text() != editor.property("initialText"):  # opening and leaving a cell is not an edit
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        cell = self.paint_cell(painter, option, index)
        if index.model().edited(index.row(), index.column()):  # a dot as well as the tint: visible when selected
            pal = option.palette
            dot = pal.color(QPalette.ColorRole.Highlight)
            tint = cell.background
            if option.state & QStyle.StateFlag.State_Selected:
                dot = pal.color(QPalette.ColorRole.HighlightedText)
            elif tint is not None and abs(tint.lightness() - dot.lightness()) < 70:  # dark palettes: accent on tint
                dot = pal.color(QPalette.ColorRole.Text)
            painter.save()  # the view's own painter: whatever happens, give it back as it was
            try:
                painter.setRenderHint(QPainter.RenderHint.Antialiasing)
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(dot)
                r = option.rect
                painter.drawEllipse(QRectF(r.left() + 3, r.top() + 3, 6, 6))
            finally:
                painter.restore()


@guard_overrides
class VectorTable(QTableView):
    """The table: Up/Down nudge an editable cell, Delete resets, Ctrl+C copies (Ctrl+Up/Down still move)."""

    nudge_requested = Signal(str, int, float)  # stage, dim, delta
    reset_requested = Signal(object)  # list of (stage, dim)
    resized = Signal()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.resized.emit()

    def keyPressEvent(self, event) -> None:  # noqa: N802
        model: VectorTableModel = self.model()
        current = self.currentIndex()
        key, mods = event.key(), event.modifiers()
        if event.matches(QKeySequence.StandardKey.Copy):
            QGuiApplication.clipboard().setText(self.selected_text())
            return
        editable = current.isValid() and model.stage(current.row()) in EDITABLE
        if editable and key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and not mods & Qt.KeyboardModifier.ControlModifier:
            step = BIG_NUDGE if mods & Qt.KeyboardModifier.ShiftModifier else NUDGE
            self.nudge_requested.emit(model.stage(current.row()), current.column(), step if key == Qt.Key.Key_Up else -step)
            return
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.state() != QAbstractItemView.State.EditingState:
            cells = [(model.stage(i.row()), i.column()) for i in self.selectedIndexes() if model.stage(i.row()) in EDITABLE]
            if cells:
                self.reset_requested.emit(cells)
            return
        if mods & Qt.KeyboardModifier.ControlModifier and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            event = type(event)(event.type(), key, Qt.KeyboardModifier.NoModifier, event.text())
        super().keyPressEvent(event)

    def selected_text(self) -> str:
        """The selected cells as tab-separated text, one line per row (gaps left empty), as shown."""
        indexes = self.selectedIndexes()
        if not indexes:
            return ""
        rows = range(min(i.row() for i in indexes), max(i.row() for i in indexes) + 1)
        cols = range(min(i.column() for i in indexes), max(i.column() for i in indexes) + 1)
        chosen = {(i.row(), i.column()) for i in indexes}
        model = self.model()
        return "\n".join("\t".join(model.index(r, c).data() if (r, c) in chosen else "" for c in cols) for r in rows)
