"""Painting the attention figures with QtGui only: the screen and the exporters share these functions.

No widgets here. Each ``paint_*`` function takes a ``QPainter``, a rectangle in logical pixels and a figure,
draws, and returns the geometry it used so a widget can hit-test the mouse. An exporter calls the same
functions with a painter on a ``QImage``, ``QSvgGenerator`` or ``QPdfWriter``; scale that painter so one logical
pixel is the size you want. Fonts are sized in pixels for that reason: they scale with the painter, like the
lines do, whatever the device's resolution.

How a weight ``w`` (0…1) becomes ink — one mapping, shared by the canvas, the legend and the lesson notes:

* alignment line width   = 0.5 + 7·w logical pixels  (``line_width``)
* alignment line opacity = 0.08 + 0.92·w               (``line_opacity``)
* heatmap cell colour    = viridis(w), 0 dark purple … 1 yellow (colour-blind safe, prints in grey)
* spotlight word glow    = opacity w of the spotlight colour
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPaintEngine, QPalette, QPen, QPixmap

__all__ = [
    "EMPTY_MESSAGE", "AlignmentFigure", "AlignmentGeometry", "HeatmapGeometry", "Theme", "alignment_min_width",
    "contrast_text", "heatmap_fit_cell", "heatmap_image", "heatmap_size", "line_opacity", "line_width",
    "paint_alignment", "paint_alignment_base", "paint_alignment_hover", "paint_heatmap", "paint_message",
    "paint_spotlight", "spotlight_height", "viridis",
    # standalone figures (exports)
    "alignment_size", "caption_height", "heatmap_figure_size", "heatmap_label_cell", "paint_caption", "paint_title",
    "title_font", "title_height",
]

EMPTY_MESSAGE = "Type a sentence to see where each word looks."
FONT_FAMILY = "DejaVu Sans"  # has every accent of French (é, ç, œ) and ships with most Linux systems
BASE_FONT_PX = 13
MIN_FONT_PX = 8  # below this a label is a smudge: rotate, thin out or scroll instead
LABEL_GAP = 6.0  # free space between two horizontal labels
MARGIN = 10.0
MAX_LABEL_PX = 150.0  # longer rotated labels are elided ("anticonstitutionnel…"); tooltips give them whole


def line_width(w: np.ndarray | float) -> np.ndarray | float:
    """Pen width in logical pixels of the alignment line of weight ``w``."""
    return 0.5 + 7.0 * np.clip(w, 0.0, 1.0)


def line_opacity(w: np.ndarray | float) -> np.ndarray | float:
    """Opacity (0…1) of the alignment line of weight ``w``."""
    return 0.08 + 0.92 * np.clip(w, 0.0, 1.0)


# -- colours ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Theme:
    """The colours and font of a figure. Accents are the Okabe–Ito blue/orange pair, safe for colour-blindness."""

    background: QColor
    text: QColor
    muted: QColor  # captions, percentages, hints
    line: QColor  # alignment lines
    highlight: QColor  # the focused query, its lines, the focused heatmap row
    grid: QColor  # cell borders, masked cells, word boxes
    spot: QColor  # the spotlight's light on a word
    is_dark: bool = False
    fade: float = 0.3  # opacity factor of the other queries' lines while one query is in focus
    font_family: str = FONT_FAMILY
    # Exports only: the background is left unpainted, so lines carry real opacity instead of being pre-blended
    # with ``background`` (which still colours the heatmap's cell borders and decides text contrast).
    transparent: bool = False

    @classmethod
    def light(cls) -> "Theme":
        return cls(QColor("#ffffff"), QColor("#1f2328"), QColor("#5c6570"), QColor("#0060a8"),
                   QColor("#d55e00"), QColor("#d4dae0"), QColor("#ffc21a"))

    @classmethod
    def dark(cls) -> "Theme":
        return cls(QColor("#1d1f23"), QColor("#e9ecef"), QColor("#a2aab3"), QColor("#6cb8ff"),
                   QColor("#ff9a3c"), QColor("#3b4047"), QColor("#ffcb2e"), is_dark=True, fade=0.5)

    @classmethod
    def from_palette(cls, palette: QPalette) -> "Theme":
        """The light or dark theme, whichever suits the palette's window, on the palette's own background."""
        dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
        base = cls.dark() if dark else cls.light()
        background = palette.color(QPalette.ColorRole.Base)
        text = palette.color(QPalette.ColorRole.Text)
        if (background.lightnessF() < 0.5) != dark or abs(text.lightnessF() - background.lightnessF()) < 0.5:
            return base  # an odd palette (dark base in a light window, grey on grey): keep our readable pair
        return replace(base, background=background, text=text, muted=_mix(text, background, 0.4),
                       grid=_mix(text, background, 0.82))

    def font(self, px: float, bold: bool = False) -> QFont:
        font = QFont(self.font_family)
        font.setPixelSize(max(1, round(px)))
        font.setBold(bool(bold))
        font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
        return font


# Every repaint lays the same labels out again (an edit changes the weights, not the words): measure each
# (font, text) once. QFont.key() names the family, size and weight; the fonts here are sized in pixels, so
# the width does not depend on the screen.
_WIDTHS: dict[tuple[str, str], float] = {}
_WIDTHS_MAX = 200_000


def text_widths(font: QFont, texts: Iterable[str]) -> list[float]:
    """``QFontMetricsF(font).horizontalAdvance`` of each text, remembered from earlier calls."""
    key, metrics, widths = font.key(), None, []
    for text in texts:
        width = _WIDTHS.get((key, text))
        if width is None:
            if len(_WIDTHS) >= _WIDTHS_MAX:
                _WIDTHS.clear()
            metrics = metrics or QFontMetricsF(font)
            width = _WIDTHS[(key, text)] = metrics.horizontalAdvance(text)
        widths.append(width)
    return widths


def _mix(a: QColor, b: QColor, t: float) -> QColor:
    """``a`` moved a fraction ``t`` of the way towards ``b``."""
    return QColor.fromRgbF(*(x + (y - x) * t for x, y in zip(a.getRgbF()[:3], b.getRgbF()[:3])))


def _alpha(color: QColor, opacity: float) -> QColor:
    out = QColor(color)
    out.setAlphaF(max(0.0, min(1.0, opacity)))
    return out


def _luminance(rgb: np.ndarray) -> np.ndarray:
    """Relative luminance (WCAG) of sRGB colours given as (..., 3) in 0…255."""
    c = np.asarray(rgb, dtype=np.float64) / 255.0
    c = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return c @ np.array([0.2126, 0.7152, 0.0722])


def contrast_text(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    lum = float(_luminance([background.red(), background.green(), background.blue()]))
    return QColor("#000000") if lum > 0.18 else QColor("#ffffff")  # 0.18: equal contrast against both


# Seventeen evenly spaced stops of viridis (CC0, matplotlib), for when pyqtgraph's table is not installed;
# interpolating them in sRGB stays within 6/255 of the full table.
_VIRIDIS_STOPS = (
    (0.2670, 0.0049, 0.3294), (0.2823, 0.0950, 0.4173), (0.2788, 0.1755, 0.4834), (0.2590, 0.2515, 0.5247),
    (0.2297, 0.3224, 0.5457), (0.1994, 0.3876, 0.5546), (0.1727, 0.4488, 0.5579), (0.1490, 0.5081, 0.5573),
    (0.1276, 0.5669, 0.5506), (0.1201, 0.6222, 0.5349), (0.1539, 0.6802, 0.5042), (0.2394, 0.7356, 0.4557),
    (0.3607, 0.7860, 0.3878), (0.5063, 0.8288, 0.3004), (0.6681, 0.8620, 0.1963), (0.8353, 0.8860, 0.1026),
    (0.9932, 0.9062, 0.1439),
)


@functools.cache
def _viridis_table() -> np.ndarray:
    """(256, 4) uint8 RGBA: pyqtgraph's copy of matplotlib's table, read without importing pyqtgraph (~0.9 s)."""
    rgb = None
    spec = importlib.util.find_spec("pyqtgraph")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "colors", "maps", "viridis.csv")
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as fh:
                rows = [line.split(";")[0].split(",") for line in fh if line.strip() and not line.startswith(";")]
            rgb = np.array(rows, dtype=np.float64)  # (256, 3) in 0…1
            break
    if rgb is None or rgb.shape != (256, 3):
        stops = np.array(_VIRIDIS_STOPS)
        t = np.linspace(0.0, 1.0, 256)
        rgb = np.stack([np.interp(t, np.linspace(0.0, 1.0, len(stops)), stops[:, c]) for c in range(3)], axis=1)
    table = np.empty((256, 4), dtype=np.uint8)
    table[:, :3] = np.rint(rgb * 255.0)
    table[:, 3] = 255
    table.setflags(write=False)
    return table


def viridis(t: np.ndarray) -> np.ndarray:
    """Colours of values in [0, 1] as (..., 4) uint8 RGBA. Values are clipped; NaN shows as 0."""
    t = np.nan_to_num(np.asarray(t, dtype=np.float64), nan=0.0, posinf=1.0, neginf=0.0)
    return _viridis_table()[np.rint(np.clip(t, 0.0, 1.0) * 255.0).astype(np.intp)]


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


def _begin(painter: QPainter) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)


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


# -- alignment -------------------------------------------------------------------------------------------
@dataclass
class AlignmentGeometry:
    """Where ``paint_alignment`` put things, for hit-testing and for drawing hover on top of a cached base.

    The line arrays are in drawing order: the last line near a point is the one on top.
    """

    query_rects: list[QRectF | None]  # None: the label was thinned out
    key_rects: list[QRectF | None]
    query_anchors: np.ndarray  # (n_q, 2) where a query's lines end
    key_anchors: np.ndarray  # (n_k, 2)
    pairs: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.intp))  # (n_lines, 2) [query, key]
    widths: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n_lines,) pen widths drawn
    opacities: np.ndarray = field(default_factory=lambda: np.zeros(0))  # (n_lines,) after fading
    skipped: int = 0  # lines left out for speed (see SKIP_WEIGHT, MAX_LINES)
    skipped_below: float = 0.0  # every skipped line weighs less than this
    font_px: int = 0
    rotated: bool = False
    label_step: int = 1

    def token_at(self, point: QPointF) -> tuple[str, int] | None:
        """("query", i) or ("key", j) under ``point``, with a few pixels of slack."""
        for kind, rects in (("query", self.query_rects), ("key", self.key_rects)):
            for i, box in enumerate(rects):
                if box is not None and box.adjusted(-3, -3, 3, 3).contains(point):
                    return kind, i
        return None

    def line_at(self, point: QPointF, slack: float = 3.0) -> tuple[int, int] | None:
        """(query, key) of the topmost drawn line within reach of ``point``."""
        if not len(self.pairs):
            return None
        a = self.key_anchors[self.pairs[:, 1]]  # (n_lines, 2)
        ab = self.query_anchors[self.pairs[:, 0]] - a
        p = np.array([point.x(), point.y()])
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0.0, 1.0)
        dist = np.hypot(*(a + t[:, None] * ab - p).T)
        near = np.flatnonzero(dist <= self.widths / 2 + slack)
        return None if not len(near) else (int(self.pairs[near[-1], 0]), int(self.pairs[near[-1], 1]))

    def width_of(self, query: int, key: int) -> float | None:
        """The pen width the line (query, key) was drawn with, or None if it was not drawn."""
        hit = np.flatnonzero((self.pairs[:, 0] == query) & (self.pairs[:, 1] == key))
        return float(self.widths[hit[-1]]) if len(hit) else None


# Speed (measured on the raster engine): a batch of *translucent* lines is stroked as one path — seconds for a
# few thousand — so lines are drawn opaque, pre-blended with the background, one batch per weight level; an
# antialiased 500 px line then costs ~25 µs, an unsmoothed hairline ~10 µs. Above SKIP_FROM_PAIRS pairs only
# lines of at least SKIP_WEIGHT are drawn, at most MAX_LINES of them, the strongest (the focused query keeps all
# its lines). A skipped line would be 0.53 px wide at 8.5 % opacity, lost among thousands; the canvas says how
# many it left out. 128 × 128 paints in ~60 ms, 512 × 512 in ~250 ms.
SKIP_WEIGHT = 0.005
SKIP_FROM_PAIRS = 64 * 64
MAX_LINES = 3000
MAX_LINE_SPAN = 440.0  # the lines' height at most, in a tall view
CROWDED_LINES = 1000  # from this many lines in one layer on, hairlines (< 1 px) are drawn without smoothing
SCREEN_CROWDED_LINES = 96  # the same for the focused query's lines on screen, drawn again at every edit
_ANCHOR_GAP = 6.0  # between a word and the dot where its lines end
_LEVELS = 128  # weight levels (one pen each): the drawn width is within 0.03 px of the mapping
_LEVEL_WIDTHS = line_width(np.arange(_LEVELS + 1) / _LEVELS).tolist()  # the pen of each level, computed once
_LEVEL_OPACITIES = line_opacity(np.arange(_LEVELS + 1) / _LEVELS).tolist()


def _label_budget(height: float, has_title: bool) -> float:
    """How tall a rotated label band may be: the lines keep at least 40 % of the height."""
    return max(24.0, (height * 0.6 - (28 if has_title else 0) - 40) / 2)


def alignment_min_width(fig: AlignmentFigure, theme: Theme) -> float:
    """The narrowest width at which every label still shows (rotated, smallest font); narrower must scroll."""
    n = max(len(fig.query_labels), len(fig.key_labels), 1)
    return n * (QFontMetricsF(theme.font(MIN_FONT_PX)).height() + 2) + 2 * MARGIN + 1


FIGURE_FLAT_WIDTH = 1400.0  # a standalone figure wider than this rotates its labels instead (slides are ~1280 px)
FIGURE_MIN_WIDTH = 360.0


def alignment_size(fig: AlignmentFigure, theme: Theme) -> tuple[int, int]:
    """(width, height) of a standalone alignment figure (exports): every label drawn whole, none thinned out.

    Labels stand side by side at the base font if that keeps the figure within ``FIGURE_FLAT_WIDTH``, else they
    are rotated one line apart; the lines span about half the width (160 px … ``MAX_LINE_SPAN``). Mirrors the
    layout of ``paint_alignment_base``; the export tests check the two agree.
    """
    if fig.empty:
        return int(FIGURE_MIN_WIDTH), 160
    labels = {"query": fig.query_labels, "key": fig.key_labels}
    # A quarter more than the labels need, and 64 px at least: room to breathe, and for the end labels.
    flat = max(len(row) * max(1.25 * _flat_slot(row, theme, BASE_FONT_PX), 64.0) for row in labels.values())
    n = max(len(row) for row in labels.values())
    line_h = QFontMetricsF(theme.font(BASE_FONT_PX)).height()
    area_w = flat if flat + 2 * MARGIN <= FIGURE_FLAT_WIDTH else n * (line_h + 2)
    texts = [(theme.font(BASE_FONT_PX + 2, bold=True), fig.title), (theme.font(BASE_FONT_PX - 2), fig.query_caption),
             (theme.font(BASE_FONT_PX - 2), fig.key_caption)]
    area_w = max([area_w + 1, FIGURE_MIN_WIDTH - 2 * MARGIN]
                 + [QFontMetricsF(font).horizontalAdvance(text) + 1 for font, text in texts if text])
    rows = {name: _fit_row(row, area_w, theme, fig.max_label_px) for name, row in labels.items()}
    px = min(row.font.pixelSize() for row in rows.values())
    bands = {name: row.band if row.rotated or row.font.pixelSize() == px else QFontMetricsF(theme.font(px)).height()
             for name, row in rows.items()}
    cap_h = QFontMetricsF(theme.font(max(MIN_FONT_PX, px - 2))).height()
    pct_font = theme.font(max(MIN_FONT_PX, px - 3))
    pct_h = QFontMetricsF(pct_font).height() if _percent_fits(fig, rows["key"], area_w, pct_font) else 0.0
    title = 28.0 if fig.title else 0.0
    span = float(np.clip(0.45 * (area_w + 2 * MARGIN), 160.0, MAX_LINE_SPAN))
    area_h = title + 2 * cap_h + bands["query"] + bands["key"] + pct_h + 2 * _ANCHOR_GAP + span
    rotated = max((row.band for row in rows.values() if row.rotated), default=0.0)
    if rotated:  # _label_budget lets rotated labels take 60 % of the height (less the title and 40 px)
        area_h = max(area_h, (2 * rotated + title + 40) / 0.6 + 1)
    return math.ceil(area_w + 2 * MARGIN), math.ceil(area_h + MARGIN) + 1


def paint_alignment(painter: QPainter, rect: QRectF, fig: AlignmentFigure, theme: Theme,
                    hover: tuple[int | None, int | None] | None = None) -> AlignmentGeometry:
    """Two rows of tokens and one line per (query, key) pair, its width and opacity growing with the weight.

    The focused query's lines are drawn last, in the highlight colour; the others fade. ``hover`` is
    (query, key) of a hovered line, or (query, None) / (None, key) of a hovered token.
    """
    geometry = paint_alignment_base(painter, rect, fig, theme)
    if hover is not None:
        paint_alignment_hover(painter, fig, theme, geometry, hover)
    return geometry


@dataclass
class AlignmentLayout:
    """Where the rows, labels and anchors of an alignment go in ``rect``: computed once, painted in two layers."""

    rows: dict[str, _Row]
    xs: dict[str, np.ndarray]  # each row's label centres
    edge_y: dict[str, float]  # each row's side facing the lines
    extra: dict[str, float]  # room between a row and its anchors (the key row's percentages)
    upper: str
    lower: str
    area: QRectF
    top: float
    bottom: float
    px: int
    caption_font: QFont
    cap_h: float
    pct_font: QFont
    pct_h: float


def alignment_layout(rect: QRectF, fig: AlignmentFigure, theme: Theme) -> AlignmentLayout | str:
    """The layout of ``fig`` in ``rect``, or the message to show instead (no words, or no room for lines)."""
    if fig.empty:
        return fig.empty_message
    area = rect.adjusted(MARGIN, MARGIN / 2, -MARGIN, -MARGIN / 2)
    top, bottom = area.top() + (28 if fig.title else 0), area.bottom()
    budget = _label_budget(area.height(), bool(fig.title))
    budget = min(budget, fig.max_label_px)
    rows = {"query": _fit_row(fig.query_labels, area.width(), theme, budget),
            "key": _fit_row(fig.key_labels, area.width(), theme, budget)}
    px = min(rows["query"].font.pixelSize(), rows["key"].font.pixelSize())  # one size for both rows
    for name, row in rows.items():
        if row.font.pixelSize() != px and not row.rotated:
            rows[name] = _Row(row.labels, theme.font(px), False, 1, QFontMetricsF(theme.font(px)).height())
    caption_font = theme.font(max(MIN_FONT_PX, px - 2))
    cap_h = QFontMetricsF(caption_font).height()
    pct_font = theme.font(max(MIN_FONT_PX, px - 3))
    pct_h = QFontMetricsF(pct_font).height() if _percent_fits(fig, rows["key"], area.width(), pct_font) else 0.0
    upper, lower = ("query", "key") if fig.queries_on_top else ("key", "query")
    extra = {"query": 0.0, "key": pct_h}  # the focused query's percentages sit between key labels and lines
    edge_y = {upper: top + cap_h + rows[upper].band + extra[upper] + _ANCHOR_GAP,
              lower: bottom - cap_h - rows[lower].band - extra[lower] - _ANCHOR_GAP}
    span = edge_y[lower] - edge_y[upper]
    if span < 16:  # no room for lines: say so rather than overlap
        return "Make this view taller to see the attention lines."
    if span > MAX_LINE_SPAN:  # in a tall view, keep the figure compact and centred: crossings stay visible
        shift = (span - MAX_LINE_SPAN) / 2
        top, bottom = top + shift, bottom - shift
        edge_y = {upper: edge_y[upper] + shift, lower: edge_y[lower] - shift}
    xs = {name: area.left() + (np.arange(len(r.labels)) + 0.5) * area.width() / len(r.labels)
          for name, r in rows.items()}
    return AlignmentLayout(rows, xs, edge_y, extra, upper, lower, area, top, bottom, px, caption_font, cap_h,
                           pct_font, pct_h)


def paint_alignment_base(painter: QPainter, rect: QRectF, fig: AlignmentFigure, theme: Theme) -> AlignmentGeometry:
    """``paint_alignment`` without hover: what a widget caches, to draw hover on top with ``paint_alignment_hover``."""
    layout = alignment_layout(rect, fig, theme)
    if isinstance(layout, str):
        paint_message(painter, rect, layout, theme)
        return blank_alignment_geometry(fig)
    return paint_alignment_focus(painter, layout, fig, theme, paint_alignment_static(painter, layout, fig, theme))


def blank_alignment_geometry(fig: AlignmentFigure) -> AlignmentGeometry:
    """Every label and anchor unplaced, no lines: the geometry of a figure that shows a message instead."""
    n_q, n_k = len(fig.query_labels), len(fig.key_labels)
    return AlignmentGeometry([None] * n_q, [None] * n_k, np.zeros((n_q, 2)), np.zeros((n_k, 2)))


def paint_alignment_static(painter: QPainter, layout: AlignmentLayout, fig: AlignmentFigure,
                           theme: Theme) -> AlignmentGeometry:
    """The layer an edit of the focused query leaves alone: title, captions, labels, dots, the others' lines.

    A widget caches it and repaints only :func:`paint_alignment_focus` on top while just the focused query's
    weights change (a q edit, a drag in the query–key space): at 128 words, ~130 lines instead of ~3,100.
    """
    n_q, n_k = len(fig.query_labels), len(fig.key_labels)
    geometry = blank_alignment_geometry(fig)
    rows, xs, edge_y, upper, lower = layout.rows, layout.xs, layout.edge_y, layout.upper, layout.lower
    area, top, bottom, px, cap_h = layout.area, layout.top, layout.bottom, layout.px, layout.cap_h
    _begin(painter)
    if fig.title:
        painter.setFont(theme.font(BASE_FONT_PX + 2, bold=True))
        painter.setPen(theme.text)
        painter.drawText(QRectF(area.left(), top - 28, area.width(), 24), Qt.AlignmentFlag.AlignCenter, fig.title)
    geometry.query_anchors = np.stack([xs["query"], np.full(n_q, edge_y["query"])], 1)
    geometry.key_anchors = np.stack([xs["key"], np.full(n_k, edge_y["key"])], 1)
    geometry.font_px, geometry.rotated = px, rows["query"].rotated or rows["key"].rotated
    geometry.label_step = max(rows["query"].step, rows["key"].step)
    drawn = _drawn_pairs(fig, geometry)
    if fig.focus is not None:
        drawn[fig.focus] = False  # the focus layer's
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    _batched_lines(painter, geometry, *np.nonzero(drawn), fig.weights, theme.line, theme,
                   theme.fade if fig.focus is not None else 1.0)
    _draw_dots(painter, theme, np.concatenate([geometry.query_anchors, geometry.key_anchors]))

    painter.setFont(layout.caption_font)
    painter.setPen(theme.muted)
    caption = {"query": fig.query_caption, "key": fig.key_caption}
    painter.drawText(QRectF(area.left(), top, area.width(), cap_h), Qt.AlignmentFlag.AlignLeft, caption[upper])
    painter.drawText(QRectF(area.left(), bottom - cap_h, area.width(), cap_h), Qt.AlignmentFlag.AlignLeft,
                     caption[lower])
    for name, rects in (("query", geometry.query_rects), ("key", geometry.key_rects)):
        row, down = rows[name], name == lower
        shift = _ANCHOR_GAP + layout.extra[name]
        edge = edge_y[name] + (shift if down else -shift)
        for i in _row_indices(len(row.labels), row.step, fig.focus if name == "query" else None):
            focused = name == "query" and i == fig.focus
            rects[i] = _draw_label(painter, row, row.labels[i], xs[name][i], edge, down,
                                   theme.font(px, bold=focused), contrast_text(theme.highlight) if focused else theme.text,
                                   theme.highlight if focused else None)
    painter.restore()
    return geometry


def paint_alignment_focus(painter: QPainter, layout: AlignmentLayout, fig: AlignmentFigure, theme: Theme,
                          static: AlignmentGeometry, screen: bool = False) -> AlignmentGeometry:
    """The focused query's lines (highlight colour, on top) and percentages over the static layer.

    Returns ``static``'s geometry with those lines added (a new object: a cached ``static`` stays as it was).
    ``screen``: drawn again at every edit, so from ``SCREEN_CROWDED_LINES`` keys on its sub-pixel lines (pale,
    their steps do not show) skip smoothing, 2.5× faster; a figure for a file keeps them smooth.
    """
    geometry = replace(static)
    if fig.focus is None:
        return geometry
    _begin(painter)
    allowed = fig.allowed()[fig.focus]
    keys = np.flatnonzero(allowed)
    _batched_lines(painter, geometry, np.full(len(keys), fig.focus), keys, fig.weights, theme.highlight, theme, 1.0,
                   SCREEN_CROWDED_LINES if screen else None)
    # The dots where these lines end, again on top of them.
    _draw_dots(painter, theme, np.concatenate([geometry.query_anchors[[fig.focus]], geometry.key_anchors[keys]]))
    if layout.pct_h:
        _draw_percentages(painter, fig, theme, layout.pct_font, layout.xs["key"], layout.edge_y["key"], layout.pct_h,
                          layout.lower == "key")
    painter.restore()
    return geometry


def _draw_dots(painter: QPainter, theme: Theme, anchors: np.ndarray) -> None:
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.muted)
    for x, y in anchors.tolist():
        painter.drawEllipse(QPointF(x, y), 1.6, 1.6)  # a word whose lines are all faint still shows a dot


def alignment_static_matches(a: AlignmentFigure | None, b: AlignmentFigure) -> bool:
    """Whether ``a`` and ``b`` differ at most in the focused query's weights: then the static layer is the same."""
    if a is None or a is b:
        return a is b
    same = (a.query_labels == b.query_labels and a.key_labels == b.key_labels and a.focus == b.focus
            and a.title == b.title and a.queries_on_top == b.queries_on_top and a.query_caption == b.query_caption
            and a.key_caption == b.key_caption and a.empty_message == b.empty_message
            and a.max_label_px == b.max_label_px and a.weights.shape == b.weights.shape
            and np.array_equal(a.allowed(), b.allowed()))
    if not same:
        return False
    if a.focus is None:
        return np.array_equal(a.weights, b.weights)
    others = np.ones(len(a.weights), bool)
    others[a.focus] = False
    return np.array_equal(a.weights[others], b.weights[others])


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold


