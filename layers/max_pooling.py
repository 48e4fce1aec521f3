"""Element-wise max of hidden states over the real (unmasked) steps: a sentence vector (seed 004)."""

import keras
from keras import ops

from seqrecipes.layers._pooling import SequencePooling
from seqrecipes.layers._utils import zero_fully_masked


@keras.saving.register_keras_serializable(package="seqrecipes")
class MaxPooling(SequencePooling):
    """Max pooling over time that ignores padded steps.

    Shapes: B batch, T length, H features; m_t the mask (1 at real steps).

        s_k = max_{t : m_t = 1} h_{t,k}            (s = 0 when every step is masked)

    Padded steps are replaced by -inf before the max, so no finite sentinel can overflow float16.

    Args:
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments, Returns: as ``MeanPooling``: h (B, T, H) and an optional mask (B, T) in, s (B, H) out.

    Example: each feature's max over the real steps, all of them negative here.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> pooling = layers.MaxPooling()
    >>> h = np.array([[[-1.0, -5.0], [-3.0, -2.0], [9.0, 9.0]]], "float32")  # (1, 3, 2), step 3 padded
    >>> np.asarray(pooling(h, mask=np.array([[True, True, False]]))).tolist()
    [[-1.0, -2.0]]
    >>> np.asarray(pooling(h)).tolist()  # without a mask every step counts
    [[9.0, 9.0]]

    References:
        - Lecture notes of seed 004 (element-wise max of the hidden vectors as a sentence vector).
        - Collobert et al. (2011), Natural language processing (almost) from scratch,
          https://arxiv.org/abs/1103.0398
    """

    def pool(self, h, mask):
        if mask is None:
            return ops.max(h, axis=1)  # (B, H)
        m = ops.cast(mask, "bool")  # (B, T)
        s = ops.max(ops.where(m[:, :, None], h, float("-inf")), axis=1)  # (B, H)
        return zero_fully_masked(s, m)
