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


def spotlight_looks(weights_row: np.ndarray, allowed: np.ndarray | None = None) -> list[tuple]:
    """What decides each word's look in :func:`paint_spotlight` besides the words and the room: its glow (whole
    percents, what it prints; the ink is chosen on it), the percentage printed, whether it may be looked at,
    whether it is the most-attended (bold). Plain Python values: NumPy scalars cost more per word than drawing."""
    weights_row = np.clip(np.nan_to_num(np.asarray(weights_row, dtype=np.float64)), 0.0, 1.0)
    allowed = np.ones(len(weights_row), bool) if allowed is None else np.asarray(allowed, bool)
    best = int(np.argmax(np.where(allowed, weights_row, -1.0))) if len(weights_row) else -1
    return [(round(w, 2), f"{w:.0%}", True, j == best) if ok else (0.0, "masked", False, False)
            for j, (w, ok) in enumerate(zip(weights_row.tolist(), allowed.tolist()))]


def paint_spotlight(painter: QPainter, rect: QRectF, key_labels: list[str], weights_row: np.ndarray, theme: Theme,
                    caption: str = "", allowed: np.ndarray | None = None, hover: int | None = None,
                    words: set[int] | None = None, looks: list[tuple] | None = None) -> list[QRectF | None]:
    """The key sentence written out, each word lit in proportion to its weight (the spotlight made literal).

    Returns each word's box (None when it did not fit). Words wrap like text; the font shrinks to fit ``rect``.
    ``words``: paint only these words, each over its box filled with the background, on a strip painted before
    with the same words, room, caption and hover (a widget keeps it: an edit changes a few words' look, see
    :func:`spotlight_looks`; ``looks``, if the caller has them already, are those of these weights).
    """
    if not key_labels:
        paint_message(painter, rect, EMPTY_MESSAGE, theme)
        return []
    if np.shape(weights_row) != (len(key_labels),):
        raise ValueError(f"weights_row has shape {np.shape(weights_row)}, expected ({len(key_labels)},)")
    looks = spotlight_looks(weights_row, allowed) if looks is None else looks
    area = rect.adjusted(MARGIN, MARGIN / 2, -MARGIN, -MARGIN / 2)
    # The largest font size whose layout fits (the smallest if none does). A layout only grows with the font, so
    # halving the range finds it in ~5 layouts; trying every size from the top took ~18, each a new font to load
    # (~15 ms of the window's first paint).
    px, low, high = MIN_FONT_PX, MIN_FONT_PX, SPOT_MAX_FONT_PX
    while low <= high:
        middle = (low + high) // 2
        if _spot_layout(key_labels, area.width(), theme, middle, caption)[1] <= area.height():
            px, low = middle, middle + 1
        else:
            high = middle - 1
    boxes, height = _spot_layout(key_labels, area.width(), theme, px, caption)
    # Given the room (a lesson step that shows only the spotlight), the sentence is written large, in the middle.
    large = px > BASE_FONT_PX + 2
    block_width = max((box.right() for box in boxes), default=0.0)
    origin = area.topLeft() + (QPointF(max(0.0, (area.width() - block_width) / 2), max(0.0, (area.height() - height) / 2))
                               if large else QPointF(0.0, 0.0))
    _begin(painter)
    painter.translate(origin)
    if caption and words is None:
        painter.setFont(theme.font(px))
        painter.setPen(theme.text)
        painter.drawText(QRectF(0, 0, area.width(), QFontMetricsF(theme.font(px)).height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         QFontMetricsF(theme.font(px)).elidedText(caption, Qt.TextElideMode.ElideRight, area.width()))
    visible = _spot_visible(boxes, area, theme.font(px))
    small = theme.font(max(MIN_FONT_PX, px - 3))
    fonts = {False: theme.font(px), True: theme.font(px, bold=True)}  # made once: a QFont per word adds up
    metrics = {bold: QFontMetricsF(font) for bold, font in fonts.items()}
    word_h = metrics[True].height()
    vector = _is_vector(painter)
    inks: dict[float, tuple[QColor, QColor]] = {}  # glow → the word's ink and the percentage's
    center = Qt.AlignmentFlag.AlignCenter
    shown: list[QRectF | None] = []
    for j, (label, box, (glow, percent, ok, bold)) in enumerate(zip(key_labels, boxes, looks)):
        if j >= visible:
            shown.append(None)
            continue
        shown.append(box.translated(origin))
        if words is not None:
            if j not in words:
                continue
            # Whole pixels, unsmoothed: the box's soft edge is replaced, not blended over (gaps are 6 px wide).
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.fillRect(box.adjusted(-1, -1, 1, 1), theme.background)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        _draw_spot_box(painter, box, theme, glow, j == hover, vector)
        if ok:
            pair = inks.get(glow)
            if pair is None:
                ink = contrast_text(_mix(theme.background, theme.spot, glow))
                pair = inks[glow] = ink, _alpha(ink, 0.75)
        else:
            pair = theme.muted, _alpha(theme.muted, 0.75)
        painter.setFont(fonts[bold])
        painter.setPen(pair[0])
        left, top, width = box.left(), box.top(), box.width()
        text_bottom = top + _SPOT_PAD - 1 + word_h
        painter.drawText(QRectF(left, top + _SPOT_PAD - 1, width, word_h), center,
                         metrics[bold].elidedText(label, Qt.TextElideMode.ElideRight, width - 4))
        painter.setFont(small)
        painter.setPen(pair[1])
        painter.drawText(QRectF(left, text_bottom, width, box.bottom() - text_bottom - 2), center,
                         percent)
    if visible < len(key_labels) and words is None:
        painter.setFont(theme.font(px))
        painter.setPen(theme.muted)
        after = boxes[visible - 1] if visible else QRectF(0, 0, 0, 0)
        painter.drawText(QRectF(after.right() + _SPOT_GAP, after.top(), area.width(), after.height()),
                         Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         f"+{len(key_labels) - visible} more")
    painter.restore()
    return shown


_SPOT_BOXES: dict[tuple, QPixmap] = {}


def _draw_spot_box(painter: QPainter, box: QRectF, theme: Theme, glow: float, hovered: bool,
                   vector: bool = False) -> None:
    """A word's rounded box, lit by ``glow`` (0…1, whole percents): from a small cache of rendered boxes on screen.

    An antialiased translucent rounded rectangle costs ~80 µs on the raster engine and the strip draws one per
    word on every edit; the glow is kept to whole percents (what the box prints), so boxes repeat.
    """
    device = painter.device()
    if vector or device is None or box.width() > 400:
        painter.setPen(_spot_pen(theme, hovered))
        painter.setBrush(_alpha(theme.spot, glow))
        painter.drawRoundedRect(box.adjusted(0.5, 0.5, -0.5, -0.5), 5, 5)
        return
    ratio = device.devicePixelRatioF()
    key = (round(box.width() * 4), round(box.height() * 4), glow, theme.spot.rgba(),
           (theme.text if hovered else theme.grid).rgba(), hovered, ratio)
    pixmap = _SPOT_BOXES.get(key)
    if pixmap is None:
        if len(_SPOT_BOXES) >= 2048:
            _SPOT_BOXES.clear()
        pixmap = QPixmap(math.ceil(box.width() * ratio), math.ceil(box.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        box_painter = QPainter(pixmap)
        box_painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        box_painter.setPen(_spot_pen(theme, hovered))
        box_painter.setBrush(_alpha(theme.spot, glow))
        box_painter.drawRoundedRect(QRectF(0.5, 0.5, box.width() - 1, box.height() - 1), 5, 5)
        box_painter.end()
        _SPOT_BOXES[key] = pixmap
    painter.drawPixmap(box.topLeft(), pixmap)


def _spot_pen(theme: Theme, hovered: bool) -> QPen:
    return QPen(theme.text if hovered else theme.grid, 1.5 if hovered else 1)


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
