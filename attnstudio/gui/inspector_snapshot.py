"""One token as the vector inspector shows it (``TokenSnapshot``), and what its table, bars and panel share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QLocale
from PySide6.QtGui import QColor

from attnstudio.gui.controller import Controller

STAGES = ("embedding", "position", "input", "q", "k", "v")
EDITABLE = ("q", "k", "v")
NUDGE, BIG_NUDGE = 0.1, 1.0  # Up/Down and Shift+Up/Down


def format_component(value: float) -> str:
    """A component as the table shows it: 3 decimals, 1 beyond ±100, a bare 0 for an exact zero."""
    if value == 0.0:
        return "0"
    return f"{value:.1f}" if abs(value) >= 100 else f"{value:.3f}".replace("-0.000", "0.000")


def _language_name(controller: Controller, side: str) -> str:
    """The English name of a side's language ("French"), as the rest of the interface speaks English."""
    code = controller.scene.language(side)
    language = QLocale(code).language()
    if language != QLocale.Language.C:
        return QLocale.languageToString(language)
    return controller.scene.model.lexicon.languages.get(code, {}).get("name", code)


def _blend(a: QColor, b: QColor, t: float) -> QColor:
    """``t`` of ``a`` over ``1 - t`` of ``b``: an accent tint that keeps the palette's text readable."""
    return QColor.fromRgbF(*(t * x + (1 - t) * y for x, y in zip(a.getRgbF()[:3], b.getRgbF()[:3])))


@dataclass(frozen=True)
class TokenSnapshot:
    """What the inspector shows of one token: values per stage, the computed q/k/v, and which were edited."""

    side: str  # "source" or "target"
    index: int
    surface: str
    stages: tuple[str, ...]  # rows shown, in order
    values: dict[str, np.ndarray]  # stage -> (d_model,)
    computed: dict[str, np.ndarray]  # q/k/v stage -> (d_model,) before hand edits
    edited: dict[str, np.ndarray]  # q/k/v stage -> (d_model,) bool

    @property
    def editable_stages(self) -> tuple[str, ...]:
        return tuple(s for s in self.stages if s in EDITABLE)


def token_snapshot(controller: Controller, side: str, index: int) -> TokenSnapshot:
    """Read one token's vectors from the current result (O(d_model²), whatever the sentence length)."""
    scene, result = controller.scene, controller.result()
    model, query_side = scene.model, scene.query_side()
    vectors = result.query_vectors if side == query_side else result.key_vectors
    values = {"embedding": vectors.embedding[index], "position": vectors.position[index], "input": vectors.input[index]}
    computed: dict[str, np.ndarray] = {}
    if side == query_side:
        values["q"], computed["q"] = result.q[index], vectors.input[index] @ model.w_q
    if side == "source":
        values["k"], computed["k"] = result.k[index], vectors.input[index] @ model.w_k
        values["v"], computed["v"] = result.v[index], vectors.input[index] @ model.w_v
    edited = {stage: np.array([scene.override(side, index, stage, d) is not None for d in range(scene.d_model)])
              for stage in computed}
    return TokenSnapshot(side, index, vectors.words[index].token.surface, tuple(s for s in STAGES if s in values),
                         values, computed, edited)
