"""Painting a table's text cells in one Python call each.

Qt's own delegate asks the model for seven roles per cell (seven calls into Python) and lays the text out
with a QTextLayout; the inspector's and trace's tables are repainted at every edit, and that was most of
their cost. A model that offers ``cell(row, column) -> Cell`` is painted by :class:`CellDelegate` from that
one answer: the cell's background, the selection, the text (elided on the right as Qt does) and the focus
frame, as the style's item view painting draws them. ``data()`` still answers every role: sizes, copying,
tooltips, editing and accessibility go through it as before.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionFocusRect, QStyleOptionViewItem

from attnstudio.gui.errors import guard_overrides

__all__ = ["CELL_ROLES", "Cell", "CellDelegate", "announce_changed", "cell_data", "differs"]

# Plain ints: Python's Flag operators cost microseconds each, and a table paints hundreds of cells per edit.
_SELECTED = QStyle.StateFlag.State_Selected.value
_ENABLED = QStyle.StateFlag.State_Enabled.value
_ACTIVE = QStyle.StateFlag.State_Active.value
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus.value


class Cell(NamedTuple):
    """What a cell shows: ``align`` is an int of Qt.AlignmentFlag values; None keeps the view's font or palette."""

    text: str
    align: int
    font: QFont | None = None
    foreground: QColor | None = None
    background: QColor | None = None


_R = Qt.ItemDataRole
# The roles a Cell answers, and which field answers each.
CELL_ROLES = {_R.DisplayRole: 0, _R.TextAlignmentRole: 1, _R.FontRole: 2, _R.ForegroundRole: 3, _R.BackgroundRole: 4}


def cell_data(cell: Cell, role: int):
    """A model's ``data()`` for one of CELL_ROLES, from the same Cell the delegate paints (one source of truth)."""
    return cell[CELL_ROLES[role]]


def announce_changed(model: QAbstractItemModel, columns: dict[int, np.ndarray]) -> None:
    """``dataChanged`` for each column's span of changed rows (``columns``: column → bool per row).

    A view repaints only the cells announced: after an edit of one query, most cells of its tables show the
    same numbers as before, and painting a cell is the expensive part of an edit.
    """
    for column, changed in columns.items():
        rows = np.flatnonzero(changed)
        if len(rows):
            model.dataChanged.emit(model.index(int(rows[0]), column), model.index(int(rows[-1]), column))


def differs(old, new) -> np.ndarray:
    """Elementwise "shows something else" for two arrays of the same shape (NaN against NaN is no change)."""
    old, new = np.asarray(old), np.asarray(new)
    if old.dtype.kind in "fc" or new.dtype.kind in "fc":
        return (old != new) & ~(np.isnan(old) & np.isnan(new))
    return old != new


class _Font(NamedTuple):
    font: QFont  # held, so that its id is not reused while it is a key
    metrics: QFontMetrics
    widest: int  # the widest character: a text of n characters narrower than n × this fits unmeasured


@guard_overrides
class CellDelegate(QStyledItemDelegate):
    """Paints the cells of a model that has ``cell(row, column) -> Cell`` (others as Qt would).

    The margin (the style's focus frame margin and a pixel) is read once: the app keeps one style.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._fonts: dict[int, _Font] = {}  # by id(): the models' fonts are long-lived objects
        self._view_font: _Font | None = None  # the view's font (a new QFont object on every call)
        self._margin: int | None = None

    def _font(self, font: QFont, own: bool) -> _Font:
        if own:
            entry = self._fonts.get(id(font))
            if entry is None or entry.font is not font:
                if len(self._fonts) > 32:
                    self._fonts.clear()
                entry = self._fonts[id(font)] = self._measure(font)
            return entry
        if self._view_font is None or self._view_font.font != font:
            self._view_font = self._measure(QFont(font))  # a copy: the option's font dies with the option
        return self._view_font

    @staticmethod
    def _measure(font: QFont) -> _Font:
        metrics = QFontMetrics(font)
        return _Font(font, metrics, max(metrics.maxWidth(), metrics.horizontalAdvance("W")))

    @staticmethod
    def _elided(font: _Font, text: str, width: int, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight) -> str:
        if len(text) * font.widest <= width or font.metrics.horizontalAdvance(text) <= width:
            return text
        return font.metrics.elidedText(text, mode, width)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if getattr(index.model(), "cell", None) is None:
            super().paint(painter, option, index)
            return
        self.paint_cell(painter, option, index)

    def paint_cell(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> Cell:
        """Paint the cell of ``index`` (its model has ``cell()``) and return what was painted."""
        cell: Cell = index.model().cell(index.row(), index.column())
        state, rect, palette, widget = option.state.value, option.rect, option.palette, option.widget
        if self._margin is None:  # as the style's item views: its focus frame's margin and one pixel
            style = widget.style() if widget is not None else QApplication.style()
            self._margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, widget) + 1
        if state & _SELECTED:
            group = QPalette.ColorGroup.Normal if state & _ENABLED else QPalette.ColorGroup.Disabled
            if group == QPalette.ColorGroup.Normal and not state & _ACTIVE:
                group = QPalette.ColorGroup.Inactive
            painter.fillRect(rect, palette.brush(group, QPalette.ColorRole.Highlight))
            colour = palette.color(group, QPalette.ColorRole.HighlightedText)
        else:
            if cell.background is not None:
                painter.fillRect(rect, cell.background)
            colour = cell.foreground or palette.text().color()  # the view set the palette's group (enabled or not)
        font = self._font(cell.font, True) if cell.font is not None else self._font(option.font, False)
        text_rect = rect.adjusted(self._margin, 0, -self._margin, 0)
        painter.save()
        painter.setClipRect(rect)  # a glyph wider than the font's widest (a fallback font) stays in its cell
        painter.setFont(font.font)
        painter.setPen(colour)
        painter.drawText(text_rect, cell.align, self._elided(font, cell.text, text_rect.width(), option.textElideMode))
        painter.restore()
        if state & _HAS_FOCUS:
            style = widget.style() if widget is not None else QApplication.style()
            frame = QStyleOptionFocusRect()
            if widget is not None:
                frame.initFrom(widget)
            frame.rect = QRect(rect)
            frame.state = option.state | QStyle.StateFlag.State_KeyboardFocusChange | QStyle.StateFlag.State_Item
            frame.backgroundColor = palette.color(QPalette.ColorRole.Highlight if state & _SELECTED
                                                  else QPalette.ColorRole.Window)
            style.drawPrimitive(QStyle.PrimitiveElement.PE_FrameFocusRect, frame, painter, widget)
        return cell
