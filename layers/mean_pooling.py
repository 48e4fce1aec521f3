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

    Call arguments (also those of ``LastStatePooling`` and ``MaxPooling``):
        inputs: h, shape (B, T, H).
        mask: optional boolean (B, T), True at real steps; defaults to the Keras mask of `inputs`
            (all steps without one).

    Returns:
        s, shape (B, H), and no Keras mask (the time axis is gone).

    Example: the mean of each sequence's own real steps.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> h = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    >>> lengths = np.array([4, 2])
    >>> mask = np.arange(4) < lengths[:, None]  # (B, T)
    >>> s = np.asarray(layers.MeanPooling()(h, mask=mask))
    >>> bool(np.allclose(s[0], h[0].mean(0))), bool(np.allclose(s[1], h[1, :2].mean(0)))
    (True, True)
    >>> np.asarray(layers.MeanPooling()(h, mask=np.zeros((2, 4), bool))).tolist()  # nothing real: s = 0
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]

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
