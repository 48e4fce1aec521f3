"""The last real hidden state of a padded sequence: a sentence vector for many-to-one models (seed 004)."""

import keras
from keras import ops

from seqrecipes.layers._pooling import SequencePooling
from seqrecipes.layers._utils import zero_fully_masked


@keras.saving.register_keras_serializable(package="seqrecipes")
class LastStatePooling(SequencePooling):
    """Picks h at the last unmasked step of each sequence.

    Shapes: B batch, T length, H features; m_t the mask (1 at real steps).

        t*_b = max { t : m_{b,t} = 1 }
        s_b  = h_{b, t*_b}          (s_b = 0 when every step of b is masked)

    Without a mask t*_b = T - 1. The last real step is found wherever the padding is (right or left).

    Args:
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments, Returns: as ``MeanPooling``: h (B, T, H) and an optional mask (B, T) in, s (B, H) out.

    Example: right padding (t* = 1) and left padding (t* = 2) in one batch.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> h = np.array([[[1.0], [2.0], [0.0]], [[0.0], [3.0], [4.0]]], "float32")  # (2, 3, 1)
    >>> mask = np.array([[True, True, False], [False, True, True]])
    >>> np.asarray(layers.LastStatePooling()(h, mask=mask)).tolist()
    [[2.0], [4.0]]

    References:
        - Sutskever, Vinyals, Le (2014), Sequence to sequence learning with neural networks,
          https://arxiv.org/abs/1409.3215
    """

    def pool(self, h, mask):
        if mask is None:
            return h[:, -1]  # (B, H)
        m = ops.cast(mask, "int32")  # (B, T)
        T = ops.shape(h)[1]
        t_star = T - 1 - ops.argmax(ops.flip(m, axis=1), axis=1)  # (B,): the last index where m = 1
        s = ops.take_along_axis(h, ops.cast(t_star, "int32")[:, None, None], axis=1)[:, 0]  # (B, H)
        return zero_fully_masked(s, mask)
