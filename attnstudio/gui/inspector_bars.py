"""The vector inspector's bars: one strip per editable stage, a bar per component to drag up or down."""

from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.inspector_snapshot import BIG_NUDGE, NUDGE, TokenSnapshot, _blend
from attnstudio.gui.widgets import name_widget
from attnstudio.scene import MAX_COMPONENT

NICE_SCALES = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


# -- the bars -------------------------------------------------------------------------------------------

def _nice_scale(*arrays: np.ndarray) -> float:
    """The half-height of a strip: the smallest round number above every value shown in it."""
    top = max(float(np.max(np.abs(a))) for a in arrays) * 1.05
    return next((s for s in NICE_SCALES if s >= top), NICE_SCALES[-1])


@guard_overrides
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
