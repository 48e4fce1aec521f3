"""The coupled input-forget gate (CIFG) LSTM cell: f_t = 1 - i_t."""

import keras
from keras import ops

from seqrecipes.layers._lstm_bptt import lstm_recurrence
from seqrecipes.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class CIFGLSTMCell(LSTMCell):
    """LSTM cell whose forget gate is tied to its input gate, so it has three gates' weights.

        i_t = sigmoid(W_i x_t + U_i h_{t-1} + b_i)
        f_t = 1 - i_t
        g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)
        o_t = sigmoid(W_o x_t + U_o h_{t-1} + b_o)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    With ``unit_forget_bias`` the input-gate bias b_i starts at -1, so f_t = 1 - i_t starts near
    sigmoid(1), the same start the forget bias of 1 gives ``LSTMCell``.

    Symbols and weights (gate order i, g, o):
        W = [W_i | W_g | W_o]: ``kernel``, shape (D, 3H).
        U = [U_i | U_g | U_o]: ``recurrent_kernel``, shape (H, 3H).
        b = [b_i | b_g | b_o]: ``bias``, shape (3H,).

    Args, Call arguments, Returns: as ``LSTMCell``.

    Example: three gates' biases, b_i starting at -1; an input gate held shut (i_t ~ 0) opens the
    forget gate (f_t = 1 - i_t ~ 1), so the cell state is carried unchanged.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.CIFGLSTMCell(2)
    >>> x_t, h_tm1 = np.ones((1, 3), "float32"), np.zeros((1, 2), "float32")
    >>> c_tm1 = np.array([[0.5, -2.0]], "float32")
    >>> _ = cell(x_t, [h_tm1, c_tm1])
    >>> np.asarray(cell.bias).tolist()  # b = [b_i | b_g | b_o]
    [-1.0, -1.0, 0.0, 0.0, 0.0, 0.0]
    >>> _ = cell.bias.assign(np.array([-30, -30, 0, 0, 0, 0], "float32"))
    >>> h_t, [_, c_t] = cell(x_t, [h_tm1, c_tm1])
    >>> np.round(np.asarray(c_t), 4).tolist()
    [[0.5, -2.0]]

    References:
        Greff et al., "LSTM: A Search Space Odyssey", IEEE TNNLS 2017 (the CIFG variant).
    """

    gates = 3

    def initial_bias(self, shape, dtype=None):
        bias = self.bias_initializer(shape, dtype=dtype)
        if not self.unit_forget_bias:
            return bias
        H = self.units
        return ops.concatenate([-ops.ones((H,), dtype=bias.dtype), bias[H:]], axis=0)

    def step(self, x_proj, states, recurrent_mask=None):
        (z_i, z_g, z_o), c_tm1 = self.gate_inputs(x_proj, states, recurrent_mask)
        i = self.recurrent_activation(z_i)
        c = (1.0 - i) * c_tm1 + i * self.activation(z_g)
        h = self.recurrent_activation(z_o) * self.activation(c)
        return h, [h, c]

    def hand_written_recurrence(self):
        """The LSTM family's hand-written BPTT with f_t = 1 - i_t (``_lstm_bptt``)."""
        return lstm_recurrence(self, "cifg") if self.has_default_form(CIFGLSTMCell) else None
