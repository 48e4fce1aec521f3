"""A linear-chain conditional random field over a tagger's per-step scores: log-likelihood and Viterbi decoding."""

import numbers

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="seqrecipes")
class CRF(keras.layers.Layer):
    """A linear-chain CRF: one score for a whole tag sequence, its log-likelihood and its best sequence.

    Shapes: B batch, T steps, K ``num_tags``; x (B, T, K) the emissions (a tagger's per-step scores),
    y (B, T) int tags in [0, K), a boolean mask (B, T), True at real steps and right-padded (each row's
    L real steps come first; L may be 0). The three weights:

        A  ``transitions``        (K, K)   A[i, j], the score of tag j following tag i
        b  ``start_transitions``  (K,)     the score of starting with a tag
        e  ``end_transitions``    (K,)     the score of ending with a tag

    For a row with L real steps (x_t and y_t its step t, t = 1..L):

        score(x, y)  = b[y_1] + sum_{t=1..L} x_t[y_t] + sum_{t=2..L} A[y_{t-1}, y_t] + e[y_L]
        alpha_1      = b + x_1                                                    (K,)
        alpha_t[j]   = x_t[j] + logsumexp_i(alpha_{t-1}[i] + A[i, j])   at a real step t > 1
        alpha_t      = alpha_{t-1}                                      at padding
        log Z(x)     = logsumexp_j(alpha_L[j] + e[j])
        log p(y | x) = score(x, y) - log Z(x)          score = log Z = log p = 0 for L = 0

    Viterbi decoding runs the same recursion with max for logsumexp (delta_t for alpha_t) and keeps
    the back-pointers psi_t[j] = argmax_i(delta_{t-1}[i] + A[i, j]); it backtracks from
    y_L = argmax_j(delta_L[j] + e[j]) through y_{t-1} = psi_t[y_t]. Decoded tags at padding are 0.

    ``call`` is the identity on the emissions (it puts the weights into a model's graph and passes
    the mask on); the loss and the tags come from the methods ``log_likelihood`` (train on
    ``-log_likelihood``), ``log_partition``, ``sequence_score`` and ``decode``. They take a mask of
    None for "every step is real", compute in float32 whatever the emissions' dtype, build the
    layer on first use (call them eagerly once before a ``tf.function`` traces them), run the time
    loop with ``keras.ops.scan`` and accept an unknown T, so they export in a SavedModel.

    Args:
        num_tags: K, at least 2.
        **kwargs: passed on to ``keras.layers.Layer``.

    Call arguments:
        inputs: the emissions x (B, T, K).
        mask: optional boolean (B, T); passed on.

    Returns:
        x unchanged, with its mask.

    Example: with zero weights and emissions, each of the 2**3 tag sequences has p = 1/8; Viterbi
    follows the emissions when the weights are zero.
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> crf = layers.CRF(num_tags=2)
    >>> crf.build((None, None, 2))
    >>> crf.set_weights([np.zeros((2, 2)), np.zeros(2), np.zeros(2)])
    >>> y = np.array([[0, 1, 1]])
    >>> round(float(np.exp(crf.log_likelihood(np.zeros((1, 3, 2)), y)[0])), 6)
    0.125
    >>> x = np.array([[[1.0, 0.0], [0.0, 2.0], [5.0, 0.0]]], "float32")
    >>> tags, score = crf.decode(x, mask=np.array([[True, True, False]]))
    >>> np.asarray(tags).tolist(), float(score[0])
    ([[0, 1, 0]], 3.0)

    References:
        - Lafferty, McCallum, Pereira (2001), Conditional random fields: probabilistic models for
          segmenting and labeling sequence data, https://repository.upenn.edu/cis_papers/159/
        - Lample et al. (2016), Neural architectures for named entity recognition,
          https://arxiv.org/abs/1603.01360 (a CRF over a BiLSTM's scores, with start and end tags).
    """

    def __init__(self, num_tags, **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_tags, bool) or not isinstance(num_tags, numbers.Integral) or num_tags < 2:
            raise ValueError(
                f"`num_tags` of CRF must be an integer of at least 2 (a CRF with one tag has nothing to choose). "
                f"Received: num_tags={num_tags!r}"
            )
        self.num_tags = int(num_tags)
        self.supports_masking = True

    def build(self, input_shape):
        self._check_emissions_shape(input_shape)
        k = self.num_tags
        self.transitions = self.add_weight(shape=(k, k), initializer="glorot_uniform", name="transitions")  # A
        self.start_transitions = self.add_weight(shape=(k,), initializer="zeros", name="start_transitions")  # b
        self.end_transitions = self.add_weight(shape=(k,), initializer="zeros", name="end_transitions")  # e

    def call(self, inputs, mask=None):
        return inputs

    def compute_mask(self, inputs, mask=None):
        return mask

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(num_tags=self.num_tags)
        return config

    def log_partition(self, emissions, mask=None):
        """log Z(x), shape (B,) float32, by the forward algorithm (0 for a row with no real step)."""
        x, mask = self._prepare(emissions, mask)
        a, b, e = self._float32_weights()

        def step(alpha_tm1, inputs):
            x_t, m_t, first = self._unpack(inputs)  # (B, K), (B,), (B,)
            alpha_t = x_t + ops.logsumexp(alpha_tm1[:, :, None] + a[None], axis=1)  # (B, K)
            alpha_t = ops.where(first[:, None], b + x_t, alpha_t)
            alpha_t = ops.where(m_t[:, None], alpha_t, alpha_tm1)
            return alpha_t, alpha_t  # the TF backend's scan stacks outputs shaped as the carry

        alpha_l, _ = ops.scan(step, ops.zeros_like(x[:, 0]), self._time_major(x, mask))
        log_z = ops.logsumexp(alpha_l + e, axis=1)  # (B,)
        return ops.where(ops.any(mask, axis=1), log_z, 0.0)

    def sequence_score(self, emissions, tags, mask=None):
        """score(x, y), shape (B,) float32 (0 for a row with no real step); tags at padding are not read."""
        x, mask = self._prepare(emissions, mask)
        y = ops.where(mask, self._check_tags(tags, x), 0)  # (B, T)
        a, b, e = self._float32_weights()
        m = ops.cast(mask, "float32")  # (B, T)
        unary = ops.sum(ops.take_along_axis(x, y[:, :, None], axis=2)[:, :, 0] * m, axis=1)  # sum_t x_t[y_t]
        pairs = ops.take(ops.reshape(a, (-1,)), y[:, :-1] * self.num_tags + y[:, 1:])  # (B, T - 1): A[y_{t-1}, y_t]
        binary = ops.sum(pairs * m[:, 1:], axis=1)  # right padding: step t real means step t - 1 is real
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)  # (B,) L
        y_l = ops.take_along_axis(y, ops.maximum(lengths - 1, 0)[:, None], axis=1)[:, 0]  # (B,)
        ends = ops.where(lengths > 0, ops.take(b, y[:, 0]) + ops.take(e, y_l), 0.0)
        return unary + binary + ends

    def log_likelihood(self, emissions, tags, mask=None):
        """log p(y | x) = score(x, y) - log Z(x), shape (B,) float32; train on its negative mean."""
        return self.sequence_score(emissions, tags, mask) - self.log_partition(emissions, mask)

    def decode(self, emissions, mask=None):
        """Viterbi: the best tags (B, T) int32 (0 at padding) and their score (B,) float32 (0 for L = 0)."""
        x, mask = self._prepare(emissions, mask)
        a, b, e = self._float32_weights()
        identity = ops.zeros_like(x[:, 0], dtype="int32") + ops.arange(self.num_tags, dtype="int32")  # (B, K)

        def step(carry, inputs):
            delta_tm1, _ = carry
            x_t, m_t, first = self._unpack(inputs)  # (B, K), (B,), (B,)
            scores = delta_tm1[:, :, None] + a[None]  # (B, K, K): from tag i to tag j
            delta_t = ops.where(first[:, None], b + x_t, x_t + ops.max(scores, axis=1))  # (B, K)
            psi_t = ops.where(first[:, None], identity, ops.cast(ops.argmax(scores, axis=1), "int32"))  # (B, K)
            delta_t = ops.where(m_t[:, None], delta_t, delta_tm1)
            psi_t = ops.where(m_t[:, None], psi_t, identity)  # padding points back to the same tag
            return (delta_t, psi_t), (delta_t, psi_t)

        init = (ops.zeros_like(x[:, 0]), identity)
        (delta_l, _), (_, psi) = ops.scan(step, init, self._time_major(x, mask))  # psi (T, B, K)
        last = delta_l + e  # (B, K)
        y_l = ops.cast(ops.argmax(last, axis=1), "int32")  # (B,)

        def back(y_t, psi_t):
            y_tm1 = ops.take_along_axis(psi_t, y_t[:, None], axis=1)[:, 0]  # (B,) psi_t[y_t]
            return y_tm1, y_t

        _, tags = ops.scan(back, y_l, psi, reverse=True)  # (T, B)
        tags = ops.where(mask, ops.transpose(tags, (1, 0)), 0)  # (B, T)
        real = ops.any(mask, axis=1)
        return tags, ops.where(real, ops.max(last, axis=1), 0.0)

    def _check_emissions_shape(self, shape):
        shape = tuple(shape)
        if len(shape) != 3 or shape[-1] != self.num_tags:
            raise ValueError(
                f"`emissions` of CRF must have the shape (B, T, num_tags), with num_tags={self.num_tags} "
                f"on the last axis. Received: emissions.shape={shape}"
            )

    def _prepare(self, emissions, mask):
        """x float32 (B, T, K) and the mask bool (B, T) (all True for None); builds the layer if needed."""
        x = ops.convert_to_tensor(emissions)
        self._check_emissions_shape(x.shape)
        if not self.built:
            self.build(x.shape)
        x = ops.cast(x, "float32")
        if mask is None:
            return x, ops.ones_like(x[:, :, 0], dtype="bool")
        mask = ops.cast(ops.convert_to_tensor(mask), "bool")
        self._check_steps_shape("mask", mask.shape, x.shape)
        return x, mask

    def _check_tags(self, tags, x):
        tags = ops.convert_to_tensor(tags)
        self._check_steps_shape("tags", tags.shape, x.shape)
        return ops.cast(tags, "int32")

    @staticmethod
    def _check_steps_shape(name, shape, emissions_shape):
        """Raises unless ``shape`` is (B, T), the first two axes of the emissions (unknown axes pass)."""
        shape, expected = tuple(shape), tuple(emissions_shape)[:2]
        if len(shape) != 2 or any(s is not None and t is not None and s != t for s, t in zip(shape, expected)):
            raise ValueError(
                f"`{name}` of CRF must have the shape (B, T) of the emissions' first two axes {expected}. "
                f"Received: {name}.shape={shape}"
            )

    def _float32_weights(self):
        """(A, b, e) in float32; A is ``a`` in the methods."""
        a, b, e = self.transitions, self.start_transitions, self.end_transitions
        return ops.cast(a, "float32"), ops.cast(b, "float32"), ops.cast(e, "float32")

    @staticmethod
    def _time_major(x, mask):
        """The scan's input (T, B, K + 2): x_t, the mask and 1 at the first step, in one tensor (the TF backend's
        scan cannot take several inputs when T is unknown)."""
        m = ops.cast(mask, "float32")[:, :, None]  # (B, T, 1)
        first = ops.zeros_like(m) + ops.cast(ops.arange(ops.shape(x)[1]) == 0, "float32")[None, :, None]  # (B, T, 1)
        return ops.transpose(ops.concatenate([x, m, first], axis=2), (1, 0, 2))  # (T, B, K + 2)

    def _unpack(self, inputs):
        """x_t (B, K), m_t (B,) and whether t is the first step (B,), from one step of ``_time_major``."""
        k = self.num_tags
        return inputs[:, :k], inputs[:, k] > 0.5, inputs[:, k + 1] > 0.5
