"""Prompts of the language models: ``[START]`` + a prompt's ids, cut to a bounded length, in the graph."""

import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data import PAD_ID, START_ID
from seqrecipes.recipes._components import LENGTH_LIMIT

__all__ = ["MAX_PROMPT_LENGTH", "prompt_ids"]

# The most ids of a prompt the decoder reads: the last MAX_PROMPT_LENGTH of [START] + tokens, so that
# one request's cost is bounded (a 10^6-token prompt would be 10^6 recurrent steps).
MAX_PROMPT_LENGTH = LENGTH_LIMIT


def prompt_ids(tokenizer, strings, max_length=MAX_PROMPT_LENGTH):
    """Prompts -> (B, L) int32: ``[START]`` + each prompt's ids, padded with 0 on the right (L >= 1).

    Core TensorFlow ops only (it runs inside the export). A prompt whose ``[START]`` + ids are
    more than ``max_length`` (default ``MAX_PROMPT_LENGTH``, 4096) is cut to its last ``max_length``
    ids: the beginning, ``[START]`` first, is dropped, and the continuation follows the prompt's end.

    Args:
        tokenizer: the model's text tokenizer.
        strings: prompts, a 1-D batch of strings.
        max_length: the most ids kept per prompt, a positive integer.

    Returns:
        (B, L) int32 ids, L = min(the longest prompt + 1, ``max_length``).

    Raises:
        ValueError: ``max_length`` is not a positive integer.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> recipes.prompt_ids(tokenizer, ["ab", ""]).numpy().tolist()
    [[2, 4, 5], [2, 0, 0]]
    >>> recipes.prompt_ids(tokenizer, ["abcab", "c"], max_length=3).numpy().tolist()
    [[6, 4, 5], [2, 6, 0]]
    """
    check_positive_int("max_length", max_length)
    ids = tokenizer.tokenize_ragged(strings)  # (B, tokens)
    start = tf.RaggedTensor.from_tensor(tf.fill([ids.nrows(), 1], tf.constant(START_ID, tf.int32)))
    ids = tf.concat([start, ids], axis=1)[:, -max_length:]  # (B, <= max_length): the last ids
    return ids.to_tensor(default_value=PAD_ID)
