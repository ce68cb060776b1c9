"""Regenerate the window screenshots in docs/images (offscreen: no display needed).

    python docs/make_screenshots.py

Builds the real main window with the seed example at 1280×800, in the light and the dark theme, lets it
lay out, and saves what it paints. Settings go to a temporary folder, so your own layout is not used.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

IMAGES = Path(__file__).resolve().parent / "images"


def main() -> int:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from attnstudio.gui.app import dark_palette, light_palette, make_application
    from attnstudio.gui.main_window import MainWindow

    app = make_application()
    IMAGES.mkdir(exist_ok=True)
    for theme, palette in (("light", light_palette()), ("dark", dark_palette())):
        app.setPalette(palette)
        folder = tempfile.mkdtemp(prefix="attnstudio-shot-")
        window = MainWindow(settings=QSettings(os.path.join(folder, "s.ini"), QSettings.Format.IniFormat))
        window.resize(1280, 800)
        window.show()
        for _ in range(20):
            QApplication.processEvents()
        window._size_docks()
        for _ in range(20):
            QApplication.processEvents()
        path = IMAGES / f"window-{theme}.png"
        window.grab().save(str(path))
        print(f"wrote {path}")
        window.controller.undo_stack.setClean()
        window.autosaver.discard()
        window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
