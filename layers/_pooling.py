"""The private base of the pooling layers: a padded sequence of hidden states in, one vector out.

Shapes: B batch, T length, H features; m_t the mask (1 at real steps).

    s = pool(h, m)      (B, T, H) -> (B, H)

Every pooling layer supports Keras masks (the mask of `inputs` is used when no `mask` is given),
checks that its inputs have rank 3 when built and when called, and returns no mask: the output has
no time axis. A subclass implements only ``pool``.
"""

import keras

from seqrecipes.layers._utils import check_rank_3


class SequencePooling(keras.layers.Layer):
    """(B, T, H) -> (B, H) over the real steps; subclasses implement ``pool(h, mask)``.

    Args:
        **kwargs: passed on to `keras.layers.Layer`.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        check_rank_3(type(self).__name__, input_shape)

    def call(self, inputs, mask=None):
        check_rank_3(type(self).__name__, inputs.shape)
        return self.pool(inputs, mask)

    def pool(self, h, mask):
        """s (B, H) from h (B, T, H) and the optional boolean mask (B, T)."""
        raise NotImplementedError(f"{type(self).__name__} must implement pool().")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def compute_mask(self, inputs, previous_mask):
        # The output has no time axis.
        return None
