"""The query–key space: the focused query and every key as points in a plane the learner can drag in.

Two kinds of plane:
* the *best plane* (default): spanned by the focused query q and the keys' main spread perpendicular to q.
  The query lies in it — and stays in it, since a drag moves q only within the plane — so the 2-D dot
  product of the drawn points *is* the head's true q·k: nothing is hidden by the projection;
* two named dimensions of the head, which is easier to read but leaves the other dimensions out of the picture.

Dragging the query calls ``controller.set_components`` on every move with one merge key, and
``controller.end_merge()`` on release, so a whole drag is one undo step. The plane and the drawing scale stay
fixed while the learner edits from here (or the points would slide under the cursor); any other change fits
them again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg  # only the Qt panels import pyqtgraph; the engine and the scene never do
from PySide6.QtCore import QEvent, QLineF, QObject, QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPalette, QPicture
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGraphicsItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from attnstudio.engine import split_heads
from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.widgets import LiveLabelBox, name_widget, signals_blocked
from attnstudio.scene import SceneResult

__all__ = ["Plane", "QueryKeySpace", "best_plane", "dims_plane", "largest_dims", "query_draw_scale"]

VIEW_BEST, VIEW_DIMS = "best", "dims"
NUDGE, BIG_NUDGE = 0.1, 1.0  # arrow keys move q by this much along a plane axis (Shift: the big step)
TINY = 1e-12  # below this a length counts as zero
MAX_KEY_LABELS = 6  # with more keys, only the most-attended carry a label (the others overlap; hover names them)
STEADY_FILL = 0.6  # an edit keeps the view while the points span at least this much of it (see fit_view)


# -- geometry (NumPy only) ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Plane:
    """Two orthonormal directions in one head's query–key space, named for the axis labels."""

    basis: np.ndarray  # (d_head, 2): column 0 is the x direction, column 1 the y direction
    x_label: str
    y_label: str
    dims: tuple[int, int] | None = None  # head-local dimensions when the plane is two named dimensions
    detail: str = ""  # what the directions are made of, for the caption (axis labels must stay short)

    def project(self, vectors: np.ndarray) -> np.ndarray:
        return vectors @ self.basis  # (n, d_head) @ (d_head, 2) -> (n, 2)

    def touched(self) -> np.ndarray:
        """Head-local dimensions that a move within the plane changes."""
        return np.flatnonzero(np.abs(self.basis).max(axis=1) > TINY)


def largest_dims(query: np.ndarray) -> tuple[int, int]:
    """The two head-local dimensions where the query is largest in magnitude (the first ones on a tie)."""
    order = np.argsort(-np.abs(query), kind="stable")
    return int(order[0]), int(order[1] if len(order) > 1 else order[0])


def dims_plane(dim_x: int, dim_y: int, names: list[str]) -> Plane:
    basis = np.zeros((len(names), 2))
    basis[dim_x, 0] = 1.0
    if dim_y != dim_x:
        basis[dim_y, 1] = 1.0  # a one-dimensional head has no second axis: y stays 0
    return Plane(basis, names[dim_x], names[dim_y] if dim_y != dim_x else "—", (dim_x, dim_y))


def _describe(direction: np.ndarray, names: list[str]) -> str:
    """'0.71·animal + 0.52·identity 3 …': the two largest parts of a unit direction."""
    order = np.argsort(-np.abs(direction), kind="stable")[:2]
    parts = [f"{direction[i]:+.2f}·{names[i]}".replace("-", "\u2212") for i in order if abs(direction[i]) > 0.005]
    text = " ".join(parts).lstrip("+")
    return text + (" + …" if np.count_nonzero(np.abs(direction) > 0.005) > len(parts) else "")


def _sign_fixed(direction: np.ndarray) -> np.ndarray:
    """SVD directions have no sign; make the largest part positive so the same data gives the same picture."""
    return -direction if direction[np.argmax(np.abs(direction))] < 0 else direction


def _complete(columns: list[np.ndarray], d: int) -> list[np.ndarray]:
    """Add unit vectors orthogonal to ``columns`` (Gram–Schmidt on the standard basis) until there are two."""
    for i in range(d):
        if len(columns) >= 2:
            break
        e = np.zeros(d)
        e[i] = 1.0
        for c in columns:
            e -= (e @ c) * c
        if np.linalg.norm(e) > 1e-6:
            columns.append(e / np.linalg.norm(e))
    while len(columns) < 2:
        columns.append(np.zeros(d))  # a one-dimensional head
    return columns


