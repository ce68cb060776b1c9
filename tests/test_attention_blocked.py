"""The cache-blocked attention (engine/blocked.py) gives the numbers of the plain formula, block edges or not."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from attnstudio.engine import blocked, scaled_dot_product_attention, softmax


def _reference(q, k, v, mask=None, scale=None):
    """The formula in three whole-matrix lines, for comparison."""
    scale = 1.0 / np.sqrt(q.shape[-1]) if scale is None else scale
    scores = (q * q.dtype.type(scale)) @ np.swapaxes(k, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf).astype(q.dtype)
    weights = softmax(scores)
    return scores, weights, weights @ v


@pytest.fixture
def small_blocks(monkeypatch):
    # Blocks of a few rows, so that a test-sized matrix crosses many block edges (and both threads get work).
    monkeypatch.setattr(blocked, "BLOCK_BYTES", 1)
    monkeypatch.setattr(blocked, "ROW_ALIGN", 8)
    monkeypatch.setattr(blocked, "PARALLEL_BYTES", 1)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_many_blocks_match_the_formula(small_blocks, dtype):
    rng = np.random.default_rng(3)
    q, k, v = (rng.standard_normal((3, 45, 16)).astype(dtype) for _ in range(3))
    mask = rng.random((45, 45)) < 0.6
    mask[7] = False  # a query that may attend nothing: zero weights, zero output
    r = scaled_dot_product_attention(q, k, v, mask=mask)
    scores, weights, output = _reference(q, k, v, mask)
    tol = 1e-6 if dtype == "float32" else 1e-14
    np.testing.assert_allclose(r.scores, scores, rtol=tol, atol=tol)
    np.testing.assert_allclose(r.weights, weights, rtol=tol, atol=tol)
    np.testing.assert_allclose(r.output, output, rtol=tol, atol=tol)
    assert r.weights.dtype == r.output.dtype == np.dtype(dtype)
    assert not r.weights[:, 7].any() and not r.output[:, 7].any()


def test_threads_and_block_sizes_do_not_change_a_bit(monkeypatch):
    rng = np.random.default_rng(4)
    q, k, v = (rng.standard_normal((2, 400, 64)) for _ in range(3))
    mask = np.tril(np.ones((400, 400), dtype=bool))
    one_block = scaled_dot_product_attention(q, k, v, mask=mask)
    monkeypatch.setattr(blocked, "BLOCK_BYTES", 1)
    monkeypatch.setattr(blocked, "PARALLEL_BYTES", 1)
    for workers in (1, 2):
        monkeypatch.setattr(blocked, "_WORKERS", workers)
        many = scaled_dot_product_attention(q, k, v, mask=mask)
        for name in ("scores", "weights", "output"):
            np.testing.assert_array_equal(getattr(many, name), getattr(one_block, name))


def test_leading_dimensions_and_mask_broadcast_through_the_blocks(small_blocks):
    rng = np.random.default_rng(5)
    q = rng.standard_normal((2, 1, 20, 8))
    k, v = rng.standard_normal((3, 30, 8)), rng.standard_normal((30, 5))
    mask = rng.random((2, 3, 20, 30)) < 0.5
    r = scaled_dot_product_attention(q, k, v, mask=mask)
    assert r.scores.shape == (2, 3, 20, 30) and r.output.shape == (2, 3, 20, 5)
    scores, weights, output = _reference(q, k, v, mask)
    np.testing.assert_allclose(r.weights, weights, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(r.output, output, rtol=1e-13, atol=1e-15)


def test_scores_that_overflow_leave_the_blocks_for_the_careful_path(small_blocks):
    q = np.full((1, 40, 4), 1e300)
    with np.errstate(all="raise"):
        r = scaled_dot_product_attention(q, q, q)
    assert np.isfinite(r.weights).all() and np.isfinite(r.output).all()
    np.testing.assert_allclose(r.weights.sum(axis=-1), 1.0)


def test_a_mask_of_one_row_applies_to_every_block(small_blocks):
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((2, 50, 8)) for _ in range(3))
    mask = rng.random((1, 50)) < 0.5  # the same keys hidden from every query
    r = scaled_dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_allclose(r.weights, _reference(q, k, v, mask)[1], rtol=1e-14, atol=1e-15)
    assert not r.weights[..., ~mask[0]].any()


def test_a_real_models_heads_split_over_two_threads_do_not_change_a_bit(monkeypatch):
    rng = np.random.default_rng(6)
    q, k, v = (rng.standard_normal((12, 128, 32)).astype(np.float32) for _ in range(3))  # MiniLM's shape
    monkeypatch.setattr(blocked, "_WORKERS", 1)
    serial = scaled_dot_product_attention(q, k, v)
    monkeypatch.setattr(blocked, "_WORKERS", 2)
    split = scaled_dot_product_attention(q, k, v)  # one block of every head → six heads per thread
    for name in ("scores", "weights", "output"):
        np.testing.assert_array_equal(getattr(split, name), getattr(serial, name))


def test_rows_in_parallel_is_the_function_itself(monkeypatch):
    from attnstudio.engine.real.special import gelu

    x = np.random.default_rng(7).standard_normal((128, 1536)).astype(np.float32)
    calls = []
    monkeypatch.setattr(blocked, "_WORKERS", 2)
    halves = blocked.rows_in_parallel(lambda part: calls.append(len(part)) or gelu(part), x)
    assert calls == [64, 64]  # two halves, one per thread …
    np.testing.assert_array_equal(halves, gelu(x))  # … and the same numbers to the last bit
    calls.clear()
    monkeypatch.setattr(blocked, "_WORKERS", 1)  # one core (BLAS told to use one thread): one call
    one = blocked.rows_in_parallel(lambda part: calls.append(len(part)) or gelu(part), x)
    assert calls == [128] and np.array_equal(one, gelu(x))


# -- the softmax without a max pass (blocked.softmax_rows) --------------------------------------------------


def _textbook(scores):
    """exp(s - row max) / Σ in long double: the reference the engine must meet to float rounding."""
    s = np.asarray(scores, np.longdouble)
    row_max = np.max(s, axis=-1, keepdims=True)
    row_max[np.isneginf(row_max)] = 0
    e = np.exp(s - row_max)
    total = e.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    return e / total


def _assert_textbook(weights, scores, ulps):
    ref = _textbook(scores)
    tiny = np.finfo(weights.dtype).tiny
    normal = ref >= tiny  # subnormal weights carry no relative precision in any form of the formula
    rel = np.abs(weights[normal] - ref[normal]) / ref[normal]
    assert rel.max(initial=0) <= ulps * np.finfo(weights.dtype).eps
    assert (np.abs(weights[~normal] - ref[~normal]) <= tiny).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_rows_that_need_the_shift_are_shifted(dtype):
    # exp(s) of the first rows overflows (or its sum does, or 1/Σ would be subnormal); the next rows are so
    # negative that Σ exp(s) < 1 (weights would lose precision to underflow); then an empty row, and an easy one.
    big = float(np.log(np.finfo(dtype).max))  # exp(big) is the largest float
    rows = [
        [big + 5, big, 0.0, -3.0],
        [big - 0.5, big - 0.5, big - 0.6, 1.0],  # each term fits, their sum does not
        [big - 1, big - 9, 0.0, 1.0],  # the sum fits, but 1/Σ would be a subnormal float
        [big - 2, big - 9, 0.0, 1.0],  # ... and just not here: no shift needed
        [-0.5 * big, -0.5 * big - 1, -np.inf, -0.5 * big - 40],
        [-2 * big, -2 * big - 0.5, -2 * big - 60, -np.inf],  # exp underflows to 0 for every one of them
        [-1.0, -1.5, -2.0, -30.0],  # Σ < 1
        [-np.inf] * 4,
        [0.5, -1.0, 2.0, -np.inf],
    ]
    scores = np.array(rows, dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not one warning
        weights = softmax(scores)
    assert weights.dtype == np.dtype(dtype) and np.isfinite(weights).all()
    _assert_textbook(weights, scores, ulps=4)
    np.testing.assert_array_equal(weights[7], 0.0)
    np.testing.assert_allclose(np.delete(weights, 7, axis=0).sum(axis=-1), 1.0, rtol=4 * np.finfo(dtype).eps)
    # Row by row (one row alone takes the same path as in a block): the same numbers.
    for i, row in enumerate(scores):
        np.testing.assert_array_equal(softmax(row), weights[i])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_blocks_shift_rows_whose_exp_overflows(small_blocks, dtype):
    rng = np.random.default_rng(8)
    q, k, v = (rng.standard_normal((2, 40, 16)).astype(dtype) for _ in range(3))
    q[:, ::3] *= 200 if dtype == "float32" else 2000  # every third query: scores in the hundreds (thousands)
    q[:, 1::3] *= -200 if dtype == "float32" else -2000  # ... or all very negative where k is aligned
    mask = rng.random((40, 40)) < 0.7
    mask[5] = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = scaled_dot_product_attention(q, k, v, mask=mask)
    assert np.isfinite(r.weights).all() and np.isfinite(r.output).all()
    _assert_textbook(r.weights, r.scores, ulps=4)
    assert not r.weights[:, 5].any() and not r.output[:, 5].any()
    np.testing.assert_array_equal(r.weights, softmax(r.scores))  # the whole-matrix softmax: the same numbers


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("spread", [1.0, 8.0])
def test_weights_are_the_textbooks_to_float_rounding(dtype, spread):
    rng = np.random.default_rng(9)
    q, k, v = (rng.standard_normal((4, 300, 64)).astype(dtype) for _ in range(3))
    q *= np.asarray(spread, dtype)
    for mask in (None, np.tril(np.ones((300, 300), dtype=bool))):
        r = scaled_dot_product_attention(q, k, v, mask=mask)
        _assert_textbook(r.weights, r.scores, ulps=8)


# -- two threads that each run their blocks' products, BLAS on one thread meanwhile ----------------------------


@pytest.fixture
def threaded_blas(monkeypatch):
    """The app's configuration: BLAS threaded, two workers taking blocks (whatever this process started with)."""
    if blocked._openblas_threads() is None:
        pytest.skip("OpenBLAS's thread count is not reachable in this process")
    monkeypatch.setattr(blocked, "_BLAS_THREADED", True)
    monkeypatch.setattr(blocked, "_WORKERS", 2)
    get, set_ = blocked._openblas_threads()
    before = get()
    set_(2)  # as OpenBLAS starts on two cores (a one-thread run of the suite would make the switch a no-op)
    yield get
    set_(before)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_by_block_on_our_threads_give_the_bits_of_one_blas_thread(threaded_blas, dtype):
    rng = np.random.default_rng(10)
    q, k, v = (rng.standard_normal((3, 700, 64)).astype(dtype) for _ in range(3))
    _, set_blas_threads = blocked._openblas_threads()
    for mask in (None, np.tril(np.ones((700, 700), dtype=bool))):
        fused = scaled_dot_product_attention(q, k, v, mask=mask)
        set_blas_threads(1)  # the one-thread configuration's whole-matrix formula
        try:
            expected = _reference(q, k, v, mask)
        finally:
            set_blas_threads(2)
        for name, want in zip(("scores", "weights", "output"), expected):
            np.testing.assert_array_equal(getattr(fused, name), want)


