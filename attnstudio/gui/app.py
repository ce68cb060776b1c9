"""Start the application: QApplication, palette, the main window, and the event loop."""

from __future__ import annotations

import sys
from importlib.resources import files
from pathlib import Path

# The window's Qt-free half is imported before PySide6 on purpose. Once PySide6 is loaded, it reads back the source
# of every module imported after it (shibokensupport looks for ``from __feature__ import …``), ~0.15 ms a module:
# NumPy, the engine and the scene are ~90 modules that need no such look. (The lessons are imported when their
# panel is first shown.)
import attnstudio.scene  # noqa: F401  (before PySide6, see above)
from PySide6.QtCore import QCoreApplication, QSize, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette, QPixmap
from PySide6.QtWidgets import QApplication, QStyleFactory

from attnstudio._version import __version__

__all__ = ["application_icon", "dark_palette", "make_application", "run_app"]


def dark_palette() -> QPalette:
    """A readable dark palette for the Fusion style (used with ``--theme dark``)."""
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#202124", QPalette.ColorRole.WindowText: "#e8eaed",
        QPalette.ColorRole.Base: "#17181a", QPalette.ColorRole.AlternateBase: "#26282b",
        QPalette.ColorRole.ToolTipBase: "#303134", QPalette.ColorRole.ToolTipText: "#e8eaed",
        QPalette.ColorRole.Text: "#e8eaed", QPalette.ColorRole.Button: "#2d2f31",
        QPalette.ColorRole.ButtonText: "#e8eaed", QPalette.ColorRole.BrightText: "#ff8a80",
        QPalette.ColorRole.Highlight: "#f4a259", QPalette.ColorRole.HighlightedText: "#17181a",
        QPalette.ColorRole.Link: "#8ab4f8", QPalette.ColorRole.PlaceholderText: "#9aa0a6",
        QPalette.ColorRole.Mid: "#5f6368", QPalette.ColorRole.Dark: "#111214", QPalette.ColorRole.Light: "#3c4043",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#80868b"))
    return p


def light_palette() -> QPalette:
    p = QStyleFactory.create("Fusion").standardPalette()
    p.setColor(QPalette.ColorRole.Highlight, QColor("#c8553d"))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    return p


ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)  # the PNGs packaging/render_icons.py makes from the SVG


def application_icon() -> QIcon:
    """The AttnStudio icon from the package data: the PNG renders of the SVG, one per size in ``ICON_SIZES``.

    Installed as files, each PNG is only named with its size here and decoded when a pixmap of that size is asked
    for (offscreen, never; on X11, once, as the window is shown). Decoding all eight and parsing the SVG up front
    cost ~10 ms of every start; the SVG added nothing at these sizes (they are its renders). From a zip or a
    bundle without file paths the PNGs are read as bytes.
    """
    icons = files("attnstudio") / "data" / "icons"
    icon = QIcon()
    for size in ICON_SIZES:
        png = icons / f"attnstudio-{size}.png"
        if isinstance(png, Path) and png.is_file():
            icon.addFile(str(png), QSize(size, size))
            continue
        pixmap = QPixmap()
        # Bytes, not paths: works from a wheel, a zip or a PyInstaller bundle alike.
        if pixmap.loadFromData(png.read_bytes(), "PNG"):
            icon.addPixmap(pixmap)
    return icon


def make_application(argv: list[str] | None = None, theme: str = "system") -> QApplication:
    """The QApplication with our names (for QSettings/QStandardPaths), style and palette."""
    QCoreApplication.setOrganizationName("AttnStudio")
    QCoreApplication.setApplicationName("AttnStudio")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    QGuiApplication.setDesktopFileName("io.github.attnstudio.AttnStudio")  # matches the .desktop entry (Wayland icon)
    app.setWindowIcon(application_icon())
    app.setStyle("Fusion")
    if theme == "dark":
        app.setPalette(dark_palette())
    elif theme == "light":
        app.setPalette(light_palette())
    return app


def run_app(scene_path: str | None = None, smoke: bool = False, theme: str = "system") -> int:
    app = make_application(theme=theme)
    from attnstudio.gui.errors import install_exception_hook
    from attnstudio.gui.main_window import MainWindow

    install_exception_hook()
    window = MainWindow()
    if scene_path:
        window.open_scene(scene_path)
    window.show()
    if not smoke:
        QTimer.singleShot(0, window.offer_recovery)
    if smoke:
        # Paint once for real, then quit: proves the installed app starts and draws.
        def finish() -> None:
            image = window.grab()
            ok = not image.isNull() and image.width() > 0
            print(f"smoke: window painted {image.width()}x{image.height()}" if ok else "smoke: window did not paint")
            window.controller.undo_stack.setClean()
            window.close()
            app.exit(0 if ok else 1)

        QTimer.singleShot(200, finish)
    return app.exec()
