"""word2vec's training examples, made with TensorFlow ops in ``tf.data`` (Keras 3 has no ``skipgrams`` helper).

From sentences of token ids to batches of ``({"words": (B, C), "candidates": (B, 1 + k)}, labels (B, 1 + k))``
for ``recipes.word2vec``, as Mikolov et al. (2013) and the word2vec C tool make them:

1. Reserved ids (padding, ``[UNK]``, ``[START]``, ``[END]``) are dropped from each sentence (the C tool and
   gensim drop words outside the vocabulary the same way, before the windows are laid).
2. Subsampling of frequent words: with f_w = count_w / (total count) and t = ``subsample``, word w is kept
   with probability min(1, (sqrt(f_w / t) + 1) t / f_w) (the C tool's formula, which gensim uses too).
3. A dynamic window: each position draws b uniformly from 1..``window``; its contexts are the words at most b
   positions away in the same sentence (so near words count more, on average).
4. Skip-gram: one example per (centre w_t, context w_{t+j}) pair: ``words`` = [w_t] (C = 1), the positive
   candidate w_{t+j}. CBOW: one example per centre with at least one context: ``words`` = its contexts,
   padded with 0 (C = 2 ``window``), the positive candidate w_t.
5. Negative sampling: k ``negative_samples`` candidates per example drawn from the noise distribution
   P_n(w) = count_w^0.75 / sum_v count_v^0.75 (``noise_distribution``), by inverse-CDF search. Labels are 1
   for the positive, 0 for the negatives. (A negative equal to the positive is kept; the C tool skips it.)
"""

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_choice, check_positive_int, check_positive_number
from seqrecipes.data.vocabulary import RESERVED_TOKENS

ARCHITECTURES = ("skip_gram", "cbow")
NOISE_POWER = 0.75
_FIRST_WORD = len(RESERVED_TOKENS)  # ids below it are never words of a sentence here


def word_counts(sequences, vocabulary_size):
    """count_w of every id over a dataset of id sequences: an int64 array (V,), reserved ids counted as 0.

    Args:
        sequences: a ``tf.data.Dataset`` of id sequences (one per element, or batches, dense or ragged;
            padding is not counted), or a list of id lists.
        vocabulary_size: V.

    Returns:
        An int64 NumPy array (V,).

    Raises:
        ValueError: no word in ``sequences`` (an empty corpus), or an id outside [0, V).

    Example:
    >>> from seqrecipes import data
    >>> data.word_counts([[4, 5, 4], [6, 0]], 8).tolist()
    [0, 0, 0, 0, 2, 1, 1, 0]
    """
    vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
    if not isinstance(sequences, tf.data.Dataset):
        sequences = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(list(sequences), dtype=tf.int64)) if len(sequences) else None
    counts = np.zeros(vocabulary_size, np.int64)
    for ids in () if sequences is None else sequences.ragged_batch(4096):  # thousands of sequences a step
        ids = ids.flat_values if isinstance(ids, tf.RaggedTensor) else tf.reshape(ids, [-1])
        ids = tf.cast(ids, tf.int64).numpy()
        if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
            bad = ids[(ids < 0) | (ids >= vocabulary_size)][0]
            raise ValueError(f"`sequences` must hold ids in [0, {vocabulary_size}) (vocabulary_size). Received: id {bad}")
        counts += np.bincount(ids, minlength=vocabulary_size)
    counts[:_FIRST_WORD] = 0
    if not counts.any():
        raise ValueError(
            "`sequences` holds no word (an empty corpus, or only padding and reserved ids): word2vec needs text. "
            "Received: 0 words"
        )
    return counts


def _words_only(counts):
    """``counts`` as float64 (V,), the reserved ids set to 0 (they are never words of a sentence here)."""
    counts = np.array(counts, np.float64)
    counts[:_FIRST_WORD] = 0.0
    return counts


