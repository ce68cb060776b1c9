"""The checks a task can ask for, each evaluated live against the scene: did the learner get there yet?

Every check is a small frozen dataclass with ``evaluate(scene, prediction) -> CheckResult``. ``prediction``
is the key index the learner clicked for a prediction task (``None`` until they click); other checks ignore it.
A check never raises for something the learner did (a retyped sentence, fewer heads): it fails and says why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from attnstudio.lessons.refs import STAGE_NAMES, TokenNotFound, TokenRef, quote, sentence_label

if TYPE_CHECKING:  # the scene is only named in annotations here
    from attnstudio.scene import Scene

__all__ = [
    "CHECK_KINDS",
    "ArgmaxCheck",
    "Check",
    "CheckResult",
    "EntropyCheck",
    "OutputCloseCheck",
    "PredictionCheck",
    "SETTING_NAMES",
    "SettingCheck",
    "UneditedCheck",
    "WeightCheck",
    "percent",
    "show_value",
]

# The names a lesson uses for settings, and the Settings field each one is ("head" is the head shown).
SETTING_NAMES = {
    "mode": "mode",
    "variant": "variant",
    "temperature": "temperature",
    "heads": "num_heads",
    "causal": "causal",
    "positions": "positions",
    "head": None,
}
NUMERIC_SETTINGS = ("temperature", "heads", "head")
TIE_TOLERANCE = 1e-9  # weights closer than this are a tie: argmax alone would pick the first, which teaches nothing


@dataclass(frozen=True)
class CheckResult:
    """Whether a task is met right now, and one or two sentences for the learner saying where they stand."""

    passed: bool
    detail: str


class _Unavailable(Exception):
    """The scene cannot answer this check right now (a word is gone, a head does not exist)."""


def percent(x: float) -> str:
    text = f"{100 * x:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _surfaces(words) -> list[str]:
    return [w.token.surface for w in words]


def _query_index(scene: Scene, query: TokenRef) -> int:
    words = _surfaces(scene.result().query_words)
    try:
        return query.resolve(words, sentence_label(scene, scene.query_side()))
    except TokenNotFound as exc:
        raise _Unavailable(str(exc)) from None


def _key_index(scene: Scene, key: TokenRef) -> int:
    words = _surfaces(scene.result().key_words)
    try:
        return key.resolve(words, sentence_label(scene, "source"))
    except TokenNotFound as exc:
        raise _Unavailable(str(exc)) from None


def _row(scene: Scene, query: TokenRef, head: int | None) -> np.ndarray:
    """The weight row of ``query`` in ``head`` (0-based; None = the head the scene shows)."""
    result = scene.result()
    h = result.head if head is None else head
    if h >= result.num_heads:
        raise _Unavailable(f"this task looks at head {h + 1}, but the scene has {result.num_heads} "
                           f"head{'s' if result.num_heads > 1 else ''}; set the number of heads back")
    return result.head_weights[h][_query_index(scene, query)]  # (n_k,)


def _word(scene: Scene, side_words: str, index: int) -> str:
    words = scene.result().query_words if side_words == "query" else scene.result().key_words
    return quote(words[index].token.surface)


class Check:
    """Base of every check kind (see the subclasses)."""

    kind: ClassVar[str] = ""

    def evaluate(self, scene: Scene, prediction: int | None = None) -> CheckResult:
        try:
            return self._evaluate(scene, prediction)
        except _Unavailable as exc:
            return CheckResult(False, str(exc))

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        raise NotImplementedError

    def token_refs(self) -> list[tuple[str, TokenRef]]:
        """Every token the check names, with its role: "query", "key" or a (side-dependent) stage."""
        refs = []
        if getattr(self, "query", None) is not None:
            refs.append(("query", self.query))
        if getattr(self, "key", None) is not None:
            refs.append(("key", self.key))
        return refs

    def resolve_tokens(self, scene: Scene) -> None:
        """Raise ``TokenNotFound`` if a token this check names is not in the scene."""
        for role, ref in self.token_refs():
            side = scene.query_side() if role == "query" else "source"
            ref.resolve(_surfaces(scene.tokens(side).words), sentence_label(scene, side))

    def _head_note(self) -> str:
        head = getattr(self, "head", None)
        return "" if head is None else f" in head {head + 1}"


@dataclass(frozen=True)
class ArgmaxCheck(Check):
    """The query looks at ``key`` more than at any other word."""

    kind: ClassVar[str] = "argmax"
    query: TokenRef
    key: TokenRef
    head: int | None = None

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        row = _row(scene, self.query, self.head)
        target = _key_index(scene, self.key)
        others = np.delete(row, target)
        q, k = _word(scene, "query", _query_index(scene, self.query)), _word(scene, "key", target)
        # A tie for first place does not count: equal weights (the uniform variant) must not pass for free.
        if others.size == 0 or row[target] > others.max() + TIE_TOLERANCE:
            return CheckResult(True, f"{q} looks most at {k}{self._head_note()} ({percent(row[target])} of its attention).")
        rivals = [i for i in range(row.shape[0]) if i != target and row[i] >= row[target] - TIE_TOLERANCE]
        if len(rivals) == row.shape[0] - 1 and row[target] > 0:
            return CheckResult(False, f"{q} spreads its attention evenly{self._head_note()}: every word gets "
                                      f"{percent(row[target])}, so no word stands out.")
        best = int(np.argmax(row))
        if best == target:  # tied with a rival
            best = rivals[0]
            return CheckResult(False, f"{q} splits its attention{self._head_note()}: {k} and {_word(scene, 'key', best)} "
                                      f"get {percent(row[target])} each.")
        return CheckResult(False, f"{q} looks most at {_word(scene, 'key', best)}{self._head_note()} "
                                  f"({percent(row[best])}); {k} gets {percent(row[target])}.")


@dataclass(frozen=True)
class WeightCheck(Check):
    """The weight from the query to ``key`` is at least and/or at most a value (a fraction, 0.8 = 80%)."""

    kind: ClassVar[str] = "weight"
    query: TokenRef
    key: TokenRef
    at_least: float | None = None
    at_most: float | None = None
    head: int | None = None

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        row = _row(scene, self.query, self.head)
        target = _key_index(scene, self.key)
        w = float(row[target])
        ok = (self.at_least is None or w >= self.at_least) and (self.at_most is None or w <= self.at_most)
        goal = _bounds_text(self.at_least, self.at_most, percent)
        q = _word(scene, "query", _query_index(scene, self.query))
        return CheckResult(ok, f"{q} gives {_word(scene, 'key', target)} {percent(w)}{self._head_note()} (goal: {goal}).")


@dataclass(frozen=True)
class EntropyCheck(Check):
    """The entropy of the query's row (in nats) is below and/or above a value: 0 is one-hot, ln n is even."""

    kind: ClassVar[str] = "entropy"
    query: TokenRef
    below: float | None = None
    above: float | None = None
    head: int | None = None

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        row = _row(scene, self.query, self.head)
        p = row[row > 0]
        h = float(-(p * np.log(p)).sum())
        result = scene.result()
        scores = result.head_scores[result.head if self.head is None else self.head][_query_index(scene, self.query)]
        n = int(np.isfinite(scores).sum())  # the keys this query may look at (a causal mask hides some)
        ok = (self.below is None or h < self.below) and (self.above is None or h > self.above)
        goal = _bounds_text(self.above, self.below, lambda x: f"{x:.2f}", strict=True)
        q = _word(scene, "query", _query_index(scene, self.query))
        return CheckResult(ok, f"The spotlight of {q}{self._head_note()} has entropy {h:.2f} (goal: {goal}); "
                               f"0 means all on one word, {math.log(max(n, 1)):.2f} means spread evenly over {n}.")


