"""Figures to PNG, SVG and PDF, drawn by the painters the screen uses (``attnstudio.gui.painting``).

One small base class, after pyqtgraph's exporters: ``Exporter(figure, options).export(path)`` writes the file
atomically (render to bytes first, then replace), ``export(to_bytes=True)`` returns the bytes; no dialogs, so
every exporter is testable as is. Each paints on a device whose resolution we set to 96 DPI, so one logical
pixel of the layout is one CSS pixel in SVG, 0.75 pt in PDF and ``scale`` pixels in PNG: fonts, which the
painters size in pixels, and lines stay where the layout put them.

A page is a title band, the panel(s) — the alignment lines, the heatmap, or both side by side — and a caption.
"""

from __future__ import annotations

import math
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QRectF, QSize, QSizeF
from PySide6.QtGui import QFontMetricsF, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter, QPdfWriter

from attnstudio._version import __version__
from attnstudio.export import IMAGE_FORMATS, VIEWS
from attnstudio.fileio import atomic_write_bytes
from attnstudio.gui.painting import (
    FIGURE_FLAT_WIDTH,
    MARGIN,
    AlignmentFigure,
    AlignmentGeometry,
    HeatmapGeometry,
    Theme,
    alignment_size,
    caption_height,
    heatmap_figure_size,
    paint_alignment,
    paint_caption,
    paint_heatmap,
    paint_title,
    title_font,
    title_height,
)

__all__ = [
    "MAX_SCALE", "MIN_SCALE", "ExportError", "ExportOptions", "Exporter", "FigureLayout", "PdfExporter",
    "PngExporter", "RenderedFigure", "SvgExporter", "ensure_gui_application", "export_figure", "exporter_for",
    "figure_layout", "figure_size", "paint_figure",
]

DPI = 96  # one logical pixel = 1/96 inch = one CSS pixel = 0.75 pt
MIN_SCALE, MAX_SCALE = 0.5, 4.0  # PNG device pixels per logical pixel
# Qt's PNG "quality" is zlib effort: 70 (level 3) writes a 128-word figure ~4× faster than the default for files
# ~10 % larger (measured: 1.5 Mpx in 0.23 s, 1.37 MB, against 0.95 s, 1.21 MB).
PNG_QUALITY = 70
MAX_PNG_PIXELS = 120_000_000  # ~480 MB of ARGB: beyond this, say so rather than fail to allocate
PANEL_GAP = 24.0  # between the lines and the heatmap, side by side
LINES_STRETCH = 1.25  # beside a taller heatmap, the lines panel grows at most this much (then it is centred)
LABEL_PX = 320.0  # a file has no tooltips: labels up to ~40 letters are drawn whole (the window elides at 150)
SIZE_STEP = 4  # pages are whole multiples of 4 px: whole points in PDF (4 px = 3 pt), no resampling seams
LINE_CLASS = "weight-line"  # SVG: the class of the groups holding the alignment's weight lines
FONT_FALLBACK = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif"  # SVG opened where DejaVu is missing


class ExportError(ValueError):
    """A figure that cannot be exported as asked; the message says why (one line, for the CLI and dialogs)."""


@dataclass(frozen=True)
class ExportOptions:
    """How to draw a figure to a file. The defaults make a light, opaque alignment at its natural size."""

    view: str = "lines"  # "lines", "heatmap" or "both" (side by side)
    theme: str | Theme = "light"  # "light", "dark", or a Theme (Copy Image uses the window's own)
    scale: float = 1.0  # PNG only: device pixels per logical pixel (2 = sharp on a high-DPI slide)
    transparent: bool = False  # leave the background unpainted (lines then carry real opacity)
    title: str | None = None  # None: the figure's own title; "" for none
    caption: str = ""  # a line or paragraph under the figure ("Figure 1: …")
    colorbar: bool = True  # the heatmap's labelled colour bar

    def validated(self) -> "ExportOptions":
        if self.view not in VIEWS:
            raise ExportError(f"unknown view {self.view!r}; use one of {', '.join(VIEWS)}")
        if not isinstance(self.theme, Theme) and self.theme not in ("light", "dark"):
            raise ExportError(f"unknown theme {self.theme!r}; use light or dark")
        scale = float(self.scale)
        if not (math.isfinite(scale) and MIN_SCALE <= scale <= MAX_SCALE):
            raise ExportError(f"scale must be between {MIN_SCALE:g} and {MAX_SCALE:g}, not {self.scale!r}")
        return replace(self, scale=scale)

    def resolved_theme(self) -> Theme:
        theme = self.theme if isinstance(self.theme, Theme) else getattr(Theme, self.theme)()
        return replace(theme, transparent=self.transparent)


