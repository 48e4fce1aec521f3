"""AttentionDecoder: teacher forcing equals keras.layers.RNN and step-by-step decoding, masked source
and target change nothing, the final state continues decoding, the shared harness, and training on
padded batches of unknown length."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from attention_references import MASK, H, Y, config_without_dtype
from layer_harness import run_layer_test

from seqrecipes import layers


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


def test_attention_decoder_harness():
    cell = layers.AttentionDecoderCell(
        config_without_dtype(keras.layers.LSTMCell(5)), config_without_dtype(layers.BahdanauAttention(3)), units=4
    )
    run_layer_test(
        layers.AttentionDecoder,
        {"cell": config_without_dtype(cell), "return_alignments": True},
        {"inputs": Y, "memory": H},
        positional=("inputs", "memory"),
        input_mask=np.array([[1, 1, 1, 1], [1, 1, 1, 0]], bool),
        masked_input="inputs",
        expected_output_shape=((2, 4, 4), (2, 4, 5)),
        expected_num_trainable_weights=7,  # the LSTM cell's 3, Bahdanau's W, U, v, W_c
    )



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