def test_blas_runs_on_one_thread_during_the_blocks_and_gets_its_count_back(threaded_blas, monkeypatch):
    seen = []
    real = blocked.softmax_rows

    def spy(scores, weights):
        seen.append(threaded_blas())
        real(scores, weights)

    monkeypatch.setattr(blocked, "softmax_rows", spy)
    q = np.random.default_rng(11).standard_normal((8, 512, 64))
    scaled_dot_product_attention(q, q, q)
    assert seen and set(seen) == {1}
    assert threaded_blas() == 2


def test_the_blas_count_comes_back_after_an_error_and_after_overlapping_calls(threaded_blas, monkeypatch):
    import threading

    q = np.random.default_rng(12).standard_normal((8, 512, 64))

    def fail(scores, weights):
        raise RuntimeError("a block failed")

    with monkeypatch.context() as m:
        m.setattr(blocked, "softmax_rows", fail)
        with pytest.raises(RuntimeError, match="a block failed"):
            scaled_dot_product_attention(q, q, q)
    assert threaded_blas() == 2
    reference = scaled_dot_product_attention(q, q, q)
    results = []
    callers = [threading.Thread(target=lambda: results.append(scaled_dot_product_attention(q, q, q))) for _ in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert threaded_blas() == 2 and len(results) == 4
    for r in results:
        np.testing.assert_array_equal(r.weights, reference.weights)


def test_without_openblas_the_products_stay_whole_matrix_calls(threaded_blas, monkeypatch):
    rng = np.random.default_rng(13)
    q, k, v = (rng.standard_normal((4, 600, 64)).astype(np.float32) for _ in range(3))
    fused = scaled_dot_product_attention(q, k, v)
    monkeypatch.setattr(blocked, "_BLAS_FUNCTIONS", blocked._NOT_FOUND)  # as if NumPy used another BLAS
    calls = []
    real_matmul = np.matmul

    def counting_matmul(*args, **kwargs):
        calls.append(args[0].shape)
        return real_matmul(*args, **kwargs)

    monkeypatch.setattr(blocked.np, "matmul", counting_matmul)
    plain = scaled_dot_product_attention(q, k, v)
    assert calls == [(4, 600, 64), (4, 600, 600)]  # Q·Kᵀ and weights·V, each once on the whole arrays
    assert threaded_blas() == 2
    for name in ("scores", "weights", "output"):  # BLAS's threads may round the last place differently
        np.testing.assert_allclose(getattr(plain, name), getattr(fused, name), rtol=1e-5, atol=1e-6)


def test_openblas_is_found_as_numpy_loaded_it():
    found = blocked._find_openblas()
    if found is None:
        pytest.skip("NumPy here does not use OpenBLAS")
    get, _ = found
    assert get() >= 1


def test_blocks_refused_after_others_wrote_their_output_leave_the_careful_path_right(small_blocks, monkeypatch):
    # The output is written where the scaled queries lay: blocks done before a refused one have overwritten
    # their queries, and the careful path must start again from the caller's q.
    monkeypatch.setattr(blocked, "FUSE_BYTES", 1)  # products by block with any BLAS threading
    rng = np.random.default_rng(14)
    q, k, v = (rng.standard_normal((2, 40, 16)) for _ in range(3))
    q[1, 30:] = 1e308  # finite queries whose scores overflow in the last block: with every key component
    k[1] = np.abs(k[1]) + 1.0  # at least 1, each score is at least 1e308 × 16 / 4 (the 1/sqrt(d) scale)
    q_before = q.copy()
    answers = []
    real = blocked.blocked_attention
    monkeypatch.setattr("attnstudio.engine.attention.blocked_attention",
                        lambda *args, **kwargs: answers.append(real(*args, **kwargs)) or answers[-1])
    with np.errstate(all="raise"):
        r = scaled_dot_product_attention(q, k, v)
    assert answers == [None], "the blocks were refused, and the careful path ran"
    np.testing.assert_array_equal(q, q_before)
    assert np.isfinite(r.weights).all() and np.isfinite(r.output).all()
    scores, weights, output = _reference(q[:1], k[:1], v[:1])  # the first head has finite scores throughout
    np.testing.assert_allclose(r.output[0], output[0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(r.weights[0], weights[0], rtol=1e-12, atol=1e-14)
    assert not np.shares_memory(r.output, q) and not np.shares_memory(r.output, v)


def test_an_error_in_the_callers_blocks_waits_for_the_helpers_blocks():
    # The helpers' products must end inside the caller's one-BLAS-thread window, even when the caller's raise.
    pool = blocked._pool()
    if pool is None:
        pytest.skip("one worker here: no helper thread")
    import time

    finished = []

    def attend(heads, rows):
        if rows.start == 0:
            raise MemoryError("the caller's first block")
        time.sleep(0.05)
        finished.append(rows.start)
        return True

    blocks = [(slice(0, 1), slice(i, i + 1)) for i in range(2 * blocked._WORKERS)]
    with pytest.raises(MemoryError):
        blocked._run_blocks(attend, blocks, pool)
    assert sorted(finished) == [i for i in range(2 * blocked._WORKERS) if i % blocked._WORKERS]
