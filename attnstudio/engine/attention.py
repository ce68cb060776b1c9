"""Attention in a page of NumPy, written to be read next to the lessons.

Letters used in the shape comments:
    n_q  number of queries (the words asking "what should I look at?")
    n_k  number of keys / values (the words that can be looked at)
    d_k  width of a query or key vector;  d_v  width of a value vector
    h    number of heads;  d_model  width of a token vector before the projections

Row-vector convention throughout: a projection is ``x @ W`` with ``W`` of shape ``(d_in, d_out)``.
Masks are boolean with **True = may attend**, the same convention as PyTorch's boolean ``attn_mask``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from attnstudio.engine.blocked import blocked_attention, softmax_rows

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
    "softmax",
    "split_heads",
    "uniform_attention",
]


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Numerically stable softmax; ``-inf`` entries get 0 and an all ``-inf`` row gets all zeros.

    The textbook way subtracts the row maximum first, so that ``exp`` cannot overflow (softmax is unchanged by
    adding a constant to a row); a row whose maximum is ``-inf`` has no allowed entry and stays all zeros
    instead of the ``nan`` that ``-inf - -inf`` would give. :func:`blocked.softmax_rows` computes exactly that,
    to float rounding, but shifts only the rows that need it (its docstring says which and why).
    """
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    if x.size == 0:
        return x.copy()  # no keys (or no queries): nothing to weigh
    # The row maxima tell whether a row holds NaN (max is NaN) or +inf.
    row_max = np.max(x, axis=axis, keepdims=True)
    if np.isnan(row_max).any():
        raise ValueError("softmax got NaN scores; every score must be a number or -inf (masked)")
    if np.isposinf(row_max).any():
        # The limit of softmax as some scores grow without bound: they share the weight equally.
        top = np.isposinf(x)
        has_top = np.any(top, axis=axis, keepdims=True)
        finite_part = softmax(np.where(top, -np.inf, x), axis=axis)
        counts = np.maximum(np.sum(top, axis=axis, keepdims=True), 1)
        return np.where(has_top, top / counts, finite_part).astype(x.dtype, copy=False)
    weights = np.empty_like(x)
    rows, out = np.moveaxis(x, axis, -1), np.moveaxis(weights, axis, -1)  # views, the axis last
    if x.ndim == 1:
        rows, out = rows[np.newaxis], out[np.newaxis]  # one row
    with np.errstate(over="ignore", under="ignore"):  # overflowing rows are redone shifted; exp(-big) is 0
        softmax_rows(rows, out)
    return weights


def check_temperature(temperature: float) -> float:
    """Return ``temperature`` as a float, or raise a clear error if it is not a positive finite number."""
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise ValueError(f"temperature must be a number, got {temperature!r}") from None
    if not math.isfinite(t) or t <= 0.0:
        raise ValueError(f"temperature must be a positive finite number, got {temperature!r}")
    return t


def causal_mask(n_q: int, n_k: int | None = None) -> np.ndarray:
    """Lower-triangular boolean mask: query ``i`` may attend to keys ``0..i`` (True = may attend).

    With ``n_k > n_q`` the queries are taken to be the *last* ``n_q`` positions, as when a decoder
    continues a longer prefix; with ``n_k == n_q`` it is the plain lower triangle.
    """
    n_k = n_q if n_k is None else n_k
    if n_q < 0 or n_k < 0:
        raise ValueError(f"causal_mask needs non-negative sizes, got n_q={n_q}, n_k={n_k}")
    return np.tril(np.ones((n_q, n_k), dtype=bool), k=n_k - n_q)


@dataclass(frozen=True)
class AttentionResult:
    """What one attention call computed, kept whole so a view can show every stage."""

    scores: np.ndarray  # (..., n_q, n_k)  scaled (and temperature-divided) scores; masked entries are -inf
    weights: np.ndarray  # (..., n_q, n_k)  softmax of scores; each row sums to 1 over allowed keys (or is 0)
    output: np.ndarray  # (..., n_q, d_v)   weights @ values


def _check_qkv(q: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise ValueError(
            f"q, k and v need at least 2 dimensions (..., tokens, width); got shapes {q.shape}, {k.shape}, {v.shape}"
        )
    if q.shape[-1] != k.shape[-1]:
        raise ValueError(f"queries and keys must have the same width d_k; got q {q.shape} and k {k.shape}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError(f"every key needs one value: k has {k.shape[-2]} rows, v has {v.shape[-2]} (shapes {k.shape}, {v.shape})")


_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _result_dtype(*arrays: np.ndarray) -> np.dtype:
    dtype = arrays[0].dtype
    if dtype in _FLOATS and all(a.dtype == dtype for a in arrays):
        return dtype  # the usual case, without NumPy's promotion rules (microseconds at small sizes)
    dtype = np.result_type(*arrays)
    return dtype if np.issubdtype(dtype, np.floating) else np.dtype(np.float64)


def _as_mask(mask: np.ndarray | None, n_q: int, n_k: int) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise ValueError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    if mask.shape[-2:] != (n_q, n_k) and mask.ndim >= 2:
        # Broadcasting rules of NumPy decide; this message only names the common mistake.
        try:
            np.broadcast_shapes(mask.shape, (n_q, n_k))
        except ValueError:
            raise ValueError(f"mask of shape {mask.shape} does not fit scores of shape (..., {n_q}, {n_k})") from None
    return mask


def _finish(scores: np.ndarray, v: np.ndarray, mask: np.ndarray | None) -> AttentionResult:
    if mask is not None:
        scores = np.where(mask, scores, -np.inf).astype(scores.dtype, copy=False)
    weights = softmax(scores, axis=-1)
    output = weights @ v  # (..., n_q, d_v); a row of zero weights gives a zero output
    return AttentionResult(scores=scores, weights=weights, output=output)


def scaled_dot_product_attention(
    q: np.ndarray,
    k: np.ndarray,
    v: np.ndarray,
    mask: np.ndarray | None = None,
    scale: float | None = None,
    temperature: float = 1.0,
) -> AttentionResult:
    """Attention(Q, K, V) = softmax(Q Kᵀ · scale / T) V.

    ``q (..., n_q, d_k)``, ``k (..., n_k, d_k)``, ``v (..., n_k, d_v)``; leading dimensions broadcast.
    ``scale`` defaults to ``1/sqrt(d_k)`` (pass ``1.0`` for plain dot-product attention). ``temperature``
    divides the scores: below 1 the spotlight narrows toward the argmax, above 1 it widens toward uniform.
    A query row with no allowed key gets zero weights and a zero output. The dtype of the inputs is kept.
    """
    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)
    _check_qkv(q, k, v)
    dtype = _result_dtype(q, k, v)
    q, k, v = q.astype(dtype, copy=False), k.astype(dtype, copy=False), v.astype(dtype, copy=False)
    d_k = q.shape[-1]
    if scale is None:
        scale = 1.0 / math.sqrt(d_k) if d_k > 0 else 1.0
    if not math.isfinite(scale):
        raise ValueError(f"scale must be finite, got {scale!r}")
    t = check_temperature(temperature)
    mask = _as_mask(mask, q.shape[-2], k.shape[-2])
    # Scale and temperature are folded into one factor applied to the smaller operand: the product is the
    # same number for the learner, and the work is one multiply of (n_q, d_k) instead of (n_q, n_k).
    factor = dtype.type(scale / t)
    n_q, n_k = q.shape[-2], k.shape[-2]
    # One error state for all that follows (each costs microseconds): overflow is looked for explicitly.
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        q_scaled = q * factor  # (..., n_q, d_k)
        # Proving the scores finite reads q and k (n·d numbers); reading the scores (n²) is cheaper when small
        # (measured at d = 64: the proof costs 0.3-0.7× the check from n = 256 on, 2-4× at n ≤ 128).
        bounded = n_q * n_k > (n_q + n_k) * max(d_k, 1) and _scores_are_bounded(q_scaled, k)
        if dtype in _FLOATS and min(q.size, k.size, v.size) > 0:
            # The usual case: finite scores that cannot overflow. Same numbers, computed in cache-sized blocks.
            # The output may be written over q_scaled (one array fewer); it is not read again.
            found = blocked_attention(q_scaled, k, v, mask, check_finite=not bounded, output_in_q=True)
            if found is not None:
                scores, weights, output = found
                return AttentionResult(scores=scores, weights=weights, output=output)
            finite = False  # a block of scores was not finite
        else:
            scores = q_scaled @ np.swapaxes(k, -1, -2)  # (..., n_q, n_k)
            finite = bounded or bool(np.isfinite(scores).all())
    if not finite:
        scores = _overflow_safe_scores(q, k, scale / t, dtype)
    return _finish(scores, v, mask)


def _scores_are_bounded(q: np.ndarray, k: np.ndarray) -> bool:
    """Whether every score q·k is provably finite, from the vector lengths alone (n·d numbers, not n²).

    Cauchy–Schwarz bounds |q·k|, and every partial sum of it, by ‖q‖·‖k‖: below half the largest float no score
    can overflow. A NaN or infinite input gives a NaN or infinite bound, which proves nothing. Call it under
    ``np.errstate(over="ignore", invalid="ignore")``: the squared lengths of huge vectors overflow.
    """
    if q.size == 0 or k.size == 0:
        return True
    longest_q = np.sqrt(np.max(np.einsum("...i,...i->...", q, q)))
    longest_k = np.sqrt(np.max(np.einsum("...i,...i->...", k, k)))
    return bool(longest_q * longest_k < np.finfo(q.dtype).max / 2)


def _overflow_safe_scores(q: np.ndarray, k: np.ndarray, factor: float, dtype: np.dtype) -> np.ndarray:
    """Scores for inputs so large that q·k overflows: clip to the largest float instead of inf.

    Softmax only needs the differences within a row, so a row whose scores saturate becomes a tie between
    the saturated keys; that is the honest answer within floating point, and it is never NaN.
    """
    big = np.finfo(dtype).max
    with np.errstate(over="ignore", invalid="ignore"):
        scores = (q.astype(np.float64) * factor) @ np.swapaxes(k.astype(np.float64), -1, -2)
    scores = np.nan_to_num(scores, nan=0.0, posinf=big, neginf=-big)
    return np.clip(scores, -big, big).astype(dtype)


def uniform_attention(v: np.ndarray, mask: np.ndarray | None = None, n_q: int | None = None) -> AttentionResult:
    """The equal-weighting baseline: every allowed key gets the same weight, whatever the query asks.

    ``v (..., n_k, d_v)``. Without a mask there are ``n_q`` identical rows (default ``n_q = n_k``); with a
    mask of shape ``(..., n_q, n_k)`` each row spreads its weight evenly over its allowed keys.
    """
    v = np.asarray(v)
    if v.ndim < 2:
        raise ValueError(f"v needs shape (..., n_k, d_v), got {v.shape}")
    dtype = _result_dtype(v)
    v = v.astype(dtype, copy=False)
    n_k = v.shape[-2]
    if mask is not None:
        mask = np.asarray(mask)
        n_q = mask.shape[-2] if n_q is None else n_q
    n_q = n_k if n_q is None else n_q
    scores = np.zeros(v.shape[:-2] + (n_q, n_k), dtype=dtype)  # equal scores -> equal weights
    return _finish(scores, v, _as_mask(mask, n_q, n_k))


def entropy(weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats of each weight row: 0 for a one-hot spotlight, log(n) for a uniform one."""
    w = np.asarray(weights, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(w > 0, -w * np.log(np.where(w > 0, w, 1.0)), 0.0)
    return np.sum(terms, axis=axis)


def argmax(weights: np.ndarray, axis: int = -1) -> np.ndarray:
    """Index of the most-attended key of each row (the first one on a tie)."""
    return np.argmax(np.asarray(weights), axis=axis)


def split_heads(x: np.ndarray, num_heads: int) -> np.ndarray:
    """(n, d_model) -> (h, n, d_model // h): head ``i`` reads the ``i``-th block of columns."""
    n, d_model = x.shape[-2], x.shape[-1]
    _check_heads(d_model, num_heads)
    d_head = d_model // num_heads
    return np.swapaxes(x.reshape(x.shape[:-2] + (n, num_heads, d_head)), -3, -2)  # (..., h, n, d_head)


def merge_heads(x: np.ndarray) -> np.ndarray:
    """(h, n, d_head) -> (n, h * d_head): the inverse of :func:`split_heads`."""
    h, n, d_head = x.shape[-3], x.shape[-2], x.shape[-1]
    return np.swapaxes(x, -3, -2).reshape(x.shape[:-3] + (n, h * d_head))


def _check_heads(d_model: int, num_heads: int) -> None:
    if not isinstance(num_heads, (int, np.integer)) or num_heads < 1:
        raise ValueError(f"num_heads must be a positive whole number, got {num_heads!r}")
    if d_model % num_heads:
        divisors = [h for h in range(1, d_model + 1) if d_model % h == 0]
        raise ValueError(
            f"{num_heads} heads do not divide the model width {d_model}; choose one of {divisors}"
        )


@dataclass(frozen=True)
class MultiHeadResult:
    """Multi-head attention with every intermediate a learner may want to inspect."""

    output: np.ndarray  # (n_q, d_model)      merged heads @ W_O
    weights: np.ndarray  # (h, n_q, n_k)
    scores: np.ndarray  # (h, n_q, n_k)
    q: np.ndarray  # (h, n_q, d_head)
    k: np.ndarray  # (h, n_k, d_head)
    v: np.ndarray  # (h, n_k, d_head)
    head_outputs: np.ndarray  # (h, n_q, d_head)


def multi_head_attention(
    x_q: np.ndarray,
    x_kv: np.ndarray,
    w_q: np.ndarray,
    w_k: np.ndarray,
    w_v: np.ndarray,
    w_o: np.ndarray,
    num_heads: int,
    mask: np.ndarray | None = None,
    scale: float | None = None,
    temperature: float = 1.0,
) -> MultiHeadResult:
    """Project, split into heads, attend in every head at once, merge, and project out.

    ``x_q (n_q, d_in)`` are the tokens that ask, ``x_kv (n_k, d_in)`` the tokens that are looked at
    (the same array for self-attention). ``w_q, w_k, w_v`` are ``(d_in, d_model)``, ``w_o`` is
    ``(d_model, d_out)``. ``scale`` defaults to ``1/sqrt(d_head)``.
    """
    x_q, x_kv = np.asarray(x_q), np.asarray(x_kv)
    w_q, w_k, w_v, w_o = (np.asarray(w) for w in (w_q, w_k, w_v, w_o))
    if x_q.ndim != 2 or x_kv.ndim != 2:
        raise ValueError(f"x_q and x_kv must be (tokens, width); got {x_q.shape} and {x_kv.shape}")
    for name, w, x in (("w_q", w_q, x_q), ("w_k", w_k, x_kv), ("w_v", w_v, x_kv)):
        if w.ndim != 2 or w.shape[0] != x.shape[1]:
            raise ValueError(f"{name} must have shape ({x.shape[1]}, d_model) to project tokens of width {x.shape[1]}; got {w.shape}")
    if w_q.shape[1] != w_k.shape[1]:
        raise ValueError(f"w_q and w_k must give the same width; got {w_q.shape} and {w_k.shape}")
    if w_o.ndim != 2 or w_o.shape[0] != w_v.shape[1]:
        raise ValueError(f"w_o must have shape ({w_v.shape[1]}, d_out); got {w_o.shape}")
    _check_heads(w_q.shape[1], num_heads)
    _check_heads(w_v.shape[1], num_heads)
    q = split_heads(x_q @ w_q, num_heads)  # (h, n_q, d_head)
    k = split_heads(x_kv @ w_k, num_heads)  # (h, n_k, d_head)
    v = split_heads(x_kv @ w_v, num_heads)  # (h, n_k, d_head_v)
    att = scaled_dot_product_attention(q, k, v, mask=mask, scale=scale, temperature=temperature)
    output = merge_heads(att.output) @ w_o  # (n_q, d_out)
    return MultiHeadResult(
        output=output, weights=att.weights, scores=att.scores, q=q, k=k, v=v, head_outputs=att.output
    )
