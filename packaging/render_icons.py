"""Render the application icon's PNGs from its SVG with Qt's own SVG renderer.

Run from the repository root after editing ``attnstudio/data/icons/attnstudio.svg``::

    .venv/bin/python packaging/render_icons.py          # rewrite the PNGs
    .venv/bin/python packaging/render_icons.py --check  # exit 1 if a committed PNG is stale

QSvgRenderer (not Inkscape or rsvg) keeps the renders reproducible from the project's own dependencies.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no display needed

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ICON_DIR = ROOT / "attnstudio" / "data" / "icons"
SVG = ICON_DIR / "attnstudio.svg"
# The hicolor theme's usual sizes; 16 and 24 are what menus and title bars draw.
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
# Another Qt release may antialias an edge a few levels differently; a changed drawing moves far more.
TOLERANCE = 12


def png_path(size: int) -> Path:
    return ICON_DIR / f"attnstudio-{size}.png"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """The icon as a premultiplied-ARGB image of ``size`` × ``size`` pixels on a transparent ground."""
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    # Straight (non-premultiplied) ARGB is what PNG stores; converting first keeps the bytes stable.
    return image.convertToFormat(QImage.Format.Format_ARGB32)


def max_difference(a: QImage, b: QImage) -> int:
    """The largest per-channel difference (0-255) between two images of one size; 255 if the sizes differ."""
    import numpy as np

    if a.size() != b.size():
        return 255
    channels = []
    for image in (a, b):
        image = image.convertToFormat(QImage.Format.Format_ARGB32)
        rows = np.frombuffer(image.constBits(), dtype=np.uint8).reshape(image.height(), image.bytesPerLine())
        channels.append(rows[:, : image.width() * 4].astype(np.int16))  # (height, width * 4)
    return int(np.abs(channels[0] - channels[1]).max())


def png_bytes(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("Qt could not encode a PNG (is the imageformats plugin missing?)")
    buffer.close()
    return bytes(data.data())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed PNGs instead of writing")
    args = parser.parse_args(argv)

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (Qt wants one for painting)
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        print(f"render_icons: Qt cannot read {SVG}", file=sys.stderr)
        return 1
    stale = []
    for size in SIZES:
        image = render(renderer, size)
        out = png_path(size)
        if args.check:
            # Compare pixels, not bytes: another zlib may compress the same image differently.
            committed = QImage(str(out))
            if committed.isNull() or max_difference(committed, image) > TOLERANCE:
                stale.append(out.name)
        else:
            out.write_bytes(png_bytes(image))
            print(f"wrote {out.relative_to(ROOT)} ({size}x{size})")
    if stale:
        print("render_icons: out of date with the SVG: " + ", ".join(stale) + " (run packaging/render_icons.py)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
