"""Element-wise max of hidden states over the real (unmasked) steps: a sentence vector (seed 004)."""

import keras
from keras import ops

from seqrecipes.layers._utils import check_rank_3
from seqrecipes.layers._utils import zero_fully_masked


@keras.saving.register_keras_serializable(package="seqrecipes")
class MaskedMax(keras.layers.Layer):
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
    >>> np.asarray(layers.MaskedMax()(h, mask=np.array([[1, 1, 0]], bool))).tolist()
    [[3.0, 5.0]]

    References:
        - Lecture notes of seed 004 (element-wise max of the hidden vectors as a sentence vector).
        - Collobert et al. (2011), Natural language processing (almost) from scratch,
          https://arxiv.org/abs/1103.0398
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        check_rank_3("MaskedMax", input_shape)

    def call(self, inputs, mask=None):
        check_rank_3("MaskedMax", inputs.shape)
        h = inputs
        if mask is None:
            return ops.max(h, axis=1)  # (B, H)
        m = ops.cast(mask, "bool")  # (B, T)
        s = ops.max(ops.where(m[:, :, None], h, float("-inf")), axis=1)  # (B, H)
        return zero_fully_masked(s, m)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def compute_mask(self, inputs, previous_mask):
        # The output has no time axis.
        return None
