"""The private base of Bahdanau and Luong attention: one query vector attends over a sequence of values.

Shapes: B batch, S source length, H_q query size, H_v value size, A = `units`.

    k_j     = compute_keys(h)_j                          the part of the score that reads only h_j
    e_j     = compute_scores(s, k)_j
    alpha_j = exp(e_j) / sum_{k unmasked} exp(e_k)       (alpha_j = 0 where h_j is masked)
    c       = sum_j alpha_j h_j

The subclasses differ only in their weights (``build_score``), their keys and their score.
"""

import keras

from seqrecipes._checks import check_positive_int
from seqrecipes.layers._utils import attend
from seqrecipes.layers._utils import clone_initializer


class QueryAttention(keras.layers.Layer):
    """Arguments, shape checks, masking and the weighted sum that Bahdanau and Luong attention share.

    Subclasses implement ``build_score(query_shape, values_shape)`` (their weights, made with
    ``add_kernel``), ``compute_keys(values)`` and ``compute_scores(query, keys)``.

    Args:
        units: A, a positive integer.
        kernel_initializer: initializer of the score's kernels (copied for each).
        **kwargs: passed on to `keras.layers.Layer`.
    """

    def __init__(self, units, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units, owner=type(self).__name__)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _check_query(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"`query` of {type(self).__name__} must have rank 2 (B, H_q). Received: query.shape={shape}"
            )

    def build(self, query_shape, values_shape):
        self._check_query(query_shape)
        if len(values_shape) != 3:
            raise ValueError(
                f"`values` of {type(self).__name__} must have rank 3 (B, S, H_v). Received: values.shape={values_shape}"
            )
        self.build_score(query_shape, values_shape)

    def build_score(self, query_shape, values_shape):
        """Creates the weights of the score."""
        raise NotImplementedError(f"{type(self).__name__} must implement build_score().")

    def add_kernel(self, name, shape):
        """A weight initialised by its own copy of ``kernel_initializer``."""
        return self.add_weight(name=name, shape=shape, initializer=clone_initializer(self.kernel_initializer))

    def compute_keys(self, values):
        """The value-only part k_j of each score, (B, S, H_v) -> (B, S, .). Compute once per source."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_keys().")

    def compute_scores(self, query, keys):
        """e (B, S) from the query s (B, H_q) and the keys k (B, S, .)."""
        raise NotImplementedError(f"{type(self).__name__} must implement compute_scores().")

    def call(self, query, values, mask=None, keys=None):
        self._check_query(query.shape)
        if mask is None:
            mask = getattr(values, "_keras_mask", None)
        k = self.compute_keys(values) if keys is None else keys  # (B, S, A)
        e = self.compute_scores(query, k)  # (B, S)
        return attend(e, mask, values)  # c (B, H_v) = sum_j alpha_j h_j, alpha = softmax(e) (B, S)

    def compute_output_shape(self, query_shape, values_shape):
        return (query_shape[0], values_shape[-1]), (query_shape[0], values_shape[1])

    def compute_mask(self, inputs, previous_mask):
        # The outputs have no time axis: the source mask is used up here.
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)})
        return config
