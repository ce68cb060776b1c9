"""What a BERT checkpoint's ``config.json`` says, read and checked before any weight is touched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from attnstudio.engine.real.errors import ModelError

__all__ = ["ACTIVATIONS", "BertConfig", "read_config"]

# hidden_act values we compute; "gelu" is the exact erf GELU, the other two the tanh approximation.
ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
SUPPORTED_MODEL_TYPES = ("bert",)


@dataclass(frozen=True)
class BertConfig:
    """The sizes of a BERT encoder; names follow Hugging Face's ``config.json``."""

    vocab_size: int  # V: rows of the word embedding
    hidden_size: int  # d_model: width of every token vector between layers
    num_hidden_layers: int  # L
    num_attention_heads: int  # h; d_head = d_model / h
    intermediate_size: int  # d_ff: width of the feed-forward layer inside each block
    max_position_embeddings: int  # longest sentence, in tokens, the position table covers
    type_vocab_size: int  # sentence A / B embeddings; one sentence uses type 0
    layer_norm_eps: float  # 1e-12 in BERT and MiniLM, not PyTorch's 1e-5 default
    hidden_act: str = "gelu"
    model_type: str = "bert"
    architectures: tuple[str, ...] = ()
    name: str = ""  # _name_or_path, for display only

    @property
    def d_head(self) -> int:
        return self.hidden_size // self.num_attention_heads


def read_config(folder: Path) -> BertConfig:
    """Read ``folder/config.json`` or raise :class:`ModelError` saying which field is missing or wrong."""
    path = Path(folder) / "config.json"
    if not path.is_file():
        raise ModelError(f"{folder} has no config.json; a model folder needs config.json, model.safetensors "
                         f"and tokenizer.json or vocab.txt")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"{path} must hold a JSON object, found {type(raw).__name__}")
    return config_from_dict(raw, source=str(path))


def config_from_dict(raw: dict[str, Any], source: str = "config.json") -> BertConfig:
    """Build a :class:`BertConfig` from the parsed JSON, checking every field we rely on."""
    architectures = tuple(str(a) for a in raw.get("architectures") or ())
    model_type = raw.get("model_type")
    if model_type is None and any(a.startswith("Bert") for a in architectures):
        model_type = "bert"  # very old checkpoints name only the architecture
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise ModelError(f"{source}: model_type {model_type!r} is not supported; this engine runs "
                         f"BERT-family encoders (model_type {', '.join(map(repr, SUPPORTED_MODEL_TYPES))})")
    position_kind = raw.get("position_embedding_type", "absolute")
    if position_kind != "absolute":
        raise ModelError(f"{source}: position_embedding_type {position_kind!r} is not supported, only 'absolute'")
    act = raw.get("hidden_act", "gelu")
    if act not in ACTIVATIONS:
        raise ModelError(f"{source}: hidden_act {act!r} is not supported; known: {', '.join(ACTIVATIONS)}")
    sizes = {key: _positive_int(raw, key, source) for key in (
        "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
        "max_position_embeddings")}
    type_vocab = _positive_int(raw, "type_vocab_size", source, default=2)
    if sizes["hidden_size"] % sizes["num_attention_heads"]:
        raise ModelError(f"{source}: hidden_size {sizes['hidden_size']} is not divisible by "
                         f"num_attention_heads {sizes['num_attention_heads']}")
    eps = raw.get("layer_norm_eps", 1e-12)
    if not isinstance(eps, (int, float)) or isinstance(eps, bool) or not 0 < eps < 1:
        raise ModelError(f"{source}: layer_norm_eps must be a small positive number, got {eps!r}")
    return BertConfig(**sizes, type_vocab_size=type_vocab, layer_norm_eps=float(eps), hidden_act=act,
                      model_type=model_type, architectures=architectures, name=str(raw.get("_name_or_path", "")))


def _positive_int(raw: dict[str, Any], key: str, source: str, default: int | None = None) -> int:
    value = raw.get(key, default)
    if value is None:
        raise ModelError(f"{source}: the field {key!r} is missing")
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ModelError(f"{source}: {key} must be a positive whole number, got {value!r}")
    return value
