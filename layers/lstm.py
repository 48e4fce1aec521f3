"""The LSTM over a sequence, with Keras's arguments."""

import keras

from seqrecipes.layers.lstm_cell import LSTMCell
from seqrecipes.layers.rnn import RNN


@keras.saving.register_keras_serializable(package="seqrecipes")
class LSTM(RNN):
    """``RNN(LSTMCell(units, ...))`` with the arguments of ``keras.layers.LSTM``.

    The equations are those of ``LSTMCell``; the weights are Keras's, so
    ``layer.set_weights(keras.layers.LSTM(...).get_weights())`` gives the same outputs. For the
    variants, run the cell with the generic layer: ``RNN(PeepholeLSTMCell(units))``.

    Args:
        units: H, a positive integer.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as ``RNN``.
        **kwargs: the arguments of ``LSTMCell`` (recurrent_activation, unit_forget_bias,
            activation, initializers, regularizers, constraints, dropout, recurrent_dropout, seed)
            and of ``keras.layers.Layer``.

    Call arguments, Returns: as ``RNN``.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> out, h, c = layers.LSTM(8, return_sequences=True, return_state=True)(np.zeros((2, 5, 3), "float32"))
    >>> out.shape, c.shape
    (TensorShape([2, 5, 8]), TensorShape([2, 8]))
    """

    cell_class = LSTMCell

    def __init__(self, units, **kwargs):
        cell, layer_kwargs = self.cell_from_arguments(units, kwargs)
        super().__init__(cell, **layer_kwargs)
