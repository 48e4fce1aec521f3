"""BERT's masking step for a masked language model, as ``dataset.apply`` steps of TensorFlow ops.

Of the word ids of each sequence (ids >= 4 other than ``[MASK]``; padding, the reserved ids and
``[MASK]`` itself are never chosen), each is selected with probability ``rate`` (BERT: 15%), and at
least one per non-empty sequence, so that every batch has something to predict. A selected id becomes
``[MASK]`` with probability ``mask_rate`` (80%), a random word id (drawn uniformly from the ordinary ids
4 .. V-1 other than ``[MASK]``) with probability ``random_rate`` (10%), and stays as it is otherwise (10%).
The targets hold the original id at the selected positions and 0 elsewhere, so a loss that ignores
class 0 learns from the selected positions only.

keras-hub's ``MaskedLMMaskGenerator`` makes the same choice, but it draws its random replacements from
every id of the vocabulary, reserved ones included (a ``[PAD]`` inside a sentence would then be masked
out of attention), returns the chosen positions as ragged tensors for a gathering head, and needs
TensorFlow Text at training time; these 30 lines of core ops do not.
"""

import tensorflow as tf

from seqrecipes._checks import check_positive_int, check_rate
from seqrecipes.data.padding import batch_with_padding
from seqrecipes.data.transforms import tokenize
from seqrecipes.data.vocabulary import PAD_ID, RESERVED_TOKENS

MASK_SELECTION_RATE = 0.15


def mask_tokens(mask_id, vocabulary_size, rate=MASK_SELECTION_RATE, mask_rate=0.8, random_rate=0.1, seed=None):
    """A ``dataset.apply`` step on batches of ids (B, T), padded with 0: -> (masked ids (B, T), targets (B, T)).

    Args:
        mask_id: the ``[MASK]`` id (``tokenizer.mask_id``, after ``tokenizer.add_mask_token()``).
        vocabulary_size: V, the tokenizer's ``vocabulary_size()``.
        rate: the share of word ids selected.
        mask_rate: of the selected, the share replaced by ``[MASK]``.
        random_rate: of the selected, the share replaced by a random word; the rest stay.
        seed: the seed of the draws (None: new draws each run).

    Returns:
        A function ``dataset -> dataset``; elements that are tuples keep only their first part (the ids).

    Raises:
        ValueError: ``mask_id`` is not an id of the vocabulary, bad rates, or a vocabulary with no word
            besides ``[MASK]``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ids = tf.data.Dataset.from_tensors(tf.constant([[4, 5, 6, 7, 0, 0]]))
    >>> masked, targets = next(iter(ids.apply(data.mask_tokens(mask_id=9, vocabulary_size=10, rate=0.5, seed=0))))
    >>> bool(tf.reduce_all((targets == 0) | (targets == ids.get_single_element())))
    True
    """
    vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
    first = len(RESERVED_TOKENS)
    if isinstance(mask_id, bool) or not isinstance(mask_id, int) or not first <= mask_id < vocabulary_size:
        raise ValueError(
            f"`mask_id` must be the [MASK] id, in [{first}, vocabulary_size={vocabulary_size}) (call "
            f"tokenizer.add_mask_token() and pass tokenizer.mask_id). Received: mask_id={mask_id!r}"
        )
    if vocabulary_size - first < 2:
        raise ValueError(f"The vocabulary needs a word besides [MASK]. Received: vocabulary_size={vocabulary_size}")
    for name, value in (("rate", rate), ("mask_rate", mask_rate), ("random_rate", random_rate)):
        check_rate(name, value)
    if mask_rate + random_rate > 1:
        raise ValueError(f"`mask_rate` + `random_rate` must be at most 1. Received: mask_rate={mask_rate}, random_rate={random_rate}")
    generator = tf.random.Generator.from_seed(seed) if seed is not None else tf.random.Generator.from_non_deterministic_state()

    def mask(ids, *rest):
        ids = tf.cast(ids, tf.int32)
        selectable = (ids >= first) & (ids != mask_id)
        scores = tf.where(selectable, generator.uniform(tf.shape(ids)), 2.0)  # (B, T)
        lowest = tf.equal(scores, tf.reduce_min(scores, axis=1, keepdims=True)) & selectable  # one per row at least
        selected = selectable & ((scores < rate) | lowest)
        choice = generator.uniform(tf.shape(ids))
        words = generator.uniform(tf.shape(ids), first, vocabulary_size - 1, dtype=tf.int32)  # V - 5 words
        words = tf.where(words >= mask_id, words + 1, words)  # skip [MASK]
        replaced = tf.where(choice < mask_rate, mask_id, tf.where(choice < mask_rate + random_rate, words, ids))
        return tf.where(selected, replaced, ids), tf.where(selected, ids, PAD_ID)

    return lambda dataset: dataset.map(mask, num_parallel_calls=tf.data.AUTOTUNE)


def masked_lm_batches(tokenizer, batch_size, max_length, seed=None, **rates):
    """Strings -> a masked language model's batches: tokenize, cut to ``max_length``, pad, mask.

    Args:
        tokenizer: a tokenizer with a ``[MASK]`` token (``tokenizer.add_mask_token()``).
        batch_size: sentences per batch.
        max_length: the longest sequence kept (the model's ``max_length``); batches are padded to
            multiples of 16 (few shapes for XLA), never beyond ``max_length``.
        seed: as ``mask_tokens``.
        **rates: ``rate``, ``mask_rate``, ``random_rate`` of ``mask_tokens``.

    Returns:
        A function ``dataset -> dataset`` of (masked ids (B, T) int32, targets (B, T) int32), T <= ``max_length``.

    Raises:
        ValueError: the tokenizer has no ``[MASK]`` token.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> tokenizer = data.WordTokenizer(vocabulary=["the", "cat", "sat"]).add_mask_token()
    >>> lines = tf.data.Dataset.from_tensor_slices(["the cat sat", "the cat"])
    >>> masked, targets = next(iter(lines.apply(data.masked_lm_batches(tokenizer, batch_size=2, max_length=8, seed=0))))
    >>> masked.shape.as_list(), int(tf.reduce_sum(tf.cast(targets > 0, tf.int32))) >= 2  # one or more per sentence
    ([2, 8], True)
    """
    if tokenizer.mask_id is None:
        raise ValueError("The tokenizer has no [MASK] token: call tokenizer.add_mask_token() first. Received: tokenizer.mask_id=None")
    max_length = check_positive_int("max_length", max_length)

    def apply(dataset):
        ids = dataset.apply(tokenize(tokenizer)).map(lambda x: x[:max_length])
        batches = ids.apply(batch_with_padding(batch_size, pad_to_multiple_of=16)).map(lambda x: x[:, :max_length])
        return batches.apply(mask_tokens(tokenizer.mask_id, tokenizer.vocabulary_size(), seed=seed, **rates))

    return apply
