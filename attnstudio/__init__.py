"""AttnStudio: a desktop lab for the attention mechanism of transformers."""

import os

# OpenBLAS's helper threads spin for 2^28 CPU cycles (~0.1 s) after every matrix product before they sleep.
# Between its products the engine runs NumPy's ufuncs (the softmax) on the same two cores, and the spinning
# threads kept the second one busy: attention at n = 1024 took ~1.45× as long with two BLAS threads
# (benchmarks/README.md). 2^16 cycles (~25 µs) still bridges back-to-back products. Only a default — a value
# the user set is kept — and it has no effect if NumPy was imported before AttnStudio.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "16")

from attnstudio._version import __version__  # noqa: E402 (after the environment default above)

__all__ = ["__version__"]
