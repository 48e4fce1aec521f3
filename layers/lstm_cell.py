"""The long short-term memory (LSTM) cell of seeds 000, 002 and 004; its hand-written recurrence, shared
with the LSTM variants, is in ``_lstm_bptt.py``."""

import keras
from keras import ops

from seqrecipes.layers._lstm_bptt import lstm_recurrence
from seqrecipes.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class LSTMCell(RecurrentCell):
    """LSTM cell with input, forget and output gates and a cell state.

        i_t = sigmoid(W_i x_t + U_i h_{t-1} + b_i)
        f_t = sigmoid(W_f x_t + U_f h_{t-1} + b_f)
        g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)
        o_t = sigmoid(W_o x_t + U_o h_{t-1} + b_o)
        c_t = f_t * c_{t-1} + i_t * g_t
        h_t = o_t * tanh(c_t)

    Seed 000 writes g_t inside c_t as tanh(W_c x_t + U_c h_{t-1} + b_c); seed 002 names it g_t.

    Symbols and weights (Keras's layout, gate order i, f, g (Keras's "c"), o, so ``set_weights``
    transfers both ways with ``keras.layers.LSTMCell`` and ``keras.layers.LSTM``):
        W = [W_i | W_f | W_g | W_o]: ``kernel``, shape (D, 4H).
        U = [U_i | U_f | U_g | U_o]: ``recurrent_kernel``, shape (H, 4H).
        b = [b_i | b_f | b_g | b_o]: ``bias``, shape (4H,); b_f starts at 1 when
            ``unit_forget_bias`` (Jozefowicz et al. 2015), as in Keras.

    Args:
        units: H, a positive integer.
        recurrent_activation: the gate nonlinearity, sigmoid by default.
        unit_forget_bias: start b_f at 1 and the other biases from ``bias_initializer``.
        **kwargs: the arguments of ``RecurrentCell`` (activation, initializers, regularizers,
            constraints, dropout, recurrent_dropout, seed) and of ``keras.layers.Layer``.

    Call arguments:
        inputs: x_t, shape (B, D).
        states: [h_{t-1}, c_{t-1}], each (B, H).
        training: whether dropout applies.

    Returns:
        (h_t, [h_t, c_t]).

    Example: the forget bias starts at 1, and a first step from zero states against the equations.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.LSTMCell(2)
    >>> x_t, zeros = np.ones((1, 3), "float32"), np.zeros((1, 2), "float32")
    >>> h_t, [_, c_t] = cell(x_t, [zeros, zeros])
    >>> np.asarray(cell.bias).tolist()  # b = [b_i | b_f | b_g | b_o]
    [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    >>> z = x_t @ np.asarray(cell.kernel) + np.asarray(cell.bias)  # U h_{t-1} = 0
    >>> sigmoid = lambda v: 1 / (1 + np.exp(-v))
    >>> i, g, o = sigmoid(z[:, :2]), np.tanh(z[:, 4:6]), sigmoid(z[:, 6:])
    >>> bool(np.allclose(c_t, i * g, atol=1e-6)), bool(np.allclose(h_t, o * np.tanh(i * g), atol=1e-6))
    (True, True)

    References:
        Hochreiter and Schmidhuber, "Long Short-Term Memory", Neural Computation 1997.
        Jozefowicz et al., "An Empirical Exploration of Recurrent Network Architectures", ICML 2015.
    """

    gates = 4

    def __init__(self, units, recurrent_activation="sigmoid", unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.unit_forget_bias = unit_forget_bias

    @property
    def state_size(self):
        return [self.units, self.units]

    def forget_gate_slice(self):
        """Where b_f sits in the bias vector: (start, stop)."""
        return self.units, 2 * self.units

    def initial_bias(self, shape, dtype=None):
        bias = self.bias_initializer(shape, dtype=dtype)
        if not self.unit_forget_bias:
            return bias
        start, stop = self.forget_gate_slice()
        ones = ops.ones((stop - start,), dtype=bias.dtype)
        return ops.concatenate([bias[:start], ones, bias[stop:]], axis=0)

    def recurrent_projection(self, h_tm1):
        """U h_{t-1}: (B, H) -> (B, gates * H)."""
        return ops.matmul(h_tm1, self.recurrent_kernel)

    def gate_inputs(self, x_proj, states, recurrent_mask=None):
        """The pre-activations z = x_proj + ``recurrent_projection(h_{t-1})`` split into ``gates``
        blocks of (B, H), and c_{t-1}; h_{t-1} is multiplied by the recurrent dropout mask first."""
        h_tm1, c_tm1 = states[0], states[1]
        if recurrent_mask is not None:
            h_tm1 = h_tm1 * recurrent_mask
        z = x_proj + self.recurrent_projection(h_tm1)  # (B, gates * H)
        return ops.split(z, self.gates, axis=-1), c_tm1

    def step(self, x_proj, states, recurrent_mask=None):
        (z_i, z_f, z_g, z_o), c_tm1 = self.gate_inputs(x_proj, states, recurrent_mask)
        i = self.recurrent_activation(z_i)
        f = self.recurrent_activation(z_f)
        g = self.activation(z_g)
        o = self.recurrent_activation(z_o)
        c = f * c_tm1 + i * g
        h = o * self.activation(c)
        return h, [h, c]

    def hand_written_recurrence(self):
        """The LSTM's hand-written BPTT (``_lstm_bptt``) for exactly this class with tanh and sigmoid."""
        return lstm_recurrence(self, "lstm") if self.has_default_form(LSTMCell) else None

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias,
            }
        )
        return config
