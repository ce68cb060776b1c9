"""Guards against known defects of the Qt binding that would crash the app far from their cause."""

from __future__ import annotations

import sys

from PySide6.QtGui import QColor, QPen


def test_void_methods_do_not_leak_a_reference_to_none():
    # PySide6 6.12.0 decremented None's reference count on every call of a method returning void.
    # On Python 3.11 that eventually frees None and aborts the interpreter mid-paint.
    colour, pen = QColor(10, 20, 30), QPen()
    before = sys.getrefcount(None)
    for _ in range(200):
        colour.setAlphaF(0.5)
        pen.setWidthF(2.0)
    after = sys.getrefcount(None)
    assert after >= before - 10, f"None lost {before - after} references: a broken PySide6 build"
