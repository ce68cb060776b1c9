"""Reading a lesson file (TOML) into a :class:`Lesson`, collecting every problem with its line and step.

The reader never stops at the first mistake: a teacher running ``attnstudio lesson check`` sees them all.
Line numbers come from the text itself: the ``[[steps]]`` headers split the file into steps, and inside a
step the first line that sets the key in question (``check``, ``kind = …``) is the one reported.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace
from typing import Any, Callable

from attnstudio.lessons.checks import CHECK_KINDS, NUMERIC_SETTINGS, SETTING_NAMES, Check, PredictionCheck
from attnstudio.lessons.edits import (
    Edit,
    FocusEdit,
    HeadEdit,
    OverrideEdit,
    PredictEdit,
    ResetEdit,
    SettingsEdit,
)
from attnstudio.lessons.errors import Problem
from attnstudio.lessons.model import Lesson, PanelSetup, SceneSetup, Step, Task
from attnstudio.lessons.refs import PANELS, TokenRef
from attnstudio.scene import MODES, VARIANTS
from attnstudio.toml_cache import is_toml_error, load_toml

__all__ = ["LESSON_FORMAT", "LESSON_VERSION", "LineLocator", "parse_lesson_text"]

LESSON_FORMAT = "attnstudio-lesson"
LESSON_VERSION = 1

_TOP_KEYS = ("format", "version", "id", "title", "summary", "order", "scene", "steps")
_STEP_KEYS = ("id", "title", "text", "scene", "task")
_SCENE_KEYS = ("source", "target", "mode", "variant", "temperature", "heads", "head", "causal", "positions",
               "focus", "panels", "edits", "keep")
_PANEL_KEYS = ("show", "highlight", "lock")
_TASK_KEYS = ("prompt", "check", "checks", "hint", "solution", "success")
_EDIT_KEYS = ("settings", "override", "reset", "focus", "head", "predict")
_STAGES = ("q", "k", "v")
_SIDES = ("source", "target")
# The type of every field of every check kind; a trailing "!" marks a required field.
_CHECK_FIELDS: dict[str, dict[str, str]] = {
    "argmax": {"query": "token!", "key": "token!", "head": "head"},
    "weight": {"query": "token!", "key": "token!", "at_least": "fraction", "at_most": "fraction", "head": "head"},
    "entropy": {"query": "token!", "below": "positive", "above": "nonnegative", "head": "head"},
    "output_close": {"query": "token!", "key": "token!", "within": "positive!"},
    "setting": {"name": "setting!", "equals": "any", "at_least": "number", "at_most": "number"},
    "prediction": {"query": "token!", "key": "token!"},
    "unedited": {"token": "token!", "stage": "stage!", "side": "side"},
}
# What each setting accepts, as (test, description).
_SETTING_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "mode": (lambda v: v in MODES, f"one of {', '.join(MODES)}"),
    "variant": (lambda v: v in VARIANTS, f"one of {', '.join(VARIANTS)}"),
    "temperature": (lambda v: _is_number(v) and v > 0, "a number above 0"),
    "heads": (lambda v: _is_int(v) and v >= 1, "a whole number from 1"),
    "causal": (lambda v: isinstance(v, bool), "true or false"),
    "positions": (lambda v: isinstance(v, bool), "true or false"),
    "head": (lambda v: _is_int(v) and v >= 1, "a head number, counted from 1"),
}

_STEPS_HEADER = re.compile(r"^\s*\[\[\s*steps\s*\]\]\s*(#.*)?$")
_TOML_LINE = re.compile(r"line (\d+)")


def _close_matches(word: str, choices) -> list[str]:
    """The likeliest meant choice for a misspelt ``word`` (none or one)."""
    import difflib  # only for a lesson with a mistake: not a module every start loads

    return difflib.get_close_matches(word, choices, n=1)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _kind_of(v: Any) -> str:
    names = {bool: "true/false", int: "a whole number", float: "a number", str: "text", list: "a list", dict: "a table"}
    return next((name for t, name in names.items() if type(v) is t), type(v).__name__)


class LineLocator:
    """Find the line of a key in a lesson's TOML text, step by step (an honest search, not a TOML parser)."""

    def __init__(self, text: str, n_steps: int | None = None) -> None:
        self.lines = text.splitlines()
        self.step_lines = [i + 1 for i, line in enumerate(self.lines) if _STEPS_HEADER.match(line)]
        # With inline steps (steps = [...]) the headers do not match the steps: say nothing rather than lie.
        self.reliable = n_steps is None or len(self.step_lines) == n_steps

    def span(self, step: int | None) -> tuple[int, int] | None:
        """1-based [first, last] lines of step ``step`` (1-based); of the preamble for ``None``."""
        end_of_file = len(self.lines)
        if step is None:
            return 1, (self.step_lines[0] - 1 if self.step_lines else end_of_file)
        if not self.reliable or not 1 <= step <= len(self.step_lines):
            return None
        last = self.step_lines[step] - 1 if step < len(self.step_lines) else end_of_file
        return self.step_lines[step - 1], last

    def find(self, step: int | None, *keys: str | tuple[str, int]) -> int | None:
        """The line of ``keys`` nested in order (each found after the previous); a key may be (name, n) for
        its n-th occurrence. Falls back to the deepest key found, then to the step header."""
        span = self.span(step)
        if span is None:
            return None
        first, last = span
        line = first if step is not None else None
        for key in keys:
            name, occurrence = (key, 1) if isinstance(key, str) else key
            found = self._search(name, occurrence, first, last)
            if found is None:
                break
            line = first = found
        return line

    def _search(self, name: str, occurrence: int, first: int, last: int) -> int | None:
        name = re.escape(name)  # an unknown key is reported by its name, and a quoted TOML key may hold anything
        pattern = re.compile(r"(^\s*\[{1,2}\s*[\w.\"]*(?<![\w-])" + name + r"\"?\s*\]{1,2})|((^|[\s{,])\"?" + name + r"\"?\s*=)")
        seen = 0
        for number in range(first, last + 1):
            if pattern.search(self.lines[number - 1]):
                seen += 1
                if seen == occurrence:
                    return number
        return None


