"""Element-wise mean of hidden states over the real (unmasked) steps: a sentence vector (seed 004)."""

import keras
from keras import ops

from seqrecipes.layers._pooling import SequencePooling


@keras.saving.register_keras_serializable(package="seqrecipes")
class MeanPooling(SequencePooling):
    """Mean pooling over time that ignores padded steps.

    Shapes: B batch, T length, H features; m_t the mask (1 at real steps).

        s = sum_t m_t h_t / max(1, sum_t m_t)      (s = 0 when every step is masked)

    Args:
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: h, shape (B, T, H).
        mask: optional boolean (B, T); defaults to the Keras mask of `inputs` (all steps without one).

    Returns:
        s, shape (B, H).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> h = np.arange(12, dtype="float32").reshape(2, 3, 2)
    >>> np.asarray(layers.MeanPooling()(h, mask=np.array([[1, 1, 0], [1, 1, 1]], bool))).tolist()
    [[1.0, 2.0], [8.0, 9.0]]

    References:
        - Lecture notes of seed 004 (element-wise mean of the hidden vectors as a sentence vector).
    """

    def pool(self, h, mask):
        if mask is None:
            return ops.mean(h, axis=1)  # (B, H)
        m = ops.cast(mask, "float32")[:, :, None]  # (B, T, 1)
        total = ops.sum(ops.cast(h, "float32") * m, axis=1)  # (B, H)
        count = ops.maximum(ops.sum(m, axis=1), 1.0)  # (B, 1)
        return ops.cast(total / count, self.compute_dtype)
