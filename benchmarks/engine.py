"""Engine throughput: attention against the two matrix multiplies it cannot avoid, on the same shapes.

``scaled_dot_product_attention`` on ``(h, n, d)`` = (8, n, 64) arrays must at least compute ``Q Kᵀ`` and
``weights V``; the floor is exactly those two ``np.matmul`` calls, timed interleaved with the engine in the
same run. ``multi_head_attention`` (d_model 512, 8 heads) is shown against the same two matmuls and against
all six it does (three projections in, two in attention, one out). PyTorch's fused SDPA, when installed, is
a peer (it returns only the output; ours also keeps the scores and weights a learner inspects).

Each SDPA case also times ``softmax_minimum`` in the same interleaved run: the engine's softmax kernel over as
many scores as the case has, in cache, plus the first touch of one more fresh n² array (the floor's Q·Kᵀ makes
one, the engine returns two). Floor + that minimum is what NumPy's ufuncs cannot go below; the case's
``decomposition`` gives it as a ratio to the floor, and the engine's time against it.

Each thread configuration runs in its own process (BLAS reads its thread count when NumPy loads): the default
(OpenBLAS uses every core) and one thread. On a loaded 2-core machine the default's BLAS threads wait for each
other for whole scheduler slices, which can swamp both the engine and its floor; one thread is the comparison
that stays readable then. ``load_avg`` is recorded before and after every case.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import attnstudio  # noqa: F401, I001 (first: it sets OpenBLAS's idle-spin default before NumPy loads, as the app does)
import numpy as np

from benchmarks.common import REPO, interleaved, paired_ratio, ratio, repeats_for, summary

HEADS, D_HEAD = 8, 64
D_MODEL = HEADS * D_HEAD
SIZES = (64, 128, 256, 512, 1024, 2048)
QUICK_SIZES = (64, 128)
DTYPES = ("float32", "float64")
TARGET_RATIO = 1.5
THREAD_CONFIGS = {"default_threads": {}, "one_thread": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                                                         "MKL_NUM_THREADS": "1"}}


def _torch():
    try:
        import torch
    except ImportError:
        return None
    return torch


def _estimate(fn, tries: int = 2) -> float:
    best = float("inf")
    for _ in range(tries):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def _softmax_minimum(scores: np.ndarray):
    """The softmax work the engine cannot skip beyond its floor's matmuls, as a callable timed beside them.

    The floor's Q·Kᵀ writes one fresh n² array; the engine returns two (scores and weights), so its second one's
    first touch (page faults and one write: ``np.empty(...).fill(0)``) is counted, and the engine's own softmax
    kernel (exp, row sums, the rows scaled by 1/Σ: ``blocked.softmax_rows``) is run over as many scores as the
    case has, a piece of its first rows at a time that stays in cache — no main-memory traffic at all. With a
    threaded BLAS both run half on each of the engine's worker threads, as the engine's blocks do.
    """
    from attnstudio.engine import blocked

    heads, n_q, n_k = scores.shape
    rows = max(1, min(heads * n_q, blocked.SOFTMAX_BYTES // (n_k * scores.itemsize)))
    hot_scores = np.ascontiguousarray(scores.reshape(-1, n_k)[:rows])  # (rows, n_k): real values, in cache
    pieces = -(-heads * n_q // rows)
    # Two threads where the engine takes two (enough scores for its blocks to be shared), else one.
    pool = blocked._pool() if scores.nbytes >= min(blocked.PARALLEL_BYTES, blocked.SPLIT_BYTES) else None
    workers = blocked._WORKERS if pool is not None else 1
    scratch = [np.empty_like(hot_scores) for _ in range(workers)]

    def part(i: int) -> None:
        fresh = np.empty((heads * n_q // workers, n_k), scores.dtype)  # this thread's share of the weights
        fresh.fill(0)
        with np.errstate(over="ignore", under="ignore"):
            for _ in range(i, pieces, workers):
                blocked.softmax_rows(hot_scores, scratch[i])

    def minimum() -> None:
        jobs = [pool.submit(part, i) for i in range(1, workers)] if pool is not None else []
        part(0)
        for job in jobs:
            job.result()

    return minimum


def _sdpa_case(n: int, dtype: str, rng: np.random.Generator, budget: float, low: int, high: int, torch) -> dict:
    from attnstudio.engine import scaled_dot_product_attention

    q, k, v = (rng.standard_normal((HEADS, n, D_HEAD)).astype(dtype) for _ in range(3))  # (h, n, d)
    first = scaled_dot_product_attention(q, k, v)
    weights = first.weights  # (h, n, n): realistic values for the floor
    k_t = np.swapaxes(k, -1, -2)  # (h, d, n), a view, as the engine uses

    def engine() -> None:
        scaled_dot_product_attention(q, k, v)

    def floor() -> None:
        np.matmul(q, k_t)
        np.matmul(weights, v)

    reps = repeats_for(_estimate(engine) + _estimate(floor), budget, low, high)
    times = interleaved({"engine": engine, "two_matmuls": floor, "softmax_minimum": _softmax_minimum(first.scores)},
                        reps, warmup=1)
    if torch is not None:
        # Timed apart, after: torch's OpenMP workers spin-wait after each call and would steal the cores
        # NumPy's BLAS threads need, if the calls were interleaved.
        tq, tk, tv = (torch.from_numpy(a) for a in (q, k, v))

        def peer() -> None:
            with torch.no_grad():
                torch.nn.functional.scaled_dot_product_attention(tq, tk, tv)

        times.update(interleaved({"torch_sdpa": peer}, reps, warmup=1))
        time.sleep(0.2)  # let its workers fall asleep before the next NumPy case
    stats = {name: summary(t) for name, t in times.items()}
    flops = 2 * 2 * HEADS * n * n * D_HEAD  # two matmuls of (n × d) · (d × n) and (n × n) · (n × d) per head
    out = {
        "function": "scaled_dot_product_attention", "n": n, "dtype": dtype, "shape": [HEADS, n, D_HEAD],
        "repeats": reps, "stats": stats,
        "ratio_vs_two_matmuls": ratio(stats["engine"], stats["two_matmuls"]),
        "ratio_vs_two_matmuls_p95": ratio(stats["engine"], stats["two_matmuls"], "p95_ms"),
        "ratio_vs_two_matmuls_min": ratio(stats["engine"], stats["two_matmuls"], "min_ms"),
        "paired_ratio_vs_two_matmuls": paired_ratio(times["engine"], times["two_matmuls"]),
        "floor_gflops": round(flops / (stats["two_matmuls"]["median_ms"] * 1e6), 2),
    }
    out["decomposition"] = _decomposition(stats, "two_matmuls")
    if "torch_sdpa" in stats:
        out["ratio_vs_torch_sdpa"] = ratio(stats["engine"], stats["torch_sdpa"])
    out["within_target"] = out["ratio_vs_two_matmuls"] is not None and out["ratio_vs_two_matmuls"] <= TARGET_RATIO
    return out


def _mha_case(n: int, dtype: str, rng: np.random.Generator, budget: float, low: int, high: int) -> dict:
    from attnstudio.engine import merge_heads, multi_head_attention, split_heads

    x = rng.standard_normal((n, D_MODEL)).astype(dtype)  # (n, d_model)
    # Scaled before the cast: a float32 array divided by NumPy's float64 sqrt is float64 (NEP 50), and the
    # "float32" case computed in float64 until this was noticed.
    w_q, w_k, w_v, w_o = ((rng.standard_normal((D_MODEL, D_MODEL)) / np.sqrt(D_MODEL)).astype(dtype) for _ in range(4))
    first = multi_head_attention(x, x, w_q, w_k, w_v, w_o, HEADS)
    assert first.weights.dtype == first.output.dtype == np.dtype(dtype), (first.weights.dtype, dtype)
    q, k, v, weights = first.q, first.k, first.v, first.weights  # (h, n, d_head), (h, n, n)
    k_t = np.swapaxes(k, -1, -2)
    merged = merge_heads(first.head_outputs)  # (n, d_model)

    def engine() -> None:
        multi_head_attention(x, x, w_q, w_k, w_v, w_o, HEADS)

    def two() -> None:
        np.matmul(q, k_t)
        np.matmul(weights, v)

    def six() -> None:
        split_heads(np.matmul(x, w_q), HEADS)
        split_heads(np.matmul(x, w_k), HEADS)
        split_heads(np.matmul(x, w_v), HEADS)
        np.matmul(q, k_t)
        np.matmul(weights, v)
        np.matmul(merged, w_o)

    reps = repeats_for(_estimate(engine) + _estimate(six), budget, low, high)
    times = interleaved({"engine": engine, "two_matmuls": two, "six_matmuls": six,
                         "softmax_minimum": _softmax_minimum(first.scores)}, reps, warmup=1)
    stats = {name: summary(t) for name, t in times.items()}
    out = {
        "function": "multi_head_attention", "n": n, "dtype": dtype, "d_model": D_MODEL, "heads": HEADS,
        "repeats": reps, "stats": stats,
        "ratio_vs_two_matmuls": ratio(stats["engine"], stats["two_matmuls"]),
        "ratio_vs_six_matmuls": ratio(stats["engine"], stats["six_matmuls"]),
        "ratio_vs_six_matmuls_p95": ratio(stats["engine"], stats["six_matmuls"], "p95_ms"),
        "ratio_vs_six_matmuls_min": ratio(stats["engine"], stats["six_matmuls"], "min_ms"),
        "paired_ratio_vs_six_matmuls": paired_ratio(times["engine"], times["six_matmuls"]),
    }
    out["decomposition"] = _decomposition(stats, "six_matmuls")
    # The projections are matmuls it must do too: the fair floor of the whole layer is all six.
    out["within_target"] = out["ratio_vs_six_matmuls"] is not None and out["ratio_vs_six_matmuls"] <= TARGET_RATIO
    return out


def _decomposition(stats: dict, floor: str) -> dict:
    """The floor plus what no engine returning scores and weights can skip (see _softmax_minimum): how close to
    the floor NumPy's ufuncs can come at all, and the engine against that."""
    floor_plus = stats[floor]["median_ms"] + stats["softmax_minimum"]["median_ms"]
    return {
        "softmax_minimum_ms": stats["softmax_minimum"]["median_ms"],
        "floor_plus_minimum_ms": round(floor_plus, 4),
        "minimum_ratio": round(floor_plus / stats[floor]["median_ms"], 3),
        "engine_vs_floor_plus_minimum": round(stats["engine"]["median_ms"] / floor_plus, 3),
    }


