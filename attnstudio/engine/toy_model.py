"""The toy translation model: readable token vectors and hand-set projections W_Q, W_K, W_V, W_O.

A token's input vector is ``embedding + position``. Its first dimensions hold meaning (a kind and an
identity fingerprint, read from the lexicon); its last four hold position (a sinusoidal code). The two
never overlap, so a learner can read either part in the inspector.

The projections are diagonal, which keeps every query, key and value in the same named dimensions as
the input. Why the defaults translate:

* ``W_Q`` stretches meaning by ``MEANING_GAIN`` and position by ``POSITION_GAIN``; ``W_K`` is the identity.
  So ``q·k = 16 · (meaning · meaning') + 2 · (position · position')``. Translations share a concept, hence
  the same unit meaning vector, hence the largest meaning term; position breaks ties between two words of
  the same concept ("The" … "the" → "Le" … "le"), and is kept small so it never outvotes meaning.
* ``W_V`` keeps meaning and drops position: a value carries *what* a word says, not where it stands.
* ``W_O`` is the identity: the output of attention is the weighted average of values, left readable.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from attnstudio.engine.lexicon import Lexicon, WordInfo, default_lexicon
from attnstudio.engine.positions import sinusoidal_positions

__all__ = ["MEANING_GAIN", "POSITION_GAIN", "ToyModel", "TokenVectors"]

MEANING_GAIN = 16.0  # self-score of a translation pair, before the 1/sqrt(d) scale: 16 / 4 = 4 in softmax units
POSITION_GAIN = 2.0  # same position vs far position differs by up to ~2·1.7; enough to split "le" from "Le"


@dataclass(frozen=True)
class TokenVectors:
    """One sentence passed through the toy model's first stages: every array is ``(n_tokens, d_model)``."""

    words: list[WordInfo]
    embedding: np.ndarray
    position: np.ndarray  # zero when positional encodings are off
    input: np.ndarray  # embedding + position


@dataclass
class ToyModel:
    lexicon: Lexicon = field(default_factory=default_lexicon)

    @property
    def d_model(self) -> int:
        return len(self.lexicon.dimensions)

    @property
    def dimension_names(self) -> list[str]:
        return self.lexicon.dimension_names

    def _gains(self, meaning: float, position: float) -> np.ndarray:
        lex = self.lexicon
        return np.array([position if d.role == "position" else meaning for d in lex.dimensions])

    @property
    def w_q(self) -> np.ndarray:
        return np.diag(self._gains(MEANING_GAIN, POSITION_GAIN))  # (d_model, d_model)

    @property
    def w_k(self) -> np.ndarray:
        return np.eye(self.d_model)

    @property
    def w_v(self) -> np.ndarray:
        return np.diag(self._gains(1.0, 0.0))

    @property
    def w_o(self) -> np.ndarray:
        return np.eye(self.d_model)

    def encode(self, sentence: str, language: str, positions: bool = True) -> TokenVectors:
        """Tokenize, look up and place a sentence: its embedding, position and input vectors."""
        words = self.lexicon.analyse(sentence, language)
        return self.encode_words(words, positions)

    def encode_words(self, words: list[WordInfo], positions: bool = True) -> TokenVectors:
        n, d = len(words), self.d_model
        lex = self.lexicon
        embedding = np.zeros((n, d))
        if n:
            embedding[:, : lex.n_meaning] = np.stack([w.meaning for w in words])
        position = np.zeros((n, d))
        if positions and n:
            position[:, lex.n_meaning :] = sinusoidal_positions(n, lex.n_position, base=lex.position_base)
        return TokenVectors(words, embedding, position, embedding + position)
