"""The heatmap: the weight matrix as viridis cells, with row and column labels and a colour bar."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QImage, QPainter, QPen

from attnstudio.gui.painting.alignment import FIGURE_MIN_WIDTH
from attnstudio.gui.painting.figure import AlignmentFigure, paint_message
from attnstudio.gui.painting.labels import _draw_label, _Row, _row_indices
from attnstudio.gui.painting.theme import (
    BASE_FONT_PX,
    MARGIN,
    MIN_FONT_PX,
    Theme,
    _begin,
    _bold,
    _is_vector,
    _luminance,
    contrast_text,
    text_widths,
    viridis,
)


# -- heatmap ---------------------------------------------------------------------------------------------
@dataclass
class HeatmapGeometry:
    """Where ``paint_heatmap`` put the grid and the labels. Row = query, column = key."""

    grid: QRectF
    n_q: int
    n_k: int
    query_rects: list[QRectF | None] = field(default_factory=list)
    key_rects: list[QRectF | None] = field(default_factory=list)
    colorbar: QRectF | None = None
    label_px: int = 0
    label_steps: tuple[int, int] = (1, 1)  # (rows, columns): every k-th label drawn when cells are small
    values_shown: bool = False

    def cell_rect(self, query: int, key: int) -> QRectF:
        w, h = self.grid.width() / self.n_k, self.grid.height() / self.n_q
        return QRectF(self.grid.left() + key * w, self.grid.top() + query * h, w, h)

    def cell_at(self, point: QPointF) -> tuple[int, int] | None:
        """(query, key) of the cell under ``point``."""
        if not self.n_q or not self.n_k or not self.grid.contains(point):
            return None
        col = int((point.x() - self.grid.left()) / self.grid.width() * self.n_k)
        row = int((point.y() - self.grid.top()) / self.grid.height() * self.n_q)
        return min(row, self.n_q - 1), min(col, self.n_k - 1)

    def row_at(self, point: QPointF) -> int | None:
        """The query whose row (cells or label to its left) is under ``point``."""
        if not self.n_q or not self.grid.top() <= point.y() < self.grid.bottom() or point.x() >= self.grid.right():
            return None
        return min(int((point.y() - self.grid.top()) / self.grid.height() * self.n_q), self.n_q - 1)


@dataclass
class _HeatBands:
    label_px: int
    query_label: float  # the longest a row label may be (longer ones are elided)
    key_label: float
    title: float
    caption: float
    left: float
    top: float
    right: float
    bottom: float


_COLORBAR_WIDTH = 14.0
_COLORBAR_MIN = 120.0  # the colour bar is at least this tall, even beside a one-row matrix
MIN_CELL = 0.1  # pixels: smaller, and even an overview of the matrix is noise
CELL_ASPECT = 2.0  # a fitted heatmap's cells may be up to twice as wide as tall (or tall as wide) to fill the view


def _heat_bands(fig: AlignmentFigure, theme: Theme, cell: float, colorbar: bool,
                room: tuple[float, float] | None = None) -> _HeatBands:
    """The margins around the grid. ``room`` (width, height) of a small view caps the labels at 30 % of it."""
    label_px = _heat_label_px(cell)
    bold = theme.font(label_px, bold=True)  # bold: the focused label is the widest it gets
    limit = fig.max_label_px
    q_cap, k_cap = (limit, limit) if room is None else (
        min(limit, max(40.0, 0.3 * room[0])), min(limit, max(40.0, 0.3 * room[1])))
    q_w = min(max(text_widths(bold, fig.query_labels)), q_cap)
    k_w = min(max(text_widths(bold, fig.key_labels)), k_cap)
    caption = QFontMetricsF(theme.font(BASE_FONT_PX - 1)).height()
    title = 28.0 if fig.title else 0.0
    right = MARGIN
    if colorbar:
        ticks = QFontMetricsF(theme.font(BASE_FONT_PX - 2)).horizontalAdvance("0.75")
        right += 16 + _COLORBAR_WIDTH + 5 + ticks + 8 + caption
    return _HeatBands(label_px, q_cap, k_cap, title, caption, MARGIN + caption + 6 + q_w + 8,
                      MARGIN / 2 + title + caption + 6 + k_w + 8, right, MARGIN)


def _heat_label_px(cell: float) -> int:
    return int(np.clip(round(cell * 0.8), MIN_FONT_PX, BASE_FONT_PX))


def heatmap_label_cell(theme: Theme) -> float:
    """The smallest square cell at which ``paint_heatmap`` draws every row and column label (none thinned out)."""
    for cell in range(MIN_FONT_PX, 64):
        if QFontMetricsF(theme.font(_heat_label_px(cell))).height() + 1 <= cell:  # see _draw_heat_labels' steps
            return float(cell)
    return 64.0


FIGURE_GRID = 360.0  # a standalone heatmap's grid is about this wide, in cells of at most FIGURE_MAX_CELL
FIGURE_MAX_CELL = 40.0


def heatmap_figure_size(fig: AlignmentFigure, theme: Theme, colorbar: bool = True) -> tuple[int, int]:
    """(width, height) of a standalone heatmap (exports): square cells, every label drawn and whole.

    Paint it with ``cell_aspect=1``. The size is checked against ``paint_heatmap``'s own fitting, since the label
    size depends on the cell size and the cell size on the labels' room.
    """
    if fig.empty:
        return int(FIGURE_MIN_WIDTH), 160
    n = max(len(fig.query_labels), len(fig.key_labels))
    cell = float(np.clip(round(FIGURE_GRID / n), heatmap_label_cell(theme), FIGURE_MAX_CELL))
    for _ in range(32):
        width, height = heatmap_size(fig, cell, theme, colorbar)
        # paint_heatmap caps a label at 30 % of its room (_heat_bands): leave room enough for the longest one.
        q_long, k_long = _longest_labels(fig, theme, _heat_label_px(cell))
        size = (math.ceil(max(width, q_long / 0.3, FIGURE_MIN_WIDTH)) + 1, math.ceil(max(height, k_long / 0.3)) + 1)
        cell_w, cell_h, bands = _heat_fit(fig, size[0], size[1], theme, colorbar, 1.0)
        q_long, k_long = _longest_labels(fig, theme, bands.label_px)
        if (QFontMetricsF(theme.font(bands.label_px)).height() + 1 <= min(cell_w, cell_h)
                and q_long <= bands.query_label and k_long <= bands.key_label):
            return size
        cell += 1.0
    return size


def _longest_labels(fig: AlignmentFigure, theme: Theme, px: int) -> tuple[float, float]:
    """The widest query and key labels at ``px`` (bold, as a focused label is), up to ``fig.max_label_px``."""
    fm = QFontMetricsF(theme.font(px, bold=True))
    return (min(max(fm.horizontalAdvance(t) for t in fig.query_labels), fig.max_label_px),
            min(max(fm.horizontalAdvance(t) for t in fig.key_labels), fig.max_label_px))


def heatmap_size(fig: AlignmentFigure, cell: float, theme: Theme, colorbar: bool = True) -> tuple[float, float]:
    """(width, height) that ``paint_heatmap`` needs to draw square cells of ``cell`` pixels (for zooming)."""
    if fig.empty:
        return 0.0, 0.0
    b = _heat_bands(fig, theme, cell, colorbar)
    grid_h = len(fig.query_labels) * cell
    height = b.top + max(grid_h, _COLORBAR_MIN if colorbar else 0.0) + b.bottom
    return b.left + len(fig.key_labels) * cell + b.right, height


def _heat_cells(fig: AlignmentFigure, width: float, height: float, bands: _HeatBands,
                aspect: float) -> tuple[float, float]:
    cell_w = (width - bands.left - bands.right) / len(fig.key_labels)
    cell_h = (height - bands.top - bands.bottom) / len(fig.query_labels)
    return min(cell_w, cell_h * aspect), min(cell_h, cell_w * aspect)


def _heat_fit(fig: AlignmentFigure, width: float, height: float, theme: Theme, colorbar: bool,
              aspect: float) -> tuple[float, float, _HeatBands]:
    """The largest cells (width, height; at most ``aspect`` : 1 either way) that fit in width × height."""
    cell_w, cell_h = width / len(fig.key_labels), height / len(fig.query_labels)
    bands = _heat_bands(fig, theme, min(cell_w, cell_h), colorbar, (width, height))
    for _ in range(2):  # the label size depends on the cell size, which depends on the labels' room
        cell_w, cell_h = _heat_cells(fig, width, height, bands, aspect)
        bands = _heat_bands(fig, theme, min(cell_w, cell_h), colorbar, (width, height))
    cell_w, cell_h = _heat_cells(fig, width, height, bands, aspect)
    return cell_w, cell_h, bands


def heatmap_fit_cell(fig: AlignmentFigure, width: float, height: float, theme: Theme, colorbar: bool = True,
                     cell_aspect: float = CELL_ASPECT) -> float:
    """The longer side of the cells ``paint_heatmap`` picks to fit width × height: where zooming starts."""
    if fig.empty:
        return 0.0
    cell_w, cell_h, _ = _heat_fit(fig, width, height, theme, colorbar, cell_aspect)
    return max(0.0, cell_w, cell_h)


def heatmap_image(weights: np.ndarray, mask: np.ndarray | None = None, masked: QColor | None = None) -> QImage:
    """One pixel per cell, row = query, column = key, coloured by viridis; masked cells in ``masked``."""
    rgba = np.ascontiguousarray(viridis(weights))  # (n_q, n_k, 4): NumPy's [row, col] is the image's [y, x]
    if mask is not None and masked is not None:
        rgba[~np.asarray(mask, bool)] = (masked.red(), masked.green(), masked.blue(), 255)
    n_q, n_k = rgba.shape[:2]
    return QImage(rgba.tobytes(), n_k, n_q, 4 * n_k, QImage.Format.Format_RGBA8888).copy()


def paint_heatmap(painter: QPainter, rect: QRectF, fig: AlignmentFigure, theme: Theme, colorbar: bool = True,
                  hover: tuple[int, int] | None = None, image: QImage | None = None,
                  cell_aspect: float = CELL_ASPECT) -> HeatmapGeometry:
    """The weight matrix (row = query, column = key) as cells, labelled, with a colour bar.

    Cells fill ``rect`` but stay within ``cell_aspect`` : 1 (1 = square). ``image`` may be a cached
    ``heatmap_image`` of the same figure; ``hover`` is the (query, key) under the mouse.
    """
    layout = heatmap_layout(rect, fig, theme, colorbar, cell_aspect)
    if isinstance(layout, str):
        paint_message(painter, rect, layout, theme)
        return blank_heatmap_geometry(fig)
    geometry = paint_heatmap_frame(painter, rect, fig, theme, layout, hover)
    return paint_heatmap_cells(painter, fig, theme, geometry, hover, image)


def blank_heatmap_geometry(fig: AlignmentFigure) -> HeatmapGeometry:
    """No grid, no labels placed: the geometry of a heatmap that shows a message instead."""
    n_q, n_k = len(fig.query_labels), len(fig.key_labels)
    return HeatmapGeometry(QRectF(), n_q, n_k, [None] * n_q, [None] * n_k)


def heatmap_layout(rect: QRectF, fig: AlignmentFigure, theme: Theme, colorbar: bool = True,
                   cell_aspect: float = CELL_ASPECT) -> tuple[HeatmapGeometry, _HeatBands] | str:
    """Where the grid, labels and colour bar of ``fig`` go in ``rect``; or the message to show instead."""
    if fig.empty:
        return fig.empty_message
    n_q, n_k = len(fig.query_labels), len(fig.key_labels)
    cell_w, cell_h, bands = _heat_fit(fig, rect.width(), rect.height(), theme, colorbar, cell_aspect)
    if min(cell_w, cell_h) < MIN_CELL:
        return "Make this view larger to see the heatmap."
    spare = rect.width() - bands.left - bands.right - n_k * cell_w
    grid = QRectF(rect.left() + bands.left + spare / 2, rect.top() + bands.top, n_k * cell_w, n_q * cell_h)
    geometry = HeatmapGeometry(grid, n_q, n_k, [None] * n_q, [None] * n_k, label_px=bands.label_px)
    if colorbar:
        height = max(grid.height(), min(_COLORBAR_MIN, rect.bottom() - grid.top() - bands.bottom))
        geometry.colorbar = QRectF(grid.right() + 16, grid.top(), _COLORBAR_WIDTH, height)
    return geometry, bands


def _hovered(geometry: HeatmapGeometry, hover: tuple[int, int] | None) -> tuple[int, int] | None:
    return hover if hover is not None and 0 <= hover[0] < geometry.n_q and 0 <= hover[1] < geometry.n_k else None


def paint_heatmap_frame(painter: QPainter, rect: QRectF, fig: AlignmentFigure, theme: Theme,
                        layout: tuple[HeatmapGeometry, _HeatBands],
                        hover: tuple[int, int] | None = None) -> HeatmapGeometry:
    """Everything but the cells: labels (the hovered ones bold), captions, title, the colour bar's ramp and ticks.

    It depends on the words, the focus and the size, not on the weights: a widget keeps it while weights change.
    Returns a copy of the layout's geometry with the label boxes filled in.
    """
    geometry, bands = replace(layout[0], query_rects=list(layout[0].query_rects),
                              key_rects=list(layout[0].key_rects)), layout[1]
    _begin(painter)
    _draw_heat_labels(painter, fig, theme, rect, bands, geometry, _hovered(geometry, hover))
    if geometry.colorbar is not None:
        _draw_colorbar(painter, geometry.colorbar, theme, bands.caption)
    painter.restore()
    return geometry


def paint_heatmap_cells(painter: QPainter, fig: AlignmentFigure, theme: Theme, geometry: HeatmapGeometry,
                        hover: tuple[int, int] | None = None, image: QImage | None = None,
                        rows: tuple[int, int] | None = None, marks: bool = True) -> HeatmapGeometry:
    """The cells (with their values when they fit), then (``marks``) :func:`paint_heatmap_marks`.

    ``rows`` = (first, stop): only those rows' cells, over a paint of all of them kept by a widget (an edit of a
    query changes its row alone; see :func:`heatmap_rows_repaintable`).
    """
    _begin(painter)
    _draw_cells(painter, fig, theme, geometry.grid, image, geometry, rows)
    painter.restore()
    if marks:
        paint_heatmap_marks(painter, fig, theme, geometry, hover)
    return geometry


def paint_heatmap_marks(painter: QPainter, fig: AlignmentFigure, theme: Theme, geometry: HeatmapGeometry,
                        hover: tuple[int, int] | None = None) -> None:
    """Over the cells: the focused row's frame, the hover box and its mark on the colour bar."""
    hovered = _hovered(geometry, hover)
    grid = geometry.grid
    _begin(painter)
    if fig.focus is not None:
        painter.setPen(QPen(theme.highlight, 2.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        row = geometry.cell_rect(fig.focus, 0)
        painter.drawRect(QRectF(grid.left() - 1.5, row.top(), grid.width() + 3, row.height()))
    if hovered:
        box = geometry.cell_rect(*hovered)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.background, 4))
        painter.drawRect(box)
        painter.setPen(QPen(theme.text, 2))
        painter.drawRect(box)
        if geometry.colorbar is not None:  # a mark at the hovered cell's weight
            bar = geometry.colorbar
            y = bar.bottom() - float(fig.weights[hovered]) * bar.height()
            painter.setPen(QPen(theme.text, 2))
            painter.drawLine(QLineF(bar.left() - 6, y, bar.right(), y))
    painter.restore()


