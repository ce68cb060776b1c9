"""The attention engine: pure NumPy, no Qt, readable next to the lessons."""

from attnstudio.engine.attention import (
    AttentionResult,
    MultiHeadResult,
    argmax,
    causal_mask,
    check_temperature,
    entropy,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    softmax,
    split_heads,
    uniform_attention,
)
from attnstudio.engine.positions import sinusoidal_positions

__all__ = [
    "AttentionResult",
    "MultiHeadResult",
    "argmax",
    "causal_mask",
    "check_temperature",
    "entropy",
    "merge_heads",
    "multi_head_attention",
    "scaled_dot_product_attention",
    "sinusoidal_positions",
    "softmax",
    "split_heads",
    "uniform_attention",
]
