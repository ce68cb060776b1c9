"""The alignment canvas — each query word's lines to the key words it looks at — and the spotlight strip.

Both paint with ``attnstudio.gui.painting`` (the exporters use the same functions) from ``controller.result()``,
and repaint only when the controller says something changed.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QScrollBar, QSizePolicy, QToolTip, QWidget

from attnstudio.gui.controller import Controller
from attnstudio.gui.errors import guard_overrides
from attnstudio.gui.painting import (
    MIN_FONT_PX,
    AlignmentFigure,
    AlignmentGeometry,
    Theme,
    alignment_min_width,
    AlignmentLayout,
    alignment_layout,
    alignment_static_matches,
    blank_alignment_geometry,
    paint_alignment_focus,
    paint_alignment_hover,
    paint_alignment_static,
    paint_message,
    paint_spotlight,
    spotlight_height,
    spotlight_looks,
)
from attnstudio.gui.widgets import RepaintOnFocus, name_widget, same_key

__all__ = ["AlignmentCanvas", "SpotlightStrip", "alignment_figure", "weight_sentence"]

LANGUAGE_NAMES = {"fr": "French", "en": "English", "de": "German", "es": "Spanish", "it": "Italian"}
CACHE_PIXELS = 16_000_000  # device pixels: above this the cached drawing holds only the visible part
HINT = "Hover for exact weights · click {query} word to focus it · ← → move the focus"


def _language(controller: Controller, code: str) -> str:
    names = controller.scene.model.lexicon.languages
    return LANGUAGE_NAMES.get(code) or str(names.get(code, {}).get("name", code))


def alignment_figure(controller: Controller, title: bool = True) -> AlignmentFigure:
    """The figure of the current scene: queries, keys, the shown head's weights, the focus.

    Made once per change of the scene (the canvas, spotlight and heatmap all ask for it on every edit).
    """
    return controller.derived(f"alignment_figure:{title}", lambda: _alignment_figure(controller, title))


def _alignment_figure(controller: Controller, title: bool) -> AlignmentFigure:
    scene, result = controller.scene, controller.result()
    settings = scene.settings
    source = _language(controller, settings.source_language)
    if settings.mode == "translation":
        target = _language(controller, settings.target_language)
        query_caption, key_caption = f"{target} · queries (the translation)", f"{source} · keys (the source)"
        heading = f"{target} → {source}: where each {target} word looks"
    else:
        query_caption, key_caption = f"{source} · queries", f"{source} · keys (the same sentence)"
        heading = f"Self-attention in {source}"
    if result.num_heads > 1:
        heading += f" (head {result.head + 1} of {result.num_heads})"
    queries = [w.token.surface for w in result.query_words]
    return AlignmentFigure(
        query_labels=queries,
        key_labels=[w.token.surface for w in result.key_words],
        weights=result.weights,  # (n_q, n_k)
        focus=min(scene.focus, len(queries) - 1) if queries else None,
        title=heading if title else "",
        query_caption=query_caption,
        key_caption=key_caption,
        mask=result.mask,
    )


def weight_sentence(fig: AlignmentFigure, query: int | None, key: int | None) -> str:
    """A sentence with the exact weight(s) behind what the mouse is on (for the tooltip and info line)."""
    q_text = None if query is None else f"“{fig.query_labels[query]}”"
    k_text = None if key is None else f"“{fig.key_labels[key]}”"
    allowed = fig.allowed()
    if query is not None and key is not None:
        if not allowed[query, key]:
            return f"{q_text} may not look at {k_text} (masked)"
        return f"{q_text} → {k_text}: weight {fig.weights[query, key]:.4f} ({fig.weights[query, key]:.1%} of its attention)"
    if query is not None:
        row = np.where(allowed[query], fig.weights[query], -1.0)
        best = int(np.argmax(row))
        return f"{q_text} looks most at “{fig.key_labels[best]}”: weight {row[best]:.4f}"
    column = np.where(allowed[:, key], fig.weights[:, key], -1.0)
    best = int(np.argmax(column))
    return (f"{k_text} is looked at most by “{fig.query_labels[best]}” ({column[best]:.4f}); "
            f"total attention received {fig.weights[:, key].sum():.2f}")


@guard_overrides
class AlignmentCanvas(RepaintOnFocus, QWidget):
    """The alignment: key words on top, query words below, a line per pair as thick as its weight.

    Scrolls sideways when the sentence is too long for its width; hover for exact weights; click or use the
    arrow keys to choose the focused query.

    While a lesson awaits a prediction (``set_weights_hidden``) it draws the words without lines and a click on a
    key word emits ``key_chosen`` instead of revealing anything.
    """

    key_chosen = Signal(int)  # a key word clicked while the weights are hidden: the learner's guess

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "alignmentCanvas", "Alignment canvas")
        # It fills every pixel itself: Qt need not paint the splitter and window behind it on every change.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleDescription("Lines from each query word to the key words it attends to; "
                                      "thicker lines carry more weight. Left and right arrows move the focus.")
        self.controller = controller
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.scrollbar = QScrollBar(Qt.Orientation.Horizontal, self)
        self.scrollbar.setObjectName("alignmentScrollbar")
        self.scrollbar.hide()
        self.scrollbar.valueChanged.connect(self._on_scrolled)
        self._theme = Theme.from_palette(self.palette())
        self._figure: AlignmentFigure | None = None
        self._geometry: AlignmentGeometry | None = None
        self._base: QPixmap | None = None  # lines and labels without hover; hovering only paints on top
        self._static: QPixmap | None = None  # the base without the focused query's lines (see _layout)
        self._static_fig: AlignmentFigure | None = None
        self._scrollbar_state: tuple[int, int, int] | None = None
        self._info_line: tuple = (None, None, "")  # (what it was made for, font, elided text)
        self._static_window = QRectF()
        self._static_layout: AlignmentLayout | str = ""
        self._static_geometry: AlignmentGeometry | None = None
        self._base_window = QRectF()  # the part of the content the cached pixmap holds
        self._geometry_view = QRectF()  # the part of the content the geometry was made for
        self._hover: tuple[int | None, int | None] | None = None
        self._info = ""
        self._weights_hidden = False
        self._prompt = ""  # said where the lines would be while the weights are hidden
        controller.scene_changed.connect(self._on_scene_changed)
        controller.focus_changed.connect(self._on_focus_changed)

    # -- what is shown --------------------------------------------------------------------------------
    def figure(self) -> AlignmentFigure:
        """The current figure, with its title (the export draws it)."""
        return self._hidden_if_asked(alignment_figure(self.controller, title=True))

    def _shown(self) -> AlignmentFigure:
        if self._figure is None:
            self._figure = self._hidden_if_asked(alignment_figure(self.controller, title=False))
        return self._figure

    def _hidden_if_asked(self, fig: AlignmentFigure) -> AlignmentFigure:
        if not self._weights_hidden:
            return fig
        # Every pair masked: no line, no percentage; the words stay where they always are.
        return replace(fig, weights=np.zeros_like(fig.weights), mask=np.zeros(fig.weights.shape, bool))

    def set_weights_hidden(self, hidden: bool, prompt: str = "") -> None:
        """Hide the lines (a prediction is awaited) and show ``prompt`` in their place; or show them again."""
        if (hidden, prompt) != (self._weights_hidden, self._prompt):
            self._weights_hidden, self._prompt = hidden, prompt
            self._invalidate()

    def weights_hidden(self) -> bool:
        return self._weights_hidden

    def geometry_of_figure(self) -> AlignmentGeometry | None:
        """Where the last paint put labels and lines, in canvas coordinates before scrolling."""
        return self._geometry

    def hover_text(self) -> str:
        """The info line: the exact weight under the mouse, or a hint."""
        return self._info

    def _invalidate(self, band: bool = False) -> None:
        self._figure, self._geometry = None, None  # the base pixmap is painted over again, not reallocated
        self._set_hover(None)
        self._update_scrollbar()
        edited = self._edited_band() if band else None
        if edited is not None:
            self.update(edited)
            return
        # Not the scroll bar's strip: it would be painted again, on top, for nothing.
        self.update(0, 0, self.width(), self.height() - (self.scrollbar.height() if self._scrolling() else 0))

    def _edited_band(self) -> QRect | None:
        """The strip an edit of the focused query's weights alone repaints: from its percentages to its lines'
        ends, the whole width (its lines fan out to every key). None when more changed (the static layer).

        The labels, captions and info line around it stay as they are (the info line is the same hint).
        """
        layout = self._static_layout
        if self._hover is not None or isinstance(layout, str) or not self._static_is_current(self._plot_rect()):
            return None
        key_edge = layout.edge_y["key"]
        pct_top = key_edge + 2 if layout.lower == "key" else key_edge - layout.pct_h - 2
        top = min(layout.edge_y.values()) if not layout.pct_h else min(pct_top, *layout.edge_y.values())
        bottom = max(layout.edge_y.values()) if not layout.pct_h else max(pct_top + layout.pct_h, *layout.edge_y.values())
        margin = 8  # half the widest line, its smoothing, the dots
        top, bottom = int(np.floor(top)) - margin, int(np.ceil(bottom)) + margin
        return QRect(0, top, self.width(), bottom - top)

    def _on_scene_changed(self, _what: frozenset) -> None:
        self._invalidate(band=True)

    def _on_focus_changed(self, _focus: int) -> None:
        self._invalidate()
        self._ensure_focus_visible()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt name)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._scrollbar_state = None  # the scroll bar's height may differ
        if event.type() == QEvent.Type.PaletteChange:
            self._theme = Theme.from_palette(self.palette())
            self._static = None
            self._invalidate()
        super().changeEvent(event)

    # -- layout: scroll sideways when the words do not fit --------------------------------------------
    def _info_height(self) -> float:
        return self._theme.font_height(MIN_FONT_PX + 3) + 6

    def _content_width(self) -> float:
        return max(float(self.width()), alignment_min_width(self._shown(), self._theme))

    def _plot_rect(self) -> QRectF:
        """The figure's rectangle in content coordinates (before the scroll offset)."""
        bar = self.scrollbar.height() if self._scrolling() else 0
        return QRectF(0, 0, self._content_width(), self.height() - self._info_height() - bar)

    def _scrolling(self) -> bool:
        return not self.scrollbar.isHidden()  # isVisible() would be False until the window is shown

    def _update_scrollbar(self) -> None:
        overflow = int(np.ceil(self._content_width() - self.width()))
        state = (overflow, self.width(), self.height())
        if state == self._scrollbar_state:  # an edit of the weights: the words, and so the width, are the same
            return
        self._scrollbar_state = state
        self.scrollbar.setVisible(overflow > 0)
        self.scrollbar.setRange(0, max(overflow, 0))
        self.scrollbar.setPageStep(max(self.width(), 1))
        self.scrollbar.setSingleStep(24)
        hint = self.scrollbar.sizeHint().height()
        self.scrollbar.setGeometry(0, self.height() - hint, self.width(), hint)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802
        self._base, self._geometry, self._static = None, None, None
        self._update_scrollbar()
        super().resizeEvent(event)

    def _on_scrolled(self, _value: int) -> None:
        self._set_hover(None)
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        if not self._scrolling():
            return super().wheelEvent(event)
        delta = event.angleDelta()
        step = delta.x() or delta.y()
        self.scrollbar.setValue(self.scrollbar.value() - step)
        event.accept()

    def _ensure_focus_visible(self) -> None:
        if not self._scrolling():
            return
        geometry = self._layout()
        if geometry is None or not len(geometry.query_anchors):
            return
        fig = self._shown()
        if fig.focus is None:
            return
        x = float(geometry.query_anchors[fig.focus, 0])
        left = self.scrollbar.value()
        if not left + 40 <= x <= left + self.width() - 40:
            self.scrollbar.setValue(int(x - self.width() / 2))

    # -- painting -------------------------------------------------------------------------------------
    def _offset(self) -> int:
        return self.scrollbar.value() if self._scrolling() else 0

    def _view(self) -> QRectF:
        """The visible part of the figure's rectangle, in content coordinates."""
        rect = self._plot_rect()
        return QRectF(self._offset(), 0, min(float(self.width()), rect.width()), rect.height())

    def _static_layer(self) -> QRectF | None:
        """Bring the cached static layer up to date; return the visible part of the figure (None: no room).

        Two layers. The static one (labels, the other queries' lines) holds the whole scrollable width, unless
        that would be huge (hundreds of words on a high-DPI screen: then the visible part, redrawn on scrolling);
        it is kept while only the focused query's weights change, the usual edit. What is shown is the visible
        part of it with the focused query's lines drawn over it again (:meth:`_paint_layers`).
        """
        rect = self._plot_rect()
        if rect.width() < 1 or rect.height() < 1:
            return None
        if not self._static_is_current(rect):  # (also after a move to a screen of another DPI)
            window, ratio, fig = self._static_window_for(rect), self.devicePixelRatioF(), self._shown()
            self._static = self._pixmap(window, ratio)
            self._static.fill(self._theme.background)
            painter = QPainter(self._static)
            painter.translate(-window.left(), 0)
            self._static_layout = alignment_layout(rect, fig, self._theme)
            if isinstance(self._static_layout, str):
                paint_message(painter, rect, self._static_layout, self._theme)
                self._static_geometry = blank_alignment_geometry(fig)
            else:
                self._static_geometry = paint_alignment_static(painter, self._static_layout, fig, self._theme)
            painter.end()
            self._static_fig, self._static_window = fig, window
        return self._view()

    def _static_window_for(self, rect: QRectF) -> QRectF:
        """The part of the content the static layer holds: the whole figure, or the visible part if that is huge."""
        ratio = self.devicePixelRatioF()
        return QRectF(rect) if rect.width() * rect.height() * ratio * ratio <= CACHE_PIXELS else self._view()

    def _static_is_current(self, rect: QRectF) -> bool:
        """Whether the cached static layer is the one the figure ``rect`` needs now (same window, DPI, figure)."""
        return (self._static is not None and self._static_window == self._static_window_for(rect)
                and self._static.devicePixelRatio() == self.devicePixelRatioF()
                and alignment_static_matches(self._static_fig, self._shown()))

    def _paint_layers(self, painter: QPainter, view: QRectF) -> AlignmentGeometry:
        """The visible part of the static layer, then the focused query's lines over it; ``painter`` is at the
        view's top left. Returns the geometry (also kept for hit-testing, with the view it is for)."""
        ratio = self.devicePixelRatioF()
        window = self._static_window
        painter.save()
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)  # a plain copy, no blending
        source = QRectF((view.left() - window.left()) * ratio, 0, view.width() * ratio, view.height() * ratio)
        painter.drawPixmap(QRectF(0, 0, view.width(), view.height()), self._static, source)
        painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        painter.translate(-view.left(), 0)
        if isinstance(self._static_layout, str):
            self._geometry = self._static_geometry
        else:
            self._geometry = paint_alignment_focus(painter, self._static_layout, self._shown(), self._theme,
                                                   self._static_geometry, screen=True)
        painter.restore()
        self._geometry_view = view
        return self._geometry

    def _layout(self) -> AlignmentGeometry | None:
        """The geometry of what is shown (painting the layers into the cached base if needed)."""
        if self._geometry is not None and self._geometry_view == self._view():
            return self._geometry
        return self._base_layer()

    def _base_layer(self) -> AlignmentGeometry | None:
        """Paint both layers into the cached base pixmap if needed (hovering paints on top of it); its geometry.

        A paint without hover draws the layers straight onto the widget instead: one copy of the pixels less.
        """
        view = self._static_layer()
        if view is None:
            return None
        ratio = self.devicePixelRatioF()
        if (self._base is not None and self._geometry is not None and self._base_window == view
                and self._base.devicePixelRatio() == ratio):
            return self._geometry
        if self._base is None or self._base.size() != self._pixmap_size(view, ratio) or self._base.devicePixelRatio() != ratio:
            self._base = self._pixmap(view, ratio)
            self._base.fill(self._theme.background)  # no stray pixels where a rounded edge is not copied over
        painter = QPainter(self._base)
        geometry = self._paint_layers(painter, view)
        painter.end()
        self._base_window = view
        return geometry

    def _pixmap_size(self, window: QRectF, ratio: float) -> QSize:
        return QSize(int(np.ceil(window.width() * ratio)), int(np.ceil(window.height() * ratio)))

    def _pixmap(self, window: QRectF, ratio: float) -> QPixmap:
        pixmap = QPixmap(self._pixmap_size(window, ratio))
        pixmap.setDevicePixelRatio(ratio)
        return pixmap

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        background = QRegion(self.rect())
        if self._hover is None:  # the usual paint, after an edit: both layers straight onto the widget
            view = self._static_layer()
            geometry = None if view is None else self._paint_layers(painter, view)
            self._base_window = QRectF()  # what the base pixmap holds is no longer what is shown
        else:
            geometry = self._base_layer()
            view = None if geometry is None else self._base_window
            if geometry is not None:
                painter.save()
                painter.translate(-self._offset(), 0)
                painter.drawPixmap(self._base_window.topLeft(), self._base)
                painter.restore()
        if geometry is not None:  # the layers cover their part: fill only the rest
            background -= QRegion(0, 0, int(view.width()), int(view.height()))
        for rect in background:
            painter.fillRect(rect, self._theme.background)
        if geometry is not None:
            painter.save()
            painter.translate(-self._offset(), 0)
            if self._weights_hidden:
                self._paint_guess(painter, geometry)
            elif self._hover is not None:
                paint_alignment_hover(painter, self._shown(), self._theme, geometry, self._hover)
            painter.restore()
        if event.rect().bottom() >= self._info_box().top():  # an edit repaints only its lines (_edited_band)
            self._paint_info(painter, geometry)
        if self.hasFocus():
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(QPen(self.palette().color(self.palette().ColorRole.Highlight), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(QRectF(self.rect()).adjusted(1, 1, -1, -1), 4, 4)
        painter.end()

    def _paint_guess(self, painter: QPainter, geometry: AlignmentGeometry) -> None:
        """While the weights are hidden: the prompt between the rows, and a frame around each key word to click."""
        if not len(geometry.key_anchors) or not len(geometry.query_anchors):
            return
        top, bottom = float(geometry.key_anchors[0, 1]), float(geometry.query_anchors[0, 1])
        paint_message(painter, QRectF(self._offset(), min(top, bottom) + 4, self.width(), abs(bottom - top) - 8),
                      self._prompt, self._theme)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for j, box in enumerate(geometry.key_rects):
            if box is not None:
                hovered = self._hover == (None, j)
                painter.setPen(QPen(self._theme.highlight if hovered else self._theme.muted, 2 if hovered else 1))
                painter.drawRoundedRect(box.adjusted(-5, -3, 5, 3), 5, 5)

    def _info_box(self) -> QRectF:
        """Where the info line goes: under the figure, above the scroll bar."""
        bar = self.scrollbar.height() if self._scrolling() else 0
        return QRectF(10, self.height() - bar - self._info_height(), self.width() - 20, self._info_height())

    def _paint_info(self, painter: QPainter, geometry: AlignmentGeometry | None) -> None:
        fig = self._shown()
        if fig.empty:
            return
        box = self._info_box()
        language = self._query_language()
        text = self._info or HINT.format(query=("an " if language[:1] in "AEIOU" else "a ") + language)
        if self._weights_hidden and not self._info:
            text = "The lines appear once you have made your guess"
        if geometry is not None and geometry.skipped and not self._info:
            text = f"{geometry.skipped:,} lines under {geometry.skipped_below:.1%} not drawn · " + text
        key = (text, bool(self._info), box.width(), self._theme.font_family)
        if self._info_line[0] != key:  # the same line at every edit: its font and elision are kept
            font = self._theme.font(MIN_FONT_PX + 3, bold=bool(self._info))
            self._info_line = key, font, QFontMetricsF(font).elidedText(text, Qt.TextElideMode.ElideRight, box.width())
        painter.setFont(self._info_line[1])
        painter.setPen(self._theme.text if self._info else self._theme.muted)
        painter.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._info_line[2])

    def _query_language(self) -> str:
        settings = self.controller.scene.settings
        code = settings.target_language if settings.mode == "translation" else settings.source_language
        return _language(self.controller, code)

    # -- mouse and keyboard ---------------------------------------------------------------------------
    def _hit(self, pos: QPointF) -> tuple[int | None, int | None] | None:
        geometry = self._layout()
        if geometry is None:
            return None
        point = QPointF(pos.x() + self._offset(), pos.y())
        token = geometry.token_at(point)
        if token is not None:
            return (token[1], None) if token[0] == "query" else (None, token[1])
        return geometry.line_at(point)

    def _set_hover(self, hover: tuple[int | None, int | None] | None) -> None:
        if hover == self._hover:
            return
        self._hover = hover
        fig = self._shown()
        if self._weights_hidden:
            key = hover[1] if hover is not None and hover[0] is None else None
            self._info = "" if key is None else f"Click to guess “{fig.key_labels[key]}”"
        else:
            self._info = "" if hover is None or fig.empty else weight_sentence(fig, *hover)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._set_hover(self._hit(event.position()))
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        self._set_hover(None)
        super().leaveEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            hover = self._hit(QPointF(help_event.pos()))
            self._set_hover(hover)
            if self._info:
                QToolTip.showText(help_event.globalPos(), self._info, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton:
            hit = self._hit(event.position())
            if self._weights_hidden and hit is not None and hit[0] is None and hit[1] is not None:
                self.key_chosen.emit(hit[1])
                event.accept()
                return
            if hit is not None and hit[0] is None and self.controller.scene.settings.mode == "self":
                hit = (hit[1], None)  # self-attention: a key word is also a query word of the same sentence
            if hit is not None and hit[0] is not None:  # a query word, or a line: focus its query
                self.controller.set_focus(hit[0])
                event.accept()
                return
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802
        n = len(self._shown().query_labels)
        focus = self.controller.scene.focus
        moves = {Qt.Key.Key_Left: focus - 1, Qt.Key.Key_Up: focus - 1, Qt.Key.Key_Right: focus + 1,
                 Qt.Key.Key_Down: focus + 1, Qt.Key.Key_Home: 0, Qt.Key.Key_End: n - 1}
        if n and event.key() in moves:
            self.controller.set_focus(max(0, min(moves[event.key()], n - 1)))
            event.accept()
            return
        super().keyPressEvent(event)

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 420)


@guard_overrides
class SpotlightStrip(QWidget):
    """The key sentence written out, each word lit by how much the focused query looks at it."""

    MAX_HINT_HEIGHT = 150  # a long sentence shrinks its font rather than push the canvas away

    def __init__(self, controller: Controller, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name_widget(self, "spotlightStrip", "Spotlight strip")
        # It fills every pixel itself: Qt need not paint the splitter and window behind it on every change.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setAccessibleDescription("The source sentence with each word lit in proportion to its weight "
                                      "for the focused query.")
        self.controller = controller
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._theme = Theme.from_palette(self.palette())
        self._figure: AlignmentFigure | None = None
        self._boxes: list[QRectF | None] = []
        self._hover: int | None = None
        self._heights: dict[int, int] = {}  # heightForWidth by width, for the words and caption shown now
        self._strip: QPixmap | None = None  # the strip as last painted (see paintEvent)
        self._strip_key: tuple = ()
        self._strip_looks: list[tuple] = []
        controller.scene_changed.connect(self._on_changed)
        controller.focus_changed.connect(self._on_changed)

    def _on_changed(self, _arg: object = None) -> None:
        words = None if self._figure is None else (self._figure.key_labels, self.caption())
        self._figure, self._hover = None, None
        # The height follows the words and the caption, not the weights: an edit that moves only the weights
        # must not send the layout asking heightForWidth a dozen times again.
        if words != (self._shown().key_labels, self.caption()):
            self._heights.clear()
            self.updateGeometry()
        self.update()

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802
        if event.type() == QEvent.Type.PaletteChange:
            self._theme = Theme.from_palette(self.palette())
            self._heights.clear()
            self.update()
        super().changeEvent(event)

    def _shown(self) -> AlignmentFigure:
        if self._figure is None:
            self._figure = alignment_figure(self.controller, title=False)
        return self._figure

    def caption(self) -> str:
        """«“black” looks at:», or "" when there is no query."""
        fig = self._shown()
        if fig.empty or fig.focus is None:
            return ""
        return f"“{fig.query_labels[fig.focus]}” looks at:"

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        fig = self._shown()
        if fig.empty:
            return 60
        if width not in self._heights:
            self._heights[width] = int(spotlight_height(fig.key_labels, width, self._theme, self.caption())) + 4
        return self._heights[width]

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(600, max(60, min(self.heightForWidth(max(self.width(), 600)), self.MAX_HINT_HEIGHT)))

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(200, max(56, min(self.heightForWidth(max(self.width(), 200)), 100)))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        fig = self._shown()
        if fig.empty or fig.focus is None:
            painter.fillRect(self.rect(), self._theme.background)
            self._boxes = paint_spotlight(painter, QRectF(self.rect()), [], np.zeros(0), self._theme)
            self._strip = None
            painter.end()
            return
        # The strip is kept as a picture; an edit repaints only the words whose look changed (at 128 words most
        # stay at 0%), over their own boxes. Anything else about it changed: painted whole again.
        weights, allowed, ratio = fig.weights[fig.focus], fig.allowed()[fig.focus], self.devicePixelRatioF()
        looks = spotlight_looks(weights, allowed)
        key = (self.size(), ratio, self._theme, tuple(fig.key_labels), self.caption(), self._hover)
        words = None
        if self._strip is None or not same_key(key, self._strip_key):
            self._strip = QPixmap(int(np.ceil(self.width() * ratio)), int(np.ceil(self.height() * ratio)))
            self._strip.setDevicePixelRatio(ratio)
            self._strip.fill(self._theme.background)
            self._strip_key = key
        else:
            words = {j for j, (old, new) in enumerate(zip(self._strip_looks, looks)) if old != new}
        if words != set():
            strip_painter = QPainter(self._strip)
            self._boxes = paint_spotlight(strip_painter, QRectF(self.rect()), fig.key_labels, weights, self._theme,
                                          caption=self.caption(), allowed=allowed, hover=self._hover, words=words,
                                          looks=looks)
            strip_painter.end()
        self._strip_looks = looks
        painter.drawPixmap(0, 0, self._strip)
        painter.end()

    def word_boxes(self) -> list[QRectF | None]:
        """Each key word's box from the last paint (None: not shown for lack of room)."""
        return list(self._boxes)

    def _word_at(self, pos: QPointF) -> int | None:
        for j, box in enumerate(self._boxes):
            if box is not None and box.contains(pos):
                return j
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        hover = self._word_at(event.position())
        if hover != self._hover:
            self._hover = hover
            self.update()
        super().mouseMoveEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802
        if self._hover is not None:
            self._hover = None
            self.update()
        super().leaveEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            j = self._word_at(QPointF(help_event.pos()))
            fig = self._shown()
            if j is None or fig.focus is None:
                QToolTip.hideText()
                event.ignore()
            else:
                QToolTip.showText(help_event.globalPos(), weight_sentence(fig, fig.focus, j), self)
            return True
        return super().event(event)
