"""N-gram counts of orders 1..N over token ids, in NumPy (seed 004, "Classical language model").

The counts behind the n-gram language model: ``count_ngrams`` pads every sentence as ARPA-based
tools do and counts every n-gram ``w_{i-n+1:i}`` that ends at a predicted token, for n = 1..N,
into an ``NGramCounts``. ``Estimator`` is what the estimators of p(w_i | w_{i-n+1:i-1}) share
(``_ngram_estimators.py``, ``_ngram_discounting.py``): scoring sentences from the probability of
whole n-grams.

Padding (``PADDINGS``): each sentence ``w_1 .. w_m`` becomes ``<s> w_1 .. w_m </s>``. The predicted
tokens are ``w_1 .. w_m`` and ``</s>`` (m + 1 of them); ``<s>`` ([START], id 2) is only ever a
history, never predicted, so no n-gram ends in it. ``</s>`` is [END] (id 3), ``<unk>`` is [UNK]
(id 1), counted like any word; [PAD] (id 0) is dropped from the input and never counted.

- ``"single"`` (the default; KenLM and SRILM, what an ARPA file means): one ``<s>``, so the first
  words have shorter histories: p(w_1 | <s>) is a bigram probability whatever N is, and no n-gram
  reaches past ``<s>``. In the (P, N) rows of ``padded_ngrams`` the missing history is filled with
  [PAD] (0) on the left: a row ``[0, <s>, w_1]`` asks for p(w_1 | <s>). Packed, a row with k leading
  zeros has the key of its last N-k ids, so it never matches an order-N key.
- ``"full"`` (NLTK's ``pad_both_ends``): N-1 ``<s>``, so the first word's history at order n is
  ``<s>`` x (n-1).

Storage: per order n a sorted int64 array of keys and an int64 array of counts ``#(w_{i-n+1:i})``.
A key packs the n ids in base ``vocabulary_size`` (V): ``key = sum_j w_j V^(n-1-j)``, so the key of
the history is ``key // V`` and the key of the last n-1 words ``key % V^(n-1)``; lookups are
``np.searchsorted``. V^N must fit in int64 (an error says so otherwise).
"""

import numpy as np

from seqrecipes._checks import check_choice, check_positive_int
from seqrecipes.data import END_ID, PAD_ID, START_ID

__all__ = ["MAX_ORDER", "PADDINGS", "Estimator", "NGramCounts", "history_sums", "as_sequences", "count_ngrams", "lookup", "pack", "padded_ngrams"]

MAX_ORDER = 10
PADDINGS = ("single", "full")
_INT64_MAX = 2**63 - 1
_SORTED_LOOKUP_MIN = 4096  # above this many queries, ``lookup`` sorts them first


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