def heatmap_rows_repaintable(fig: AlignmentFigure, geometry: HeatmapGeometry) -> bool:
    """Whether some rows' cells can be painted again on their own (``paint_heatmap_cells(rows=…)``, see
    :func:`heatmap_rows_rect`): while cells are a pixel or more (smaller ones are averaged with their neighbours)."""
    if fig.empty or not geometry.n_q or not geometry.n_k:
        return False
    return min(geometry.grid.width() / geometry.n_k, geometry.grid.height() / geometry.n_q) >= 1.0


def heatmap_rows_rect(geometry: HeatmapGeometry, rows: tuple[int, int]) -> QRect:
    """Whole pixels that hold rows ``first … stop - 1`` of cells, their edges and their values.

    To paint those rows again over a kept paint of every cell, a widget copies this rectangle from its paint
    without cells, then calls ``paint_heatmap_cells(rows=…)``, which paints into it alone: every pixel in it is
    then what painting everything once gives (antialiased edges are blended with what lies under them once).
    """
    grid, first, stop = geometry.grid, rows[0], rows[1]
    cell_h = grid.height() / geometry.n_q
    top, bottom = grid.top() + first * cell_h, grid.top() + stop * cell_h
    left, right = math.floor(grid.left()) - 2, math.ceil(grid.right()) + 2
    return QRect(left, math.floor(top) - 2, right - left, math.ceil(bottom) + 2 - (math.floor(top) - 2))


