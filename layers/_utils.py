"""Private helpers shared by several layers: masked softmax and attention reads, initializer copies, shape checks.

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


def attend(e, mask, h):
    """Weights and weighted sum of one attention read: alpha = softmax(e) over unmasked positions, c = sum_j alpha_j h_j.

    e: scores (B, S); mask: optional boolean (B, S); h: values (B, S, H). Returns (c (B, H), alpha (B, S)),
    alpha in the dtype of h, exactly 0 at masked positions (see ``masked_softmax``).
    """
    alpha = ops.cast(masked_softmax(e, mask), h.dtype)  # (B, S)
    c = ops.einsum("bs,bsh->bh", alpha, h)  # (B, H)
    return c, alpha
