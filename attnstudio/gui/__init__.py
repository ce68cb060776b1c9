"""The Qt user interface. ``attnstudio.gui.MainWindow()`` builds the complete window."""

from __future__ import annotations

from typing import Any

__all__ = ["Controller", "MainWindow"]


def __getattr__(name: str) -> Any:  # lazy: importing the package does not build every panel module
    if name == "MainWindow":
        from attnstudio.gui.main_window import MainWindow

        return MainWindow
    if name == "Controller":
        from attnstudio.gui.controller import Controller

        return Controller
    raise AttributeError(name)
