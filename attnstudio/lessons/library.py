"""Where lessons live and how they are read: the ones shipped in the package and a teacher's own folder."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from attnstudio.lessons.errors import LessonError, Problem
from attnstudio.lessons.model import Lesson
from attnstudio.lessons.parse import parse_lesson_text
from attnstudio.lessons.validate import validate_lesson

__all__ = [
    "LESSON_SUFFIX",
    "Library",
    "check_lesson_file",
    "check_lesson_text",
    "load_library",
    "load_lesson",
    "load_lesson_text",
    "shipped_lessons",
    "user_data_dir",
    "user_lessons_dir",
]

APP_NAME = "AttnStudio"
LESSON_SUFFIX = ".toml"
MAX_LESSON_BYTES = 1_000_000  # a lesson is a page of text; anything this large is not one


def user_data_dir() -> Path:
    """The per-user data folder of AttnStudio (progress lives here), without creating it.

    Linux and other Unix: ``$XDG_DATA_HOME/AttnStudio`` or ``~/.local/share/AttnStudio``; macOS:
    ``~/Library/Application Support/AttnStudio``; Windows: ``%APPDATA%\\AttnStudio``. These are the folders
    ``QStandardPaths.AppDataLocation`` gives, so the GUI may use either.
    """
    if sys.platform == "win32":
        base = os.environ.get("APPDATA") or str(Path.home() / "AppData" / "Roaming")
        return Path(base) / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".local" / "share"  # the spec ignores relative paths
    return base / APP_NAME


def user_lessons_dir() -> Path:
    """The folder where a teacher puts their own lesson files (``*.toml``); it may not exist yet."""
    return user_data_dir() / "lessons"


def check_lesson_text(text: str, file: str, origin: str = "user", default_id: str | None = None
                      ) -> tuple[Lesson | None, list[Problem]]:
    """Every problem of a lesson's text, structural and against the model; the lesson if it has no error."""
    lesson, problems, locator = parse_lesson_text(text, file, origin, default_id)
    if lesson is not None:
        problems = problems + validate_lesson(lesson, locator, file)
    if any(p.severity == "error" for p in problems):
        lesson = None
    return lesson, problems


def _read(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_LESSON_BYTES + 1)
    except OSError as exc:
        raise LessonError(str(path), f"cannot read the lesson: {exc.strerror or exc}") from None
    if len(data) > MAX_LESSON_BYTES:
        raise LessonError(str(path), f"too large to be a lesson (over {MAX_LESSON_BYTES // 1000} kB)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LessonError(str(path), f"not UTF-8 text (byte {exc.start}); save the lesson as UTF-8") from None


def check_lesson_file(path: str | os.PathLike[str], origin: str = "user") -> tuple[Lesson | None, list[Problem]]:
    """Like :func:`check_lesson_text` for a file; an unreadable file is one problem, never an exception."""
    path = Path(path)
    try:
        text = _read(path)
    except LessonError as exc:
        return None, exc.problems
    return check_lesson_text(text, str(path), origin, default_id=path.stem)


def load_lesson_text(text: str, file: str, origin: str = "user", default_id: str | None = None) -> Lesson:
    """Parse and validate a lesson; raise :class:`LessonError` (naming ``file``) if it has any error."""
    lesson, problems = check_lesson_text(text, file, origin, default_id)
    if lesson is None:
        raise LessonError(file, problems)
    return lesson


def load_lesson(path: str | os.PathLike[str], origin: str = "user") -> Lesson:
    """Read, parse and validate one lesson file; raise :class:`LessonError` naming the file."""
    path = Path(path)
    return load_lesson_text(_read(path), str(path), origin, default_id=path.stem)


@lru_cache(maxsize=1)
def shipped_lessons() -> tuple[Lesson, ...]:
    """The lessons in the package, in order (read once; a structurally broken one raises LessonError).

    Shipped lessons are parsed but not walked on the model here: that walk (``validate_lesson``) took about a
    third of the window's build time at every start, and the test suite already runs it on every shipped file
    (``tests/test_lessons.py``), as ``attnstudio lesson check`` does for a teacher's own lessons.
    """
    folder = resources.files("attnstudio").joinpath("data", "lessons")
    lessons = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(LESSON_SUFFIX):
            name = f"attnstudio/data/lessons/{entry.name}"
            lesson, problems, _ = parse_lesson_text(entry.read_text(encoding="utf-8"), name, "shipped",
                                                    entry.name[: -len(LESSON_SUFFIX)], cached=True)
            if lesson is None or any(p.severity == "error" for p in problems):
                raise LessonError(name, problems)
            lessons.append(lesson)
    return tuple(sorted(lessons, key=lambda lesson: (lesson.order, lesson.title)))


@dataclass
class Library:
    """The lessons a learner can open, and the user files that could not be read (to show, not to hide)."""

    lessons: list[Lesson] = field(default_factory=list)
    problems: list[LessonError] = field(default_factory=list)

    def get(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)


def load_library(user_dir: str | os.PathLike[str] | None = None, include_user: bool = True) -> Library:
    """Shipped lessons, then the teacher's (``user_dir``, default :func:`user_lessons_dir`), never raising for
    a broken user file: it goes to ``problems``. A user lesson whose id is already taken is refused there too."""
    library = Library(list(shipped_lessons()))
    if not include_user:
        return library
    folder = Path(user_dir) if user_dir is not None else user_lessons_dir()
    try:
        files = sorted(p for p in folder.iterdir() if p.suffix == LESSON_SUFFIX and p.is_file())
    except OSError:
        files = []  # no folder yet (the usual case) or unreadable: there are simply no user lessons
    user = []
    for path in files:
        try:
            lesson = load_lesson(path, "user")
        except LessonError as exc:
            library.problems.append(exc)
            continue
        if library.get(lesson.id) is not None or any(u.id == lesson.id for u in user):
            library.problems.append(LessonError(str(path), f"the id {lesson.id!r} is already used by another "
                                                           "lesson; give this one its own id = \"…\""))
            continue
        user.append(lesson)
    library.lessons.extend(sorted(user, key=lambda lesson: (lesson.order, lesson.title)))
    return library