def best_plane(query: np.ndarray, keys: np.ndarray, names: list[str]) -> Plane:
    """The plane through the origin spanned by q and the keys' largest spread perpendicular to q.

    ``query (d_head,)``, ``keys (n_k, d_head)``. Because q lies in the plane, ``(Pᵀq)·(Pᵀk) = q·PPᵀk = q·k``
    for every key: the picture's dot products are the true ones. Without a query (q = 0) it is the keys'
    best-fitting plane through the origin (uncentred SVD: dot products are about the origin, not the mean).
    """
    d = len(names)
    q_len = float(np.linalg.norm(query))
    if q_len > TINY:
        along = query / q_len
        rest = keys - np.outer(keys @ along, along)  # (n_k, d_head): the keys with their q part removed
        columns = [along]
        spread = _top_directions(rest, 1)
        columns = _complete([along, *spread], d)
        x_label, y_label = "along q", "keys' spread ⟂ q" if spread else "⟂ q"
        detail = f"Vertical: {_describe(columns[1], names)}."
    else:
        columns = _complete(_top_directions(keys, 2), d)
        x_label, y_label = "keys' main spread", "keys' second spread"
        detail = f"Horizontal: {_describe(columns[0], names)}; vertical: {_describe(columns[1], names)}."
    return Plane(np.stack(columns, axis=1), x_label, y_label, detail=detail)


def _top_directions(vectors: np.ndarray, count: int) -> list[np.ndarray]:
    if vectors.size == 0:
        return []
    _, singular, vt = np.linalg.svd(vectors, full_matrices=False)
    return [_sign_fixed(vt[i]) for i in range(min(count, len(singular))) if singular[i] > 1e-9]


def query_draw_scale(query_2d: np.ndarray, keys_2d: np.ndarray) -> float:
    """A power of two to divide q by so that it is drawn about as long as the keys (1 if it already is).

    The toy model's W_Q stretches meaning 16×, so at true length the keys would huddle in a corner.
    """
    q_len = float(np.linalg.norm(query_2d))
    k_len = float(np.max(np.linalg.norm(keys_2d, axis=1))) if len(keys_2d) else 0.0
    if k_len <= TINY or q_len <= 1.5 * k_len:
        return 1.0
    return float(2 ** math.ceil(math.log2(q_len / (1.5 * k_len))))


def head_vectors(result: SceneResult) -> tuple[np.ndarray, np.ndarray]:
    """The current head's slice of every query and key: ``(n_q, d_head)`` and ``(n_k, d_head)``."""
    h = result.num_heads
    return split_heads(result.q, h)[result.head], split_heads(result.k, h)[result.head]


def _fraction(value: float) -> str:
    return "½" if value == 2 else "¼" if value == 4 else "⅛" if value == 8 else f"1/{value:g}"


# -- the panel ------------------------------------------------------------------------------------------
@guard_overrides
class _GridAxis(pg.AxisItem):
    """An axis that draws only what lies in the repainted part of the plot.

    With the grid on, pyqtgraph draws the grid lines as long ticks, so an axis's bounding rect covers the whole
    plot and every partial repaint inside it (the key points moving after an edit) replayed the axis's whole
    picture, ~0.5 ms an axis on this view. The same lines and the same text are drawn, with the same pens, in
    the same order, but the lines are clipped to the exposed rect and the labels' text is skipped when the
    exposed rect cannot touch it. The lines are aliased and axis-parallel and the repaint is clipped to the
    exposed part anyway, so no pixel changes.
    """

    TEXT_MARGIN = 8.0  # px around the labels' rects: glyph overhang and antialiasing

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self._lines: list[tuple] = []  # (pen, [QLineF]): the axis line, then the ticks and grid lines, in order
        self._text_picture: QPicture | None = None
        self._text_area = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption)  # a real option.exposedRect

    def drawPicture(self, p, axisSpec, tickSpecs, textSpecs) -> None:  # noqa: N802, N803 (pyqtgraph names)
        """Keep the lines to draw and record the text (as pyqtgraph's drawPicture does, after the lines)."""
        self._lines = []
        for pen, p1, p2 in [axisSpec, *tickSpecs]:  # one drawLines per run of equal pens, in pyqtgraph's order
            if self._lines and self._lines[-1][0] == pen:
                self._lines[-1][1].append(QLineF(p1, p2))
            else:
                self._lines.append((pen, [QLineF(p1, p2)]))
        picture = QPicture()
        painter = QPainter(picture)
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
            if self.style["tickFont"] is not None:
                painter.setFont(self.style["tickFont"])
            painter.setPen(self.textPen())
            painter.setClipRect(self.boundingRect().toAlignedRect())
            area = QRectF()
            for rect, flags, text in textSpecs:
                painter.drawText(rect, int(flags), text)
                area = area.united(rect)
        finally:
            painter.end()
        m = self.TEXT_MARGIN
        self._text_picture, self._text_area = picture, area.adjusted(-m, -m, m, m)

    def paint(self, p, opt, widget) -> None:
        if self.picture is None:  # pyqtgraph's mark for "ticks, size or style changed": lay them out again
            self._lines, self._text_picture = [], None
            picture = QPicture()  # pyqtgraph measures the labels with a painter on a picture
            painter = QPainter(picture)
            try:
                if self.style["tickFont"]:
                    painter.setFont(self.style["tickFont"])
                specs = self.generateDrawSpecs(painter)
                if specs is not None:
                    self.drawPicture(painter, *specs)
            finally:
                painter.end()
            self.picture = picture
        exposed = QRectF(opt.exposedRect)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        # A rect clip: long lines through the repaint's region clip alone cost ~4x as much to draw.
        p.setClipRect(exposed.adjusted(-2.0, -2.0, 2.0, 2.0), Qt.ClipOperation.IntersectClip)
        for pen, lines in self._lines:
            p.setPen(pen)
            p.drawLines(lines)
        p.restore()
        if self._text_picture is not None and exposed.intersects(self._text_area):
            self._text_picture.play(p)


