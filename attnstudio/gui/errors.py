"""The last line of defence: an unexpected error in a slot is logged, shown, and the app keeps running."""

from __future__ import annotations

import datetime
import os
import sys
import traceback
from types import TracebackType

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

__all__ = ["install_exception_hook", "log_dir", "log_exception"]

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
