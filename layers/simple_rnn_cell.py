"""The vanilla (Elman) RNN cell of seed 002."""

import keras
from keras import ops

from seqrecipes.layers.recurrent_cell import RecurrentCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class SimpleRNNCell(RecurrentCell):
    """Elman RNN cell: one hidden state updated from the input and itself.

    The hidden layer of seed 002 (shapes there are column vectors; here a batch of rows):

        h_t = tanh(W_x x_t + W_h h_{t-1} + b)

    with x_t of size d and h_t of size D_h (``units``). The output layer y_t = f(W_y h_t + b_y) is a
    ``keras.layers.Dense`` placed after the sequence layer; the cell's output is h_t.

    Symbols and weights (the same layout as ``keras.layers.SimpleRNNCell``, so ``set_weights``
    transfers both ways):
        W_x: ``kernel``, shape (d, D_h).
        W_h: ``recurrent_kernel``, shape (D_h, D_h).
        b: ``bias``, shape (D_h,).

    Args:
        units: D_h, a positive integer.
        activation: the nonlinearity, tanh by default.
        **kwargs: the arguments of ``RecurrentCell`` (initializers, regularizers, constraints,
            dropout, recurrent_dropout, seed) and of ``keras.layers.Layer``.

    Call arguments:
        inputs: x_t, shape (B, d).
        states: [h_{t-1}], shape (B, D_h).
        training: whether dropout applies.

    Returns:
        (h_t, [h_t]).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> rnn = layers.RNN(layers.SimpleRNNCell(8), return_sequences=True)
    >>> rnn(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 5, 8])

    References:
        Elman, "Finding structure in time", Cognitive Science 1990.
    """

    gates = 1

    def step(self, x_proj, states, recurrent_mask=None):
        h_tm1 = states[0]
        if recurrent_mask is not None:
            h_tm1 = h_tm1 * recurrent_mask
        h = self.activation(x_proj + ops.matmul(h_tm1, self.recurrent_kernel))
        return h, [h]
