"""Splitting a sentence into the word pieces a real model reads, with Hugging Face's ``tokenizers``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from attnstudio.engine.real.errors import ModelError, require

__all__ = ["Tokens", "WordPieceTokenizer"]


@dataclass(frozen=True)
class Tokens:
    """One sentence as the model reads it: ``[CLS] piece piece ... [SEP]``."""

    text: str
    ids: np.ndarray  # (n,) int64, rows of the word embedding
    pieces: tuple[str, ...]  # "[CLS]", "the", "cat", "##s", "[SEP]"
    offsets: tuple[tuple[int, int], ...]  # each piece's character span in text; (0, 0) for [CLS]/[SEP]
    word_ids: tuple[int | None, ...]  # pieces of one word share a number; None for special tokens
    special: tuple[bool, ...]  # True for [CLS], [SEP], ...

    def __len__(self) -> int:
        return len(self.pieces)


class WordPieceTokenizer:
    """A ``tokenizers.Tokenizer`` with padding and truncation off, so n pieces give n tokens.

    all-MiniLM-L6-v2's tokenizer.json pads every sentence to 128 tokens and truncates there: a learner would
    see 120 ``[PAD]`` columns. Too long a sentence is reported by the model instead of cut silently.
    """

    def __init__(self, tokenizer: Any, source: Path) -> None:
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self._tokenizer = tokenizer
        self.source = source

    @classmethod
    def from_folder(cls, folder: Path) -> WordPieceTokenizer:
        """tokenizer.json when present, else a BERT WordPiece tokenizer built from vocab.txt."""
        folder = Path(folder)
        if (folder / "tokenizer.json").is_file():
            return cls._from_json(folder / "tokenizer.json")
        if (folder / "vocab.txt").is_file():
            return cls._from_vocab(folder / "vocab.txt", _tokenizer_config(folder))
        raise ModelError(f"{folder} has neither tokenizer.json nor vocab.txt, so its words cannot be split")

    @classmethod
    def _from_json(cls, path: Path) -> WordPieceTokenizer:
        tokenizers = require("tokenizers")
        try:
            return cls(tokenizers.Tokenizer.from_file(str(path)), path)
        except Exception as exc:  # tokenizers raises a bare Exception for any malformed file
            raise ModelError(f"{path} could not be read as a tokenizer: {exc}") from exc

    @classmethod
    def _from_vocab(cls, path: Path, settings: dict[str, Any]) -> WordPieceTokenizer:
        require("tokenizers")
        from tokenizers.implementations import BertWordPieceTokenizer

        lowercase = bool(settings.get("do_lower_case", True))  # BertTokenizer's default
        names = {key: _token_name(settings, key, default) for key, default in (
            ("unk_token", "[UNK]"), ("sep_token", "[SEP]"), ("cls_token", "[CLS]"),
            ("pad_token", "[PAD]"), ("mask_token", "[MASK]"))}
        try:
            wrapper = BertWordPieceTokenizer(
                str(path), **names, clean_text=True, lowercase=lowercase,
                handle_chinese_chars=bool(settings.get("tokenize_chinese_chars", True)),
                strip_accents=settings.get("strip_accents"),  # None: strip exactly when lowercasing, as BERT does
            )
        except Exception as exc:
            raise ModelError(f"{path} could not be read as a WordPiece vocabulary: {exc}") from exc
        return cls(wrapper._tokenizer, path)

    @property
    def vocab_size(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def piece_id(self, piece: str) -> int | None:
        """The id of a vocabulary entry, or None when the vocabulary does not have it."""
        return self._tokenizer.token_to_id(piece)

    def piece(self, token_id: int) -> str | None:
        return self._tokenizer.id_to_token(int(token_id))

    def encode(self, text: str) -> Tokens:
        """Split one sentence; ``[CLS]`` and ``[SEP]`` are added by the tokenizer's own template."""
        if not isinstance(text, str):
            raise TypeError(f"encode expects the sentence as str, got {type(text).__name__}")
        enc = self._tokenizer.encode(text)
        special = tuple(bool(m) for m in enc.special_tokens_mask)
        return Tokens(
            text=text,
            ids=np.asarray(enc.ids, dtype=np.int64),
            pieces=tuple(enc.tokens),
            offsets=tuple((int(a), int(b)) for a, b in enc.offsets),
            word_ids=tuple(enc.word_ids),
            special=special,
        )


def _tokenizer_config(folder: Path) -> dict[str, Any]:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"{path} must hold a JSON object, found {type(raw).__name__}")
    return raw


def _token_name(settings: dict[str, Any], key: str, default: str) -> str:
    value = settings.get(key, default)
    if isinstance(value, dict):  # newer files store {"content": "[CLS]", ...}
        value = value.get("content", default)
    return value if isinstance(value, str) else default
