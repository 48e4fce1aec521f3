"""Bahdanau and Luong attention, MultiHeadAttention and the attention decoder, checked against NumPy."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test

from seqrecipes import layers

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 4)).astype("float32")  # (B, H_q)
H = RNG.normal(size=(2, 5, 6)).astype("float32")  # (B, S, H_v)
MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)


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


# --------------------------------------------------------------------------- Bahdanau


def np_bahdanau(w, s, h, mask, normalize):
    W, U, v = w["query_kernel"], w["memory_kernel"], w["attention_v"]
    pre = (s @ W)[:, None, :] + h @ U  # (B, S, A)
    if normalize:
        v = w["attention_g"] * v / np.linalg.norm(v)
        pre = pre + w["attention_b"]
    e = np.tanh(pre) @ v  # (B, S)
    alpha = np_masked_softmax(e, mask)
    return np.einsum("bs,bsh->bh", alpha, h), alpha


@pytest.mark.parametrize("normalize", [False, True])
def test_bahdanau_matches_numpy(normalize):
    attention = layers.BahdanauAttention(units=3, normalize=normalize)
    context, alpha = attention(Q, H, mask=MASK)
    ref_context, ref_alpha = np_bahdanau(weights_of(attention), Q, H, MASK, normalize)
    np.testing.assert_allclose(alpha, ref_alpha, atol=1e-6)
    np.testing.assert_allclose(context, ref_context, atol=1e-5)
    assert np.all(np.asarray(alpha)[~MASK] == 0.0)
    np.testing.assert_allclose(np.asarray(alpha).sum(-1), 1.0, atol=1e-6)


def test_bahdanau_precomputed_keys_and_keras_mask():
    attention = layers.BahdanauAttention(units=3)
    context, alpha = attention(Q, H, mask=MASK)
    keys = attention.compute_keys(H)
    context2, alpha2 = attention(Q, H, mask=MASK, keys=keys)
    np.testing.assert_allclose(context2, context, atol=1e-6)
    masked_values = keras.layers.Masking(mask_value=0.0)(H * MASK[:, :, None])
    context3, alpha3 = attention(Q, masked_values)
    np.testing.assert_allclose(alpha3, alpha, atol=1e-6)


@pytest.mark.parametrize("normalize", [False, True])
def test_bahdanau_harness(normalize):
    run_layer_test(
        layers.BahdanauAttention,
        {"units": 3, "normalize": normalize},
        {"query": Q, "values": H},
        positional=("query", "values"),
        input_mask=MASK,
        masked_input="values",
        expected_output_shape=((2, 6), (2, 5)),
    )


# --------------------------------------------------------------------------- Luong


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


@pytest.mark.parametrize(
    "score, units, scale, query", [("dot", 6, False, "six"), ("general", 4, True, "four"), ("concat", 3, False, "four")]
)
def test_luong_matches_numpy(score, units, scale, query):
    s = Q if query == "four" else RNG.normal(size=(2, 6)).astype("float32")
    attention = layers.LuongAttention(units=units, score=score, scale=scale)
    context, alpha = attention(s, H, mask=MASK)
    w = weights_of(attention)
    if scale:
        attention.attention_g.assign(1.7)
        context, alpha = attention(s, H, mask=MASK)
        w = weights_of(attention)
    ref_context, ref_alpha = np_luong(w, s, H, MASK, score)
    np.testing.assert_allclose(alpha, ref_alpha, atol=1e-6)
    np.testing.assert_allclose(context, ref_context, atol=1e-5)
    context2, _ = attention(s, H, mask=MASK, keys=attention.compute_keys(H))
    np.testing.assert_allclose(context2, context, atol=1e-6)


@pytest.mark.parametrize("score, units", [("general", 4), ("concat", 3)])
def test_luong_harness(score, units):
    run_layer_test(
        layers.LuongAttention,
        {"units": units, "score": score, "scale": True},
        {"query": Q, "values": H},
        positional=("query", "values"),
        input_mask=MASK,
        masked_input="values",
        expected_output_shape=((2, 6), (2, 5)),
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: layers.BahdanauAttention(units=3),
        lambda: layers.LuongAttention(units=4, score="general"),
        lambda: layers.LuongAttention(units=3, score="concat"),
    ],
)
def test_masked_values_change_nothing_and_fully_masked_row_is_zero(make):
    attention = make()
    mask = np.array([[1, 0, 1, 0, 0], [0, 0, 0, 0, 0]], bool)
    context, alpha = attention(Q, H, mask=mask)
    noisy = H + 100.0 * (~mask)[:, :, None]
    context2, alpha2 = attention(Q, noisy, mask=mask)
    np.testing.assert_allclose(context2, context, atol=1e-6)
    np.testing.assert_allclose(alpha2, alpha, atol=1e-7)
    assert np.all(np.asarray(alpha)[~mask] == 0.0)
    np.testing.assert_allclose(np.asarray(alpha)[0].sum(), 1.0, atol=1e-6)
    assert np.all(np.asarray(context)[1] == 0.0) and np.all(np.isfinite(context))


def test_masks_are_safe_under_mixed_float16():
    keras.config.set_dtype_policy("mixed_float16")
    mask = np.array([[1, 1, 0, 0, 0], [0, 0, 0, 0, 0]], bool)
    for attention in (layers.BahdanauAttention(3), layers.LuongAttention(4, score="general"), layers.AttentionPooling(3)):
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
        (lambda: layers.BahdanauAttention(units=0), "units=0"),
        (lambda: layers.LuongAttention(units=-2), "units=-2"),
        (lambda: layers.LuongAttention(units=4, score="cosine"), "score='cosine'"),
        (lambda: layers.MultiHeadAttention(num_heads=0, key_dim=4), "num_heads=0"),
        (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=-1), "key_dim=-1"),
        (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=4, dropout=1.5), "dropout=1.5"),
        (lambda: layers.BahdanauAttention(units=3)(H, H), "query.shape=(2, 5, 6)"),
        (lambda: layers.LuongAttention(units=4, score="general")(Q, Q), "values.shape=(2, 4)"),
        (lambda: layers.LuongAttention(units=5, score="dot")(Q, H), "units=5"),
        (lambda: layers.MultiHeadAttention(num_heads=2, key_dim=4)(Q, Q), "query.shape=(2, 4)"),
    ],
)
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match="Received: .*" + message.replace("(", r"\(").replace(")", r"\)")):
        make()


# --------------------------------------------------------------------------- MultiHeadAttention

X = RNG.normal(size=(2, 5, 8)).astype("float32")  # (B, T, D)
M = RNG.normal(size=(2, 3, 6)).astype("float32")  # (B, S, D_m)


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
    )


def test_mha_harness_self_attention_with_scores():
    run_layer_test(
        layers.MultiHeadAttention,
        {"num_heads": 2, "key_dim": 4, "value_dim": 2, "dropout": 0.1},
        {"query": X, "value": X},
        positional=("query", "value"),
        call_kwargs={"use_causal_mask": True, "return_attention_scores": True},
        expected_output_shape=((2, 5, 8), (2, 2, 5, 5)),
    )


# --------------------------------------------------------------------------- attention decoder

Y = RNG.normal(size=(2, 4, 3)).astype("float32")  # (B, T, D_x) decoder inputs


def test_attention_decoder_cell_step_matches_numpy():
    inner = keras.layers.SimpleRNNCell(5)
    cell = layers.AttentionDecoderCell(inner, layers.LuongAttention(5, score="general"), units=4)
    states = cell.get_initial_state(memory=H, memory_mask=MASK)
    (o1, states1) = cell(Y[:, 0], states)
    o2, states2 = cell(Y[:, 1], states1)
    wc = weights_of(inner)
    wa = weights_of(cell.attention)
    W_c = np.asarray(cell.attention_dense.kernel, "float64")
    s_prev, h_tilde = np.zeros((2, 5)), np.zeros((2, 4))
    for t, (out, st) in enumerate(((o1, states1), (o2, states2))):
        x = np.concatenate([Y[:, t], h_tilde], axis=-1)  # input feeding
        s = np.tanh(x @ wc["kernel"] + s_prev @ wc["recurrent_kernel"] + wc["bias"])
        context, alpha = np_luong(wa, s, H, MASK, "general")
        h_tilde = np.tanh(np.concatenate([context, s], axis=-1) @ W_c)
        s_prev = s
        np.testing.assert_allclose(out, h_tilde, atol=1e-5)
        np.testing.assert_allclose(st[cell.alignments_index], alpha, atol=1e-6)
        np.testing.assert_allclose(st[0], s, atol=1e-5)


def _decoder_paths(inner, attention):
    """Outputs and alignments of the same cell run three ways."""
    cell = layers.AttentionDecoderCell(inner, attention, units=4)
    target_mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
    outputs, alignments = layers.AttentionDecoder(cell, return_alignments=True)(Y, H, mask=target_mask, memory_mask=MASK)
    rnn = keras.layers.RNN(cell, return_sequences=True, zero_output_for_mask=True)
    rnn_outputs = rnn(Y, initial_state=cell.get_initial_state(memory=H, memory_mask=MASK), mask=target_mask)
    states = cell.get_initial_state(memory=H, memory_mask=MASK)
    step_outputs, step_alignments = [], []
    for t in range(4):
        out, states = cell(Y[:, t], states)
        step_outputs.append(np.asarray(out))
        step_alignments.append(np.asarray(states[cell.alignments_index]))
    return target_mask, outputs, alignments, rnn_outputs, np.stack(step_outputs, 1), np.stack(step_alignments, 1)


@pytest.mark.parametrize(
    "make_inner, make_attention",
    [
        (lambda: keras.layers.LSTMCell(5), lambda: layers.BahdanauAttention(3)),
        (lambda: keras.layers.GRUCell(5), lambda: layers.LuongAttention(5, score="general")),
        (lambda: layers.LSTMCell(5), lambda: layers.LuongAttention(3, score="concat", scale=True)),
        (lambda: layers.GRUCell(6), lambda: layers.LuongAttention(6, score="dot")),
    ],
)
def test_teacher_forcing_equals_step_by_step(make_inner, make_attention):
    mask, outputs, alignments, rnn_outputs, step_outputs, step_alignments = _decoder_paths(make_inner(), make_attention())
    np.testing.assert_allclose(outputs, rnn_outputs, atol=1e-6)
    np.testing.assert_allclose(np.asarray(outputs)[mask], step_outputs[mask], atol=1e-6)
    np.testing.assert_allclose(np.asarray(alignments)[mask], step_alignments[mask], atol=1e-6)
    alignments = np.asarray(alignments)
    assert np.all(alignments[:, :, ~MASK[0]][0] == 0.0)
    np.testing.assert_allclose(alignments[mask].sum(-1), 1.0, atol=1e-6)
    assert np.all(alignments[~mask] == 0.0)


def test_attention_decoder_masked_source_and_target_change_nothing():
    cell = layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3, normalize=True), units=4)
    decoder = layers.AttentionDecoder(cell, return_alignments=True, return_state=True)
    target_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    first = decoder(Y, H, mask=target_mask, memory_mask=MASK)
    noisy_y = Y + 9.0 * (~target_mask)[:, :, None]
    noisy_h = H + 9.0 * (~MASK)[:, :, None]
    second = decoder(noisy_y, noisy_h, mask=target_mask, memory_mask=MASK)
    np.testing.assert_allclose(second[0], first[0], atol=1e-6)
    np.testing.assert_allclose(second[1], first[1], atol=1e-6)
    final_h = np.asarray(first[2])
    # The final state is the state after the last real target step.
    outputs3 = decoder(Y[:, :3], H, mask=target_mask[:, :3], memory_mask=MASK)
    np.testing.assert_allclose(outputs3[2], final_h, atol=1e-6)
    # Continuing one step at a time from the returned state equals teacher forcing over more steps.
    full = decoder(Y, H, memory_mask=MASK)
    part = decoder(Y[:, :2], H, memory_mask=MASK)
    out, _ = cell(Y[:, 2], list(part[2:]))
    np.testing.assert_allclose(out, np.asarray(full[0])[:, 2], atol=1e-6)


def _config_without_dtype(layer):
    config = keras.saving.serialize_keras_object(layer)
    config["config"].pop("dtype", None)
    return config


def test_attention_decoder_harness():
    cell = layers.AttentionDecoderCell(
        _config_without_dtype(keras.layers.LSTMCell(5)), _config_without_dtype(layers.BahdanauAttention(3)), units=4
    )
    run_layer_test(
        layers.AttentionDecoder,
        {"cell": _config_without_dtype(cell), "return_alignments": True},
        {"inputs": Y, "memory": H},
        positional=("inputs", "memory"),
        input_mask=np.array([[1, 1, 1, 1], [1, 1, 1, 0]], bool),
        masked_input="inputs",
        expected_output_shape=((2, 4, 4), (2, 4, 5)),
    )


def test_attention_decoder_cell_harness():
    cell = layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.LuongAttention(5, score="general"), units=4)
    states = [np.asarray(s) for s in cell.get_initial_state(memory=H, memory_mask=MASK)]
    states[0] = RNG.normal(size=states[0].shape).astype("float32")
    run_layer_test(
        layers.AttentionDecoderCell,
        {
            "cell": _config_without_dtype(keras.layers.GRUCell(5)),
            "attention": _config_without_dtype(layers.LuongAttention(5, score="general")),
            "units": 4,
        },
        {"inputs": Y[:, 0], "states": states},
        positional=("inputs", "states"),
    )


def test_attention_decoder_cell_errors():
    with pytest.raises(ValueError, match="Received: units=0"):
        layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=0)
    with pytest.raises(ValueError, match="Received: attention="):
        layers.AttentionDecoderCell(keras.layers.GRUCell(5), keras.layers.Dense(3), units=4)
    cell = layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    with pytest.raises(ValueError, match="Received: memory=None"):
        keras.layers.RNN(cell)(Y)
    with pytest.raises(ValueError, match=r"Received: memory.shape=\(2, 6\)"):
        cell.get_initial_state(memory=H[:, 0])


def test_attention_decoder_cell_runs_in_the_project_rnn():
    cell = layers.AttentionDecoderCell(layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    expected = layers.AttentionDecoder(cell)(Y, H, memory_mask=MASK)
    outputs = layers.RNN(cell, return_sequences=True)(Y, initial_state=cell.get_initial_state(memory=H, memory_mask=MASK))
    np.testing.assert_allclose(outputs, expected, atol=1e-6)


def test_attention_decoder_trains_on_padded_batches_of_unknown_length():
    """Functional model with T and S unknown and Keras masks, as a seq2seq recipe builds it."""
    cell = layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.LuongAttention(5, score="general"), units=4)
    targets, sources = keras.Input((None, 3)), keras.Input((None, 6))
    masked_targets = keras.layers.Masking(0.0)(targets)
    masked_sources = keras.layers.Masking(0.0)(sources)
    outputs = layers.AttentionDecoder(cell)(masked_targets, masked_sources)
    model = keras.Model([targets, sources], keras.layers.Dense(2)(outputs))
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    target_mask = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], bool)
    y, h = Y * target_mask[:, :, None], H * MASK[:, :, None]
    import tensorflow as tf

    # Padded batches have an unknown length T in the traced graph.
    spec = (tf.TensorSpec((None, None, 3), "float32"), tf.TensorSpec((None, None, 6), "float32"))
    batches = tf.data.Dataset.from_generator(
        lambda: iter([((y, h), np.ones((2, 4, 2), "float32"))]),
        output_signature=(spec, tf.TensorSpec((None, None, 2), "float32")),
    )
    before = np.asarray(model.predict([y, h], verbose=0))
    model.fit(batches, epochs=1, verbose=0)
    after = np.asarray(model.predict([y, h], verbose=0))
    assert not np.allclose(before, after)
    expected = layers.AttentionDecoder(cell)(y, h, mask=target_mask, memory_mask=MASK)
    dense = model.layers[-1]
    np.testing.assert_allclose(after[target_mask], np.asarray(dense(expected))[target_mask], atol=1e-5)
