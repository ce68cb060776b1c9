"""Drawing to files with the painters the screen uses, and writing the weights as data.

This package import stays Qt-free (the data formats need no Qt): ``attnstudio.export.data`` writes JSON and
CSV; ``attnstudio.export.render`` (Qt) draws PNG, SVG and PDF; ``attnstudio.export.figures`` (Qt) builds the
figure of a scene without any widget.
"""

from __future__ import annotations

from attnstudio.export.data import DATA_FORMATS, weights_bytes, weights_csv, weights_document

__all__ = ["DATA_FORMATS", "IMAGE_FORMATS", "VIEWS", "weights_bytes", "weights_csv", "weights_document"]

IMAGE_FORMATS = (".png", ".svg", ".pdf")
VIEWS = ("lines", "heatmap", "both")  # the alignment lines, the heatmap, or both side by side
