"""What a lesson is once read: a title, a summary and steps; a step has text, a scene set-up and maybe a task."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from attnstudio.lessons.checks import Check, CheckResult, PredictionCheck
from attnstudio.lessons.edits import Edit
from attnstudio.lessons.refs import TokenRef
from attnstudio.scene import Scene

__all__ = ["Lesson", "PanelSetup", "SceneSetup", "Step", "Task"]


@dataclass(frozen=True)
class PanelSetup:
    """Which panels (by objectName, see ``refs.PANELS``) a step shows, draws the eye to, and makes read-only."""

    shown: tuple[str, ...] | None = None  # None: every panel is shown
    highlighted: tuple[str, ...] = ()
    locked: tuple[str, ...] = ()

    def is_shown(self, name: str) -> bool:
        return self.shown is None or name in self.shown

    def is_highlighted(self, name: str) -> bool:
        return name in self.highlighted

    def is_locked(self, name: str) -> bool:
        return name in self.locked


@dataclass(frozen=True)
class SceneSetup:
    """How a step prepares the scene. Fields left ``None`` keep the seed example's value (or, with ``keep``,
    the scene's current one)."""

    source: str | None = None
    target: str | None = None
    settings: tuple[tuple[str, Any], ...] = ()  # lesson setting names (see checks.SETTING_NAMES) and values
    head: int | None = None  # 0-based head shown
    focus: TokenRef | None = None
    edits: tuple[Edit, ...] = ()  # applied after the rest, e.g. a query already bent for the learner to repair
    keep: bool = False  # True: change only the fields given, on top of the scene as the previous step left it
    panels: PanelSetup = field(default_factory=PanelSetup)
    has_panels: bool = False  # whether this set-up said anything about panels (a step's panels replace the lesson's)

    def over(self, base: "SceneSetup") -> "SceneSetup":
        """This (a step's) set-up on top of ``base`` (the lesson's): the step wins field by field."""
        settings = dict(base.settings)
        settings.update(self.settings)
        return SceneSetup(
            source=self.source if self.source is not None else base.source,
            target=self.target if self.target is not None else base.target,
            settings=tuple(settings.items()),
            head=self.head if self.head is not None else base.head,
            focus=self.focus if self.focus is not None else base.focus,
            edits=base.edits + self.edits,
            keep=self.keep,
            panels=self.panels if self.has_panels else base.panels,
            has_panels=self.has_panels or base.has_panels,
        )


@dataclass(frozen=True)
class Task:
    """Something for the learner to do, checked live; all ``checks`` must pass at once."""

    checks: tuple[Check, ...]
    solution: tuple[Edit, ...]  # the "show me" edits; applied in order
    prompt: str = ""  # one line saying what to do (the step text explains why)
    hint: str = ""
    success: str = ""  # said once the task is met

    @property
    def prediction(self) -> PredictionCheck | None:
        return next((c for c in self.checks if isinstance(c, PredictionCheck)), None)

    @property
    def reveals_after_prediction(self) -> bool:
        """True when the weights must stay hidden until the learner has made their prediction."""
        return self.prediction is not None

    def evaluate(self, scene: Scene, prediction: int | None = None) -> CheckResult:
        results = [check.evaluate(scene, prediction) for check in self.checks]
        passed = all(r.passed for r in results)
        # Say first what is still missing; a met part is reassuring but secondary.
        ordered = [r for r in results if not r.passed] + [r for r in results if r.passed]
        detail = "\n".join(r.detail for r in ordered)
        if passed and self.success:
            detail = f"{self.success}\n{detail}"
        return CheckResult(passed, detail)


@dataclass(frozen=True)
class Step:
    id: str  # stable name for progress ("step-3" unless the file names it)
    number: int  # 1-based place in the lesson
    title: str
    text: str  # Markdown
    setup: SceneSetup  # already merged over the lesson's own [scene]
    task: Task | None = None
    line: int | None = None  # line of its [[steps]] header in the file

    @property
    def reveals_after_prediction(self) -> bool:
        return self.task is not None and self.task.reveals_after_prediction


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    summary: str
    steps: tuple[Step, ...]
    path: str  # where it was read from (a package resource path for shipped lessons)
    origin: str = "shipped"  # "shipped" or "user"
    order: int = 1000  # lessons are listed by (order, title)
    scene: SceneSetup = field(default_factory=SceneSetup)  # the lesson's own [scene], under every step's

    def step_index(self, step_id: str) -> int | None:
        return next((i for i, s in enumerate(self.steps) if s.id == step_id), None)

    @property
    def task_count(self) -> int:
        return sum(s.task is not None for s in self.steps)
