"""NumPy references of the recurrent cells' equations and the case tables the recurrent tests share.

Each ``np_*`` function is one step of a cell's equation, written from its docstring with the
weights as the cell stores them (``rnn.get_weights()`` order), in float64.
"""

import math

import keras
import numpy as np
from keras import ops

from seqrecipes import layers
from seqrecipes.layers.rnn import LAYER_ARGUMENTS

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


# (id, cell factory, NumPy step, number of states, number of trainable weights).
CELLS = [
    ("SimpleRNNCell", lambda: layers.SimpleRNNCell(H), np_simple_rnn, 1, 3),
    ("GRUCell-before", lambda: layers.GRUCell(H, reset_after=False), np_gru(False), 1, 3),
    ("GRUCell-after", lambda: layers.GRUCell(H, reset_after=True), np_gru(True), 1, 3),
    ("LSTMCell", lambda: layers.LSTMCell(H), np_lstm, 2, 3),
    ("PeepholeLSTMCell", lambda: layers.PeepholeLSTMCell(H), np_peephole_lstm, 2, 6),
    ("LayerNormLSTMCell", lambda: layers.LayerNormLSTMCell(H), np_layer_norm_lstm, 2, 9),  # W, U, b, 3 x (a, b)
    ("CIFGLSTMCell", lambda: layers.CIFGLSTMCell(H), np_cifg_lstm, 2, 3),
]
CELL_IDS = [c[0] for c in CELLS]


def randomize(layer, rng):
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()])


def numpy_run(np_step, x, weights, n_states, mask=None, units=H):
    """The outputs (B, T, H) and final states of ``np_step`` over x (B, T, D), masked as Keras masks."""
    states = [np.zeros((x.shape[0], units))] * n_states
    outputs, out = [], np.zeros((x.shape[0], units))
    for t in range(x.shape[1]):
        new_out, new_states = np_step(x[:, t].astype("float64"), states, weights)
        if mask is not None:
            keep = mask[:, t : t + 1]
            new_states = [np.where(keep, s, s_old) for s, s_old in zip(new_states, states)]
            new_out = np.where(keep, new_out, out)
        states, out = new_states, new_out
        outputs.append(out)
    return np.stack(outputs, 1), states


# Hand-written BPTT: the standard layers with their Keras peers, and the LSTM variants (no peer).
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

    def make(**kw):
        cell_kw = {k: v for k, v in kw.items() if k not in LAYER_ARGUMENTS}
        return layers.RNN(cell_class(H, **cell_kw), **{k: v for k, v in kw.items() if k in LAYER_ARGUMENTS})

    return make


VARIANT_LAYERS = [
    (name, _variant(getattr(layers, name)), None, 2) for name in ("PeepholeLSTMCell", "LayerNormLSTMCell", "CIFGLSTMCell")
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


class Ramp(keras.initializers.Initializer):
    """Values evenly spaced from ``low`` to ``high`` over the weight, in row-major order.

    The golden-value tests use ramps where keras's lstm_test uses Constant(0.01), Constant(0.02)
    and Constant(0.03): constants make every gate of a unit (and every unit) alike, so a swapped
    gate or unit would not show; with ramps every column of W, U and b differs.
    """

    def __init__(self, low, high):
        self.low, self.high = low, high

    def __call__(self, shape, dtype=None):
        return ops.reshape(ops.linspace(self.low, self.high, math.prod(shape), dtype=dtype), shape)

    def get_config(self):
        return {"low": self.low, "high": self.high}


# The golden-value tests' cells: H = 3 units, these initializers, over this (B, T, D) = (2, 3, 4) input.
GOLDEN_UNITS = 3
GOLDEN_INITIALIZERS = {
    "kernel_initializer": Ramp(-0.3, 0.4),
    "recurrent_initializer": Ramp(-0.5, 0.3),
    "bias_initializer": Ramp(-0.2, 0.25),
}
GOLDEN_INPUT = np.arange(24, dtype="float32").reshape(2, 3, 4) / 10.0
