"""Scheduled sampling (Bengio et al. 2015) for the recurrent encoder-decoders: some decoder inputs are the
model's own samples.

Teacher forcing feeds the decoder the true previous token y_{t-1} at every step; at inference it is fed
its own guess, which it never saw in training. Scheduled sampling flips a coin per token: with
probability epsilon_i (training step i) the decoder gets y_{t-1}, otherwise a token sampled from its
own distribution at step t-1, and epsilon_i decays from 1 to 0 on the inverse-sigmoid schedule

    epsilon_i = k / (k + exp(i / k)),   k >= 1     (about 1 for i << k ln k, 1/2 at i = k ln k)

So training runs the decoder step by step (``decoder.encode`` once, then ``decoder.step_logits`` in a
``tf.while_loop``), as greedy search does, instead of one teacher-forced pass; no gradient flows
through the sampled tokens (they are discrete). The recipe's dropout layers act on that path as in the
teacher-forced model.

References:
    - Bengio, Vinyals, Jaitly, Shazeer (2015), Scheduled sampling for sequence prediction with
      recurrent neural networks, https://arxiv.org/abs/1506.03099
"""

import math

import tensorflow as tf
from keras import ops

from seqrecipes.data import PAD_ID
from seqrecipes.recipes.decoding.decoder import ban_never_generated

# The largest k a recipe takes: epsilon stays above 1 - 1e-3 for the first 1e8 steps already.
MAX_SCHEDULE = 1e9


def check_schedule(value):
    """``scheduled_sampling`` if it is 0 (off) or a finite k in [1, 1e9]; a ValueError otherwise.

    Example:
    >>> from seqrecipes.recipes.training.scheduled_sampling import check_schedule
    >>> check_schedule(0), check_schedule(500)
    (0, 500)
    """
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or not (value == 0 or (math.isfinite(value) and 1 <= value <= MAX_SCHEDULE)):
        raise ValueError(
            "`scheduled_sampling` must be 0 (off) or k in [1, 1e9], the inverse-sigmoid schedule's k "
            f"(epsilon_i = k / (k + exp(i / k))). Received: scheduled_sampling={value!r:.100}"
        )
    return value


def truth_probability(step, k):
    """epsilon_i = k / (k + exp(i / k)): the probability of feeding the true previous token at training step i.

    Example:
    >>> from seqrecipes.recipes.training.scheduled_sampling import truth_probability
    >>> [round(float(truth_probability(i, 100.0)), 3) for i in (0, 460, 1000)]
    [0.99, 0.501, 0.005]
    """
    i = ops.cast(step, "float32")
    return k / (k + ops.exp(i / k))  # exp overflows to inf for i >> k: epsilon 0, not NaN


def scheduled_logits(model, inputs, k):
    """The training logits (B, T, V) of a recurrent encoder-decoder under scheduled sampling.

    Step t is fed [START] at t = 0, then per token y_{t-1} (``inputs["target_in"][:, t]``) with
    probability epsilon_i (``truth_probability`` of the optimizer's step count i), else a token drawn
    from softmax of the step t-1 logits ([PAD] and [START] never drawn); padded positions of
    ``target_in`` stay padding. The logits are those of the training model (no token banned), so the
    recipe's loss reads them as it reads the teacher-forced ones.
    """
    decoder = model.decoder
    target_in = ops.cast(inputs["target_in"], "int32")  # (B, T)
    epsilon = truth_probability(model.optimizer.iterations, k)
    length = ops.shape(target_in)[1]
    dtype = model.outputs[0].dtype

    def body(t, token, state, written):
        logits, state = decoder.step_logits(token, state, t)  # (B, V)
        written = written.write(t, ops.cast(logits, dtype))
        following = ops.take(target_in, ops.minimum(t + 1, length - 1), axis=1)  # y_t, fed at step t+1
        drawn = tf.random.categorical(ban_never_generated(tf.stop_gradient(ops.cast(logits, "float32"))), 1)[:, 0]
        truth = ops.logical_or(tf.random.uniform(ops.shape(following)) < epsilon, ops.equal(following, PAD_ID))
        return t + 1, ops.where(truth, following, ops.cast(drawn, "int32")), state, written

    loop_vars = (tf.constant(0), target_in[:, 0], decoder.encode(inputs["source"]), tf.TensorArray(dtype, size=length))
    _, _, _, written = tf.while_loop(lambda t, *_: t < length, body, loop_vars)
    return tf.transpose(written.stack(), [1, 0, 2])  # (T, B, V) -> (B, T, V)
