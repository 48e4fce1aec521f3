"""AttentionDecoderCell: one step against NumPy (input feeding, Luong attention), the shared harness,
argument errors, and the project's RNN running it."""

import keras
import numpy as np
import pytest
from attention_references import MASK, RNG, H, Y, config_without_dtype, np_luong, weights_of
from layer_harness import run_layer_test

from seqrecipes import layers


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


def test_attention_decoder_cell_harness():
    cell = layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.LuongAttention(5, score="general"), units=4)
    states = [np.asarray(s) for s in cell.get_initial_state(memory=H, memory_mask=MASK)]
    states[0] = RNG.normal(size=states[0].shape).astype("float32")
    run_layer_test(
        layers.AttentionDecoderCell,
        {
            "cell": config_without_dtype(keras.layers.GRUCell(5)),
            "attention": config_without_dtype(layers.LuongAttention(5, score="general")),
            "units": 4,
        },
        {"inputs": Y[:, 0], "states": states},
        positional=("inputs", "states"),
        expected_num_trainable_weights=5,  # the GRU cell's 3, Luong's W_a, W_c
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
