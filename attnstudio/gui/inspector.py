"""The vector inspector: one token's vectors at every stage, by named dimension, with q, k, v editable.

Rows are stages (embedding, position, input = their sum, then the projections q, k, v the token has in the
current mode); columns are the model's named dimensions. A q/k/v component is edited by typing in its cell,
by dragging its bar up or down, or with Up/Down (Shift: ×10); Delete resets it. Every edit goes through the
controller, so it is one undo step; the view repaints only when the controller says the scene changed.

Only the chosen token is ever turned into rows and bars: a 512-token sentence costs no more per update than a
seven-token one (the token picker's labels are computed lazily by its model, when the list is shown).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np
from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QEvent, QLocale, QModelIndex, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QGuiApplication, QKeySequence, QPainter, QPalette, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractScrollArea,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from attnstudio.gui.controller import Controller
from attnstudio.gui.widgets import name_widget, signals_blocked
from attnstudio.scene import MAX_COMPONENT

__all__ = ["ComponentBars", "TokenSnapshot", "VectorInspector", "VectorTable", "format_component"]

STAGES = ("embedding", "position", "input", "q", "k", "v")
EDITABLE = ("q", "k", "v")
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
NUDGE, BIG_NUDGE = 0.1, 1.0  # Up/Down and Shift+Up/Down
COLUMN_WIDTH = 66  # px: 16 columns + the row header fit a ~1200 px bottom dock
EDITED_ROLE = Qt.ItemDataRole.UserRole + 1
NICE_SCALES = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


def format_component(value: float) -> str:
    """A component as the table shows it: 3 decimals, 1 beyond ±100, a bare 0 for an exact zero."""
    if value == 0.0:
        return "0"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}".replace("-0.000", "0.000")


def _header_label(name: str) -> str:
    """Two short lines for a dimension name, so a fixed narrow column shows it whole ("identity\\n1")."""
    if len(name) <= 8:
        return name
    if " " in name:
        head, _, tail = name.rpartition(" ")
        return f"{head}\n{tail}"
    return name.replace("/", "/\n", 1)


def _language_name(controller: Controller, side: str) -> str:
    """The English name of a side's language ("French"), as the rest of the interface speaks English."""
    code = controller.scene.language(side)
    language = QLocale(code).language()
    if language != QLocale.Language.C:
        return QLocale.languageToString(language)
    return controller.scene.model.lexicon.languages.get(code, {}).get("name", code)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    """``t`` of ``a`` over ``1 - t`` of ``b``: an accent tint that keeps the palette's text readable."""
    return QColor.fromRgbF(*(t * x + (1 - t) * y for x, y in zip(a.getRgbF()[:3], b.getRgbF()[:3])))


@dataclass(frozen=True)
class TokenSnapshot:
    """What the inspector shows of one token: values per stage, the computed q/k/v, and which were edited."""

    side: str  # "source" or "target"
    index: int
    surface: str
    stages: tuple[str, ...]  # rows shown, in order
    values: dict[str, np.ndarray]  # stage -> (d_model,)
    computed: dict[str, np.ndarray]  # q/k/v stage -> (d_model,) before hand edits
    edited: dict[str, np.ndarray]  # q/k/v stage -> (d_model,) bool

    @property
    def editable_stages(self) -> tuple[str, ...]:
        return tuple(s for s in self.stages if s in EDITABLE)


def token_snapshot(controller: Controller, side: str, index: int) -> TokenSnapshot:
    """Read one token's vectors from the current result (O(d_model²), whatever the sentence length)."""
    scene, result = controller.scene, controller.result()
    model, query_side = scene.model, scene.query_side()
    vectors = result.query_vectors if side == query_side else result.key_vectors
    values = {"embedding": vectors.embedding[index], "position": vectors.position[index], "input": vectors.input[index]}
    computed: dict[str, np.ndarray] = {}
    if side == query_side:
        values["q"], computed["q"] = result.q[index], vectors.input[index] @ model.w_q
    if side == "source":
        values["k"], computed["k"] = result.k[index], vectors.input[index] @ model.w_k
        values["v"], computed["v"] = result.v[index], vectors.input[index] @ model.w_v
    edited = {stage: np.array([scene.override(side, index, stage, d) is not None for d in range(scene.d_model)])
              for stage in computed}
    return TokenSnapshot(side, index, vectors.words[index].token.surface, tuple(s for s in STAGES if s in values),
                         values, computed, edited)


