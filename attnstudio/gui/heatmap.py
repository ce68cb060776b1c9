"""The heatmap: the weight matrix, one row per query and one column per key, zoomable and scrollable."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import (
    QHelpEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QFrame, QScrollArea, QToolTip, QWidget

from attnstudio.gui.alignment import alignment_figure, weight_sentence
from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.painting import (
    CELL_ASPECT,
    AlignmentFigure,
    HeatmapGeometry,
    Theme,
    alignment_static_matches,
    blank_heatmap_geometry,
    heatmap_fit_cell,
    heatmap_image,
    heatmap_layout,
    heatmap_rows_rect,
    heatmap_rows_repaintable,
    heatmap_size,
    paint_heatmap,
    paint_heatmap_cells,
    paint_heatmap_frame,
    paint_heatmap_marks,
    paint_message,
)
from attnstudio.gui.widgets import RepaintOnFocus, name_widget, same_key

__all__ = ["HeatmapCanvas", "HeatmapView"]

ZOOM_STEP = 1.25
MIN_ZOOMED_CELL = 4.0
FRAME_CACHE_PIXELS = 8_000_000  # device pixels: a canvas zoomed in further is painted without the cache
MAX_CELL = 96.0  # pixels: beyond this one cell fills the view and zooming stops helping


@guard_overrides
class HeatmapCanvas(RepaintOnFocus, QWidget):
    """The painted matrix inside ``HeatmapView``; as large as the zoom asks, the scroll area shows a part."""

    def __init__(self, view: "HeatmapView") -> None:
        super().__init__(view)
        name_widget(self, "heatmapCanvas", "Attention heatmap",)
        # It fills every pixel itself: Qt need not paint the splitter and window behind it on every change.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleDescription("Row = query word, column = key word; brighter cells carry more weight. "
                                      "Up and down arrows move the focus; plus and minus zoom.")
        self.view = view
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._geometry: HeatmapGeometry | None = None
        self._frame: QPixmap | None = None  # everything but the cells, for the current words and size
        self._frame_key: tuple = ()
        self._frame_layout = None
        self._frame_geometry: HeatmapGeometry | None = None
        self._cells: QPixmap | None = None  # the frame with every cell as they were when it was painted
        self._cells_frame: QPixmap | None = None  # the frame it was painted on
        self._cells_fig: AlignmentFigure | None = None
        self._hover: tuple[int, int] | None = None
        self._info = ""

    def geometry_of_figure(self) -> HeatmapGeometry | None:
        """Where the last paint put the grid and labels (canvas coordinates)."""
        return self._geometry

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        view = self.view
        painter = QPainter(self)
        fig, rect = view.shown(), QRectF(self.rect())
        aspect = CELL_ASPECT if view.cell_px is None else 1.0
        ratio = self.devicePixelRatioF()
        if self._hover is None and rect.width() * rect.height() * ratio * ratio <= FRAME_CACHE_PIXELS:
            self._geometry = self._paint_from_cache(painter, fig, rect, aspect, ratio)  # (covers every pixel)
        else:  # hovering (the hovered labels turn bold) or zoomed in very far: everything, directly
            painter.fillRect(self.rect(), view.theme.background)
            self._geometry = paint_heatmap(painter, rect, fig, view.theme, colorbar=True, hover=self._hover,
                                           image=view.image(), cell_aspect=aspect)
        if self.hasFocus():
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(self.palette().color(self.palette().ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            visible = QRectF(self.visibleRegion().boundingRect())
            painter.drawRoundedRect(visible.adjusted(1, 1, -1, -1), 4, 4)
        painter.end()

    def _frame_key_for(self, fig: AlignmentFigure, ratio: float, aspect: float) -> tuple:
        """What the frame pixmap depends on (compared with ``same_key``)."""
        return (self.size(), ratio, aspect, self.view.theme, tuple(fig.query_labels), tuple(fig.key_labels),
                fig.focus, fig.title, fig.query_caption, fig.key_caption, fig.max_label_px, fig.empty_message)

    def edited_rows_rect(self) -> QRect | None:
        """The pixels the next paint changes when it only paints the focused query's row again (see
        :meth:`_paint_from_cache`): the view then repaints just them. None when it will paint more.

        Everything outside stays as it is: the frame and the other rows' cells, and the focus frame, which is
        drawn again the same (its pixels outside over the same cells).
        """
        view, fig = self.view, self.view.shown()
        ratio = self.devicePixelRatioF()
        aspect = CELL_ASPECT if view.cell_px is None else 1.0
        if (self._hover is not None or fig.focus is None or self._frame is None or self._cells is None
                or self._cells_frame is not self._frame or self._frame_geometry is None
                or isinstance(self._frame_layout, str) or ratio != int(ratio)
                or self.width() * self.height() * ratio * ratio > FRAME_CACHE_PIXELS
                or not same_key(self._frame_key_for(fig, ratio, aspect), self._frame_key)
                or fig is self._cells_fig or not alignment_static_matches(self._cells_fig, fig)
                or not heatmap_rows_repaintable(fig, self._frame_geometry)):
            return None
        return heatmap_rows_rect(self._frame_geometry, (fig.focus, fig.focus + 1))

    def _paint_from_cache(self, painter: QPainter, fig: AlignmentFigure, rect: QRectF, aspect: float,
                          ratio: float) -> HeatmapGeometry:
        """Labels, captions and colour bar come from a pixmap kept until the words, focus or size change;
        only the cells are painted again when the weights change (every edit)."""
        theme = self.view.theme
        key = self._frame_key_for(fig, ratio, aspect)
        if self._frame is None or not same_key(key, self._frame_key):
            self._frame = QPixmap(int(np.ceil(rect.width() * ratio)), int(np.ceil(rect.height() * ratio)))
            self._frame.setDevicePixelRatio(ratio)
            self._frame.fill(theme.background)
            frame_painter = QPainter(self._frame)
            self._frame_layout = heatmap_layout(rect, fig, theme, True, aspect)
            if isinstance(self._frame_layout, str):
                paint_message(frame_painter, rect, self._frame_layout, theme)
            else:
                self._frame_geometry = paint_heatmap_frame(frame_painter, rect, fig, theme, self._frame_layout)
            frame_painter.end()
            self._frame_key = key
        if isinstance(self._frame_layout, str) or self._frame_geometry is None:
            painter.drawPixmap(0, 0, self._frame)
            return blank_heatmap_geometry(fig)
        geometry = replace(self._frame_geometry)
        if not heatmap_rows_repaintable(fig, geometry) or ratio != int(ratio):  # (whole device pixels only)
            painter.drawPixmap(0, 0, self._frame)
            return paint_heatmap_cells(painter, fig, theme, geometry, None, self.view.image())
        # The frame with every cell is kept too; while only the focused query's weights change (an edit of its
        # q) just that row is painted again over it — at the seed pair 7 values drawn instead of 49.
        rows = None
        if (self._cells is None or self._cells_frame is not self._frame
                or not alignment_static_matches(self._cells_fig, fig)):
            self._cells = self._frame.copy()  # painting below would otherwise share the frame's pixels
            cells_painter = QPainter(self._cells)
            paint_heatmap_cells(cells_painter, fig, theme, geometry, None, self.view.image(), marks=False)
            cells_painter.end()
            self._cells_frame, self._cells_fig = self._frame, fig
        elif fig.focus is not None and fig is not self._cells_fig:
            rows = (fig.focus, fig.focus + 1)
        painter.drawPixmap(0, 0, self._cells)
        if rows is not None:
            # Those rows' pixels as they are without cells, then their cells: the same pixels as painting all.
            region = heatmap_rows_rect(geometry, rows)
            painter.drawPixmap(region, self._frame, QRect(region.topLeft() * int(ratio), region.size() * int(ratio)))
            paint_heatmap_cells(painter, fig, theme, geometry, None, self.view.image(), rows=rows, marks=False)
        paint_heatmap_marks(painter, fig, theme, geometry)
        return geometry

    # -- mouse ----------------------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> tuple[int | None, int | None] | None:
        """(query, key) of a cell, (query, None) of a row label, (None, key) of a column label."""
        geometry = self._geometry
        if geometry is None or self.view.shown().empty:
            return None
        cell = geometry.cell_at(pos)
        if cell is not None:
            return cell
        for index, rects, make in ((0, geometry.query_rects, lambda i: (i, None)),
                                   (1, geometry.key_rects, lambda i: (None, i))):
            for i, box in enumerate(rects):
                if box is not None and box.adjusted(-3, -2, 3, 2).contains(pos):
                    return make(i)
        return None

    def _set_hover(self, hit: tuple[int | None, int | None] | None) -> None:
        cell = hit if hit is not None and None not in hit else None
        info = "" if hit is None else weight_sentence(self.view.shown(), *hit)
        if cell != self._hover or info != self._info:
            self._hover, self._info = cell, info
            self.update()

    def hover_text(self) -> str:
        return self._info

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._set_hover(self._hit(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._set_hover(None)
        super().leaveEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            self._set_hover(self._hit(QPointF(help_event.pos())))
            if self._info:
                QToolTip.showText(help_event.globalPos(), self._info, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self._geometry is not None:
            row = self._geometry.row_at(event.position())
            if row is not None:
                self.view.controller.set_focus(row)
                event.accept()
                return
        super().mousePressEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120
            if steps:
                self.view.zoom_by(ZOOM_STEP ** steps, anchor=event.position())
            event.accept()
            return
        event.ignore()  # the scroll area scrolls

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        key, view = event.key(), self.view
        n = len(view.shown().query_labels)
        focus = view.controller.scene.focus
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            view.zoom_by(ZOOM_STEP)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            view.zoom_by(1 / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            view.zoom_to_fit()
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down) and n:
            view.controller.set_focus(max(0, min(focus + (1 if key == Qt.Key.Key_Down else -1), n - 1)))
        else:
            super().keyPressEvent(event)
            return
        event.accept()


@guard_overrides
class HeatmapView(QScrollArea):
    """The weight matrix with a colour bar. Ctrl+wheel or +/− zoom, 0 fits; hover for exact weights;
    click a row to focus its query."""

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "heatmapView", "Attention heatmap")
        self.controller = controller
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setWidgetResizable(False)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.theme = Theme.from_palette(self.palette())
        self.cell_px: float | None = None  # None: fit the view; else the zoomed cell size in pixels
        self._figure: AlignmentFigure | None = None
        self._image: QImage | None = None
        self._image_source: tuple | None = None  # (weights, allowed, masked colour, image) of the last image made
        self.canvas = HeatmapCanvas(self)
        self.setWidget(self.canvas)
        self.setFocusProxy(self.canvas)
        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)

    # -- what is shown --------------------------------------------------------------------------------
    def figure(self) -> AlignmentFigure:
        """The current figure, with its title (the export draws it)."""
        return alignment_figure(self.controller, title=True)

    def shown(self) -> AlignmentFigure:
        if self._figure is None:
            self._figure = alignment_figure(self.controller, title=False)
        return self._figure

    def image(self) -> QImage:
        """The cells as one image, one pixel per cell (cached until the weights change).

        After an edit that moved some rows' weights (a q edit: one row), only those rows are coloured again.
        """
        if self._image is None:
            fig = self.shown()
            old = self._image_source
            if (old is not None and old[0].shape == fig.weights.shape and old[2] == self.theme.grid.rgba()
                    and np.array_equal(old[1], fig.allowed())):
                rows = np.flatnonzero((old[0] != fig.weights).any(axis=1))
                image = old[3]
                if len(rows) * 4 <= len(fig.weights):  # a few rows: paint them into a copy of the old image
                    image = QImage(image)
                    painter = QPainter(image)
                    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
                    allowed = fig.allowed()
                    for row in rows.tolist():
                        painter.drawImage(0, row, heatmap_image(fig.weights[row:row + 1], allowed[row:row + 1],
                                                                self.theme.grid))
                    painter.end()
                    self._image = image
            if self._image is None:
                self._image = heatmap_image(fig.weights, fig.mask, self.theme.grid)
            self._image_source = (fig.weights, fig.allowed(), self.theme.grid.rgba(), self._image)
        return self._image

    def hover_text(self) -> str:
        return self.canvas.hover_text()

    def _on_scene_changed(self, _what: frozenset) -> None:
        self._figure, self._image = None, None
        self.canvas._set_hover(None)
        self._fit_canvas()
        rows = self.canvas.edited_rows_rect()  # an edit of the focused query: its row alone
        if rows is not None:
            self.canvas.update(rows)
        else:
            self.canvas.update()

    def _on_focus_changed(self, _focus: int) -> None:
        self._figure = None  # the weights are the same: keep the cached image
        self.canvas.update()
        geometry = self.canvas.geometry_of_figure()
        fig = self.shown()
        if geometry is not None and fig.focus is not None and not geometry.grid.isEmpty():
            row = geometry.cell_rect(fig.focus, 0)
            self.ensureVisible(int(row.left()), int(row.center().y()), 0, int(row.height()) + 8)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self.theme = Theme.from_palette(self.palette())
            self._image = None
            self.canvas.update()
        super().changeEvent(event)

    # -- zoom -----------------------------------------------------------------------------------------
    def current_cell(self) -> float:
        """The cell size in pixels now: the zoomed one, or the one that fits the view."""
        if self.cell_px is not None:
            return self.cell_px
        viewport = self.viewport().size()
        return heatmap_fit_cell(self.shown(), viewport.width(), viewport.height(), self.theme) or 8.0

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Multiply the cell size by ``factor``, keeping the point ``anchor`` (canvas coordinates) in place."""
        if self.shown().empty:
            return
        old_size = self.canvas.size()
        viewport_pos = None if anchor is None else anchor - QPointF(self.horizontalScrollBar().value(),
                                                                    self.verticalScrollBar().value())
        cell = self.current_cell() * factor
        if factor > 1:
            cell = max(cell, MIN_ZOOMED_CELL)  # from a 512-word overview, the first step already shows cells
        self.cell_px = min(cell, MAX_CELL)
        self._fit_canvas()
        if anchor is not None and viewport_pos is not None:
            sx = self.canvas.width() / max(old_size.width(), 1)
            sy = self.canvas.height() / max(old_size.height(), 1)
            self.horizontalScrollBar().setValue(int(anchor.x() * sx - viewport_pos.x()))
            self.verticalScrollBar().setValue(int(anchor.y() * sy - viewport_pos.y()))
        self.canvas.update()

    def zoom_to_fit(self) -> None:
        self.cell_px = None
        self._fit_canvas()
        self.canvas.update()

    def _fit_canvas(self) -> None:
        viewport = self.viewport().size()
        fig = self.shown()
        if self.cell_px is None or fig.empty:
            self.cell_px = None
            self.canvas.resize(viewport)
            return
        width, height = heatmap_size(fig, self.cell_px, self.theme)
        if width <= viewport.width() and height <= viewport.height():
            self.cell_px = None  # zoomed out as far as fitting: follow the view's size again
            self.canvas.resize(viewport)
            return
        self.canvas.resize(QSize(max(int(width) + 1, viewport.width()), max(int(height) + 1, viewport.height())))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._fit_canvas()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(420, 360)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, 160)
