"""Attention pooling: a learned, masked weighted average of hidden states as a sentence vector."""

import keras
from keras import ops

from seqrecipes._checks import check_positive_int
from seqrecipes.layers._pooling import SequencePooling
from seqrecipes.layers._utils import attend
from seqrecipes.layers._utils import clone_initializer


@keras.saving.register_keras_serializable(package="seqrecipes")
class AttentionPooling(SequencePooling):
    """Additive self-attention pooling over time (Yang et al. 2016; Bahdanau's score with a learned query).

    Shapes: B batch, T length, H features, A = `units`; m_t the mask (1 at real steps).

        e_t     = v^T tanh(W h_t + b)
        alpha_t = exp(e_t) / sum_{k : m_k = 1} exp(e_k)     (alpha_t = 0 where m_t = 0)
        s       = sum_t alpha_t h_t                          (s = 0 when every step is masked)

    Weights:
        kernel: W, shape (H, A).
        bias: b, shape (A,).
        attention_v: v, shape (A,).

    Args:
        units: A, a positive integer, the hidden size of the score network.
        kernel_initializer: initializer of W and v.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: h, shape (B, T, H).
        mask: optional boolean (B, T); defaults to the Keras mask of `inputs`.
        return_attention_scores: whether to return alpha as well.

    Returns:
        s of shape (B, H), or `(s, alpha)` with alpha of shape (B, T).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> pooling = layers.AttentionPooling(units=4)
    >>> h = np.random.default_rng(0).normal(size=(2, 3, 5)).astype("float32")  # (B, T, H)
    >>> mask = np.array([[True, True, False], [True, True, True]])
    >>> s, alpha = pooling(h, mask=mask, return_attention_scores=True)
    >>> np.asarray(alpha).sum(-1).round(5).tolist(), float(alpha[0, 2])  # weights of the real steps sum to 1
    ([1.0, 1.0], 0.0)
    >>> bool(np.allclose(s, np.einsum("bt,bth->bh", alpha, h), atol=1e-6))  # s = sum_t alpha_t h_t
    True

    References:
        - Yang et al. (2016), Hierarchical attention networks for document classification,
          https://aclanthology.org/N16-1174
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units, owner=type(self).__name__)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        super().build(input_shape)
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer=clone_initializer(self.kernel_initializer)
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.attention_v = self.add_weight(
            name="attention_v", shape=(self.units,), initializer=clone_initializer(self.kernel_initializer)
        )

    def pool(self, h, mask):
        """(s (B, H), alpha (B, T))."""
        W, b, v = self.kernel, self.bias, self.attention_v
        e = ops.sum(v * ops.tanh(ops.matmul(h, W) + b), axis=-1)  # (B, T)
        return attend(e, mask, h)  # s (B, H) = sum_t alpha_t h_t, alpha (B, T)

    def call(self, inputs, mask=None, return_attention_scores=False):
        s, alpha = super().call(inputs, mask=mask)
        return (s, alpha) if return_attention_scores else s

    def compute_output_spec(self, inputs, mask=None, return_attention_scores=False):
        s = keras.KerasTensor((inputs.shape[0], inputs.shape[2]), dtype=self.compute_dtype)
        if return_attention_scores:
            return s, keras.KerasTensor((inputs.shape[0], inputs.shape[1]), dtype=self.compute_dtype)
        return s

    def get_config(self):
        config = super().get_config()
        config.update(
            {"units": self.units, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}
        )
        return config
