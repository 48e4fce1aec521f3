"""MultiHeadAttention against NumPy and Keras: masks, causal and padding, cached decoding (eager and in
one graph), dropout, mixed precision, bad arguments and the shared harness."""

import re

import keras
import numpy as np
import pytest
from attention_references import RNG, M, Q, X, np_mha, weights_of
from layer_harness import run_layer_test

from seqrecipes import layers


def test_mha_matches_numpy_and_keras():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    out, scores = mha(X, M, return_attention_scores=True)
    ref_out, ref_A = np_mha(weights_of(mha), X, M)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(scores, ref_A, atol=1e-6)
    np.testing.assert_allclose(mha(X, M), ref_out, atol=1e-5)  # the dot_product_attention path
    reference = keras.layers.MultiHeadAttention(num_heads=2, key_dim=3, value_dim=4)
    reference(X, M)
    for name in ("query", "key", "value", "output"):
        dense = getattr(reference, f"_{name}_dense")
        dense.kernel.assign(getattr(mha, f"{name}_kernel"))
        dense.bias.assign(getattr(mha, f"{name}_bias"))
    np.testing.assert_allclose(reference(X, M, use_causal_mask=False), out, atol=1e-5)


def test_mha_masks_causal_and_padding():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    w = weights_of(mha) if mha.built else None
    pad = np.array([[1, 1, 1, 1, 0], [1, 1, 0, 0, 0]], bool)
    out, scores = mha(X, X, value_mask=pad, use_causal_mask=True, return_attention_scores=True)
    w = weights_of(mha)
    causal = np.tril(np.ones((5, 5), bool))
    full_mask = causal[None] & pad[:, None, :]
    ref_out, ref_A = np_mha(w, X, X, full_mask)
    np.testing.assert_allclose(scores, ref_A, atol=1e-6)
    np.testing.assert_allclose(out, ref_out, atol=1e-5)
    np.testing.assert_allclose(mha(X, X, value_mask=pad, use_causal_mask=True), ref_out, atol=1e-5)
    sums = np.asarray(scores).sum(-1)
    np.testing.assert_allclose(sums, 1.0, atol=1e-6)
    # Keras masks on the inputs are the padding masks.
    masked = keras.layers.Masking(mask_value=0.0)(X * pad[:, :, None])
    np.testing.assert_allclose(
        mha(masked, masked, use_causal_mask=True)[pad], mha(X * pad[:, :, None], X, value_mask=pad, use_causal_mask=True)[pad], atol=1e-5
    )
    # Changing masked values changes nothing; a fully masked row gives a zero head (output = b^O).
    noisy = X + 50.0 * (~pad)[:, :, None]
    np.testing.assert_allclose(mha(X, noisy, value_mask=pad), mha(X, X, value_mask=pad), atol=1e-5)
    none = np.zeros((2, 5), bool)
    np.testing.assert_allclose(mha(X, X, value_mask=none), np.broadcast_to(w["output_bias"], X.shape), atol=1e-6)
    out, A = mha(X, X, attention_mask=np.zeros((2, 5, 5), bool), return_attention_scores=True)
    assert np.all(np.asarray(A) == 0.0) and np.all(np.isfinite(out))


def test_mha_cached_decoding_equals_full_pass():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    full = np.asarray(mha(X, X, use_causal_mask=True))
    cache = mha.get_initial_cache(batch_size=2, max_length=5)
    steps = []
    for i in range(5):
        y, cache = mha(X[:, i : i + 1], X[:, i : i + 1], use_causal_mask=True, cache=cache, cache_update_index=i)
        steps.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(steps, axis=1), full, atol=1e-5)
    # A prompt of 2 tokens in one call, then one token at a time.
    cache = mha.get_initial_cache(batch_size=2, max_length=5)
    y0, cache = mha(X[:, :2], X[:, :2], use_causal_mask=True, cache=cache, cache_update_index=0)
    outs = [np.asarray(y0)]
    for i in range(2, 5):
        y, cache = mha(X[:, i : i + 1], X[:, i : i + 1], use_causal_mask=True, cache=cache, cache_update_index=i)
        outs.append(np.asarray(y))
    np.testing.assert_allclose(np.concatenate(outs, axis=1), full, atol=1e-5)
    # Static cache (index None): cross-attention over a fixed memory.
    cross = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    expected = np.asarray(cross(X, M))
    memory_cache = cross.get_initial_cache(batch_size=2, max_length=3)
    _, memory_cache = cross(X[:, :1], M, cache=memory_cache, cache_update_index=0)
    got = [np.asarray(cross(X[:, i : i + 1], M, cache=memory_cache)[0]) for i in range(5)]
    np.testing.assert_allclose(np.concatenate(got, axis=1), expected, atol=1e-5)


def test_mha_cached_decoding_in_one_graph():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    full = np.asarray(mha(X, X, use_causal_mask=True))

    def body(i, cache, outputs):
        x_i = keras.ops.slice(X, (0, i, 0), (2, 1, 8))
        y, cache = mha(x_i, x_i, use_causal_mask=True, cache=cache, cache_update_index=i)
        return i + 1, cache, keras.ops.slice_update(outputs, (0, i, 0), y)

    _, _, outputs = keras.ops.while_loop(
        lambda i, c, o: i < 5, body, (0, mha.get_initial_cache(2, 5), keras.ops.zeros((2, 5, 8)))
    )
    np.testing.assert_allclose(outputs, full, atol=1e-5)


def test_mha_dropout_only_in_training():
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=0.5)
    inference = np.asarray(mha(X, X))
    np.testing.assert_allclose(mha(X, X, training=False), inference, atol=1e-6)
    assert not np.allclose(mha(X, X, training=True), inference, atol=1e-3)


def test_mha_harness():
    run_layer_test(
        layers.MultiHeadAttention,
        {"num_heads": 2, "key_dim": 3},
        {"query": X, "value": M},
        positional=("query", "value"),
        input_mask=np.array([[1, 1, 0], [1, 1, 1]], bool),
        masked_input="value",
        mask_arg="value_mask",
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=8,  # W^Q, b^Q, W^K, b^K, W^V, b^V, W^O, b^O
    )


def test_mha_harness_self_attention_with_scores():
    run_layer_test(
        layers.MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4, "value_dim": 2, "dropout": 0.1},
        {"query": X, "value": X},
        positional=("query", "value"),
        call_kwargs={"use_causal_mask": True, "return_attention_scores": True},
        expected_output_shape=((2, 5, 8), (2, 2, 5, 5)),
        expected_num_trainable_weights=8,
    )



def test_mha_masks_are_safe_under_mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")  # the conftest fixture restores float32
    mask = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
    mha = layers.MultiHeadAttention(num_heads=2, key_dim=3)
    x = 100.0 * RNG.normal(size=(2, 5, 6)).astype("float32")
    out, scores = mha(x, x, value_mask=mask, return_attention_scores=True)
    out2 = mha(x, x, value_mask=mask)
    scores = np.asarray(scores, "float32")
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(out2)) and np.all(np.isfinite(scores))
    assert np.all(scores[0][:, :, ~mask[0]] == 0.0) and np.all(scores[1] == 0.0)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.MultiHeadAttention(num_heads=0, key_dim=4), "num_heads=0"),
        (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=-1), "key_dim=-1"),
        (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=1.5), "dropout=1.5"),
        (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=4)(Q, Q), "query.shape=(2, 4)"),
    ],
)
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match="Received: .*" + re.escape(message)):
        make()