class _Reader:
    """One pass over a parsed TOML document; problems accumulate in ``self.problems``."""

    def __init__(self, file: str, locator: LineLocator) -> None:
        self.file = file
        self.lines = locator
        self.problems: list[Problem] = []

    def problem(self, message: str, step: int | None = None, *keys: str | tuple[str, int], severity: str = "error") -> None:
        self.problems.append(Problem(self.file, message, self.lines.find(step, *keys), step, severity))

    def known_keys(self, table: dict[str, Any], allowed: tuple[str, ...], where: str, step: int | None,
                   *path: str | tuple[str, int]) -> None:
        for key in table:
            if key not in allowed:
                guess = _close_matches(key, allowed)
                hint = f"; did you mean {guess[0]!r}?" if guess else f"; expected one of: {', '.join(allowed)}"
                self.problem(f"{where} has an unknown key {key!r}{hint}", step, *path, key)

    def text(self, table: dict[str, Any], key: str, where: str, step: int | None, *path: str,
             required: bool = False) -> str:
        value = table.get(key)
        if value is None:
            if required:
                self.problem(f"{where} needs {key} = \"…\"", step, *path)
            return ""
        if not isinstance(value, str):
            self.problem(f"{where}: {key} must be text, not {_kind_of(value)}", step, *path, key)
            return ""
        if required and not value.strip():
            self.problem(f"{where}: {key} is empty", step, *path, key)
        return value.strip()

    def table(self, parent: dict[str, Any], key: str, where: str, step: int | None, *path: str) -> dict[str, Any] | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.problem(f"{where}: {key} must be a table ([…] or {{ … }}), not {_kind_of(value)}", step, *path, key)
            return None
        return value

    # -- values -------------------------------------------------------------------------------------
    def value(self, spec: str, raw: Any, label: str, step: int | None, *path: str | tuple[str, int]) -> tuple[bool, Any]:
        """Check ``raw`` against a field type; return (ok, converted value)."""
        kind = spec.rstrip("!")
        if kind == "token":
            try:
                return True, TokenRef.parse(raw)
            except ValueError as exc:
                self.problem(f"{label}: {exc}", step, *path)
                return False, None
        if kind in ("number", "positive", "nonnegative", "fraction"):
            ok = _is_number(raw) and {
                "number": True, "positive": _is_number(raw) and raw > 0,
                "nonnegative": _is_number(raw) and raw >= 0, "fraction": _is_number(raw) and 0 <= raw <= 1,
            }[kind]
            if not ok:
                want = {"number": "a number", "positive": "a number above 0", "nonnegative": "a number from 0",
                        "fraction": "a fraction between 0 and 1 (0.8 means 80%)"}[kind]
                self.problem(f"{label} must be {want}, not {raw!r}", step, *path)
                return False, None
            return True, float(raw)
        if kind == "head":
            if not (_is_int(raw) and raw >= 1):
                self.problem(f"{label} must be a head number counted from 1, not {raw!r}", step, *path)
                return False, None
            return True, raw - 1
        if kind in ("stage", "side"):
            allowed = _STAGES if kind == "stage" else _SIDES
            if raw not in allowed:
                self.problem(f"{label} must be one of {', '.join(allowed)}, not {raw!r}", step, *path)
                return False, None
            return True, raw
        if kind == "setting":
            if raw not in SETTING_NAMES:
                self.problem(f"{label} must be one of {', '.join(SETTING_NAMES)}, not {raw!r}", step, *path)
                return False, None
            return True, raw
        if kind == "dim":
            if isinstance(raw, bool) or not isinstance(raw, (str, int)):
                self.problem(f"{label} must be a dimension name or number, not {raw!r}", step, *path)
                return False, None
            return True, raw
        return True, raw  # "any"

    def setting_value(self, name: str, raw: Any, label: str, step: int | None, *path: str | tuple[str, int]) -> bool:
        test, want = _SETTING_TYPES[name]
        if not test(raw):
            self.problem(f"{label}: {name} must be {want}, not {raw!r}", step, *path)
            return False
        return True

    # -- the parts ----------------------------------------------------------------------------------
    def check(self, raw: Any, step: int, where: str, path: tuple) -> Check | None:
        if not isinstance(raw, dict):
            self.problem(f"{where} must be a table like {{ kind = \"argmax\", … }}, not {_kind_of(raw)}", step, *path)
            return None
        kind = raw.get("kind")
        if kind not in CHECK_KINDS:
            known = ", ".join(CHECK_KINDS)
            shown = "no kind" if kind is None else f"an unknown kind {kind!r}"
            self.problem(f"{where} has {shown}; the kinds are: {known}", step, *path, "kind")
            return None
        fields = _CHECK_FIELDS[kind]
        self.known_keys(raw, ("kind", *fields), f"{where} ({kind})", step, *path)
        args: dict[str, Any] = {}
        ok = True
        for name, spec in fields.items():
            if name not in raw:
                if spec.endswith("!"):
                    self.problem(f"{where} ({kind}) needs {name}", step, *path)
                    ok = False
                continue
            good, value = self.value(spec, raw[name], f"{where} ({kind}): {name}", step, *path, name)
            ok &= good
            args[name] = value
        if not ok:
            return None
        return self._check_bounds(kind, args, where, step, path)

    def _check_bounds(self, kind: str, args: dict[str, Any], where: str, step: int, path: tuple) -> Check | None:
        pairs = {"weight": ("at_least", "at_most"), "entropy": ("above", "below"), "setting": ("at_least", "at_most")}
        if kind in pairs:
            low, high = pairs[kind]
            if kind == "setting":
                name = args["name"]
                if ("equals" in args) == (low in args or high in args):
                    self.problem(f"{where} (setting {name}) needs either equals or at_least/at_most", step, *path)
                    return None
                if "equals" in args and not self.setting_value(name, args["equals"], f"{where} (setting)", step, *path, "equals"):
                    return None
                if "equals" not in args and name not in NUMERIC_SETTINGS:
                    self.problem(f"{where}: {name} is not a number; compare it with equals", step, *path)
                    return None
            elif low not in args and high not in args:
                self.problem(f"{where} ({kind}) needs {low} or {high} (or both)", step, *path)
                return None
            if low in args and high in args and args[low] > args[high]:
                self.problem(f"{where} ({kind}): {low} {args[low]:g} is above {high} {args[high]:g}; "
                             "nothing can pass", step, *path, low)
                return None
        return CHECK_KINDS[kind](**args)

    def edit(self, raw: Any, label: str, step: int | None, path: tuple) -> Edit | None:
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in _EDIT_KEYS:
            self.problem(f"{label} must be a table with exactly one of: {', '.join(_EDIT_KEYS)} "
                         f"(e.g. {{ settings = {{ variant = \"scaled\" }} }}), not {raw!r}", step, *path)
            return None
        kind, body = next(iter(raw.items()))
        where = f"{label} ({kind})"
        if kind in ("focus", "predict"):
            ok, ref = self.value("token", body, where, step, *path, kind)
            return (FocusEdit(ref) if kind == "focus" else PredictEdit(ref)) if ok else None
        if kind == "head":
            ok, head = self.value("head", body, where, step, *path, kind)
            return HeadEdit(head) if ok else None
        if not isinstance(body, dict):
            self.problem(f"{where} must be a table, not {_kind_of(body)}", step, *path, kind)
            return None
        if kind == "settings":
            return self._settings_edit(body, where, step, path)
        fields = {"token": "token!", "stage": "stage!", "dim": "dim" + ("!" if kind == "override" else ""),
                  "side": "side"}
        if kind == "override":
            fields["value"] = "number!"
        self.known_keys(body, tuple(fields), where, step, *path, kind)
        args: dict[str, Any] = {}
        ok = True
        for name, spec in fields.items():
            if name not in body:
                if spec.endswith("!"):
                    self.problem(f"{where} needs {name}", step, *path, kind)
                    ok = False
                continue
            good, value = self.value(spec, body[name], f"{where}: {name}", step, *path, kind, name)
            ok &= good
            args[name] = value
        if not ok:
            return None
        return OverrideEdit(**args) if kind == "override" else ResetEdit(**args)

    def _settings_edit(self, body: dict[str, Any], where: str, step: int | None, path: tuple) -> Edit | None:
        allowed = tuple(name for name in SETTING_NAMES if name != "head")
        self.known_keys(body, allowed, where, step, *path, "settings")
        if not body:
            self.problem(f"{where} changes nothing", step, *path, "settings")
            return None
        good = [self.setting_value(n, v, where, step, *path, n) for n, v in body.items() if n in allowed]
        if not all(good) or len(good) != len(body):
            return None
        return SettingsEdit(tuple(body.items()))

    def edits(self, raw: Any, label: str, step: int | None, path: tuple) -> tuple[Edit, ...] | None:
        if not isinstance(raw, list):
            self.problem(f"{label} must be a list of edits ([[…]] tables or [ {{ … }}, … ])", step, *path)
            return None
        out = []
        for n, item in enumerate(raw, 1):
            edit = self.edit(item, f"{label} edit {n}", step, path[:-1] + ((path[-1], 1),))
            if edit is not None:
                out.append(edit)
        return tuple(out) if len(out) == len(raw) else None

    def scene(self, raw: dict[str, Any], step: int | None) -> SceneSetup:
        where = "the lesson's [scene]" if step is None else "[steps.scene]"
        self.known_keys(raw, _SCENE_KEYS, where, step, "scene")
        settings = []
        for name in ("mode", "variant", "temperature", "heads", "causal", "positions"):
            if name in raw and self.setting_value(name, raw[name], where, step, "scene", name):
                settings.append((name, raw[name]))
        head = None
        if "head" in raw:
            ok, head = self.value("head", raw["head"], f"{where}: head", step, "scene", "head")
        focus = None
        if "focus" in raw:
            ok, focus = self.value("token", raw["focus"], f"{where}: focus", step, "scene", "focus")
        sentences = {side: self.text(raw, side, where, step, "scene") or None for side in _SIDES}
        keep = raw.get("keep", False)
        if not isinstance(keep, bool):
            self.problem(f"{where}: keep must be true or false, not {keep!r}", step, "scene", "keep")
            keep = False
        edits = self.edits(raw["edits"], f"{where} edits", step, ("scene", "edits")) if "edits" in raw else ()
        panels_raw = self.table(raw, "panels", where, step, "scene")
        panels = self.panels(panels_raw, where, step) if panels_raw is not None else PanelSetup()
        return SceneSetup(source=sentences["source"], target=sentences["target"], settings=tuple(settings),
                          head=head, focus=focus, edits=edits or (), keep=keep, panels=panels,
                          has_panels=panels_raw is not None)

    def panels(self, raw: dict[str, Any], where: str, step: int | None) -> PanelSetup:
        self.known_keys(raw, _PANEL_KEYS, f"{where} panels", step, "panels")
        lists: dict[str, tuple[str, ...] | None] = {}
        for key in _PANEL_KEYS:
            value = raw.get(key)
            if value is None:
                lists[key] = None
                continue
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                self.problem(f"{where} panels: {key} must be a list of panel names", step, "panels", key)
                lists[key] = None
                continue
            for name in value:
                if name not in PANELS:
                    guess = _close_matches(name, PANELS)
                    hint = f"did you mean {guess[0]!r}?" if guess else f"the panels are: {', '.join(PANELS)}"
                    self.problem(f"{where} panels: unknown panel {name!r}; {hint}", step, "panels", key)
            lists[key] = tuple(v for v in value if v in PANELS)
        return PanelSetup(shown=lists["show"], highlighted=lists["highlight"] or (), locked=lists["lock"] or ())

    def task(self, raw: dict[str, Any], step: int) -> Task | None:
        self.known_keys(raw, _TASK_KEYS, "[steps.task]", step, "task")
        prompt = self.text(raw, "prompt", "[steps.task]", step, "task")
        hint = self.text(raw, "hint", "[steps.task]", step, "task")
        success = self.text(raw, "success", "[steps.task]", step, "task")
        if ("check" in raw) == ("checks" in raw):
            self.problem("[steps.task] needs either check = { … } or a list checks = [ … ] (one of them)", step, "task")
            return None
        if "check" in raw:
            checks = [self.check(raw["check"], step, "the check", ("task", ("check", 1)))]
        elif not isinstance(raw["checks"], list) or not raw["checks"]:
            self.problem("[steps.task] checks must be a non-empty list of checks", step, "task", "checks")
            return None
        else:
            checks = [self.check(c, step, f"check {n}", ("task", ("checks", 1), ("kind", n)))
                      for n, c in enumerate(raw["checks"], 1)]
        if any(c is None for c in checks):
            return None
        solution = self.edits(raw["solution"], "the solution", step, ("task", "solution")) if "solution" in raw else ()
        if solution is None:
            return None
        prediction = next((c for c in checks if isinstance(c, PredictionCheck)), None)
        if not solution:
            if prediction is None:
                self.problem("[steps.task] needs a solution: the edits \"show me\" applies", step, "task")
                return None
            solution = (PredictEdit(prediction.key),)
        return Task(tuple(checks), tuple(solution), prompt, hint, success)


