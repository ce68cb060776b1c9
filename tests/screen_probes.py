"""Test helpers that look at what a window really shows, as opposed to ``grab()``, which paints afresh."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint
from PySide6.QtGui import QImage


class PaintRecorder(QObject):
    """Records the rectangle of each Paint event a widget gets (``len(rects)``: how many paints)."""

    def __init__(self, widget) -> None:
        super().__init__()
        self.rects: list = []
        widget.installEventFilter(self)

    @property
    def count(self) -> int:
        return len(self.rects)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Paint:
            self.rects.append(event.rect())
        return False


def on_screen(widget) -> QImage:
    """The widget's pixels as its window shows them now (the backing store: what earlier paints left there),
    unlike ``grab()``, which paints the whole widget afresh."""
    window = widget.window()
    corner = widget.mapTo(window, QPoint(0, 0))
    return window.screen().grabWindow(window.winId(), corner.x(), corner.y(), widget.width(),
                                      widget.height()).toImage()
