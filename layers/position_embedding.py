"""Learned position embeddings: one trained vector per position, up to a fixed length."""

import keras
from keras import ops

from seqrecipes._checks import check_positive_int
from seqrecipes.layers._utils import check_rank_3


@keras.saving.register_keras_serializable(package="seqrecipes")
class PositionEmbedding(keras.layers.Layer):
    """A trained table of position vectors, to be added to token embeddings (BERT, GPT-2).

    Shapes: B batch, T length, D features, L = `sequence_length`.

        P[p] = E[p],   p = start_index, ..., start_index + T - 1,   E of shape (L, D)

    Args:
        sequence_length: L, a positive integer, the longest sequence the layer accepts.
        initializer: initializer of the table E.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: (B, T, D) embeddings; only their shape is used.
        start_index: int or int scalar tensor, the position of the first step (0 by default).

    Returns:
        E[start_index : start_index + T] broadcast to (B, T, D). A sequence that runs past L raises a
        ValueError naming L when the length and start are known while tracing (they are in eager code
        and for static shapes). The Keras mask of `inputs` passes through.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> embedding = layers.PositionEmbedding(sequence_length=10)
    >>> tuple(embedding(np.zeros((2, 3, 4), "float32")).shape)
    (2, 3, 4)

    References:
        - Devlin et al. (2019), BERT, https://arxiv.org/abs/1810.04805
    """

    def __init__(self, sequence_length, initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.sequence_length = check_positive_int("sequence_length", sequence_length, owner=type(self).__name__)
        self.initializer = keras.initializers.get(initializer)
        self.supports_masking = True

    def build(self, input_shape):
        check_rank_3("PositionEmbedding", input_shape, dims="B, T, D")
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.sequence_length, input_shape[-1]), initializer=self.initializer
        )

    def call(self, inputs, start_index=0):
        T = inputs.shape[1]
        start = start_index if isinstance(start_index, int) else 0
        if T is not None and start + T > self.sequence_length:
            raise ValueError(
                f"PositionEmbedding was built for sequences of at most sequence_length={self.sequence_length} "
                f"positions; the input runs to position {start + T}. "
                f"Received: inputs.shape={inputs.shape}, start_index={start_index}"
            )
        shape = ops.shape(inputs)
        E = self.embeddings
        P = ops.slice(E, (start_index, 0), (shape[1], shape[2]))  # (T, D)
        return ops.broadcast_to(ops.cast(P, self.compute_dtype)[None], shape)  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "initializer": keras.initializers.serialize(self.initializer),
            }
        )
        return config
