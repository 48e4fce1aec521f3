"""Clipping by global norm of the whole global batch's gradient under a ``tf.distribute`` strategy.

Keras 3 clips each replica's gradient before the optimizer sums the replicas (``BaseOptimizer.apply`` calls
``_clip_gradients``, then the TF optimizer's all-reduce), so with ``global_clipnorm`` c and N replicas the
applied gradient could reach a norm of N c: two workers took larger steps than one process on the same global
batches (``benchmarks/multi_worker.py``). ``summed_before_clipping`` clips the sum instead. Inside each replica
the gradients are summed over the replicas, g = sum_r g_r, and scaled by c min(1 / ||g||, 1 / c) as one device
scales its gradient; the optimizer then takes them with its own sum over the replicas turned off (one
all-reduce a step, as before), and its own clip finds them within c and leaves them as they are, to rounding.

The norm is the one Keras takes on one device: an embedding's gradient is the IndexedSlices of its looked-up
rows, and Keras's global norm counts each slice apart (a row looked up twice adds 2 |r|^2, not |2 r|^2); the sum
keeps the slices, so ||g|| here is what one device computes. Under a LossScaleOptimizer the gradients are of the
loss times the scale s and the norm is of g / s. The per-tensor rules (``clipnorm``, ``clipvalue``) and gradient
accumulation are left to Keras.
"""

import contextlib

import tensorflow as tf


def _clipping(optimizer):
    """The optimizer that clips: a LossScaleOptimizer's inner optimizer, else the optimizer itself."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def _loss_scale(optimizer):
    scale = getattr(optimizer, "dynamic_scale", None)
    if scale is None:
        scale = getattr(optimizer, "loss_scale_factor", None)
    return tf.constant(1.0) if scale is None else tf.cast(scale, tf.float32)


def _global_norm(grads):
    """sqrt of the sum of every gradient's squares; of an IndexedSlices' values, slice by slice (as Keras)."""
    squares = [tf.reduce_sum(tf.square(tf.cast(g.values if isinstance(g, tf.IndexedSlices) else g, tf.float32))) for g in grads]
    return tf.sqrt(tf.add_n(squares))


@contextlib.contextmanager
def summed_before_clipping(optimizer, strategy):
    """While a model trains, make ``optimizer.apply_gradients`` clip the gradient of the whole global batch.

    Enter it in the cross-replica context (around ``fit``, with the model's ``strategy``): the replicas share
    the optimizer. Nothing changes
    outside a strategy with several replicas, or for an optimizer without ``global_clipnorm``.

    Example:
    >>> import keras, tensorflow as tf
    >>> from seqrecipes.recipes.training.clipping import summed_before_clipping
    >>> optimizer = keras.optimizers.Adam(global_clipnorm=1.0)
    >>> with summed_before_clipping(optimizer, tf.distribute.get_strategy()):
    ...     "apply_gradients" in vars(optimizer)  # one replica: as it was
    False
    """
    clipping = _clipping(optimizer) if optimizer is not None else None
    replicas = strategy.num_replicas_in_sync
    usable = hasattr(type(clipping), "_all_reduce_sum_gradients") and not getattr(clipping, "gradient_accumulation_steps", None)
    if replicas == 1 or not getattr(clipping, "global_clipnorm", None) or not usable:
        yield
        return
    apply_gradients = optimizer.apply_gradients

    def summed(grads_and_vars):
        grads, variables = zip(*grads_and_vars)
        present = [i for i, g in enumerate(grads) if g is not None]
        total = tf.distribute.get_replica_context().all_reduce(tf.distribute.ReduceOp.SUM, [grads[i] for i in present])
        norm = _global_norm(total) / _loss_scale(optimizer)
        c = tf.constant(clipping.global_clipnorm, tf.float32)
        # Keras's form: c min(1/||g||, 1/c), and NaN for a non-finite norm (a LossScaleOptimizer skips the step)
        scale = c * tf.minimum(1.0 / norm, 1.0 / c) + (norm - norm)
        parts = list(grads)
        for i, g in zip(present, total):
            parts[i] = tf.math.scalar_mul(tf.cast(scale, g.dtype), g)
        return apply_gradients(zip(parts, variables))

    optimizer.apply_gradients = summed
    clipping._all_reduce_sum_gradients = list  # the gradients are summed already
    try:
        yield
    finally:
        del optimizer.apply_gradients
        del clipping._all_reduce_sum_gradients
