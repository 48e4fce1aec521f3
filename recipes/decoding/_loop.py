"""The loop greedy search and sampling share, and the helpers every search uses.

``token_loop`` emits one token per row and step with a ``choose(logits, t)`` function (argmax for
greedy search, a filtered draw for sampling) until every row has ended; ``results`` shapes its
output as the searches return it.
"""

import keras
import numpy as np
from keras import ops

from seqrecipes.data import PAD_ID
from seqrecipes.recipes.decoding._settings import is_number
from seqrecipes.recipes.decoding.controls import apply_controls
from seqrecipes.recipes.decoding.decoder import sequence_lengths

NEG_INF = float("-inf")


def argmax(logits, t=None):
    return ops.cast(ops.argmax(logits, axis=-1), "int32")


def token_loop(decoder, state, max_length, buffer_length, choose, controls=None):
    """One token per row and step until every row has ended or after max_length steps.

    ``choose`` sees the logits after the decoding ``controls`` (``controls.apply_controls``); the
    score is read from the model's own distribution.

    Returns ids (R, buffer_length) int32 (PAD after each row's end token and after max_length)
    and scores (R,) float32, the sum of log softmax(logits) at the chosen tokens, end included.
    """
    rows = ops.shape(keras.tree.flatten(state)[0])[0]
    ids = ops.zeros((rows, buffer_length), "int32")
    scores = ops.zeros((rows,), "float32")
    token = ops.full((rows,), decoder.start_id, "int32")
    finished = ops.zeros((rows,), "bool")

    def cond(t, token, finished, ids, scores, state):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, token, finished, ids, scores, state):
        logits, state = decoder.step(token, state, t)
        logits = ops.cast(logits, "float32")  # (R, V)
        controlled = apply_controls(logits, ids, t, controls, decoder.end_id)
        next_token = ops.where(finished, ops.full_like(token, PAD_ID), choose(controlled, t))
        log_probabilities = ops.log_softmax(logits, axis=-1)  # (R, V)
        picked = ops.take_along_axis(log_probabilities, next_token[:, None], axis=1)[:, 0]  # (R,)
        scores = scores + ops.where(finished, 0.0, picked)
        ids = write_column(ids, t, next_token)
        finished = ops.logical_or(finished, ops.equal(next_token, decoder.end_id))
        return t + 1, next_token, finished, ids, scores, state

    t0 = ops.convert_to_tensor(0, "int32")
    loop_vars = (t0, token, finished, ids, scores, state)
    _, _, _, ids, scores, _ = ops.while_loop(cond, body, loop_vars, maximum_iterations=buffer_length)
    return ids, scores


def write_column(ids, t, token):
    """ids (..., L) with column t (still 0) set to token (...), of ids' dtype (int ids or float scores)."""
    at_t = ops.cast(ops.equal(ops.arange(ops.shape(ids)[-1], dtype="int32"), t), ids.dtype)  # (L,)
    return ids + at_t * token[..., None]


def repeat_state(state, times):
    """Every tensor of the state repeated ``times`` along axis 0: row b -> rows b*times .. b*times + times-1."""
    if is_number(times) and times == 1:
        return state
    return keras.tree.map_structure(lambda x: ops.repeat(x, times, axis=0), state)


def results(ids, scores, per_input, max_length, end_id):
    """ids (B*N, L'), scores (B*N,) -> the result dict with ids (B, N, max_length)."""
    ids = ops.reshape(ids, (-1, per_input, ops.shape(ids)[-1]))  # (B, N, L')
    return result_dict(ids, ops.reshape(scores, (-1, per_input)), max_length, end_id)


def result_dict(ids, scores, max_length, end_id):
    if not is_number(max_length):
        ids = ids[:, :, :max_length]  # the buffer has decoder.max_length columns
    shape = ops.shape(ids)
    lengths = sequence_lengths(ops.reshape(ids, (-1, shape[2])), end_id)
    return {
        "ids": ids,
        "scores": ops.cast(scores, "float32"),
        "lengths": ops.reshape(lengths, (shape[0], shape[1])),
    }



def branch(pred, true_fn, false_fn):
    if isinstance(pred, (bool, np.bool_)):
        return true_fn() if pred else false_fn()
    return ops.cond(pred, true_fn, false_fn)
