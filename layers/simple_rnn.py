"""The vanilla RNN over a sequence, with Keras's arguments."""

import keras

from seqrecipes.layers.rnn import RNN
from seqrecipes.layers.simple_rnn_cell import SimpleRNNCell


@keras.saving.register_keras_serializable(package="seqrecipes")
class SimpleRNN(RNN):
    """``RNN(SimpleRNNCell(units, ...))`` with the arguments of ``keras.layers.SimpleRNN``.

        h_t = tanh(W_x x_t + W_h h_{t-1} + b)

    Args:
        units: D_h, a positive integer.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as ``RNN``.
        **kwargs: the arguments of ``SimpleRNNCell`` (activation, initializers, regularizers,
            constraints, dropout, recurrent_dropout, seed) and of ``keras.layers.Layer``.

    Call arguments, Returns: as ``RNN``.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> layers.SimpleRNN(8, return_sequences=True)(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 5, 8])
    """

    cell_class = SimpleRNNCell

    def __init__(self, units, **kwargs):
        cell, layer_kwargs = self.cell_from_arguments(units, kwargs)
        super().__init__(cell, **layer_kwargs)
