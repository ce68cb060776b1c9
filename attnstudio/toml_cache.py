"""TOML text read through a JSON copy kept in the user's cache folder.

tomllib is pure Python; the JSON parser reads the same data 10–20× faster. The shipped lexicon (~80 ms with
tomllib) and the shipped lessons (~8 ms) are read at every start, so each file's parsed data is kept as JSON in
``$XDG_CACHE_HOME/attnstudio/<kind>/`` (``~/.cache`` without it), together with the text it was parsed from: a
copy is used only for exactly that text, so an edited file is simply parsed again. The file is named by a CRC of
the text (a clash only costs a parse: hashlib would load OpenSSL, ~4 ms of every start). A copy that cannot be read
or written is ignored, never trusted half-way.
"""

from __future__ import annotations

import json
import os
import zlib
from pathlib import Path
from typing import Any

__all__ = ["cache_file", "is_toml_error", "load_toml"]


def load_toml(text: str, name: str = "", kind: str | None = None) -> dict[str, Any]:
    """``tomllib.loads(text)``, through the JSON copy of ``kind`` (a folder name: "lexicon", "lessons"; None: no copy).

    ``name`` (a file name) only makes the copy recognisable. Raises what ``tomllib.loads`` raises (see
    :func:`is_toml_error`). tomllib itself (~2.5 ms of imports) is imported only when a text is really parsed.
    """
    cached = cache_file(kind, name, text) if kind is not None else None
    if cached is not None:
        try:
            copy = json.loads(cached.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            pass
        else:
            if isinstance(copy, dict) and copy.get("text") == text and isinstance(copy.get("data"), dict):
                return copy["data"]
    import tomllib

    data = tomllib.loads(text)
    if cached is not None:
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            partial = cached.with_name(f"{cached.name}.{os.getpid()}.tmp")
            partial.write_text(json.dumps({"text": text, "data": data}, ensure_ascii=False), encoding="utf-8")
            os.replace(partial, cached)  # whole or not at all: another process may read it right now
        except (OSError, TypeError, ValueError, RecursionError):  # read-only home, or a TOML date JSON cannot hold
            pass
    return data


def is_toml_error(exc: BaseException) -> bool:
    """Whether ``exc`` (raised by :func:`load_toml`) says the text is not valid TOML (``tomllib.TOMLDecodeError``)."""
    import tomllib  # already loaded: only a parse raises

    return isinstance(exc, tomllib.TOMLDecodeError)


def cache_file(kind: str, name: str, text: str) -> Path | None:
    """Where the parsed copy of this text lives: $XDG_CACHE_HOME (or ~/.cache)/attnstudio/<kind>/."""
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    if not os.path.isabs(root):  # no usable home: do without
        return None
    crc = zlib.crc32(text.encode("utf-8", "surrogatepass"))
    return Path(root, "attnstudio", kind, f"{Path(name).stem}-{crc:08x}.json")
