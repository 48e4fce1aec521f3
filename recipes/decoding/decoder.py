"""The ``Decoder`` contract: what a search needs from a generating model.

A generating recipe gives its model a ``Decoder`` (``RecipeModel.decoder``): ``encode`` turns a
batch of inputs into a decoding state once, ``step`` turns the previous token and the state into
next-token logits and the next state. The searches of this package (``greedy.py``, ``sampling.py``,
``beam.py``, one entry point in ``generation.py``) only call those two (and ``alignments`` for the
coverage penalty), so the same loops serve RNN decoders (the state holds the recurrent states and
the encoder memory) and Transformer decoders (the state holds the key/value caches), run inside
``tf.function`` and export in a SavedModel.
"""

import numpy as np
import tensorflow as tf
from keras import ops

from seqrecipes.data import END_ID, PAD_ID, START_ID


# Ids no output contains after its first position: a decoder step never proposes them.
NEVER_GENERATED = (PAD_ID, START_ID)


def ban_never_generated(logits):
    """Step logits (B, V) with [PAD] and [START] pushed to -1e9 (the other logits unchanged).

    Targets never contain those ids (padding is ignored by the loss), but a little-trained model can
    still rank them first; a search that emitted [PAD] mid-sequence would then feed the decoder a
    token the teacher-forced model masks out, and cut the output there.

    Example:
    >>> import numpy as np
    >>> from seqrecipes.recipes.decoding import ban_never_generated
    >>> ban_never_generated(np.zeros((1, 5), "float32")).numpy().tolist()
    [[-1000000000.0, 0.0, -1000000000.0, 0.0, 0.0]]
    """
    vocabulary = logits.shape[-1]
    banned = np.zeros((vocabulary,), "float32")
    banned[list(NEVER_GENERATED)] = -1e9
    return logits + ops.cast(banned, logits.dtype)


class Decoder:
    """What a search needs from a generating model.

    Subclasses implement ``encode`` and ``step``; the state is any nest of tensors whose first axis
    is the batch, with shapes that do not change from step to step (so beam search can tile and
    reorder it and ``while_loop`` can carry it). Every recipe's ``step`` passes its logits through
    ``ban_never_generated``, so no search emits [PAD] or [START].

    Args:
        model: the ``RecipeModel``.
        max_length: the longest output the model may produce (its position limit, or the
            recipe's ``max_output_length``).
        start_id, end_id: the ids that start and end an output sequence.

    Example:
    >>> import numpy as np
    >>> from keras import ops
    >>> from seqrecipes import recipes
    >>> class Counting(recipes.Decoder):  # writes 4, 5, 6, ... for n steps of an input n, then [END] (3)
    ...     def encode(self, inputs):
    ...         return {"n": ops.cast(inputs, "int32")}
    ...     def step(self, token_ids, state, index):
    ...         token = ops.where(index < state["n"], 4 + index, self.end_id)
    ...         return ops.one_hot(token, 10) * 5.0, state
    >>> ids, lengths = recipes.greedy_search(Counting(model=None, max_length=5), np.array([2, 3]))
    >>> ids.numpy().tolist(), lengths.numpy().tolist()
    ([[4, 5, 3, 0, 0], [4, 5, 6, 3, 0]], [2, 3])
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
        """Output ids (..., L) -> strings (...), cut at the end token, with the output tokenizer:
        (B, L) -> (B,), and the n-best ids (B, N, L) of ``generate`` -> (B, N)."""
        ids = tf.convert_to_tensor(ids)
        shape = tf.shape(ids)
        text = self.model.tokenizer(self.output_role).detokenize(tf.reshape(ids, [-1, shape[-1]]))
        return tf.reshape(text, shape[:-1])



def sequence_lengths(ids, end_id=END_ID):
    """The number of ids before the first ``end_id`` or padding in each row of ids (B, L).

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> recipes.sequence_lengths(np.array([[4, 5, 3, 0], [4, 0, 0, 0], [4, 5, 6, 7]])).numpy().tolist()
    [2, 1, 4]
    """
    stop = ops.logical_or(ops.equal(ids, end_id), ops.equal(ids, PAD_ID))
    # Cumulative "stopped yet" flags; the count of not-yet-stopped positions is the length.
    stopped = ops.cumsum(ops.cast(stop, "int32"), axis=1) > 0
    return ops.sum(ops.cast(ops.logical_not(stopped), "int32"), axis=1)

