"""Guided lessons: the lesson files, their live checks, the learner's progress, and a session that runs one.

Qt-free: the lesson panel of the GUI is built on :class:`LessonSession`. See ``docs/lessons.md`` for the
file format and for the API the panel uses.
"""

from attnstudio.lessons.checks import CHECK_KINDS, CheckResult
from attnstudio.lessons.edits import EditError, SceneEdit
from attnstudio.lessons.errors import LessonError, Problem
from attnstudio.lessons.library import (
    Library,
    check_lesson_file,
    check_lesson_text,
    load_library,
    load_lesson,
    load_lesson_text,
    shipped_lessons,
    user_data_dir,
    user_lessons_dir,
)
from attnstudio.lessons.model import Lesson, PanelSetup, SceneSetup, Step, Task
from attnstudio.lessons.progress import LessonProgress, Progress
from attnstudio.lessons.refs import PANELS, TokenRef
from attnstudio.lessons.session import LessonSession, SessionError, StepState, apply_setup

__all__ = [
    "CHECK_KINDS",
    "PANELS",
    "CheckResult",
    "EditError",
    "Lesson",
    "LessonError",
    "LessonProgress",
    "LessonSession",
    "Library",
    "PanelSetup",
    "Problem",
    "Progress",
    "SceneEdit",
    "SceneSetup",
    "SessionError",
    "Step",
    "StepState",
    "Task",
    "TokenRef",
    "apply_setup",
    "check_lesson_file",
    "check_lesson_text",
    "load_library",
    "load_lesson",
    "load_lesson_text",
    "shipped_lessons",
    "user_data_dir",
    "user_lessons_dir",
]
