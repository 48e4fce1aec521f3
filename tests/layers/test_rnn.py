"""The sequence layer RNN: bidirectional and stacked use, go_backwards, stateful windows, one dropout
mask per sequence, input checks, padded batches of unknown length, and the time chunks of the
hand-written loop."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from recurrent_checks import outputs_and_gradients
from recurrent_references import FAST_IDS, FAST_LAYERS, VARIANT_IDS, VARIANT_LAYERS, B, D, H, T, randomize

from seqrecipes import layers
from seqrecipes.layers import _bptt
from seqrecipes.layers.rnn import TIME_CHUNKS, time_chunks


def test_bidirectional_and_stacked_match_keras():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, D)).astype("float32")
    k = keras.Sequential([keras.Input((T, D)), keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True)), keras.layers.GRU(H)])
    o = keras.Sequential([keras.Input((T, D)), keras.layers.Bidirectional(layers.LSTM(H, return_sequences=True)), layers.GRU(H)])
    randomize(k, rng)
    o.set_weights(k.get_weights())
    np.testing.assert_allclose(np.asarray(k(x)), np.asarray(o(x)), atol=1e-5)
    o.compile(optimizer="adam", loss="mse")
    history = o.fit(x, np.zeros((B, H)), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_go_backwards_equals_reversed_input():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(B, T, D)).astype("float32")
    fwd = layers.LSTM(H, return_sequences=True)
    bwd = layers.LSTM(H, return_sequences=True, go_backwards=True)
    fwd(x), bwd(x)
    bwd.set_weights(fwd.get_weights())
    np.testing.assert_allclose(np.asarray(bwd(x)), np.asarray(fwd(x[:, ::-1])), atol=1e-6)


def test_stateful_windows_equal_one_long_pass():
    """Truncated BPTT's forward pass: stateful windows carry the states of the whole stream."""
    rng = np.random.default_rng(6)
    x = rng.normal(size=(B, 2 * T, D)).astype("float32")
    whole = layers.GRU(H, return_sequences=True)
    stateful = layers.GRU(H, return_sequences=True, stateful=True)
    whole(x), stateful(x[:, :T])
    stateful.reset_state()
    stateful.set_weights(whole.get_weights())
    expected = np.asarray(whole(x))
    first, second = np.asarray(stateful(x[:, :T])), np.asarray(stateful(x[:, T:]))
    np.testing.assert_allclose(np.concatenate([first, second], 1), expected, atol=1e-5)
    stateful.reset_state()
    np.testing.assert_allclose(np.asarray(stateful(x[:, :T])), expected[:, :T], atol=1e-5)


def test_input_dropout_uses_one_mask_per_sequence():
    cell = layers.SimpleRNNCell(H, activation="linear", recurrent_initializer="zeros", use_bias=False, dropout=0.5, seed=3)
    rnn = layers.RNN(cell, return_sequences=True)
    x = np.ones((8, T, D), "float32")  # the same x_t at every step
    out = np.asarray(rnn(x, training=True))
    np.testing.assert_allclose(out, np.repeat(out[:, :1], T, axis=1), atol=1e-6)
    assert not np.allclose(out, np.asarray(rnn(x, training=False))), "dropout did nothing in training"
    np.testing.assert_allclose(np.asarray(rnn(x, training=False)), np.asarray(rnn(x)), atol=0)


def test_recurrent_dropout_uses_one_mask_per_sequence():
    # h_t = 1 + m * h_{t-1}: a unit whose mask m is 0 stays at 1; one whose mask is 2 grows every step.
    cell = layers.SimpleRNNCell(
        H, activation="linear", kernel_initializer="zeros", recurrent_initializer="identity",
        bias_initializer="ones", recurrent_dropout=0.5, seed=7,
    )  # fmt: skip
    out = np.asarray(layers.RNN(cell, return_sequences=True)(np.zeros((8, T, D), "float32"), training=True))
    constant = np.all(np.isclose(out, 1.0), axis=1)
    growing = np.all(np.diff(out, axis=1) > 0.5, axis=1)
    assert np.all(constant | growing), "a unit was dropped at some steps and kept at others"
    assert constant.any() and growing.any()


