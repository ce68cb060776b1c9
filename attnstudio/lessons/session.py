"""Running a lesson on the learner's scene: step set-ups, live checks, predictions, "show me", and leaving.

The session is Qt-free. It edits the scene it is given (the same ``Scene`` the window's controller owns) and
announces what happened through ``session.changed(what)``, ``what`` a frozenset among:

* ``"step"``       — another step is open (or the same one again after ``reset_step``);
* ``"result"``     — the live check was evaluated again (``session.result``);
* ``"prediction"`` — the learner made their prediction (the weights may now be shown);
* ``"passed"``     — the task was met for the first time in this visit of the step;
* ``"active"``     — the session started or ended.
"""

from __future__ import annotations

import copy

from typing import Any, Callable

from attnstudio.engine.tokens import tokenize
from attnstudio.events import Event
from attnstudio.lessons.checks import SETTING_NAMES, CheckResult
from attnstudio.lessons.edits import EditError, FocusEdit, HeadEdit, SceneEdit
from attnstudio.lessons.model import Lesson, PanelSetup, SceneSetup, Step
from attnstudio.lessons.progress import Progress
from attnstudio.lessons.refs import label_for
from attnstudio.scene import Scene

__all__ = ["LessonSession", "SessionError", "StepState", "apply_setup"]


class SessionError(ValueError):
    """A session was asked for something it cannot do now (predict twice, move while not started, …)."""


class StepState:
    """What the learner did in the open step that the scene does not hold: their prediction.

    Prediction rule: **one guess per visit**. The weights are revealed after the first click, right or wrong,
    so a second guess would prove nothing; a wrong guess stays wrong (and the task unpassed) until the learner
    chooses ``reset_step()``, which hides the weights again and lets them guess anew.
    """

    def __init__(self, step: Step) -> None:
        self.step = step
        self.prediction: int | None = None  # 0-based key index the learner clicked
        self.changed = Event()  # changed(): the prediction was made or cleared

    @property
    def reveals_after_prediction(self) -> bool:
        """True if this step's task is a prediction: hide the weights until ``prediction`` is set."""
        return self.step.reveals_after_prediction

    @property
    def weights_hidden(self) -> bool:
        return self.reveals_after_prediction and self.prediction is None

    @property
    def can_predict(self) -> bool:
        return self.weights_hidden

    def predict(self, key_index: int, *, replace: bool = False) -> None:
        """Record the key the learner thinks the query will attend to most (``replace`` is for "show me")."""
        if not self.reveals_after_prediction:
            raise SessionError("this step asks for no prediction")
        if isinstance(key_index, bool) or not isinstance(key_index, int) or key_index < 0:
            raise SessionError(f"a prediction is a key index from 0, not {key_index!r}")
        if self.prediction is not None and not replace:
            raise SessionError("the prediction is already made; reset the step to guess again")
        self.prediction = key_index
        self.changed.emit()

    def clear(self) -> None:
        if self.prediction is not None:
            self.prediction = None
            self.changed.emit()


def apply_setup(setup: SceneSetup, scene: Scene) -> None:
    """Prepare ``scene`` as a step's set-up says. Raises ``SceneError`` or ``EditError`` with the reason.

    A full set-up replaces the scene in one change (seed example + the set-up's fields, no hand edits);
    a ``keep`` set-up changes only the fields it names.
    """
    settings = {SETTING_NAMES[name]: value for name, value in setup.settings}
    if setup.keep:
        for side in ("source", "target"):
            if getattr(setup, side) is not None:
                scene.set_sentence(side, getattr(setup, side))
        if settings:
            scene.set_settings(**settings)
        if setup.head is not None:
            HeadEdit(setup.head).resolve(scene).apply(scene)
        if setup.focus is not None:
            FocusEdit(setup.focus).resolve(scene).apply(scene)
    else:
        scene.load_dict(_setup_document(setup, settings))  # one change, one repaint
    for edit in setup.edits:
        concrete = edit.resolve(scene)
        if concrete.kind == "predict":
            raise EditError("a set-up cannot make the learner's prediction")
        concrete.apply(scene)