@dataclass(frozen=True)
class OutputCloseCheck(Check):
    """The output vector of the query is within a distance of the value vector of ``key``."""

    kind: ClassVar[str] = "output_close"
    query: TokenRef
    key: TokenRef
    within: float = 0.1

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        result = scene.result()
        qi, ki = _query_index(scene, self.query), _key_index(scene, self.key)
        distance = float(np.linalg.norm(result.output[qi] - result.v[ki]))
        ok = distance <= self.within
        return CheckResult(ok, f"The output of {_word(scene, 'query', qi)} is {distance:.2f} away from the value of "
                               f"{_word(scene, 'key', ki)} (goal: {self.within:g} or closer).")


@dataclass(frozen=True)
class SettingCheck(Check):
    """A setting equals a value, or (for numbers) is at least / at most one."""

    kind: ClassVar[str] = "setting"
    name: str
    equals: Any = None
    at_least: float | None = None
    at_most: float | None = None

    def current(self, scene: Scene) -> Any:
        if self.name == "head":
            return scene.result().head + 1
        return getattr(scene.settings, SETTING_NAMES[self.name])

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        value = self.current(scene)
        if self.equals is not None:
            ok = (math.isclose(value, self.equals) if isinstance(value, float) and not isinstance(self.equals, bool)
                  and isinstance(self.equals, (int, float)) else value == self.equals)
            goal = show_value(self.equals)
        else:
            ok = (self.at_least is None or value >= self.at_least) and (self.at_most is None or value <= self.at_most)
            goal = _bounds_text(self.at_least, self.at_most, lambda x: f"{x:g}")
        return CheckResult(ok, f"{self.name.capitalize()} is {show_value(value)} (goal: {goal}).")


