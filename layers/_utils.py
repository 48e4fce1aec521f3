"""Private helpers shared by several layers: masked softmax, initializer copies, argument and shape checks.

Nothing here is public API; each function is used by two or more layer files, which import it from here
instead of keeping their own copy. Only `keras.ops` is used, so every backend runs the same code.
"""

import keras
from keras import ops

# Masking is done in float32 whatever the compute dtype, so this constant never overflows float16.
FLOAT32_MIN = -3.4028234663852886e38


def masked_softmax(scores, mask):
    """Softmax over the last axis in float32; masked entries get exactly 0, a fully masked row is all 0.

    Args:
        scores: attention logits of any float dtype, shape (..., S).
        mask: None, or a boolean (or 0/1) tensor broadcastable to `scores`, True at the entries to keep.

    Returns:
        float32 weights with the shape of `scores`; the caller casts them to its compute dtype.
    """
    scores = ops.cast(scores, "float32")
    if mask is None:
        return ops.softmax(scores, axis=-1)
    mask = ops.cast(mask, "bool")
    weights = ops.softmax(ops.where(mask, scores, FLOAT32_MIN), axis=-1)
    return ops.where(mask, weights, 0.0)


def clone_initializer(initializer):
    """A fresh copy of an initializer, so that no two weights share one initializer object.

    Args:
        initializer: a `keras.initializers.Initializer`, or anything else (a string name, None), which is
            returned as it is.

    Returns:
        A new initializer built from the config of `initializer`, or `initializer` itself.
    """
    if isinstance(initializer, keras.initializers.Initializer):
        return initializer.__class__.from_config(initializer.get_config())
    return initializer


def check_rank_3(owner, shape, dims="B, T, H"):
    """Raises ValueError unless `shape`, the shape of the `inputs` of layer `owner`, has rank 3.

    Args:
        owner: the class name used in the message.
        shape: the input shape (a tuple or a tensor's `.shape`).
        dims: the shape letters named in the message.
    """
    if len(shape) != 3:
        raise ValueError(f"`inputs` of {owner} must have rank 3 ({dims}). Received: inputs.shape={shape}")


def zero_fully_masked(s, mask):
    """Sets to 0 the rows of a pooled `s` (B, H) whose mask (B, T) has no real step.

    Args:
        s: pooled values, shape (B, H).
        mask: boolean or 0/1 tensor, shape (B, T), True (1) at real steps.

    Returns:
        `s` where the sequence has at least one real step, 0 elsewhere; shape (B, H).
    """
    has_real_step = ops.any(ops.cast(mask, "bool"), axis=1)  # (B,)
    return ops.where(has_real_step[:, None], s, ops.zeros_like(s))


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


def build_feedforward(block, input_shape):
    """The two Dense sublayers of a Transformer block's FFN(z) = W_2 f(W_1 z + b_1) + b_2, each built.

    Args:
        block: the Transformer block; its `intermediate_dim` (F), `activation` (f), `kernel_initializer`,
            `bias_initializer` and `dtype_policy` are used, each initializer copied per sublayer.
        input_shape: the block's (B, T, D) input shape.

    Returns:
        `(feedforward_intermediate_dense, feedforward_output_dense)`: (W_1, b_1, f) and (W_2, b_2).
    """
    intermediate_dense = keras.layers.Dense(
        block.intermediate_dim,
        activation=block.activation,
        kernel_initializer=clone_initializer(block.kernel_initializer),
        bias_initializer=clone_initializer(block.bias_initializer),
        dtype=block.dtype_policy,
        name="feedforward_intermediate_dense",
    )
    intermediate_dense.build(input_shape)
    output_dense = keras.layers.Dense(
        input_shape[-1],
        kernel_initializer=clone_initializer(block.kernel_initializer),
        bias_initializer=clone_initializer(block.bias_initializer),
        dtype=block.dtype_policy,
        name="feedforward_output_dense",
    )
    output_dense.build(tuple(input_shape[:-1]) + (block.intermediate_dim,))
    return intermediate_dense, output_dense


def block_config(block):
    """The constructor arguments that every Transformer block stores, serialized for `get_config`."""
    return {
        "intermediate_dim": block.intermediate_dim,
        "num_heads": block.num_heads,
        "dropout": block.dropout,
        "activation": keras.activations.serialize(block.activation),
        "layer_norm_epsilon": block.layer_norm_epsilon,
        "kernel_initializer": keras.initializers.serialize(block.kernel_initializer),
        "bias_initializer": keras.initializers.serialize(block.bias_initializer),
        "normalize_first": block.normalize_first,
    }


def attend(e, mask, h):
    """Weights and weighted sum of one attention read: alpha = softmax(e) over unmasked positions, c = sum_j alpha_j h_j.

    e: scores (B, S); mask: optional boolean (B, S); h: values (B, S, H). Returns (c (B, H), alpha (B, S)),
    alpha in the dtype of h, exactly 0 at masked positions (see ``masked_softmax``).
    """
    alpha = ops.cast(masked_softmax(e, mask), h.dtype)  # (B, S)
    c = ops.einsum("bs,bsh->bh", alpha, h)  # (B, H)
    return c, alpha
