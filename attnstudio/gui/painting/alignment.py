"""The alignment figure: two rows of tokens joined by weighted lines, painted as a static and a focus layer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen

from attnstudio.gui.painting.figure import AlignmentFigure, paint_message
from attnstudio.gui.painting.labels import _draw_label, _fit_row, _flat_slot, _padded, _Row, _row_indices
from attnstudio.gui.painting.theme import (
    BASE_FONT_PX,
    MARGIN,
    MIN_FONT_PX,
    Theme,
    _alpha,
    _begin,
    _bold,
    _mix,
    contrast_text,
    line_opacity,
    line_width,
)


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
_LEVEL_WIDTH_ARRAY = line_width(np.arange(_LEVELS + 1) / _LEVELS)  # the same, to index by an array of levels
_LEVEL_OPACITY_ARRAY = line_opacity(np.arange(_LEVELS + 1) / _LEVELS)


def _label_budget(height: float, has_title: bool) -> float:
    """How tall a rotated label band may be: the lines keep at least 40 % of the height."""
    return max(24.0, (height * 0.6 - (28 if has_title else 0) - 40) / 2)


def alignment_min_width(fig: AlignmentFigure, theme: Theme) -> float:
    """The narrowest width at which every label still shows (rotated, smallest font); narrower must scroll."""
    n = max(len(fig.query_labels), len(fig.key_labels), 1)
    return n * (theme.font_height(MIN_FONT_PX) + 2) + 2 * MARGIN + 1


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
    # Asked about the same two figures several times per edit (canvas and heatmap, when the edit comes in and
    # when they paint): figures are not changed once made, so the answer is kept for the last few pairs.
    kept = _STATIC_MATCHES.get((id(a), id(b)))
    if kept is not None and kept[0] is a and kept[1] is b:
        return kept[2]
    same = _static_matches(a, b)
    if len(_STATIC_MATCHES) >= 8:
        _STATIC_MATCHES.clear()
    _STATIC_MATCHES[(id(a), id(b))] = (a, b, same)
    return same


_STATIC_MATCHES: dict[tuple[int, int], tuple[AlignmentFigure, AlignmentFigure, bool]] = {}


def _static_matches(a: AlignmentFigure, b: AlignmentFigure) -> bool:
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
    level_list = levels.tolist()
    pens = _level_pens(colour, theme, factor)
    start, m = 0, len(level_list)
    while start < m:
        level = level_list[start]
        stop = start + 1
        while stop < m and level_list[stop] == level:
            stop += 1
        # Hairlines under 1 px are pale: unsmoothed, their steps do not show, and they draw 2.5× faster.
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, not (crowded and _LEVEL_WIDTHS[level] < 1.0))
        painter.setPen(pens[level])
        painter.drawLines([QLineF(x1, y1, x2, y2) for x1, y1, x2, y2 in ends[start:stop]])
        start = stop
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    geometry.pairs = np.concatenate([geometry.pairs, np.stack([q_idx, k_idx], 1)]).astype(np.intp)
    geometry.widths = np.concatenate([geometry.widths, _LEVEL_WIDTH_ARRAY[levels]])
    geometry.opacities = np.concatenate([geometry.opacities, _LEVEL_OPACITY_ARRAY[levels] * factor])


# The pens of every weight level for one (colour, background, fade): a repaint of the focused query's lines
# needs a handful of them at every edit, the static layer up to 129. Few combinations occur (line or highlight,
# faded or not, per theme), so they are kept.
_PENS: dict[tuple, list[QPen]] = {}


def _level_pens(colour: QColor, theme: Theme, factor: float) -> list[QPen]:
    key = (colour.getRgbF(), colour.spec(), theme.background.getRgbF(), theme.background.spec(), theme.transparent,
           factor)
    pens = _PENS.get(key)
    if pens is None:
        pens = []
        for width, opacity in zip(_LEVEL_WIDTHS, _LEVEL_OPACITIES):
            opacity *= factor
            pen = QPen(_alpha(colour, opacity) if theme.transparent else _mix(theme.background, colour, opacity),
                       width)
            # A two-point line has no join, so this changes no pixel: it marks the weight lines in SVG output
            # (stroke-linejoin="round"; labels, cells and ticks keep Qt's "bevel") for the exporter to name them.
            pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
            pens.append(pen)
        if len(_PENS) > 64:
            _PENS.clear()
        _PENS[key] = pens
    return pens


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
