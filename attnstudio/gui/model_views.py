"""The drawing widgets of the Model workspace: the layers × heads grid, one attention view, the q–k plane.

They only draw what the panel gives them and report clicks and drags as signals; the panel owns the model.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.painting import (
    AlignmentFigure,
    AlignmentGeometry,
    HeatmapGeometry,
    Theme,
    heatmap_image,
    paint_alignment,
    paint_heatmap,
    paint_message,
)
from attnstudio.gui.widgets import RepaintOnFocus

__all__ = ["AttentionView", "HeadGrid", "QueryKeyPlane"]

GRID_GAP = 4  # px between thumbnails
GRID_LABEL = 18  # px for the layer/head numbers along the edges
GRAB_RADIUS = 14  # px: how near the focused query a press must land to start a drag


def _theme(widget: QWidget) -> Theme:
    return Theme.from_palette(widget.palette())


@guard_overrides
class HeadGrid(QWidget):
    """Every head of every layer as a small heatmap: rows are layers, columns heads. Click one to choose it."""

    head_clicked = Signal(int, int)  # layer, head

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelHeadGrid")
        self.setAccessibleName("All heads")
        self.setToolTip("Every head of every layer (rows: layers, columns: heads). Click one to look at it.")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)
        self._images: list[list] = []  # [layer][head] -> QImage
        self.selected: tuple[int, int] = (0, 0)

    def set_attentions(self, attentions: np.ndarray | None, mask: np.ndarray | None = None) -> None:
        """(L, h, n, n) weights to show; ``mask`` (n, n) greys out cells (special tokens, dimmed)."""
        masked = _theme(self).grid
        self._images = [] if attentions is None else [
            [heatmap_image(head, mask, masked) for head in layer] for layer in attentions]
        self.update()

    def set_selected(self, layer: int, head: int) -> None:
        self.selected = (layer, head)
        self.update()

    def shape(self) -> tuple[int, int]:
        return (len(self._images), len(self._images[0]) if self._images else 0)

    def cell_rect(self, layer: int, head: int) -> QRectF:
        """Where the thumbnail of ``(layer, head)`` is drawn (square cells, centred)."""
        L, h = self.shape()
        side = max(1.0, min((self.width() - GRID_LABEL - GRID_GAP * h) / max(h, 1),
                            (self.height() - GRID_LABEL - GRID_GAP * L) / max(L, 1)))
        step = side + GRID_GAP
        left = GRID_LABEL + max(0.0, (self.width() - GRID_LABEL - step * h) / 2)
        return QRectF(left + head * step, GRID_LABEL + layer * step, side, side)

    def head_at(self, point: QPointF) -> tuple[int, int] | None:
        L, h = self.shape()
        for layer in range(L):
            for head in range(h):
                if self.cell_rect(layer, head).adjusted(-GRID_GAP / 2, -GRID_GAP / 2,
                                                        GRID_GAP / 2, GRID_GAP / 2).contains(point):
                    return layer, head
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        hit = self.head_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.head_clicked.emit(*hit)
        super().mousePressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        theme = _theme(self)
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.background)
        if not self._images:
            paint_message(painter, QRectF(self.rect()), "Load a model to see all its heads.", theme)
            return
        L, h = self.shape()
        painter.setFont(theme.font(10))
        painter.setPen(theme.muted)
        for head in range(h):
            r = self.cell_rect(0, head)
            painter.drawText(QRectF(r.left(), 0, r.width(), GRID_LABEL), Qt.AlignmentFlag.AlignCenter, f"h{head}")
        for layer in range(L):
            r = self.cell_rect(layer, 0)
            painter.drawText(QRectF(0, r.top(), GRID_LABEL, r.height()), Qt.AlignmentFlag.AlignCenter, f"L{layer}")
            for head in range(h):
                painter.drawImage(self.cell_rect(layer, head), self._images[layer][head])
        r = self.cell_rect(*self.selected)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.highlight, 3))
        painter.drawRect(r.adjusted(-2, -2, 2, 2))


@guard_overrides
class AttentionView(RepaintOnFocus, QWidget):
    """One attention figure drawn by the shared painters: alignment lines or the heatmap.

    A click on a token (or a line, or a heatmap row) and the arrow keys report the query to focus as
    ``token_clicked(index)``, an index into the figure's labels; the panel owns the focus.
    """

    token_clicked = Signal(int)

    def __init__(self, mode: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if mode not in ("lines", "heatmap"):
            raise ValueError(f"mode must be 'lines' or 'heatmap', got {mode!r}")
        self.mode = mode
        self.setObjectName(name)
        self.setAccessibleName("Attention lines of the chosen head" if mode == "lines" else
                               "Attention heatmap of the chosen head")
        self.setAccessibleDescription("Click a word (or a heatmap row) to focus it; the arrow keys move the focus.")
        self.setToolTip("Click a word to focus it · ← → move the focus")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 200)
        self.figure: AlignmentFigure | None = None
        self.geometry_drawn: AlignmentGeometry | HeatmapGeometry | None = None  # where the last paint put things

    def set_figure(self, figure: AlignmentFigure | None) -> None:
        self.figure = figure
        self.update()

    def token_at(self, point: QPointF) -> int | None:
        """The query (figure index) a click at ``point`` focuses: a word of either row, a line, a heatmap row."""
        geometry = self.geometry_drawn
        if geometry is None or self.figure is None or self.figure.empty:
            return None
        if isinstance(geometry, AlignmentGeometry):
            token = geometry.token_at(point)
            if token is not None:
                return token[1]  # self-attention: a key word is the same token as the query word
            line = geometry.line_at(point)
            return None if line is None else line[0]
        cell = geometry.cell_at(point)
        if cell is not None:
            return cell[0]
        row = geometry.row_at(point)
        if row is not None:
            return row
        for j, box in enumerate(geometry.key_rects):  # a column label: that token as the query
            if box is not None and box.adjusted(-2, -2, 2, 2).contains(point):
                return j
        return None

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt name)
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            token = self.token_at(event.position())
            if token is not None:
                self.token_clicked.emit(token)
                event.accept()
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        figure = self.figure
        n = 0 if figure is None else len(figure.query_labels)
        focus = figure.focus if figure is not None and figure.focus is not None else -1
        back = (Qt.Key.Key_Left, Qt.Key.Key_Up)
        moves = {Qt.Key.Key_Left: focus - 1, Qt.Key.Key_Up: focus - 1, Qt.Key.Key_Right: focus + 1,
                 Qt.Key.Key_Down: focus + 1, Qt.Key.Key_Home: 0, Qt.Key.Key_End: n - 1}
        if n and event.key() in moves:
            target = moves[event.key()] if focus >= 0 or event.key() not in back else n - 1
            self.token_clicked.emit(max(0, min(target, n - 1)))
            event.accept()
            return
        super().keyPressEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        theme = _theme(self)
        painter = QPainter(self)
        painter.fillRect(self.rect(), theme.background)
        rect = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        if self.figure is None:
            self.geometry_drawn = None
            paint_message(painter, rect, "Load a model and type a sentence.", theme)
        elif self.mode == "lines":
            self.geometry_drawn = paint_alignment(painter, rect, self.figure, theme)
        else:
            self.geometry_drawn = paint_heatmap(painter, rect, self.figure, theme)
        if self.hasFocus():
            painter.setPen(QPen(theme.highlight, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))


@guard_overrides
class QueryKeyPlane(QWidget):
    """One head's queries and keys in their PCA plane; the focused query can be dragged.

    Signals carry plane coordinates: ``drag_started()``, ``query_moved(x, y)`` (the query's new position)
    and ``drag_finished()``. The view's scale is frozen during a drag so the point stays under the mouse.
    """

    drag_started = Signal()
    query_moved = Signal(float, float)
    drag_finished = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelQueryKeyPlane")
        self.setAccessibleName("Query–key plane")
        self.setToolTip("The chosen head's queries (squares) and keys (dots) in the plane that shows them best "
                        "(PCA). Drag the orange query to change it and watch its weights.")
        self.setMinimumSize(220, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.queries = np.zeros((0, 2))
        self.keys = np.zeros((0, 2))
        self.labels: list[str] = []
        self.focus: int | None = None
        self.original: np.ndarray | None = None  # the focused query before the learner's edit, if edited
        self.weights_row: np.ndarray | None = None  # the focused query's weights, to size the keys
        self._frame: tuple[np.ndarray, float] | None = None  # (centre, px per unit) frozen during a drag
        self._grab: tuple[QPointF, np.ndarray] | None = None  # press position, query position at the press

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(300, 260)

    def set_points(self, queries: np.ndarray, keys: np.ndarray, labels: list[str], focus: int | None,
                   original: np.ndarray | None = None, weights_row: np.ndarray | None = None) -> None:
        self.queries, self.keys = np.asarray(queries, float), np.asarray(keys, float)
        self.labels, self.focus, self.original, self.weights_row = list(labels), focus, original, weights_row
        self.update()

    # -- geometry -------------------------------------------------------------------------------------
    def _fit(self) -> tuple[np.ndarray, float]:
        if self._frame is not None:
            return self._frame
        points = np.concatenate([self.queries, self.keys] + ([self.original[None]] if self.original is not None
                                                              else []))
        if not len(points):
            return np.zeros(2), 1.0
        lo, hi = points.min(axis=0), points.max(axis=0)
        span = np.maximum(hi - lo, 1e-9)
        scale = min((self.width() - 150) / span[0], (self.height() - 50) / span[1])  # room for labels
        return (lo + hi) / 2, max(scale, 1e-6)

    def to_screen(self, point: np.ndarray) -> QPointF:
        centre, scale = self._fit()
        return QPointF(self.width() / 2 + (point[0] - centre[0]) * scale,
                       self.height() / 2 - (point[1] - centre[1]) * scale)  # y up, as in a plot

    def to_plane(self, position: QPointF) -> np.ndarray:
        centre, scale = self._fit()
        return np.array([centre[0] + (position.x() - self.width() / 2) / scale,
                         centre[1] - (position.y() - self.height() / 2) / scale])

    def focus_position(self) -> QPointF | None:
        if self.focus is None or self.focus >= len(self.queries):
            return None
        return self.to_screen(self.queries[self.focus])

    # -- mouse ----------------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        spot = self.focus_position()
        if (spot is not None and event.button() == Qt.MouseButton.LeftButton
                and np.hypot(event.position().x() - spot.x(), event.position().y() - spot.y()) <= GRAB_RADIUS):
            self._frame = self._fit()
            self._grab = (event.position(), self.queries[self.focus].copy())
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            self.drag_started.emit()
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._grab is None:
            spot = self.focus_position()
            near = spot is not None and np.hypot(event.position().x() - spot.x(),
                                                 event.position().y() - spot.y()) <= GRAB_RADIUS
            self.setCursor(Qt.CursorShape.OpenHandCursor if near else Qt.CursorShape.ArrowCursor)
            return
        press, start = self._grab
        _, scale = self._frame
        moved = event.position() - press
        target = start + np.array([moved.x(), -moved.y()]) / scale
        self.query_moved.emit(float(target[0]), float(target[1]))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._grab is None:
            return super().mouseReleaseEvent(event)
        self._grab = None
        self._frame = None
        self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.drag_finished.emit()
        self.update()
        event.accept()

    # -- drawing --------------------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        theme = _theme(self)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), theme.background)
        if not len(self.keys):
            paint_message(painter, QRectF(self.rect()), "The chosen head's queries and keys appear here.", theme)
            return
        painter.setFont(theme.font(10))
        weights = self.weights_row if self.weights_row is not None else np.zeros(len(self.keys))
        for j, key in enumerate(self.keys):
            spot = self.to_screen(key)
            radius = 3 + 9 * float(np.sqrt(max(weights[j], 0.0))) if j < len(weights) else 3
            painter.setPen(QPen(theme.line, 1))
            painter.setBrush(QColor(theme.line.red(), theme.line.green(), theme.line.blue(), 90))
            painter.drawEllipse(spot, radius, radius)
            painter.setPen(theme.text)
            painter.drawText(spot + QPointF(radius + 2, 4), self.labels[j] if j < len(self.labels) else "")
        painter.setPen(QPen(theme.muted, 1))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for i, query in enumerate(self.queries):
            if i != self.focus:
                spot = self.to_screen(query)
                painter.drawRect(QRectF(spot.x() - 2.5, spot.y() - 2.5, 5, 5))
        spot = self.focus_position()
        if spot is None:
            return
        if self.original is not None:
            ghost = self.to_screen(self.original)
            painter.setPen(QPen(theme.muted, 1, Qt.PenStyle.DashLine))
            painter.drawLine(ghost, spot)
            painter.drawRect(QRectF(ghost.x() - 4, ghost.y() - 4, 8, 8))
        painter.setPen(QPen(theme.text, 1.5))
        painter.setBrush(theme.highlight)
        painter.drawRect(QRectF(spot.x() - 6, spot.y() - 6, 12, 12))
        label = self.labels[self.focus] if self.focus < len(self.labels) else ""
        painter.setFont(theme.font(11, bold=True))
        painter.drawText(spot + QPointF(9, -8), f"q({label})")
