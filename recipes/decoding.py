"""Decoding inside one graph: the ``Decoder`` contract and greedy search as a keras.ops.while_loop.

A generating recipe gives its model a ``Decoder`` (``RecipeModel.decoder``): ``encode`` turns a
batch of inputs into a decoding state once, ``step`` turns the previous token and the state into
next-token logits and the next state. The search functions here only call those two, so the same
loop serves RNN decoders (the state holds the recurrent states and the encoder memory) and
Transformer decoders (the state holds the key/value caches), runs inside ``tf.function`` and
exports in a SavedModel. Sampling and beam search build on the same contract.
"""

import keras
from keras import ops

from seqrecipes.data import END_ID, PAD_ID, START_ID


class Decoder:
    """What a search needs from a generating model.

    Subclasses implement ``encode`` and ``step``; the state is any nest of tensors whose first axis
    is the batch, with shapes that do not change from step to step (so beam search can tile and
    reorder it and ``while_loop`` can carry it).

    Args:
        model: the ``RecipeModel``.
        max_length: the longest output the model may produce (its position limit, or the
            recipe's ``max_output_length``).
        start_id, end_id: the ids that start and end an output sequence.
    """

    def __init__(self, model, max_length, start_id=START_ID, end_id=END_ID):
        self.model = model
        self.max_length = int(max_length)
        self.start_id = int(start_id)
        self.end_id = int(end_id)

    def encode(self, inputs):
        """inputs (a batch, as the model's encoder takes it) -> the initial decoding state."""
        raise NotImplementedError

    def step(self, token_ids, state, index):
        """token_ids (B,) int32, the state, index (scalar int32, 0-based output position) ->
        (logits (B, V), next state)."""
        raise NotImplementedError

    def alignments(self, state):
        """The attention weights of the step that made ``state``, for the coverage penalty:
        (alpha (B, S), mask (B, S) bool, True at real source positions), or None for a decoder
        without attention (the default)."""
        return None

    # The role of the tokenizer that turns output ids back into text.
    output_role = "target"

    def inputs_from_raw(self, raw):
        """The export's raw input (strings (B,), or images for a captioner) -> the batch ``encode``
        takes, cut to the model's limits by the recipe's documented rule. Core TensorFlow ops only:
        it runs inside the exported graph."""
        raise NotImplementedError

    def detokenize(self, ids):
        """Output ids (B, L) -> strings (B,), cut at the end token, with the output tokenizer."""
        return self.model.tokenizer(self.output_role).detokenize(ids)


def check_max_length(max_length, limit):
    """``max_length`` if it is a positive integer not over ``limit``; a ValueError otherwise."""
    if max_length is None:
        return limit
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= limit:
        raise ValueError(f"`max_length` must be an integer in [1, {limit}] (the model's limit). Received: max_length={max_length!r}")
    return max_length


def greedy_search(decoder, inputs, max_length=None):
    """Greedy decoding in one graph: at each step the most probable next token.

    The loop stops when every sequence has produced ``decoder.end_id`` or after ``max_length``
    steps; positions after a sequence's end token hold ``PAD_ID`` (0).

    Args:
        decoder: a ``Decoder``.
        inputs: the batch ``decoder.encode`` takes.
        max_length: at most ``decoder.max_length``; defaults to it.

    Returns:
        (ids, lengths): ids (B, max_length) int32, the end token included where produced; lengths
        (B,) int32, the number of ids before the end token.

    Example:
    >>> from seqrecipes import recipes  # doctest: +SKIP
    >>> ids, lengths = recipes.greedy_search(model.decoder, source_ids)  # doctest: +SKIP
    """
    max_length = check_max_length(max_length, decoder.max_length)
    state = decoder.encode(inputs)
    batch = ops.shape(keras.tree.flatten(state)[0])[0]
    ids = ops.zeros((batch, max_length), "int32")
    token = ops.full((batch,), decoder.start_id, "int32")
    finished = ops.zeros((batch,), "bool")
    positions = ops.arange(max_length, dtype="int32")

    def cond(t, token, finished, ids, state):
        return ops.logical_and(t < max_length, ops.logical_not(ops.all(finished)))

    def body(t, token, finished, ids, state):
        logits, state = decoder.step(token, state, t)
        next_token = ops.cast(ops.argmax(logits, axis=-1), "int32")
        next_token = ops.where(finished, ops.full_like(next_token, PAD_ID), next_token)
        at_t = ops.cast(ops.equal(positions, t), "int32")[None, :]  # (1, L)
        ids = ids + at_t * next_token[:, None]  # (B, L): write column t
        finished = ops.logical_or(finished, ops.equal(next_token, decoder.end_id))
        return t + 1, next_token, finished, ids, state

    t0 = ops.convert_to_tensor(0, "int32")
    _, _, _, ids, _ = ops.while_loop(cond, body, (t0, token, finished, ids, state), maximum_iterations=max_length)
    return ids, sequence_lengths(ids, decoder.end_id)


def sequence_lengths(ids, end_id=END_ID):
    """The number of ids before the first ``end_id`` or padding in each row of ids (B, L)."""
    stop = ops.logical_or(ops.equal(ids, end_id), ops.equal(ids, PAD_ID))
    # Cumulative "stopped yet" flags; the count of not-yet-stopped positions is the length.
    stopped = ops.cumsum(ops.cast(stop, "int32"), axis=1) > 0
    return ops.sum(ops.cast(ops.logical_not(stopped), "int32"), axis=1)


def generation_serving(model):
    """The serving function of every generating recipe: raw inputs (B,) -> {"outputs": strings (B,)}.

    ``decoder.inputs_from_raw`` makes the decoder's inputs, greedy search decodes them in the
    graph, ``decoder.detokenize`` writes the text.
    """
    decoder = model.decoder
    model.tokenizer(decoder.output_role)  # a clear error now if the output tokenizer is missing

    def serve(raw):
        ids, _ = greedy_search(decoder, decoder.inputs_from_raw(raw))
        return {"outputs": decoder.detokenize(ids)}

    return serve
