"""Luong (multiplicative) attention with the dot, general and concat scores of Luong et al. (2015)."""

import keras
from keras import ops

from seqrecipes._checks import check_choice
from seqrecipes.layers._query_attention import QueryAttention

_SCORES = ("dot", "general", "concat")


@keras.saving.register_keras_serializable(package="seqrecipes")
class LuongAttention(QueryAttention):
    """Global attention of Luong et al. (2015): one query vector scores every value.

    Shapes: B batch, S source length, H_q query size, H_v value size, A = `units`.

        dot:      e_j = s^T h_j                          (needs H_q = H_v = A)
        general:  e_j = s^T W_a h_j                      (needs H_q = A)
        concat:   e_j = v_a^T tanh(W_a [s; h_j]) = v_a^T tanh(W_1 s + W_2 h_j),   W_a = [W_1, W_2]
        scale:    e_j <- g e_j                           (scale=True, g a learned scalar)
        alpha_j = exp(e_j) / sum_{k unmasked} exp(e_k)   (alpha_j = 0 where h_j is masked)
        c       = sum_j alpha_j h_j

    `s` is the query (the decoder state h_t in Luong's notation), `h_j` the j-th value (h-bar_s). The
    part of each score that depends on the value only, the key k_j (h_j, W_a h_j or W_2 h_j), is
    computed once per source sequence by `compute_keys(values)` and can be passed back as `keys`.

    Weights:
        memory_kernel: W_a of shape (A, H_v) for "general"; W_2 of shape (H_v, A) for "concat".
        query_kernel: W_1, shape (H_q, A) ("concat" only).
        attention_v: v_a, shape (A,) ("concat" only).
        attention_g: g, a scalar initialised to 1 (scale=True only).

    Args:
        units: A, a positive integer: the query size for "dot" and "general", the hidden size of the
            score network for "concat".
        score: "dot", "general" or "concat".
        scale: whether to multiply the scores by a learned scalar g.
        kernel_initializer: initializer of W_a, W_1, W_2 and v_a.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments, Returns: as ``BahdanauAttention`` (query s, values h, an optional mask in; the tuple
    `(context, weights)` out), with `keys` the k_j of this layer's `compute_keys(values)`.

    Example: the dot score by hand, with the third value masked.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> attention = layers.LuongAttention(units=2, score="dot")
    >>> s = np.array([[1.0, 0.0]], "float32")  # (B, H_q)
    >>> h = np.array([[[1.0, 0.0], [0.0, 1.0], [2.0, 0.0]]], "float32")  # (B, S, H_v)
    >>> context, alpha = attention(s, h, mask=np.array([[True, True, False]]))
    >>> np.asarray(alpha, "float64").round(3).tolist()  # e = s^T h_j = [1, 0, 2]; alpha = [e, 1, 0] / (e + 1)
    [[0.731, 0.269, 0.0]]
    >>> np.asarray(context, "float64").round(3).tolist()  # c = sum_j alpha_j h_j
    [[0.731, 0.269]]

    References:
        - Luong, Pham, Manning (2015), Effective approaches to attention-based neural machine
          translation, https://arxiv.org/abs/1508.04025
    """

    def __init__(self, units, score="dot", scale=False, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(units, kernel_initializer=kernel_initializer, **kwargs)
        self.score = check_choice("score", score, _SCORES, owner=type(self).__name__)
        self.scale = bool(scale)

    def build_score(self, query_shape, values_shape):
        H_q, H_v, A = query_shape[-1], values_shape[-1], self.units
        if self.score == "dot" and not (H_q == H_v == A):
            raise ValueError(
                "The dot score of LuongAttention needs query size = value size = units. "
                f"Received: query.shape={query_shape}, values.shape={values_shape}, units={A}"
            )
        if self.score == "general" and H_q != A:
            raise ValueError(
                "The general score of LuongAttention needs query size = units. "
                f"Received: query.shape={query_shape}, units={A}"
            )
        if self.score == "general":
            self.memory_kernel = self.add_kernel("memory_kernel", (A, H_v))
        if self.score == "concat":
            self.query_kernel = self.add_kernel("query_kernel", (H_q, A))
            self.memory_kernel = self.add_kernel("memory_kernel", (H_v, A))
            self.attention_v = self.add_kernel("attention_v", (A,))
        if self.scale:
            self.attention_g = self.add_weight(name="attention_g", shape=(), initializer="ones")

    def compute_keys(self, values):
        """The value-only part k_j of each score, (B, S, H_v) -> (B, S, H_v or A). Compute once per source."""
        h = values
        if self.score == "dot":
            return h  # (B, S, A)
        if self.score == "general":
            W_a = self.memory_kernel
            return ops.matmul(h, ops.transpose(W_a))  # (B, S, A): W_a h_j
        W_2 = self.memory_kernel
        return ops.matmul(h, W_2)  # (B, S, A): W_2 h_j

    def compute_scores(self, query, keys):
        s, k = query, keys  # (B, H_q), (B, S, A)
        if self.score == "concat":
            W_1, v_a = self.query_kernel, self.attention_v
            W_1_s = ops.expand_dims(ops.matmul(s, W_1), axis=1)  # (B, 1, A)
            e = ops.sum(v_a * ops.tanh(W_1_s + k), axis=-1)  # (B, S)
        else:
            e = ops.einsum("ba,bsa->bs", s, k)  # (B, S): s^T h_j or s^T W_a h_j
        if self.scale:
            e = self.attention_g * e
        return e

    def get_config(self):
        config = super().get_config()
        config.update({"score": self.score, "scale": self.scale})
        return config
