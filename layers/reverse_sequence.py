"""Reverses each sequence's real steps in place, padding left where it is: the backward LM of ELMo (seed 000)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqrecipes")
class ReverseSequence(keras.layers.Layer):
    """Per-row time reversal of the real (unmasked) steps, as ``tf.reverse_sequence``.

    Shapes: B batch, T length, D features; L_b the number of real steps of row b (the mask's count;
    T for every row without a mask). Right padding stays right padding, so the Keras mask passes on
    unchanged and applying the layer twice gives the input back.

        y[b, t] = x[b, L_b - 1 - t]     for t < L_b
        y[b, t] = x[b, t]               for t >= L_b (padding)

    A forward RNN over ``ReverseSequence()(x)`` reads each sentence from its last word to its first
    (the backward language model of Peters et al. 2018); a second ``ReverseSequence`` puts its states
    back in word order, so that h_bwd,t sits beside h_fwd,t.

    Args:
        **kwargs: passed on to ``keras.layers.Layer``.

    Call arguments:
        inputs: x, shape (B, T, ...) (token ids (B, T) too).
        mask: optional boolean (B, T), True at real steps, right-padded; defaults to the Keras mask
            of ``inputs``.

    Returns:
        y, the shape of x, with the mask of x.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> x = np.array([[1, 2, 3, 0], [4, 5, 6, 7]])
    >>> mask = x != 0
    >>> np.asarray(layers.ReverseSequence()(x, mask=mask)).tolist()
    [[3, 2, 1, 0], [7, 6, 5, 4]]
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        steps = ops.shape(inputs)[1]
        t = ops.arange(steps, dtype="int32")[None, :]  # (1, T)
        if mask is None:
            lengths = ops.full((ops.shape(inputs)[0], 1), steps, dtype="int32")  # (B, 1)
        else:
            lengths = ops.sum(ops.cast(mask, "int32"), axis=1, keepdims=True)  # (B, 1)
        source = ops.where(t < lengths, lengths - 1 - t, t)  # (B, T): where each step is read from
        for _ in range(len(inputs.shape) - 2):
            source = source[..., None]  # (B, T, 1, ..): one index for all of a step's features
        return ops.take_along_axis(inputs, ops.broadcast_to(source, ops.shape(inputs)), axis=1)

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape
