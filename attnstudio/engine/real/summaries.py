"""Summaries of a real model's attention a learner compares heads with: head average, rollout, a q–k plane.

Letters as in :mod:`attnstudio.engine.real.bert`: L layers, h heads, n tokens, d_head per-head width.
No Qt: the window and the command line share these.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["attention_rollout", "head_average", "keep_tokens", "query_key_plane"]


def head_average(attentions: np.ndarray, layer: int) -> np.ndarray:
    """(n, n): the mean of one layer's heads; rows still sum to 1."""
    attentions = np.asarray(attentions, dtype=np.float64)  # (L, h, n, n)
    if attentions.ndim != 4:
        raise ValueError(f"attentions must be (L, h, n, n), got shape {attentions.shape}")
    return attentions[layer].mean(axis=0)


def attention_rollout(attentions: np.ndarray, layer: int | None = None) -> np.ndarray:
    """(n, n): attention rollout (Abnar & Zuidema 2020) from the embeddings up to ``layer`` (default: the top).

    Each layer's head average is mixed half-and-half with the identity, for the residual connection that
    carries every token past the attention, rows renormalised; the layers are then multiplied in order:
    ``R = Ã_layer · … · Ã_1 · Ã_0``. ``R[i, j]`` is how much of token ``j``'s input reaches token ``i``.
    """
    attentions = np.asarray(attentions, dtype=np.float64)  # (L, h, n, n)
    if attentions.ndim != 4 or attentions.shape[-1] != attentions.shape[-2]:
        raise ValueError(f"attentions must be (L, h, n, n), got shape {attentions.shape}")
    top = attentions.shape[0] - 1 if layer is None else layer
    if not 0 <= top < attentions.shape[0]:
        raise ValueError(f"layer must be in 0..{attentions.shape[0] - 1}, got {layer}")
    n = attentions.shape[-1]
    rollout = np.eye(n)
    for index in range(top + 1):
        mixed = 0.5 * attentions[index].mean(axis=0) + 0.5 * np.eye(n)  # (n, n)
        mixed /= mixed.sum(axis=1, keepdims=True)
        rollout = mixed @ rollout  # (n, n)
    return rollout


def keep_tokens(weights: np.ndarray, keep: Sequence[int], renormalise: bool = True) -> np.ndarray:
    """(m, m): the rows and columns of ``keep`` only; rows renormalised to sum to 1 (when they hold any weight)."""
    keep = np.asarray(keep, dtype=int)
    part = np.asarray(weights, dtype=np.float64)[np.ix_(keep, keep)]  # (m, m)
    if renormalise and part.size:
        sums = part.sum(axis=1, keepdims=True)
        part = np.divide(part, sums, out=np.zeros_like(part), where=sums > 0)
    return part


def query_key_plane(q: np.ndarray, k: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 2-D plane closest to one head's queries and keys: (mean (d_head,), basis (d_head, 2)).

    PCA of the centred stack of q and k rows (an SVD); the basis columns are orthonormal, so a point moved by
    ``delta`` in the plane is the vector moved by ``basis @ delta`` in the head's space, and back again.
    A head with fewer than two directions of spread gets its missing axes from the identity.
    """
    q, k = np.asarray(q, dtype=np.float64), np.asarray(k, dtype=np.float64)
    if q.ndim != 2 or k.ndim != 2 or q.shape[1] != k.shape[1]:
        raise ValueError(f"q and k must be (n, d_head) with one d_head, got {q.shape} and {k.shape}")
    stack = np.concatenate([q, k])  # (2n, d_head)
    mean = stack.mean(axis=0)
    _, _, vt = np.linalg.svd(stack - mean, full_matrices=False)  # vt: (min(2n, d_head), d_head)
    basis = vt[:2].T  # (d_head, 2)
    if basis.shape[1] < 2:
        basis = np.linalg.qr(np.column_stack([basis, np.eye(q.shape[1])[:, :2]]))[0][:, :2]
    return mean, basis
