"""Decoding controls: ``min_length``, ``no_repeat_ngram_size``, ``repetition_penalty`` and ``banned``.

Every search (greedy, sampling, beam) passes each step's logits z (R, V) through ``apply_controls``
with the tokens each row has emitted so far, y_1 .. y_t (the history: the output alone, never a
language model's prompt). Step t (0-based) chooses y_{t+1}:

- ``min_length`` m: z[END] = -inf while t < m, so no output ends before m tokens (unless
  ``max_length`` cuts it first);
- ``no_repeat_ngram_size`` n: z[w] = -inf for every w such that (y_{t-n+2} .. y_t, w) is an n-gram
  already in the history (n = 1: no token twice; 0: off);
- ``repetition_penalty`` theta (Keskar et al. 2019, CTRL): for every token w in the history,
  z[w] / theta where z[w] > 0 and z[w] * theta where z[w] <= 0. CTRL divides every such logit by
  theta; for a negative logit that would raise the token's probability, so, as Hugging Face's
  ``generate`` does, it is multiplied instead: theta > 1 always makes a seen token less likely,
  theta = 1 is off, theta < 1 favours repetition;
- ``banned``: token sequences never written. For a sequence (b_1 .. b_k), z[b_k] = -inf whenever
  the history ends with b_1 .. b_{k-1} (k = 1: b_1 never appears).

A row whose every token is banned ends: its END logit becomes 0. Greedy search and sampling choose
from the controlled logits but score the chosen token under the model's own distribution (so
``recipes.score`` of an output still equals its score); beam search ranks and scores by the
controlled distribution, log softmax of the controlled logits.

Python settings are checked (a ValueError naming the setting); scalar tensors (the export's
``generate`` signature) are clamped: ``min_length`` and ``no_repeat_ngram_size`` into [0, the
decoder's ``max_length``], ``repetition_penalty`` into [0.01, 100] (NaN or inf: 1). ``banned`` is
newline-separated phrases in the output tokenizer's text or, in Python, a list of id sequences; in a
tensor (one string per request), phrases that are empty, hold a word the output vocabulary lacks
(their [UNK] id) or are longer than ``max_length`` are ignored (none of them can be written), and
at most the first ``MAX_BANNED`` phrases are read.

References:
    - Keskar et al. (2019), CTRL: a conditional Transformer language model for controllable
      generation, section 4.1, https://arxiv.org/abs/1909.05858
    - Paulus, Xiong, Socher (2018), A deep reinforced model for abstractive summarization (n-gram
      blocking), https://arxiv.org/abs/1705.04304
"""

import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes.data import PAD_ID, UNKNOWN_ID
from seqrecipes.recipes.decoding._settings import _is_python, float_setting, int_setting, is_number

NEG_INF = float("-inf")

# The most banned phrases a tensor ``banned`` setting is read for (a request's own list, cut here).
MAX_BANNED = 256
# The range a tensor ``repetition_penalty`` is clamped into; Python values must lie in (0, 100].
REPETITION_PENALTY_RANGE = (0.01, 100.0)
# A row whose best logit is below this holds only never-generated ([PAD], [START]) or banned tokens.
DEAD_ROW = -1e8

DEFAULTS = {"min_length": 0, "no_repeat_ngram_size": 0, "repetition_penalty": 1.0, "banned": ""}


def control_settings(decoder, min_length=0, no_repeat_ngram_size=0, repetition_penalty=1.0, banned=""):
    """The checked (Python) or clamped (tensor) controls, a dict for ``apply_controls``; None when all are off."""
    limit = decoder.max_length
    settings = {
        "min_length": int_setting("min_length", min_length, low=0, high=limit, high_name="max_length"),
        "no_repeat_ngram_size": int_setting(
            "no_repeat_ngram_size", no_repeat_ngram_size, low=0, high=limit, high_name="max_length"
        ),
        "repetition_penalty": _repetition_penalty(repetition_penalty),
        "banned": banned_setting(decoder, banned),
    }
    off = all(_is_off(name, value) for name, value in settings.items())
    return None if off else settings


def _is_off(name, value):
    if name == "banned":
        return value is None
    return is_number(value) and value == DEFAULTS[name]


def _repetition_penalty(value):
    low, high = REPETITION_PENALTY_RANGE
    if _is_python(value):
        return float_setting("repetition_penalty", value, low=0.0, high=high, low_open=True)
    return float_setting("repetition_penalty", value, low=low, high=high)  # clamped into [low, high]