_BLACK, _WHITE = QColor(0, 0, 0), QColor(255, 255, 255)


def _draw_cells(painter: QPainter, fig: AlignmentFigure, theme: Theme, grid: QRectF, image: QImage | None,
                geometry: HeatmapGeometry, rows: tuple[int, int] | None = None) -> None:
    n_q, n_k = fig.weights.shape
    cell_w, cell_h = grid.width() / n_k, grid.height() / n_q
    font = theme.font(int(np.clip(round(min(cell_w, cell_h) * 0.3), MIN_FONT_PX, BASE_FONT_PX - 1)))
    fm = QFontMetricsF(font)
    text_rows = range(n_q)
    if rows is not None:  # only into heatmap_rows_rect, with the values of the rows that may reach into it
        clip = heatmap_rows_rect(geometry, rows)
        painter.save()
        painter.setClipRect(clip)
        text_rows = _rows_reaching(fm, grid.top(), cell_h, rows, n_q, clip)
    allowed = fig.allowed()
    if _is_vector(painter) and n_q * n_k <= 128 * 128:
        rgba = viridis(fig.weights)  # (n_q, n_k, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        for q in range(n_q):
            for k in range(n_k):
                painter.setBrush(QColor(*rgba[q, k]) if allowed[q, k] else theme.grid)
                painter.drawRect(geometry.cell_rect(q, k))
    else:
        # Crisp cells, no blur; but a cell under a pixel is averaged with its neighbours rather than dropped.
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, min(cell_w, cell_h) < 1.0)
        painter.drawImage(grid, image if image is not None else heatmap_image(fig.weights, fig.mask, theme.grid))
    if min(cell_w, cell_h) >= 8:  # hairlines in the background colour keep cells of equal colour apart
        painter.setPen(QPen(theme.background, 1.0))
        painter.drawLines([QLineF(grid.left() + k * cell_w, grid.top(), grid.left() + k * cell_w, grid.bottom())
                           for k in range(1, n_k)]
                          + [QLineF(grid.left(), grid.top() + q * cell_h, grid.right(), grid.top() + q * cell_h)
                             for q in range(1, n_q)])
    if fm.horizontalAdvance("0.00") + 6 <= cell_w and fm.height() + 2 <= cell_h:
        geometry.values_shown = True
        painter.setFont(font)
        # (rows, n_k): black text on the light (yellow-green) cells; only for the rows whose values are drawn
        dark_ink = np.zeros(fig.weights.shape, bool)
        dark_ink[text_rows.start:text_rows.stop] = _luminance(
            viridis(fig.weights[text_rows.start:text_rows.stop])[..., :3]) > 0.18
        left, top = grid.left(), grid.top()
        for dark in (True, False):  # one pen for all the cells of an ink
            painter.setPen(_BLACK if dark else _WHITE)
            for q in text_rows:
                for k in np.flatnonzero(allowed[q] & (dark_ink[q] == dark)).tolist():
                    painter.drawText(QRectF(left + k * cell_w, top + q * cell_h, cell_w, cell_h),
                                     Qt.AlignmentFlag.AlignCenter, f"{fig.weights[q, k]:.2f}")
    if rows is not None:
        painter.restore()