def padded_ngrams(flat, lengths, order, padding="single"):
    """The (P, order) ids of the n-gram ending at every predicted token, sentences padded as above.

    Example:
    >>> padded_ngrams(np.array([4, 5]), np.array([2]), 3).tolist()
    [[0, 2, 4], [2, 4, 5], [4, 5, 3]]
    >>> padded_ngrams(np.array([4, 5]), np.array([2]), 3, padding="full")[0].tolist()
    [2, 2, 4]
    """
    sentences = len(lengths)
    sizes = lengths + order  # (order - 1) x <s>, the words, </s>
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    stream = np.full(int(sizes.sum()), START_ID, dtype=np.int64)
    sentence = np.repeat(np.arange(sentences), lengths)
    within = np.arange(flat.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    stream[starts[sentence] + order - 1 + within] = flat
    stream[starts + order - 1 + lengths] = END_ID
    if padding == "single":  # one <s>: the n-1 - 1 places before it are no history at all
        stream[(starts[:, None] + np.arange(order - 2)).reshape(-1)] = PAD_ID
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
        padding: how the sentences were padded, one of ``PADDINGS``.

    Example:
    >>> counts = count_ngrams([[4, 5]], order=2, vocabulary_size=6)
    >>> counts.count(np.array([[2, 4], [4, 4]])).tolist()
    [1, 0]
    >>> counts.words.tolist(), counts.num_words
    ([1, 3, 4, 5], 4)
    """

    def __init__(self, order, vocabulary_size, keys, counts, padding="single"):
        self.padding = padding
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
    if queries.size > _SORTED_LOOKUP_MIN:  # sorted queries walk the keys in cache order: ~4x faster searches
        order = np.argsort(queries, axis=None)
        index = np.empty(queries.size, dtype=np.int64)
        index[order] = np.searchsorted(keys, queries.reshape(-1)[order])
        index = index.reshape(queries.shape)
    else:
        index = np.searchsorted(keys, queries)
    index = np.minimum(index, keys.size - 1)
    return np.where(keys[index] == queries, values[index], 0)


def count_ngrams(sequences, order, vocabulary_size=None, padding="single", name="sequences"):
    """Counts every n-gram of orders 1..``order`` that ends at a predicted token of ``sequences``.

    Args:
        sequences: token ids, a list of 1-D integer arrays, a 2-D array padded with 0 or a
            ``tf.RaggedTensor`` (``as_sequences``); without [START], with at most a final [END].
        order: N, 1 <= N <= ``MAX_ORDER``.
        vocabulary_size: the ids' range V; by default the largest id + 1 (at least 4).
        padding: ``"single"`` (one ``<s>``, as KenLM and SRILM) or ``"full"`` (N-1 ``<s>``, as
            NLTK); see the module docstring.
        name: the argument's name in errors.

    Returns:
        An ``NGramCounts``. Every sentence ends with one ``</s>``; ``<s>`` is never counted as a
        predicted word, and with ``"single"`` no n-gram reaches past it.

    Example:
    >>> counts = count_ngrams([[4, 5], [4]], order=2)
    >>> counts.count(np.array([[4], [3]])).tolist(), counts.count(np.array([[2, 4], [4, 3]])).tolist()
    ([2, 2], [2, 1])
    """
    order = check_positive_int("order", order)
    check_choice("padding", padding, PADDINGS)
    if order > MAX_ORDER:
        _fail("order", order, f"an integer in [1, {MAX_ORDER}]")
    if vocabulary_size is not None:
        vocabulary_size = check_positive_int("vocabulary_size", vocabulary_size)
        if vocabulary_size < 4:
            _fail("vocabulary_size", vocabulary_size, "at least 4 (the reserved ids 0-3)")
    flat, lengths = as_sequences(sequences, vocabulary_size, name=name)
    if flat.size == 0:
        _fail(name, sequences, "a corpus with at least one token (not counting padding)")
    if flat.size + lengths.size < order:
        raise ValueError(
            f"`{name}` must hold at least `order` predicted tokens (the words and one </s> per sentence). "
            f"Received: {flat.size + lengths.size} predicted tokens, order={order}"
        )
    if vocabulary_size is None:
        vocabulary_size = max(int(flat.max()) + 1, 4)
    if vocabulary_size**order > _INT64_MAX:
        raise ValueError(
            f"`order` with `vocabulary_size` must pack into int64 keys (vocabulary_size**order < 2**63). "
            f"Received: order={order}, vocabulary_size={vocabulary_size}"
        )
    ngrams = padded_ngrams(flat, lengths, order, padding)
    keys, counts = [], []
    for n in range(1, order + 1):
        rows = ngrams[:, order - n :]
        rows = rows[rows[:, 0] != PAD_ID]  # single padding: the n-grams that reach past <s> are not n-grams
        unique, count = np.unique(pack(rows, vocabulary_size), return_counts=True)
        keys.append(unique)
        counts.append(count.astype(np.int64))
    return NGramCounts(order, vocabulary_size, keys, counts, padding)


def history_sums(keys, values, vocabulary_size):
    """The sorted history keys ``keys // V`` and, per history, the sum of each array in ``values``."""
    history = keys // vocabulary_size
    unique, first = np.unique(history, return_index=True)
    return unique, [np.add.reduceat(value, first) for value in values]


class Estimator:
    """What every estimator shares: scoring sentences from ``probability`` of full n-grams."""

    def __init__(self, counts):
        if not isinstance(counts, NGramCounts):
            raise ValueError(f"`counts` must be an NGramCounts (from count_ngrams). Received: counts={counts!r:.200}")
        self.counts = counts
        self.order = counts.order
        self._history_totals = {}

    def probability(self, ngrams):
        """p(w_i | w_{i-N+1:i-1}) of each row of ``ngrams`` (M, N): the history, then the word."""
        raise NotImplementedError

    def _histories(self, n):
        """(sorted history keys, their counts #(w_{i-n+1:i-1})) of order n, summed once on first use."""
        if n not in self._history_totals:
            keys, counts = self.counts.keys[n - 1], self.counts.counts[n - 1]
            histories, (totals,) = history_sums(keys, [counts], self.counts.vocabulary_size)
            self._history_totals[n] = histories, totals
        return self._history_totals[n]

    def _own_order_counts(self, ngrams):
        """(#(w_{i-n+1:i}), #(w_{i-n+1:i-1})) of each row of ``ngrams`` (M, N) at its own order n: N,
        or fewer where single padding left [PAD] fillers in front (the words after ``<s>``)."""
        size = self.counts.vocabulary_size
        orders = self.order - np.argmax(ngrams != PAD_ID, axis=1)  # (M,): N minus the leading fillers
        keys = pack(ngrams, size)  # the fillers are zeros: the key of the row's own n-gram
        count, total = np.zeros(len(ngrams), np.int64), np.zeros(len(ngrams), np.int64)
        for n in np.unique(orders):
            rows = orders == n
            count[rows] = lookup(self.counts.keys[n - 1], self.counts.counts[n - 1], keys[rows])
            total[rows] = lookup(*self._histories(n), keys[rows] // size)
        return count, total

    def distribution(self, history):
        """p(w | history) for every w of V (``counts.words``), for a history of N-1 ids."""
        history = np.asarray(history, dtype=np.int64).reshape(1, -1)
        if history.shape[1] != self.order - 1:
            raise ValueError(
                f"`history` must hold order - 1 = {self.order - 1} ids. Received: history={history.ravel().tolist()}"
            )
        words = self.counts.words
        return self.probability(np.concatenate([np.repeat(history, words.size, axis=0), words[:, None]], axis=1))

    def _token_log_probs(self, sequences):
        """(log p of every predicted token of ``sequences``, flat; each sentence's length)."""
        flat, lengths = as_sequences(sequences, self.counts.vocabulary_size)
        if np.any(lengths == 0):
            raise ValueError(
                f"`sequences` must not hold empty sentences to score. Received: empty sentences at "
                f"{np.flatnonzero(lengths == 0)[:10].tolist()}"
            )
        with np.errstate(divide="ignore"):
            return np.log(self.probability(padded_ngrams(flat, lengths, self.order, self.counts.padding))), lengths

    def log_prob(self, sequences):
        """``(sentence, tokens)``: log P of each sentence and of each of its predicted tokens (natural log).

        Each sentence of ``sequences`` (as ``count_ngrams`` takes them) is padded as the counts were
        (one ``<s>`` or N-1, and one ``</s>``); ``tokens[b]`` holds len + 1 values, the last for ``</s>``. A zero probability
        gives -inf, never NaN.
        """
        tokens, lengths = self._token_log_probs(sequences)
        splits = np.cumsum(lengths + 1)[:-1]
        sentence = np.add.reduceat(tokens, np.concatenate([[0], splits]))
        return sentence, np.split(tokens, splits)

    def perplexity(self, sequences):
        """exp(-(1 / T) sum_t log p(w_t | h_t)) over the T predicted tokens (``</s>`` counted, ``<s>`` not).

        inf when a token has probability 0 (``MaximumLikelihood``; ``KatzBackOff`` after a history
        whose followers were all seen more than k times, so nothing was discounted for the others).
        """
        tokens, _ = self._token_log_probs(sequences)  # flat: no split per sentence to join again
        with np.errstate(over="ignore"):
            return float(np.exp(-tokens.mean()))