def _percent_fits(fig: AlignmentFigure, key_row: _Row, width: float, font: QFont) -> bool:
    """Whether the focused query's weights fit as percentages beside the key labels."""
    if fig.focus is None or key_row.rotated:
        return False
    return QFontMetricsF(font).horizontalAdvance("100%") + 4 <= width / len(fig.key_labels)


def _draw_percentages(painter: QPainter, fig: AlignmentFigure, theme: Theme, font: QFont, xs: np.ndarray,
                      edge: float, height: float, down: bool) -> None:
    row, allowed = fig.weights[fig.focus], fig.allowed()[fig.focus]
    best = int(np.argmax(np.where(allowed, row, -1.0)))
    y = edge + 2 if down else edge - height - 2
    for j in np.flatnonzero(allowed):
        painter.setFont(_bold(font) if j == best else font)
        painter.setPen(theme.highlight if j == best else theme.muted)
        painter.drawText(QRectF(xs[j] - 40, y, 80, height), Qt.AlignmentFlag.AlignCenter, f"{row[j]:.0%}")


def _drawn_pairs(fig: AlignmentFigure, geometry: AlignmentGeometry) -> np.ndarray:
    """(n_q, n_k) bool: the pairs that get a line (allowed, and not skipped for speed)."""
    weights, drawn = fig.weights, fig.allowed().copy()
    if weights.size <= SKIP_FROM_PAIRS:
        return drawn
    floor = SKIP_WEIGHT
    others = drawn.copy()
    if fig.focus is not None:
        others[fig.focus] = False  # the cap counts only these: the static layer must not depend on the focus row
    candidates = np.sort(weights[others & (weights >= floor)])
    if len(candidates) > MAX_LINES:
        floor = float(np.nextafter(candidates[-MAX_LINES - 1], 1.0))  # ties at the cut are all left out
    keep = drawn & (weights >= floor)
    if fig.focus is not None:
        keep[fig.focus] = drawn[fig.focus]  # the focused query always shows all its lines
    geometry.skipped, geometry.skipped_below = int((drawn & ~keep).sum()), floor
    return keep


