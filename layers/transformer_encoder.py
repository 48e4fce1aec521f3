"""Transformer encoder block: self-attention and a feed-forward network, each with a residual and a layer norm."""

import keras

from seqrecipes.layers.multi_head_attention import MultiHeadAttention


def _clone_initializer(initializer):
    """A fresh copy of an initializer, so that no two weights share one initializer object."""
    if isinstance(initializer, keras.initializers.Initializer):
        return initializer.__class__.from_config(initializer.get_config())
    return initializer


def check_block_args(owner, intermediate_dim, num_heads, dropout):
    """Raises ValueError for arguments that no Transformer block accepts."""
    for name, value in (("intermediate_dim", intermediate_dim), ("num_heads", num_heads)):
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ValueError(f"`{name}` of {owner} must be a positive integer. Received: {name}={value!r}")
    if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` of {owner} must be a number in [0, 1). Received: dropout={dropout!r}")


def check_hidden_dim(owner, shape, num_heads):
    """The model width D of a (B, T, D) shape, checked to be divisible by the number of heads."""
    if len(shape) != 3:
        raise ValueError(f"The inputs of {owner} must have rank 3 (B, T, D). Received: shape={shape}")
    D = shape[-1]
    if D is None or D % num_heads != 0:
        raise ValueError(
            f"The feature size D of the inputs of {owner} must be a multiple of num_heads={num_heads}. Received: D={D}"
        )
    return D


@keras.saving.register_keras_serializable(package="seqrecipes")
class TransformerEncoder(keras.layers.Layer):
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
    >>> tuple(encoder(np.ones((2, 5, 8), "float32")).shape)
    (2, 5, 8)

    References:
        - Vaswani et al. (2017), Attention is all you need, https://arxiv.org/abs/1706.03762
        - Xiong et al. (2020), On layer normalization in the Transformer architecture,
          https://arxiv.org/abs/2002.04745
    """

    def __init__(
        self,
        intermediate_dim,
        num_heads,
        dropout=0.0,
        activation="relu",
        layer_norm_epsilon=1e-5,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        normalize_first=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        check_block_args("TransformerEncoder", intermediate_dim, num_heads, dropout)
        self.intermediate_dim = intermediate_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.normalize_first = normalize_first
        self.supports_masking = True

    def build(self, input_shape):
        D = check_hidden_dim("TransformerEncoder", input_shape, self.num_heads)
        intermediate_shape = tuple(input_shape[:-1]) + (self.intermediate_dim,)
        self.self_attention = MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=D // self.num_heads,
            dropout=self.dropout,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            bias_initializer=_clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="self_attention",
        )
        self.self_attention.build(input_shape, input_shape)
        self.self_attention_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="self_attention_layer_norm"
        )
        self.self_attention_layer_norm.build(input_shape)
        self.self_attention_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="self_attention_dropout")
        self.feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            bias_initializer=_clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_intermediate_dense",
        )
        self.feedforward_intermediate_dense.build(input_shape)
        self.feedforward_output_dense = keras.layers.Dense(
            D,
            kernel_initializer=_clone_initializer(self.kernel_initializer),
            bias_initializer=_clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name="feedforward_output_dense",
        )
        self.feedforward_output_dense.build(intermediate_shape)
        self.feedforward_layer_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name="feedforward_layer_norm"
        )
        self.feedforward_layer_norm.build(input_shape)
        self.feedforward_dropout = keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name="feedforward_dropout")

    def call(self, inputs, mask=None, attention_mask=None, training=None):
        if len(inputs.shape) != 3:
            raise ValueError(
                f"`inputs` of TransformerEncoder must have rank 3 (B, T, D). Received: inputs.shape={inputs.shape}"
            )
        if mask is None:
            mask = getattr(inputs, "_keras_mask", None)
        x = inputs  # (B, T, D)

        # Self-attention block.
        residual = x
        z = self.self_attention_layer_norm(x) if self.normalize_first else x
        z = self.self_attention(z, z, value_mask=mask, attention_mask=attention_mask, training=training)
        x = residual + self.self_attention_dropout(z, training=training)
        if not self.normalize_first:
            x = self.self_attention_layer_norm(x)

        # Feed-forward block.
        residual = x
        z = self.feedforward_layer_norm(x) if self.normalize_first else x
        z = self.feedforward_output_dense(self.feedforward_intermediate_dense(z))
        x = residual + self.feedforward_dropout(z, training=training)
        if not self.normalize_first:
            x = self.feedforward_layer_norm(x)
        return x  # (B, T, D)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "intermediate_dim": self.intermediate_dim,
                "num_heads": self.num_heads,
                "dropout": self.dropout,
                "activation": keras.activations.serialize(self.activation),
                "layer_norm_epsilon": self.layer_norm_epsilon,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "normalize_first": self.normalize_first,
            }
        )
        return config
