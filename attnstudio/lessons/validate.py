"""Checking a lesson against the real model: do its words exist, can its tasks be done, are they not done yet?

A lesson is walked through as a learner who always uses "show me" would walk it: each step's set-up is
applied, its task must *not* be met yet, then its stored solution is applied and the task *must* be met;
the next step starts from there. Everything that goes wrong becomes a :class:`Problem` with its step and line.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from attnstudio.lessons.checks import PredictionCheck, TIE_TOLERANCE
from attnstudio.lessons.edits import EditError
from attnstudio.lessons.errors import Problem
from attnstudio.lessons.model import Lesson, SceneSetup, Step
from attnstudio.lessons.parse import LineLocator
from attnstudio.lessons.refs import TokenNotFound, quote, sentence_label
from attnstudio.lessons.session import SessionError, StepState, apply_setup
from attnstudio.scene import Scene, SceneError

__all__ = ["validate_lesson"]

# Which panel a kind of "show me" edit happens in: locking it makes the task impossible by hand.
_EDIT_PANELS = {"settings": "controlsPanel", "overrides": "vectorInspector"}


def validate_lesson(lesson: Lesson, locator: LineLocator | None = None, file: str | None = None) -> list[Problem]:
    """Every problem of ``lesson`` that only the model can reveal (the structure is already checked)."""
    file = file or lesson.path
    problems: list[Problem] = []

    def report(step: Step | None, message: str, *keys: str, severity: str = "error") -> None:
        number = step.number if step else None
        line = locator.find(number, *keys) if locator else (step.line if step else None)
        problems.append(Problem(file, message, line, number, severity))

    scene = Scene()
    try:
        apply_setup(SceneSetup().over(lesson.scene), scene)
    except (SceneError, EditError) as exc:
        report(None, f"the lesson's [scene] cannot be made: {exc}", "scene")
        return problems
    for step in lesson.steps:
        try:
            apply_setup(step.setup, scene)
        except (SceneError, EditError) as exc:
            report(step, f"the scene set-up cannot be made: {exc}", "scene")
            scene = Scene()  # go on from the seed example, so later steps are still checked
            continue
        if step.task is not None:
            _validate_task(step, scene, report)
    return problems


def _validate_task(step: Step, scene: Scene, report: Callable[..., None]) -> None:
    task = step.task
    assert task is not None
    missing = False
    for n, check in enumerate(task.checks, 1):
        try:
            check.resolve_tokens(scene)
        except TokenNotFound as exc:
            report(step, f"check {n} ({check.kind}): {exc}", "task", "check")
            missing = True
    if missing:
        return
    for check in task.checks:
        if isinstance(check, PredictionCheck):
            _validate_prediction(step, check, scene, report)
    _validate_panels(step, scene, report)
    opened = task.evaluate(scene, None)
    if opened.passed:
        report(step, f"the task is already met when the step opens, so there is nothing to do: {opened.detail}",
               "task")
        return
    state = StepState(step)
    try:
        for edit in [edit.resolve(scene) for edit in task.solution] if task.solution else []:
            if edit.kind == "predict":
                state.predict(edit.value, replace=True)
            else:
                edit.apply(scene)
    except (EditError, SceneError, SessionError) as exc:
        report(step, f"the solution cannot be applied: {exc}", "task", "solution")
        return
    solved = task.evaluate(scene, state.prediction)
    if not solved.passed:
        report(step, f"the stored solution does not meet the task: {solved.detail}", "task", "solution")


def _validate_prediction(step: Step, check: PredictionCheck, scene: Scene, report: Callable[..., None]) -> None:
    """The expected answer of a prediction must be where the model really looks, and clearly so."""
    result = scene.result()
    qi = check.query.resolve([w.token.surface for w in result.query_words], sentence_label(scene, scene.query_side()))
    ki = check.key.resolve([w.token.surface for w in result.key_words], sentence_label(scene, "source"))
    row = result.weights[qi]
    best = int(np.argmax(row))
    q, k = quote(result.query_words[qi].token.surface), quote(result.key_words[ki].token.surface)
    if best != ki or np.sum(row >= row[best] - TIE_TOLERANCE) > 1:
        real = quote(result.key_words[best].token.surface)
        report(step, f"the prediction expects {q} to look most at {k}, but in this scene it looks most at "
                     f"{real} ({row[best]:.0%}; {k} gets {row[ki]:.0%})", "task", "key")


def _validate_panels(step: Step, scene: Scene, report: Callable[..., None]) -> None:
    panels = step.setup.panels
    try:
        kinds = {edit.resolve(scene).kind for edit in step.task.solution}
    except EditError:
        return  # the solution itself is reported later
    for kind, panel in _EDIT_PANELS.items():
        if kind in kinds and (panels.is_locked(panel) or not panels.is_shown(panel)):
            state = "locked" if panels.is_locked(panel) else "hidden"
            report(step, f"the solution changes what {panel} edits, but this step keeps {panel} {state}",
                   "scene", "panels", severity="warning")
    if step.reveals_after_prediction and not (panels.is_shown("alignmentCanvas") or panels.is_shown("heatmapView")):
        report(step, "a prediction is made by clicking a word in alignmentCanvas or heatmapView; show one of them",
               "scene", "panels", severity="warning")
