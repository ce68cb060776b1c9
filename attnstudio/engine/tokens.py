"""A word-level tokenizer that keeps what the learner typed and knows a little French and English.

Each token keeps its *surface* (exactly the characters typed, for display) and a *key* for looking it up
in the lexicon (Unicode NFC, lower case, typographic apostrophe made straight). Punctuation marks are
tokens of their own. Elision is split the way a reader sees it: ``l'homme`` → ``l'`` + ``homme``, and
English clitics come off the end: ``don't`` → ``do`` + ``n't``, ``cat's`` → ``cat`` + ``'s``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["Token", "normalize", "tokenize", "MAX_TOKENS"]

# A sentence longer than this is refused with a clear message: the window and the engine stay usable.
MAX_TOKENS = 512

# French elisions: the word before the apostrophe lost its vowel (le → l', que → qu').
_ELISIONS = frozenset(
    "l' d' j' m' n' s' t' c' qu' jusqu' lorsqu' puisqu' quoiqu'".split()
)
# English clitics that come off the end of a word.
_CLITICS = ("n't", "'s", "'re", "'ll", "'ve", "'m", "'d")
# Words that contain an apostrophe and are still one word.
_WHOLE = frozenset(["aujourd'hui", "prud'homme", "o'clock", "entr'acte"])

_APOSTROPHES = "\u2019\u02bc\u2018'"
# A word: letters, digits and combining marks, with inner apostrophes or hyphens. Anything else that is not
# space is a one-character token (punctuation, symbols, emoji).
_STRAIGHTEN = str.maketrans(dict.fromkeys(_APOSTROPHES, "'"))  # one pass instead of one replace per kind
_WORD = re.compile(r"[^\W_]+(?:[" + _APOSTROPHES + r"\-][^\W_]+)*[" + _APOSTROPHES + r"]?|\S", re.UNICODE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


@dataclass(frozen=True)
class Token:
    """One token: ``surface`` as typed, ``key`` for look-up, and where it sits in the sentence."""

    surface: str
    key: str
    start: int  # character offset in the cleaned sentence
    end: int

    @property
    def is_punctuation(self) -> bool:
        return not any(ch.isalnum() for ch in self.key)


def normalize(word: str) -> str:
    """The look-up key of a word: NFC, case-folded, with a straight apostrophe."""
    if not word.isascii():  # ASCII is already NFC and its only apostrophe is the straight one
        word = unicodedata.normalize("NFC", word).translate(_STRAIGHTEN)
    return word.casefold()


def clean_sentence(text: str) -> str:
    """Tabs and newlines become spaces; invisible control and direction characters are removed; NFC."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return _CONTROL.sub("", text)


def _split_word(surface: str, start: int) -> list[Token]:
    key = normalize(surface)
    if "'" not in key or key in _WHOLE:
        return [Token(surface, key, start, start + len(surface))]
    cut = key.find("'") + 1
    if key[:cut] in _ELISIONS and cut < len(key):
        head, tail = surface[:cut], surface[cut:]
        return [Token(head, key[:cut], start, start + cut), *_split_word(tail, start + cut)]
    for clitic in _CLITICS:
        if key.endswith(clitic) and len(key) > len(clitic):
            cut = len(key) - len(clitic)
            head, tail = surface[:cut], surface[cut:]
            return [Token(head, key[:cut], start, start + cut), Token(tail, key[cut:], start + cut, start + len(surface))]
    return [Token(surface, key, start, start + len(surface))]


def tokenize(text: str, max_tokens: int = MAX_TOKENS) -> list[Token]:
    """Split a sentence into tokens. Raises ``ValueError`` if it has more than ``max_tokens`` tokens."""
    text = clean_sentence(text)
    tokens: list[Token] = []
    for match in _WORD.finditer(text):
        tokens.extend(_split_word(match.group(), match.start()))
        if len(tokens) > max_tokens:
            raise ValueError(
                f"the sentence has more than {max_tokens} tokens; shorten it to at most {max_tokens}"
            )
    return tokens
