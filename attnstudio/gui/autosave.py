"""Autosave and crash recovery: a few seconds after the last edit the scene is written aside.

Each running window writes ``autosave-<pid>.attn.json`` (atomically) in the application data folder and
removes it when it closes normally. A file whose process is no longer alive is therefore the work of a
session that crashed or was killed: the next start offers to restore it.
"""

from __future__ import annotations

import glob
import json
import os
from typing import Callable

from PySide6.QtCore import QObject, QStandardPaths, QTimer

from attnstudio.fileio import SaveError, atomic_write_text
from attnstudio.gui.controller import Controller

__all__ = ["Autosaver", "autosave_dir", "find_orphans"]

IDLE_MS = 3000  # write this long after the last change, so a drag is saved once, at its end


def autosave_dir() -> str:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return os.path.join(base, "autosave")


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def find_orphans(folder: str | None = None) -> list[str]:
    """Autosave files left by sessions that did not close normally, newest first."""
    folder = folder or autosave_dir()
    orphans = []
    for path in glob.glob(os.path.join(glob.escape(folder), "autosave-*.attn.json")):
        try:
            pid = int(os.path.basename(path)[len("autosave-"):-len(".attn.json")])
        except ValueError:
            continue
        if pid != os.getpid() and not _pid_alive(pid):
            orphans.append(path)
    return sorted(orphans, key=os.path.getmtime, reverse=True)


class Autosaver(QObject):
    """Writes the scene (and extra state such as the lesson position) aside after each quiet spell."""

    def __init__(self, controller: Controller, folder: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.folder = folder or autosave_dir()
        self.path = os.path.join(self.folder, f"autosave-{os.getpid()}.attn.json")
        self.extra: dict = {}  # e.g. {"lesson": id, "step": n}; saved beside the scene
        # While a lesson runs, the scene on screen is the lesson's; the learner's own work is kept aside and
        # this returns it, so a crash mid-lesson gives back their work, not the lesson's set-up.
        self.document_source: Callable[[], dict | None] | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(IDLE_MS)
        self.timer.timeout.connect(self.save_now)
        controller.undo_stack.indexChanged.connect(self._on_change)
        controller.history_changed.connect(self._on_history_changed)
        self.last_error: str | None = None

    def _on_history_changed(self, old, new) -> None:
        old.indexChanged.disconnect(self._on_change)
        new.indexChanged.connect(self._on_change)
        self.timer.start()

    def _on_change(self, _index: int) -> None:
        self.timer.start()  # restart: save only once the learner pauses

    def set_extra(self, **extra) -> None:
        self.extra.update(extra)
        self.timer.start()

    def save_now(self) -> bool:
        document = self.document_source() if self.document_source is not None else None
        if document is None:
            document = self.controller.scene.to_dict()
        document["autosave"] = {"path": self.controller.path, "extra": self.extra}
        try:
            os.makedirs(self.folder, exist_ok=True)
            atomic_write_text(self.path, json.dumps(document, ensure_ascii=False, indent=1))
        except (OSError, SaveError) as exc:
            self.last_error = str(exc)
            self.controller.message.emit(f"Autosave failed: {exc}")
            return False
        self.last_error = None
        return True

    def discard(self) -> None:
        """The session ends normally: nothing to recover."""
        self.timer.stop()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def read_orphan(path: str) -> tuple[dict, dict]:
    """The scene document and the extra state of an autosave file (raises ValueError/OSError)."""
    with open(path, encoding="utf-8") as fh:
        try:
            document = json.load(fh)
        except RecursionError:  # arrays nested thousands deep: as broken as any other bad JSON
            raise ValueError("the autosave nests lists too deeply") from None
    if not isinstance(document, dict):
        raise ValueError("not an autosave file")
    meta = document.pop("autosave", {}) or {}
    return document, meta if isinstance(meta, dict) else {}