def parse_lesson_text(text: str, file: str, origin: str = "user", default_id: str | None = None,
                      cached: bool = False) -> tuple[Lesson | None, list[Problem], LineLocator]:
    """Parse a lesson's TOML text. Returns the lesson (``None`` if it has errors), the problems, and a locator.

    ``cached``: read the TOML through a JSON copy in the user's cache folder (``attnstudio.toml_cache``; the
    shipped lessons, read at every start).
    """
    locator = LineLocator(text)
    reader = _Reader(file, locator)
    if not text.strip():
        reader.problem("the file is empty; a lesson needs format, title, summary and [[steps]]")
        return None, reader.problems, locator
    try:
        data = load_toml(text, file, "lessons" if cached else None)
    except RecursionError:  # tomllib recurses once per nested array or inline table
        reader.problems.append(Problem(file, "not a usable lesson file: lists or tables are nested too deeply"))
        return None, reader.problems, locator
    except ValueError as exc:
        if is_toml_error(exc):
            match = _TOML_LINE.search(str(exc))
            reader.problems.append(Problem(file, f"not valid TOML: {exc}", int(match.group(1)) if match else None))
        else:  # an integer of over 4300 digits
            reader.problems.append(Problem(file, f"not a usable lesson file: {exc}"))
        return None, reader.problems, locator
    lesson = _lesson(reader, data, file, origin, default_id)
    errors = [p for p in reader.problems if p.severity == "error"]
    return (None if errors else lesson), reader.problems, reader.lines


