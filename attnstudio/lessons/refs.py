"""Naming things the way a lesson does: a word by its text ("le#2"), a dimension by its name, a head by number.

Lesson files count like a reader, from 1: the second "le" is ``le#2``, the third word is ``3``, the first head
is ``1``. The scene counts from 0; everything here turns the first into the second, or says clearly why not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

from attnstudio.engine.tokens import normalize

if TYPE_CHECKING:  # the scene is only named in annotations here
    from attnstudio.scene import Scene

__all__ = ["PANELS", "STAGE_NAMES", "TokenNotFound", "TokenRef", "dimension_index", "quote", "sentence_label"]

# The panels a step may show, highlight or lock, by the objectName the window gives them.
PANELS = (
    "sentencePanel",
    "controlsPanel",
    "vectorInspector",
    "alignmentCanvas",
    "heatmapView",
    "queryKeySpace",
    "computationPanel",
)
STAGE_NAMES = {"q": "query", "k": "key", "v": "value"}
_OCCURRENCE = re.compile(r"^(.+)#(\d+)$")
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth"}


class TokenNotFound(ValueError):
    """A word named by a lesson is not in the scene's sentence; the message says what is there."""


def quote(text: str) -> str:
    return f"\u201c{text}\u201d"


def ordinal(n: int) -> str:
    return _ORDINALS.get(n, f"{n}th")


@dataclass(frozen=True)
class TokenRef:
    """A token named in a lesson: by its text (case-insensitive) and which occurrence, or by its position."""

    word: str | None = None
    occurrence: int = 1  # 1 = the first time the word appears
    position: int | None = None  # 1-based place in the sentence, when named by number

    @classmethod
    def parse(cls, raw: Any) -> "TokenRef":
        """Read ``"black"``, ``"le#2"`` or ``3`` (the third token); raise ``ValueError`` otherwise."""
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise ValueError(f"a token is named by its text (\"black\", \"le#2\") or its position (3), not {raw!r}")
        if isinstance(raw, int):
            if raw < 1:
                raise ValueError(f"token positions count from 1, not {raw}")
            return cls(position=raw)
        text = raw.strip()
        if not text:
            raise ValueError("a token name is empty")
        match = _OCCURRENCE.match(text)
        if match and match.group(1).strip():
            occurrence = int(match.group(2))
            if occurrence < 1:
                raise ValueError(f"{text!r}: occurrences count from 1 ({match.group(1)}#1 is the first)")
            return cls(word=match.group(1).strip(), occurrence=occurrence)
        return cls(word=text)

    def __str__(self) -> str:
        if self.word is None:
            return f"token {self.position}"
        return self.word if self.occurrence == 1 else f"{self.word}#{self.occurrence}"

    def find(self, surfaces: Sequence[str]) -> int | None:
        """The 0-based index of this token among ``surfaces``, or None."""
        if self.word is None:
            return self.position - 1 if self.position is not None and self.position <= len(surfaces) else None
        key = normalize(self.word)
        seen = 0
        for index, surface in enumerate(surfaces):
            if normalize(surface) == key:
                seen += 1
                if seen == self.occurrence:
                    return index
        return None

    def resolve(self, surfaces: Sequence[str], where: str) -> int:
        """Like :meth:`find`, but raise :class:`TokenNotFound` naming ``where`` (e.g. the sentence) if absent."""
        index = self.find(surfaces)
        if index is not None:
            return index
        listing = ", ".join(surfaces) if surfaces else "no words at all"
        if self.word is None:
            raise TokenNotFound(f"there is no token {self.position} in {where}: it has {len(surfaces)} ({listing})")
        count = sum(normalize(s) == normalize(self.word) for s in surfaces)
        if count:
            raise TokenNotFound(f"there is no {ordinal(self.occurrence)} {quote(self.word)} in {where}: "
                                f"it appears {count} time{'s' if count > 1 else ''}")
        raise TokenNotFound(f"{quote(self.word)} is not a word of {where}; its words are: {listing}")


# Messages are in English, so languages are named in English; the lexicon holds each language's own name
# ("Français"), which reads oddly in an English sentence. Unknown codes fall back to "source"/"target".
_ENGLISH_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian",
                  "pt": "Portuguese", "nl": "Dutch"}


def sentence_label(scene: Scene, side: str) -> str:
    """How a message names a side of the scene: 'the English sentence “The black cat …”'."""
    return label_for(scene.language(side), scene.sentence(side), side)


def label_for(language: str, sentence: str, side: str) -> str:
    return f"the {_ENGLISH_NAMES.get(language, side)} sentence {quote(sentence)}"


def dimension_index(dim: Any, names: Sequence[str]) -> int:
    """A dimension named by its name (``"animal"``) or its number counted from 1; raise ``ValueError``."""
    if isinstance(dim, bool) or not isinstance(dim, (str, int)):
        raise ValueError(f"a dimension is named by its name (\"animal\") or its number from 1, not {dim!r}")
    if isinstance(dim, int):
        if not 1 <= dim <= len(names):
            raise ValueError(f"there is no dimension {dim}; dimensions count from 1 to {len(names)}")
        return dim - 1
    wanted = dim.strip().casefold()
    for index, name in enumerate(names):
        if name.casefold() == wanted:
            return index
    raise ValueError(f"there is no dimension {quote(dim)}; the dimensions are: {', '.join(names)}")
