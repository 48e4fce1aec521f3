"""Recurrent cells and sequence layers: NumPy equations, Keras parity, masking, dropout, harness."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from layer_harness import run_layer_test
from seqrecipes import layers

B, T, D, H = 3, 6, 4, 5


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def layer_norm(v, gamma, beta, eps):
    mean = v.mean(-1, keepdims=True)
    var = v.var(-1, keepdims=True)
    return gamma * (v - mean) / np.sqrt(var + eps) + beta


# NumPy versions of the seed equations, one step each; weights as the cells store them.
def np_simple_rnn(x_t, states, w):
    W_x, W_h, b = w
    h = np.tanh(x_t @ W_x + states[0] @ W_h + b)
    return h, [h]


def np_gru(reset_after):
    def step(x_t, states, w):
        W, U, b = w
        h_tm1 = states[0]
        W_z, W_r, W_h = np.split(W, 3, axis=1)
        U_z, U_r, U_h = np.split(U, 3, axis=1)
        if reset_after:
            b_z, b_r, b_h = np.split(b[0], 3)
            bb_z, bb_r, bb_h = np.split(b[1], 3)
            z = sigmoid(x_t @ W_z + b_z + h_tm1 @ U_z + bb_z)
            r = sigmoid(x_t @ W_r + b_r + h_tm1 @ U_r + bb_r)
            hh = np.tanh(x_t @ W_h + b_h + r * (h_tm1 @ U_h + bb_h))
        else:
            b_z, b_r, b_h = np.split(b, 3)
            z = sigmoid(x_t @ W_z + h_tm1 @ U_z + b_z)
            r = sigmoid(x_t @ W_r + h_tm1 @ U_r + b_r)
            hh = np.tanh(x_t @ W_h + (r * h_tm1) @ U_h + b_h)
        h = z * h_tm1 + (1 - z) * hh
        return h, [h]

    return step


def np_lstm(x_t, states, w):
    W, U, b = w
    h_tm1, c_tm1 = states
    z_i, z_f, z_g, z_o = np.split(x_t @ W + h_tm1 @ U + b, 4, axis=1)
    i, f, g, o = sigmoid(z_i), sigmoid(z_f), np.tanh(z_g), sigmoid(z_o)
    c = f * c_tm1 + i * g
    h = o * np.tanh(c)
    return h, [h, c]


def np_peephole_lstm(x_t, states, w):
    W, U, b, p_i, p_f, p_o = w
    h_tm1, c_tm1 = states
    z_i, z_f, z_g, z_o = np.split(x_t @ W + h_tm1 @ U + b, 4, axis=1)
    i = sigmoid(z_i + p_i * c_tm1)
    f = sigmoid(z_f + p_f * c_tm1)
    c = f * c_tm1 + i * np.tanh(z_g)
    o = sigmoid(z_o + p_o * c)
    h = o * np.tanh(c)
    return h, [h, c]


def np_layer_norm_lstm(x_t, states, w):
    W, U, b, a_x, b_x, a_h, b_h, a_c, b_c = w
    h_tm1, c_tm1 = states
    eps = 1e-3
    z = layer_norm(x_t @ W, a_x, b_x, eps) + layer_norm(h_tm1 @ U, a_h, b_h, eps) + b
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=1)
    c = sigmoid(z_f) * c_tm1 + sigmoid(z_i) * np.tanh(z_g)
    h = sigmoid(z_o) * np.tanh(layer_norm(c, a_c, b_c, eps))
    return h, [h, c]


def np_cifg_lstm(x_t, states, w):
    W, U, b = w
    h_tm1, c_tm1 = states
    z_i, z_g, z_o = np.split(x_t @ W + h_tm1 @ U + b, 3, axis=1)
    i = sigmoid(z_i)
    c = (1 - i) * c_tm1 + i * np.tanh(z_g)
    h = sigmoid(z_o) * np.tanh(c)
    return h, [h, c]


CELLS = [
    ("SimpleRNNCell", lambda: layers.SimpleRNNCell(H), np_simple_rnn, 1),
    ("GRUCell-before", lambda: layers.GRUCell(H, reset_after=False), np_gru(False), 1),
    ("GRUCell-after", lambda: layers.GRUCell(H, reset_after=True), np_gru(True), 1),
    ("LSTMCell", lambda: layers.LSTMCell(H), np_lstm, 2),
    ("PeepholeLSTMCell", lambda: layers.PeepholeLSTMCell(H), np_peephole_lstm, 2),
    ("LayerNormLSTMCell", lambda: layers.LayerNormLSTMCell(H), np_layer_norm_lstm, 2),
    ("CIFGLSTMCell", lambda: layers.CIFGLSTMCell(H), np_cifg_lstm, 2),
]
CELL_IDS = [c[0] for c in CELLS]


def _randomize(layer, rng):
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()])


def _numpy_run(np_step, x, weights, n_states, mask=None):
    states = [np.zeros((x.shape[0], H))] * n_states
    outputs, out = [], np.zeros((x.shape[0], H))
    for t in range(x.shape[1]):
        new_out, new_states = np_step(x[:, t].astype("float64"), states, weights)
        if mask is not None:
            keep = mask[:, t : t + 1]
            new_states = [np.where(keep, s, s_old) for s, s_old in zip(new_states, states)]
            new_out = np.where(keep, new_out, out)
        states, out = new_states, new_out
        outputs.append(out)
    return np.stack(outputs, 1), states


@pytest.mark.parametrize("name,make_cell,np_step,n_states", CELLS, ids=CELL_IDS)
def test_cell_matches_numpy_equation(name, make_cell, np_step, n_states):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, D)).astype("float32")
    rnn = layers.RNN(make_cell(), return_sequences=True, return_state=True)
    rnn(x)
    _randomize(rnn, rng)
    outputs, *states = [np.asarray(t) for t in rnn(x)]
    expected_outputs, expected_states = _numpy_run(np_step, x, [w.astype("float64") for w in rnn.get_weights()], n_states)
    np.testing.assert_allclose(outputs, expected_outputs, atol=1e-5)
    for got, want in zip(states, expected_states):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name,make_cell,np_step,n_states", CELLS, ids=CELL_IDS)
def test_step_by_step_equals_whole_sequence(name, make_cell, np_step, n_states):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, T, D)).astype("float32")
    cell = make_cell()
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    whole, *final = rnn(x)
    _randomize(rnn, rng)
    whole, *final = [np.asarray(t) for t in rnn(x)]
    states = cell.get_initial_state(batch_size=B)
    for t in range(T):
        out, states = cell(x[:, t], states)
        np.testing.assert_allclose(np.asarray(out), whole[:, t], atol=1e-5)
    for got, want in zip(states, final):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


@pytest.mark.parametrize("name,make_cell,np_step,n_states", CELLS, ids=CELL_IDS)
def test_right_padding_with_mask_changes_nothing(name, make_cell, np_step, n_states):
    rng = np.random.default_rng(2)
    lengths = [T, 4, 2]
    x = rng.normal(size=(B, T, D)).astype("float32")
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    rnn = layers.RNN(make_cell(), return_sequences=True, return_state=True)
    rnn(x)
    _randomize(rnn, rng)
    padded = np.where(mask[..., None], x, 99.0).astype("float32")
    outputs, *states = [np.asarray(t) for t in rnn(padded, mask=mask)]
    for b, n in enumerate(lengths):
        alone, *alone_states = [np.asarray(t) for t in rnn(x[b : b + 1, :n])]
        np.testing.assert_allclose(outputs[b, :n], alone[0], atol=1e-5)
        for got, want in zip(states, alone_states):
            np.testing.assert_allclose(got[b], want[0], atol=1e-5)
    expected, _ = _numpy_run(np_step, padded, [w.astype("float64") for w in rnn.get_weights()], n_states, mask)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


@pytest.mark.parametrize(
    "ours,theirs,kwargs",
    [
        (layers.SimpleRNN, keras.layers.SimpleRNN, {}),
        (layers.GRU, keras.layers.GRU, {"reset_after": True}),
        (layers.GRU, keras.layers.GRU, {"reset_after": False}),
        (layers.LSTM, keras.layers.LSTM, {}),
    ],
    ids=["SimpleRNN", "GRU-after", "GRU-before", "LSTM"],
)
def test_keras_weight_transfer_both_ways(ours, theirs, kwargs):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(B, T, D)).astype("float32")
    mask = np.arange(T)[None, :] < np.array([T, 3, 5])[:, None]
    k = theirs(H, return_sequences=True, return_state=True, **kwargs)
    o = ours(H, return_sequences=True, return_state=True, **kwargs)
    k(x), o(x)
    _randomize(k, rng)
    o.set_weights(k.get_weights())
    for a, b in zip(k(x, mask=mask), o(x, mask=mask)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    _randomize(o, rng)
    k.set_weights(o.get_weights())
    for a, b in zip(k(x), o(x)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-5)
    # The cells alone transfer too.
    kc = getattr(keras.layers, type(o.cell).__name__)(H, **kwargs)
    kc.build((None, D))
    kc.set_weights(o.cell.get_weights())
    states = o.cell.get_initial_state(batch_size=B)
    np.testing.assert_allclose(np.asarray(kc(x[:, 0], states)[0]), np.asarray(o.cell(x[:, 0], states)[0]), atol=1e-5)


def test_bidirectional_and_stacked_match_keras():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, D)).astype("float32")
    k = keras.Sequential([keras.Input((T, D)), keras.layers.Bidirectional(keras.layers.LSTM(H, return_sequences=True)), keras.layers.GRU(H)])
    o = keras.Sequential([keras.Input((T, D)), keras.layers.Bidirectional(layers.LSTM(H, return_sequences=True)), layers.GRU(H)])
    _randomize(k, rng)
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


def test_layer_norm_input_projection_is_layer_norm_of_wx():
    # project_inputs reads LN's statistics off the kernel (W_c x, x^T G x); check it against LN(W x) + b
    # itself, with gamma, beta, b and inputs far from zero mean, where a shortcut that lost precision would show.
    rng = np.random.default_rng(1)
    cell = layers.LayerNormLSTMCell(H, norm_epsilon=1e-3)
    x = (50.0 + rng.normal(size=(B, T, D))).astype("float32")
    cell.build((None, D))
    for w in (cell.kernel, cell.bias, cell.kernel_norm.gamma, cell.kernel_norm.beta):
        w.assign(rng.normal(0.3, 0.5, w.shape).astype("float32"))
    W, b, a_x, b_x = (np.asarray(w, "float64") for w in (cell.kernel, cell.bias, cell.kernel_norm.gamma, cell.kernel_norm.beta))
    want = layer_norm(x.astype("float64") @ W, a_x, b_x, 1e-3) + b
    got = np.asarray(cell.project_inputs(x))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_forget_gate_bias_starts_at_one():
    lstm = layers.LSTMCell(H)
    lstm.build((None, D))
    bias = np.asarray(lstm.bias)
    np.testing.assert_array_equal(bias[H : 2 * H], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[H : 2 * H]), 0.0)
    cifg = layers.CIFGLSTMCell(H)
    cifg.build((None, D))
    np.testing.assert_array_equal(np.asarray(cifg.bias)[:H], -1.0)  # f = 1 - sigmoid(-1) = sigmoid(1)
    plain = layers.LSTMCell(H, unit_forget_bias=False)
    plain.build((None, D))
    np.testing.assert_array_equal(np.asarray(plain.bias), 0.0)


def test_gru_mirror_update_convention_is_the_same_family():
    """Seed 001's h = (1 - z') h_{t-1} + z' h~ is this cell with z' = 1 - z (W_z, U_z, b_z negated)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(B, D)).astype("float32")
    h_tm1 = rng.normal(size=(B, H)).astype("float32")
    cell = layers.GRUCell(H, reset_after=False)
    cell.build((None, D))
    _randomize(cell, rng)
    W, U, b = [w.astype("float64") for w in cell.get_weights()]
    # The mirror form, written as seed 001 writes it, with its own update weights W'_z = -W_z etc.
    Wz_p, Uz_p, bz_p = -W[:, :H], -U[:, :H], -b[:H]
    z_p = sigmoid(x @ Wz_p + h_tm1 @ Uz_p + bz_p)
    r = sigmoid(x @ W[:, H : 2 * H] + h_tm1 @ U[:, H : 2 * H] + b[H : 2 * H])
    hh = np.tanh(x @ W[:, 2 * H :] + (r * h_tm1) @ U[:, 2 * H :] + b[2 * H :])
    mirror = (1 - z_p) * h_tm1 + z_p * hh
    np.testing.assert_allclose(np.asarray(cell(x, [h_tm1])[0]), mirror, atol=1e-5)


