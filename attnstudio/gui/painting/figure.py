"""What an attention figure shows (``AlignmentFigure``), and the text around it: message, title, caption."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from attnstudio.gui.painting.theme import BASE_FONT_PX, EMPTY_MESSAGE, MARGIN, MAX_LABEL_PX, Theme


# -- figures ---------------------------------------------------------------------------------------------
@dataclass
class AlignmentFigure:
    """What an attention figure shows: who asks (queries), who is looked at (keys), and how much.

    Translation: keys are the French source, queries the English target. Self-attention: one sentence on
    both rows. ``weights[i, j]`` is how much query ``i`` looks at key ``j``; each row sums to 1.
    """

    query_labels: list[str]
    key_labels: list[str]
    weights: np.ndarray  # (n_q, n_k)
    focus: int | None = None
    title: str = ""
    queries_on_top: bool = False  # default: keys on top, queries below, read like "source → translation"
    query_caption: str = "queries"
    key_caption: str = "keys"
    mask: np.ndarray | None = None  # (n_q, n_k), True = may attend; masked pairs get no line, a grey cell
    empty_message: str = EMPTY_MESSAGE
    max_label_px: float = MAX_LABEL_PX  # longer labels are elided; the window's tooltips show them whole

    def __post_init__(self) -> None:
        self.query_labels, self.key_labels = list(self.query_labels), list(self.key_labels)
        shape = (len(self.query_labels), len(self.key_labels))
        weights = np.asarray(self.weights, dtype=np.float64)
        if weights.size == 0:
            weights = np.zeros(shape)
        if weights.shape != shape:
            raise ValueError(f"weights have shape {weights.shape}, expected (n_q, n_k) = {shape}")
        # Never NaN on screen: a non-finite weight is drawn as 0 (the engine should not produce one).
        self.weights = np.clip(np.nan_to_num(weights, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)
        if self.mask is not None and np.shape(self.mask) != shape:
            raise ValueError(f"mask has shape {np.shape(self.mask)}, expected {shape}")
        if self.focus is not None and not 0 <= self.focus < shape[0]:
            self.focus = None

    @property
    def empty(self) -> bool:
        return not self.query_labels or not self.key_labels

    def allowed(self) -> np.ndarray:
        return np.ones(self.weights.shape, bool) if self.mask is None else np.asarray(self.mask, bool)


def paint_message(painter: QPainter, rect: QRectF, text: str, theme: Theme) -> None:
    """A friendly sentence centred in ``rect`` (the empty state)."""
    painter.save()
    painter.setFont(theme.font(BASE_FONT_PX + 2))
    painter.setPen(theme.muted)
    painter.drawText(rect.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN),
                     Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, text)
    painter.restore()


def _text_block(theme: Theme, title: bool) -> tuple[QFont, QColor, Qt.AlignmentFlag]:
    flags = Qt.TextFlag.TextWordWrap | (Qt.AlignmentFlag.AlignHCenter if title else Qt.AlignmentFlag.AlignLeft)
    return theme.font(BASE_FONT_PX + 2 if title else BASE_FONT_PX - 1, bold=title), theme.text if title else theme.muted, flags


def _block_height(text: str, width: float, theme: Theme, title: bool) -> float:
    if not text.strip():
        return 0.0
    font, _, flags = _text_block(theme, title)
    return QFontMetricsF(font).boundingRect(QRectF(0, 0, max(width, 1.0), 1e6), flags, text).height()


def title_font(theme: Theme) -> QFont:
    """The font of a standalone figure's title."""
    return _text_block(theme, title=True)[0]


def title_height(text: str, width: float, theme: Theme) -> float:
    """Height ``paint_title`` needs for ``text`` wrapped in ``width``; 0 when there is no title."""
    return _block_height(text, width, theme, title=True)


def caption_height(text: str, width: float, theme: Theme) -> float:
    """Height ``paint_caption`` needs for ``text`` wrapped in ``width``; 0 when there is no caption."""
    return _block_height(text, width, theme, title=False)


def paint_title(painter: QPainter, rect: QRectF, text: str, theme: Theme) -> None:
    """A standalone figure's title: bold, centred, wrapped in ``rect``'s width."""
    _paint_block(painter, rect, text, theme, title=True)


def paint_caption(painter: QPainter, rect: QRectF, text: str, theme: Theme) -> None:
    """A standalone figure's caption ("Figure 1: …"): muted, left-aligned, wrapped in ``rect``'s width."""
    _paint_block(painter, rect, text, theme, title=False)


def _paint_block(painter: QPainter, rect: QRectF, text: str, theme: Theme, title: bool) -> None:
    font, colour, flags = _text_block(theme, title)
    painter.save()
    painter.setFont(font)
    painter.setPen(colour)
    painter.drawText(rect, flags | Qt.AlignmentFlag.AlignTop, text)
    painter.restore()
