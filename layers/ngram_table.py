"""A back-off n-gram model as a Keras layer: sorted key tables searched in the graph (ARPA semantics)."""

import keras
import tensorflow as tf

from seqrecipes._checks import check_positive_int

MAX_ORDER = 10


@keras.saving.register_keras_serializable(package="seqrecipes")
class NGramTable(keras.layers.Layer):
    """log p(w | h) of a back-off n-gram model (the ARPA rule) over tables held as layer weights.

    Shapes: B batch, T steps, N = `order`, V = `vocabulary_size`, K_n = `sizes[n - 2]` the stored
    n-grams of order n = 2..N.

        log p(w | h) = lp_n[(h, w)]                      if (h, w) is in the order-n table, n = |h| + 1
                     = lb_{n-1}[h] + log p(w | h')       otherwise (lb = 0 for an h not stored)

    down to the dense unigram table lp_1 (V,). An n-gram is a packed int64 key sum_j w_j V^(n-1-j);
    the order-n table is `keys_n` (K_n,) sorted, with `log_probs_n` and `log_backoffs_n` beside it,
    and a lookup is a binary search (`tf.searchsorted`). The tables are non-trainable weights, so the
    layer saves in a `.keras` file and exports in a SavedModel with everything else; the model that
    fills them (counts and an estimator, or an ARPA file) is `recipes.ngram_language_model`.

    Histories are (..., N-1) ids, the most recent last; id 0 ([PAD]) on the left means no word
    there: after a single `<s>` the history of the first word is `[0, .., 0, <s>]` and only the
    shorter orders are searched.

    Weights: `log_probs_1`, `log_backoffs_1` (V,); for n = 2..N `keys_n` (K_n,) int64,
    `log_probs_n` (K_n,) and, for n < N, `log_backoffs_n` (K_n,); natural logs, float32; -inf
    where a probability is 0.

    Args:
        order: N, 1 <= N <= 10.
        vocabulary_size: V, the ids' range; V**N must fit in int64.
        sizes: K_2 .. K_N, the number of stored n-grams per order (N - 1 integers >= 0).
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        token_ids: (B, T) int ids, a sequence read left to right ([START] first, padding 0 on the
            right).

    Returns:
        (B, T, V) float32: at step t, log p(w | the last N-1 ids up to t) for every id w, the
        teacher-forced next-token distribution (ids before the first step are no history). Steps
        after a row's padding hold values for the padded history; mask them as a loss would.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> table = layers.NGramTable(order=2, vocabulary_size=5, sizes=[1])
    >>> table.build()
    >>> table.set_weights([np.log([0, .5, 0, .25, .25]), np.zeros(5), np.array([2 * 5 + 4]), np.log([0.5])])
    >>> np.exp(table.log_prob(np.array([[2], [2], [4]]), np.array([4, 1, 4]))).round(3).tolist()
    [0.5, 0.5, 0.25]
    """

    def __init__(self, order, vocabulary_size, sizes, **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.order = check_positive_int("order", order, owner=owner)
        if self.order > MAX_ORDER:
            raise ValueError(f"`order` of {owner} must be an integer in [1, {MAX_ORDER}]. Received: order={order!r}")
        self.vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size, owner=owner)
        if self.vocabulary_size**self.order > 2**63 - 1:
            raise ValueError(
                f"`vocabulary_size`**`order` of {owner} must be below 2**63 (packed int64 keys). "
                f"Received: vocabulary_size={vocabulary_size}, order={order}"
            )
        sizes = list(sizes) if isinstance(sizes, (list, tuple)) else sizes
        if not isinstance(sizes, list) or len(sizes) != self.order - 1 or not all(
            isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in sizes
        ):
            raise ValueError(
                f"`sizes` of {owner} must be a list of order - 1 = {self.order - 1} integers >= 0. Received: sizes={sizes!r:.200}"
            )
        self.sizes = sizes

    def build(self, input_shape=None):
        V = self.vocabulary_size
        weight = lambda name, shape, dtype="float32": self.add_weight(  # noqa: E731
            name=name, shape=shape, dtype=dtype, initializer="zeros", trainable=False
        )
        self.log_probs = [weight("log_probs_1", (V,))]
        self.log_backoffs = [weight("log_backoffs_1", (V,))]
        self.keys = [None]
        for n, size in enumerate(self.sizes, start=2):
            self.keys.append(weight(f"keys_{n}", (size,), "int64"))
            self.log_probs.append(weight(f"log_probs_{n}", (size,)))
            self.log_backoffs.append(weight(f"log_backoffs_{n}", (size,)) if n < self.order else None)
        self.built = True

    def _pack(self, ids):
        """(M, n) int64 ids -> (M,) keys."""
        keys = ids[:, 0]
        for column in range(1, ids.shape[1]):
            keys = keys * self.vocabulary_size + ids[:, column]
        return keys

    def _find(self, n, values, queries):
        """(found, values at the queries' positions) in the order-n table."""
        if self.sizes[n - 2] == 0:
            return tf.zeros(tf.shape(queries), tf.bool), tf.zeros(tf.shape(queries), tf.float32)
        keys = tf.convert_to_tensor(self.keys[n - 1])
        index = tf.minimum(tf.searchsorted(keys, queries), self.sizes[n - 2] - 1)
        return tf.equal(tf.gather(keys, index), queries), tf.gather(tf.convert_to_tensor(values), index)

    def _rows_log_prob(self, rows):
        """rows (M, N) int64, the history then the word -> (M,) log p by the back-off rule."""
        N = self.order
        result = tf.zeros(tf.shape(rows)[:1], tf.float32)
        backoff = tf.zeros_like(result)
        done = tf.zeros(tf.shape(rows)[:1], tf.bool)
        for n in range(N, 1, -1):
            ids = rows[:, N - n :]
            valid = tf.not_equal(ids[:, 0], 0)  # a [PAD] in front: no n-gram of this order
            keys = self._pack(ids)
            found, value = self._find(n, self.log_probs[n - 1], keys)
            hit = ~done & valid & found
            result = tf.where(hit, backoff + value, result)
            done = done | hit
            if n - 1 == 1:
                context_found, weight = tf.ones_like(valid), tf.gather(self.log_backoffs[0], ids[:, 0])
            else:
                context_found, weight = self._find(n - 1, self.log_backoffs[n - 2], keys // self.vocabulary_size)
            backoff = backoff + tf.where(~done & valid & context_found, weight, 0.0)
        unigram = tf.gather(self.log_probs[0], rows[:, -1])
        return tf.where(done, result, backoff + unigram)

    def log_prob(self, histories, words):
        """log p(words | histories): histories (..., N-1) and words (...) int ids -> (...) float32."""
        histories = tf.cast(tf.convert_to_tensor(histories), tf.int64)
        words = tf.cast(tf.convert_to_tensor(words), tf.int64)
        shape = tf.shape(words)
        rows = tf.concat([tf.reshape(histories, [-1, self.order - 1]), tf.reshape(words, [-1, 1])], axis=1)
        return tf.reshape(self._rows_log_prob(rows), shape)

    def distribution(self, histories):
        """log p(w | histories) for every id w: histories (..., N-1) -> (..., V) float32."""
        histories = tf.cast(tf.convert_to_tensor(histories), tf.int64)
        V = self.vocabulary_size
        flat = tf.reshape(histories, [-1, 1, self.order - 1])  # (M, 1, N-1)
        words = tf.broadcast_to(tf.range(V, dtype=tf.int64)[None, :, None], [tf.shape(flat)[0], V, 1])
        rows = tf.concat([tf.broadcast_to(flat, [tf.shape(flat)[0], V, self.order - 1]), words], axis=2)
        log_p = self._rows_log_prob(tf.reshape(rows, [-1, self.order]))
        return tf.reshape(log_p, tf.concat([tf.shape(histories)[:-1], [V]], axis=0))

    def histories(self, token_ids):
        """(B, T) ids -> (B, T, N-1): at step t the ids t-N+2 .. t, 0 before the first step."""
        token_ids = tf.cast(tf.convert_to_tensor(token_ids), tf.int64)
        padded = tf.pad(token_ids, [[0, 0], [self.order - 1, 0]])  # (B, N-1+T)
        T = tf.shape(token_ids)[1]
        columns = [padded[:, j + 1 : j + 1 + T] for j in range(self.order - 1)]  # the j-th oldest of each history
        if not columns:
            return tf.zeros(tf.concat([tf.shape(token_ids), [0]], axis=0), tf.int64)
        return tf.stack(columns, axis=-1)

    def call(self, token_ids):
        return self.distribution(self.histories(token_ids))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.vocabulary_size,)

    def get_config(self):
        config = super().get_config()
        config.update({"order": self.order, "vocabulary_size": self.vocabulary_size, "sizes": list(self.sizes)})
        return config