@pytest.mark.parametrize("name,make_cell,np_step,n_states", CELLS, ids=CELL_IDS)
def test_shared_harness_generic_layer(name, make_cell, np_step, n_states):
    cell = make_cell()
    x = np.random.default_rng(9).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    run_layer_test(
        layers.RNN,
        {"cell": cell, "return_sequences": True},
        x,
        input_mask=mask,
        expected_output_shape=(2, 4, H),
        run_mixed_precision=False,  # the one cell instance is float32; mixed precision is checked below
    )


@pytest.mark.parametrize("name,make_cell,np_step,n_states", CELLS, ids=CELL_IDS)
def test_cells_under_mixed_float16_track_float32(name, make_cell, np_step, n_states):
    x = np.random.default_rng(11).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    reference = layers.RNN(make_cell(), return_sequences=True)
    expected = np.asarray(reference(x, mask=mask))
    keras.config.set_dtype_policy("mixed_float16")
    mixed = layers.RNN(make_cell(), return_sequences=True)
    mixed(x)
    mixed.set_weights(reference.get_weights())
    got = mixed(x, mask=mask)
    assert got.dtype == "float16"
    np.testing.assert_allclose(np.asarray(got, "float32"), expected, atol=2e-2)


@pytest.mark.parametrize(
    "layer_cls,kwargs",
    [
        (layers.SimpleRNN, {"units": 4, "return_sequences": True, "dropout": 0.1}),
        (layers.GRU, {"units": 4, "return_state": True, "reset_after": False, "recurrent_dropout": 0.1}),
        (layers.LSTM, {"units": 4, "return_sequences": True, "return_state": True, "go_backwards": True}),
    ],
)
def test_shared_harness_sequence_layers(layer_cls, kwargs):
    x = np.random.default_rng(10).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    if kwargs.get("go_backwards"):
        mask = None  # a backward pass over right padding reads the padding first; covered below
    run_layer_test(layer_cls, kwargs, x, input_mask=mask)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.LSTM(0), "units=0"),
        (lambda: layers.GRUCell(-3), "units=-3"),
        (lambda: layers.SimpleRNNCell("8"), "units='8'"),
        (lambda: layers.LSTMCell(4, dropout=1.5), "dropout=1.5"),
        (lambda: layers.GRU(4, recurrent_dropout=-0.1), "recurrent_dropout=-0.1"),
        (lambda: layers.LayerNormLSTMCell(4, norm_epsilon=0), "norm_epsilon=0"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


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


# Hand-written BPTT (layers/_bptt.py): the gradients of the standard layers against autodiff.
FAST_LAYERS = [
    ("LSTM", lambda **kw: layers.LSTM(H, **kw), lambda **kw: keras.layers.LSTM(H, **kw), 2),
    ("GRU-after", lambda **kw: layers.GRU(H, **kw), lambda **kw: keras.layers.GRU(H, **kw), 1),
    (
        "GRU-before",
        lambda **kw: layers.GRU(H, reset_after=False, **kw),
        lambda **kw: keras.layers.GRU(H, reset_after=False, **kw),
        1,
    ),
    ("SimpleRNN", lambda **kw: layers.SimpleRNN(H, **kw), lambda **kw: keras.layers.SimpleRNN(H, **kw), 1),
]
FAST_IDS = [f[0] for f in FAST_LAYERS]


def _variant(cell_class):
    """A layers.RNN over ``cell_class`` that takes the flat arguments of layers.LSTM."""
    from seqrecipes.layers.rnn import LAYER_ARGUMENTS

    def make(**kw):
        cell_kw = {k: v for k, v in kw.items() if k not in LAYER_ARGUMENTS}
        return layers.RNN(cell_class(H, **cell_kw), **{k: v for k, v in kw.items() if k in LAYER_ARGUMENTS})

    return make


# The LSTM variants have no Keras peer; their hand-written BPTT is checked against autodiff only.
VARIANT_LAYERS = [
    (name, _variant(getattr(layers, name)), None, 2)
    for name in ("PeepholeLSTMCell", "LayerNormLSTMCell", "CIFGLSTMCell")
]
VARIANT_IDS = [f[0] for f in VARIANT_LAYERS]
FAST_SETTINGS = [
    {},
    {"go_backwards": True},
    {"zero_output_for_mask": True},
    {"dropout": 0.3, "recurrent_dropout": 0.4, "seed": 2},
    {"return_sequences": False, "return_state": False},
    {"use_bias": False},
]


def _outputs_and_gradients(layer, x, initial_state, mask, training=False):
    """The layer's outputs and d loss / d (x, initial states, weights) for a loss on every output."""
    x = tf.constant(x)
    initial_state = [tf.constant(s) for s in initial_state]
    with tf.GradientTape() as tape:
        tape.watch([x] + initial_state)
        outputs = layer(x, initial_state=initial_state or None, mask=mask, training=training)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        weights = [np.random.default_rng(i).normal(size=o.shape).astype("float32") for i, o in enumerate(outputs)]
        loss = sum(tf.reduce_sum(o * w) for o, w in zip(outputs, weights))
    grads = tape.gradient(loss, [x] + initial_state + layer.trainable_weights)
    assert all(g is not None for g in grads)
    return [np.asarray(o) for o in outputs] + [np.asarray(g) for g in grads]


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS + VARIANT_LAYERS, ids=FAST_IDS + VARIANT_IDS)
def test_hand_written_bptt_matches_autodiff(name, make, make_keras, n_states, monkeypatch):
    """Outputs and gradients (inputs, initial states, weights) of the hand-written BPTT equal those of
    autodiff through the generic loop, with masks, go_backwards, zero outputs, dropout and both
    output kinds receiving gradients."""
    from seqrecipes.layers import _bptt

    calls = []
    run = _bptt.run
    monkeypatch.setattr(_bptt, "run", lambda *a, **k: calls.append(a[0].name) or run(*a, **k))
    rng = np.random.default_rng(13)
    x = rng.normal(size=(B, T, D)).astype("float32")
    initial_state = [rng.normal(size=(B, H)).astype("float32") for _ in range(n_states)]
    right_padding = np.arange(T)[None, :] < np.array([T, 3, 5])[:, None]
    for settings in FAST_SETTINGS:
        kwargs = {"return_sequences": True, "return_state": True, **settings}
        fast, generic = make(**kwargs), make(**kwargs)
        generic.hand_written_bptt = False
        fast(x), generic(x)
        _randomize(fast, rng)
        generic.set_weights(fast.get_weights())
        training = "dropout" in settings  # both layers draw the same masks from the same seed
        for mask in (None, right_padding):
            got = _outputs_and_gradients(fast, x, initial_state, mask, training)
            expected = _outputs_and_gradients(generic, x, initial_state, mask, training)
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, atol=1e-5, err_msg=f"{name} {settings} mask={mask is not None}")
        if training:
            assert not np.allclose(got[0], _outputs_and_gradients(fast, x, initial_state, None)[0])
    assert len(calls) >= 2 * len(FAST_SETTINGS) and set(calls) == {fast.cell.hand_written_recurrence().name}