def banned_setting(decoder, banned):
    """``banned`` as (phrases (P, M) int32 padded with PAD, lengths (P,) int32), or None for no phrase.

    A Python string (newline-separated phrases) or list of strings is tokenized with the decoder's
    output tokenizer and checked: an empty phrase or one with a word the vocabulary lacks is a
    ValueError. A list of id sequences is checked for empty sequences and negative ids (and ids past
    the vocabulary when the decoder has a tokenizer). A scalar string tensor is tokenized in the
    graph, its unusable phrases dropped (module docstring).
    """
    if banned is None or (isinstance(banned, (str, bytes)) and not banned):
        return None
    if isinstance(banned, (str, bytes)) or (isinstance(banned, (list, tuple)) and banned and all(
            isinstance(p, (str, bytes)) for p in banned)):  # fmt: skip
        return _python_phrases(decoder, banned)
    if isinstance(banned, (list, tuple)):
        return _id_sequences(decoder, banned)
    if tf.is_tensor(banned) and banned.dtype == tf.string and banned.shape.rank in (0, None):
        return _tensor_phrases(decoder, banned)
    raise TypeError(
        "`banned` must be newline-separated phrases (a string), a list of phrases, a list of token id lists, "
        f"or a scalar string tensor. Received: banned={banned!r:.100}"
    )


def _tokenizer_or_none(decoder):
    """The decoder's output tokenizer, or None (no model, or a model built from vocabulary sizes alone)."""
    return None if decoder.model is None else decoder.model.tokenizers.get(decoder.output_role)


def _output_tokenizer(decoder):
    tokenizer = _tokenizer_or_none(decoder)
    if tokenizer is None:
        raise ValueError(
            "`banned` phrases need a decoder whose model has an output tokenizer; pass token id lists instead. "
            f"Received: a {type(decoder).__name__} without one"
        )
    return tokenizer


def _python_phrases(decoder, banned):
    if isinstance(banned, (str, bytes)):
        text = banned.decode("utf-8") if isinstance(banned, bytes) else banned
        phrases = text.split("\n")
    else:
        phrases = [p.decode("utf-8") if isinstance(p, bytes) else p for p in banned]
    tokenizer = _output_tokenizer(decoder)
    with tf.init_scope():  # the ids are read now, also when generate is traced in a tf.function
        ids = tokenizer.tokenize_ragged(tf.constant(phrases)).to_list()
    for i, (phrase, row) in enumerate(zip(phrases, ids)):
        if not row:
            raise ValueError(
                f"`banned` must hold no empty phrase; phrase {i} of {len(phrases)} has no token. Received: banned[{i}]={phrase!r}"
            )
        if UNKNOWN_ID in row:
            raise ValueError(
                f"`banned` phrase {i} has a token the output vocabulary lacks (it reads as [UNK], which would ban "
                f"every unknown word). Received: banned[{i}]={phrase!r} -> ids {row}"
            )
    return _dense(ids)


def _id_sequences(decoder, banned):
    tokenizer = _tokenizer_or_none(decoder)
    size = None if tokenizer is None else tokenizer.vocabulary_size()
    rows = []
    for i, row in enumerate(banned):
        ok = isinstance(row, (list, tuple, np.ndarray)) and len(row) > 0
        ok = ok and all(isinstance(t, (int, np.integer)) and not isinstance(t, bool) and t >= 0 for t in row)
        if not ok or (size is not None and max(row) >= size):
            bound = f"in [0, {size})" if size is not None else ">= 0"
            raise ValueError(
                f"`banned` must be a list of non-empty token id lists, ids {bound}. Received: banned[{i}]={row!r:.100}"
            )
        rows.append([int(t) for t in row])
    return _dense(rows)


def _dense(rows):
    """Id lists -> (phrases (P, M + 1) int32 with a PAD column at least, lengths (P,) int32)."""
    width = max(len(r) for r in rows) + 1
    phrases = np.zeros((len(rows), width), "int32")
    for i, row in enumerate(rows):
        phrases[i, : len(row)] = row
    return ops.convert_to_tensor(phrases), ops.convert_to_tensor(np.asarray([len(r) for r in rows], "int32"))


def _tensor_phrases(decoder, banned):
    tokenizer = _output_tokenizer(decoder)
    lines = tf.strings.split(tf.reshape(banned, [1]), "\n").values[:MAX_BANNED]  # (P0,)
    ids = tokenizer.tokenize_ragged(lines)  # (P0, None)
    lengths = tf.cast(ids.row_lengths(), tf.int32)
    unknown = tf.reduce_any(tf.equal(ids, UNKNOWN_ID), axis=1)
    keep = (lengths >= 1) & (lengths <= decoder.max_length) & tf.logical_not(unknown)
    ids = tf.ragged.boolean_mask(ids, keep)
    phrases = ids.to_tensor(default_value=PAD_ID)
    phrases = tf.concat([phrases, tf.zeros([tf.shape(phrases)[0], 1], tf.int32)], axis=1)  # never 0 columns
    return phrases, tf.boolean_mask(lengths, keep)