def _load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(quick: bool = False, sizes: tuple[int, ...] | None = None) -> dict:
    """All cases in this process, with whatever BLAS threading it started with."""
    torch = _torch()
    sizes = sizes or (QUICK_SIZES if quick else SIZES)
    budget, low, high = (0.05, 3, 3) if quick else (2.5, 9, 300)
    rng = np.random.default_rng(20240611)
    cases = []
    for dtype in DTYPES:
        for n in sizes:
            for make in (lambda: _sdpa_case(n, dtype, rng, budget, low, high, torch),
                         lambda: _mha_case(n, dtype, rng, budget, low, high)):
                before = _load()
                case = make()
                case["load_avg"] = {"before": before, "after": _load()}
                cases.append(case)
    notes = []
    if torch is None:
        notes.append("PyTorch not installed: torch peer skipped")
    else:
        notes.append(f"torch {torch.__version__} with {torch.get_num_threads()} threads; it returns only the output")
    return {"blas_threads_env": {k: os.environ.get(k) for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")},
            "cases": cases, "notes": notes}


def run(quick: bool = False) -> dict:
    """Each thread configuration in a fresh process (``python -m benchmarks.engine``)."""
    configs = {}
    for name, extra in THREAD_CONFIGS.items():
        out = tempfile.mktemp(prefix=f"attnstudio-bench-engine-{name}-", suffix=".json")
        env = {**os.environ, **extra}
        command = [sys.executable, "-m", "benchmarks.engine", "--output", out, *(["--quick"] if quick else [])]
        proc = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"engine benchmark ({name}) failed: {proc.stderr[-3000:]}")
        with open(out, encoding="utf-8") as fh:
            configs[name] = json.load(fh)
        os.unlink(out)
    return {"target_ratio": TARGET_RATIO, "heads": HEADS, "d_head": D_HEAD, "configs": configs,
            "notes": ["floor = exactly the two np.matmul calls (Q·Kᵀ and weights·V) on the same arrays, timed "
                      "interleaved with the engine",
                      "multi_head_attention target is judged against all six matmuls it must do (projections included)",
                      "NumPy's BLAS matmuls use every core (default_threads); the engine's softmax takes its row blocks on two "
                      "threads (attnstudio/engine/blocked.py)",
                      "one_thread: OPENBLAS_NUM_THREADS=1, the same comparison without BLAS threads"]}