def test_time_chunks_only_on_tensorflow_with_a_known_length():
    from seqrecipes.layers.rnn import TIME_CHUNKS, time_chunks

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
    from seqrecipes.layers import _bptt

    rng = np.random.default_rng(16)
    steps = 35
    x = rng.normal(size=(B, steps, D)).astype("float32")
    initial_state = [rng.normal(size=(B, H)).astype("float32") for _ in range(n_states)]
    mask = np.arange(steps)[None, :] < np.array([steps, 4, 18])[:, None]
    kwargs = {"return_sequences": True, "return_state": True, "dropout": 0.2, "recurrent_dropout": 0.3, "seed": 5}
    chunked, single = make(**kwargs), make(**kwargs)
    single.max_time_chunks = 1
    chunked(x), single(x)
    _randomize(chunked, rng)
    single.set_weights(chunked.get_weights())
    calls, projections = [], []
    run, input_projection = _bptt.run, chunked.cell.input_projection
    monkeypatch.setattr(_bptt, "run", lambda *a, **k: calls.append(a[1].shape[0]) or run(*a, **k))
    monkeypatch.setattr(chunked.cell, "input_projection", lambda: projections.append(1) or input_projection())
    for m in (None, mask):
        got = _outputs_and_gradients(chunked, x, initial_state, m, training=True)
        expected = _outputs_and_gradients(single, x, initial_state, m, training=True)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=1e-5, err_msg=f"{name} mask={m is not None}")
    assert calls == ([12, 12, 11] + [steps]) * 2
    assert len(projections) == 2  # what the projection derives from the weights: once per call, not per chunk

    calls.clear()
    unknown_length = tf.function(lambda x: chunked(x)[0], input_signature=[tf.TensorSpec((None, None, D))])
    np.testing.assert_allclose(unknown_length(x), chunked(x)[0], atol=1e-5)
    assert calls == [None, 12, 12, 11]  # traced with an unknown length, then the eager call


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS, ids=FAST_IDS)
def test_hand_written_bptt_gradients_match_keras(name, make, make_keras, n_states):
    rng = np.random.default_rng(14)
    x = rng.normal(size=(B, T, D)).astype("float32")
    initial_state = [rng.normal(size=(B, H)).astype("float32") for _ in range(n_states)]
    mask = np.arange(T)[None, :] < np.array([T, 2, 4])[:, None]
    ours = make(return_sequences=True, return_state=True)
    theirs = make_keras(return_sequences=True, return_state=True)
    ours(x), theirs(x)
    _randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    for m in (None, mask):
        got = _outputs_and_gradients(ours, x, initial_state, m)
        expected = _outputs_and_gradients(theirs, x, initial_state, m)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=1e-5)