# -- the token picker ---------------------------------------------------------------------------------

class TokenListModel(QAbstractListModel):
    """Every query token then every key token; labels are made only when a row is displayed."""

    def __init__(self, controller: Controller, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._sides: tuple[tuple[str, int], ...] = ()  # (side, token count) per block, in order
        self._signature: tuple = ()

    def sync(self) -> bool:
        """Reset if the tokens or their roles changed (not on a mere vector edit); True if it did."""
        scene = self.controller.scene
        s = scene.settings
        signature = (s.mode, scene.source, scene.target, s.source_language, s.target_language)
        if signature == self._signature:
            return False
        self.beginResetModel()
        self._signature = signature
        sides = ("source",) if s.mode == "self" else ("target", "source")
        self._sides = tuple((side, len(scene.tokens(side).words)) for side in sides)
        self.endResetModel()
        return True

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802 (Qt name)
        return 0 if parent.isValid() else sum(n for _, n in self._sides)

    def choice(self, row: int) -> tuple[str, int] | None:
        for side, n in self._sides:
            if row < n:
                return (side, row) if row >= 0 else None
            row -= n
        return None

    def row_of(self, side: str, index: int) -> int:
        offset = 0
        for s, n in self._sides:
            if s == side and 0 <= index < n:
                return offset + index
            offset += n
        return -1

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        choice = self.choice(index.row()) if index.isValid() else None
        if choice is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        scene = self.controller.scene
        side, i = choice
        words = scene.tokens(side).words
        language = _language_name(self.controller, side)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Token {i + 1} of {len(words)} in the {language} sentence"
        roles = "query, key/value" if scene.settings.mode == "self" else ("query" if side == "target" else "key/value")
        surface = words[i].token.surface
        twin = any(w.token.key == words[i].token.key for j, w in enumerate(words) if j != i) if len(words) < 64 else True
        return f"{surface} #{i + 1} ({roles}, {language})" if twin else f"{surface} ({roles}, {language})"


# -- the table ------------------------------------------------------------------------------------------

def _row_changed(old: TokenSnapshot, new: TokenSnapshot, stage: str) -> bool:
    """Whether a stage's row shows something else: its values, or which of them were edited by hand."""
    return (not np.array_equal(old.values[stage], new.values[stage])
            or (stage in new.edited and not np.array_equal(old.edited[stage], new.edited[stage])))


def _row_marked(snap: TokenSnapshot, stage: str) -> bool:
    """Whether a row's header carries the "edited" dot."""
    return stage in snap.edited and bool(snap.edited[stage].any())


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

    def set_snapshot(self, snapshot: TokenSnapshot | None) -> None:
        old = self.snapshot
        if old is None or snapshot is None or old.stages != snapshot.stages:
            self.beginResetModel()
            self.snapshot = snapshot
            self.endResetModel()
        else:
            # Announce only the rows that changed (an edit of q changes the q row alone): the view repaints
            # just those cells, and a header announced without cause makes the table paint a second time.
            self.snapshot = snapshot
            changed = [row for row, stage in enumerate(snapshot.stages) if _row_changed(old, snapshot, stage)]
            if changed:
                self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], self.columnCount() - 1))
            marked = [row for row, stage in enumerate(snapshot.stages)
                      if _row_marked(old, stage) != _row_marked(snapshot, stage)]
            if marked:
                self.headerDataChanged.emit(Qt.Orientation.Vertical, marked[0], marked[-1])

    def stage(self, row: int) -> str:
        return self.snapshot.stages[row]

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() or self.snapshot is None else len(self.snapshot.stages)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else self.controller.scene.d_model

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        return base | Qt.ItemFlag.ItemIsEditable if self.stage(index.row()) in EDITABLE else base

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or self.snapshot is None:
            return None
        snap, stage, dim = self.snapshot, self.stage(index.row()), index.column()
        value = float(snap.values[stage][dim])
        edited = stage in EDITABLE and bool(snap.edited[stage][dim])
        R = Qt.ItemDataRole
        if role == R.DisplayRole:
            return format_component(value)
        if role == R.EditRole:
            return f"{value:.10g}"
        if role == R.TextAlignmentRole:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if role == EDITED_ROLE:
            return edited
        if role == R.FontRole and edited:
            return self.bold
        if role == R.BackgroundRole and edited:
            return _blend(self.palette.color(QPalette.ColorRole.Highlight), self.palette.color(QPalette.ColorRole.Base), 0.4)
        if role == R.ForegroundRole and stage not in EDITABLE:
            return _blend(self.palette.color(QPalette.ColorRole.Text), self.palette.color(QPalette.ColorRole.Base), 0.6)
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


