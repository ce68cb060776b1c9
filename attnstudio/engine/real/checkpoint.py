"""Reading a BERT checkpoint's ``model.safetensors`` into arrays laid out for the row-vector convention.

Letters: V vocabulary size, P positions, T token types, d_model hidden width, d_ff feed-forward width.

Hugging Face stores a linear layer as PyTorch does, ``weight (d_out, d_in)`` applied as ``x @ weight.T``; we
hand every projection out as its transpose, so it reads ``x @ W`` with ``W (d_in, d_out)``, as in the lessons.
The transpose is a view: the numbers stay in PyTorch's C-contiguous ``(d_out, d_in)`` layout (``W`` is
Fortran-ordered), because the engine computes a layer transposed, ``Wᵀ @ xᵀ`` with both operands C-contiguous,
which OpenBLAS does ~10% faster than ``x @ W`` for a sentence of 128 tokens (see ``bert.py``). Query, key and
value are stacked into one ``(d_model, 3 d_model)`` matrix: one matrix product for all three is faster, and
``w_q``/``w_k``/``w_v`` are views of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from attnstudio.engine.real.config import BertConfig
from attnstudio.engine.real.errors import ModelError, require

__all__ = ["BertWeights", "LayerWeights", "Progress", "read_weights"]

Progress = Callable[[float, str], None]  # (fraction done in [0, 1], what is happening); may raise to cancel

_WORD_KEY = "embeddings.word_embeddings.weight"


@dataclass(frozen=True)
class LayerWeights:
    """One encoder block: self-attention, then the feed-forward network, each followed by add & LayerNorm."""

    # Matrices are Fortran-ordered (their transposes are C-contiguous: see the module docstring).
    w_qkv: np.ndarray  # (d_model, 3 d_model)  columns: query | key | value
    b_qkv: np.ndarray  # (3 d_model,)
    w_o: np.ndarray  # (d_model, d_model)  merged heads -> attention output
    b_o: np.ndarray  # (d_model,)
    attn_norm_weight: np.ndarray  # (d_model,)
    attn_norm_bias: np.ndarray  # (d_model,)
    w_ff_in: np.ndarray  # (d_model, d_ff)
    b_ff_in: np.ndarray  # (d_ff,)
    w_ff_out: np.ndarray  # (d_ff, d_model)
    b_ff_out: np.ndarray  # (d_model,)
    out_norm_weight: np.ndarray  # (d_model,)
    out_norm_bias: np.ndarray  # (d_model,)

    def _third(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        d_model = self.w_o.shape[0]
        return self.w_qkv[:, i * d_model:(i + 1) * d_model], self.b_qkv[i * d_model:(i + 1) * d_model]

    @property
    def w_q(self) -> np.ndarray:
        return self._third(0)[0]  # (d_model, d_model)

    @property
    def b_q(self) -> np.ndarray:
        return self._third(0)[1]

    @property
    def w_k(self) -> np.ndarray:
        return self._third(1)[0]

    @property
    def b_k(self) -> np.ndarray:
        return self._third(1)[1]

    @property
    def w_v(self) -> np.ndarray:
        return self._third(2)[0]

    @property
    def b_v(self) -> np.ndarray:
        return self._third(2)[1]


@dataclass(frozen=True)
class BertWeights:
    word_embeddings: np.ndarray  # (V, d_model)
    position_embeddings: np.ndarray  # (P, d_model)
    token_type_embeddings: np.ndarray  # (T, d_model)
    embed_norm_weight: np.ndarray  # (d_model,)
    embed_norm_bias: np.ndarray  # (d_model,)
    layers: tuple[LayerWeights, ...]

    @property
    def dtype(self) -> np.dtype:
        return self.word_embeddings.dtype

    def astype(self, dtype: np.dtype | type) -> BertWeights:
        """A copy in another float dtype (arrays keep their memory order, as the matrix products want it)."""
        def cast(obj):
            return type(obj)(**{f.name: np.asarray(getattr(obj, f.name), dtype=dtype, order="K")
                                for f in fields(obj) if f.name != "layers"})
        base = {f.name: np.asarray(getattr(self, f.name), dtype=dtype, order="K")
                for f in fields(self) if f.name != "layers"}
        return BertWeights(**base, layers=tuple(cast(layer) for layer in self.layers))


class _Reader:
    """Tensors of one safetensors file, by name without the task prefix, shape-checked, in the wanted dtype."""

    def __init__(self, path: Path, config: BertConfig, dtype: np.dtype, progress: Progress | None) -> None:
        safetensors = require("safetensors")
        require("safetensors.numpy")
        self.path, self.dtype, self.progress = path, dtype, progress
        try:
            self.handle = safetensors.safe_open(str(path), framework="numpy")
            self.keys = set(self.handle.keys())
        except Exception as exc:  # SafetensorError, OSError, a header that is not JSON, ...
            raise ModelError(f"{path} could not be read as a safetensors file: {exc}") from exc
        # Task checkpoints (BertForMaskedLM, BertForSequenceClassification, ...) prefix the encoder with "bert.".
        candidates = sorted(k[: -len(_WORD_KEY)] for k in self.keys if k.endswith(_WORD_KEY))
        if not candidates:
            raise ModelError(f"{path} has no tensor '{_WORD_KEY}' (nor with a prefix such as 'bert.'): "
                             f"is this a BERT checkpoint?")
        self.prefix = candidates[0]
        self.expected = 5 + 16 * config.num_hidden_layers
        self.done = 0

    def tensor(self, name: str, shape: tuple[int, ...], transpose: bool = False) -> np.ndarray:
        key = self._key(name)
        try:
            value = self.handle.get_tensor(key)
        except Exception as exc:  # e.g. bfloat16, which NumPy has no type for
            raise ModelError(f"{self.path}: tensor '{key}' could not be read as a NumPy array: {exc}") from exc
        if value.shape != shape:
            raise ModelError(f"{self.path}: tensor '{key}' has shape {tuple(value.shape)}, but config.json "
                             f"implies {shape}")
        if not np.issubdtype(value.dtype, np.floating):
            raise ModelError(f"{self.path}: tensor '{key}' holds {value.dtype}, not floating-point numbers")
        if not np.isfinite(value).all():
            raise ModelError(f"{self.path}: tensor '{key}' contains NaN or infinite numbers")
        self.done += 1
        if self.progress is not None:
            self.progress(min(self.done / self.expected, 1.0), f"reading {key}")
        value = np.ascontiguousarray(value, dtype=self.dtype)
        return value.T if transpose else value  # a transpose is a Fortran-ordered view

    def _key(self, name: str) -> str:
        key = self.prefix + name
        if key in self.keys:
            return key
        # Checkpoints converted from TensorFlow name a LayerNorm's scale and shift gamma and beta.
        old = self.prefix + name.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias",
                                                                                        "LayerNorm.beta")
        if old in self.keys:
            return old
        raise ModelError(f"{self.path} has no tensor '{key}'")


def read_weights(path: Path, config: BertConfig, dtype: np.dtype | type = np.float32,
                 progress: Progress | None = None) -> BertWeights:
    """Read every tensor the encoder needs; buffers (position_ids), the pooler and task heads are ignored."""
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}")
    reader = _Reader(Path(path), config, dtype, progress)
    d_model, d_ff = config.hidden_size, config.intermediate_size
    vec, square = (d_model,), (d_model, d_model)
    t = reader.tensor
    embeddings = dict(
        word_embeddings=t("embeddings.word_embeddings.weight", (config.vocab_size, d_model)),
        position_embeddings=t("embeddings.position_embeddings.weight", (config.max_position_embeddings, d_model)),
        token_type_embeddings=t("embeddings.token_type_embeddings.weight", (config.type_vocab_size, d_model)),
        embed_norm_weight=t("embeddings.LayerNorm.weight", vec),
        embed_norm_bias=t("embeddings.LayerNorm.bias", vec),
    )
    layers = []
    for i in range(config.num_hidden_layers):
        p = f"encoder.layer.{i}."
        qkv = [t(f"{p}attention.self.{part}.weight", square) for part in ("query", "key", "value")]  # (out, in)
        qkv_bias = [t(f"{p}attention.self.{part}.bias", vec) for part in ("query", "key", "value")]
        layers.append(LayerWeights(
            w_qkv=np.concatenate(qkv, axis=0).T,  # (d_model, 3 d_model), Fortran-ordered
            b_qkv=np.concatenate(qkv_bias),
            w_o=t(f"{p}attention.output.dense.weight", square, transpose=True),
            b_o=t(f"{p}attention.output.dense.bias", vec),
            attn_norm_weight=t(f"{p}attention.output.LayerNorm.weight", vec),
            attn_norm_bias=t(f"{p}attention.output.LayerNorm.bias", vec),
            w_ff_in=t(f"{p}intermediate.dense.weight", (d_ff, d_model), transpose=True),
            b_ff_in=t(f"{p}intermediate.dense.bias", (d_ff,)),
            w_ff_out=t(f"{p}output.dense.weight", (d_model, d_ff), transpose=True),
            b_ff_out=t(f"{p}output.dense.bias", vec),
            out_norm_weight=t(f"{p}output.LayerNorm.weight", vec),
            out_norm_bias=t(f"{p}output.LayerNorm.bias", vec),
        ))
    return BertWeights(**embeddings, layers=tuple(layers))
