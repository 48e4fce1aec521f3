"""NumPy references of the attention layers, the data the attention tests share, and the checks that
several attention layers pass alike."""

import keras
import numpy as np
from layer_harness import run_layer_test

from seqrecipes import layers

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 4)).astype("float32")  # (B, H_q)
H = RNG.normal(size=(2, 5, 6)).astype("float32")  # (B, S, H_v)
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
X = RNG.normal(size=(2, 5, 8)).astype("float32")  # (B, T, D)
M = RNG.normal(size=(2, 3, 6)).astype("float32")  # (B, S, D_m)
Y = RNG.normal(size=(2, 4, 3)).astype("float32")  # (B, T, D_x) decoder inputs


def np_masked_softmax(e, mask=None):
    e = np.asarray(e, "float64")
    if mask is None:
        mask = np.ones(e.shape, bool)
    e = np.where(mask, e, -np.inf)
    m = np.max(np.where(mask, e, -1e300), axis=-1, keepdims=True)
    w = np.where(mask, np.exp(e - m), 0.0)
    total = w.sum(-1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def weights_of(layer):
    return {w.path.split("/")[-1]: np.asarray(w, "float64") for w in layer.weights}


def np_bahdanau(w, s, h, mask, normalize):
    W, U, v = w["query_kernel"], w["memory_kernel"], w["attention_v"]
    pre = (s @ W)[:, None, :] + h @ U  # (B, S, A)
    if normalize:
        v = w["attention_g"] * v / np.linalg.norm(v)
        pre = pre + w["attention_b"]
    e = np.tanh(pre) @ v  # (B, S)
    alpha = np_masked_softmax(e, mask)
    return np.einsum("bs,bsh->bh", alpha, h), alpha


def np_luong(w, s, h, mask, score):
    if score == "dot":
        e = np.einsum("ba,bsa->bs", s, h)
    elif score == "general":
        e = np.einsum("ba,bsa->bs", s, h @ w["memory_kernel"].T)  # s^T W_a h_j
    else:
        W_a = np.concatenate([w["query_kernel"], w["memory_kernel"]], axis=0)  # [W_1; W_2]
        sh = np.concatenate([np.broadcast_to(s[:, None], (s.shape[0], h.shape[1], s.shape[1])), h], axis=-1)
        e = np.tanh(sh @ W_a) @ w["attention_v"]  # v_a^T tanh(W_a [s; h_j])
    if "attention_g" in w:
        e = w["attention_g"] * e
    alpha = np_masked_softmax(e, mask)
    return np.einsum("bs,bsh->bh", alpha, h), alpha


def np_mha(w, query, value, mask=None):
    """The six steps of seed 003 in NumPy; mask (B, T, S) boolean or None."""
    Qh = np.einsum("btd,dnh->btnh", query, w["query_kernel"]) + w["query_bias"]
    Kh = np.einsum("bsd,dnh->bsnh", value, w["key_kernel"]) + w["key_bias"]
    Vh = np.einsum("bsd,dnh->bsnh", value, w["value_kernel"]) + w["value_bias"]
    d_k = Qh.shape[-1]
    scores = np.einsum("btnh,bsnh->bnts", Qh, Kh) / np.sqrt(d_k)
    A = np_masked_softmax(scores, None if mask is None else mask[:, None])
    heads = np.einsum("bnts,bsnh->btnh", A, Vh)
    return np.einsum("btnh,nhd->btd", heads, w["output_kernel"]) + w["output_bias"], A


def config_without_dtype(layer):
    config = keras.saving.serialize_keras_object(layer)
    config["config"].pop("dtype", None)
    return config


def check_masked_values_change_nothing_and_fully_masked_row_is_zero(attention):
    """Values at masked positions change neither context nor weights; a fully masked row reads zeros."""
    mask = np.array([[1, 0, 1, 0, 0], [0, 0, 0, 0, 0]], bool)
    context, alpha = attention(Q, H, mask=mask)
    noisy = H + 100.0 * (~mask)[:, :, None]
    context2, alpha2 = attention(Q, noisy, mask=mask)
    np.testing.assert_allclose(context2, context, atol=1e-6)
    np.testing.assert_allclose(alpha2, alpha, atol=1e-7)
    assert np.all(np.asarray(alpha)[~mask] == 0.0)
    np.testing.assert_allclose(np.asarray(alpha)[0].sum(), 1.0, atol=1e-6)
    assert np.all(np.asarray(context)[1] == 0.0) and np.all(np.isfinite(context))


def check_masks_are_safe_under_mixed_float16(make_attention):
    """Under mixed_float16, large scores and a fully masked row give finite float16 outputs, exact zeros
    at masked positions and weights that sum to 1 (a query attention, or AttentionPooling)."""
    keras.config.set_dtype_policy("mixed_float16")  # the conftest fixture restores float32
    mask = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
    attention = make_attention()
    if isinstance(attention, layers.AttentionPooling):
        context, alpha = attention(100.0 * H, mask=mask, return_attention_scores=True)
    else:
        context, alpha = attention(100.0 * Q, 100.0 * H, mask=mask)
    assert keras.backend.standardize_dtype(context.dtype) == "float16"
    alpha = np.asarray(alpha, "float32")
    assert np.all(np.isfinite(context)) and np.all(np.isfinite(alpha))
    assert np.all(alpha[~mask] == 0.0)
    np.testing.assert_allclose(alpha[0].sum(), 1.0, atol=1e-2)
    assert np.all(np.asarray(context)[1] == 0.0)


def run_query_attention_harness(layer_cls, init_kwargs, expected_num_trainable_weights):
    """The shared harness on a query attention (Bahdanau, Luong): query Q and values H masked by MASK in,
    c (B, H_v) and alpha (B, S) out."""
    run_layer_test(
        layer_cls,
        init_kwargs,
        {"query": Q, "values": H},
        positional=("query", "values"),
        input_mask=MASK,
        masked_input="values",
        expected_output_shape=((2, 6), (2, 5)),
        expected_num_trainable_weights=expected_num_trainable_weights,
    )
