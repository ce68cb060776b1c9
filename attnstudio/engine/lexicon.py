"""The lexicon: which concept a word names, and the readable vector of each concept.

Everything here is read from TOML files in ``attnstudio/data/lexicon`` (``importlib.resources``):

* ``dimensions.toml`` names every dimension of a token vector and says what it is for;
* ``concepts.toml`` lists the concepts with their kind (person, animal, thing, …) and a gloss;
* ``identities.toml`` holds each concept's identity fingerprint (written by ``lexicon_build``);
* one file per language (``en.toml``, ``fr.toml``, …) maps surface forms to concepts. A new language is a
  new file; no code changes.

A concept's *meaning vector* is a unit vector: a share of it points along its kind's dimension, the rest
along its identity fingerprint. Two words are translations of each other exactly when they name the same
concept, so their meaning vectors are equal, and equal unit vectors have the largest possible dot product.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

import numpy as np

from attnstudio.engine.tokens import Token, normalize, tokenize
from attnstudio.toml_cache import is_toml_error, load_toml

__all__ = ["Dimension", "Lexicon", "LexiconError", "WordInfo", "default_lexicon", "load_lexicon"]

FUNCTION_KIND = "function"  # function words have no kind dimension: their meaning is all identity


class LexiconError(ValueError):
    """A lexicon file is missing, malformed or inconsistent; the message names the file and the problem."""


@dataclass(frozen=True)
class Dimension:
    name: str  # short label for a column header ("animal", "identity 3", "position sin 1")
    role: str  # "kind", "identity" or "position"
    description: str  # one sentence for a tooltip


@dataclass(frozen=True)
class WordInfo:
    """What the lexicon knows of one token."""

    token: Token
    concept: str | None  # None for an unknown word or punctuation
    kind: str  # a kind name, "unknown" or "punctuation"
    meaning: np.ndarray  # (n_meaning,) unit vector

    @property
    def known(self) -> bool:
        return self.concept is not None


@dataclass
class Lexicon:
    dimensions: list[Dimension]
    kinds: list[str]  # kind names in the order of their dimensions
    kind_share: float  # squared-norm share of the kind dimension in a meaning vector
    concepts: dict[str, dict[str, Any]]  # id -> {"kind": ..., "gloss": ...}
    identities: dict[str, np.ndarray]  # id -> unit fingerprint (n_identity,)
    languages: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> {"name", "forms": {form: id}, "lemmas": {id: form}}
    position_base: float = 10.0

    # -- sizes --------------------------------------------------------------------------------------
    @property
    def n_identity(self) -> int:
        return sum(d.role == "identity" for d in self.dimensions)

    @property
    def n_meaning(self) -> int:
        return sum(d.role in ("kind", "identity") for d in self.dimensions)

    @property
    def n_position(self) -> int:
        return sum(d.role == "position" for d in self.dimensions)

    @property
    def dimension_names(self) -> list[str]:
        return [d.name for d in self.dimensions]

    # -- look-up ------------------------------------------------------------------------------------
    def concept_of(self, word: str, language: str) -> str | None:
        """The concept a word names in ``language``, or None."""
        return self._language(language)["forms"].get(normalize(word))

    def lemma(self, concept: str, language: str) -> str:
        """The dictionary form of a concept in a language (e.g. ``canapé`` for ``couch`` in French)."""
        return self._language(language)["lemmas"][concept]

    def translations(self, word: str, source: str, target: str) -> list[str]:
        concept = self.concept_of(word, source)
        if concept is None:
            return []
        return list(self._language(target)["forms_of"].get(concept, []))

    def _language(self, language: str) -> dict[str, Any]:
        try:
            return self.languages[language]
        except KeyError:
            raise LexiconError(f"no lexicon for language {language!r}; known: {sorted(self.languages)}") from None

    def meaning_of_concept(self, concept: str) -> np.ndarray:
        kind = self.concepts[concept]["kind"]
        identity = self.identities.get(concept)
        if identity is None:  # a concept a teacher added without running lexicon_build
            identity = hashed_identity("concept:" + concept, self.n_identity)
        return self._compose(kind, identity)

    def _compose(self, kind: str | None, identity: np.ndarray) -> np.ndarray:
        n_kinds = len(self.kinds)
        vec = np.zeros(self.n_meaning)
        if kind in self.kinds:
            vec[self.kinds.index(kind)] = math.sqrt(self.kind_share)
            vec[n_kinds:] = math.sqrt(1.0 - self.kind_share) * identity
        else:
            vec[n_kinds:] = identity
        return vec

    def word_info(self, token: Token, language: str) -> WordInfo:
        concept = self._language(language)["forms"].get(token.key)
        if concept is not None:
            return WordInfo(token, concept, self.concepts[concept]["kind"], self.meaning_of_concept(concept))
        # Unknown words still get a vector, the same one every time; punctuation is not "unknown".
        kind = "punctuation" if token.is_punctuation else "unknown"
        return WordInfo(token, None, kind, self._compose(None, hashed_identity("word:" + token.key, self.n_identity)))

    def analyse(self, sentence: str, language: str) -> list[WordInfo]:
        return [self.word_info(t, language) for t in tokenize(sentence)]


def hashed_identity(text: str, n: int) -> np.ndarray:
    """A deterministic unit vector for ``text``: same text, same vector, on every machine and run."""
    import hashlib  # here, not at the top: loading OpenSSL costs ~4 ms, and the start needs no unknown word

    seed = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")
    vec = np.random.default_rng(seed).standard_normal(n)
    return vec / np.linalg.norm(vec)


# -- loading ----------------------------------------------------------------------------------------

def _read_toml(name: str, text: str) -> dict[str, Any]:
    """Parse one lexicon file (through its JSON copy in the user's cache folder, see ``attnstudio.toml_cache``)."""
    try:
        return load_toml(text, name, "lexicon")
    except ValueError as exc:
        if is_toml_error(exc):
            raise LexiconError(f"{name}: not valid TOML ({exc})") from None
        raise


def _expect(data: dict[str, Any], name: str, fmt: str) -> None:
    if data.get("format") != fmt:
        raise LexiconError(f"{name}: expected format = {fmt!r}, found {data.get('format')!r}")
    if data.get("version") != 1:
        raise LexiconError(f"{name}: unsupported version {data.get('version')!r} (this AttnStudio reads version 1)")


def load_lexicon(files: dict[str, str]) -> Lexicon:
    """Build a lexicon from file texts keyed by file name (``dimensions.toml``, ``concepts.toml``, …)."""
    for required in ("dimensions.toml", "concepts.toml"):
        if required not in files:
            raise LexiconError(f"the lexicon needs {required}")
    dims_data = _read_toml("dimensions.toml", files["dimensions.toml"])
    _expect(dims_data, "dimensions.toml", "attnstudio-lexicon-dimensions")
    dimensions = [
        Dimension(str(d["name"]), str(d["role"]), str(d.get("description", "")))
        for d in dims_data.get("dimensions", [])
    ]
    roles = {d.role for d in dimensions}
    if not roles <= {"kind", "identity", "position"} or "identity" not in roles:
        raise LexiconError("dimensions.toml: roles must be kind, identity or position, with at least one identity dimension")
    kinds = [d.name for d in dimensions if d.role == "kind"]
    kind_share = float(dims_data.get("kind_share", 0.25))
    if not 0.0 <= kind_share < 1.0:
        raise LexiconError(f"dimensions.toml: kind_share must be in [0, 1), got {kind_share}")

    concepts_data = _read_toml("concepts.toml", files["concepts.toml"])
    _expect(concepts_data, "concepts.toml", "attnstudio-lexicon-concepts")
    concepts: dict[str, dict[str, Any]] = {}
    for cid, entry in concepts_data.get("concepts", {}).items():
        kind = entry.get("kind") if isinstance(entry, dict) else None
        if kind not in kinds and kind != FUNCTION_KIND:
            raise LexiconError(f"concepts.toml: concept {cid!r} has kind {kind!r}; kinds are {kinds + [FUNCTION_KIND]}")
        concepts[cid] = {"kind": kind, "gloss": str(entry.get("gloss", ""))}

    n_identity = sum(d.role == "identity" for d in dimensions)
    identities: dict[str, np.ndarray] = {}
    if "identities.toml" in files:
        id_data = _read_toml("identities.toml", files["identities.toml"])
        _expect(id_data, "identities.toml", "attnstudio-lexicon-identities")
        table = id_data.get("identities", {})
        try:  # all rows at once (858 norms one by one were ~8 ms of every start)
            matrix = np.array(list(table.values()), dtype=np.float64).reshape(len(table), -1)
        except (TypeError, ValueError):
            matrix = None
        norms = np.linalg.norm(matrix, axis=1) if matrix is not None and matrix.shape[1:] == (n_identity,) else None
        if norms is None or not np.isfinite(matrix).all() or not norms.all():
            for cid, values in table.items():  # find the culprit, for the message
                try:
                    vec = np.asarray(values, dtype=np.float64)
                    good = vec.shape == (n_identity,) and np.isfinite(vec).all() and np.linalg.norm(vec) > 0
                except (TypeError, ValueError):
                    good = False
                if not good:
                    raise LexiconError(f"identities.toml: {cid!r} needs {n_identity} finite numbers, not all zero")
            raise LexiconError(f"identities.toml: every identity needs {n_identity} finite numbers")
        identities = dict(zip(table, matrix / norms[:, None]))

    lexicon = Lexicon(dimensions, kinds, kind_share, concepts, identities,
                      position_base=float(dims_data.get("position_base", 10.0)))
    for name, text in sorted(files.items()):
        if name in ("dimensions.toml", "concepts.toml", "identities.toml") or not name.endswith(".toml"):
            continue
        lexicon.languages.update(_load_language(name, _read_toml(name, text), concepts))
    return lexicon


def _load_language(name: str, data: dict[str, Any], concepts: dict[str, Any]) -> dict[str, dict[str, Any]]:
    _expect(data, name, "attnstudio-lexicon-language")
    code = data.get("language")
    if not isinstance(code, str) or not code:
        raise LexiconError(f"{name}: needs language = \"xx\"")
    forms: dict[str, str] = {}
    lemmas: dict[str, str] = {}
    forms_of: dict[str, list[str]] = {}
    for cid, words in data.get("words", {}).items():
        if cid not in concepts:
            raise LexiconError(f"{name}: {cid!r} is not a concept in concepts.toml")
        if not isinstance(words, list) or not words:
            raise LexiconError(f"{name}: {cid!r} needs a non-empty list of words")
        for word in words:
            if not isinstance(word, str) or not word:
                raise LexiconError(f"{name}: {cid!r} needs a non-empty list of words")
            # The first concept listed keeps an ambiguous form. normalize() is inlined for ASCII words (most of
            # them; see there): a call per word was a third of the ~4 ms this loop costs every start.
            forms.setdefault(word.casefold() if word.isascii() else normalize(word), cid)
        lemmas[cid] = words[0]
        forms_of[cid] = list(words)
    return {code: {"name": str(data.get("name", code)), "forms": forms, "lemmas": lemmas, "forms_of": forms_of}}


def _package_files() -> dict[str, str]:
    folder = resources.files("attnstudio").joinpath("data", "lexicon")
    return {entry.name: entry.read_text(encoding="utf-8") for entry in folder.iterdir() if entry.name.endswith(".toml")}


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The lexicon shipped in the package (loaded once)."""
    return load_lexicon(_package_files())


def iter_kind_concepts(lexicon: Lexicon, kind: str) -> Iterable[str]:
    return sorted(cid for cid, c in lexicon.concepts.items() if c["kind"] == kind)
