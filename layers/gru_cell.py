"""The gated recurrent unit (GRU) cell, both reset placements of the seeds and of cuDNN."""

import keras
from keras import ops

from seqrecipes.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class GRUCell(RecurrentCell):
    """GRU cell with an update gate z and a reset gate r.

    Seeds 000 and 004 (Cho et al. 2014), ``reset_after=False``, the reset gate applied before the
    recurrent matmul:

        z_t = sigmoid(W_z x_t + U_z h_{t-1} + b_z)
        r_t = sigmoid(W_r x_t + U_r h_{t-1} + b_r)
        h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
        h_t = z_t * h_{t-1} + (1 - z_t) * h~_t

    ``reset_after=True`` (the default, as in Keras and cuDNN) applies the reset gate after the
    recurrent matmul and keeps a second, recurrent bias b'_h:

        h~_t = tanh(W_h x_t + b_h + r_t * (U_h h_{t-1} + b'_h))

    Seed 001 writes the update as h_t = (1 - z'_t) * h_{t-1} + z'_t * h~_t. That is the same family
    with z'_t = 1 - z_t (negate W_z, U_z, b_z to move between the two); this cell uses the form of
    seeds 000 and 004, which is also Keras's.

    Symbols and weights (Keras's layout, gate order z, r, h, so ``set_weights`` transfers both ways
    with ``keras.layers.GRUCell`` of the same ``reset_after``):
        W = [W_z | W_r | W_h]: ``kernel``, shape (D, 3H).
        U = [U_z | U_r | U_h]: ``recurrent_kernel``, shape (H, 3H).
        b: ``bias``, shape (3H,), or (2, 3H) with the recurrent biases in row 1 when
            ``reset_after=True``.

    Args:
        units: H, a positive integer.
        recurrent_activation: the gate nonlinearity, sigmoid by default.
        reset_after: where the reset gate applies (see above).
        **kwargs: the arguments of ``RecurrentCell`` and of ``keras.layers.Layer``.

    Call arguments:
        inputs: x_t, shape (B, D).
        states: [h_{t-1}], shape (B, H).
        training: whether dropout applies.

    Returns:
        (h_t, [h_t]).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> cell = layers.GRUCell(4, reset_after=False)
    >>> h, [h_again] = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
    >>> h.shape
    TensorShape([2, 4])

    References:
        Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder for Statistical
        Machine Translation", EMNLP 2014.
    """

    gates = 3

    def __init__(self, units, recurrent_activation="sigmoid", reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.recurrent_activation = keras.activations.get(recurrent_activation)
        self.reset_after = reset_after

    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def input_bias(self):
        if not self.use_bias:
            return None
        return self.bias[0] if self.reset_after else self.bias  # reset-after: [b_x; b'_h], (2, 3H)

    def step(self, x_proj, states, recurrent_mask=None):
        h_tm1 = states[0]
        h_in = h_tm1 if recurrent_mask is None else h_tm1 * recurrent_mask
        H = self.units
        x_z, x_r, x_h = x_proj[:, :H], x_proj[:, H : 2 * H], x_proj[:, 2 * H :]
        if self.reset_after:
            inner = ops.matmul(h_in, self.recurrent_kernel)  # (B, 3H)
            if self.use_bias:
                inner = inner + self.bias[1]
            z = self.recurrent_activation(x_z + inner[:, :H])
            r = self.recurrent_activation(x_r + inner[:, H : 2 * H])
            hh = self.activation(x_h + r * inner[:, 2 * H :])
        else:
            inner = ops.matmul(h_in, self.recurrent_kernel[:, : 2 * H])  # (B, 2H)
            z = self.recurrent_activation(x_z + inner[:, :H])
            r = self.recurrent_activation(x_r + inner[:, H:])
            hh = self.activation(x_h + ops.matmul(r * h_in, self.recurrent_kernel[:, 2 * H :]))
        h = z * h_tm1 + (1.0 - z) * hh
        return h, [h]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "recurrent_activation": keras.activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after,
            }
        )
        return config
