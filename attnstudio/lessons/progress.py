"""What a learner has done in each lesson, kept in a small JSON file so the next start resumes there.

``progress.json`` in the data folder given::

    {"format": "attnstudio-progress", "version": 1,
     "lessons": {"spotlight": {"current": "predict-black", "done": ["intro"], "passed": [], "shown": []}}}

Steps are named by their id, not their number, so a teacher who inserts a step does not scramble anyone's
record; ids that no longer exist are simply ignored. A broken file never stops the app: it is set aside as
``progress.json.broken`` and the learner starts afresh (``load_problem`` says why).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from attnstudio.events import Event
from attnstudio.fileio import SaveError, atomic_write_text

__all__ = ["PROGRESS_FILE", "PROGRESS_FORMAT", "LessonProgress", "Progress"]

PROGRESS_FORMAT = "attnstudio-progress"
PROGRESS_VERSION = 1
PROGRESS_FILE = "progress.json"
_MAX_BYTES = 2_000_000


@dataclass
class LessonProgress:
    current: str | None = None  # id of the step open when the learner last left
    done: set[str] = field(default_factory=set)  # steps read, or whose task was met
    passed: set[str] = field(default_factory=set)  # steps whose task was met
    shown: set[str] = field(default_factory=set)  # steps whose solution the learner asked to see

    def to_dict(self) -> dict[str, Any]:
        return {"current": self.current, "done": sorted(self.done), "passed": sorted(self.passed),
                "shown": sorted(self.shown)}

    @classmethod
    def from_dict(cls, data: Any) -> "LessonProgress":
        if not isinstance(data, dict):
            raise ValueError("a lesson's progress must be an object")
        current = data.get("current")
        if current is not None and not isinstance(current, str):
            raise ValueError(f"current must be a step id, not {current!r}")
        sets = {}
        for name in ("done", "passed", "shown"):
            values = data.get(name, [])
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ValueError(f"{name} must be a list of step ids")
            sets[name] = set(values)
        return cls(current, **sets)


class Progress:
    """Every lesson's progress. With a ``folder``, each change is saved at once (atomically)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None, autosave: bool = True) -> None:
        self.folder = Path(folder) if folder is not None else None
        self.autosave = autosave and folder is not None
        self.changed = Event()  # changed(lesson_id: str)
        self.save_failed = Event()  # save_failed(message: str): the file could not be written; nothing is lost yet
        self.load_problem: str | None = None
        self._lessons: dict[str, LessonProgress] = {}

    @property
    def path(self) -> Path | None:
        return self.folder / PROGRESS_FILE if self.folder is not None else None

    # -- file ---------------------------------------------------------------------------------------
    @classmethod
    def load(cls, folder: str | os.PathLike[str], autosave: bool = True) -> "Progress":
        """Read the progress kept in ``folder`` (none yet is fine; a broken file is set aside)."""
        progress = cls(folder, autosave)
        path = progress.path
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read(_MAX_BYTES + 1)
        except FileNotFoundError:
            return progress
        except (OSError, UnicodeDecodeError) as exc:
            progress.load_problem = f"cannot read {path}: {exc}"
            return progress
        try:
            progress._lessons = cls._parse(text)
        except ValueError as exc:
            progress.load_problem = f"{path} was unreadable ({exc}); it was kept as {path.name}.broken"
            try:
                os.replace(path, path.with_name(path.name + ".broken"))
            except OSError:
                pass
        return progress

    @staticmethod
    def _parse(text: str) -> dict[str, LessonProgress]:
        if len(text) > _MAX_BYTES:
            raise ValueError("the file is far too large")
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ValueError(f"broken JSON: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != PROGRESS_FORMAT:
            raise ValueError(f"not a progress file (format {data.get('format') if isinstance(data, dict) else None!r})")
        if not isinstance(data.get("version"), int) or data["version"] > PROGRESS_VERSION:
            raise ValueError(f"unknown version {data.get('version')!r}")
        lessons = data.get("lessons", {})
        if not isinstance(lessons, dict):
            raise ValueError("lessons must be an object")
        return {str(lesson_id): LessonProgress.from_dict(entry) for lesson_id, entry in lessons.items()}

    def to_dict(self) -> dict[str, Any]:
        return {"format": PROGRESS_FORMAT, "version": PROGRESS_VERSION,
                "lessons": {k: v.to_dict() for k, v in sorted(self._lessons.items())}}

    def save(self) -> None:
        """Write ``progress.json`` atomically (creating the folder). Raises ``SaveError``."""
        if self.folder is None:
            raise SaveError("this progress has no folder to be saved in")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SaveError(f"cannot create {self.folder}: {exc.strerror or exc}") from exc
        atomic_write_text(self.path, json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n")

    def _touched(self, lesson_id: str) -> None:
        if self.autosave:
            try:
                self.save()
            except SaveError as exc:
                self.save_failed.emit(str(exc))
        self.changed.emit(lesson_id)

    # -- reading ------------------------------------------------------------------------------------
    def lesson(self, lesson_id: str) -> LessonProgress:
        """A copy of one lesson's record (empty if never started)."""
        entry = self._lessons.get(lesson_id, LessonProgress())
        return LessonProgress(entry.current, set(entry.done), set(entry.passed), set(entry.shown))

    def resume_index(self, lesson: Any) -> int:
        """The step to open when ``lesson`` starts again: where the learner was, else the first."""
        current = self._lessons.get(lesson.id, LessonProgress()).current
        index = lesson.step_index(current) if current is not None else None
        return index if index is not None else 0

    def counts(self, lesson: Any) -> tuple[int, int, int, int]:
        """(steps done, steps, tasks passed, tasks) for a lesson list's "3/5 steps, 1/2 tasks"."""
        entry = self._lessons.get(lesson.id, LessonProgress())
        ids = {s.id for s in lesson.steps}
        task_ids = {s.id for s in lesson.steps if s.task is not None}
        return len(entry.done & ids), len(ids), len(entry.passed & task_ids), len(task_ids)

    def is_finished(self, lesson: Any) -> bool:
        done, total, _, _ = self.counts(lesson)
        return done == total

    # -- recording ----------------------------------------------------------------------------------
    def _entry(self, lesson_id: str) -> LessonProgress:
        return self._lessons.setdefault(lesson_id, LessonProgress())

    def set_current(self, lesson_id: str, step_id: str) -> None:
        if self._entry(lesson_id).current != step_id:
            self._entry(lesson_id).current = step_id
            self._touched(lesson_id)

    def mark_done(self, lesson_id: str, step_id: str) -> None:
        if step_id not in self._entry(lesson_id).done:
            self._entry(lesson_id).done.add(step_id)
            self._touched(lesson_id)

    def mark_passed(self, lesson_id: str, step_id: str) -> None:
        """The step's task was met (which also makes the step done)."""
        entry = self._entry(lesson_id)
        if step_id not in entry.passed or step_id not in entry.done:
            entry.passed.add(step_id)
            entry.done.add(step_id)
            self._touched(lesson_id)

    def mark_shown(self, lesson_id: str, step_id: str) -> None:
        if step_id not in self._entry(lesson_id).shown:
            self._entry(lesson_id).shown.add(step_id)
            self._touched(lesson_id)

    def reset(self, lesson_id: str) -> None:
        """Forget everything about one lesson (start it over)."""
        if self._lessons.pop(lesson_id, None) is not None:
            self._touched(lesson_id)
