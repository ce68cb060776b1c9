"""The last line of defence: an unexpected error in a slot is logged, shown, and the app keeps running.

Slots reach ``sys.excepthook`` by themselves. Qt's virtual methods overridden in Python (``paintEvent``, a
model's ``data`` …) must not let an exception out at all: PySide6 6.11 segfaults storing one raised inside
NumPy (``PepException_GetArgs``), so every such override is wrapped by :func:`guard_overrides`, which hands
the error to the hook on the next event-loop turn — not in the middle of a paint — and carries on.
"""

from __future__ import annotations

import datetime
import functools
import os
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, TypeVar

from PySide6.QtCore import QStandardPaths, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

__all__ = ["guard_overrides", "install_exception_hook", "log_dir", "log_exception"]

_showing = False  # one dialog at a time: an error inside the dialog must not stack a hundred more


def log_dir() -> str:
    """Where tracebacks go: the platform's state/log location for AttnStudio."""
    location = getattr(QStandardPaths.StandardLocation, "StateLocation", None)
    base = QStandardPaths.writableLocation(location) if location is not None else ""
    if not base:
        base = os.path.join(QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppLocalDataLocation))
    return os.path.join(base, "logs")


def log_exception(details: str) -> str | None:
    """Append a traceback to ``attnstudio.log``; return the log path (None if even that failed)."""
    folder = log_dir()
    path = os.path.join(folder, "attnstudio.log")
    try:
        os.makedirs(folder, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(f"--- {datetime.datetime.now().isoformat(timespec='seconds')}\n{details}\n")
        return path
    except OSError:
        return None


def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    global _showing
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    details = "".join(traceback.format_exception(exc_type, exc, tb))
    path = log_exception(details)
    sys.stderr.write(details)
    app = QApplication.instance()
    if app is None or _showing or os.environ.get("ATTNSTUDIO_NO_ERROR_DIALOG"):
        return
    _showing = True
    try:
        box = QMessageBox(QMessageBox.Icon.Warning, "Something went wrong",
                          f"AttnStudio hit an unexpected error and carried on:\n\n{exc_type.__name__}: {exc}\n\n"
                          + (f"The details were written to {path}." if path else "The details could not be written."),
                          QMessageBox.StandardButton.Ok, app.activeWindow())
        box.setObjectName("errorDialog")
        box.setDetailedText(details)
        copy = QPushButton("Copy details")
        copy.setObjectName("copyErrorDetails")
        box.addButton(copy, QMessageBox.ButtonRole.ActionRole)
        copy.clicked.disconnect()  # keep the dialog open after copying
        copy.clicked.connect(lambda: QApplication.clipboard().setText(details))
        box.exec()
    finally:
        _showing = False


def install_exception_hook() -> None:
    sys.excepthook = _hook


# What a guarded override returns after an error: "not handled", nothing, no height preference.
_FALLBACK: dict[str, Callable[[], Any]] = {
    "event": lambda: False, "eventFilter": lambda: False, "setData": lambda: False, "mergeWith": lambda: False,
    "heightForWidth": lambda: -1, "id": lambda: -1,
}
# Qt calls these from C++ and they run our NumPy-backed code. Left out on purpose: counts, flags, size hints and
# layout bookkeeping — a line of plain Python each, called hundreds of times per paint (wrapped, an edit was
# measurably slower); QThread.run, which handles its own errors.
_GUARDED = frozenset(_FALLBACK) | {
    "paint", "data", "headerData", "redo", "undo", "createEditor", "setEditorData", "setModelData",
}
_reported: set[str] = set()  # errors already shown: a broken paintEvent fails again at every frame

ClassT = TypeVar("ClassT", bound=type)


def is_guarded_name(name: str) -> bool:
    """Whether ``name`` is a Qt virtual method :func:`guard_overrides` wraps (``…Event``, ``paint``, ``data``,
    an undo command's ``redo`` …)."""
    return name in _GUARDED or (name.endswith("Event") and name[:1].islower())


def guard_overrides(cls: ClassT) -> ClassT:
    """Class decorator: the Qt virtual methods ``cls`` itself overrides never let an exception reach PySide."""
    for name, method in list(vars(cls).items()):
        if callable(method) and is_guarded_name(name) and not getattr(method, "__guarded__", False):
            setattr(cls, name, _guarded(method, _FALLBACK.get(name)))
    return cls


def _guarded(method: Callable[..., Any], fallback: Callable[[], Any] | None) -> Callable[..., Any]:
    @functools.wraps(method)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Exception:  # noqa: BLE001 — handed on below, never swallowed
            exc_type, exc, tb = sys.exc_info()
            # Drop the failed call's local variables now: a QPainter it left open must end inside its own
            # paint event, not later when the traceback is let go (that crashed). The text of the traceback stays.
            traceback.clear_frames(tb)
            _hand_on(exc_type, exc, tb)
            return None if fallback is None else fallback()

    guarded.__guarded__ = True  # type: ignore[attr-defined]
    return guarded


def _hand_on(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Give the error to ``sys.excepthook``; ours (a dialog) once per error and outside the paint it came from."""
    if sys.excepthook is not _hook or QApplication.instance() is None:
        sys.excepthook(exc_type, exc, tb)  # a test runner's hook, or Python's: at once, every time
        return
    key = "".join(traceback.format_exception(exc_type, exc, tb))
    if key not in _reported:
        _reported.add(key)
        QTimer.singleShot(0, functools.partial(_hook, exc_type, exc, tb))