def _checked_counts(counts, negative_samples):
    counts = np.asarray(counts)
    if counts.ndim != 1 or counts.size <= _FIRST_WORD or not np.issubdtype(counts.dtype, np.number) or (counts < 0).any():
        raise ValueError(
            f"`counts` must be the word counts (V,) >= 0 of a vocabulary above {_FIRST_WORD} ids (``data.word_counts``). "
            f"Received: counts of shape {counts.shape}"
        )
    counts = _words_only(counts)
    words = int((counts > 0).sum())
    if words == 0:
        raise ValueError("`counts` holds no word (an empty corpus): word2vec needs text. Received: 0 words")
    if words <= negative_samples:
        raise ValueError(
            f"The vocabulary must hold more words than `negative_samples` ({negative_samples}), or the negatives "
            f"would repeat the only words there are. Received: {words} words with a count above 0"
        )
    return counts


def noise_distribution(counts, power=NOISE_POWER):
    """P_n(w) = count_w^power / sum_v count_v^power (V,) float64, 0 for the reserved ids.

    Example:
    >>> from seqrecipes import data
    >>> [round(p, 3) for p in data.noise_distribution([0, 0, 0, 0, 16, 1]).tolist()]
    [0.0, 0.0, 0.0, 0.0, 0.889, 0.111]
    """
    weights = _words_only(counts) ** power
    return weights / weights.sum()


def keep_probabilities(counts, subsample):
    """The subsampling keep probability of every id (V,) float64: min(1, (sqrt(f_w / t) + 1) t / f_w).

    ``subsample`` t = 0 keeps every word. Reserved ids get 0.

    Example:
    >>> from seqrecipes import data
    >>> [round(p, 3) for p in data.keep_probabilities([0, 0, 0, 0, 990, 10], 1e-2).tolist()]
    [0.0, 0.0, 0.0, 0.0, 0.111, 1.0]
    """
    counts = _words_only(counts)
    keep = np.zeros_like(counts)
    seen = counts > 0
    if not subsample:
        keep[seen] = 1.0
        return keep
    threshold = subsample * counts.sum()
    keep[seen] = np.minimum(1.0, (np.sqrt(counts[seen] / threshold) + 1.0) * threshold / counts[seen])
    return keep


