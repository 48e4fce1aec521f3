"""The private base of the Transformer encoder and decoder blocks: their shared arguments, sublayers
and residual wiring.

Both blocks are sublayers of the form

    post-norm (normalize_first=False):  x <- LN(x + Dropout(f(x)))
    pre-norm (normalize_first=True):    x <- x + Dropout(f(LN(x)))

with f a multi-head attention or the feed-forward network FFN(z) = W_2 f(W_1 z + b_1) + b_2, which
both blocks end with. ``sublayer_input`` and ``add_residual`` are the two halves of that wiring, so
that a sublayer can return more than its output (an attention cache, attention weights).
"""

import keras

from seqrecipes._checks import check_positive_int
from seqrecipes._checks import check_rate
from seqrecipes.layers._utils import clone_initializer
from seqrecipes.layers.multi_head_attention import MultiHeadAttention


class TransformerBlock(keras.layers.Layer):
    """Arguments, sublayer factories and the feed-forward sublayer of a Transformer block.

    The arguments are those of ``TransformerEncoder`` and ``TransformerDecoder`` (see there); the
    initializers are copied for each sublayer.
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
        owner = type(self).__name__
        self.intermediate_dim = check_positive_int("intermediate_dim", intermediate_dim, owner=owner)
        self.num_heads = check_positive_int("num_heads", num_heads, owner=owner)
        self.dropout = check_rate("dropout", dropout, owner=owner)
        self.activation = keras.activations.get(activation)
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.normalize_first = normalize_first
        self.supports_masking = True

    def hidden_dim(self, shape):
        """The model width D of the block's (B, T, D) input ``shape``, checked to be a multiple of N."""
        owner = type(self).__name__
        if len(shape) != 3:
            raise ValueError(f"The inputs of {owner} must have rank 3 (B, T, D). Received: shape={shape}")
        D = shape[-1]
        if D is None or D % self.num_heads != 0:
            raise ValueError(
                f"The feature size D of the inputs of {owner} must be a multiple of num_heads={self.num_heads}. "
                f"Received: D={D}"
            )
        return D

    def make_attention(self, name, key_dim):
        """A new MultiHeadAttention sublayer (N heads of size ``key_dim``), not built yet."""
        return MultiHeadAttention(
            num_heads=self.num_heads,
            key_dim=key_dim,
            dropout=self.dropout,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            dtype=self.dtype_policy,
            name=name,
        )

    def make_layer_norm(self, name, shape):
        """A new LayerNormalization sublayer, built for ``shape``."""
        layer = keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name)
        layer.build(shape)
        return layer

    def make_dropout(self, name):
        """A new Dropout sublayer at the block's rate."""
        return keras.layers.Dropout(self.dropout, dtype=self.dtype_policy, name=name)

    def build_feedforward(self, input_shape):
        """The feed-forward sublayer's `feedforward_intermediate_dense` (W_1, b_1, f),
        `feedforward_output_dense` (W_2, b_2), `feedforward_layer_norm` and `feedforward_dropout`,
        each built for the block's (B, T, D) ``input_shape``."""
        dense = dict(dtype=self.dtype_policy)
        self.feedforward_intermediate_dense = keras.layers.Dense(
            self.intermediate_dim,
            activation=self.activation,
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            name="feedforward_intermediate_dense",
            **dense,
        )
        self.feedforward_intermediate_dense.build(input_shape)
        self.feedforward_output_dense = keras.layers.Dense(
            input_shape[-1],
            kernel_initializer=clone_initializer(self.kernel_initializer),
            bias_initializer=clone_initializer(self.bias_initializer),
            name="feedforward_output_dense",
            **dense,
        )
        self.feedforward_output_dense.build(tuple(input_shape[:-1]) + (self.intermediate_dim,))
        self.feedforward_layer_norm = self.make_layer_norm("feedforward_layer_norm", input_shape)
        self.feedforward_dropout = self.make_dropout("feedforward_dropout")

    def sublayer_input(self, x, layer_norm):
        """What a sublayer reads: LN(x) pre-norm, x post-norm."""
        return layer_norm(x) if self.normalize_first else x

    def add_residual(self, x, z, layer_norm, dropout, training):
        """x + Dropout(z), then LN of it post-norm; z the sublayer's output."""
        x = x + dropout(z, training=training)
        return x if self.normalize_first else layer_norm(x)

    def feedforward(self, x, training):
        """The feed-forward sublayer with its residual: (B, T, D) -> (B, T, D)."""
        z = self.sublayer_input(x, self.feedforward_layer_norm)
        z = self.feedforward_output_dense(self.feedforward_intermediate_dense(z))
        return self.add_residual(x, z, self.feedforward_layer_norm, self.feedforward_dropout, training)

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
