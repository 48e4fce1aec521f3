"""N-gram counts of orders 1..N over token ids, in NumPy (seed 004, "Classical language model").

The counts behind the n-gram language model: ``count_ngrams`` pads every sentence as ARPA-based
tools do and counts every n-gram ``w_{i-n+1:i}`` that ends at a predicted token, for n = 1..N,
into an ``NGramCounts``. The estimators of p(w_i | w_{i-n+1:i-1}) are in ``_ngram_estimators.py``.

Padding: each sentence ``w_1 .. w_m`` becomes ``<s>`` x (N-1), ``w_1 .. w_m``, ``</s>``. The
predicted tokens are ``w_1 .. w_m`` and ``</s>`` (m + 1 of them); ``<s>`` ([START], id 2) is only
ever a history, never predicted, so no n-gram ends in it. ``</s>`` is [END] (id 3), ``<unk>`` is
[UNK] (id 1), counted like any word; [PAD] (id 0) is dropped from the input and never counted.
With N-1 ``<s>`` in front, the first word's history at order n is ``<s>`` x (n-1) (as NLTK's
``pad_both_ends``); KenLM and SRILM put one ``<s>`` and shorten the first words' histories.

Storage: per order n a sorted int64 array of keys and an int64 array of counts ``#(w_{i-n+1:i})``.
A key packs the n ids in base ``vocabulary_size`` (V): ``key = sum_j w_j V^(n-1-j)``, so the key of
the history is ``key // V`` and the key of the last n-1 words ``key % V^(n-1)``; lookups are
``np.searchsorted``. V^N must fit in int64 (an error says so otherwise).
"""

import numpy as np

from seqrecipes._checks import check_positive_int
from seqrecipes.data import END_ID, PAD_ID, START_ID

__all__ = ["MAX_ORDER", "NGramCounts", "as_sequences", "count_ngrams", "lookup", "pack", "padded_ngrams"]

MAX_ORDER = 10
_INT64_MAX = 2**63 - 1


def _fail(name, value, expected):
    raise ValueError(f"`{name}` must be {expected}. Received: {name}={value!r:.200}")


def as_sequences(sequences, vocabulary_size=None, name="sequences"):
    """``(flat, lengths)``: the token ids of ``sequences`` as one int64 array and each sentence's length.

    ``sequences`` is a list of 1-D integer arrays or lists, a 2-D integer array (rows padded with
    0) or a ``tf.RaggedTensor``; [PAD] ids (0) are dropped. Ids must be integers in
    [0, vocabulary_size) other than [START] (2); [END] (3) may only come as a sentence's last id
    (it is then dropped, since the padding adds it).

    Example:
    >>> flat, lengths = as_sequences([[4, 5, 0], [6, 3]])
    >>> flat.tolist(), lengths.tolist()
    ([4, 5, 6], [2, 1])
    """
    if hasattr(sequences, "flat_values") and hasattr(sequences, "row_lengths"):  # a tf.RaggedTensor
        rows = np.split(np.asarray(sequences.flat_values), np.cumsum(np.asarray(sequences.row_lengths()))[:-1])
    elif isinstance(sequences, np.ndarray) and sequences.ndim == 2:
        rows = list(sequences)
    elif isinstance(sequences, (list, tuple)) or (isinstance(sequences, np.ndarray) and sequences.ndim == 1):
        rows = [np.asarray(row) for row in sequences]
    else:
        _fail(name, sequences, "a list of 1-D integer id arrays, a 2-D id array or a tf.RaggedTensor")
    if len(rows) == 0:
        _fail(name, sequences, "a non-empty collection of sentences")
    if any(np.ndim(row) != 1 for row in rows):
        _fail(name, sequences, "sentences that are 1-D sequences of ids")
    lengths = np.array([len(row) for row in rows], dtype=np.int64)
    nonempty = [np.asarray(row).reshape(-1) for row in rows if len(row)]
    flat = np.concatenate(nonempty) if nonempty else np.zeros(0, np.int64)
    if not np.issubdtype(flat.dtype, np.integer):  # floats, bools and strings are not ids
        _fail(name, sequences, f"integer token ids, not {flat.dtype}")
    flat = flat.astype(np.int64)
    if flat.size and flat.min() < 0:
        _fail(name, sequences, f"ids >= 0, found {int(flat.min())}")
    if vocabulary_size is not None and flat.size and flat.max() >= vocabulary_size:
        _fail(name, sequences, f"ids < vocabulary_size={vocabulary_size}, found {int(flat.max())}")
    if np.any(flat == START_ID):
        _fail(name, sequences, f"ids without [START] ({START_ID}); the padding adds <s>")
    sentence = np.repeat(np.arange(len(rows)), lengths)
    keep = flat != PAD_ID
    flat, lengths = flat[keep], np.bincount(sentence[keep], minlength=len(rows)).astype(np.int64)
    ends = np.flatnonzero(flat == END_ID)
    last = np.cumsum(lengths) - 1
    if not np.all(np.isin(ends, last[lengths > 0])):
        _fail(name, sequences, f"[END] ({END_ID}) only as a sentence's last id")
    with_end = np.zeros(len(rows), dtype=np.int64)
    with_end[np.searchsorted(last, ends)] = 1  # the sentence whose last id each [END] is
    keep = np.ones(flat.size, dtype=bool)
    keep[ends] = False
    return flat[keep], lengths - with_end