def word2vec_batches(
    counts, *, architecture="skip_gram", window=5, negative_samples=5, subsample=1e-3, batch_size=1024,
    sentences_per_batch=1024, seed=None,
):  # fmt: skip
    """A ``dataset.apply`` step: sentences of ids -> word2vec's batches (see the module docstring).

    Args:
        counts: count_w (V,) of the training text, ``data.word_counts``: the noise distribution and the
            subsampling come from it.
        architecture: ``"skip_gram"`` or ``"cbow"``.
        window: the largest window (each position draws its own from 1..window).
        negative_samples: k, the noise words per example.
        subsample: t of the subsampling formula (0 turns it off); 1e-3 as gensim's default.
        batch_size: examples per batch (the last one may be smaller).
        sentences_per_batch: how many sentences are turned into examples at once.
        seed: the seed of the subsampling, window and noise draws (None: a new draw each run).

    Returns:
        A function ``dataset -> dataset`` for a dataset whose elements are 1-D id sequences (dense or
        ragged; a tokenizer's output); it yields ``({"words": (B, C) int32, "candidates": (B, 1 + k) int32},
        labels (B, 1 + k) float32)``, C = 1 for skip-gram and 2 ``window`` for CBOW.

    Raises:
        ValueError: a bad argument, empty ``counts``, or fewer words than ``negative_samples``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> sentences = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[4, 5, 6, 7], [5, 6]]))
    >>> counts = data.word_counts(sentences, 8)
    >>> words, labels = next(iter(sentences.apply(data.word2vec_batches(counts, window=1, negative_samples=2, subsample=0, seed=0))))
    >>> words["words"].shape.as_list(), words["candidates"].shape.as_list(), labels.numpy()[0].tolist()
    ([8, 1], [8, 3], [1.0, 0.0, 0.0])
    """
    architecture = check_choice("architecture", architecture, ARCHITECTURES)
    window = check_positive_int("window", window)
    negative_samples = check_positive_int("negative_samples", negative_samples)
    batch_size = check_positive_int("batch_size", batch_size)
    sentences_per_batch = check_positive_int("sentences_per_batch", sentences_per_batch)
    if subsample != 0:
        check_positive_number("subsample", subsample)
    counts = _checked_counts(counts, negative_samples)
    keep = tf.constant(keep_probabilities(counts, subsample), tf.float32)
    cdf = np.cumsum(noise_distribution(counts))
    cdf = tf.constant(cdf / cdf[-1], tf.float32)
    generator = tf.random.Generator.from_seed(seed) if seed is not None else tf.random.Generator.from_non_deterministic_state()
    offsets = tf.constant([j for j in range(-window, window + 1) if j], tf.int64)  # (2W,)

    def windows(ids):
        """(S, None) ids -> the flat kept words (N,) and their context grid (N, 2W) of flat indices and validity."""
        ids = tf.cast(ids, tf.int64)
        draws = generator.uniform(tf.shape(ids.flat_values), dtype=tf.float32)
        kept = (ids.flat_values >= _FIRST_WORD) & (draws < tf.gather(keep, tf.maximum(ids.flat_values, 0)))
        ids = tf.ragged.boolean_mask(ids, ids.with_flat_values(kept))
        flat, rows = ids.flat_values, ids.value_rowids()  # (N,)
        starts, lengths = tf.gather(ids.row_starts(), rows), tf.gather(ids.row_lengths(), rows)
        position = tf.range(tf.size(flat, tf.int64), dtype=tf.int64) - starts  # (N,)
        reach = generator.uniform(tf.shape(flat), 1, window + 1, dtype=tf.int64)  # b per position, (N,)
        context = position[:, None] + offsets[None, :]  # (N, 2W) positions in the sentence
        valid = (tf.abs(offsets)[None, :] <= reach[:, None]) & (context >= 0) & (context < lengths[:, None])
        return flat, starts[:, None] + tf.where(valid, context, 0), valid

    def examples(ids):
        flat, index, valid = windows(ids)
        if architecture == "skip_gram":
            centres = tf.broadcast_to(flat[:, None], tf.shape(index))
            words = tf.boolean_mask(tf.gather(flat, index), valid)[:, None]  # the context word in, as the C tool
            positives = tf.boolean_mask(centres, valid)
        else:
            words = tf.where(valid, tf.gather(flat, index), 0)  # (N, 2W) contexts, 0 where none
            has_context = tf.reduce_any(valid, axis=1)
            words, positives = tf.boolean_mask(words, has_context), tf.boolean_mask(flat, has_context)
        draws = generator.uniform([tf.size(positives) * negative_samples], dtype=tf.float32)
        negatives = tf.reshape(tf.searchsorted(cdf, draws, side="right", out_type=tf.int64), [-1, negative_samples])  # inverse CDF
        candidates = tf.concat([positives[:, None], tf.minimum(negatives, cdf.shape[0] - 1)], axis=1)  # (P, 1 + k)
        labels = tf.one_hot(tf.zeros_like(positives, tf.int32), negative_samples + 1, dtype=tf.float32)  # (P, 1 + k)
        return {"words": tf.cast(words, tf.int32), "candidates": tf.cast(candidates, tf.int32)}, labels

    def apply(dataset):
        sentences = dataset.map(lambda ids: tf.reshape(ids, [-1]) if isinstance(ids, tf.Tensor) else ids)
        return (
            sentences.ragged_batch(sentences_per_batch)
            .map(examples, num_parallel_calls=tf.data.AUTOTUNE)
            .rebatch(batch_size)
            .prefetch(tf.data.AUTOTUNE)
        )

    return apply