class ComponentDelegate(QStyledItemDelegate):
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
        super().paint(painter, option, index)
        if index.data(EDITED_ROLE):  # a dot as well as the tint: still visible when the cell is selected
            pal = option.palette
            dot = pal.color(QPalette.ColorRole.Highlight)
            tint = index.data(Qt.ItemDataRole.BackgroundRole)
            if option.state & QStyle.StateFlag.State_Selected:
                dot = pal.color(QPalette.ColorRole.HighlightedText)
            elif tint is not None and abs(tint.lightness() - dot.lightness()) < 70:  # dark palettes: accent on tint
                dot = pal.color(QPalette.ColorRole.Text)
            painter.save()
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(dot)
            r = option.rect
            painter.drawEllipse(QRectF(r.left() + 3, r.top() + 3, 6, 6))
            painter.restore()


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


# -- the bars -------------------------------------------------------------------------------------------

def _nice_scale(*arrays: np.ndarray) -> float:
    """The half-height of a strip: the smallest round number above every value shown in it."""
    top = max(float(np.max(np.abs(a))) for a in arrays) * 1.05
    return next((s for s in NICE_SCALES if s >= top), NICE_SCALES[-1])


class ComponentBars(QWidget):
    """One strip of bars per editable stage, each bar under its table column; pull a bar up or down to edit.

    A drag is relative (the value follows the mouse from where it was, at a scale frozen for the drag), so
    it can go past the top of its strip. Keys: Left/Right pick a dimension, PageUp/PageDown a stage, Up/Down
    nudge (Shift: ×10), Delete resets.
    """

    component_dragged = Signal(str, int, float)  # stage, dim, value — many while dragging
    drag_started = Signal()
    drag_finished = Signal()
    nudge_requested = Signal(str, int, float)
    reset_requested = Signal(object)  # list of (stage, dim)
    current_changed = Signal(str, int)

    LABEL_WIDTH = 52  # used only when the table gives no column geometry (a bars widget on its own)

    def __init__(self, column_geometry: Callable[[], tuple[list[tuple[int, int]], int, int]] | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "componentBars", "Component bars",
                    "Drag a bar up or down to change that component; Up/Down nudge it, Delete resets it.")
        self.column_geometry = column_geometry or self._own_geometry
        self.describe: Callable[[str, int], str] | None = None  # the tooltip of one component, from the panel
        self.snapshot: TokenSnapshot | None = None
        self.current: tuple[str, int] | None = None
        self.scales: dict[str, float] = {}
        self._drag: tuple[str, int, float, float, float, float] | None = None  # stage, dim, y0, v0, per px, step
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(44)

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    def set_snapshot(self, snapshot: TokenSnapshot | None) -> None:
        self.snapshot = snapshot
        stages = snapshot.editable_stages if snapshot else ()
        if self._drag is None:  # the scale stays still under the mouse during a drag
            self.scales = {s: _nice_scale(snapshot.values[s], snapshot.computed[s]) for s in stages}
        if self.current and self.current[0] not in stages:
            self.current = (stages[0], self.current[1]) if stages else None
        self.setMinimumHeight(max(40, 32 * len(stages)))
        self.update()

    def set_current(self, stage: str, dim: int) -> None:
        if self.current != (stage, dim):
            self.current = (stage, dim)
            self.update()

    # -- geometry -------------------------------------------------------------------------------------
    def _own_geometry(self) -> tuple[list[tuple[int, int]], int, int]:
        n = self.snapshot.values["input"].shape[0] if self.snapshot else 1
        width = (self.width() - self.LABEL_WIDTH) / n
        return [(round(self.LABEL_WIDTH + i * width), round(width)) for i in range(n)], self.LABEL_WIDTH, self.width()

    def strip_rect(self, stage: str) -> QRectF:
        stages = self.snapshot.editable_stages
        height = (self.height() - 2) / max(1, len(stages))
        return QRectF(0, 1 + stages.index(stage) * height, self.width(), height)

    def _y_of(self, stage: str, value: float, strip: QRectF) -> float:
        half = strip.height() / 2 - 4
        return strip.center().y() - max(-1.0, min(1.0, value / self.scales[stage])) * half

    def bar_point(self, stage: str, dim: int) -> QPoint:
        """The middle of a component's place in its strip (where a test or a learner grabs it)."""
        spans, _, _ = self.column_geometry()
        left, width = spans[dim]
        return QPoint(left + width // 2, round(self.strip_rect(stage).center().y()))

    def hit(self, pos: QPoint) -> tuple[str, int] | None:
        if self.snapshot is None or not self.snapshot.editable_stages:
            return None
        spans, clip_left, clip_right = self.column_geometry()
        if not clip_left <= pos.x() < clip_right:
            return None
        stage = next((s for s in self.snapshot.editable_stages if self.strip_rect(s).contains(pos)), None)
        dim = next((d for d, (left, width) in enumerate(spans) if left <= pos.x() < left + width), None)
        return None if stage is None or dim is None else (stage, dim)

    # -- painting -------------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:  # noqa: N802
        if self.snapshot is None or not self.snapshot.editable_stages:
            return
        pal = self.palette()
        text, base = pal.color(QPalette.ColorRole.Text), pal.color(QPalette.ColorRole.Base)
        accent = pal.color(QPalette.ColorRole.Highlight)
        plain = _blend(text, base, 0.45)
        spans, clip_left, clip_right = self.column_geometry()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        for stage in self.snapshot.editable_stages:
            strip = self.strip_rect(stage)
            zero = self._y_of(stage, 0.0, strip)
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            label = QRectF(4, strip.top(), max(10, clip_left - 8), strip.height())
            painter.drawText(label, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             f"{stage}  ±{self.scales[stage]:g}")
            painter.save()
            painter.setClipRect(QRectF(clip_left, strip.top(), clip_right - clip_left, strip.height()))
            painter.fillRect(QRectF(clip_left, strip.top() + 1, clip_right - clip_left, strip.height() - 2), base)
            painter.setPen(QPen(pal.color(QPalette.ColorRole.Mid), 1))
            painter.drawLine(QPoint(clip_left, round(zero)), QPoint(clip_right, round(zero)))
            for dim, (left, width) in enumerate(spans):
                self._paint_bar(painter, stage, dim, left, width, strip, zero, accent, plain, text)
            painter.restore()
        painter.end()

    def _paint_bar(self, painter: QPainter, stage: str, dim: int, left: int, width: int, strip: QRectF,
                   zero: float, accent: QColor, plain: QColor, text: QColor) -> None:
        value = float(self.snapshot.values[stage][dim])
        edited = bool(self.snapshot.edited[stage][dim])
        top = self._y_of(stage, value, strip)
        bar = QRectF(left + width * 0.22, min(zero, top), width * 0.56, max(1.0, abs(top - zero)))
        painter.fillRect(bar, accent if edited else plain)
        if edited:  # where the model would put it: a dashed tick the learner can pull back to
            y = self._y_of(stage, float(self.snapshot.computed[stage][dim]), strip)
            painter.setPen(QPen(text, 1.5, Qt.PenStyle.DashLine))
            painter.drawLine(QPoint(round(left + width * 0.12), round(y)), QPoint(round(left + width * 0.88), round(y)))
        if self.current == (stage, dim):
            pen = QPen(accent if self.hasFocus() else text, 2 if self.hasFocus() else 1,
                       Qt.PenStyle.SolidLine if self.hasFocus() else Qt.PenStyle.DotLine)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(left + 2, strip.top() + 2, width - 4, strip.height() - 4))

    # -- mouse and keys ---------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802
        target = self.hit(event.position().toPoint())
        if target is None:
            return super().mousePressEvent(event)
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.current = target
        self.current_changed.emit(*target)
        self.update()
        if event.button() == Qt.MouseButton.LeftButton:
            stage, dim = target
            scale = self.scales[stage]
            per_px = scale / max(8.0, self.strip_rect(stage).height() / 2 - 4)
            self._drag = (stage, dim, event.position().y(), float(self.snapshot.values[stage][dim]), per_px, scale / 100)
            self.drag_started.emit()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag is None:
            return
        stage, dim, y0, v0, per_px, step = self._drag
        value = v0 + (y0 - event.position().y()) * per_px
        value = max(-MAX_COMPONENT, min(MAX_COMPONENT, round(round(value / step) * step, 6)))
        if value != float(self.snapshot.values[stage][dim]):
            self.component_dragged.emit(stage, dim, value)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag is not None:
            self._drag = None
            self.drag_finished.emit()
            self.set_snapshot(self.snapshot)  # rescale now that the mouse let go

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if self.snapshot is None or self.current is None:
            return super().keyPressEvent(event)
        stage, dim = self.current
        stages, key = self.snapshot.editable_stages, event.key()
        n = self.snapshot.values["input"].shape[0]
        if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            step = BIG_NUDGE if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else NUDGE
            self.nudge_requested.emit(stage, dim, step if key == Qt.Key.Key_Up else -step)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.reset_requested.emit([(stage, dim)])
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End):
            dim = {Qt.Key.Key_Left: max(0, dim - 1), Qt.Key.Key_Right: min(n - 1, dim + 1),
                   Qt.Key.Key_Home: 0, Qt.Key.Key_End: n - 1}[key]
            self.current_changed.emit(stage, dim)
            self.set_current(stage, dim)
        elif key in (Qt.Key.Key_PageUp, Qt.Key.Key_PageDown):
            i = stages.index(stage) + (-1 if key == Qt.Key.Key_PageUp else 1)
            stage = stages[max(0, min(len(stages) - 1, i))]
            self.current_changed.emit(stage, dim)
            self.set_current(stage, dim)
        else:
            super().keyPressEvent(event)

    def event(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            target = self.hit(event.pos())
            if target and self.describe:
                QToolTip.showText(event.globalPos(), self.describe(*target) + "\nDashed line: the computed value.", self)
            else:
                QToolTip.showText(event.globalPos(), self.toolTip(), self)
            return True
        return super().event(event)

    def focusInEvent(self, event) -> None:  # noqa: N802
        if self.current is None and self.snapshot and self.snapshot.editable_stages:
            self.current = (self.snapshot.editable_stages[0], 0)
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event) -> None:  # noqa: N802
        self.update()
        super().focusOutEvent(event)


