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

    Call arguments:
        inputs: h, shape (B, T, H).
        mask: optional boolean (B, T); defaults to the Keras mask of `inputs` (all steps without one).

    Returns:
        s, shape (B, H).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> h = np.array([[[1.0, 5.0], [3.0, 0.0], [9.0, 9.0]]], "float32")
    >>> np.asarray(layers.MaxPooling()(h, mask=np.array([[1, 1, 0]], bool))).tolist()
    [[3.0, 5.0]]

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