def _lesson(reader: _Reader, data: dict[str, Any], file: str, origin: str, default_id: str | None) -> Lesson | None:
    if data.get("format") != LESSON_FORMAT:
        reader.problem(f"not a lesson file: it needs format = \"{LESSON_FORMAT}\" (found {data.get('format')!r})",
                       None, "format")
        return None
    version = data.get("version")
    if not _is_int(version) or version < 1:
        reader.problem(f"version must be a whole number from 1 (this AttnStudio reads version {LESSON_VERSION})", None, "version")
    elif version > LESSON_VERSION:
        reader.problem(f"this lesson needs a newer AttnStudio (lesson format version {version}; "
                       f"this one reads up to {LESSON_VERSION})", None, "version")
        return None
    reader.known_keys(data, _TOP_KEYS, "the lesson", None)
    title = reader.text(data, "title", "the lesson", None, required=True)
    summary = reader.text(data, "summary", "the lesson", None, required=True)
    lesson_id = data.get("id", default_id or "lesson")
    if not isinstance(lesson_id, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", lesson_id):
        reader.problem(f"id must be letters, digits, '-', '_' or '.', not {lesson_id!r}", None, "id")
        lesson_id = default_id or "lesson"
    order = data.get("order", 1000)
    if not _is_int(order):
        reader.problem(f"order must be a whole number, not {order!r}", None, "order")
        order = 1000
    base_raw = reader.table(data, "scene", "the lesson", None)
    base = reader.scene(base_raw, None) if base_raw is not None else SceneSetup()
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        reader.problem("the lesson has no steps; add at least one [[steps]] with text = \"…\"", None, "steps")
        return None
    reader.lines = LineLocator("\n".join(reader.lines.lines), len(raw_steps))
    steps = []
    seen_ids: dict[str, int] = {}
    for number, raw in enumerate(raw_steps, 1):
        step = _step(reader, raw, number, base)
        if step is None:
            continue
        if step.id in seen_ids:
            reader.problem(f"step id {step.id!r} is already used by step {seen_ids[step.id]}", number, "id")
        seen_ids[step.id] = number
        steps.append(step)
    return Lesson(lesson_id, title, summary, tuple(steps), file, origin, order, base)


def _step(reader: _Reader, raw: Any, number: int, base: SceneSetup) -> Step | None:
    if not isinstance(raw, dict):
        reader.problem(f"a step must be a table ([[steps]]), not {_kind_of(raw)}", number)
        return None
    reader.known_keys(raw, _STEP_KEYS, "the step", number)
    step_id = raw.get("id", f"step-{number}")
    if not isinstance(step_id, str) or not step_id.strip():
        reader.problem(f"step id must be text, not {step_id!r}", number, "id")
        step_id = f"step-{number}"
    title = reader.text(raw, "title", "the step", number)
    text = reader.text(raw, "text", "the step", number, required=True)
    scene_raw = reader.table(raw, "scene", "the step", number)
    # No [steps.scene] at all means "carry on with the scene as it is": a step of reading after a task keeps
    # what the learner just did. A set-up with keep = true changes only what it names; only panels fall back
    # to the lesson's. Any other set-up starts from the lesson's [scene] on the seed example.
    setup = reader.scene(scene_raw, number) if scene_raw is not None else SceneSetup(keep=True)
    if setup.keep:
        setup = replace(setup, panels=setup.panels if setup.has_panels else base.panels,
                        has_panels=setup.has_panels or base.has_panels)
    else:
        setup = setup.over(base)
    task_raw = reader.table(raw, "task", "the step", number)
    task = reader.task(task_raw, number) if task_raw is not None else None
    return Step(step_id.strip(), number, title, text, setup, task, reader.lines.find(number))
