"""Multi-head scaled dot-product attention (Vaswani et al. 2017) with a key/value cache for decoding."""

import math

import keras
from keras import ops

from seqrecipes._checks import check_positive_int
from seqrecipes._checks import check_rate
from seqrecipes.layers._utils import clone_initializer
from seqrecipes.layers._utils import masked_softmax


@keras.saving.register_keras_serializable(package="seqrecipes")
class MultiHeadAttention(keras.layers.Layer):
    """Multi-head attention: softmax(Q K^T / sqrt(d_k)) V in N heads, then one output projection.

    Shapes: B batch, T query length, S key/value length, D_q, D_k, D_v the feature sizes of query, key
    and value, N = `num_heads`, d_k = `key_dim`, d_v = `value_dim`.

    The six steps of seed 003, for each head n:

        1. (inputs are already embedded)
        2. Q_n = query W^Q_n + b^Q_n    K_n = key W^K_n + b^K_n    V_n = value W^V_n + b^V_n
        3. scores_n = Q_n K_n^T                                           (B, T, S)
        4. A_n = softmax(scores_n / sqrt(d_k) + M)       M = 0 where allowed, -inf where masked
        5. head_n = A_n V_n                                               (B, T, d_v)
        6. output = concat(head_1, ..., head_N) W^O + b^O                 (B, T, D_q)

    Masked key positions get exactly zero weight; a query row with no allowed key gives a zero head
    (so the output is b^O there), never NaN. Without dropout and attention scores, step 3-5 run through
    `keras.ops.dot_product_attention`, so accelerators get their fused kernel.

    Key/value cache for incremental decoding (functional, fixed size, for use in `keras.ops.while_loop`):
    `cache` has shape (B, 2, S_max, N, d_k) (keys then values; needs d_k = d_v) and
    `get_initial_cache(batch_size, max_length)` makes an empty one. With `cache_update_index=i` the
    keys and values of the T new positions are projected and written at positions i .. i+T-1 with
    `keras.ops.slice_update`, and the queries attend over the positions written so far (< i+T), causally
    if `use_causal_mask`. With `cache_update_index=None` the cached keys and values are used as they are
    and `key`/`value` are ignored (e.g. cross-attention over a fixed encoder output).

    Weights:
        query_kernel, query_bias: W^Q (D_q, N, d_k), b^Q (N, d_k).
        key_kernel, key_bias: W^K (D_k, N, d_k), b^K (N, d_k).
        value_kernel, value_bias: W^V (D_v, N, d_v), b^V (N, d_v).
        output_kernel, output_bias: W^O (N, d_v, D_q), b^O (D_q,).

    Args:
        num_heads: N, a positive integer.
        key_dim: d_k, a positive integer, the size of each query and key head.
        value_dim: d_v, the size of each value head; defaults to `key_dim`.
        dropout: rate of the dropout on the attention weights A_n (training only).
        use_bias: whether to add the biases b^Q, b^K, b^V and b^O.
        kernel_initializer, bias_initializer: initializers of the kernels and of the biases.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        query: (B, T, D_q).
        value: (B, S, D_v).
        key: (B, S, D_k); defaults to `value`.
        query_mask, value_mask, key_mask: boolean padding masks (B, T), (B, S), (B, S); filled in from
            Keras masks. Ignored in cached mode (pass `attention_mask` instead).
        attention_mask: boolean (B, T, S) (or (B, T, S_max) with a cache), True where query t may attend
            to key s.
        use_causal_mask: whether query t may only attend to keys s <= t (s <= i + t with a cache).
        return_attention_scores: whether to return the weights A, shape (B, N, T, S).
        cache: optional (B, 2, S_max, N, d_k) key/value cache.
        cache_update_index: optional int or int tensor i, where the new keys and values are written.
        training: whether dropout is active.

    Returns:
        `output` (B, T, D_q), then `attention_scores` (B, N, T, S) if `return_attention_scores`, then the
        updated `cache` if a cache was given.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> mha = layers.MultiHeadAttention(num_heads=2, key_dim=4)
    >>> x = np.ones((3, 5, 8), "float32")
    >>> tuple(mha(x, x, use_causal_mask=True).shape)
    (3, 5, 8)
    >>> cache = mha.get_initial_cache(batch_size=3, max_length=5)
    >>> out, cache = mha(x[:, :1], x[:, :1], use_causal_mask=True, cache=cache, cache_update_index=0)
    >>> tuple(out.shape), tuple(cache.shape)
    ((3, 1, 8), (3, 2, 5, 2, 4))

    References:
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """

    def __init__(
        self,
        num_heads,
        key_dim,
        value_dim=None,
        dropout=0.0,
        use_bias=True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        **kwargs,
    ):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.num_heads = check_positive_int("num_heads", num_heads, owner=owner)
        self.key_dim = check_positive_int("key_dim", key_dim, owner=owner)
        self.value_dim = None if value_dim is None else check_positive_int("value_dim", value_dim, owner=owner)
        self.dropout = check_rate("dropout", dropout, owner=owner)
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.supports_masking = True

    @property
    def _value_dim(self):
        return self.key_dim if self.value_dim is None else self.value_dim

    def build(self, query_shape, value_shape, key_shape=None):
        for name, shape in (("query", query_shape), ("value", value_shape), ("key", key_shape)):
            if shape is not None and len(shape) != 3:
                raise ValueError(
                    f"`{name}` of MultiHeadAttention must have rank 3 (B, length, features). "
                    f"Received: {name}.shape={shape}"
                )
        key_shape = value_shape if key_shape is None else key_shape
        N, d_k, d_v, D_q = self.num_heads, self.key_dim, self._value_dim, query_shape[-1]

        def kernel(name, shape):
            return self.add_weight(name=name, shape=shape, initializer=clone_initializer(self.kernel_initializer))

        def bias(name, shape):
            if not self.use_bias:
                return None
            return self.add_weight(name=name, shape=shape, initializer=clone_initializer(self.bias_initializer))

        self.query_kernel = kernel("query_kernel", (D_q, N, d_k))
        self.query_bias = bias("query_bias", (N, d_k))
        self.key_kernel = kernel("key_kernel", (key_shape[-1], N, d_k))
        self.key_bias = bias("key_bias", (N, d_k))
        self.value_kernel = kernel("value_kernel", (value_shape[-1], N, d_v))
        self.value_bias = bias("value_bias", (N, d_v))
        self.output_kernel = kernel("output_kernel", (N, d_v, D_q))
        self.output_bias = bias("output_bias", (D_q,))
        self.attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="attention_dropout")

    def get_initial_cache(self, batch_size, max_length):
        """An empty key/value cache of shape (B, 2, S_max, N, d_k) in the compute dtype."""
        self._check_cacheable()
        return ops.zeros((batch_size, 2, max_length, self.num_heads, self.key_dim), dtype=self.compute_dtype)

    def _check_cacheable(self):
        if self._value_dim != self.key_dim:
            raise ValueError(
                "A key/value cache needs value_dim equal to key_dim. "
                f"Received: key_dim={self.key_dim}, value_dim={self.value_dim}"
            )

    def _project(self, x, kernel, bias):
        """x W + b for every head, as one 2-D matmul (faster on CPU than an einsum or a batched matmul)."""
        D, N, H = kernel.shape
        shape = ops.shape(x)
        y = ops.matmul(ops.reshape(x, (-1, D)), ops.reshape(kernel, (D, N * H)))  # (B*S, N*H)
        if bias is not None:
            y = y + ops.reshape(bias, (N * H,))
        return ops.reshape(y, (shape[0], shape[1], N, H))  # (B, S, N, H)

    def call(
        self,
        query,
        value,
        key=None,
        query_mask=None,
        value_mask=None,
        key_mask=None,
        attention_mask=None,
        use_causal_mask=False,
        return_attention_scores=False,
        cache=None,
        cache_update_index=None,
        training=None,
    ):
        if len(query.shape) != 3:
            raise ValueError(
                f"`query` of MultiHeadAttention must have rank 3 (B, T, D_q). Received: query.shape={query.shape}"
            )
        if cache is None and cache_update_index is not None:
            raise ValueError(
                "`cache_update_index` needs a `cache`. "
                f"Received: cache=None, cache_update_index={cache_update_index}"
            )
        key = value if key is None else key

        # Step 2: projections. Q (B, T, N, d_k); K (B, S, N, d_k); V (B, S, N, d_v).
        Q = self._project(query, self.query_kernel, self.query_bias)
        if cache is not None:
            self._check_cacheable()
            if cache_update_index is None:
                K, V = cache[:, 0], cache[:, 1]  # (B, S_max, N, d_k) each
            else:
                K_new = self._project(key, self.key_kernel, self.key_bias)  # (B, T, N, d_k)
                V_new = self._project(value, self.value_kernel, self.value_bias)  # (B, T, N, d_k)
                KV_new = ops.cast(ops.stack([K_new, V_new], axis=1), cache.dtype)  # (B, 2, T, N, d_k)
                cache = ops.slice_update(cache, [0, 0, cache_update_index, 0, 0], KV_new)  # (B, 2, S_max, N, d_k)
                K, V = cache[:, 0], cache[:, 1]  # (B, S_max, N, d_k) each
        else:
            K = self._project(key, self.key_kernel, self.key_bias)
            V = self._project(value, self.value_kernel, self.value_bias)

        mask, causal_only = self._compute_mask(
            query, key, K, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, cache, cache_update_index
        )

        # Steps 3-5.
        scale = 1.0 / math.sqrt(self.key_dim)
        use_dropout = bool(training) and self.dropout > 0.0
        scores = None
        if not return_attention_scores and not use_dropout:
            heads = ops.dot_product_attention(
                Q,
                K,
                V,
                mask=None if causal_only else (None if mask is None else mask[:, None]),  # (B, 1, T, S)
                scale=scale,
                is_causal=causal_only,
            )  # (B, T, N, d_v)
            if mask is not None and not causal_only:
                # A row with no allowed key gets a zero head, not the mean of the values.
                any_allowed = ops.any(mask, axis=-1)[:, :, None, None]  # (B, T, 1, 1)
                heads = ops.where(any_allowed, heads, ops.zeros_like(heads))
        else:
            logits = ops.einsum("btnh,bsnh->bnts", Q, K) * ops.cast(scale, Q.dtype)  # (B, N, T, S)
            if causal_only:
                mask = self._causal_mask(ops.shape(Q)[1], ops.shape(K)[1], 0)[None]  # (1, T, S)
            A = masked_softmax(logits, None if mask is None else mask[:, None])  # (B, N, T, S)
            scores = ops.cast(A, Q.dtype)
            A = self.attention_dropout(scores, training=training)
            heads = ops.einsum("bnts,bsnh->btnh", A, V)  # (B, T, N, d_v)

        # Step 6.
        N, d_v, D_q = self.output_kernel.shape
        shape = ops.shape(heads)
        concat = ops.reshape(heads, (-1, N * d_v))  # (B*T, N*d_v): concat(head_1, ..., head_N)
        output = ops.matmul(concat, ops.reshape(self.output_kernel, (N * d_v, D_q)))  # (B*T, D_q)
        if self.use_bias:
            output = output + self.output_bias
        output = ops.reshape(output, (shape[0], shape[1], D_q))  # (B, T, D_q)

        results = (output,)
        if return_attention_scores:
            results += (scores,)
        if cache is not None:
            results += (cache,)
        return results[0] if len(results) == 1 else results

    @staticmethod
    def _causal_mask(T, S, start):
        i = ops.arange(T, dtype="int32")[:, None] + ops.cast(start, "int32")  # (T, 1) query positions
        j = ops.arange(S, dtype="int32")[None, :]  # (1, S) key positions
        return j <= i  # (T, S)

    def _compute_mask(
        self, query, key, K, query_mask, value_mask, key_mask, attention_mask, use_causal_mask, cache, cache_update_index
    ):
        """The boolean (B, T, S) mask of allowed (query, key) pairs, or None, and whether it is only causal."""
        T, S = ops.shape(query)[1], ops.shape(K)[1]
        mask = None

        def merge(a, b):
            return b if a is None else ops.logical_and(a, b)

        if cache is None:
            if query_mask is None:
                query_mask = getattr(query, "_keras_mask", None)
            if query_mask is not None:
                mask = merge(mask, ops.cast(query_mask, "bool")[:, :, None])  # (B, T, 1)
            padding = key_mask if key_mask is not None else value_mask
            if padding is not None:
                mask = merge(mask, ops.cast(padding, "bool")[:, None, :])  # (B, 1, S)
        if attention_mask is not None:
            mask = merge(mask, ops.cast(attention_mask, "bool"))  # (B, T, S)
        if cache is None and mask is None and use_causal_mask:
            return None, True
        start = 0 if cache_update_index is None else cache_update_index
        if use_causal_mask:
            mask = merge(mask, self._causal_mask(T, S, start)[None])  # (1, T, S)
        elif cache is not None and cache_update_index is not None:
            # Cache positions not written yet are never attended.
            written = ops.arange(S, dtype="int32") < ops.cast(start, "int32") + ops.shape(key)[1]  # (S,)
            mask = merge(mask, written[None, None, :])  # (1, 1, S)
        if mask is not None:
            mask = ops.broadcast_to(mask, (ops.shape(query)[0], T, S))  # (B, T, S)
        return mask, False

    def compute_output_shape(self, query_shape, value_shape, key_shape=None):
        return tuple(query_shape)

    def compute_output_spec(self, query, value, key=None, *, return_attention_scores=False, cache=None, **kwargs):
        # The other arguments of `call` (masks, cache_update_index, training) do not change the shapes.
        output = keras.KerasTensor(self.compute_output_shape(query.shape, value.shape), dtype=self.compute_dtype)
        results = (output,)
        if return_attention_scores:
            S = cache.shape[2] if cache is not None else (key if key is not None else value).shape[1]
            results += (keras.KerasTensor((query.shape[0], self.num_heads, query.shape[1], S), dtype=self.compute_dtype),)
        if cache is not None:
            results += (keras.KerasTensor(cache.shape, dtype=cache.dtype),)
        return results[0] if len(results) == 1 else results

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_heads": self.num_heads,
                "key_dim": self.key_dim,
                "value_dim": self.value_dim,
                "dropout": self.dropout,
                "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
            }
        )
        return config