def _rows_reaching(fm: QFontMetricsF, top: float, cell_h: float, rows: tuple[int, int], n_q: int,
                   clip: QRect) -> range:
    """The rows whose values' ink may reach into ``clip``: ``rows`` and, only if so, the one above and below.

    A value is centred on its cell (AlignCenter: its line box of ``fm.height()`` in the middle); the ink of the
    digits lies within their tight box from the baseline, 2 px more allowed for smoothing and the baseline's
    rounding. In cells tall enough the neighbours' values stay out of the clip, and 14 values are not drawn
    for nothing at every edit (at the seed pair).
    """
    ink = fm.tightBoundingRect("0123456789.")
    baseline = (cell_h - fm.height()) / 2 + fm.ascent()  # from a cell's top
    first, stop = rows
    if first > 0 and top + (first - 1) * cell_h + baseline + ink.bottom() + 2 >= clip.top():
        first -= 1
    if stop < n_q and top + stop * cell_h + baseline + ink.top() - 2 <= clip.bottom() + 1:
        stop += 1
    return range(first, stop)


def _draw_heat_labels(painter: QPainter, fig: AlignmentFigure, theme: Theme, rect: QRectF, bands: _HeatBands,
                      geometry: HeatmapGeometry, hover: tuple[int, int] | None) -> None:
    grid = geometry.grid
    cell_w, cell_h = grid.width() / geometry.n_k, grid.height() / geometry.n_q
    font = theme.font(bands.label_px)
    h = QFontMetricsF(font).height()
    step_q, step_k = max(1, math.ceil(h / cell_h)), max(1, math.ceil((h + 1) / cell_w))
    geometry.label_steps = (step_q, step_k)
    hover_q, hover_k = hover if hover is not None else (None, None)
    for q in _row_indices(len(fig.query_labels), step_q, fig.focus):
        focused = q == fig.focus
        label_font = _bold(font) if focused or q == hover_q else font
        metrics = QFontMetricsF(label_font)
        text = metrics.elidedText(fig.query_labels[q], Qt.TextElideMode.ElideRight, bands.query_label)
        w = metrics.horizontalAdvance(text)
        row = _Row([text], label_font, False, 1, h)
        geometry.query_rects[q] = _draw_label(  # right-aligned 8 px left of the grid, centred on its row
            painter, row, text, grid.left() - 8 - w / 2, grid.top() + (q + 0.5) * cell_h + h / 2, False, label_font,
            contrast_text(theme.highlight) if focused else theme.text, theme.highlight if focused else None)
    for k in _row_indices(len(fig.key_labels), step_k, hover_k):
        label_font = _bold(font) if k == hover_k else font
        row = _Row([fig.key_labels[k]], label_font, True, 1, bands.key_label)
        geometry.key_rects[k] = _draw_label(painter, row, fig.key_labels[k], grid.left() + (k + 0.5) * cell_w,
                                            grid.top() - 6, False, label_font, theme.text)
    caption_font = theme.font(BASE_FONT_PX - 1)
    metrics = QFontMetricsF(caption_font)
    painter.setFont(caption_font)
    painter.setPen(theme.muted)
    top = QRectF(rect.left() + MARGIN, grid.top() - bands.top + bands.title + MARGIN / 2, rect.width() - 2 * MARGIN,
                 bands.caption)
    painter.drawText(QRectF(grid.center().x() - top.width() / 2, top.top(), top.width(), top.height()),
                     Qt.AlignmentFlag.AlignCenter,
                     metrics.elidedText(fig.key_caption, Qt.TextElideMode.ElideRight, top.width()))
    room = 2 * min(grid.center().y() - rect.top(), rect.bottom() - grid.center().y()) - 2 * MARGIN
    painter.save()
    painter.translate(grid.left() - bands.left + MARGIN, grid.center().y())
    painter.rotate(-90)
    painter.drawText(QRectF(-room / 2, 0, room, bands.caption), Qt.AlignmentFlag.AlignCenter,
                     metrics.elidedText(fig.query_caption, Qt.TextElideMode.ElideRight, room))
    painter.restore()
    if fig.title:
        painter.setFont(theme.font(BASE_FONT_PX + 2, bold=True))
        painter.setPen(theme.text)
        painter.drawText(QRectF(rect.left(), grid.top() - bands.top + MARGIN / 2, rect.width(), 24),
                         Qt.AlignmentFlag.AlignCenter, fig.title)


