"""Sinusoidal positional encoding of Vaswani et al. (2017), for any length and any start position."""

import keras
from keras import ops

from seqrecipes._checks import check_positive_number
from seqrecipes.layers._utils import check_rank_3


@keras.saving.register_keras_serializable(package="seqrecipes")
class PositionalEncoding(keras.layers.Layer):
    """The fixed sinusoidal position table, to be added to token embeddings.

    Shapes: B batch, T length, D features; p a position, i an index in 0 .. ceil(D/2) - 1.

        PE(p, 2i)     = sin(p / 10000^(2i / D))
        PE(p, 2i + 1) = cos(p / 10000^(2i / D))

    Positions are p = start_index, ..., start_index + T - 1, so incremental decoding gets the rows of
    the positions it is at. The table is computed in float32 (positions are exact there up to 2^24)
    and cast to the compute dtype. It has no weights and no length limit.

    Args:
        max_wavelength: the 10000 of the equations.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: (B, T, D) embeddings; only their shape is used.
        start_index: int or int scalar tensor, the position of the first step (0 by default).

    Returns:
        The encoding PE broadcast to (B, T, D). Add it to the inputs: `x + PositionalEncoding()(x)`.
        The Keras mask of `inputs` passes through.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> pe = layers.PositionalEncoding()(np.zeros((2, 3, 4), "float32"))
    >>> [round(float(v), 3) for v in np.asarray(pe)[0, 1]]
    [0.841, 0.54, 0.01, 1.0]

    References:
        - Vaswani et al. (2017), Attention is all you need, section 3.5, https://arxiv.org/abs/1706.03762
    """

    def __init__(self, max_wavelength=10000, **kwargs):
        super().__init__(**kwargs)
        self.max_wavelength = check_positive_number("max_wavelength", max_wavelength, owner=type(self).__name__)
        self.supports_masking = True

    def build(self, input_shape):
        check_rank_3("PositionalEncoding", input_shape, dims="B, T, D")

    def call(self, inputs, start_index=0):
        check_rank_3("PositionalEncoding", inputs.shape, dims="B, T, D")
        shape = ops.shape(inputs)
        T, D = shape[1], shape[2]
        p = ops.arange(T, dtype="float32") + ops.cast(start_index, "float32")  # (T,)
        two_i = ops.cast(2 * (ops.arange(D) // 2), "float32")  # (D,): 0, 0, 2, 2, 4, 4, ...
        angle = p[:, None] / ops.power(float(self.max_wavelength), two_i / ops.cast(D, "float32"))  # (T, D)
        even = (ops.arange(D) % 2) == 0  # (D,)
        PE = ops.where(even[None, :], ops.sin(angle), ops.cos(angle))  # (T, D)
        return ops.broadcast_to(ops.cast(PE, self.compute_dtype)[None], shape)  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"max_wavelength": self.max_wavelength})
        return config