# -- layout ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FigureLayout:
    """Where the parts of an exported page go, in logical pixels (origin top left)."""

    size: QSizeF
    title: QRectF  # empty: no title
    lines: QRectF | None  # the alignment panel, if shown
    heatmap: QRectF | None  # the heatmap panel, if shown
    caption: QRectF  # empty: no caption


def _round_up(x: float) -> int:
    return int(math.ceil(x / SIZE_STEP - 1e-9) * SIZE_STEP)


def _panel(fig: AlignmentFigure) -> AlignmentFigure:
    """The figure as a panel draws it: the page draws the title; labels may be longer than on screen."""
    return replace(fig, title="", max_label_px=max(fig.max_label_px, LABEL_PX))


def figure_layout(fig: AlignmentFigure, options: ExportOptions = ExportOptions()) -> FigureLayout:
    """The page of ``fig``: each panel at its natural size (every label whole), title above, caption below."""
    options, theme = options.validated(), options.resolved_theme()
    panel = _panel(fig)
    title = fig.title if options.title is None else options.title
    lines = alignment_size(panel, theme) if options.view in ("lines", "both") else (0, 0)
    heat = heatmap_figure_size(panel, theme, options.colorbar) if options.view in ("heatmap", "both") else (0, 0)
    gap = PANEL_GAP if options.view == "both" else 0.0
    # A title up to FIGURE_FLAT_WIDTH stays on one line: the lines (else the heatmap, centred) take the room.
    title_w = QFontMetricsF(title_font(theme)).horizontalAdvance(title) + 2 * MARGIN + 2 if title else 0.0
    extra = max(0.0, min(title_w, FIGURE_FLAT_WIDTH) - (lines[0] + gap + heat[0]))
    lines, heat = (lines[0] + extra, lines[1]) if lines[0] else lines, heat if lines[0] else (heat[0] + extra, heat[1])
    width = lines[0] + gap + heat[0]
    panels_h = max(lines[1], heat[1])
    lines_h = min(panels_h, LINES_STRETCH * lines[1])
    text_w = width - 2 * MARGIN
    title_h = title_height(title, text_w, theme)
    top = 1.5 * MARGIN + title_h if title_h else 0.0
    caption_h = caption_height(options.caption, text_w, theme)
    height = top + panels_h + (MARGIN / 2 + caption_h + MARGIN if caption_h else 0.0)
    return FigureLayout(
        size=QSizeF(_round_up(width), _round_up(height)),
        title=QRectF(MARGIN, MARGIN, text_w, title_h) if title_h else QRectF(),
        # Beside a taller heatmap the lines grow a little (their span, up to a limit) and are centred; the heatmap
        # keeps square cells and is centred too.
        lines=QRectF(0, top + (panels_h - lines_h) / 2, lines[0], lines_h) if lines[0] else None,
        heatmap=QRectF(lines[0] + gap, top + (panels_h - heat[1]) / 2, heat[0], heat[1]) if heat[0] else None,
        caption=QRectF(MARGIN, top + panels_h + MARGIN / 2, text_w, caption_h) if caption_h else QRectF(),
    )


def figure_size(fig: AlignmentFigure, options: ExportOptions = ExportOptions()) -> tuple[int, int]:
    """(width, height) of the exported page in logical pixels; a PNG is ``scale`` times as many pixels."""
    size = figure_layout(fig, options).size
    return int(size.width()), int(size.height())


@dataclass
class RenderedFigure:
    """What ``paint_figure`` drew where (for tests and hit-checks)."""

    layout: FigureLayout
    lines: AlignmentGeometry | None = None
    heatmap: HeatmapGeometry | None = None


