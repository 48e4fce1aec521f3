"""ELMo's learned scalar mix of a language model's layers: one token representation for a downstream task (seed 000)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqrecipes")
class ScalarMix(keras.layers.Layer):
    """A softmax-weighted sum of J layer representations, scaled (Peters et al. 2018, eq. 1).

    Shapes: B batch, T steps, D features; h_j (B, T, D) the J layers' representations of each token
    (for ELMo, [h_fwd,j ; h_bwd,j]); w (J,) and gamma () the layer's two weights.

        s     = softmax(w)                         (J,), s_j >= 0, sum_j s_j = 1
        ELMo  = gamma * sum_j s_j h_j              (B, T, D)

    w starts at 0 (an even mix, s_j = 1/J) and gamma at 1; the downstream task learns both.

    Args:
        **kwargs: passed on to ``keras.layers.Layer``.

    Call arguments:
        inputs: a list of J tensors h_j, each (B, T, D).
        mask: the Keras masks of the inputs (a list); the first is passed on.

    Returns:
        (B, T, D), with the first input's mask.

    Example: with the initial weights, gamma = 1 and an even mix, the mean of the layers.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> h1, h2 = np.ones((1, 2, 3), "float32"), np.full((1, 2, 3), 3.0, "float32")
    >>> np.asarray(layers.ScalarMix()([h1, h2]))[0, 0].tolist()
    [2.0, 2.0, 2.0]

    References:
        - Peters et al. (2018), Deep contextualized word representations, https://arxiv.org/abs/1802.05365
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def build(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"ScalarMix mixes a list of layer representations (B, T, D). Received: input_shape={input_shape}")
        shapes = {tuple(shape[-1:]) for shape in input_shape}
        if len(shapes) != 1:
            raise ValueError(
                f"Every layer ScalarMix mixes must have one feature size D. Received: input_shape={input_shape}"
            )
        self.layer_weights = self.add_weight(shape=(len(input_shape),), initializer="zeros", name="layer_weights")  # w
        self.gamma = self.add_weight(shape=(), initializer="ones", name="gamma")

    def call(self, inputs, mask=None):
        s = ops.softmax(self.layer_weights) if len(inputs) > 1 else ops.ones_like(self.layer_weights)  # (J,), 1 for J = 1
        mixed = ops.sum(ops.stack(inputs, axis=0) * ops.cast(s, self.compute_dtype)[:, None, None, None], axis=0)
        return ops.cast(self.gamma, self.compute_dtype) * mixed  # (B, T, D)

    def compute_mask(self, inputs, mask=None):
        return None if mask is None else mask[0]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])
