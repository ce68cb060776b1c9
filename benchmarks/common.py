"""What every benchmark shares: statistics, interleaved timing, the machine's description, test sentences.

Shared machines are noisy, so nothing here reports one absolute number: each case is timed many times and
summarised by its median and p95, and a case is timed *interleaved* with its floor (A, B, A, B, …, order
alternating) so that a burst of noise from a neighbour hits both and the ratio stays meaningful.
"""

from __future__ import annotations

import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "benchmarks" / "results"


# -- statistics -------------------------------------------------------------------------------------------
def summary(seconds: list[float] | np.ndarray) -> dict:
    """Median, p95, min and max in milliseconds of a list of durations in seconds (p95 is ≈ max below 20)."""
    ms = np.asarray(seconds, dtype=np.float64) * 1e3
    if ms.size == 0:
        return {"n": 0}
    return {
        "n": int(ms.size),
        "median_ms": round(float(np.median(ms)), 4),
        "p95_ms": round(float(np.percentile(ms, 95)), 4),
        "min_ms": round(float(ms.min()), 4),
        "max_ms": round(float(ms.max()), 4),
    }


def ratio(case: dict, floor: dict, key: str = "median_ms") -> float | None:
    """``case[key] / floor[key]``, rounded; None when either is missing or the floor is zero."""
    a, b = case.get(key), floor.get(key)
    if a is None or not b:
        return None
    return round(a / b, 3)


def paired_ratio(case: list[float], floor: list[float]) -> float | None:
    """Median of the per-repetition ratios case[i] / floor[i] of interleaved runs (robust to slow drifts)."""
    a, b = np.asarray(case, np.float64), np.asarray(floor, np.float64)
    n = min(a.size, b.size)
    if n == 0 or not (b[:n] > 0).all():
        return None
    return round(float(np.median(a[:n] / b[:n])), 3)


def interleaved(cases: dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict[str, list[float]]:
    """Time each callable ``repeats`` times, round-robin, reversing the order every other round.

    Returns the durations in seconds per case name. ``warmup`` rounds are run first and thrown away.
    """
    names = list(cases)
    for _ in range(warmup):
        for name in names:
            cases[name]()
    times: dict[str, list[float]] = {name: [] for name in names}
    clock = time.perf_counter
    for i in range(repeats):
        for name in (names if i % 2 == 0 else names[::-1]):
            fn = cases[name]
            start = clock()
            fn()
            times[name].append(clock() - start)
    return times


def repeats_for(estimate_s: float, budget_s: float, low: int, high: int) -> int:
    """How many repetitions fit ``budget_s`` for a call of about ``estimate_s`` seconds, within [low, high]."""
    if estimate_s <= 0:
        return high
    return int(max(low, min(high, budget_s / estimate_s)))


# -- the machine -------------------------------------------------------------------------------------------
def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _blas() -> dict:
    try:
        config = np.show_config(mode="dicts")  # NumPy ≥ 2
        blas = config.get("Build Dependencies", {}).get("blas", {})
        return {k: blas.get(k) for k in ("name", "version", "openblas configuration") if blas.get(k)}
    except TypeError:  # NumPy 1.x prints only
        return {"name": "see np.show_config()"}


def machine_info(qt: bool = True) -> dict:
    """nproc, CPU model, Python/NumPy/Qt/pyqtgraph versions and the BLAS NumPy links to."""
    info = {
        "nproc": os.cpu_count(),
        "affinity_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "cpu_model": _cpu_model(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "blas": _blas(),
        "qt_platform": os.environ.get("QT_QPA_PLATFORM", ""),
        "env_threads": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                        if k in os.environ},
    }
    try:
        info["load_avg_at_start"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    if qt:
        try:
            import PySide6
            from PySide6 import QtCore

            info["pyside6"] = PySide6.__version__
            info["qt"] = QtCore.qVersion()
        except ImportError:
            info["pyside6"] = None
        try:
            from importlib.metadata import version

            info["pyqtgraph"] = version("pyqtgraph")  # without importing it
        except Exception:  # noqa: BLE001 (absent or broken metadata: just say so)
            info["pyqtgraph"] = None
    return info


# -- the Qt environment ------------------------------------------------------------------------------------
def qt_environment(home: str | None = None) -> dict[str, str]:
    """Environment for a Qt run: offscreen unless QT_QPA_PLATFORM says otherwise, settings in a temp home.

    The app's QSettings, autosaves and lesson progress go to XDG folders: keep them away from the real ones.
    """
    home = home or tempfile.mkdtemp(prefix="attnstudio-bench-")
    env = {"QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen"), "ATTNSTUDIO_TEST_MODE": "1"}
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                     ("XDG_CACHE_HOME", "cache"), ("XDG_STATE_HOME", "state")):
        folder = os.path.join(home, sub)
        os.makedirs(folder, exist_ok=True)
        env[var] = folder
    return env


def use_qt_environment() -> None:
    """Apply :func:`qt_environment` to this process (call before the QApplication exists)."""
    os.environ.update(qt_environment())


PYCACHE = os.path.join(tempfile.gettempdir(), "attnstudio-bench-pycache")


def child_env(extra: dict[str, str] | None = None, bytecode: bool = True, home: str | None = None) -> dict[str, str]:
    """This process's environment plus the Qt set-up and the repository on PYTHONPATH, for subprocesses.

    ``bytecode``: let Python keep compiled modules (in a cache folder outside the repository), as an installed
    wheel has them; a development shell with PYTHONDONTWRITEBYTECODE=1 recompiles every module of ours at each
    start instead. ``home``: the folder for settings and caches (default: a new temporary one); pass the same
    one to a series of starts to have them find what the previous ones left, as a returning user's would.
    """
    env = dict(os.environ)
    env.update(qt_environment(home))
    env["PYTHONPATH"] = str(REPO) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = PYCACHE
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    env.update(extra or {})
    return env


# -- sentences ---------------------------------------------------------------------------------------------
def sentence_pair(n_tokens: int) -> tuple[str, str]:
    """A French source and its English word-for-word target of exactly ``n_tokens`` tokens each.

    7 gives the seed pair itself; longer ones are lexicon lemmas that are one token in both languages,
    picked with a stride so neighbouring words differ (and translate to each other, as in the seed).
    """
    from attnstudio.engine.lexicon import default_lexicon
    from attnstudio.engine.tokens import tokenize
    from attnstudio.scene import SEED_SOURCE, SEED_TARGET

    if n_tokens == 7:
        return SEED_SOURCE, SEED_TARGET
    lex = default_lexicon()
    fr, en = lex.languages["fr"]["lemmas"], lex.languages["en"]["lemmas"]
    concepts = sorted(c for c in fr if c in en and len(tokenize(fr[c])) == 1 and len(tokenize(en[c])) == 1)
    picked = [concepts[(i * 37) % len(concepts)] for i in range(n_tokens)]
    source, target = " ".join(fr[c] for c in picked), " ".join(en[c] for c in picked)
    assert len(tokenize(source)) == n_tokens == len(tokenize(target)), "sentence builder gave the wrong length"
    return source, target
