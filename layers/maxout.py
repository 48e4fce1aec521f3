"""The maxout unit: the largest of each group of pieces along the last axis."""

import keras
from keras import ops

from seqrecipes._checks import check_positive_int


@keras.saving.register_keras_serializable(package="seqrecipes")
class Maxout(keras.layers.Layer):
    """Maxout over the last axis (Goodfellow et al. 2013), the output unit of Cho et al. (2014) and
    Bahdanau et al. (2015).

    Shapes: (..., k * p) -> (..., k), p = ``pieces``:

        t_j = max(t~_{(j-1)p+1}, .., t~_{jp})        j = 1 .. k

    Bahdanau's t_i = [max(t~_{i,2j-1}, t~_{i,2j})]_j is ``pieces=2``. No weights: the linear map
    before it (a ``Dense`` of k * p units) is the maxout's own. A Keras mask passes through.

    Args:
        pieces: p, a positive integer; the last axis must be a multiple of it.
        **kwargs: passed on to `keras.layers.Layer`.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> layers.Maxout(2)(np.array([[1.0, 3.0, -2.0, -5.0]], "float32")).numpy().tolist()
    [[3.0, -2.0]]
    """

    def __init__(self, pieces=2, **kwargs):
        super().__init__(**kwargs)
        self.pieces = check_positive_int("pieces", pieces, owner=type(self).__name__)
        self.supports_masking = True

    def _check(self, shape):
        size = shape[-1]
        if size is not None and size % self.pieces:
            raise ValueError(
                f"The last axis of the inputs of Maxout must be a multiple of pieces={self.pieces}. "
                f"Received: inputs.shape={tuple(shape)}"
            )
        return None if size is None else size // self.pieces

    def build(self, input_shape):
        self._check(input_shape)

    def call(self, inputs, mask=None):
        units = self._check(inputs.shape)
        shape = ops.shape(inputs)
        grouped = ops.reshape(inputs, tuple(shape[:-1]) + (units, self.pieces))  # (..., k, p)
        return ops.max(grouped, axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self._check(input_shape),)

    def compute_mask(self, inputs, mask=None):
        return mask

    def get_config(self):
        config = super().get_config()
        config.update({"pieces": self.pieces})
        return config
