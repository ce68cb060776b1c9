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

# Every name the single module `painting.py` had, private helpers included, so imports written against it keep
# working. Rebinding a name here (monkeypatching) does not reach the module that uses it: patch that module.

from attnstudio.gui.painting.theme import (
    BASE_FONT_PX,
    EMPTY_MESSAGE,
    FONT_FAMILY,
    LABEL_GAP,
    MARGIN,
    MAX_LABEL_PX,
    MIN_FONT_PX,
    Theme,
    contrast_text,
    line_opacity,
    line_width,
    text_widths,
    viridis,
    _VIRIDIS_STOPS,
    _WIDTHS,
    _WIDTHS_MAX,
    _alpha,
    _begin,
    _bold,
    _is_vector,
    _luminance,
    _mix,
    _viridis_table,
)
from attnstudio.gui.painting.figure import (
    AlignmentFigure,
    caption_height,
    paint_caption,
    paint_message,
    paint_title,
    title_font,
    title_height,
    _block_height,
    _paint_block,
    _text_block,
)
from attnstudio.gui.painting.labels import (
    _Row,
    _draw_label,
    _fit_row,
    _flat_slot,
    _padded,
    _row_indices,
)
from attnstudio.gui.painting.alignment import (
    CROWDED_LINES,
    FIGURE_FLAT_WIDTH,
    FIGURE_MIN_WIDTH,
    MAX_LINE_SPAN,
    MAX_LINES,
    SCREEN_CROWDED_LINES,
    SKIP_FROM_PAIRS,
    SKIP_WEIGHT,
    AlignmentGeometry,
    AlignmentLayout,
    alignment_layout,
    alignment_min_width,
    alignment_size,
    alignment_static_matches,
    blank_alignment_geometry,
    paint_alignment,
    paint_alignment_base,
    paint_alignment_focus,
    paint_alignment_hover,
    paint_alignment_static,
    _ANCHOR_GAP,
    _LEVEL_OPACITIES,
    _LEVEL_WIDTHS,
    _LEVELS,
    _batched_lines,
    _draw_dots,
    _draw_percentages,
    _drawn_pairs,
    _label_budget,
    _percent_fits,
)
from attnstudio.gui.painting.heatmap import (
    CELL_ASPECT,
    FIGURE_GRID,
    FIGURE_MAX_CELL,
    MIN_CELL,
    HeatmapGeometry,
    blank_heatmap_geometry,
    heatmap_figure_size,
    heatmap_fit_cell,
    heatmap_image,
    heatmap_label_cell,
    heatmap_layout,
    heatmap_rows_rect,
    heatmap_rows_repaintable,
    heatmap_size,
    paint_heatmap,
    paint_heatmap_cells,
    paint_heatmap_frame,
    paint_heatmap_marks,
    _COLORBAR_MIN,
    _COLORBAR_WIDTH,
    _HeatBands,
    _draw_cells,
    _draw_colorbar,
    _draw_heat_labels,
    _heat_bands,
    _heat_cells,
    _heat_fit,
    _heat_label_px,
    _hovered,
    _longest_labels,
)
from attnstudio.gui.painting.spotlight import (
    paint_spotlight,
    spotlight_height,
    spotlight_looks,
    _SPOT_BOXES,
    _SPOT_GAP,
    _SPOT_LAYOUTS,
    _SPOT_PAD,
    _draw_spot_box,
    _flow_spot_words,
    _spot_layout,
    _spot_visible,
)

__all__ = [
    "EMPTY_MESSAGE", "AlignmentFigure", "AlignmentGeometry", "HeatmapGeometry", "Theme", "alignment_min_width",
    "contrast_text", "heatmap_fit_cell", "heatmap_image", "heatmap_size", "line_opacity", "line_width",
    "paint_alignment", "paint_alignment_base", "paint_alignment_hover", "paint_heatmap", "paint_message",
    "paint_spotlight", "spotlight_height", "spotlight_looks", "viridis",
    # standalone figures (exports)
    "alignment_size", "caption_height", "heatmap_figure_size", "heatmap_label_cell", "paint_caption", "paint_title",
    "title_font", "title_height",
]
