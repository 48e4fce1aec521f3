"""Transformer encoder block: self-attention and a feed-forward network, each with a residual and a layer norm."""

import keras

from seqrecipes.layers._transformer_block import TransformerBlock
from seqrecipes.layers._utils import check_rank_3


@keras.saving.register_keras_serializable(package="seqrecipes")
class TransformerEncoder(TransformerBlock):
    """One Transformer encoder block (Vaswani et al. 2017), post-norm or pre-norm.

    Shapes: B batch, T length, D model width (from the inputs), F = `intermediate_dim`, N = `num_heads`,
    each head of size D / N.

        FFN(z) = W_2 f(W_1 z + b_1) + b_2
        post-norm (normalize_first=False, the paper):
            a = LN_1(x + Dropout(MHA(x, x)))
            y = LN_2(a + Dropout(FFN(a)))
        pre-norm (normalize_first=True, GPT-2 style):
            a = x + Dropout(MHA(LN_1(x), LN_1(x)))
            y = a + Dropout(FFN(LN_2(a)))

    Padded positions (the Keras mask or `mask`) are never attended to; the outputs at padded positions
    are computed but meaningless, and the mask passes through.

    Sublayers: `self_attention` (the project's MultiHeadAttention), `self_attention_layer_norm` (LN_1),
    `feedforward_intermediate_dense` (W_1, b_1, f), `feedforward_output_dense` (W_2, b_2),
    `feedforward_layer_norm` (LN_2) and two dropouts.

    Args:
        intermediate_dim: F, a positive integer, the hidden size of the feed-forward network.
        num_heads: N, a positive integer that divides D.
        dropout: the dropout rate of the attention weights and of both residual branches.
        activation: f, the feed-forward activation.
        layer_norm_epsilon: epsilon of both layer norms.
        kernel_initializer, bias_initializer: initializers of all kernels and biases.
        normalize_first: False for post-norm, True for pre-norm.
        **kwargs: passed on to `keras.layers.Layer`.

    Call arguments:
        inputs: x, shape (B, T, D).
        mask: optional boolean (B, T) padding mask, True at real tokens; defaults to the Keras mask.
        attention_mask: optional boolean (B, T, T), True where position t may attend to position s.
        training: whether dropout is active.

    Returns:
        y, shape (B, T, D).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import layers
    >>> encoder = layers.TransformerEncoder(intermediate_dim=16, num_heads=2)
    >>> x = np.random.default_rng(0).normal(size=(1, 5, 8)).astype("float32")  # (B, T, D)
    >>> mask = np.array([[True, True, True, False, False]])  # two padded steps
    >>> y = np.asarray(encoder(x, mask=mask))
    >>> x[:, 3:] = 100.0  # whatever the padding holds, the real steps never attend to it
    >>> bool(np.allclose(np.asarray(encoder(x, mask=mask))[:, :3], y[:, :3], atol=1e-5))
    True

    References:
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
        - Xiong et al. (2020), On layer normalization in the Transformer architecture,
          https://arxiv.org/abs/2002.04745
    """

    def build(self, input_shape):
        D = self.hidden_dim(input_shape)
        self.self_attention = self.make_attention("self_attention", D // self.num_heads)
        self.self_attention.build(input_shape, input_shape)
        self.self_attention_layer_norm = self.make_layer_norm("self_attention_layer_norm", input_shape)
        self.self_attention_dropout = self.make_dropout("self_attention_dropout")
        self.build_feedforward(input_shape)

    def call(self, inputs, mask=None, attention_mask=None, training=None):
        check_rank_3("TransformerEncoder", inputs.shape, dims="B, T, D")
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)
        x = inputs  # (B, T, D)

        # Self-attention sublayer.
        z = self.sublayer_input(x, self.self_attention_layer_norm)
        z = self.self_attention(z, z, value_mask=mask, attention_mask=attention_mask, training=training)
        x = self.add_residual(x, z, self.self_attention_layer_norm, self.self_attention_dropout, training)

        # Feed-forward sublayer.
        return self.feedforward(x, training)  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)