def apply_controls(logits, history, t, controls, end_id):
    """logits (R, V) float32, history (R, L) int32 (y_1 .. y_t in columns < t), t scalar int32 ->
    the controlled logits (R, V) (module docstring). ``controls`` from ``control_settings``."""
    if controls is None:
        return logits
    rows, vocabulary = ops.shape(logits)[0], ops.shape(logits)[1]
    position = ops.arange(ops.shape(history)[1], dtype="int32")  # (L,)
    emitted = ops.logical_and(position[None, :] < t, ops.not_equal(history, PAD_ID))  # (R, L)
    theta = controls["repetition_penalty"]
    if not _is_off("repetition_penalty", theta):
        seen = _tokens_at(history, emitted, rows, vocabulary)  # (R, V)
        penalised = ops.where(logits > 0, logits / theta, logits * theta)
        logits = ops.where(seen, penalised, logits)
    banned = ops.zeros((rows, vocabulary), "bool")
    n = controls["no_repeat_ngram_size"]
    if not _is_off("no_repeat_ngram_size", n):
        banned = ops.logical_or(banned, _repeated_ngram_ends(history, emitted, t, n, rows, vocabulary))
    if controls["banned"] is not None:
        banned = ops.logical_or(banned, _banned_sequence_ends(history, t, *controls["banned"], rows, vocabulary))
    is_end = ops.equal(ops.arange(vocabulary, dtype="int32"), end_id)  # (V,)
    m = controls["min_length"]
    if not _is_off("min_length", m):
        banned = ops.logical_or(banned, ops.logical_and(is_end, t < m)[None, :])
    logits = ops.where(banned, NEG_INF, logits)
    dead = ops.max(logits, axis=-1) < DEAD_ROW  # (R,): nothing left to write
    return ops.where(ops.logical_and(dead[:, None], is_end[None, :]), 0.0, logits)


def _tokens_at(ids, where, rows, vocabulary):
    """(R, V) bool: True at (r, ids[r, j]) for every j with where[r, j]; ids (R, J), where (R, J) bool."""
    row = ops.broadcast_to(ops.arange(rows, dtype="int32")[:, None], ops.shape(ids))
    indices = tf.reshape(tf.stack([row, tf.clip_by_value(ids, 0, vocabulary - 1)], axis=-1), [-1, 2])
    counts = tf.scatter_nd(indices, tf.reshape(tf.cast(where, tf.float32), [-1]), tf.stack([rows, vocabulary]))
    return counts > 0


def _repeated_ngram_ends(history, emitted, t, n, rows, vocabulary):
    """(R, V) bool: the tokens w with (y_{t-n+2} .. y_t, w) already an n-gram of the history."""
    length = ops.shape(history)[1]
    position = ops.arange(length, dtype="int32")  # j: where w stands in the history

    def body(k, same):  # the k-th token before j equals the k-th token before t
        before = ops.take(history, ops.clip(position - k, 0, length - 1), axis=1)  # (R, L): y at j - k
        current = ops.take(history, ops.clip(t - k, 0, length - 1), axis=1)  # (R,): y at t - k
        match = ops.logical_and(ops.equal(before, current[:, None]), (position - k >= 0)[None, :])
        return k + 1, ops.logical_and(same, ops.logical_and(match, t - k >= 0))

    def cond(k, same):  # k = 1 .. n - 1, and no further once no position matches (the usual case, early)
        return ops.logical_and(k < n, ops.any(same))

    same = ops.logical_and(emitted, n >= 1)  # (R, L)
    _, same = ops.while_loop(cond, body, (ops.convert_to_tensor(1, "int32"), same))
    return _tokens_at(history, same, rows, vocabulary)


def _banned_sequence_ends(history, t, phrases, lengths, rows, vocabulary):
    """(R, V) bool: the last token b_k of every banned sequence whose b_1 .. b_{k-1} ends the history."""
    length, width = ops.shape(history)[1], ops.shape(phrases)[1]
    k = ops.arange(1, width, dtype="int32")  # (M - 1,): how far back from the end
    prefix_index = lengths[:, None] - 1 - k[None, :]  # (P, M - 1): b_{len - k}
    prefix = tf.gather(phrases, ops.maximum(prefix_index, 0), axis=1, batch_dims=1)  # (P, M - 1)
    recent = ops.take(history, ops.clip(t - k, 0, length - 1), axis=1)  # (R, M - 1): y at t - k
    match = ops.logical_and(ops.equal(recent[:, None, :], prefix[None, :, :]), (t - k >= 0)[None, None, :])
    match = ops.all(ops.logical_or(match, (prefix_index < 0)[None, :, :]), axis=-1)  # (R, P)
    last = tf.gather(phrases, ops.maximum(lengths - 1, 0), axis=1, batch_dims=1)  # (P,)
    in_range = ops.logical_and(last < vocabulary, lengths >= 1)  # ids past the vocabulary ban nothing
    last = ops.broadcast_to(last[None, :], ops.shape(match))
    return _tokens_at(last, ops.logical_and(match, in_range[None, :]), rows, vocabulary)
