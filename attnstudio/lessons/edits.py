"""Edits a lesson makes to the scene: the set-up of a step and the "show me" solution of a task.

A lesson names things as a reader does (``token = "black"``, ``dim = "animal"``, ``head = 2``); before an
edit touches a scene it is *resolved* against that scene into a :class:`SceneEdit`, which speaks the scene's
0-based language. The GUI can turn each ``SceneEdit`` into one undoable command (its ``label`` is the undo
text), or simply call ``SceneEdit.apply(scene)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from attnstudio.lessons.checks import SETTING_NAMES, show_value
from attnstudio.lessons.refs import STAGE_NAMES, TokenNotFound, TokenRef, dimension_index, quote, sentence_label
from attnstudio.scene import Scene, SceneError, parse_component

__all__ = [
    "EDIT_KINDS",
    "Edit",
    "EditError",
    "FocusEdit",
    "HeadEdit",
    "OverrideEdit",
    "PredictEdit",
    "ResetEdit",
    "SceneEdit",
    "SettingsEdit",
]


class EditError(ValueError):
    """A lesson edit cannot be applied to this scene; the message says why."""


@dataclass(frozen=True)
class SceneEdit:
    """One concrete change to a scene, in the scene's 0-based terms.

    ``kind`` and ``value``:
    * ``"settings"``  — ``dict`` of ``Settings`` field names to values (``scene.set_settings(**value)``);
    * ``"overrides"`` — ``{(side, token index, stage, dim): float or None}`` (``scene.set_overrides``; None resets);
    * ``"focus"``     — query token index (``scene.set_focus``);
    * ``"head"``      — head index (``scene.set_head``);
    * ``"predict"``   — key index the learner "clicks" (``StepState.predict``; needs the step state).
    """

    kind: str
    value: Any
    label: str  # what a person would call it: the undo text, or a line in a "show me" list

    def apply(self, scene: Scene, state: Any = None) -> None:
        if self.kind == "settings":
            scene.set_settings(**self.value)
        elif self.kind == "overrides":
            scene.set_overrides(self.value)
        elif self.kind == "focus":
            scene.set_focus(self.value)
        elif self.kind == "head":
            scene.set_head(self.value)
        elif self.kind == "predict":
            if state is None:
                raise EditError("a prediction needs the step's state (StepState.predict)")
            state.predict(self.value)
        else:  # pragma: no cover - the kinds are fixed above
            raise EditError(f"unknown edit kind {self.kind!r}")


def _heads(n: int) -> str:
    return f"{n} head{'s' if n != 1 else ''}"


def _surfaces(words) -> list[str]:
    return [w.token.surface for w in words]


def _resolve(ref: TokenRef, scene: Scene, side: str) -> int:
    try:
        return ref.resolve(_surfaces(scene.tokens(side).words), sentence_label(scene, side))
    except TokenNotFound as exc:
        raise EditError(str(exc)) from None


class Edit:
    """Base of the lesson edits; ``resolve(scene)`` gives the concrete :class:`SceneEdit`."""

    kind: ClassVar[str] = ""

    def resolve(self, scene: Scene) -> SceneEdit:
        raise NotImplementedError


@dataclass(frozen=True)
class SettingsEdit(Edit):
    """Change settings, named as in lessons: mode, variant, temperature, heads, causal, positions."""

    kind: ClassVar[str] = "settings"
    values: tuple[tuple[str, Any], ...]

    def resolve(self, scene: Scene) -> SceneEdit:
        changes = {SETTING_NAMES[name]: value for name, value in self.values}
        try:
            scene.settings_checked(**changes)
        except SceneError as exc:
            raise EditError(str(exc)) from None
        label = ", ".join(f"{name} {show_value(value)}" for name, value in self.values)
        return SceneEdit("settings", changes, f"Set {label}")


@dataclass(frozen=True)
class OverrideEdit(Edit):
    """Type a number into one component of a word's query, key or value."""

    kind: ClassVar[str] = "override"
    token: TokenRef
    stage: str  # "q", "k" or "v"
    dim: str | int  # a dimension name, or its number counted from 1
    value: float
    side: str | None = None  # default: the side where this stage lives (queries: the query side; keys, values: source)

    def resolve(self, scene: Scene) -> SceneEdit:
        side = self.side or scene.side_of(self.stage)
        index = _resolve(self.token, scene, side)
        names = scene.model.dimension_names
        try:
            dim = dimension_index(self.dim, names)
            value = parse_component(self.value)
        except (ValueError, SceneError) as exc:
            raise EditError(str(exc)) from None
        word = quote(scene.tokens(side).words[index].token.surface)
        return SceneEdit("overrides", {(side, index, self.stage, dim): value},
                         f"Set {self.stage}[{names[dim]}] of {word} to {value:g}")


@dataclass(frozen=True)
class ResetEdit(Edit):
    """Remove the hand edits of a word's query, key or value (one dimension, or all of them)."""

    kind: ClassVar[str] = "reset"
    token: TokenRef
    stage: str
    dim: str | int | None = None
    side: str | None = None

    def resolve(self, scene: Scene) -> SceneEdit:
        side = self.side or scene.side_of(self.stage)
        index = _resolve(self.token, scene, side)
        names = scene.model.dimension_names
        try:
            dims = range(len(names)) if self.dim is None else [dimension_index(self.dim, names)]
        except ValueError as exc:
            raise EditError(str(exc)) from None
        word = quote(scene.tokens(side).words[index].token.surface)
        part = STAGE_NAMES[self.stage] if self.dim is None else f"{self.stage}[{names[dims[0]]}]"
        return SceneEdit("overrides", {(side, index, self.stage, d): None for d in dims},
                         f"Reset the {part} of {word}")


@dataclass(frozen=True)
class FocusEdit(Edit):
    """Put the focus on a query word (the row the panels follow)."""

    kind: ClassVar[str] = "focus"
    token: TokenRef

    def resolve(self, scene: Scene) -> SceneEdit:
        index = _resolve(self.token, scene, scene.query_side())
        return SceneEdit("focus", index, f"Focus on {quote(scene.tokens(scene.query_side()).words[index].token.surface)}")


@dataclass(frozen=True)
class HeadEdit(Edit):
    """Show another head (``head`` is 0-based here; lesson files count heads from 1)."""

    kind: ClassVar[str] = "head"
    head: int

    def resolve(self, scene: Scene) -> SceneEdit:
        if self.head >= scene.settings.num_heads:
            raise EditError(f"there is no head {self.head + 1}: the scene has {_heads(scene.settings.num_heads)}")
        return SceneEdit("head", self.head, f"Show head {self.head + 1}")


@dataclass(frozen=True)
class PredictEdit(Edit):
    """Make the prediction of a prediction task (the "show me" of a guess)."""

    kind: ClassVar[str] = "predict"
    key: TokenRef

    def resolve(self, scene: Scene) -> SceneEdit:
        index = _resolve(self.key, scene, "source")
        return SceneEdit("predict", index, f"Predict {quote(scene.tokens('source').words[index].token.surface)}")


EDIT_KINDS: dict[str, type[Edit]] = {
    cls.kind: cls for cls in (SettingsEdit, OverrideEdit, ResetEdit, FocusEdit, HeadEdit, PredictEdit)
}
