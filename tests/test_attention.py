"""The engine's attention functions: hand-computed cases, invariants (hypothesis) and shape errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from attnstudio.engine import (
    argmax,
    causal_mask,
    entropy,
    merge_heads,
    multi_head_attention,
    scaled_dot_product_attention,
    softmax,
    split_heads,
    uniform_attention,
)


def test_softmax_hand_computed():
    w = softmax(np.array([0.0, math.log(3.0)]))
    np.testing.assert_allclose(w, [0.25, 0.75], rtol=1e-15)


def test_softmax_masked_entries_and_empty_rows():
    x = np.array([[1.0, -np.inf, 1.0], [-np.inf, -np.inf, -np.inf]])
    w = softmax(x)
    np.testing.assert_array_equal(w, [[0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])


def test_softmax_plus_infinity_takes_all_weight():
    np.testing.assert_array_equal(softmax(np.array([np.inf, 3.0, np.inf])), [0.5, 0.0, 0.5])


def test_softmax_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        softmax(np.array([1.0, np.nan]))


def test_scaled_dot_product_hand_computed():
    q = np.array([[1.0, 0.0]])
    k = np.array([[2.0, 0.0], [0.0, 2.0]])
    v = np.array([[1.0, 10.0], [3.0, 30.0]])
    r = scaled_dot_product_attention(q, k, v)
    # scores = [2, 0] / sqrt(2); weights = softmax
    s = np.array([2.0, 0.0]) / math.sqrt(2.0)
    e = np.exp(s - s.max())
    w = e / e.sum()
    np.testing.assert_allclose(r.scores, [s], rtol=1e-15)
    np.testing.assert_allclose(r.weights, [w], rtol=1e-15)
    np.testing.assert_allclose(r.output, [w @ v], rtol=1e-15)


def test_scale_and_temperature():
    q = np.array([[1.0, 1.0]])
    k = np.array([[1.0, 0.0], [0.0, 3.0]])
    v = np.eye(2)
    plain = scaled_dot_product_attention(q, k, v, scale=1.0)
    np.testing.assert_allclose(plain.scores, [[1.0, 3.0]])
    hot = scaled_dot_product_attention(q, k, v, scale=1.0, temperature=2.0)
    np.testing.assert_allclose(hot.scores, [[0.5, 1.5]])
    cold = scaled_dot_product_attention(q, k, v, scale=1.0, temperature=1e-3)
    assert cold.weights[0, 1] == pytest.approx(1.0)
    very_hot = scaled_dot_product_attention(q, k, v, scale=1.0, temperature=1e6)
    np.testing.assert_allclose(very_hot.weights, [[0.5, 0.5]], atol=1e-5)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "hot"])
def test_bad_temperature_is_rejected(bad):
    with pytest.raises(ValueError, match="temperature"):
        scaled_dot_product_attention(np.ones((1, 2)), np.ones((2, 2)), np.ones((2, 2)), temperature=bad)


def test_mask_true_means_may_attend_and_empty_row_gives_zero_output():
    q = np.ones((2, 2))
    k = np.array([[1.0, 0.0], [0.0, 1.0]])
    v = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[True, False], [False, False]])
    r = scaled_dot_product_attention(q, k, v, mask=mask)
    np.testing.assert_array_equal(r.weights, [[1.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(r.output, [[1.0, 2.0], [0.0, 0.0]])
    assert np.isneginf(r.scores[0, 1]) and np.isneginf(r.scores[1]).all()


def test_causal_mask():
    np.testing.assert_array_equal(causal_mask(3), [[1, 0, 0], [1, 1, 0], [1, 1, 1]])
    assert causal_mask(2, 3).shape == (2, 3)
    np.testing.assert_array_equal(causal_mask(1, 3), [[True, True, True]])


def test_dtype_is_kept():
    for dtype in (np.float32, np.float64):
        x = np.ones((3, 4), dtype=dtype)
        r = scaled_dot_product_attention(x, x, x)
        assert r.weights.dtype == dtype and r.output.dtype == dtype and r.scores.dtype == dtype


def test_leading_dimensions_broadcast():
    q = np.random.default_rng(0).standard_normal((2, 3, 5, 4))
    k = np.random.default_rng(1).standard_normal((3, 6, 4))
    v = np.random.default_rng(2).standard_normal((3, 6, 2))
    r = scaled_dot_product_attention(q, k, v)
    assert r.weights.shape == (2, 3, 5, 6) and r.output.shape == (2, 3, 5, 2)


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="same width d_k"):
        scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="one value"):
        scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        scaled_dot_product_attention(np.ones(3), np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="boolean"):
        scaled_dot_product_attention(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)), mask=np.ones((2, 2)))


def test_uniform_attention_is_equal_weighting():
    v = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, 2.0]])
    r = uniform_attention(v, n_q=3)
    np.testing.assert_allclose(r.weights, np.full((3, 4), 0.25))
    np.testing.assert_allclose(r.output, np.tile(v.mean(axis=0), (3, 1)))
    masked = uniform_attention(v, mask=causal_mask(4))
    np.testing.assert_allclose(masked.weights[1], [0.5, 0.5, 0.0, 0.0])


def test_entropy_and_argmax():
    w = np.array([[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(entropy(w), [0.0, math.log(3), 0.0], atol=1e-15)
    np.testing.assert_array_equal(argmax(np.array([[0.1, 0.7, 0.2]])), [1])


def test_multi_head_matches_per_head_attention():
    rng = np.random.default_rng(3)
    x_q, x_kv = rng.standard_normal((4, 8)), rng.standard_normal((5, 8))
    w_q, w_k, w_v, w_o = (rng.standard_normal((8, 8)) for _ in range(4))
    r = multi_head_attention(x_q, x_kv, w_q, w_k, w_v, w_o, num_heads=2)
    assert r.output.shape == (4, 8) and r.weights.shape == (2, 4, 5)
    for h in range(2):
        cols = slice(4 * h, 4 * h + 4)
        single = scaled_dot_product_attention(x_q @ w_q[:, cols], x_kv @ w_k[:, cols], x_kv @ w_v[:, cols])
        np.testing.assert_allclose(r.weights[h], single.weights, rtol=1e-12)
        np.testing.assert_allclose(r.head_outputs[h], single.output, rtol=1e-12)
    np.testing.assert_allclose(r.output, merge_heads(r.head_outputs) @ w_o, rtol=1e-12)


def test_multi_head_errors():
    x = np.ones((3, 6))
    w = np.ones((6, 6))
    with pytest.raises(ValueError, match="4 heads do not divide the model width 6"):
        multi_head_attention(x, x, w, w, w, w, num_heads=4)
    with pytest.raises(ValueError, match="w_k must have shape"):
        multi_head_attention(x, x, w, np.ones((5, 6)), w, w, num_heads=2)


def test_split_and_merge_heads_are_inverse():
    x = np.arange(24.0).reshape(3, 8)
    assert split_heads(x, 4).shape == (4, 3, 2)
    np.testing.assert_array_equal(merge_heads(split_heads(x, 4)), x)
    np.testing.assert_array_equal(split_heads(x, 2)[1], x[:, 4:])


# -- properties ---------------------------------------------------------------------------------------

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
score_rows = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9), elements=finite)


@given(score_rows)
def test_rows_sum_to_one(scores):
    w = softmax(scores)
    np.testing.assert_allclose(w.sum(axis=-1), 1.0, rtol=1e-12)
    assert (w >= 0).all()


@given(score_rows, st.data())
def test_masked_rows_sum_to_one_over_allowed_keys(scores, data):
    mask = data.draw(hnp.arrays(bool, scores.shape))
    w = softmax(np.where(mask, scores, -np.inf))
    allowed = mask.any(axis=-1)
    np.testing.assert_allclose(w.sum(axis=-1)[allowed], 1.0, rtol=1e-12)
    assert (w[~mask] == 0).all() and (w[~allowed] == 0).all()


@given(score_rows, st.floats(min_value=-1e3, max_value=1e3))
def test_adding_a_constant_changes_nothing(scores, c):
    np.testing.assert_allclose(softmax(scores + c), softmax(scores), atol=1e-9)


@given(st.data())
def test_permuting_keys_permutes_weights(data):
    n_q, n_k, d = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 6)), data.draw(st.integers(1, 4))
    small = st.floats(-10, 10)
    q = data.draw(hnp.arrays(np.float64, (n_q, d), elements=small))
    k = data.draw(hnp.arrays(np.float64, (n_k, d), elements=small))
    v = data.draw(hnp.arrays(np.float64, (n_k, d), elements=small))
    perm = np.array(data.draw(st.permutations(range(n_k))))
    a = scaled_dot_product_attention(q, k, v)
    b = scaled_dot_product_attention(q, k[perm], v[perm])
    np.testing.assert_allclose(b.weights, a.weights[:, perm], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(b.output, a.output, rtol=1e-9, atol=1e-9)


huge = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)


@settings(max_examples=200)
@given(hnp.arrays(np.float64, (3, 2), elements=huge), hnp.arrays(np.float64, (4, 2), elements=huge))
def test_huge_scores_stay_finite_and_warn_nothing(q, k):
    v = np.ones((4, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = scaled_dot_product_attention(q, k, v)
    assert np.isfinite(r.weights).all() and np.isfinite(r.output).all()
    np.testing.assert_allclose(r.weights.sum(axis=-1), 1.0, rtol=1e-12)


def test_float32_extremes_stay_finite():
    q = np.full((2, 4), 3e38, dtype=np.float32)
    r = scaled_dot_product_attention(q, q, q)
    assert np.isfinite(r.weights).all() and r.weights.dtype == np.float32


def test_huge_scores_of_a_big_matrix_stay_finite():
    # Many more scores than vector components: the overflow check reads the vector lengths, not every score.
    rng = np.random.default_rng(7)
    q, k = rng.standard_normal((2, 80, 3)) * 1e200, rng.standard_normal((2, 90, 3)) * 1e200
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = scaled_dot_product_attention(q, k, np.ones((2, 90, 4)))
    assert np.isfinite(r.scores).all() and np.isfinite(r.weights).all()
    np.testing.assert_allclose(r.weights.sum(axis=-1), 1.0, rtol=1e-12)
