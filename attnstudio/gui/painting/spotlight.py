"""The spotlight strip: the key sentence written out, each word lit by its weight."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QPainter, QPen, QPixmap

from attnstudio.gui.painting.figure import paint_message
from attnstudio.gui.painting.theme import (
    BASE_FONT_PX,
    EMPTY_MESSAGE,
    MARGIN,
    MIN_FONT_PX,
    Theme,
    _alpha,
    _begin,
    _is_vector,
    _mix,
    contrast_text,
    text_widths,
)


# -- spotlight -------------------------------------------------------------------------------------------
_SPOT_PAD, _SPOT_GAP = 6.0, 6.0
SPOT_MAX_FONT_PX = 30  # the largest the strip writes its words, when it has the room


_SPOT_LAYOUTS: dict[tuple, tuple[list[QRectF], float]] = {}


def _spot_layout(labels: list[str], width: float, theme: Theme, px: int, caption: str) -> tuple[list[QRectF], float]:
    """Word boxes flowed like text in ``width`` (origin 0, 0), and the total height.

    Remembered: every edit paints the strip again with the same words, trying font sizes until they fit (at
    128 words that was eight layouts of every word per edit). The boxes are shared; callers must not change them.
    """
    key = (tuple(labels), width, theme.font_family, px, bool(caption))
    layout = _SPOT_LAYOUTS.get(key)
    if layout is None:
        if len(_SPOT_LAYOUTS) >= 256:
            _SPOT_LAYOUTS.clear()
        layout = _SPOT_LAYOUTS[key] = _flow_spot_words(labels, width, theme, px, caption)
    return layout


def _flow_spot_words(labels: list[str], width: float, theme: Theme, px: int,
                     caption: str) -> tuple[list[QRectF], float]:
    bold, small = theme.font(px, bold=True), theme.font(max(MIN_FONT_PX, px - 3))
    box_h = QFontMetricsF(bold).height() + QFontMetricsF(small).height() + 2 * _SPOT_PAD - 2
    y = QFontMetricsF(theme.font(px)).height() + _SPOT_GAP if caption else 0.0
    x, boxes = 0.0, []
    percent = text_widths(small, ["100%"])[0]
    for word in text_widths(bold, labels):
        w = min(max(word, percent) + 2 * _SPOT_PAD, width)
        if x > 0 and x + w > width:
            x, y = 0.0, y + box_h + _SPOT_GAP
        boxes.append(QRectF(x, y, w, box_h))
        x += w + _SPOT_GAP
    return boxes, (y + box_h if labels else y)


def spotlight_height(key_labels: list[str], width: float, theme: Theme, caption: str = "") -> float:
    """Height ``paint_spotlight`` needs at its full font size in ``width`` (for ``heightForWidth``)."""
    return _spot_layout(key_labels, max(width - 2 * MARGIN, 1.0), theme, BASE_FONT_PX + 2, caption)[1] + MARGIN


def paint_spotlight(painter: QPainter, rect: QRectF, key_labels: list[str], weights_row: np.ndarray, theme: Theme,
                    caption: str = "", allowed: np.ndarray | None = None,
                    hover: int | None = None) -> list[QRectF | None]:
    """The key sentence written out, each word lit in proportion to its weight (the spotlight made literal).

    Returns each word's box (None when it did not fit). Words wrap like text; the font shrinks to fit ``rect``.
    """
    if not key_labels:
        paint_message(painter, rect, EMPTY_MESSAGE, theme)
        return []
    weights_row = np.clip(np.nan_to_num(np.asarray(weights_row, dtype=np.float64)), 0.0, 1.0)
    if weights_row.shape != (len(key_labels),):
        raise ValueError(f"weights_row has shape {weights_row.shape}, expected ({len(key_labels)},)")
    allowed = np.ones(len(key_labels), bool) if allowed is None else np.asarray(allowed, bool)
    area = rect.adjusted(MARGIN, MARGIN / 2, -MARGIN, -MARGIN / 2)
    for px in range(SPOT_MAX_FONT_PX, MIN_FONT_PX - 1, -1):
        boxes, height = _spot_layout(key_labels, area.width(), theme, px, caption)
        if height <= area.height():
            break
    # Given the room (a lesson step that shows only the spotlight), the sentence is written large, in the middle.
    large = px > BASE_FONT_PX + 2
    block_width = max((box.right() for box in boxes), default=0.0)
    origin = area.topLeft() + (QPointF(max(0.0, (area.width() - block_width) / 2), max(0.0, (area.height() - height) / 2))
                               if large else QPointF(0.0, 0.0))
    _begin(painter)
    painter.translate(origin)
    if caption:
        painter.setFont(theme.font(px))
        painter.setPen(theme.text)
        painter.drawText(QRectF(0, 0, area.width(), QFontMetricsF(theme.font(px)).height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetricsF(theme.font(px)).elidedText(caption, Qt.TextElideMode.ElideRight, area.width()))
    visible = _spot_visible(boxes, area, theme.font(px))
    best = int(np.argmax(np.where(allowed, weights_row, -1.0)))
    small = theme.font(max(MIN_FONT_PX, px - 3))
    fonts = {False: theme.font(px), True: theme.font(px, bold=True)}  # made once: a QFont per word adds up
    metrics = {bold: QFontMetricsF(font) for bold, font in fonts.items()}
    word_h = metrics[True].height()
    shown: list[QRectF | None] = []
    for j, (label, box) in enumerate(zip(key_labels, boxes)):
        if j >= visible:
            shown.append(None)
            continue
        w = float(weights_row[j]) if allowed[j] else 0.0
        lit = _mix(theme.background, theme.spot, w)  # what the glow looks like, to choose the ink on it
        _draw_spot_box(painter, box, theme, w, j == hover)
        ink = contrast_text(lit) if allowed[j] else theme.muted
        bold = bool(j == best and allowed[j])
        painter.setFont(fonts[bold])
        painter.setPen(ink)
        text_box = QRectF(box.left(), box.top() + _SPOT_PAD - 1, box.width(), word_h)
        painter.drawText(text_box, Qt.AlignmentFlag.AlignCenter,
                         metrics[bold].elidedText(label, Qt.TextElideMode.ElideRight, box.width() - 4))
        painter.setFont(small)
        painter.setPen(_alpha(ink, 0.75))
        painter.drawText(QRectF(box.left(), text_box.bottom(), box.width(), box.bottom() - text_box.bottom() - 2),
                         Qt.AlignmentFlag.AlignCenter, f"{w:.0%}" if allowed[j] else "masked")
        shown.append(box.translated(origin))
    if visible < len(key_labels):
        painter.setFont(theme.font(px))
        painter.setPen(theme.muted)
        after = boxes[visible - 1] if visible else QRectF(0, 0, 0, 0)
        painter.drawText(QRectF(after.right() + _SPOT_GAP, after.top(), area.width(), after.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"+{len(key_labels) - visible} more")
    painter.restore()
    return shown


_SPOT_BOXES: dict[tuple, QPixmap] = {}


def _draw_spot_box(painter: QPainter, box: QRectF, theme: Theme, weight: float, hovered: bool) -> None:
    """A word's rounded box, lit by ``weight``: from a small cache of rendered boxes on screen.

    An antialiased translucent rounded rectangle costs ~80 µs on the raster engine and the strip draws one per
    word on every edit; the glow is kept to whole percents (what the box prints), so boxes repeat.
    """
    pen = QPen(theme.text if hovered else theme.grid, 1.5 if hovered else 1)
    fill = _alpha(theme.spot, round(weight, 2))
    device = painter.device()
    if _is_vector(painter) or device is None or box.width() > 400:
        painter.setPen(pen)
        painter.setBrush(fill)
        painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        return
    ratio = device.devicePixelRatioF()
    key = (round(box.width() * 4), round(box.height() * 4), fill.rgba(), pen.color().rgba(), hovered, ratio)
    pixmap = _SPOT_BOXES.get(key)
    if pixmap is None:
        if len(_SPOT_BOXES) >= 2048:
            _SPOT_BOXES.clear()
        pixmap = QPixmap(math.ceil(box.width() * ratio), math.ceil(box.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        box_painter = QPainter(pixmap)
        box_painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box_painter.setPen(pen)
        box_painter.setBrush(fill)
        box_painter.drawRoundedRect(QRectF(0.5, 0.5, box.width() - 1, box.height() - 1), 5, 5)
        box_painter.end()
        _SPOT_BOXES[key] = pixmap
    painter.drawPixmap(box.topLeft(), pixmap)


def _spot_visible(boxes: list[QRectF], area: QRectF, font: QFont) -> int:
    """How many word boxes to draw: those that fit, minus room for a "+N more" note when some do not."""
    visible = sum(1 for box in boxes if box.bottom() <= area.height() + 0.5)
    if visible == len(boxes):
        return visible
    fm = QFontMetricsF(font)
    while visible and boxes[visible - 1].right() + _SPOT_GAP + fm.horizontalAdvance(
            f"+{len(boxes) - visible} more") > area.width():
        visible -= 1
    return visible
