"""Sinusoidal positional encodings (Vaswani et al., 2017, section 3.5)."""

from __future__ import annotations

import numpy as np

__all__ = ["sinusoidal_positions"]


def sinusoidal_positions(n: int, d: int, base: float = 10000.0, dtype: type = np.float64) -> np.ndarray:
    """The (n, d) table ``PE[pos, 2i] = sin(pos / base^(2i/d))``, ``PE[pos, 2i+1] = cos(pos / base^(2i/d))``.

    Column pairs share one frequency; the first pair turns fastest. For odd ``d`` the last column is the
    sine of one more frequency (its cosine partner is dropped). ``base`` is 10000 in the paper; a smaller
    base makes the slow columns turn fast enough to tell apart the few positions of a short sentence.
    """
    if n < 0 or d < 0:
        raise ValueError(f"sinusoidal_positions needs non-negative sizes, got n={n}, d={d}")
    if not base > 1.0:
        raise ValueError(f"base must be greater than 1, got {base!r}")
    pos = np.arange(n, dtype=np.float64)[:, None]  # (n, 1)
    pair = np.arange(0, d, 2, dtype=np.float64)  # 2i for each frequency
    angle = pos / np.power(base, pair / d)  # (n, ceil(d/2))
    pe = np.empty((n, d), dtype=np.float64)
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : d // 2])
    return pe.astype(dtype)
