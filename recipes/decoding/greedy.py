"""Greedy search: at each step the most probable next token."""

from seqrecipes.recipes.decoding._loop import argmax, token_loop
from seqrecipes.recipes.decoding._settings import check_max_length
from seqrecipes.recipes.decoding.controls import control_settings
from seqrecipes.recipes.decoding.decoder import sequence_lengths


def greedy_search(decoder, inputs, max_length=None, **controls):
    """Greedy decoding in one graph: at each step the most probable next token.

    The loop stops when every sequence has produced ``decoder.end_id`` or after ``max_length``
    steps; positions after a sequence's end token hold ``PAD_ID`` (0).

    Args:
        decoder: a ``Decoder``.
        inputs: the batch ``decoder.encode`` takes.
        max_length: at most ``decoder.max_length``; defaults to it.
        **controls: ``min_length``, ``no_repeat_ngram_size``, ``repetition_penalty``, ``banned``
            (``decoding.controls``; defaults: off).

    Returns:
        (ids, lengths): ids (B, max_length) int32, the end token included where produced; lengths
        (B,) int32, the number of ids before the end token.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> model = recipes.seq2seq(source_vocabulary_size=10, target_vocabulary_size=10, units=8, embedding_dim=4)
    >>> ids, lengths = recipes.greedy_search(model.decoder, np.array([[4, 5, 6], [7, 8, 0]], "int32"))
    >>> tuple(ids.shape), tuple(lengths.shape)
    ((2, 32), (2,))
    """
    max_length = check_max_length(max_length, decoder.max_length)
    controls = control_settings(decoder, **controls)
    ids, _ = token_loop(decoder, decoder.encode(inputs), max_length, max_length, argmax, controls)
    return ids, sequence_lengths(ids, decoder.end_id)