def _setup_document(setup: SceneSetup, settings: dict[str, Any]) -> dict[str, Any]:
    """The scene document of a full set-up: the seed example with the set-up's fields (raises EditError)."""
    doc = Scene.seed_dict()
    for side in ("source", "target"):
        if getattr(setup, side) is not None:
            doc[side] = getattr(setup, side)
    doc["settings"].update(settings)
    heads = doc["settings"]["num_heads"]
    if setup.head is not None:
        if isinstance(heads, int) and setup.head >= heads:
            raise EditError(f"there is no head {setup.head + 1}: the set-up has {heads} head{'s' if heads != 1 else ''}")
        doc["head"] = setup.head
    if setup.focus is not None:
        side = "target" if doc["settings"]["mode"] == "translation" else "source"
        language = doc["settings"][f"{side}_language"]
        try:
            surfaces = [t.surface for t in tokenize(doc[side])]
            doc["focus"] = setup.focus.resolve(surfaces, label_for(language, doc[side], side))
        except ValueError as exc:  # TokenNotFound, or a sentence too long to tokenize
            raise EditError(str(exc)) from None
    return doc


def setup_chain(lesson: Lesson, index: int) -> list[SceneSetup]:
    """The set-ups that rebuild step ``index`` from nothing: the last full one at or before it (or the
    lesson's own [scene]) and every ``keep`` one after it."""
    chain: list[SceneSetup] = []
    for step in reversed(lesson.steps[: index + 1]):
        chain.append(step.setup)
        if not step.setup.keep:
            break
    else:
        chain.append(SceneSetup().over(lesson.scene))
    return chain[::-1]


