"""Hashed n-gram embeddings (fastText): the n-grams of token ids that end at each step, as one vector per step."""

import keras
from keras import ops

PRIME = 1_000_003  # the hash's multiplier (a prime above any vocabulary size in practice)
MAX_BUCKETS = 2**31  # h * PRIME + w stays inside int64


@keras.saving.register_keras_serializable(package="seqrecipes")
class NGramEmbedding(keras.layers.Layer):
    """The sum of the embeddings of the hashed 2..N-grams of token ids ending at each step (Joulin et al. 2017).

    Shapes: B batch, T steps, E ``output_dim``, K ``buckets``, N ``max_n``. w_t is the token id at
    step t (0 is padding, and w_t = 0 before the first step, so an n-gram may begin at the start).
    M = K - 1 buckets hold n-grams; bucket 0 is never used.

        h_n,t  = n;  for each w in (w_t-n+1, ..., w_t):  h_n,t = (h_n,t * P + w) mod M     P = 1,000,003
        g_n,t  = 1 + h_n,t                                                   the bucket of the n-gram
        y_t    = sum_{n=2..N} G[g_n,t]     (B, T, E)       y_t = 0 and masked where w_t = 0

    The hash starts at n, so a bigram and a trigram of the same ids fall in different buckets; two
    different n-grams can share a bucket (the hashing trick: K fixes the memory, whatever the number
    of n-grams). Added to the token embedding x_t = E[w_t], it lets an encoder read the short
    sequences of tokens (Korean syllable bigrams are word pieces) that a TF-IDF n-gram model reads.

    Args:
        output_dim: E.
        max_n: N, the longest n-gram (at least 2).
        buckets: K, the rows of the table G (at least 2, at most 2**31).
        embeddings_initializer: of G (default ``"uniform"``, as ``keras.layers.Embedding``).
        **kwargs: passed on to ``keras.layers.Layer``.

    Call arguments:
        inputs: token ids (B, T) int, padded with 0.

    Returns:
        y (B, T, E), with the mask ``inputs != 0``.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> layer = layers.NGramEmbedding(output_dim=3, max_n=2, buckets=16)
    >>> y = layer(np.array([[5, 6, 0], [5, 6, 7]]))
    >>> tuple(y.shape), bool(np.allclose(y[0, :2], y[1, :2])), float(np.abs(y[0, 2]).sum())
    ((2, 3, 3), True, 0.0)
    >>> np.asarray(layers.NGramEmbedding.buckets_of(np.array([[5, 6]]), max_n=2, buckets=16)).tolist()
    [[[14], [5]]]

    References:
        - Joulin, Grave, Bojanowski, Mikolov (2017), Bag of tricks for efficient text
          classification, https://aclanthology.org/E17-2068 (hashed bigram features).
        - Weinberger et al. (2009), Feature hashing for large scale multitask learning,
          https://arxiv.org/abs/0902.2206
    """

    def __init__(self, output_dim, max_n=2, buckets=2**16, embeddings_initializer="uniform", **kwargs):
        super().__init__(**kwargs)
        for name, value, low in (("output_dim", output_dim, 1), ("max_n", max_n, 2), ("buckets", buckets, 2)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"`{name}` must be an int of at least {low}. Received: {name}={value!r}")
        if buckets > MAX_BUCKETS:
            raise ValueError(f"`buckets` must be at most 2**31. Received: buckets={buckets}")
        self.output_dim, self.max_n, self.buckets = output_dim, max_n, buckets
        self.embeddings_initializer = keras.initializers.get(embeddings_initializer)
        self.supports_masking = True

    def build(self, input_shape):
        self.embeddings = self.add_weight(
            shape=(self.buckets, self.output_dim), initializer=self.embeddings_initializer, name="embeddings"
        )

    @staticmethod
    def buckets_of(ids, max_n, buckets):
        """g (B, T, N - 1) int32: the buckets of the 2..N-grams ending at each step (0 at padding)."""
        ids = ops.cast(ids, "int64")  # (B, T)
        steps = ops.shape(ids)[1]
        m = buckets - 1
        padded = ops.pad(ids, [[0, 0], [max_n - 1, 0]])  # (B, N - 1 + T): zeros before the start
        result = []
        for n in range(2, max_n + 1):
            h = ops.full(ops.shape(ids), n, dtype="int64")
            for k in range(n - 1, -1, -1):  # w_{t-k}, oldest first
                start = max_n - 1 - k
                h = ops.mod(h * PRIME + padded[:, start : start + steps], m)
            result.append(ops.where(ids > 0, 1 + h, 0))
        return ops.cast(ops.stack(result, axis=-1), "int32")

    def call(self, inputs):
        g = self.buckets_of(inputs, self.max_n, self.buckets)  # (B, T, N - 1)
        y = ops.sum(ops.take(self.embeddings, g, axis=0), axis=2)  # (B, T, E)
        real = ops.cast(ops.not_equal(inputs, 0), y.dtype)[..., None]  # (B, T, 1)
        return y * real

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.output_dim)

    def get_config(self):
        config = super().get_config()
        config.update(
            output_dim=self.output_dim, max_n=self.max_n, buckets=self.buckets,
            embeddings_initializer=keras.initializers.serialize(self.embeddings_initializer),
        )  # fmt: skip
        return config
