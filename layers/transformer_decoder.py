"""Transformer decoder block: causal self-attention, optional cross-attention, feed-forward; with a cache."""

import keras
from keras import ops

from seqrecipes.layers._transformer_block import TransformerBlock


@keras.saving.register_keras_serializable(package="seqrecipes")
class TransformerDecoder(TransformerBlock):
    """One Transformer decoder block (Vaswani et al. 2017), post-norm or pre-norm, with cached decoding.

    Shapes: B batch, T target length, S source length, D model width (from the decoder inputs),
    F = `intermediate_dim`, N = `num_heads`, each head of size H = D / N, L the cache length.

        FFN(z) = W_2 f(W_1 z + b_1) + b_2
        post-norm (normalize_first=False, the paper):
            a = LN_1(x + Dropout(MHA_self(x, x, causal)))
            b = LN_2(a + Dropout(MHA_cross(a, m)))              (only with an encoder sequence m)
            y = LN_3(b + Dropout(FFN(b)))
        pre-norm (normalize_first=True):
            a = x + Dropout(MHA_self(LN_1(x), LN_1(x), causal))
            b = a + Dropout(MHA_cross(LN_2(a), m))
            y = b + Dropout(FFN(LN_3(b)))

    Whether the block has cross-attention is fixed by its first call: `decoder(x)` (decoder-only, GPT)
    or `decoder(x, m)` (encoder-decoder).

    Cached decoding (functional, fixed-size tensors, usable inside `keras.ops.while_loop` and exportable):
    `self_attention_cache` has shape (B, 2, L, N, H) (keys then values; `get_initial_cache(B, L)` makes
    one) and `self_attention_cache_update_index=i` writes the keys and values of the T new positions at
    i .. i+T-1 and lets them attend to positions <= their own. The cross-attention cache has shape
    (B, 2, S, N, H): pass an empty one (`get_initial_cache(B, S)`) with
    `cross_attention_cache_update_index=0` at the first step to fill it from `encoder_sequence`, then the
    returned one with index None. Feeding tokens one at a time through the cache gives the same outputs
    as one causal pass over the whole sequence.

    Sublayers: `self_attention`, `self_attention_layer_norm` (LN_1), `cross_attention`,
    `cross_attention_layer_norm` (LN_2), `feedforward_intermediate_dense` (W_1, b_1, f),
    `feedforward_output_dense` (W_2, b_2), `feedforward_layer_norm` (LN_3), dropouts.

    Args:
        intermediate_dim, num_heads, dropout, activation, layer_norm_epsilon, kernel_initializer,
            bias_initializer, normalize_first, **kwargs: as in ``TransformerEncoder`` (F, N, f and the
            norm placement as above); ``dropout`` also drops the cross-attention weights and branch.

    Call arguments:
        decoder_sequence: x, shape (B, T, D).
        encoder_sequence: optional m, shape (B, S, D_m).
        decoder_padding_mask: optional boolean padding mask of the self-attention keys, True at real
            tokens: (B, T) without a cache (defaults to the Keras mask of x), (B, L) with one.
        decoder_attention_mask: optional boolean (B, T, T) ((B, T, L) with a cache).
        encoder_padding_mask: optional boolean (B, S); defaults to the Keras mask of m.
        encoder_attention_mask: optional boolean (B, T, S).
        self_attention_cache, self_attention_cache_update_index: see above.
        cross_attention_cache, cross_attention_cache_update_index: see above.
        use_causal_mask: whether position t attends only to positions <= t (True by default).
        return_cross_attention_scores: whether to also return the cross-attention weights
            A (B, N, T, S) (where each target position looked in the encoder sequence; beam
            search's coverage penalty reads them).
        training: whether dropout is active.

    Returns:
        y of shape (B, T, D); with a self-attention cache, `(y, self_attention_cache)`, and with
        cross-attention as well `(y, self_attention_cache, cross_attention_cache)`. With
        `return_cross_attention_scores=True`, A follows y: `(y, A)`, `(y, A, self_attention_cache,
        cross_attention_cache)`.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> decoder = layers.TransformerDecoder(intermediate_dim=16, num_heads=2)
    >>> x = np.random.default_rng(0).normal(size=(2, 4, 8)).astype("float32")
    >>> full = decoder(x)
    >>> cache = decoder.get_initial_cache(batch_size=2, max_length=4)
    >>> steps = []
    >>> for i in range(4):
    ...     y, cache = decoder(x[:, i : i + 1], self_attention_cache=cache, self_attention_cache_update_index=i)
    ...     steps.append(np.asarray(y))
    >>> bool(np.allclose(np.concatenate(steps, axis=1), full, atol=1e-5))
    True

    References:
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
    """

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        D = self.hidden_dim(decoder_sequence_shape)
        if encoder_sequence_shape is not None and len(encoder_sequence_shape) != 3:
            raise ValueError(
                "`encoder_sequence` of TransformerDecoder must have rank 3 (B, S, D_m). "
                f"Received: encoder_sequence.shape={encoder_sequence_shape}"
            )
        H = D // self.num_heads
        self.self_attention = self.make_attention("self_attention", H)
        self.self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self.self_attention_layer_norm = self.make_layer_norm("self_attention_layer_norm", decoder_sequence_shape)
        self.self_attention_dropout = self.make_dropout("self_attention_dropout")
        self.cross_attention = None
        if encoder_sequence_shape is not None:
            self.cross_attention = self.make_attention("cross_attention", H)
            self.cross_attention.build(decoder_sequence_shape, encoder_sequence_shape)
            self.cross_attention_layer_norm = self.make_layer_norm("cross_attention_layer_norm", decoder_sequence_shape)
            self.cross_attention_dropout = self.make_dropout("cross_attention_dropout")
        self.build_feedforward(decoder_sequence_shape)

    def get_initial_cache(self, batch_size, max_length):
        """An empty (B, 2, L, N, H) key/value cache in the compute dtype (self- or cross-attention)."""
        if not self.built:
            raise ValueError(
                "TransformerDecoder.get_initial_cache needs a built layer (call it once or build it). "
                f"Received: built={self.built}"
            )
        return self.self_attention.get_initial_cache(batch_size, max_length)

    def call(
        self,
        decoder_sequence,
        encoder_sequence=None,
        decoder_padding_mask=None,
        decoder_attention_mask=None,
        encoder_padding_mask=None,
        encoder_attention_mask=None,
        self_attention_cache=None,
        self_attention_cache_update_index=None,
        cross_attention_cache=None,
        cross_attention_cache_update_index=None,
        use_causal_mask=True,
        return_cross_attention_scores=False,
        training=None,
    ):
        has_cross_attention = self.cross_attention is not None
        if return_cross_attention_scores and not has_cross_attention:
            raise ValueError(
                "`return_cross_attention_scores` needs a block with cross-attention (called with `encoder_sequence`). "
                "Received: return_cross_attention_scores=True, encoder_sequence=None"
            )
        if has_cross_attention != (encoder_sequence is not None):
            raise ValueError(
                "TransformerDecoder was built "
                + ("with" if has_cross_attention else "without")
                + " cross-attention; call it always with or always without `encoder_sequence`. "
                f"Received: encoder_sequence={'None' if encoder_sequence is None else encoder_sequence.shape}"
            )
        if has_cross_attention and (self_attention_cache is None) != (cross_attention_cache is None):
            raise ValueError(
                "With cross-attention, `self_attention_cache` and `cross_attention_cache` must both be given "
                "or both be None. Received: "
                f"self_attention_cache={'None' if self_attention_cache is None else self_attention_cache.shape}, "
                f"cross_attention_cache={'None' if cross_attention_cache is None else cross_attention_cache.shape}"
            )
        if self_attention_cache is not None and self_attention_cache_update_index is None:
            raise ValueError(
                "A `self_attention_cache` needs `self_attention_cache_update_index`, the position of the first new "
                "token. Received: self_attention_cache_update_index=None"
            )

        # Self-attention mask: key padding (B, 1, T or L) and the custom (B, T, T or L) mask.
        if decoder_padding_mask is None and self_attention_cache is None:
            decoder_padding_mask = getattr(decoder_sequence, "_keras_mask", None)
        self_mask = _merge_masks(decoder_padding_mask, decoder_attention_mask)
        if has_cross_attention:
            if encoder_padding_mask is None:
                encoder_padding_mask = getattr(encoder_sequence, "_keras_mask", None)
            cross_mask = _merge_masks(encoder_padding_mask, encoder_attention_mask)

        x = decoder_sequence  # (B, T, D)

        # Self-attention sublayer.
        z = self.sublayer_input(x, self.self_attention_layer_norm)
        z = self.self_attention(
            z,
            z,
            attention_mask=self_mask,
            use_causal_mask=use_causal_mask,
            cache=self_attention_cache,
            cache_update_index=self_attention_cache_update_index,
            training=training,
        )
        if self_attention_cache is not None:
            z, self_attention_cache = z
        x = self.add_residual(x, z, self.self_attention_layer_norm, self.self_attention_dropout, training)

        # Cross-attention sublayer.
        scores = ()
        if has_cross_attention:
            z = self.sublayer_input(x, self.cross_attention_layer_norm)
            z = self.cross_attention(
                z,
                encoder_sequence,
                attention_mask=cross_mask,
                return_attention_scores=return_cross_attention_scores,
                cache=cross_attention_cache,
                cache_update_index=cross_attention_cache_update_index,
                training=training,
            )
            z, *extra = z if isinstance(z, tuple) else (z,)  # output, then A (B, N, T, S) if asked, then the cache
            if return_cross_attention_scores:
                scores, extra = (extra[0],), extra[1:]
            if cross_attention_cache is not None:
                (cross_attention_cache,) = extra
            x = self.add_residual(x, z, self.cross_attention_layer_norm, self.cross_attention_dropout, training)

        # Feed-forward sublayer.
        x = self.feedforward(x, training)

        if self_attention_cache is None:
            return (x, *scores) if scores else x  # (B, T, D)[, A (B, N, T, S)]
        if has_cross_attention:
            return (x, *scores, self_attention_cache, cross_attention_cache)
        return x, self_attention_cache

    def compute_output_shape(self, decoder_sequence_shape, encoder_sequence_shape=None):
        return tuple(decoder_sequence_shape)

    def compute_output_spec(
        self,
        decoder_sequence,
        encoder_sequence=None,
        self_attention_cache=None,
        cross_attention_cache=None,
        return_cross_attention_scores=False,
        **kwargs,
    ):
        y = keras.KerasTensor(tuple(decoder_sequence.shape), dtype=self.compute_dtype)
        scores = ()
        if return_cross_attention_scores:
            B, T = decoder_sequence.shape[:2]
            S = cross_attention_cache.shape[2] if cross_attention_cache is not None else encoder_sequence.shape[1]
            scores = (keras.KerasTensor((B, self.num_heads, T, S), dtype=self.compute_dtype),)
        if self_attention_cache is None:
            return (y, *scores) if scores else y
        caches = (keras.KerasTensor(self_attention_cache.shape, dtype=self_attention_cache.dtype),)
        if cross_attention_cache is not None:
            caches += (keras.KerasTensor(cross_attention_cache.shape, dtype=cross_attention_cache.dtype),)
        return (y, *scores) + caches

    def compute_mask(self, inputs, previous_mask):
        return previous_mask


def _merge_masks(padding_mask, attention_mask):
    """(B, S) key padding and (B, T, S) attention masks merged into one boolean (B, T or 1, S) mask, or None."""
    mask = None
    if padding_mask is not None:
        mask = ops.cast(padding_mask, "bool")[:, None, :]  # (B, 1, S)
    if attention_mask is not None:
        attention_mask = ops.cast(attention_mask, "bool")  # (B, T, S)
        mask = attention_mask if mask is None else ops.logical_and(mask, attention_mask)
    return mask
