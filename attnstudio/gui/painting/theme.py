"""The look every figure shares: theme colours and fonts, the weight-to-ink mapping, text widths, viridis."""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPaintEngine, QPalette


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
        return _make_font(self.font_family, max(1, round(px)), bool(bold))

    def font_height(self, px: float, bold: bool = False) -> float:
        """``QFontMetricsF(self.font(px, bold)).height()``, remembered (asked at every edit)."""
        return _font_height(self.font_family, max(1, round(px)), bool(bold))


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


def _make_font(family: str, px: int, bold: bool) -> QFont:
    font = QFont(family)
    font.setPixelSize(px)
    font.setBold(bold)
    font.setStyleStrategy(QFont.StyleStrategy.PreferAntialias)
    return font


@functools.lru_cache(maxsize=256)
def _font_height(family: str, px: int, bold: bool) -> float:
    return QFontMetricsF(_make_font(family, px, bold)).height()


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


_INKS: dict[int, bool] = {}  # rgb → whether black reads better: the spotlight asks for every word at every edit


def contrast_text(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background``."""
    rgb = background.rgb()
    dark = _INKS.get(rgb)
    if dark is None:
        if len(_INKS) >= 4096:
            _INKS.clear()
        lum = float(_luminance([background.red(), background.green(), background.blue()]))
        dark = _INKS[rgb] = lum > 0.18  # 0.18: equal contrast against both
    return QColor(0, 0, 0) if dark else QColor(255, 255, 255)


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
    # fmax/fmin pass the number over a NaN: NaN and −inf go to 0, +inf to 1, in two passes (nan_to_num and
    # clip took ~8 µs each time a row of the heatmap was coloured again)
    t = np.fmin(np.fmax(np.asarray(t, dtype=np.float64), 0.0), 1.0)
    return _viridis_table()[np.rint(t * 255.0).astype(np.intp)]


def _begin(painter: QPainter) -> None:
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold


def _is_vector(painter: QPainter) -> bool:
    """True when painting into SVG, PDF or a picture, where a scaled-up image would be blurred by viewers."""
    engine = painter.paintEngine()
    return engine is not None and engine.type() in (QPaintEngine.Type.SVG, QPaintEngine.Type.Pdf,
                                                     QPaintEngine.Type.Picture)
