"""Qt's virtual methods overridden in Python never let an exception into PySide (6.11 segfaults on NumPy's)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
import textwrap

import numpy as np
from PySide6.QtCore import QObject

import attnstudio.gui
from attnstudio.gui.errors import is_guarded_name


def _gui_classes():
    for info in pkgutil.walk_packages(attnstudio.gui.__path__, "attnstudio.gui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def test_every_overridden_qt_virtual_method_is_guarded():
    unguarded = []
    for cls in _gui_classes():
        if not issubclass(cls, QObject) and not any(base.__module__.startswith("PySide6") for base in cls.__mro__[1:]):
            continue
        for name, method in vars(cls).items():
            if callable(method) and is_guarded_name(name) and not getattr(method, "__guarded__", False):
                unguarded.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    assert unguarded == []


def test_a_numpy_error_in_a_paint_is_reported_and_the_app_carries_on(qtbot, window, monkeypatch):
    import attnstudio.gui.alignment as alignment_module

    def broken(*_args, **_kwargs):
        return np.ones((1, 16)) @ np.ones((4, 2))  # the ValueError that crashed PySide6 6.11 from inside Qt

    side = window.controller.scene.query_side()
    with qtbot.capture_exceptions() as exceptions:
        monkeypatch.setattr(alignment_module, "paint_alignment_focus", broken)
        window.controller.set_component(side, 1, "q", 0, 3.0)
        window.canvas.grab()  # the paint fails: handed to the hook, the app goes on
        monkeypatch.undo()
        window.controller.set_component(side, 1, "q", 0, 4.0)
        image = window.canvas.grab().toImage()  # painted again, normally
    assert exceptions and all(kind is ValueError for kind, _, _ in exceptions)
    assert window.canvas.geometry_of_figure() is not None and not image.isNull()
    exceptions.clear()  # the tracebacks (their frames already cleared by the guard) go with this test


def test_without_the_guard_pyside_would_crash(tmp_path):
    """The reason for the guard, kept as a check: if a PySide6 release fixes it, this test says so."""
    probe = textwrap.dedent("""
        import numpy as np
        from PySide6.QtWidgets import QApplication, QWidget
        app = QApplication([])
        class W(QWidget):
            def paintEvent(self, event):
                np.ones((1, 16)) @ np.ones((4, 2))
        w = W(); w.resize(50, 50); w.grab()
        print("survived")
    """)
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                         env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    crashed = out.returncode < 0 or "survived" not in out.stdout
    import PySide6

    if not crashed:
        print(f"PySide6 {PySide6.__version__} no longer crashes here; the guard is now only a safety net")
    assert crashed or PySide6.__version__ != "6.11.3"


def test_our_hook_logs_a_paint_that_keeps_failing_once(qtbot, window, monkeypatch):
    import os

    import attnstudio.gui.alignment as alignment_module
    from attnstudio.gui import errors

    monkeypatch.setenv("ATTNSTUDIO_NO_ERROR_DIALOG", "1")
    monkeypatch.setattr(sys, "excepthook", errors._hook)  # the app's hook, as run_app installs it
    monkeypatch.setattr(errors, "_reported", set())
    monkeypatch.setattr(alignment_module, "paint_alignment_focus",
                        lambda *args, **kwargs: np.ones((1, 16)) @ np.ones((4, 2)))
    window.controller.set_component(window.controller.scene.query_side(), 1, "q", 0, 3.0)
    for _ in range(3):  # a broken paint fails again at every frame …
        window.canvas.grab()
    qtbot.wait(50)  # … and is handed to the hook on the next turn, not inside the paint
    with open(os.path.join(errors.log_dir(), "attnstudio.log"), encoding="utf-8") as fh:
        log = fh.read()
    assert log.count("ValueError: matmul") == 1  # logged once, not once per frame


def test_a_numpy_error_inside_an_undo_commands_redo_is_reported_not_fatal(qtbot, window, monkeypatch):
    """QUndoStack.push calls the command's redo from C++: the same crash, on every edit's path."""
    from attnstudio.scene import Scene

    def broken(*_args, **_kwargs):
        return np.ones((1, 16)) @ np.ones((4, 2))

    with qtbot.capture_exceptions() as exceptions:
        monkeypatch.setattr(Scene, "set_override", broken)
        window.controller.set_component(window.controller.scene.query_side(), 1, "q", 0, 3.0)
        monkeypatch.undo()
    assert [kind for kind, _, _ in exceptions] == [ValueError]
    assert window.controller.set_component(window.controller.scene.query_side(), 1, "q", 0, 3.5)  # goes on
    exceptions.clear()