def test_hand_written_bptt_only_for_default_activations():
    def recurrence(cell):
        cell.build((None, D))
        recurrence = cell.hand_written_recurrence()
        return None if recurrence is None else recurrence.name

    assert recurrence(layers.LSTMCell(H)) == "lstm"
    assert recurrence(layers.GRUCell(H, reset_after=False)) == "gru_before"
    assert recurrence(layers.LSTMCell(H, activation="relu")) is None
    assert recurrence(layers.GRUCell(H, recurrent_activation="hard_sigmoid")) is None
    assert recurrence(layers.PeepholeLSTMCell(H)) == "peephole"
    assert recurrence(layers.LayerNormLSTMCell(H)) == "layer_norm"
    assert recurrence(layers.CIFGLSTMCell(H)) == "cifg"
    non_default = (layers.PeepholeLSTMCell(H, activation="relu"), layers.LayerNormLSTMCell(H, recurrent_activation="hard_sigmoid"))
    for cell in non_default:
        assert recurrence(cell) is None


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS + VARIANT_LAYERS, ids=FAST_IDS + VARIANT_IDS)
def test_hand_written_bptt_under_mixed_float16_tracks_float32(name, make, make_keras, n_states):
    rng = np.random.default_rng(15)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    reference = make(return_sequences=True)
    reference(x)
    _randomize(reference, rng)
    expected = _outputs_and_gradients(reference, x, [], mask)
    keras.config.set_dtype_policy("mixed_float16")  # the conftest fixture restores float32
    mixed = make(return_sequences=True)
    mixed(x)
    mixed.set_weights(reference.get_weights())
    got = _outputs_and_gradients(mixed, x, [], mask)
    assert got[0].dtype == np.float16
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.astype("float32"), b, atol=3e-2, rtol=3e-2)