def padded_ngrams(flat, lengths, order):
    """The (P, order) ids of the n-gram ending at every predicted token, sentences padded as above.

    Example:
    >>> padded_ngrams(np.array([4, 5]), np.array([2]), 2).tolist()
    [[2, 4], [4, 5], [5, 3]]
    """
    sentences = len(lengths)
    sizes = lengths + order  # (order - 1) x <s>, the words, </s>
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    stream = np.full(int(sizes.sum()), START_ID, dtype=np.int64)
    sentence = np.repeat(np.arange(sentences), lengths)
    within = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    stream[starts[sentence] + order - 1 + within] = flat
    stream[starts + order - 1 + lengths] = END_ID
    predicted = np.ones(stream.size, dtype=bool)
    predicted[(starts[:, None] + np.arange(order - 1)).reshape(-1)] = False
    positions = np.flatnonzero(predicted)
    return stream[positions[:, None] + np.arange(1 - order, 1)]  # (P, order)


def pack(ids, vocabulary_size):
    """The int64 keys of the rows of ``ids`` (M, n): ``sum_j ids[:, j] V^(n-1-j)``.

    Example:
    >>> pack(np.array([[2, 4], [4, 5]]), 10).tolist()
    [24, 45]
    """
    keys = np.zeros(len(ids), dtype=np.int64)
    for column in range(ids.shape[1]):
        keys = keys * vocabulary_size + ids[:, column]
    return keys


