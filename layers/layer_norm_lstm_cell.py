"""The layer-normalised LSTM cell (Ba, Kiros and Hinton 2016)."""

import keras
from keras import ops

from seqrecipes._checks import check_positive_number
from seqrecipes.layers._lstm_bptt import lstm_recurrence
from seqrecipes.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class LayerNormLSTMCell(LSTMCell):
    """LSTM cell with layer normalisation of the input and recurrent projections and of the cell.

    Ba et al. 2016, eq. 20-22, in this project's gate order:

        [z_i, z_f, z_g, z_o] = LN(W x_t; a_x, b_x) + LN(U h_{t-1}; a_h, b_h) + b
        i_t = sigmoid(z_i), f_t = sigmoid(z_f), g_t = tanh(z_g), o_t = sigmoid(z_o)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(LN(c_t; a_c, b_c))

    LN(v; a, b) = a * (v - mean(v)) / sqrt(var(v) + epsilon) + b over the last axis; the carried
    cell state c_t is the unnormalised one, as in the paper.

    Symbols and weights: W, U, b as in ``LSTMCell`` (gate order i, f, g, o), and
        a_x, b_x: ``kernel_norm`` (a LayerNormalization over 4H).
        a_h, b_h: ``recurrent_norm`` (over 4H).
        a_c, b_c: ``cell_norm`` (over H).

    Args:
        units: H, a positive integer.
        norm_epsilon: epsilon of the three normalisations.
        **kwargs: the arguments of ``LSTMCell``.

    Call arguments, Returns: as ``LSTMCell``.

    Example: LN(W x_t) does not see the scale of x_t, so a step from zero states gives (up to
    epsilon) the same h_t for x_t and 10 x_t; an ``LSTMCell``'s h_t changes.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> x_t = np.random.default_rng(0).normal(size=(2, 3)).astype("float32")
    >>> states = [np.zeros((2, 4), "float32")] * 2  # h_{t-1}, c_{t-1}
    >>> for cell in (layers.LayerNormLSTMCell(4), layers.LSTMCell(4)):
    ...     print(type(cell).__name__, bool(np.allclose(cell(10 * x_t, states)[0], cell(x_t, states)[0], atol=1e-2)))
    LayerNormLSTMCell True
    LSTMCell False

    References:
        Ba, Kiros and Hinton, "Layer Normalization", arXiv:1607.06450, 2016.
    """

    def __init__(self, units, norm_epsilon=1e-3, **kwargs):
        super().__init__(units, **kwargs)
        self.norm_epsilon = float(check_positive_number("norm_epsilon", norm_epsilon, owner=type(self).__name__))
        norm = dict(epsilon=self.norm_epsilon, dtype=self.dtype_policy)
        self.kernel_norm = keras.layers.LayerNormalization(name="kernel_norm", **norm)
        self.recurrent_norm = keras.layers.LayerNormalization(name="recurrent_norm", **norm)
        self.cell_norm = keras.layers.LayerNormalization(name="cell_norm", **norm)

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel_norm.build((None, 4 * self.units))
        self.recurrent_norm.build((None, 4 * self.units))
        self.cell_norm.build((None, self.units))

    def input_projection(self):
        """inputs (..., D) -> LN(W x; a_x, b_x) + b, with the statistics read off the kernel.

        The mean over the 4H outputs is linear in x, so W x - mean(W x) = W_c x with W_c = W minus
        the mean of each of its rows, and var(W x) = x^T G x with G = W_c W_c^T / 4H (D x D):

            LN(W x) = (W_c diag(a_x)) x * rsqrt(x^T G x + epsilon) + b_x

        This is LN exactly, but the only full-size (..., 4H) work is the matmul, one product and one
        sum; the statistics cost a (..., D) x (D, D) matmul. They are computed in float32. W_c diag(a_x),
        G and the offset are computed once, here; the returned function applies them.
        """
        kernel = ops.cast(self.kernel, "float32")  # (D, 4H)
        centred = kernel - ops.mean(kernel, axis=1, keepdims=True)  # W_c
        gram = ops.matmul(centred, ops.transpose(centred)) / (4 * self.units)  # G, (D, D)
        scaled = ops.cast(centred * self.kernel_norm.gamma, self.compute_dtype)  # W_c diag(a_x)
        offset = ops.cast(self.kernel_norm.beta, self.compute_dtype)
        if self.use_bias:
            offset = offset + self.bias

        def project(inputs):
            x32 = ops.cast(inputs, "float32")
            variance = ops.sum(ops.matmul(x32, gram) * x32, axis=-1, keepdims=True)  # (..., 1)
            rstd = ops.cast(ops.rsqrt(variance + self.norm_epsilon), self.compute_dtype)
            return ops.matmul(inputs, scaled) * rstd + offset

        return project

    def recurrent_projection(self, h_tm1):
        """LN(U h_{t-1}; a_h, b_h): (B, H) -> (B, 4H)."""
        return self.recurrent_norm(ops.matmul(h_tm1, self.recurrent_kernel))

    def step(self, x_proj, states, recurrent_mask=None):
        (z_i, z_f, z_g, z_o), c_tm1 = self.gate_inputs(x_proj, states, recurrent_mask)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        o = self.recurrent_activation(z_o)
        c = f * c_tm1 + i * self.activation(z_g)
        h = o * self.activation(self.cell_norm(c))
        return h, [h, c]

    def hand_written_recurrence(self):
        """The LSTM family's hand-written BPTT with LN(U h_{t-1}; a_h, b_h) and LN(c_t; a_c, b_c)
        (``_lstm_bptt``); LN(W x; a_x, b_x) is in the input projection, outside the loop."""
        if not self.has_default_form(LayerNormLSTMCell):
            return None
        norms = [self.recurrent_norm.gamma, self.recurrent_norm.beta, self.cell_norm.gamma, self.cell_norm.beta]
        return lstm_recurrence(self, "layer_norm", extra=norms, epsilon=self.norm_epsilon)

    def get_config(self):
        config = super().get_config()
        config["norm_epsilon"] = self.norm_epsilon
        return config