def paint_figure(painter: QPainter, fig: AlignmentFigure, options: ExportOptions = ExportOptions(),
                 layout: FigureLayout | None = None) -> RenderedFigure:
    """Paint the whole page with ``painter`` in logical pixels: background, title, panel(s), caption."""
    options, theme = options.validated(), options.resolved_theme()
    layout = layout or figure_layout(fig, options)
    rendered = RenderedFigure(layout)
    panel = _panel(fig)
    if not options.transparent:
        painter.fillRect(QRectF(0, 0, layout.size.width(), layout.size.height()), theme.background)
    if not layout.title.isEmpty():
        paint_title(painter, layout.title, fig.title if options.title is None else options.title, theme)
    if layout.lines is not None:
        rendered.lines = paint_alignment(painter, layout.lines, panel, theme)
    if layout.heatmap is not None:
        rendered.heatmap = paint_heatmap(painter, layout.heatmap, panel, theme, colorbar=options.colorbar,
                                         cell_aspect=1.0)
    if not layout.caption.isEmpty():
        paint_caption(painter, layout.caption, options.caption, theme)
    return rendered


# -- exporters -------------------------------------------------------------------------------------------
class Exporter:
    """Draws one figure in one file format. Subclasses set ``suffix`` and implement ``render_bytes``."""

    suffix: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def __init__(self, figure: AlignmentFigure, options: ExportOptions = ExportOptions()) -> None:
        self.figure = figure
        self.options = options.validated()
        self.layout = figure_layout(figure, self.options)
        self.rendered: RenderedFigure | None = None  # set by the last render

    def export(self, path: str | os.PathLike[str] | None = None, to_bytes: bool = False) -> bytes | None:
        """Write the file at ``path`` (atomically: an old file stays whole if anything fails), or return the bytes.

        Raises ``ExportError`` if the figure cannot be drawn and ``fileio.SaveError`` if the file cannot be written.
        """
        if path is None and not to_bytes:
            raise ValueError("give a path, or to_bytes=True")
        data = self.render_bytes()
        if to_bytes:
            return data
        atomic_write_bytes(path, data)
        return None

    def render_bytes(self) -> bytes:
        raise NotImplementedError

    def _paint(self, painter: QPainter) -> None:
        self.rendered = paint_figure(painter, self.figure, self.options, self.layout)

    def _title(self) -> str:
        return (self.figure.title if self.options.title is None else self.options.title) or "Attention figure"


class PngExporter(Exporter):
    """A raster image, ``scale`` device pixels per logical pixel, tagged with the matching resolution."""

    suffix = ".png"
    description = "PNG image"

    def pixel_size(self) -> QSize:
        scale = self.options.scale
        return QSize(math.ceil(self.layout.size.width() * scale - 1e-6),
                     math.ceil(self.layout.size.height() * scale - 1e-6))

    def to_image(self) -> QImage:
        """The figure as a ``QImage`` (for the clipboard), its device pixel ratio set to ``scale``."""
        size = self.pixel_size()
        if size.width() * size.height() > MAX_PNG_PIXELS:
            raise ExportError(f"a PNG of {size.width()} × {size.height()} pixels is too large; "
                              "lower the scale, or export SVG or PDF")
        # Opaque figures need no alpha channel: a quarter less to fill and to compress.
        image = QImage(size, QImage.Format.Format_ARGB32_Premultiplied if self.options.transparent
                       else QImage.Format.Format_RGB32)
        if image.isNull():
            raise ExportError(f"not enough memory for a {size.width()} × {size.height()} image; lower the scale")
        image.fill(0)
        image.setDevicePixelRatio(self.options.scale)
        dots_per_metre = round(DPI * self.options.scale / 0.0254)  # a 2× image is placed at the 1× size
        image.setDotsPerMeterX(dots_per_metre)
        image.setDotsPerMeterY(dots_per_metre)
        image.setText("Title", self._title())
        image.setText("Software", f"AttnStudio {__version__}")
        painter = QPainter(image)
        try:
            self._paint(painter)
        finally:
            painter.end()
        return image

    def render_bytes(self) -> bytes:
        return _image_bytes(self.to_image(), "PNG", PNG_QUALITY)


def _image_bytes(image: QImage, fmt: str, quality: int = -1) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, fmt, quality):
        raise ExportError(f"Qt could not encode the image as {fmt}")
    buffer.close()
    return bytes(data)