@guard_overrides
class QueryKeySpace(QWidget):
    """The focused query and all keys of the current head in a plane; drag (or arrow-key) the query."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "queryKeySpace", "Query–key space",
                    "The focused query (arrow) and the keys (dots; bigger = more weight). Drag the query, or use "
                    "the arrow keys (Shift: bigger steps), and watch the weights follow.")
        self.controller = controller
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.plane: Plane | None = None
        self.query_scale = 1.0  # q is drawn at 1/query_scale of its length
        self._user_dims: tuple[int, int] | None = None  # model dimensions the learner picked
        self._own_edit = False  # True while our own edit echoes back: keep the plane still
        self._pending: bool | None = None  # a refresh waits for the next event-loop turn; True: with a refit
        self._steady = False  # that refit may keep the view when every point is still comfortably in it
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self._on_refresh_timer)
        self._placing = False  # True while the view moves the query point itself
        self._drag_start: np.ndarray | None = None  # the head's q when the current drag began
        self._key_info: tuple | None = None  # what the key tips are made from (see _key_tip)
        self._build()
        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)
        self._schedule(refit=True)  # filled on the first event-loop turn: the window shows without waiting

    # -- construction -----------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view_mode = name_widget(QComboBox(self), "qkView", "Plane shown",
                                     "Best plane: through the query and the keys' main spread; the query lies in "
                                     "it, so the dot products you see are the true ones. Two dimensions: plain axes.")
        self.view_mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.view_mode.setMinimumContentsLength(10)  # elide rather than force the dock wider than 1280×800 allows
        self.view_mode.addItem("Best 2-D plane (exact q·k)", VIEW_BEST)
        self.view_mode.addItem("Two dimensions", VIEW_DIMS)
        self.dim_x = name_widget(QComboBox(self), "qkDimX", "Horizontal dimension", "Dimension on the horizontal axis")
        self.dim_y = name_widget(QComboBox(self), "qkDimY", "Vertical dimension", "Dimension on the vertical axis")
        self.true_length = name_widget(QCheckBox("true length", self), "qkTrueLength", "Query at true length",
                                       "Draw the query at its real length (the keys may then huddle near the origin).")
        self.fit_button = name_widget(QPushButton("Fit", self), "qkFit", "Fit the view",
                                      "Zoom so the query, the keys and the origin are all visible")
        # No context menus: enableMenu=False spares the view box its menu (two settings forms, ~3 ms of every
        # start) instead of building it and throwing it away; the plot's own menu is switched off just after.
        axes = {side: _GridAxis(side) for side in ("bottom", "left")}
        self.plot = name_widget(pg.PlotWidget(self, enableMenu=False, axisItems=axes), "qkPlot",
                                "Query and key points", "Drag the round handle (the query). Drag elsewhere to pan, wheel to zoom.")
        self.plot.setAntialiasing(True)
        # One rect around what moved instead of pyqtgraph's region of many small rects: every item (the axes'
        # grid lines across the plot above all) paints several times faster through a rect clip; same pixels.
        self.plot.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.BoundingRectViewportUpdate)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=True, y=True, alpha=0.25)
        self.plot.setMinimumSize(220, 200)
        self.plot.installEventFilter(self)
        self.caption = name_widget(QLabel(self), "qkCaption", "What the plane shows")
        self.caption.setWordWrap(True)
        self.readout = name_widget(QLabel(self), "qkReadout", "Hovered key")
        self.readout.setWordWrap(True)
        self.readout.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._build_items()

        controls = QHBoxLayout()
        controls.addWidget(self.view_mode, 1)
        controls.addWidget(self.true_length)
        controls.addWidget(self.fit_button)
        # The dimension pickers only mean something for plain axes: shown in that view only. Hidden from the
        # start (the best plane is the default): hidden only by the first fill, the plot grew after the first
        # frame, and the window laid out and painted it a second time.
        self.dims_row = QWidget(self)
        self.dims_row.setVisible(False)
        dims = QHBoxLayout(self.dims_row)
        dims.setContentsMargins(0, 0, 0, 0)
        for text, combo in (("&x", self.dim_x), ("&y", self.dim_y)):
            label = QLabel(text, self.dims_row)
            label.setBuddy(combo)
            dims.addWidget(label)
            dims.addWidget(combo, 1)
        content = QWidget(self)
        column = QVBoxLayout(content)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(controls)
        column.addWidget(self.dims_row)
        column.addWidget(self.plot, 1)
        column.addWidget(LiveLabelBox(self.caption, self))  # both change at every edit
        column.addWidget(LiveLabelBox(self.readout, self))
        self.empty = name_widget(QLabel("Type a sentence on each side to see its queries and keys here.", self),
                                 "qkEmpty", "No tokens yet")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(content)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.stack)

        self.view_mode.activated.connect(self._on_view_mode)
        self.dim_x.activated.connect(self._on_dim_x)
        self.dim_y.activated.connect(self._on_dim_y)
        self.true_length.toggled.connect(self._on_true_length)
        self.fit_button.clicked.connect(self.fit_view)

    def _build_items(self) -> None:
        self.axis_lines = [pg.InfiniteLine(pos=0, angle=angle, movable=False) for angle in (0, 90)]
        for line in self.axis_lines:
            self.plot.addItem(line, ignoreBounds=True)
        # No tip=self._key_tip: a bound method stored in the item makes a reference cycle through the panel,
        # and a panel that the garbage collector deletes mid-paint crashes pyqtgraph. The hover slot sets it.
        self.keys = pg.ScatterPlotItem(pxMode=True, hoverable=True, tip=None)
        self.keys.sigHovered.connect(self._on_keys_hovered)
        self.plot.addItem(self.keys)
        self.labels: list[pg.TextItem] = []
        self.query_line = pg.PlotCurveItem()
        self.plot.addItem(self.query_line)
        self.query_head = pg.ArrowItem(headLen=18, headWidth=9, tailLen=0, pen=None)
        self.plot.addItem(self.query_head)
        self.query_point = pg.TargetItem(pos=(0, 0), size=18, symbol="o", movable=True)
        self.query_point.setZValue(10)
        self.query_point.sigPositionChanged.connect(self._on_query_dragged)
        self.query_point.sigPositionChangeFinished.connect(self._on_drag_finished)
        self.plot.addItem(self.query_point)
        self.query_label = pg.TextItem(anchor=(1.1, 1.1))  # up and left: key labels sit to the right
        self.query_label.setZValue(11)
        self.plot.addItem(self.query_label)
        self._apply_palette()

    # -- colours --------------------------------------------------------------------------------------------
    def _dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightnessF() < 0.5

    def _query_colour(self) -> QColor:
        return QColor(120, 175, 255) if self._dark() else QColor(25, 90, 200)

    def _key_colour(self) -> QColor:
        return QColor(255, 150, 60) if self._dark() else QColor(215, 95, 0)

    def _apply_palette(self) -> None:
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.Text)
        self.plot.setBackground(pal.color(QPalette.ColorRole.Base))
        for name in ("bottom", "left"):
            axis = self.plot.getAxis(name)
            axis.setPen(pg.mkPen(text))
            axis.setTextPen(pg.mkPen(text))
            axis.enableAutoSIPrefix(False)  # "(x0.001)" on a unitless axis reads as a different quantity
        faint = QColor(text)
        faint.setAlphaF(0.45)
        for line in self.axis_lines:
            line.setPen(pg.mkPen(faint, width=1))
        q = self._query_colour()
        self.query_line.setPen(pg.mkPen(q, width=2.5))
        self.query_head.setStyle(brush=pg.mkBrush(q))
        ring = QColor(q)
        ring.setAlphaF(0.25)
        self.query_point.setPen(pg.mkPen(q, width=2.5))
        self.query_point.setBrush(pg.mkBrush(ring))
        self.query_point.setHoverPen(pg.mkPen(q, width=4))
        ring.setAlphaF(0.5)
        self.query_point.setHoverBrush(pg.mkBrush(ring))
        self.query_label.setColor(q)
        for label in self.labels:
            label.setColor(text)
        key = self._key_colour()
        self._key_brushes = []
        for shade in range(10):
            fill = QColor(key)
            fill.setAlphaF(0.3 + 0.7 * shade / 9)
            self._key_brushes.append(pg.mkBrush(fill))
        self._key_pen = pg.mkPen(key.darker(130))
        grey = QColor(128, 128, 128)
        self._masked_pen = pg.mkPen(grey, width=2)
        grey.setAlphaF(0.8)
        self._masked_brush = pg.mkBrush(grey)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.PaletteChange:
            self._apply_palette()
            self.refresh(refit=False)
        super().changeEvent(event)

    # -- model → view -------------------------------------------------------------------------------------
    def _on_scene_changed(self, what: frozenset) -> None:
        self._schedule(refit=not self._own_edit, steady=what <= {"vectors"})  # an edit of a number

    def _on_focus_changed(self, _focus: int) -> None:
        self._schedule(refit=True)

    def _schedule(self, refit: bool, steady: bool = False) -> None:
        """Refresh on the next event-loop turn, once for any number of changes before it.

        The canvas, heatmap, inspector and trace then paint an edit first; this view (pyqtgraph moving ~n
        labels, 1–10 ms) follows a moment later instead of delaying all of them.
        """
        if self._pending is None:
            self._refresh_timer.start()
            self._steady = steady
        self._steady = self._steady and steady
        self._pending = bool(self._pending) or refit

    def flush(self) -> None:
        """Bring the view up to date now if a change is waiting (it otherwise does on the next turn)."""
        if self._pending is not None:
            refit, self._pending = self._pending, None
            self.refresh(refit=refit, steady=self._steady)

    def _on_refresh_timer(self) -> None:
        # Not while hidden (a closed dock, a window closing or being torn down): it catches up when shown.
        if self.isVisible():
            self.flush()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._pending is not None:
            self._refresh_timer.start()

    def _focus(self, result: SceneResult) -> int:
        return min(self.controller.scene.focus, len(result.query_words) - 1)

    def _head_names(self, result: SceneResult) -> list[str]:
        d_head = result.q.shape[1] // result.num_heads
        return self.controller.scene.model.dimension_names[result.head * d_head:(result.head + 1) * d_head]

    def refresh(self, refit: bool = True, steady: bool = False) -> None:
        """Redraw from the controller's result; ``refit`` also chooses the plane and fits the view again
        (``steady``: unless everything is still comfortably in view, see :meth:`fit_view`)."""
        result = self.controller.result()
        if not result.query_words or not result.key_words:
            self.stack.setCurrentWidget(self.empty)
            self.plane = None
            return
        self.stack.setCurrentIndex(0)
        focus = self._focus(result)
        queries, keys = head_vectors(result)
        names = self._head_names(result)
        if refit or self.plane is None or self.plane.basis.shape[0] != len(names):
            self._fill_dim_combos(names, result)
            self.plane = self._choose_plane(queries[focus], keys, names, result)
            self.query_scale = 1.0 if self.true_length.isChecked() else query_draw_scale(
                self.plane.project(queries[focus][None, :])[0], self.plane.project(keys))
        self._draw(result, focus, queries[focus], keys)
        if refit:
            self.fit_view(steady=steady)

    def _head_offset(self, result: SceneResult) -> int:
        return result.head * (result.q.shape[1] // result.num_heads)

    def _fill_dim_combos(self, names: list[str], result: SceneResult) -> None:
        offset = self._head_offset(result)
        for combo in (self.dim_x, self.dim_y):
            if [combo.itemData(i) for i in range(combo.count())] != list(range(offset, offset + len(names))):
                with signals_blocked(combo):
                    combo.clear()
                    for i, name in enumerate(names):
                        combo.addItem(name, offset + i)

    def _choose_plane(self, query: np.ndarray, keys: np.ndarray, names: list[str], result: SceneResult) -> Plane:
        offset = self._head_offset(result)
        dims = largest_dims(query)
        if self._user_dims is not None and all(0 <= d - offset < len(names) for d in self._user_dims):
            dims = (self._user_dims[0] - offset, self._user_dims[1] - offset)
        with signals_blocked(self.dim_x), signals_blocked(self.dim_y):
            self.dim_x.setCurrentIndex(dims[0])
            self.dim_y.setCurrentIndex(dims[1])
        by_dims = self.view_mode.currentData() == VIEW_DIMS
        self.dims_row.setVisible(by_dims)
        if by_dims:
            return dims_plane(dims[0], dims[1], names)
        return best_plane(query, keys, names)

    def _draw(self, result: SceneResult, focus: int, query: np.ndarray, keys: np.ndarray) -> None:
        plane = self.plane
        weights = result.weights[focus]  # (n_k,)
        scores = result.scores[focus]
        raw = keys @ query  # (n_k,) the head's q·k before scale and temperature
        allowed = np.ones(len(weights), bool) if result.mask is None else result.mask[focus]
        keys_2d = plane.project(keys)
        query_2d = plane.project(query[None, :])[0] / self.query_scale
        # Whole pixels and ten shades: pyqtgraph renders each distinct (size, brush) once and reuses it, so a
        # drag over 128 keys does not draw 128 new symbol images per step.
        sizes = np.where(allowed, np.round(7.0 + 30.0 * np.sqrt(np.clip(weights, 0.0, 1.0))), 9.0)  # area ∝ weight
        shades = np.round(np.clip(weights, 0.0, 1.0) * 9).astype(int)
        brushes = [self._key_brushes[s] if ok else self._masked_brush for s, ok in zip(shades, allowed)]
        if allowed.all():  # one pen and one symbol for every key: pyqtgraph then skips two per-key lists
            pens, symbols = self._key_pen, "o"
        else:
            pens = [self._key_pen if ok else self._masked_pen for ok in allowed]
            symbols = ["o" if ok else "x" for ok in allowed]
        self.keys.setData(pos=keys_2d, size=sizes, brush=brushes, symbol=symbols, pen=pens,
                          data=np.arange(len(weights)))
        self._key_info = (result, raw, scores, weights, allowed)  # described when hovered, not at every edit
        self._draw_labels(result, keys_2d, weights, allowed, sizes)
        self._place_query(query_2d)
        word = result.query_words[focus].token.surface
        self.query_label.setText(f"{word} (q)")
        for side, text in (("bottom", plane.x_label), ("left", plane.y_label)):
            if self.plot.getAxis(side).labelText != text:  # a new label redraws the axis and its grid
                self.plot.setLabel(side, text)
        self._write_caption(result, word)
        top = int(np.argmax(weights))
        self.readout.setText(f"“{word}” looks most at “{result.key_words[top].token.surface}” "
                             f"({weights[top]:.1%}). Hover a key for its q·k and weight.")

    def _draw_labels(self, result: SceneResult, keys_2d: np.ndarray, weights: np.ndarray, allowed: np.ndarray,
                     sizes: np.ndarray) -> None:
        def key_text(i: int) -> str:  # only for the keys labelled, not all n
            surface = result.key_words[i].token.surface
            return f"{surface} {weights[i]:.0%}" if allowed[i] else f"{surface} (masked)"

        # Keys drawn on the same spot ("Le" and "le" without position dimensions) share one label.
        span = float(np.ptp(keys_2d, axis=0).max()) if len(keys_2d) > 1 else 1.0
        spots = np.round(keys_2d / max(span, TINY) * 500).astype(np.int64)
        first: dict[tuple[int, int], list[int]] = {}
        for j, spot in enumerate(map(tuple, spots.tolist())):  # Python ints: ~3x faster than NumPy rows
            first.setdefault(spot, []).append(j)
        shown = {group[0]: group for group in first.values()}
        if len(shown) > MAX_KEY_LABELS:  # a crowd of labels is unreadable: keep the strongest keys' labels
            strength = [w if ok else -1.0 for w, ok in zip(weights.tolist(), allowed.tolist())]
            strongest = sorted(shown, key=lambda j: -max(strength[i] for i in shown[j]))
            shown = {j: shown[j] for j in strongest[:MAX_KEY_LABELS]}
        # One text item per label shown, not per key (each costs ~1 ms to build and is touched at every edit). The
        # k-th labelled key, in key order, gets the k-th item: labels that overlap stack as they always have.
        labelled = sorted(shown)
        text_colour = self.palette().color(QPalette.ColorRole.Text)
        while len(self.labels) < len(labelled):
            label = pg.TextItem(color=text_colour, anchor=(-0.15, 0.5))
            self.plot.addItem(label)
            self.labels.append(label)
        for label in self.labels[len(labelled):]:
            label.setVisible(False)
        for j, label in zip(labelled, self.labels):
            group = shown[j]
            text = " · ".join(key_text(i) for i in group[:3]) + (f" +{len(group) - 3}" if len(group) > 3 else "")
            if label.toPlainText() != text:
                label.setText(text)
            # Start the text just right of the dot, however big the dot has grown (anchor is in text widths).
            width = max(label.textItem.boundingRect().width(), 1.0)
            anchor = (-(float(sizes[j]) / 2 + 3) / width, 0.5)
            if tuple(label.anchor) != anchor:
                label.setAnchor(anchor)
            label.setPos(float(keys_2d[j, 0]), float(keys_2d[j, 1]))
            label.setVisible(True)

    def _place_query(self, point: np.ndarray) -> None:
        x, y = float(point[0]), float(point[1])
        self._placing = True
        try:
            if self._drag_start is None:  # while dragging, pyqtgraph already put the handle under the cursor
                self.query_point.setPos(x, y)
        finally:
            self._placing = False
        self.query_line.setData([0.0, x], [0.0, y])
        anchor = self._query_label_anchor(x, y)
        if tuple(self.query_label.anchor) != anchor:
            self.query_label.setAnchor(anchor)
        self.query_label.setPos(x, y)
        self.query_head.setPos(x, y)
        # ArrowItem's angle is on screen (y down) and 0° points left; the plot's y axis points up.
        self.query_head.setStyle(angle=math.degrees(math.atan2(y, -x)) if (x or y) else 0.0)
        self.query_head.setVisible(bool(x or y))

    def _query_label_anchor(self, x: float, y: float) -> tuple[float, float]:
        """Up and left of the handle, or down and left when more keys sit just above it.

        Key labels run to the right of their dots, so a key up to ~3/4 of the plot to the left still reaches in.
        """
        xs, ys = self.keys.getData()
        if xs is None or not len(xs):
            return (1.1, 1.1)
        span_x = max(float(np.ptp(np.append(xs, [0.0, x]))), TINY)
        span_y = max(float(np.ptp(np.append(ys, [0.0, y]))), TINY)
        near = (xs > x - 0.75 * span_x) & (xs < x + 0.05 * span_x)
        above = int((near & (ys >= y) & (ys < y + 0.15 * span_y)).sum())
        below = int((near & (ys < y) & (ys > y - 0.15 * span_y)).sum())
        return (1.1, -0.1) if above > below else (1.1, 1.1)

    def _write_caption(self, result: SceneResult, word: str) -> None:
        n_dims = self.plane.basis.shape[0]
        head = f"head {result.head + 1} of {result.num_heads}, " if result.num_heads > 1 else ""
        if self.plane.dims is None:
            text = (f"Plane through q of “{word}” and the keys' main spread ({head}{n_dims} dimensions): q lies in it, "
                    f"so the dot products you see here are the true q·k. {self.plane.detail}")
        else:
            text = f"Showing 2 of {n_dims} dimensions ({head.rstrip(', ')}); q·k also counts the other {n_dims - 2}."
        if self.query_scale != 1.0:
            text += f" q is drawn at {_fraction(self.query_scale)} of its length so the keys stay readable."
        if self.controller.scene.settings.variant == "uniform":
            text += " Equal weighting is on: moving q changes no weight — every word gets the same average."
        self.caption.setText(text)

    def _describe_key(self, result: SceneResult, j: int, raw: float, score: float, weight: float, ok: bool) -> str:
        surface = result.key_words[j].token.surface
        if not ok:
            return f"“{surface}”: masked (may not be looked at) → weight 0"
        if self.controller.scene.settings.variant == "uniform":
            return f"“{surface}”: equal weighting ignores q·k ({raw:.3g}) → weight {weight:.1%}"
        return f"“{surface}”: q·k = {raw:.4g}, score = {score:.4g} → weight {weight:.1%}".replace("-", "\u2212")

    def _key_tip(self, x: float, y: float, data: object) -> str:
        j = int(data)
        if self._key_info is None or not 0 <= j < len(self._key_info[3]):
            return ""
        result, raw, scores, weights, allowed = self._key_info
        return self._describe_key(result, j, float(raw[j]), float(scores[j]), float(weights[j]), bool(allowed[j]))

    def _on_keys_hovered(self, _item: object, points: object, _event: object) -> None:
        text = "\n".join(self._key_tip(0.0, 0.0, p.data()) for p in list(points)[:3])
        self.plot.getViewBox().setToolTip(text)
        if text:
            self.readout.setText(text)

    def fit_view(self, steady: bool = False) -> None:
        """Zoom so the origin, the keys and the query are all in view.

        ``steady`` (an edit of a number): keep the view while all of that is inside it and fills at least
        ``STEADY_FILL`` of it in its tighter direction. A view that holds still while a learner types or nudges
        is easier to follow, and pyqtgraph then need not draw its axes again (most of this view's cost).
        """
        self.flush()
        if self.plane is None:
            return
        pos = self.keys.getData()
        xs = [0.0, self.query_point.pos().x(), *map(float, pos[0])]
        ys = [0.0, self.query_point.pos().y(), *map(float, pos[1])]
        left, right, bottom, top = min(xs), max(xs), min(ys), max(ys)
        span = max(right - left, top - bottom, 1e-3)
        margin = 0.12 * span  # room for the labels to the right of the points
        wanted = QRectF(left - margin, bottom - margin, right - left + 2.5 * margin, top - bottom + 2 * margin)
        view = self.plot.getViewBox()
        if steady:
            shown = view.viewRect()
            fill = max(wanted.width() / max(shown.width(), 1e-12), wanted.height() / max(shown.height(), 1e-12))
            if shown.contains(wanted) and fill >= STEADY_FILL:
                return
            # Moved out: fit with some room to spare, so that the next small steps stay inside.
            wanted.adjust(-0.1 * wanted.width(), -0.1 * wanted.height(), 0.1 * wanted.width(), 0.1 * wanted.height())
        view.setRange(wanted, padding=0)

    # -- view → controller ----------------------------------------------------------------------------------
    def _on_view_mode(self, _row: int) -> None:
        self.refresh(refit=True)

    def _on_dim_x(self, row: int) -> None:
        self._pick_dims(self.dim_x.itemData(row), self.dim_y.currentData(), swap=self.dim_x)

    def _on_dim_y(self, row: int) -> None:
        self._pick_dims(self.dim_x.currentData(), self.dim_y.itemData(row), swap=self.dim_y)

    def _pick_dims(self, dim_x: int, dim_y: int, swap: QComboBox) -> None:
        if dim_x == dim_y and self._user_dims is not None:
            other = self._user_dims[1] if swap is self.dim_x else self._user_dims[0]
            dim_x, dim_y = (dim_x, other) if swap is self.dim_x else (other, dim_y)
        self._user_dims = (dim_x, dim_y)
        with signals_blocked(self.view_mode):
            self.view_mode.setCurrentIndex(self.view_mode.findData(VIEW_DIMS))
        self.refresh(refit=True)

    def _on_true_length(self, _on: bool) -> None:
        self.refresh(refit=True)

    def _query_edit_target(self) -> tuple[SceneResult, int, np.ndarray] | None:
        self.flush()  # a key or a drag may come before the deferred refresh: never move a stale plane's query
        result = self.controller.result()
        if self.plane is None or not result.query_words or not result.key_words:
            return None
        focus = self._focus(result)
        return result, focus, head_vectors(result)[0][focus]

    def _move_query(self, start: np.ndarray, target_2d: np.ndarray, text: str, merge_key: object) -> bool:
        """Set the head's q so that its plane coordinates are ``target_2d`` (true units); other parts stay."""
        result = self.controller.result()
        focus = self._focus(result)
        offset = self._head_offset(result)
        plane = self.plane
        if plane.dims is not None:  # exact values on the two named axes, no round-off from the formula below
            new = start.copy()
            new[plane.dims[0]] = target_2d[0]
            if plane.dims[1] != plane.dims[0]:
                new[plane.dims[1]] = target_2d[1]
        else:
            new = start + plane.basis @ (target_2d - plane.project(start[None, :])[0])  # q + P·Δ
        side = self.controller.scene.query_side()
        values = {(side, focus, "q", offset + int(i)): float(new[i]) for i in plane.touched()}
        self._own_edit = True
        try:
            return self.controller.set_components(values, text, merge_key=merge_key)
        finally:
            self._own_edit = False

    def _on_query_dragged(self, item: pg.TargetItem) -> None:
        if self._placing:
            return
        target = self._query_edit_target()
        if target is None:
            return
        result, focus, query = target
        if self._drag_start is None:
            self._drag_start = query.copy()
        pos = item.pos()
        word = result.query_words[focus].token.surface
        self._move_query(self._drag_start, np.array([pos.x(), pos.y()]) * self.query_scale,
                         f"Drag the query of '{word}'", ("qk-drag", focus))

    def _on_drag_finished(self, _item: object = None) -> None:
        self._drag_start = None
        self.controller.end_merge()
        self.refresh(refit=False)  # snap the handle back to what the scene accepted

    def nudge(self, dx: float, dy: float) -> bool:
        """Move the query by (dx, dy) along the plane's axes, in q's own units; one undo step."""
        target = self._query_edit_target()
        if target is None:
            return False
        result, focus, query = target
        word = result.query_words[focus].token.surface
        here = self.plane.project(query[None, :])[0]
        return self._move_query(query, here + np.array([dx, dy]), f"Nudge the query of '{word}'", None)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt name)
        if watched is self.plot and event.type() == QEvent.Type.KeyPress and self._handle_key(event):
            return True
        return super().eventFilter(watched, event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if not self._handle_key(event):
            super().keyPressEvent(event)

    def _handle_key(self, event: QKeyEvent) -> bool:
        steps = {Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0), Qt.Key.Key_Up: (0, 1), Qt.Key.Key_Down: (0, -1)}
        self.flush()
        if event.key() not in steps or self.plane is None:
            return False
        step = BIG_NUDGE if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else NUDGE
        sx, sy = steps[event.key()]
        self.nudge(sx * step, sy * step)
        return True
