"""The controller: owns the scene and the undo stack; every user edit becomes an undoable command.

Data flows one way: a view calls a controller method → the method pushes a ``QUndoCommand`` → the command
changes the scene → the scene announces what changed → the controller re-emits it as a Qt signal → views
repaint from ``controller.result()``. Views never touch the scene directly.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from attnstudio.fileio import SaveError, atomic_write_text
from attnstudio.gui.errors import guard_overrides
from attnstudio.scene import Scene, SceneError, SceneResult, load_scene_file

__all__ = ["Controller"]

# Merge ids: a burst of edits of the same kind folds into one undo step (QUndoCommand.mergeWith).
_MERGE_SENTENCE = {"source": 1, "target": 2}
_MERGE_COMPONENT = 10
_MERGE_TEMPERATURE = 20
UNDO_LIMIT = 1000  # steps kept in a history
MERGE_WINDOW = 2.0  # seconds: a pause longer than this starts a new undo step


class _SceneCommand(QUndoCommand):
    """Base: remembers the scene; ``redo``/``undo`` apply a state to it.

    A command holds the (Qt-free) scene, not the controller: the controller owns the undo stack that owns
    the commands, and a Python reference back would make a cycle the garbage collector may break in an
    order Qt does not survive (a crash in ``QUndoStack::clear``).
    """

    def __init__(self, controller: "Controller", text: str) -> None:
        super().__init__(text)
        self._scene = controller.scene
        self.serial = controller.merge_serial
        self.stamp = time.monotonic()
        self.view_before = (controller.scene.focus, controller.scene.head)
        self.view_after: tuple[int, int] | None = None

    def can_merge(self, other: QUndoCommand, timed: bool = False) -> bool:
        """Same kind and same burst (no end_merge() between); typing (``timed``) also needs no long pause.

        A drag is ended by end_merge() on release, however long the learner holds the mouse still;
        typing has no release, so a pause of MERGE_WINDOW seconds starts a new undo step.
        """
        ok = (type(other) is type(self) and other.serial == self.serial
              and (not timed or other.stamp - self.stamp < MERGE_WINDOW))
        if ok:
            self.stamp = other.stamp
        return ok

    @property
    def scene(self) -> Scene:
        return self._scene

    def keep_view(self, applied: bool) -> None:
        """Put back the focus and head this command moved (a shorter sentence or fewer heads clamp them).

        Call at the end of ``redo`` (``applied``) and ``undo``. Focus and head are navigation, never undone on
        their own; but a step that clamped them must give them back, or undo would not restore the scene.
        """
        if applied and self.view_after is None:  # the first redo, from push(): just note where they ended
            self.view_after = (self.scene.focus, self.scene.head)
            return
        if self.view_after != self.view_before:
            focus, head = self.view_after if applied else self.view_before
            self.scene.set_head(head)
            self.scene.set_focus(focus)


@guard_overrides
class SetSentenceCommand(_SceneCommand):
    def __init__(self, controller: "Controller", side: str, old: str, new: str, old_overrides: dict) -> None:
        super().__init__(controller, f"Type the {side} sentence")
        self.side, self.old, self.new = side, old, new
        self.old_overrides = old_overrides  # retyping may drop edits of tokens that changed; undo brings them back
        # The edits left after the whole (merged) burst: typing "black" away and back within one burst drops
        # its edits on the way, which replaying only old -> new would not, so redo puts these back instead.
        self.new_overrides: dict | None = None

    def id(self) -> int:
        return _MERGE_SENTENCE[self.side]

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (other.side == self.side and self.can_merge(other, timed=True)):
            return False
        self.new = other.new
        self.new_overrides = other.new_overrides
        self.view_after = other.view_after
        return True

    def redo(self) -> None:
        if self.new_overrides is None:
            self.scene.set_sentence(self.side, self.new)
            self.new_overrides = self.scene.overrides
        else:
            self.scene.restore_sentence(self.side, self.new, self.new_overrides)
        self.keep_view(True)

    def undo(self) -> None:
        self.scene.restore_sentence(self.side, self.old, self.old_overrides)
        self.keep_view(False)


@guard_overrides
class SetSettingsCommand(_SceneCommand):
    def __init__(self, controller: "Controller", old: dict[str, Any], new: dict[str, Any], text: str, merge: bool) -> None:
        super().__init__(controller, text)
        self.old, self.new, self.merge = old, new, merge

    def id(self) -> int:
        return _MERGE_TEMPERATURE if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if not (other.merge and set(other.new) == set(self.new) and self.can_merge(other, timed=True)):
            return False
        self.new = other.new
        self.view_after = other.view_after
        return True

    def redo(self) -> None:
        self.scene.set_settings(**self.new)
        self.keep_view(True)

    def undo(self) -> None:
        self.scene.set_settings(**self.old)
        self.keep_view(False)


@guard_overrides
class SetComponentCommand(_SceneCommand):
    """Set (or reset, with ``None``) one hand-edited q/k/v component."""

    def __init__(self, controller: "Controller", key: tuple[str, int, str, int], old: float | None,
                 new: float | None, text: str, merge: bool) -> None:
        super().__init__(controller, text)
        self.key, self.old, self.new, self.merge = key, old, new, merge

    def id(self) -> int:
        return _MERGE_COMPONENT if self.merge else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        # Only consecutive edits of the same component while dragging fold together.
        if not (other.merge and other.key == self.key and self.can_merge(other)):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.scene.set_override(*self.key, self.new)

    def undo(self) -> None:
        self.scene.set_override(*self.key, self.old)


@guard_overrides
class SetComponentsCommand(_SceneCommand):
    """Several components at once (a drag in the query–key space moves two; "reset all" clears many)."""

    def __init__(self, controller: "Controller", old: dict, new: dict, text: str, merge_key: Any = None) -> None:
        super().__init__(controller, text)
        self.old, self.new, self.merge_key = old, new, merge_key

    def id(self) -> int:
        return _MERGE_COMPONENT + 1 if self.merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:
        if self.merge_key is None or other.merge_key != self.merge_key or set(other.new) != set(self.new):
            return False
        if not self.can_merge(other):
            return False
        self.new = other.new
        return True

    def redo(self) -> None:
        self.scene.set_overrides(self.new)

    def undo(self) -> None:
        self.scene.set_overrides(self.old)


class Controller(QObject):
    """Owns the scene and its ``QUndoStack``; re-emits scene changes as Qt signals."""

    scene_changed = Signal(object)  # frozenset of what changed: sentences, settings, vectors, head
    focus_changed = Signal(int)
    message = Signal(str)  # a short sentence for the status bar (refused input, saved file, …)
    path_changed = Signal(str)
    # (the stack edits went to, the stack they go to now): a lesson gives its edits a history of their own
    history_changed = Signal(object, object)

    def __init__(self, scene: Scene | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.scene = scene or Scene()
        self.undo_stack = self._new_stack()
        self._kept_stack: QUndoStack | None = None  # the learner's own history while a separate one runs
        self.path: str | None = None
        self.merge_serial = 0  # edits merge only within one serial; end_merge() starts a new one
        self._derived_state: tuple | None = None
        self._derived: dict[str, Any] = {}
        self.scene.changed.connect(self._on_scene_changed)

    # -- reading ------------------------------------------------------------------------------------
    def result(self) -> SceneResult:
        return self.scene.result()

    def derived(self, name: str, make: Callable[[], Any]) -> Any:
        """``make()``, computed once per state of the scene however many views ask (an edit repaints several).

        Kept while the result, the focus and the settings are the same objects: each change makes new ones.
        What ``make`` returns is shared, so it must not be changed by those who receive it.
        """
        scene = self.scene
        state = (scene.result(), scene.focus, scene.settings)
        last = self._derived_state
        if last is None or state[0] is not last[0] or state[1] != last[1] or state[2] is not last[2]:
            self._derived_state, self._derived = state, {}
        if name not in self._derived:
            self._derived[name] = make()
        return self._derived[name]

    # -- histories ----------------------------------------------------------------------------------
    def _new_stack(self) -> QUndoStack:
        stack = QUndoStack(self)
        stack.setUndoLimit(UNDO_LIMIT)
        return stack

    @property
    def separate_history(self) -> bool:
        """Whether edits go to a history of their own (a lesson) while the learner's is kept aside."""
        return self._kept_stack is not None

    def begin_separate_history(self) -> QUndoStack:
        """From now on edits go to a new, empty history; the current one is kept aside untouched.

        A lesson replaces the learner's scene with its own: its edits must not be undone into the learner's
        scene, nor the learner's into the lesson's — and when the lesson ends, the learner's Undo goes on
        where it was (the scene is given back exactly, so every kept command still applies).
        """
        if self._kept_stack is not None:
            raise RuntimeError("a separate history is already running")
        self._kept_stack = self.undo_stack
        self._switch_stack(self._new_stack())
        return self.undo_stack

    def end_separate_history(self) -> None:
        """Drop the separate history; the kept one takes the edits again, with its clean state as it was."""
        kept, self._kept_stack = self._kept_stack, None
        if kept is None:
            return
        dropped = self._switch_stack(kept)
        dropped.clear()
        dropped.deleteLater()  # a QUndoGroup holding it lets go of it then

    def _switch_stack(self, stack: QUndoStack) -> QUndoStack:
        old, self.undo_stack = self.undo_stack, stack
        self.end_merge()
        self.history_changed.emit(old, stack)
        return old

    def _on_scene_changed(self, what: frozenset[str]) -> None:
        if what == {"focus"}:
            self.focus_changed.emit(self.scene.focus)
            return
        self.scene_changed.emit(what)
        if "focus" in what or "sentences" in what or "settings" in what:
            self.focus_changed.emit(self.scene.focus)

    def _refuse(self, exc: Exception) -> bool:
        self.message.emit(str(exc))
        return False

    # -- edits (each one an undo step) ---------------------------------------------------------------
    def set_sentence(self, side: str, text: str) -> bool:
        old = self.scene.sentence(side)
        if text == old:
            return True
        try:
            # Check before pushing: QUndoStack.push keeps a command whose redo() raised, and the Python error
            # left pending inside Qt breaks the next slot (then the next push crashes the process).
            self.scene.sentence_checked(side, text)
        except SceneError as exc:
            return self._refuse(exc)
        self.undo_stack.push(SetSentenceCommand(self, side, old, text, self.scene.overrides))
        return True

    def set_settings(self, merge: bool = False, **changes: Any) -> bool:
        current = self.scene.settings
        old = {name: getattr(current, name) for name in changes}
        if old == changes:
            return True
        try:
            self.scene.settings_checked(**changes)
        except SceneError as exc:
            return self._refuse(exc)
        text = "Change " + ", ".join(name.replace("_", " ") for name in changes)
        self.undo_stack.push(SetSettingsCommand(self, old, dict(changes), text, merge))
        return True

    def set_component(self, side: str, index: int, stage: str, dim: int, value: Any, merge: bool = False) -> bool:
        """Set one q/k/v component; ``value`` may be text typed by the learner (checked here)."""
        from attnstudio.scene import parse_component

        key = (side, index, stage, dim)
        old = self.scene.override(*key)
        try:
            new = None if value is None else parse_component(value)
            self.scene.check_override_target(*key)
        except SceneError as exc:
            return self._refuse(exc)
        if new == old:
            return True
        word = self.scene.tokens(side).words[index].token.surface
        name = self.scene.model.dimension_names[dim]
        text = f"Reset {stage}[{name}] of '{word}'" if new is None else f"Edit {stage}[{name}] of '{word}'"
        self.undo_stack.push(SetComponentCommand(self, key, old, new, text, merge))
        return True

    def set_components(self, values: dict, text: str, merge_key: Any = None) -> bool:
        """Set several components at once: ``values`` maps (side, index, stage, dim) to a number or None."""
        from attnstudio.scene import parse_component

        try:
            new = {key: (None if v is None else parse_component(v)) for key, v in values.items()}
            for key in new:
                self.scene.check_override_target(*key)
        except SceneError as exc:
            return self._refuse(exc)
        old = {key: self.scene.override(*key) for key in new}
        if old == new:
            return True
        self.undo_stack.push(SetComponentsCommand(self, old, new, text, merge_key))
        return True

    def reset_component(self, side: str, index: int, stage: str, dim: int) -> bool:
        return self.set_component(side, index, stage, dim, None)

    def reset_overrides(self) -> bool:
        keys = list(self.scene.overrides)
        if not keys:
            return True
        return self.set_components({key: None for key in keys}, "Reset all edited vectors")

    def end_merge(self) -> None:
        """Close the current drag or typing burst: the next edit starts a new undo step."""
        self.merge_serial += 1

    # -- navigation (not undoable: it changes what is looked at, not the document) ----------------------
    def set_focus(self, index: int) -> None:
        self.scene.set_focus(index)

    def set_head(self, head: int) -> None:
        self.scene.set_head(head)

    # -- files --------------------------------------------------------------------------------------
    def new_scene(self) -> None:
        self.scene.reset()
        self.undo_stack.clear()
        self._set_path(None)

    def open_scene(self, path: str) -> bool:
        try:
            loaded = load_scene_file(path)
        except SceneError as exc:
            return self._refuse(exc)
        self.scene.load_dict(loaded.to_dict())
        self.undo_stack.clear()
        self._set_path(path)
        self.message.emit(f"Opened {os.path.basename(path)}")
        return True

    def save_scene(self, path: str) -> bool:
        try:
            atomic_write_text(path, self.scene.to_json())
        except SaveError as exc:
            return self._refuse(exc)
        self.undo_stack.setClean()
        self._set_path(path)
        self.message.emit(f"Saved {os.path.basename(path)}")
        return True

    def _set_path(self, path: str | None) -> None:
        self.path = path
        self.path_changed.emit(path or "")