class SvgExporter(Exporter):
    """Vectors and real ``<text>``: every word stays editable in a vector editor."""

    suffix = ".svg"
    description = "SVG vector image"

    def render_bytes(self) -> bytes:
        from PySide6.QtSvg import QSvgGenerator  # QtSvg only when asked for SVG

        size = self.layout.size
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setResolution(DPI)  # user units = logical pixels; any other value rescales the fonts
        generator.setSize(size.toSize())
        generator.setViewBox(QRectF(0, 0, size.width(), size.height()))
        generator.setTitle(self._title())
        generator.setDescription(f"Attention weights drawn by AttnStudio {__version__}")
        painter = QPainter(generator)
        try:
            self._paint(painter)
        finally:
            painter.end()
        buffer.close()
        return _tidy_svg(bytes(data).decode("utf-8")).encode("utf-8")


def _tidy_svg(svg: str) -> str:
    """Name the weight lines' groups and give the font fallbacks; the drawing itself is left as Qt wrote it.

    The painter draws weight lines, and only them, with round joins (invisible on a two-point line), so the
    groups Qt opens for their pens are the ones with ``stroke-linejoin="round"``.
    """
    svg = re.sub(r'<g (?=[^>]*stroke-linejoin="round")', f'<g class="{LINE_CLASS}" ', svg)
    return svg.replace('font-family="DejaVu Sans"', f'font-family="{FONT_FALLBACK}"')


class PdfExporter(Exporter):
    """One page the size of the figure, vector, its fonts embedded (subsets), text selectable."""

    suffix = ".pdf"
    description = "PDF document"

    def render_bytes(self) -> bytes:
        size = self.layout.size
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        writer = QPdfWriter(buffer)
        writer.setResolution(DPI)  # device units = logical pixels (QPdfWriter defaults to 1200 DPI)
        points = QSizeF(size.width() * 72 / DPI, size.height() * 72 / DPI)  # whole points: sizes are 4 px steps
        page = QPageSize(points, QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.ExactMatch)
        writer.setPageLayout(QPageLayout(page, QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0),
                                         QPageLayout.Unit.Point))
        writer.setTitle(self._title())
        writer.setCreator(f"AttnStudio {__version__}")
        painter = QPainter(writer)
        if not painter.isActive():
            raise ExportError("Qt could not start a PDF page")
        try:
            device = QSizeF(writer.width(), writer.height())  # QPageSize rounds to whole points: absorb any rest
            painter.scale(device.width() / size.width(), device.height() / size.height())
            self._paint(painter)
        finally:
            painter.end()
        buffer.close()
        return bytes(data)


EXPORTERS: dict[str, type[Exporter]] = {cls.suffix: cls for cls in (PngExporter, SvgExporter, PdfExporter)}
assert tuple(EXPORTERS) == IMAGE_FORMATS, "attnstudio.export.IMAGE_FORMATS lists the exporters here"


def exporter_for(path: str | os.PathLike[str]) -> type[Exporter]:
    """The exporter class for a file name's extension (case-insensitive)."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXPORTERS:
        raise ExportError(f"cannot draw {Path(path).name!r}: unknown extension {Path(path).suffix or '(none)'!r}; "
                          f"use one of {', '.join(EXPORTERS)}")
    return EXPORTERS[suffix]


def export_figure(fig: AlignmentFigure, path: str | os.PathLike[str], options: ExportOptions = ExportOptions()) -> None:
    """Draw ``fig`` to ``path`` in the format its extension names, replacing any old file atomically."""
    exporter_for(path)(fig, options).export(path)


def ensure_gui_application() -> QGuiApplication:
    """The running ``QGuiApplication``, or a new one for drawing without a window (the CLI).

    Fonts need a ``QGuiApplication``; widgets do not come into it. When we create it and nobody chose a Qt
    platform, we choose "offscreen": the files come out the same, and no display (or a dead ``DISPLAY`` over
    ssh) can stop a batch job.
    """
    app = QGuiApplication.instance()
    if app is not None:
        return app  # type: ignore[return-value]
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    return QGuiApplication([sys.argv[0] if sys.argv and sys.argv[0] else "attnstudio"])