class NGramCounts:
    """The counts ``#(w_{i-n+1:i})`` of orders n = 1..N, as sorted packed keys and counts.

    Made by ``count_ngrams``. ``keys[n - 1]`` and ``counts[n - 1]`` hold order n. The words that
    are predicted, the vocabulary V of the estimators, are every id in [0, vocabulary_size) except
    [PAD] (0) and [START] (2): ``<unk>`` (1), ``</s>`` (3) and the tokenizer's words, so
    |V| = vocabulary_size - 2 (the seed's d).

    Args:
        order: N, the highest order.
        vocabulary_size: V, the ids' range (the tokenizer's vocabulary size, reserved ids included).
        keys: per order, the sorted unique packed keys (int64).
        counts: per order, the count of each key (int64).

    Example:
    >>> counts = count_ngrams([[4, 5]], order=2, vocabulary_size=6)
    >>> counts.count(np.array([[2, 4], [4, 4]])).tolist()
    [1, 0]
    >>> counts.words.tolist(), counts.num_words
    ([1, 3, 4, 5], 4)
    """

    def __init__(self, order, vocabulary_size, keys, counts):
        self.order = order
        self.vocabulary_size = vocabulary_size
        self.keys = keys
        self.counts = counts

    @property
    def words(self):
        """The ids of V, the words that can be predicted: all but [PAD] and [START]."""
        ids = np.arange(self.vocabulary_size)
        return ids[(ids != PAD_ID) & (ids != START_ID)]

    @property
    def num_words(self):
        """|V| = vocabulary_size - 2."""
        return self.vocabulary_size - 2

    def count(self, ngrams):
        """``#(w_{i-n+1:i})`` of each row of ``ngrams`` (M, n), 0 for an n-gram never seen."""
        return lookup(self.keys[ngrams.shape[1] - 1], self.counts[ngrams.shape[1] - 1], pack(ngrams, self.vocabulary_size))


def lookup(keys, values, queries):
    """``values`` at the positions of ``queries`` in the sorted ``keys``; 0 where a query is absent.

    Example:
    >>> lookup(np.array([3, 7]), np.array([10, 20]), np.array([7, 5, 3])).tolist()
    [20, 0, 10]
    """
    if keys.size == 0:
        return np.zeros(queries.shape, dtype=values.dtype)
    index = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return np.where(keys[index] == queries, values[index], 0)


def count_ngrams(sequences, order, vocabulary_size=None):
    """Counts every n-gram of orders 1..``order`` that ends at a predicted token of ``sequences``.

    Args:
        sequences: token ids, a list of 1-D integer arrays, a 2-D array padded with 0 or a
            ``tf.RaggedTensor`` (``as_sequences``); without [START], with at most a final [END].
        order: N, 1 <= N <= ``MAX_ORDER``.
        vocabulary_size: the ids' range V; by default the largest id + 1 (at least 4).

    Returns:
        An ``NGramCounts``. Sentences are padded with N-1 ``<s>`` in front and one ``</s>`` at
        the end; ``<s>`` is never counted as a predicted word.

    Example:
    >>> counts = count_ngrams([[4, 5], [4]], order=2)
    >>> counts.count(np.array([[4], [3]])).tolist(), counts.count(np.array([[2, 4], [4, 3]])).tolist()
    ([2, 2], [2, 1])
    """
    order = check_positive_int("order", order)
    if order > MAX_ORDER:
        _fail("order", order, f"an integer in [1, {MAX_ORDER}]")
    if vocabulary_size is not None:
        vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        if vocabulary_size < 4:
            _fail("vocabulary_size", vocabulary_size, "at least 4 (the reserved ids 0-3)")
    flat, lengths = as_sequences(sequences, vocabulary_size)
    if flat.size == 0:
        _fail("sequences", sequences, "a corpus with at least one token (not counting padding)")
    if flat.size + lengths.size < order:
        raise ValueError(
            f"`sequences` must hold at least `order` predicted tokens (the words and one </s> per sentence). "
            f"Received: {flat.size + lengths.size} predicted tokens, order={order}"
        )
    if vocabulary_size is None:
        vocabulary_size = max(int(flat.max()) + 1, 4)
    if vocabulary_size**order > _INT64_MAX:
        raise ValueError(
            f"`order` with `vocabulary_size` must pack into int64 keys (vocabulary_size**order < 2**63). "
            f"Received: order={order}, vocabulary_size={vocabulary_size}"
        )
    ngrams = padded_ngrams(flat, lengths, order)
    keys, counts = [], []
    for n in range(1, order + 1):
        unique, count = np.unique(pack(ngrams[:, order - n :], vocabulary_size), return_counts=True)
        keys.append(unique)
        counts.append(count.astype(np.int64))
    return NGramCounts(order, vocabulary_size, keys, counts)
