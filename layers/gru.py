"""The GRU over a sequence, with Keras's arguments."""

import keras

from seqrecipes.layers.gru_cell import GRUCell
from seqrecipes.layers.rnn import RNN


@keras.saving.register_keras_serializable(package="seqrecipes")
class GRU(RNN):
    """``RNN(GRUCell(units, ...))`` with the arguments of ``keras.layers.GRU``.

    The equations are those of ``GRUCell`` (``reset_after=False``: Cho 2014, seeds 000 and 004;
    ``reset_after=True``, the default: the cuDNN form). The weights are Keras's, so
    ``layer.set_weights(keras.layers.GRU(...).get_weights())`` gives the same outputs.

    Args:
        units: H, a positive integer.
        return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask:
            as ``RNN``.
        **kwargs: the arguments of ``GRUCell`` (recurrent_activation, reset_after, activation,
            initializers, regularizers, constraints, dropout, recurrent_dropout, seed) and of
            ``keras.layers.Layer``.

    Call arguments, Returns: as ``RNN``.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> layers.GRU(8, reset_after=False)(np.zeros((2, 5, 3), "float32")).shape
    TensorShape([2, 8])
    """

    cell_class = GRUCell

    def __init__(self, units, **kwargs):
        cell, layer_kwargs = self.cell_from_arguments(units, kwargs)
        super().__init__(cell, **layer_kwargs)