def _draw_colorbar(painter: QPainter, bar: QRectF, theme: Theme, caption_h: float) -> None:
    """A vertical viridis bar, 0 at the bottom and 1 at the top, with ticks and the caption "attention weight"."""
    ramp = np.ascontiguousarray(viridis(np.linspace(1.0, 0.0, 256))[:, None, :])  # (256, 1, 4): top row = 1
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
    painter.drawImage(bar, QImage(ramp.tobytes(), 1, 256, 4, QImage.Format.Format_RGBA8888).copy())
    painter.setPen(QPen(theme.muted, 1))
    painter.setBrush(Qt.BrushStyle.NoBrush)
    painter.drawRect(bar)
    font = theme.font(BASE_FONT_PX - 2)
    fm = QFontMetricsF(font)
    painter.setFont(font)
    ticks = (0.0, 0.25, 0.5, 0.75, 1.0) if bar.height() >= 5 * fm.height() else (0.0, 0.5, 1.0)
    tick_w = fm.horizontalAdvance("0.75")
    for t in ticks:
        y = bar.bottom() - t * bar.height()
        painter.drawLine(QLineF(bar.right(), y, bar.right() + 4, y))
        painter.drawText(QRectF(bar.right() + 6, y - fm.height() / 2, tick_w + 2, fm.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, f"{t:g}")
    painter.setFont(theme.font(BASE_FONT_PX - 1))
    painter.setPen(theme.muted)
    painter.save()
    painter.translate(bar.right() + 8 + tick_w + 4, bar.center().y())
    painter.rotate(-90)
    metrics = QFontMetricsF(painter.font())
    text = "attention weight" if metrics.horizontalAdvance("attention weight") <= bar.height() else "weight"
    text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, bar.height())
    painter.drawText(QRectF(-bar.height() / 2, 0, bar.height(), caption_h), Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()
