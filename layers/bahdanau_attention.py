"""Bahdanau (additive) attention: one query vector attends over a sequence of values (seed 004)."""

import keras
from keras import ops

from seqrecipes.layers._query_attention import QueryAttention


@keras.saving.register_keras_serializable(package="seqrecipes")
class BahdanauAttention(QueryAttention):
    """Additive attention of Bahdanau et al. (2015): a feed-forward score of a query and each value.

    Shapes: B batch, S source length, H_q query size, H_v value size, A = `units`.

        e_j     = v^T tanh(W s + U h_j)                          (normalize=False)
        e_j     = g v^T / ||v|| tanh(W s + U h_j + b)            (normalize=True)
        alpha_j = exp(e_j) / sum_{k unmasked} exp(e_k)           (alpha_j = 0 where h_j is masked)
        c       = sum_j alpha_j h_j

    `s` is the query (the decoder state s_{i-1} in seed 004), `h_j` the j-th value (encoder output).
    `U h_j` does not depend on the query: `compute_keys(values)` computes it once per source sequence and
    `call(..., keys=...)` reuses it at every decoder step. `normalize=True` is the weight-normalised form
    that TF Addons offered (Salimans & Kingma 2016).

    Weights:
        query_kernel: W, shape (H_q, A).
        memory_kernel: U, shape (H_v, A).
        attention_v: v, shape (A,).
        attention_g: g, a scalar initialised to sqrt(1 / A) (only with normalize=True).
        attention_b: b, shape (A,), initialised to zeros (only with normalize=True).

    Args:
        units: A, a positive integer, the size of the hidden layer of the score network.
        normalize: whether to use the weight-normalised score.
        kernel_initializer: initializer of W, U and v.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        query: s, shape (B, H_q).
        values: h, shape (B, S, H_v).
        mask: optional boolean (B, S), True at real source positions. Defaults to the Keras mask of
            `values`.
        keys: optional precomputed `U h`, shape (B, S, A), from `compute_keys(values)`.

    Returns:
        A tuple `(context, weights)`: c of shape (B, H_v) and alpha of shape (B, S). A fully masked row
        gives zero weights and a zero context.

    Example: the score against its equation, and keys computed once and reused.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> rng = np.random.default_rng(0)
    >>> s, h = rng.normal(size=(1, 4)).astype("float32"), rng.normal(size=(1, 5, 6)).astype("float32")
    >>> attention = layers.BahdanauAttention(units=8)
    >>> context, alpha = attention(s, h)
    >>> W, U, v = (np.asarray(w) for w in (attention.query_kernel, attention.memory_kernel, attention.attention_v))
    >>> e = np.tanh(s @ W + h @ U) @ v  # (1, 5): e_j = v^T tanh(W s + U h_j)
    >>> bool(np.allclose(alpha, np.exp(e) / np.exp(e).sum(), atol=1e-6))
    True
    >>> keys = attention.compute_keys(h)  # U h_j, once per source sequence
    >>> bool(np.allclose(attention(s, h, keys=keys)[0], context))
    True

    References:
        - Bahdanau, Cho, Bengio (2015), Neural machine translation by jointly learning to align and
          translate, https://arxiv.org/abs/1409.0473
        - Salimans, Kingma (2016), Weight normalization, https://arxiv.org/abs/1602.07868
    """

    def __init__(self, units, normalize=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(units, kernel_initializer=kernel_initializer, **kwargs)
        self.normalize = bool(normalize)

    def build_score(self, query_shape, values_shape):
        self.query_kernel = self.add_kernel("query_kernel", (query_shape[-1], self.units))
        self.memory_kernel = self.add_kernel("memory_kernel", (values_shape[-1], self.units))
        self.attention_v = self.add_kernel("attention_v", (self.units,))
        if self.normalize:
            self.attention_g = self.add_weight(
                name="attention_g", shape=(), initializer=keras.initializers.Constant((1.0 / self.units) ** 0.5)
            )
            self.attention_b = self.add_weight(name="attention_b", shape=(self.units,), initializer="zeros")

    def compute_keys(self, values):
        """U h_j for every j: (B, S, H_v) -> (B, S, A). Compute once per source sequence."""
        return ops.matmul(values, self.memory_kernel)  # (B, S, A)

    def compute_scores(self, query, keys):
        s, U_h = query, keys  # (B, H_q), (B, S, A)
        W, v = self.query_kernel, self.attention_v
        W_s = ops.expand_dims(ops.matmul(s, W), axis=1)  # (B, 1, A)
        if self.normalize:
            g, b = self.attention_g, self.attention_b
            v = g * v * ops.rsqrt(ops.sum(ops.square(v)))
            return ops.sum(v * ops.tanh(W_s + U_h + b), axis=-1)  # (B, S)
        return ops.sum(v * ops.tanh(W_s + U_h), axis=-1)  # (B, S)

    def get_config(self):
        config = super().get_config()
        config["normalize"] = self.normalize
        return config