def _case_lines(cases: list[dict]) -> list[str]:
    lines = [f"{'function (floor)':<26}{'dtype':<9}{'n':>6}{'reps':>6}{'engine med/p95 ms':>22}{'floor med/p95 ms':>22}"
             f"{'ratio':>8}{'min':>7}{'paired':>8}{'torch':>8}{'load':>7}{'least':>7}{'×least':>8}"]
    nan = float("nan")
    for c in cases:
        s = c["stats"]
        two = c["function"].startswith("scaled")
        floor = "two_matmuls" if two else "six_matmuls"
        suffix = "_vs_two_matmuls" if two else "_vs_six_matmuls"
        r, r_min, paired = c["ratio" + suffix], c["ratio" + suffix + "_min"], c["paired_ratio" + suffix]
        torch_ratio = c.get("ratio_vs_torch_sdpa")
        name = ("sdpa (2 matmuls)" if two else "multi_head (6 matmuls)")
        lines.append(f"{name:<26}{c['dtype']:<9}{c['n']:>6}{c['repeats']:>6}"
                     f"{s['engine']['median_ms']:>12.3f}/{s['engine']['p95_ms']:<9.3f}"
                     f"{s[floor]['median_ms']:>12.3f}/{s[floor]['p95_ms']:<9.3f}"
                     f"{r:>8.2f}{r_min:>7.2f}{paired if paired is not None else nan:>8.2f}"
                     f"{torch_ratio if torch_ratio is not None else nan:>8.2f}{c['load_avg']['before'][0]:>7.2f}"
                     f"{c.get('decomposition', {}).get('minimum_ratio', nan):>7.2f}"
                     f"{c.get('decomposition', {}).get('engine_vs_floor_plus_minimum', nan):>8.2f}")
    return lines


def report(result: dict) -> list[str]:
    lines = []
    for name, config in result["configs"].items():
        lines.append(f"-- {name} --")
        lines.extend(_case_lines(config["cases"]))
    lines.append("ratio = engine median / floor median; min = ratio of the fastest runs; paired = median of "
                 "per-repetition ratios; torch = engine / torch SDPA; load = 1-min load average before the case; "
                 "least = (floor + softmax_minimum) / floor, what an engine returning scores and weights cannot go "
                 "below with NumPy's ufuncs (its softmax kernel on scores in cache, one more fresh n² array touched); "
                 "×least = engine / (floor + softmax_minimum)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="engine cases in this process (see run())")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    with open(args.output, "w", encoding="utf-8") as fh:
        json.dump(measure(args.quick), fh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