# -- the panel ------------------------------------------------------------------------------------------

class VectorInspector(QWidget):
    """One token's vectors at every stage, by named dimension; its q, k, v editable by typing or dragging."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "vectorInspector", "Vector inspector")
        self.controller = controller
        self.choice: tuple[str, int] | None = None  # (side, token index) shown
        self._last_focus = controller.scene.focus
        self._own_edit = False  # a controller message arriving now answers this panel's edit

        self.tokens = TokenListModel(controller, self)
        self.picker = name_widget(QComboBox(self), "inspectorTokenPicker", "Token to inspect",
                                  "Which token's vectors to show: a query token (it asks) or a key/value token "
                                  "(it is looked at).")
        self.picker.setModel(self.tokens)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(26)  # never measure 1000 labels to size the box
        self.picker.setMaxVisibleItems(20)
        picker_label = QLabel("&Token", self)
        picker_label.setBuddy(self.picker)
        self.role = name_widget(QLabel(self), "inspectorRole", "Token role")
        self.role.setWordWrap(True)
        self.reset_button = name_widget(QPushButton("Reset token", self), "inspectorResetToken", "Reset token",
                                        "Put back every q, k, v component of this token that you edited by hand.")
        self.message = name_widget(QLabel(self), "inspectorMessage", "Inspector message")
        self.message.setWordWrap(True)

        self.table_model = VectorTableModel(controller, self._apply_edit, self)
        self.table = name_widget(VectorTable(self), "vectorTable", "Vector components",
                                 "Rows: the stages of this token; columns: the named dimensions. "
                                 "Edit a q, k or v cell by typing; Up/Down nudge it; Delete resets it.")
        self.table.setModel(self.table_model)
        self.table.setItemDelegate(ComponentDelegate(self.table))
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.table.setSizeAdjustPolicy(QAbstractScrollArea.SizeAdjustPolicy.AdjustIgnored)
        self.table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(COLUMN_WIDTH)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)  # leave room to the bars
        self.table.verticalHeader().setMinimumWidth(96)
        self.bars = ComponentBars(self._column_geometry, self)
        self.bars.describe = self._describe_component

        self.empty = name_widget(QLabel("No tokens to inspect yet.\nType a sentence, and pick one of its words here "
                                        "to see its vectors.", self), "inspectorEmpty", "No tokens")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        content = QWidget(self)
        body = QVBoxLayout(content)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(2)
        body.addWidget(self.table)
        body.addWidget(self.bars, 1)
        scroller = QScrollArea(self)  # a short dock scrolls rather than squashing the bars flat
        scroller.setWidget(content)
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # the table scrolls sideways
        self.pages = QStackedWidget(self)
        self.pages.addWidget(self.empty)
        self.pages.addWidget(scroller)
        top = QHBoxLayout()
        top.addWidget(picker_label)
        top.addWidget(self.picker)
        top.addWidget(self.role, 1)
        top.addWidget(self.reset_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message)

        self.picker.activated.connect(self._on_picked)
        self.reset_button.clicked.connect(self.reset_token)
        self.table.nudge_requested.connect(self.nudge)
        self.table.reset_requested.connect(self.reset_components)
        self.table.customContextMenuRequested.connect(self._on_table_menu)
        self.table.selectionModel().currentChanged.connect(self._on_table_current)
        self.table.horizontalScrollBar().valueChanged.connect(self.bars.update)
        self.table.resized.connect(self._fit_table)
        self.bars.component_dragged.connect(self._on_dragged)
        self.bars.drag_started.connect(controller.end_merge)
        self.bars.drag_finished.connect(controller.end_merge)
        self.bars.nudge_requested.connect(self.nudge)
        self.bars.reset_requested.connect(self.reset_components)
        self.bars.current_changed.connect(self._on_bar_current)
        self.bars.customContextMenuRequested.connect(self._on_bars_menu)
        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)
        controller.message.connect(self._on_message)
        self._sync_palette()
        self._on_scene_changed(frozenset())

    # -- public -----------------------------------------------------------------------------------------
    def choose(self, side: str, index: int) -> None:
        """Show this token (ignored if it does not exist in the current mode)."""
        if self.tokens.row_of(side, index) < 0:
            return
        self.choice = (side, index)
        self.message.clear()
        if side == self.controller.scene.query_side():
            self._last_focus = index
            self.controller.set_focus(index)  # the other panels follow the query being inspected
        self._refresh()

    def snapshot(self) -> TokenSnapshot | None:
        return self.table_model.snapshot

    def role_text(self) -> str:
        return self.role.text()

    def nudge(self, stage: str, dim: int, delta: float) -> bool:
        """Add ``delta`` to a component; a burst of nudges of one component is one undo step."""
        snap = self.snapshot()
        if snap is None or stage not in snap.editable_stages:
            return False
        return self._set(stage, dim, round(float(snap.values[stage][dim]) + delta, 6), merge=True)

    def reset_components(self, cells: list[tuple[str, int]]) -> bool:
        """Reset the edited ones among ``cells`` (stage, dim) of the shown token, as one undo step."""
        snap = self.snapshot()
        if snap is None:
            return False
        keys = {(snap.side, snap.index, stage, dim): None for stage, dim in cells
                if stage in snap.editable_stages and snap.edited[stage][dim]}
        if not keys:
            return True
        self.controller.end_merge()
        if len(keys) == 1:
            return self.controller.reset_component(*next(iter(keys)))
        return self.controller.set_components(keys, f"Reset {len(keys)} components of '{snap.surface}'")

    def reset_token(self) -> bool:
        """Reset every hand edit of the shown token (in any stage), as one undo step."""
        snap = self.snapshot()
        if snap is None:
            return False
        keys = {key: None for key in self.controller.scene.overrides if key[:2] == (snap.side, snap.index)}
        if not keys:
            return True
        self.controller.end_merge()
        return self.controller.set_components(keys, f"Reset the vectors of '{snap.surface}'")

    def context_menu(self, stage: str | None, dim: int | None) -> QMenu:
        """The menu of a cell or bar (built, not shown: tests trigger its actions)."""
        snap = self.snapshot()
        menu = QMenu(self)
        one = menu.addAction("Reset this component")
        one.setEnabled(bool(snap and stage in snap.editable_stages and snap.edited[stage][dim]))
        one.triggered.connect(partial(self.reset_components, [(stage, dim)]))
        token = menu.addAction("Reset token", self.reset_token)
        token.setEnabled(bool(snap and any(k[:2] == (snap.side, snap.index) for k in self.controller.scene.overrides)))
        menu.addSeparator()
        menu.addAction("Copy", self._copy)
        return menu

    # -- view → controller --------------------------------------------------------------------------------
    def _set(self, stage: str, dim: int, value, merge: bool = False) -> bool:
        snap = self.snapshot()
        side = self.controller.scene.side_of(stage)  # q lives on the query side, k and v on the source
        assert side == snap.side, f"{stage} of a {snap.side} token belongs to the {side} side in this mode"
        self._own_edit = True
        try:
            ok = self.controller.set_component(side, snap.index, stage, dim, value, merge=merge)
        finally:
            self._own_edit = False
        if ok:
            self.message.clear()
        return ok

    def _apply_edit(self, stage: str, dim: int, text: str) -> bool:
        self.controller.end_merge()
        return self._set(stage, dim, text)

    def _on_dragged(self, stage: str, dim: int, value: float) -> None:
        self._set(stage, dim, value, merge=True)

    def _on_message(self, text: str) -> None:
        if self._own_edit:
            self.message.setText(f"⚠ Not applied: {text}")

    def _on_picked(self, row: int) -> None:
        choice = self.tokens.choice(row)
        if choice is not None:
            self.choose(*choice)

    def _on_table_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and self.table_model.stage(current.row()) in EDITABLE:
            self.bars.set_current(self.table_model.stage(current.row()), current.column())

    def _on_bar_current(self, stage: str, dim: int) -> None:
        snap = self.snapshot()
        index = self.table_model.index(snap.stages.index(stage), dim)
        if self.table.currentIndex() != index:
            self.table.setCurrentIndex(index)

    def _describe_component(self, stage: str, dim: int) -> str:
        snap = self.snapshot()
        return self.table_model.index(snap.stages.index(stage), dim).data(Qt.ItemDataRole.ToolTipRole)

    def _on_table_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        stage = self.table_model.stage(index.row()) if index.isValid() else None
        self.context_menu(stage, index.column() if index.isValid() else None).exec(self.table.viewport().mapToGlobal(pos))

    def _on_bars_menu(self, pos: QPoint) -> None:
        stage, dim = self.bars.hit(pos) or (None, None)
        self.context_menu(stage, dim).exec(self.bars.mapToGlobal(pos))

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.table.selected_text())

    # -- controller → view --------------------------------------------------------------------------------
    def _on_scene_changed(self, _what: frozenset) -> None:
        self.tokens.sync()
        if self.choice is None or self.tokens.row_of(*self.choice) < 0:
            self.choice = self._default_choice()
        self._refresh()

    def _on_focus_changed(self, focus: int) -> None:
        # Only a real move of the focus takes the inspector back to the query: a settings change re-announces
        # the same focus, and must not throw away the key token the learner picked.
        if focus == self._last_focus and self.choice is not None:
            return
        self._last_focus = focus
        side = self.controller.scene.query_side()
        if self.tokens.row_of(side, focus) >= 0 and self.choice != (side, focus):
            self.choice = (side, focus)
            self._refresh()

    def _default_choice(self) -> tuple[str, int] | None:
        scene = self.controller.scene
        if self.tokens.row_of(scene.query_side(), scene.focus) >= 0:
            return scene.query_side(), scene.focus
        return self.tokens.choice(0)

    def _refresh(self) -> None:
        snap = token_snapshot(self.controller, *self.choice) if self.choice else None
        with signals_blocked(self.picker):
            self.picker.setCurrentIndex(self.tokens.row_of(*self.choice) if self.choice else -1)
        self.pages.setCurrentIndex(1 if snap else 0)
        self.picker.setEnabled(snap is not None)
        self.table_model.set_snapshot(snap)
        self.bars.set_snapshot(snap)
        self.role.setText(self._describe_role(snap) if snap else "")
        self.reset_button.setEnabled(bool(snap) and any(
            key[:2] == (snap.side, snap.index) for key in self.controller.scene.overrides))
        self._fit_table()

    def _describe_role(self, snap: TokenSnapshot) -> str:
        scene = self.controller.scene
        word = f"“{snap.surface}”"
        names = {side: _language_name(self.controller, side) for side in ("source", "target")}
        if scene.settings.mode == "self":
            return f"{word} asks a query and offers a key and a value: in self-attention the sentence looks at itself."
        if snap.side == "target":
            return (f"{word} asks a query: it looks for the {names['source']} word it translates. "
                    "Its keys/values are not used in translation mode.")
        return (f"{word} offers a key (matched against every {names['target']} query) and a value (what it passes on). "
                "It asks no query in translation mode.")

    def _fit_table(self) -> None:
        """Make the table exactly as tall as its rows (plus its scroll bar when the columns do not fit)."""
        table = self.table
        columns = table.horizontalHeader().length() + table.verticalHeader().width() + 2 * table.frameWidth()
        scroll = table.horizontalScrollBar().sizeHint().height() if columns > table.width() else 0
        rows = table.verticalHeader().length()
        table.setFixedHeight(table.horizontalHeader().sizeHint().height() + rows + 2 * table.frameWidth() + scroll)

    def _column_geometry(self) -> tuple[list[tuple[int, int]], int, int]:
        """Where each table column sits, in the bars' coordinates, so a bar stands under its number."""
        viewport = self.table.viewport()
        origin = self.bars.mapFrom(self, viewport.mapTo(self, QPoint(0, 0))).x()
        spans = [(origin + self.table.columnViewportPosition(c), self.table.columnWidth(c))
                 for c in range(self.table_model.columnCount())]
        right = origin + viewport.width()
        if spans:  # the strips end with the last column, not at the far edge of a wide dock
            right = min(right, spans[-1][0] + spans[-1][1])
        return spans, origin, right

    def _sync_palette(self) -> None:
        self.table_model.palette = self.table.palette()
        self.table_model.bold = QFont(self.table.font())
        self.table_model.bold.setBold(True)

    def changeEvent(self, event) -> None:  # noqa: N802
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.FontChange):
            self._sync_palette()
            self.table.viewport().update()
        super().changeEvent(event)