@dataclass(frozen=True)
class PredictionCheck(Check):
    """The learner clicks the key they think the query will attend to most; it passes when they are right."""

    kind: ClassVar[str] = "prediction"
    query: TokenRef
    key: TokenRef

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        qi, ki = _query_index(scene, self.query), _key_index(scene, self.key)
        q = _word(scene, "query", qi)
        if prediction is None:
            return CheckResult(False, f"Click the word you think {q} will look at most; then the weights appear.")
        row = scene.result().weights[qi]
        if prediction == ki:
            return CheckResult(True, f"Well predicted: {q} gives {_word(scene, 'key', ki)} {percent(row[ki])} of its attention.")
        if not 0 <= prediction < row.shape[0]:
            return CheckResult(False, f"Your choice ({prediction + 1}) is not a word of the sentence any more.")
        return CheckResult(False, f"You picked {_word(scene, 'key', prediction)}, which gets {percent(row[prediction])}; "
                                  f"the spotlight of {q} lands on {_word(scene, 'key', ki)} ({percent(row[ki])}).")


@dataclass(frozen=True)
class UneditedCheck(Check):
    """No hand edit is left on one vector (a word's query, key or value): it is back to the computed values."""

    kind: ClassVar[str] = "unedited"
    token: TokenRef
    stage: str
    side: str | None = None

    def _side(self, scene: Scene) -> str:
        return self.side or scene.side_of(self.stage)

    def token_refs(self) -> list[tuple[str, TokenRef]]:
        return [(self.stage, self.token)]

    def resolve_tokens(self, scene: Scene) -> None:
        side = self._side(scene)
        self.token.resolve(_surfaces(scene.tokens(side).words), sentence_label(scene, side))

    def _evaluate(self, scene: Scene, prediction: int | None) -> CheckResult:
        side = self._side(scene)
        try:
            index = self.token.resolve(_surfaces(scene.tokens(side).words), sentence_label(scene, side))
        except TokenNotFound as exc:
            raise _Unavailable(str(exc)) from None
        # An edit that puts back the computed number (typing the 0 back) counts as undone: the learner cannot
        # see the difference, so the check must not either.
        weight = {"q": scene.model.w_q, "k": scene.model.w_k, "v": scene.model.w_v}[self.stage]
        computed = scene.tokens(side).input[index] @ weight  # (d_model,)
        edited = [k for k, o in scene.overrides.items()
                  if k[0] == side and k[1] == index and k[2] == self.stage and abs(o.value - computed[k[3]]) > 1e-9]
        what = f"The {STAGE_NAMES[self.stage]} of {quote(scene.tokens(side).words[index].token.surface)}"
        if not edited:
            return CheckResult(True, f"{what} is back to its computed values.")
        return CheckResult(False, f"{what} still has {len(edited)} hand-edited number{'s' if len(edited) > 1 else ''}.")


CHECK_KINDS: dict[str, type[Check]] = {
    cls.kind: cls
    for cls in (ArgmaxCheck, WeightCheck, EntropyCheck, OutputCloseCheck, SettingCheck, PredictionCheck, UneditedCheck)
}


def show_value(value: Any) -> str:
    """A setting value as a sentence says it: on/off, 0.5, scaled."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _bounds_text(low: float | None, high: float | None, fmt, strict: bool = False) -> str:
    above, below = ("above", "below") if strict else ("at least", "at most")
    if low is not None and high is not None:
        return f"between {fmt(low)} and {fmt(high)}"
    if low is not None:
        return f"{above} {fmt(low)}"
    return f"{below} {fmt(high)}"