def test_wrong_input_rank_is_a_clear_error():
    with pytest.raises(ValueError, match=r"rank 3.*Received: inputs.shape=\(2, 4\)"):
        layers.LSTM(4)(np.zeros((2, 4), "float32"))


def test_masked_layer_fits_on_padded_batches_of_unknown_length():
    """Regression: a masked RNN in model.fit where T is unknown (padded_batch) must trace and learn."""
    rng = np.random.default_rng(12)
    lengths = rng.integers(2, 9, 48)
    seqs = [rng.normal(size=(n, D)).astype("float32") + 1.0 for n in lengths]
    ds = tf.data.Dataset.from_generator(
        lambda: ((s, np.float32(len(s))) for s in seqs),
        output_signature=(tf.TensorSpec((None, D), tf.float32), tf.TensorSpec((), tf.float32)),
    ).padded_batch(8)
    inputs = keras.Input((None, D))
    x = keras.layers.Masking()(inputs)
    outputs = keras.layers.Dense(1)(layers.LSTM(H)(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    history = model.fit(ds, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_time_chunks_only_on_tensorflow_with_a_known_length():
    assert time_chunks(100) == TIME_CHUNKS == 10
    assert time_chunks(1000) == 10
    assert time_chunks(35) == 3  # chunks of at least 10 steps
    assert time_chunks(19) == time_chunks(6) == 1
    assert time_chunks(100, max_chunks=1) == 1
    assert time_chunks(None) == 1  # an unknown length runs one projection and one loop


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS + VARIANT_LAYERS, ids=FAST_IDS + VARIANT_IDS)
def test_time_chunks_equal_one_chunk(name, make, make_keras, n_states, monkeypatch):
    """The loop in 3 uneven chunks (35 steps: 12, 12, 11) gives the outputs and gradients of one
    projection and one loop, with a mask that ends inside a chunk and with dropout; a length known
    only at run time (tf.function over (None, None, D)) runs as one chunk."""
    rng = np.random.default_rng(16)
    steps = 35
    x = rng.normal(size=(B, steps, D)).astype("float32")
    initial_state = [rng.normal(size=(B, H)).astype("float32") for _ in range(n_states)]
    mask = np.arange(steps)[None, :] < np.array([steps, 4, 18])[:, None]
    kwargs = {"return_sequences": True, "return_state": True, "dropout": 0.2, "recurrent_dropout": 0.3, "seed": 5}
    chunked, single = make(**kwargs), make(**kwargs)
    single.max_time_chunks = 1
    chunked(x), single(x)
    randomize(chunked, rng)
    single.set_weights(chunked.get_weights())
    calls, projections = [], []
    run, input_projection = _bptt.run, chunked.cell.input_projection
    monkeypatch.setattr(_bptt, "run", lambda *a, **k: calls.append(a[1].shape[0]) or run(*a, **k))
    monkeypatch.setattr(chunked.cell, "input_projection", lambda: projections.append(1) or input_projection())
    for m in (None, mask):
        got = outputs_and_gradients(chunked, x, initial_state, m, training=True)
        expected = outputs_and_gradients(single, x, initial_state, m, training=True)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=1e-5, err_msg=f"{name} mask={m is not None}")
    assert calls == ([12, 12, 11] + [steps]) * 2
    assert len(projections) == 2  # what the projection derives from the weights: once per call, not per chunk

    calls.clear()
    unknown_length = tf.function(lambda x: chunked(x)[0], input_signature=[tf.TensorSpec((None, None, D))])
    np.testing.assert_allclose(unknown_length(x), chunked(x)[0], atol=1e-5)
    assert calls == [None, 12, 12, 11]  # traced with an unknown length, then the eager call
