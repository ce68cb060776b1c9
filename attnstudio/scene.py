"""The scene: the document a learner edits — sentences, settings, hand edits — and what they compute.

Qt-free and observable: every change emits ``scene.changed(what)`` where ``what`` is a set of names among
``"sentences"``, ``"settings"``, ``"vectors"``, ``"focus"``, ``"head"``. The result is recomputed lazily
through the engine the first time someone asks for it after a change.

Which tokens ask and which are looked at:
* translation (cross) attention — queries are the *target* tokens (English), keys and values the
  *source* tokens (French): each English word looks for what it translates;
* self-attention — the source sentence attends to itself.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Iterable

import numpy as np

from attnstudio.engine import attention as att
from attnstudio.engine.lexicon import LexiconError, WordInfo
from attnstudio.engine.tokens import MAX_TOKENS, tokenize
from attnstudio.engine.toy_model import TokenVectors, ToyModel
from attnstudio.events import Event

__all__ = [
    "MAX_COMPONENT",
    "SCENE_FORMAT",
    "SCENE_VERSION",
    "Scene",
    "SceneError",
    "SceneResult",
    "Settings",
    "parse_component",
]

SCENE_FORMAT = "attnstudio-scene"
SCENE_VERSION = 1
MAX_COMPONENT = 1000.0  # a hand-typed vector component beyond this is refused: it only saturates softmax
MAX_TEMPERATURE = 1000.0
MIN_TEMPERATURE = 0.001
MODES = ("translation", "self")
VARIANTS = ("uniform", "dot", "scaled")
STAGES = ("q", "k", "v")
SIDES = ("source", "target")
SEED_SOURCE = "Le chat noir dort sur le canapé"
SEED_TARGET = "The black cat sleeps on the couch"


class SceneError(ValueError):
    """A scene edit or file that cannot be accepted; the message says why, and nothing was changed."""


@dataclass(frozen=True)
class Settings:
    mode: str = "translation"  # "translation" (target attends to source) or "self"
    variant: str = "scaled"  # "uniform" (equal weighting), "dot", "scaled" (÷√d_head)
    temperature: float = 1.0  # scores are divided by it before softmax
    num_heads: int = 1
    causal: bool = False  # a query may not look at later keys (self-attention of a decoder)
    positions: bool = True  # add the sinusoidal position code to the embeddings
    source_language: str = "fr"
    target_language: str = "en"

    def validated(self, d_model: int, languages: Iterable[str]) -> "Settings":
        if self.mode not in MODES:
            raise SceneError(f"mode must be one of {MODES}, not {self.mode!r}")
        if self.variant not in VARIANTS:
            raise SceneError(f"variant must be one of {VARIANTS}, not {self.variant!r}")
        if isinstance(self.temperature, bool) or not isinstance(self.temperature, (int, float)):
            raise SceneError(f"temperature must be a number, not {self.temperature!r}")
        try:
            t = float(self.temperature)
        except OverflowError:  # a whole number too large for a float (a hand-edited file)
            t = math.inf
        if not math.isfinite(t) or not MIN_TEMPERATURE <= t <= MAX_TEMPERATURE:
            raise SceneError(f"temperature must be between {MIN_TEMPERATURE} and {MAX_TEMPERATURE:g}, not {self.temperature!r}")
        if isinstance(self.num_heads, bool) or not isinstance(self.num_heads, int) or self.num_heads < 1:
            raise SceneError(f"heads must be a positive whole number, not {self.num_heads!r}")
        if d_model % self.num_heads:
            ok = [h for h in range(1, 9) if d_model % h == 0]
            raise SceneError(f"{self.num_heads} heads do not divide the model width {d_model}; choose one of {ok}")
        for name in ("causal", "positions"):
            if not isinstance(getattr(self, name), bool):
                raise SceneError(f"{name} must be true or false, not {getattr(self, name)!r}")
        langs = set(languages)
        for name in ("source_language", "target_language"):
            if not isinstance(getattr(self, name), str) or getattr(self, name) not in langs:
                raise SceneError(f"{name} {getattr(self, name)!r} has no lexicon; known: {sorted(langs)}")
        return replace(self, temperature=t)


def parse_component(text: str | float) -> float:
    """A vector component typed by a learner: a finite number within ±MAX_COMPONENT, or a clear error.

    Accepts a decimal comma (``1,5``) as typed in a French locale.
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        try:
            value = float(text)
        except OverflowError:  # a whole number beyond any float, from a hand-edited file
            value = math.inf
    else:
        cleaned = str(text).strip().replace("\u2212", "-")
        if cleaned.count(",") == 1 and "." not in cleaned:
            cleaned = cleaned.replace(",", ".")
        if not cleaned:
            raise SceneError("type a number")
        try:
            value = float(cleaned)
        except ValueError:
            raise SceneError(f"{str(text).strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise SceneError(f"{text!r} is not a finite number; use a value between -{MAX_COMPONENT:g} and {MAX_COMPONENT:g}")
    if abs(value) > MAX_COMPONENT:
        raise SceneError(f"{value:g} is too large; use a value between -{MAX_COMPONENT:g} and {MAX_COMPONENT:g}")
    if value != 0.0 and abs(value) < 1e-12:
        value = 0.0  # subnormal dust: it can only confuse the display
    return value


def _check_unicode(text: str, what: str) -> None:
    """Refuse text that is not valid Unicode (a lone surrogate from a hand-edited ``\\ud800``): it could be
    neither hashed into a vector nor saved again as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise SceneError(f"{what} holds an invalid character (U+{ord(text[exc.start]):04X}) at position {exc.start + 1}") from None


@dataclass(frozen=True)
class SceneResult:
    """Everything the views show, for the current scene. Arrays are float64."""

    query_words: list[WordInfo]
    key_words: list[WordInfo]
    query_vectors: TokenVectors
    key_vectors: TokenVectors
    q: np.ndarray  # (n_q, d_model) after the learner's overrides
    k: np.ndarray  # (n_k, d_model)
    v: np.ndarray  # (n_k, d_model)
    scale: float  # the factor applied to q·k (1 for dot, 1/√d_head for scaled)
    head: int  # the head whose weights `weights` shows
    head_scores: np.ndarray  # (h, n_q, n_k), -inf where masked
    head_weights: np.ndarray  # (h, n_q, n_k)
    output: np.ndarray  # (n_q, d_model) = merged heads @ W_O
    uniform_output: np.ndarray  # (n_q, d_model): the equal-weighting context vector, for comparison
    mask: np.ndarray | None  # (n_q, n_k) True = may attend

    @property
    def weights(self) -> np.ndarray:
        return self.head_weights[self.head]  # (n_q, n_k)

    @property
    def scores(self) -> np.ndarray:
        return self.head_scores[self.head]

    @property
    def num_heads(self) -> int:
        return self.head_weights.shape[0]

    def row_entropy(self) -> np.ndarray:
        return att.entropy(self.weights)

    def row_argmax(self) -> np.ndarray:
        return att.argmax(self.weights)


@dataclass(frozen=True)
class Override:
    value: float
    token: str  # the look-up key of the token when it was edited, so a retyped sentence drops stale edits


OverrideKey = tuple[str, int, str, int]  # (side, token index, stage q/k/v, dimension)


@dataclass
class _State:
    source: str = SEED_SOURCE
    target: str = SEED_TARGET
    settings: Settings = field(default_factory=Settings)
    overrides: dict[OverrideKey, Override] = field(default_factory=dict)
    focus: int = 1  # index of the focused query token ("black" in the seed pair)
    head: int = 0


class Scene:
    """The learner's document. Edit it through its methods; read it through ``result()``."""

    def __init__(self, model: ToyModel | None = None) -> None:
        self.model = model or ToyModel()
        self.changed = Event()  # changed(what: frozenset[str])
        self._state = _State()
        self._result: SceneResult | None = None
        self._encoded: dict[tuple[str, bool], TokenVectors] = {}
        self._keys_values: tuple[tuple, tuple[np.ndarray, ...]] | None = None  # see _keys_and_values

    # -- reading ------------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self._state.source

    @property
    def target(self) -> str:
        return self._state.target

    @property
    def settings(self) -> Settings:
        return self._state.settings

    @property
    def focus(self) -> int:
        return self._state.focus

    @property
    def head(self) -> int:
        return self._state.head

    @property
    def overrides(self) -> dict[OverrideKey, Override]:
        return dict(self._state.overrides)

    @property
    def d_model(self) -> int:
        return self.model.d_model

    def query_side(self) -> str:
        return "target" if self.settings.mode == "translation" else "source"

    def side_of(self, stage: str) -> str:
        return self.query_side() if stage == "q" else "source"

    def sentence(self, side: str) -> str:
        return self._state.target if side == "target" else self._state.source

    def language(self, side: str) -> str:
        return self.settings.target_language if side == "target" else self.settings.source_language

    def tokens(self, side: str) -> TokenVectors:
        return self._encode(side)

    def override(self, side: str, index: int, stage: str, dim: int) -> float | None:
        entry = self._state.overrides.get((side, index, stage, dim))
        return None if entry is None else entry.value

    # -- computing ----------------------------------------------------------------------------------
    def _encode(self, side: str) -> TokenVectors:
        key = (side, self.settings.positions)
        if key not in self._encoded:
            self._encoded[key] = self.model.encode(self.sentence(side), self.language(side), self.settings.positions)
        return self._encoded[key]

    def _projected(self, side: str, stage: str, x: np.ndarray) -> np.ndarray:
        weight = {"q": self.model.w_q, "k": self.model.w_k, "v": self.model.w_v}[stage]
        out = x @ weight  # (n, d_model)
        for (o_side, index, o_stage, dim), entry in self._state.overrides.items():
            if o_side == side and o_stage == stage and index < out.shape[0]:
                out[index, dim] = entry.value
        return out

    def result(self) -> SceneResult:
        if self._result is None:
            self._result = self._compute()
        return self._result

    def _compute(self) -> SceneResult:
        s = self.settings
        q_side = self.query_side()
        qv, kv = self._encode(q_side), self._encode("source")
        q = self._projected(q_side, "q", qv.input)
        n_q, n_k, h = q.shape[0], kv.input.shape[0], s.num_heads
        mask = att.causal_mask(n_q, n_k) if s.causal else None
        k, v, uniform = self._keys_and_values(kv, n_q, mask)
        d_head = self.d_model // h
        qh, kh, vh = att.split_heads(q, h), att.split_heads(k, h), att.split_heads(v, h)  # (h, n, d_head)
        if s.variant == "uniform":
            scale = 0.0
            heads = att.uniform_attention(np.broadcast_to(vh, (h, n_k, d_head)), mask=mask, n_q=n_q)
        else:
            scale = 1.0 if s.variant == "dot" else 1.0 / math.sqrt(d_head)
            heads = att.scaled_dot_product_attention(qh, kh, vh, mask=mask, scale=scale, temperature=s.temperature)
        output = att.merge_heads(heads.output) @ self.model.w_o
        return SceneResult(
            query_words=qv.words, key_words=kv.words, query_vectors=qv, key_vectors=kv,
            q=q, k=k, v=v, scale=scale, head=min(self._state.head, h - 1),
            head_scores=heads.scores, head_weights=heads.weights, output=output,
            uniform_output=uniform, mask=mask,
        )

    def _keys_and_values(self, kv: TokenVectors, n_q: int, mask: np.ndarray | None) -> tuple[np.ndarray, ...]:
        """k, v and the equal-weighting output ``(n_q, d_model)`` of the source side.

        Kept while the key words, their k/v edits, the number of queries and the mask are the same: an edit of
        a query (the usual one: dragging a q component) leaves them, and they were a third of each recompute.
        The arrays are shared by the results that follow, so they are made read-only.
        """
        edits = frozenset((key, entry.value, math.copysign(1.0, entry.value))  # (-0.0 is kept as typed)
                          for key, entry in self._state.overrides.items() if key[0] == "source" and key[2] != "q")
        state = (kv, self.model, self.model.lexicon, n_q, mask is not None, edits)
        kept = self._keys_values
        if kept is not None and all(a is b for a, b in zip(kept[0][:3], state[:3])) and kept[0][3:] == state[3:]:
            return kept[1]
        k = self._projected("source", "k", kv.input)
        v = self._projected("source", "v", kv.input)
        uniform = att.uniform_attention(v, mask=mask, n_q=n_q).output @ self.model.w_o
        for array in (k, v, uniform):
            array.flags.writeable = False
        self._keys_values = state, (k, v, uniform)
        return k, v, uniform

    def _emit(self, *what: str) -> None:
        self._result = None
        self.changed.emit(frozenset(what))

    # -- editing ------------------------------------------------------------------------------------
    def sentence_checked(self, side: str, text: Any) -> list:
        """The tokens ``text`` would give on ``side``, or ``SceneError`` (changes nothing)."""
        if side not in SIDES:
            raise SceneError(f"side must be 'source' or 'target', not {side!r}")
        if not isinstance(text, str):
            raise SceneError("a sentence must be text")
        _check_unicode(text, f"the {side} sentence")
        try:
            return tokenize(text)
        except ValueError as exc:
            raise SceneError(str(exc)) from None

    def set_sentence(self, side: str, text: str) -> None:
        tokens = self.sentence_checked(side, text)
        if text == self.sentence(side):
            return
        setattr(self._state, side, text)
        self._encoded = {k: v for k, v in self._encoded.items() if k[0] != side}
        keys = [t.key for t in tokens]
        self._state.overrides = {
            k: o for k, o in self._state.overrides.items()
            if k[0] != side or (k[1] < len(keys) and keys[k[1]] == o.token)
        }
        self._clamp_focus()
        self._emit("sentences", "vectors")

    def set_settings(self, **changes: Any) -> None:
        new = self.settings_checked(**changes)
        if new == self.settings:
            return
        old = self.settings
        self._state.settings = new
        if new.positions != old.positions or new.source_language != old.source_language or new.target_language != old.target_language:
            self._encoded = {}
        self._state.head = min(self._state.head, new.num_heads - 1)
        self._clamp_focus()
        self._emit("settings")

    def set_override(self, side: str, index: int, stage: str, dim: int, value: float | None) -> None:
        """Set one q/k/v component by hand (``None`` resets it to the computed value)."""
        self.check_override_target(side, index, stage, dim)
        words = self._encode(side).words
        key = (side, index, stage, dim)
        if value is None:
            if key not in self._state.overrides:
                return
            del self._state.overrides[key]
        else:
            value = parse_component(value)
            self._state.overrides[key] = Override(value, words[index].token.key)
        self._emit("vectors")

    def check_override_target(self, side: str, index: int, stage: str, dim: int) -> None:
        """Raise ``SceneError`` unless (side, index, stage, dim) names a component of this scene."""
        if stage not in STAGES:
            raise SceneError(f"stage must be one of {STAGES}, not {stage!r}")
        if side not in SIDES:
            raise SceneError(f"side must be 'source' or 'target', not {side!r}")
        n = len(self._encode(side).words)
        if not 0 <= index < n:
            raise SceneError(f"there is no token {index} in the {side} sentence ({n} tokens)")
        if not 0 <= dim < self.d_model:
            raise SceneError(f"there is no dimension {dim}; the model has {self.d_model}")

    def set_overrides(self, values: dict[OverrideKey, float | None]) -> None:
        """Set or reset several components in one change (one recompute, one notification)."""
        for key in values:
            self.check_override_target(*key)
        parsed = {key: (None if v is None else parse_component(v)) for key, v in values.items()}
        for key, value in parsed.items():
            if value is None:
                self._state.overrides.pop(key, None)
            else:
                self._state.overrides[key] = Override(value, self._encode(key[0]).words[key[1]].token.key)
        self._emit("vectors")

    def restore_sentence(self, side: str, text: str, overrides: dict[OverrideKey, Override]) -> None:
        """Put back a sentence together with the edits it had (the undo of a retyped sentence)."""
        self.set_sentence(side, text)
        self._state.overrides = {k: o for k, o in self._state.overrides.items() if k[0] != side}
        self._state.overrides.update({k: o for k, o in overrides.items() if k[0] == side})
        self._emit("vectors")

    def settings_checked(self, **changes: Any) -> Settings:
        """The settings these changes would give, validated (raises ``SceneError``; changes nothing)."""
        unknown = set(changes) - set(Settings.__dataclass_fields__)
        if unknown:
            raise SceneError(f"unknown setting(s): {sorted(unknown)}")
        try:
            return replace(self.settings, **changes).validated(self.d_model, self.model.lexicon.languages)
        except TypeError as exc:
            raise SceneError(str(exc)) from None

    def reset(self) -> None:
        """Back to the seed example with default settings and no edits."""
        self.load_dict(self.seed_dict())

    @staticmethod
    def seed_dict() -> dict[str, Any]:
        """The document of the seed example: the sentence pair of the first lesson, default settings."""
        state = _State()
        return {"format": SCENE_FORMAT, "version": SCENE_VERSION, "source": state.source, "target": state.target,
                "settings": asdict(state.settings), "focus": state.focus, "head": 0, "overrides": []}

    def clear_overrides(self) -> None:
        if self._state.overrides:
            self._state.overrides = {}
            self._emit("vectors")

    def set_focus(self, index: int) -> None:
        n = len(self._encode(self.query_side()).words)
        index = max(0, min(int(index), n - 1)) if n else 0
        if index != self._state.focus:
            self._state.focus = index
            self.changed.emit(frozenset({"focus"}))  # the numbers did not change; keep the cached result

    def set_head(self, head: int) -> None:
        head = max(0, min(int(head), self.settings.num_heads - 1))
        if head != self._state.head:
            self._state.head = head
            self._emit("head")

    def _clamp_focus(self) -> None:
        n = len(self._encode(self.query_side()).words)
        self._state.focus = max(0, min(self._state.focus, n - 1)) if n else 0

    # -- whole-document operations -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        st = self._state
        return {
            "format": SCENE_FORMAT,
            "version": SCENE_VERSION,
            "source": st.source,
            "target": st.target,
            "settings": asdict(st.settings),
            "focus": st.focus,
            "head": st.head,
            "overrides": [
                {"side": k[0], "index": k[1], "stage": k[2], "dim": k[3], "token": o.token, "value": o.value}
                for k, o in sorted(st.overrides.items())
            ],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"

    def load_dict(self, data: Any) -> None:
        """Replace the whole scene by a document; on any problem raise ``SceneError`` and change nothing."""
        state = self._parse(data)
        self._state = state
        self._encoded = {}
        self._clamp_focus()
        self._emit("sentences", "settings", "vectors", "focus", "head")

    def load_json(self, text: str) -> None:
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:  # ValueError too: an integer of over 4300 digits
            raise SceneError(f"not a scene file: the JSON is broken ({exc})") from None
        self.load_dict(data)

    def _parse(self, data: Any) -> _State:
        if not isinstance(data, dict):
            raise SceneError("not a scene file: expected a JSON object")
        if data.get("format") != SCENE_FORMAT:
            raise SceneError(f"not a scene file: format is {data.get('format')!r}, expected {SCENE_FORMAT!r}")
        version = data.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise SceneError(f"the scene file has an invalid version {version!r}")
        if version > SCENE_VERSION:
            raise SceneError(
                f"this scene was saved by a newer AttnStudio (format version {version}); "
                f"this version reads up to {SCENE_VERSION}. Please update AttnStudio."
            )
        source, target = data.get("source", ""), data.get("target", "")
        if not isinstance(source, str) or not isinstance(target, str):
            raise SceneError("the scene's sentences must be text")
        _check_unicode(source, "the source sentence")
        _check_unicode(target, "the target sentence")
        raw_settings = data.get("settings", {})
        if not isinstance(raw_settings, dict):
            raise SceneError("the scene's settings must be an object")
        unknown = set(raw_settings) - set(Settings.__dataclass_fields__)
        if unknown:
            raise SceneError(f"the scene has unknown settings {sorted(unknown)}")
        settings = Settings(**raw_settings).validated(self.d_model, self.model.lexicon.languages)
        try:
            lengths = {"source": len(tokenize(source)), "target": len(tokenize(target))}
        except ValueError as exc:
            raise SceneError(str(exc)) from None
        overrides: dict[OverrideKey, Override] = {}
        raw_overrides = data.get("overrides", [])
        if not isinstance(raw_overrides, list):
            raise SceneError("the scene's overrides must be a list")
        for n, item in enumerate(raw_overrides):
            try:
                side, index, stage, dim = item["side"], item["index"], item["stage"], item["dim"]
                token, value = item["token"], item["value"]
            except (KeyError, TypeError):
                raise SceneError(f"override {n + 1} is incomplete: it needs side, index, stage, dim, token and value") from None
            if side not in SIDES or stage not in STAGES or not isinstance(token, str):
                raise SceneError(f"override {n + 1} names an impossible side/stage ({side!r}, {stage!r})")
            _check_unicode(token, f"override {n + 1}'s token")
            for name, number, limit in (("index", index, lengths[side]), ("dim", dim, self.d_model)):
                if isinstance(number, bool) or not isinstance(number, int) or not 0 <= number < limit:
                    raise SceneError(f"override {n + 1}: {name} {number!r} is outside 0..{limit - 1}")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise SceneError(f"override {n + 1}: value {value!r} is not a number")
            overrides[(side, index, stage, dim)] = Override(parse_component(value), token)
        focus, head = data.get("focus", 0), data.get("head", 0)
        for name, number in (("focus", focus), ("head", head)):
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise SceneError(f"the scene's {name} must be a whole number ≥ 0, not {number!r}")
        return _State(source, target, settings, overrides, focus, min(head, settings.num_heads - 1))

    def copy_state(self) -> dict[str, Any]:
        return self.to_dict()


def load_scene_file(path: str) -> Scene:
    """Read a ``*.attn.json`` file into a new scene (raises ``SceneError`` with the file named)."""
    scene = Scene()
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read(MAX_SCENE_BYTES + 1)
    except (OSError, UnicodeDecodeError) as exc:
        raise SceneError(f"cannot read {path}: {exc}") from None
    if len(text) > MAX_SCENE_BYTES:
        raise SceneError(f"{path} is too large to be a scene file (over {MAX_SCENE_BYTES // 1_000_000} MB)")
    try:
        scene.load_json(text)
    except (SceneError, LexiconError) as exc:
        raise SceneError(f"{path}: {exc}") from None
    return scene


MAX_SCENE_BYTES = 5_000_000
MAX_TOKENS_PER_SIDE = MAX_TOKENS
