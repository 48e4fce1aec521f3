"""``ReversibleEmbedding``: a token table that also gives the output logits (tied embeddings)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqrecipes")
class ReversibleEmbedding(keras.layers.Embedding):
    """A token embedding whose table also gives the output logits (weight tying, Press and Wolf 2017).

    Shapes: B batch, T length, D = ``output_dim``, V = ``input_dim``; E the (V, D) table.

        call(ids)               = E[ids]            (B, T) -> (B, T, D)
        call(x, reverse=True)   = x E^T             (B, T, D) -> (B, T, V)   (nanoGPT: lm_head.weight = wte.weight)

    One layer called twice in the functional model, so the ``.keras`` file holds E once and reloads
    with ``safe_mode=True``. With ``mask_zero=True`` the lookup masks id 0; the projection passes on the
    mask of its features (the logits of padding stay masked).

    Args:
        input_dim, output_dim, **kwargs: as ``keras.layers.Embedding``.

    Call arguments:
        inputs: ids (B, T), or features (B, T, D) with ``reverse=True``.
        reverse: whether to project features onto the table (logits) instead of looking ids up.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> layer = layers.ReversibleEmbedding(6, 4)
    >>> x = layer(np.array([[1, 2]]))
    >>> tuple(x.shape), tuple(layer(x, reverse=True).shape)
    ((1, 2, 4), (1, 2, 6))

    References:
        - Press and Wolf (2017), Using the output embedding to improve language models, EACL.
    """

    def call(self, inputs, reverse=False):
        if reverse:
            return ops.matmul(inputs, ops.transpose(ops.cast(self.embeddings, inputs.dtype)))  # (..., D) @ (D, V)
        return super().call(inputs)

    def compute_mask(self, inputs, mask=None):
        # Features projected to logits keep the mask they came with; ids get the padding mask (mask_zero).
        if not str(getattr(inputs, "dtype", "int32")).startswith("int"):
            return mask
        return super().compute_mask(inputs, mask)

    def compute_output_shape(self, input_shape, reverse=False):
        if reverse:
            return (*input_shape[:-1], self.input_dim)
        return super().compute_output_shape(input_shape)

    def compute_output_spec(self, inputs, reverse=False):
        return keras.KerasTensor(self.compute_output_shape(inputs.shape, reverse), dtype=self.compute_dtype)
