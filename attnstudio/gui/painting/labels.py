"""Rows of token labels: fitting them (smaller, rotated, thinned out) and drawing one label."""

from __future__ import annotations

import math
from dataclasses import dataclass

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from attnstudio.gui.painting.theme import BASE_FONT_PX, LABEL_GAP, MARGIN, MIN_FONT_PX, Theme, text_widths


# -- label rows ------------------------------------------------------------------------------------------
@dataclass
class _Row:
    """How one row of token labels is laid out."""

    labels: list[str]
    font: QFont
    rotated: bool
    step: int  # 1 = every label drawn; k = every k-th (when even rotated labels would not fit)
    band: float  # height the labels take


def _fit_row(labels: list[str], width: float, theme: Theme, max_band: float) -> _Row:
    """The largest font at which the labels fit side by side; else rotated; else rotated and thinned."""
    n = len(labels)
    slot = width / max(n, 1)
    for px in range(BASE_FONT_PX, MIN_FONT_PX - 1, -1):
        if _flat_slot(labels, theme, px) <= slot:
            return _Row(labels, theme.font(px), False, 1, QFontMetricsF(theme.font(px, bold=True)).height())
    for px in range(BASE_FONT_PX, MIN_FONT_PX - 1, -1):
        fm = QFontMetricsF(theme.font(px))
        if fm.height() + 2 <= slot or px == MIN_FONT_PX:
            step = max(1, math.ceil((fm.height() + 2) / slot))
            longest = max(text_widths(theme.font(px, bold=True), labels))  # bold: the focused label fits whole too
            band = min(longest, max_band)
            elided = [fm.elidedText(label, Qt.TextElideMode.ElideRight, band) for label in labels]
            return _Row(elided, theme.font(px), True, step, band)
    raise AssertionError("unreachable")


def _flat_slot(labels: list[str], theme: Theme, px: int) -> float:
    """The width per label at which ``labels`` fit side by side at ``px`` pixels (and may reach into the margins)."""
    # bold: the focused word is the widest a label gets; + 8 for its frame
    widths = [width + 8 for width in text_widths(theme.font(px, bold=True), labels)]
    need = max(widths[0], widths[-1]) - 2 * MARGIN  # the end labels may reach into the margin
    for a, b in zip(widths, widths[1:]):
        need = max(need, (a + b) / 2 + LABEL_GAP)
    return need


def _row_indices(n: int, step: int, keep: int | None) -> list[int]:
    """The labels drawn when only every ``step``-th fits; ``keep`` (the focus) is always drawn."""
    if step <= 1:
        return list(range(n))
    shown = [i for i in range(0, n, step) if keep is None or abs(i - keep) >= step]
    return sorted(shown + ([keep] if keep is not None else []))


def _draw_label(painter: QPainter, row: _Row, text: str, cx: float, edge: float, down: bool, font: QFont,
                colour: QColor, pill: QColor | None = None) -> QRectF:
    """Draw one label centred on ``cx``; ``edge`` is its side facing the lines. Returns its bounding box.

    ``down``: the label hangs below ``edge`` (the lower row); else it stands on it.
    """
    fm = QFontMetricsF(font)
    if row.rotated:
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, row.band)  # a bold label is wider
        h, w = fm.height(), min(text_widths(font, [text])[0], row.band)
        box = QRectF(cx - h / 2, edge if down else edge - w, h, w)
    else:
        h, w = fm.height(), text_widths(font, [text])[0]
        box = QRectF(cx - w / 2, edge if down else edge - h, w, h)
    if pill is not None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(pill)
        painter.drawRoundedRect(_padded(box), 4, 4)
    painter.setFont(font)
    painter.setPen(colour)
    if not row.rotated:
        painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        return box
    painter.save()
    painter.translate(cx, edge)
    painter.rotate(-90)  # the text reads upwards, its near end facing the lines in both rows
    align = Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if down else Qt.AlignmentFlag.AlignLeft)
    painter.drawText(QRectF(-w if down else 0, -h / 2, w, h), align, text)
    painter.restore()
    return box


def _padded(box: QRectF) -> QRectF:
    """A label's box with room for a rounded frame: padded along the text, barely across it."""
    return box.adjusted(-1, -4, 1, 4) if box.height() > box.width() else box.adjusted(-4, -1, 4, 1)