def _batched_lines(painter: QPainter, geometry: AlignmentGeometry, q_idx: np.ndarray, k_idx: np.ndarray,
                   weights: np.ndarray, colour: QColor, theme: Theme, factor: float,
                   crowded_from: int | None = None) -> None:
    """Draw lines lightest first, one opaque pen per weight level (translucent on a transparent background)."""
    levels = np.rint(weights[q_idx, k_idx] * _LEVELS).astype(np.intp)
    order = np.argsort(levels, kind="stable")
    q_idx, k_idx, levels = q_idx[order], k_idx[order], levels[order]
    # Plain floats, not NumPy scalars: building thousands of QLineF from those is several times slower.
    ends = np.concatenate([geometry.key_anchors[k_idx], geometry.query_anchors[q_idx]], axis=1).tolist()  # (m, 4)
    crowded = len(levels) > (crowded_from or CROWDED_LINES)
    starts = [0, *(np.flatnonzero(np.diff(levels)) + 1).tolist()] if len(levels) else []
    for start, stop in zip(starts, [*starts[1:], len(levels)]):
        level = int(levels[start])
        width, opacity = _LEVEL_WIDTHS[level], _LEVEL_OPACITIES[level] * factor
        # Hairlines under 1 px are pale: unsmoothed, their steps do not show, and they draw 2.5× faster.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not (crowded and width < 1.0))
        pen = QPen(_alpha(colour, opacity) if theme.transparent else _mix(theme.background, colour, opacity), width)
        # A two-point line has no join, so this changes no pixel: it marks the weight lines in SVG output
        # (stroke-linejoin="round"; labels, cells and ticks keep Qt's "bevel") for the exporter to name them.
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        painter.drawLines([QLineF(x1, y1, x2, y2) for x1, y1, x2, y2 in ends[start:stop]])
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    geometry.pairs = np.concatenate([geometry.pairs, np.stack([q_idx, k_idx], 1)]).astype(np.intp)
    geometry.widths = np.concatenate([geometry.widths, line_width(levels / _LEVELS)])
    geometry.opacities = np.concatenate([geometry.opacities, line_opacity(levels / _LEVELS) * factor])