class LessonSession:
    """One learner working through one lesson on one scene. Create, ``start()``, …, ``leave()``."""

    def __init__(self, lesson: Lesson, scene: Scene, progress: Progress | None = None) -> None:
        if not lesson.steps:
            raise SessionError(f"the lesson {lesson.title!r} has no steps")
        self.lesson = lesson
        self.scene = scene
        self.progress = progress
        self.changed = Event()  # changed(what: frozenset[str]); see the module docstring
        self._index = 0
        self._state = StepState(lesson.steps[0])
        self._learner_scene: dict[str, Any] | None = None  # the learner's own scene, given back by leave()
        self._opened_scene: dict[str, Any] | None = None  # the scene as the open step set it up
        self._result: CheckResult | None = None
        self._passed_now = False
        self._busy = False  # True while the session itself edits the scene: check once at the end

    # -- reading ------------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._learner_scene is not None

    @property
    def index(self) -> int:
        return self._index

    @property
    def step(self) -> Step:
        return self.lesson.steps[self._index]

    @property
    def count(self) -> int:
        return len(self.lesson.steps)

    @property
    def is_first(self) -> bool:
        return self._index == 0

    @property
    def is_last(self) -> bool:
        return self._index == self.count - 1

    @property
    def state(self) -> StepState:
        return self._state

    @property
    def hint(self) -> str:
        return self.step.task.hint if self.step.task else ""

    @property
    def panels(self) -> PanelSetup:
        return self.step.setup.panels

    @property
    def result(self) -> CheckResult | None:
        """The last live evaluation of the open step's task (None for a step without a task)."""
        return self._result

    @property
    def weights_hidden(self) -> bool:
        return self._state.weights_hidden

    # -- starting and leaving -----------------------------------------------------------------------
    def start(self, step: int | None = None) -> None:
        """Remember the learner's scene, then open ``step`` (default: where the progress left off)."""
        if self.active:
            raise SessionError("the lesson is already running")
        if step is None:
            step = self.progress.resume_index(self.lesson) if self.progress else 0
        self._check_index(step)
        self._learner_scene = self.scene.to_dict()
        self.scene.changed.connect(self._on_scene_changed)
        try:
            self._open(step, jump=True)
        except BaseException:
            # However far the set-up got (a lesson whose step cannot apply, or a bug), the learner's scene comes
            # back exactly and nothing of the session stays connected.
            saved = self._learner_scene
            self._stop()
            self.scene.load_dict(saved)
            raise
        self.changed.emit(frozenset({"active"}))

    @property
    def learner_scene(self) -> dict[str, Any] | None:
        """A copy of the learner's own scene document, kept aside while the lesson runs (None when idle)."""
        return None if self._learner_scene is None else copy.deepcopy(self._learner_scene)

    def leave(self) -> None:
        """End the lesson and give the learner their own scene back, exactly as it was."""
        if not self.active:
            return
        saved = self._learner_scene
        self._stop()
        self.scene.load_dict(saved)
        self.changed.emit(frozenset({"active"}))

    def _stop(self) -> None:
        self.scene.changed.disconnect(self._on_scene_changed)
        self._learner_scene = None

    # -- moving -------------------------------------------------------------------------------------
    def next(self) -> bool:
        """Go to the next step (False on the last one, which is then marked done if it can be)."""
        self._require_active()
        self._leave_step()
        if self.is_last:
            return False
        self._open(self._index + 1, jump=False)
        return True

    def back(self) -> bool:
        self._require_active()
        if self.is_first:
            return False
        self._open(self._index - 1, jump=True)
        return True

    def go_to(self, index: int) -> None:
        self._require_active()
        self._check_index(index)
        self._open(index, jump=True)

    def reset_step(self) -> None:
        """Put the scene back as the step opened it and forget the prediction."""
        self._require_active()
        self._busy = True
        try:
            self.scene.load_dict(self._opened_scene)
        finally:
            self._busy = False
        self._state.clear()
        self._passed_now = False
        self._evaluate()
        self.changed.emit(frozenset({"step", "result"}))

    def _open(self, index: int, jump: bool) -> None:
        step = self.lesson.steps[index]
        self._busy = True
        try:
            for setup in (setup_chain(self.lesson, index) if jump else [step.setup]):
                apply_setup(setup, self.scene)
        finally:
            self._busy = False
        self._index = index
        self._state = StepState(step)
        self._state.changed.connect(self._on_prediction)
        self._opened_scene = self.scene.to_dict()
        self._passed_now = False
        if self.progress:
            self.progress.set_current(self.lesson.id, step.id)
        self._evaluate()
        self.changed.emit(frozenset({"step", "result"}))

    def _leave_step(self) -> None:
        if self.progress and (self.step.task is None or (self._result is not None and self._result.passed)):
            self.progress.mark_done(self.lesson.id, self.step.id)

    # -- the task -----------------------------------------------------------------------------------
    def check(self, scene: Scene | None = None) -> CheckResult | None:
        """Evaluate the open step's task now (None if the step has no task). With the session's own scene
        this also records a first pass in the progress."""
        if scene is None or scene is self.scene:
            return self._evaluate()
        return self.step.task.evaluate(scene, self._state.prediction) if self.step.task else None

    def predict(self, key_index: int) -> CheckResult:
        """The learner clicked a key: record it (once), reveal the weights, and return the verdict.

        Same as ``session.state.predict(key_index)``; both announce ``{"prediction", "result"}``."""
        self._require_active()
        self._state.predict(key_index)
        return self._result

    def _on_prediction(self) -> None:
        if self.active:
            self._evaluate()
            self.changed.emit(frozenset({"prediction", "result"}))

    def solution_edits(self) -> list[SceneEdit]:
        """The "show me" edits resolved against the scene now, for a GUI that makes each one undoable."""
        task = self.step.task
        return [edit.resolve(self.scene) for edit in task.solution] if task else []

    def apply_solution(self, scene: Scene | None = None,
                       apply_edit: Callable[[SceneEdit], Any] | None = None) -> CheckResult | None:
        """Do the task for the learner ("show me") and return the verdict; the progress records the step as
        shown (and, once met, passed).

        ``apply_edit``, if given, applies each scene edit instead of ``SceneEdit.apply`` — a GUI passes a
        function that pushes an undoable command. A prediction edit always goes to the step state.
        """
        self._require_active()
        if self.step.task is None:
            return None
        scene = scene or self.scene
        if self.progress:
            self.progress.mark_shown(self.lesson.id, self.step.id)
        for edit in [edit.resolve(scene) for edit in self.step.task.solution]:
            if edit.kind == "predict":
                self._state.predict(edit.value, replace=True)
            elif apply_edit is not None:
                apply_edit(edit)
            else:
                edit.apply(scene)
        result = self._evaluate()
        self.changed.emit(frozenset({"result"}))
        return result

    def _evaluate(self) -> CheckResult | None:
        task = self.step.task
        self._result = task.evaluate(self.scene, self._state.prediction) if task else None
        if self._result is not None and self._result.passed and not self._passed_now:
            self._passed_now = True
            if self.progress:
                self.progress.mark_passed(self.lesson.id, self.step.id)
            self.changed.emit(frozenset({"passed"}))
        return self._result

    def _on_scene_changed(self, what: frozenset[str]) -> None:
        if self._busy or self.step.task is None:
            return
        self._evaluate()
        self.changed.emit(frozenset({"result"}))

    # -- guards -------------------------------------------------------------------------------------
    def _require_active(self) -> None:
        if not self.active:
            raise SessionError("start() the lesson first")

    def _check_index(self, index: int) -> None:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.count:
            raise SessionError(f"there is no step {index!r}; the lesson has steps 0..{self.count - 1}")
