"""BahdanauDecoderCell: two steps against NumPy (eq. 4-6 of Bahdanau et al. 2015 and the maxout output),
the shared harness, masking through AttentionDecoder, a .keras round trip, errors, and the RNNs running it."""

import keras
import numpy as np
import pytest
from attention_references import MASK, RNG, H, Y, config_without_dtype, np_bahdanau, weights_of
from layer_harness import run_layer_test

from seqrecipes import layers


def _np_steps(cell, inner, steps, s0):
    """t_i and alpha_i of ``steps`` steps in NumPy: attention with s_{i-1}, c_i into the GRU, maxout of
    W_o' [y_{i-1} ; s_i ; c_i] + b_o'."""
    wc, wa = weights_of(inner), weights_of(cell.attention)
    wo, bo = (np.asarray(w, "float64") for w in (cell.attention_dense.kernel, cell.attention_dense.bias))
    s, outs = s0, []
    for t in range(steps):
        context, alpha = np_bahdanau(wa, s, H, MASK, normalize=False)  # the previous state asks
        x = np.concatenate([Y[:, t], context], axis=-1)  # the context enters the recurrence
        s = np.tanh(x @ wc["kernel"] + s @ wc["recurrent_kernel"] + wc["bias"])
        t_tilde = np.concatenate([Y[:, t], s, context], axis=-1) @ wo + bo  # (B, 2U)
        outs.append((t_tilde.reshape(len(s), cell.units, 2).max(-1), alpha, s))
    return outs


def test_two_steps_match_the_papers_equations_in_numpy():
    inner = keras.layers.SimpleRNNCell(5)
    cell = layers.BahdanauDecoderCell(inner, layers.BahdanauAttention(3), units=4)
    s0 = RNG.normal(size=(2, 5)).astype("float32")
    states = cell.get_initial_state(memory=H, memory_mask=MASK, cell_states=[s0])
    got = []
    for t in range(3):
        out, states = cell(Y[:, t], states)
        got.append((out, states[cell.alignments_index], states[0]))
    for t, ((out, alpha, s), (e_out, e_alpha, e_s)) in enumerate(zip(got, _np_steps(cell, inner, 3, s0))):
        np.testing.assert_allclose(out, e_out, atol=1e-5, err_msg=f"t_{t}")
        np.testing.assert_allclose(alpha, e_alpha, atol=1e-6, err_msg=f"alpha_{t}")
        np.testing.assert_allclose(s, e_s, atol=1e-5, err_msg=f"s_{t}")
    assert np.all(np.asarray(got[0][1])[0, 3:] == 0)  # padding gets no attention


def test_it_differs_from_the_luong_wiring_on_the_same_weights_shapes():
    # The first alignment of Bahdanau's cell depends on s_0 alone (not on y_0): two inputs, one alpha.
    cell = layers.BahdanauDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    states = cell.get_initial_state(memory=H, memory_mask=MASK)
    _, first = cell(Y[:, 0], states)
    _, other = cell(Y[:, 1], states)
    np.testing.assert_allclose(first[cell.alignments_index], other[cell.alignments_index], atol=1e-7)
    luong = layers.AttentionDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    luong_states = luong.get_initial_state(memory=H, memory_mask=MASK)
    _, a = luong(Y[:, 0], luong_states)
    _, b = luong(Y[:, 1], luong_states)
    assert not np.allclose(a[luong.alignments_index], b[luong.alignments_index])  # Luong's asks after the step


def test_harness():
    cell = layers.BahdanauDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    states = [np.asarray(s) for s in cell.get_initial_state(memory=H, memory_mask=MASK)]
    states[0] = RNG.normal(size=states[0].shape).astype("float32")
    run_layer_test(
        layers.BahdanauDecoderCell,
        {
            "cell": config_without_dtype(keras.layers.GRUCell(5)),
            "attention": config_without_dtype(layers.BahdanauAttention(3)),
            "units": 4,
        },
        {"inputs": Y[:, 0], "states": states},
        positional=("inputs", "states"),
        expected_num_trainable_weights=8,  # the GRU cell's 3, Bahdanau's W, U, v, the output's kernel and bias
    )


def test_the_decoder_layer_runs_it_with_masks_and_the_rnns_agree():
    cell = layers.BahdanauDecoderCell(layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    decoder = layers.AttentionDecoder(cell, return_alignments=True)
    target_mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], bool)
    outputs, alignments = decoder(Y, H, mask=target_mask, memory_mask=MASK)
    np.testing.assert_array_equal(np.asarray(outputs)[1, 2:], 0.0)
    np.testing.assert_allclose(np.asarray(alignments).sum(-1), target_mask.astype("float32"), atol=1e-5)
    # Padding after a sentence changes nothing before it.
    shorter, _ = decoder(Y[:, :2], H, memory_mask=MASK)
    np.testing.assert_allclose(np.asarray(outputs)[:, :2], shorter, atol=1e-6)
    initial = cell.get_initial_state(memory=H, memory_mask=MASK)
    unmasked = decoder(Y, H, memory_mask=MASK)[0]
    for rnn in (layers.RNN(cell, return_sequences=True), keras.layers.RNN(cell, return_sequences=True)):
        np.testing.assert_allclose(rnn(Y, initial_state=initial), unmasked, atol=1e-6)


def test_a_keras_file_reproduces_it(tmp_path):
    source = keras.Input((None, 6))
    target = keras.Input((None, 3))
    cell = layers.BahdanauDecoderCell(layers.LSTMCell(6), layers.BahdanauAttention(3), units=4)
    model = keras.Model([source, target], layers.AttentionDecoder(cell)(target, source))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded.predict([H, Y], verbose=0), model.predict([H, Y], verbose=0), atol=1e-6)


def test_errors():
    with pytest.raises(ValueError, match="Received: units=0"):
        layers.BahdanauDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=0)
    cell = layers.BahdanauDecoderCell(keras.layers.GRUCell(5), layers.BahdanauAttention(3), units=4)
    with pytest.raises(ValueError, match=r"Received: memory.shape=\(2, 6\)"):
        cell.get_initial_state(memory=H[:, 0])
    with pytest.raises(ValueError, match=r"BahdanauDecoderCell must have rank 2 .* Received: inputs.shape=\(2, 4, 3\)"):
        cell(Y, cell.get_initial_state(memory=H))