def paint_alignment_hover(painter: QPainter, fig: AlignmentFigure, theme: Theme, geometry: AlignmentGeometry,
                          hover: tuple[int | None, int | None]) -> None:
    """Draw the hover emphasis over an already painted alignment (a widget keeps the base cached)."""
    if fig.empty or not len(geometry.query_anchors):
        return
    hover_q, hover_k = hover
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    allowed, qa, ka = fig.allowed(), geometry.query_anchors, geometry.key_anchors
    if hover_q is not None and hover_k is not None:
        if allowed[hover_q, hover_k]:
            line = QLineF(*ka[hover_k], *qa[hover_q])
            w = float(line_width(fig.weights[hover_q, hover_k]))
            painter.setPen(QPen(theme.text, max(w, 1.5) + 3))  # an outline in the text colour marks it
            painter.drawLine(line)
            painter.setPen(QPen(theme.highlight if hover_q == fig.focus else theme.line, max(w, 1.5)))
            painter.drawLine(line)
    else:  # a hovered token: its lines at full strength, unfaded, on top
        rows = np.zeros_like(allowed)
        if hover_q is not None:
            rows[hover_q] = True
        else:
            rows[:, hover_k] = True
        q_idx, k_idx = np.nonzero(rows & allowed)
        colours = [theme.highlight if q == fig.focus else theme.line for q in q_idx]
        order = np.argsort(fig.weights[q_idx, k_idx], kind="stable")
        for i in order:
            w = float(fig.weights[q_idx[i], k_idx[i]])
            painter.setPen(QPen(_mix(theme.background, colours[i], line_opacity(w)), line_width(w)))
            painter.drawLine(QLineF(*ka[k_idx[i]], *qa[q_idx[i]]))
    for index, rects in ((hover_q, geometry.query_rects), (hover_k, geometry.key_rects)):
        if index is not None and rects[index] is not None:
            painter.setPen(QPen(theme.text, 1.2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(_padded(rects[index]), 4, 4)
    painter.restore()


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


def _is_vector(painter: QPainter) -> bool:
    """True when painting into SVG, PDF or a picture, where a scaled-up image would be blurred by viewers."""
    engine = painter.paintEngine()
    return engine is not None and engine.type() in (QPaintEngine.Type.SVG, QPaintEngine.Type.Pdf,
                                                     QPaintEngine.Type.Picture)


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
        return HeatmapGeometry(QRectF(), len(fig.query_labels), len(fig.key_labels),
                               [None] * len(fig.query_labels), [None] * len(fig.key_labels))
    geometry = paint_heatmap_frame(painter, rect, fig, theme, layout, hover)
    return paint_heatmap_cells(painter, fig, theme, geometry, hover, image)


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
                        hover: tuple[int, int] | None = None, image: QImage | None = None) -> HeatmapGeometry:
    """The cells (with their values when they fit), the focused row's frame, the hover box and its colour-bar mark."""
    hovered = _hovered(geometry, hover)
    grid = geometry.grid
    _begin(painter)
    _draw_cells(painter, fig, theme, grid, image, geometry)
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
    return geometry


def _draw_cells(painter: QPainter, fig: AlignmentFigure, theme: Theme, grid: QRectF, image: QImage | None,
                geometry: HeatmapGeometry) -> None:
    n_q, n_k = fig.weights.shape
    cell_w, cell_h = grid.width() / n_k, grid.height() / n_q
    rgba = viridis(fig.weights)  # (n_q, n_k, 4)
    allowed = fig.allowed()
    if _is_vector(painter) and n_q * n_k <= 128 * 128:
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
    font = theme.font(int(np.clip(round(min(cell_w, cell_h) * 0.3), MIN_FONT_PX, BASE_FONT_PX - 1)))
    fm = QFontMetricsF(font)
    if fm.horizontalAdvance("0.00") + 6 > cell_w or fm.height() + 2 > cell_h:
        return
    geometry.values_shown = True
    painter.setFont(font)
    dark_ink = _luminance(rgba[..., :3]) > 0.18  # (n_q, n_k): black text on the light (yellow-green) cells
    for q in range(n_q):
        for k in range(n_k):
            if allowed[q, k]:
                painter.setPen(QColor("#000000") if dark_ink[q, k] else QColor("#ffffff"))
                painter.drawText(geometry.cell_rect(q, k), Qt.AlignmentFlag.AlignCenter, f"{fig.weights[q, k]:.2f}")


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


# -- spotlight -------------------------------------------------------------------------------------------
_SPOT_PAD, _SPOT_GAP = 6.0, 6.0


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
    for px in range(BASE_FONT_PX + 2, MIN_FONT_PX - 1, -1):
        boxes, height = _spot_layout(key_labels, area.width(), theme, px, caption)
        if height <= area.height():
            break
    _begin(painter)
    painter.translate(area.topLeft())
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
        shown.append(box.translated(area.topLeft()))
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
