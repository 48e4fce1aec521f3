"""The peephole LSTM cell (Gers et al. 2000): gates that see the cell state."""

import keras

from seqrecipes.layers._lstm_bptt import lstm_recurrence
from seqrecipes.layers.lstm_cell import LSTMCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class PeepholeLSTMCell(LSTMCell):
    """LSTM cell whose gates also read the cell state through diagonal peephole weights.

        i_t = sigmoid(W_i x_t + U_i h_{t-1} + p_i * c_{t-1} + b_i)
        f_t = sigmoid(W_f x_t + U_f h_{t-1} + p_f * c_{t-1} + b_f)
        g_t = tanh(W_g x_t + U_g h_{t-1} + b_g)
        c_t = f_t * c_{t-1} + i_t * g_t
        o_t = sigmoid(W_o x_t + U_o h_{t-1} + p_o * c_t + b_o)
        h_t = o_t * tanh(c_t)

    Symbols and weights: W, U, b as in ``LSTMCell`` (gate order i, f, g, o), and
        p_i: ``input_gate_peephole_weights``, shape (H,).
        p_f: ``forget_gate_peephole_weights``, shape (H,).
        p_o: ``output_gate_peephole_weights``, shape (H,).

    Args:
        units: H, a positive integer.
        peephole_initializer: initializer of p_i, p_f, p_o (glorot_uniform, as TF Addons had).
        **kwargs: the arguments of ``LSTMCell``.

    Call arguments, Returns: as ``LSTMCell``.

    Example: with p_i = p_f = p_o = 0 the cell is an ``LSTMCell`` with the same W, U, b; with
    peepholes the gates see c and the outputs differ.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")  # (B, T, D)
    >>> peephole = layers.RNN(layers.PeepholeLSTMCell(4, peephole_initializer="zeros"))
    >>> plain = layers.RNN(layers.LSTMCell(4))
    >>> y, _ = peephole(x), plain(x)
    >>> plain.set_weights(peephole.get_weights()[:3])  # kernel, recurrent_kernel, bias; then p_i, p_f, p_o
    >>> bool(np.allclose(plain(x), y, atol=1e-6))
    True
    >>> _ = peephole.cell.forget_gate_peephole_weights.assign(np.full(4, 2.0, "float32"))
    >>> bool(np.allclose(peephole(x), y, atol=1e-3))
    False

    References:
        Gers, Schmidhuber and Cummins, "Learning to Forget: Continual Prediction with LSTM",
        Neural Computation 2000; Gers and Schmidhuber, "Recurrent nets that time and count", 2000.
    """

    def __init__(self, units, peephole_initializer="glorot_uniform", **kwargs):
        super().__init__(units, **kwargs)
        self.peephole_initializer = keras.initializers.get(peephole_initializer)

    def build(self, input_shape):
        super().build(input_shape)
        for gate in ("input", "forget", "output"):
            # Each peephole vector gets its own initializer copy.
            initializer = keras.initializers.get(keras.initializers.serialize(self.peephole_initializer))
            weight = self.add_weight(shape=(self.units,), name=f"{gate}_gate_peephole_weights", initializer=initializer)
            setattr(self, f"{gate}_gate_peephole_weights", weight)

    def step(self, x_proj, states, recurrent_mask=None):
        (z_i, z_f, z_g, z_o), c_tm1 = self.gate_inputs(x_proj, states, recurrent_mask)
        i = self.recurrent_activation(z_i + self.input_gate_peephole_weights * c_tm1)
        f = self.recurrent_activation(z_f + self.forget_gate_peephole_weights * c_tm1)
        c = f * c_tm1 + i * self.activation(z_g)
        o = self.recurrent_activation(z_o + self.output_gate_peephole_weights * c)
        h = o * self.activation(c)
        return h, [h, c]

    def hand_written_recurrence(self):
        """The LSTM family's hand-written BPTT with the peepholes p_i, p_f, p_o (``_lstm_bptt``)."""
        if not self.has_default_form(PeepholeLSTMCell):
            return None
        peepholes = [getattr(self, f"{gate}_gate_peephole_weights") for gate in ("input", "forget", "output")]
        return lstm_recurrence(self, "peephole", extra=peepholes)

    def get_config(self):
        config = super().get_config()
        config["peephole_initializer"] = keras.initializers.serialize(self.peephole_initializer)
        return config
