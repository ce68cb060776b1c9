"""Tokenizer and positional encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attnstudio.engine import sinusoidal_positions
from attnstudio.engine.tokens import MAX_TOKENS, normalize, tokenize


def surfaces(text):
    return [t.surface for t in tokenize(text)]


def test_seed_sentence_keeps_accents():
    assert surfaces("Le chat noir dort sur le canapé") == ["Le", "chat", "noir", "dort", "sur", "le", "canapé"]


def test_punctuation_is_split():
    assert surfaces("Bonjour, le monde!") == ["Bonjour", ",", "le", "monde", "!"]


@pytest.mark.parametrize("text, expected", [
    ("l'homme", ["l'", "homme"]),
    ("L’école", ["L’", "école"]),
    ("qu'il", ["qu'", "il"]),
    ("aujourd'hui", ["aujourd'hui"]),
    ("don't", ["do", "n't"]),
    ("the cat's bowl", ["the", "cat", "'s", "bowl"]),
])
def test_apostrophes(text, expected):
    assert surfaces(text) == expected


def test_lookup_key_is_nfc_casefolded_with_straight_apostrophe():
    nfd = "cafe\u0301"
    assert normalize(nfd) == "café"
    assert tokenize("L’Homme")[0].key == "l'"
    assert tokenize("CANAPÉ")[0].key == "canapé"
    # NFC and NFD spellings of the same word give the same key
    assert tokenize("canape\u0301")[0].key == tokenize("canapé")[0].key


def test_odd_unicode_and_control_characters():
    toks = tokenize("chat\u200b 😀 東京\tשלום\nfin\x07")
    assert [t.surface for t in toks] == ["chat", "😀", "東京", "שלום", "fin"]


def test_empty_and_blank():
    assert tokenize("") == [] and tokenize("   \t\n") == []


def test_too_many_tokens_is_a_clear_error():
    assert len(tokenize("a " * MAX_TOKENS)) == MAX_TOKENS
    with pytest.raises(ValueError, match="more than 512 tokens"):
        tokenize("a " * (MAX_TOKENS + 1))


def test_sinusoidal_formula():
    pe = sinusoidal_positions(50, 8)
    for pos in (0, 3, 49):
        for i in range(4):
            angle = pos / 10000 ** (2 * i / 8)
            assert pe[pos, 2 * i] == pytest.approx(math.sin(angle), abs=1e-15)
            assert pe[pos, 2 * i + 1] == pytest.approx(math.cos(angle), abs=1e-15)


def test_sinusoidal_odd_width_and_base():
    pe = sinusoidal_positions(5, 5)
    assert pe.shape == (5, 5)
    np.testing.assert_allclose(pe[:, 4], np.sin(np.arange(5) / 10000 ** (4 / 5)))
    fast = sinusoidal_positions(4, 4, base=10.0)
    np.testing.assert_allclose(fast[:, 2], np.sin(np.arange(4) / 10 ** 0.5))
    with pytest.raises(ValueError):
        sinusoidal_positions(-1, 4)


def test_position_code_is_most_similar_to_itself():
    pe = sinusoidal_positions(12, 4, base=10.0)
    sims = pe @ pe.T
    assert (np.argmax(sims, axis=1) == np.arange(12)).all()
