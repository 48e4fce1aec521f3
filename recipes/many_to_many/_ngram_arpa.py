"""N-gram models in back-off form, what an ARPA file holds: from any estimator, to and from ARPA text.

A back-off model stores, per order n, some n-grams g = (h, w) with log p(w | h), and per stored
(n-1)-gram h a back-off weight log b(h). It scores a word after a history by the ARPA rule:

    log p(w | h) = log p*(h, w)                     if (h, w) is stored
                 = log b(h) + log p(w | h')         otherwise (log b(h) = 0 if h is not stored)

down to the unigrams, which hold every id (``BackOffTables``). That is what KenLM and SRILM read,
and what the ``NGramTable`` layer computes in the graph. Each estimator of ``_ngram_estimators.py``
and ``_ngram_discounting.py`` is such a model exactly (``from_estimator``): the interpolating ones
(Kneser-Ney, Katz, linear interpolation) store every n-gram seen, with b(h) the mass their
interpolation leaves to the lower order; maximum likelihood and additive smoothing use the top
order only, so they store order N (and, after a single ``<s>``, the shorter n-grams that start at
it) over a constant unigram level (0 and 1 / d). Logs are natural here and log10 in ARPA files; a
log10 value <= -99 reads as -inf (log p = -inf writes as -99, ARPA's value for ``<s>``).
"""

import math

import numpy as np

from seqrecipes.data import END_ID, PAD_ID, START_ID, UNKNOWN_ID
from seqrecipes.recipes.many_to_many._ngram import lookup, pack
from seqrecipes.recipes.many_to_many._ngram_estimators import AdditiveSmoothing, MaximumLikelihood

__all__ = ["ARPA_RESERVED", "BackOffTables", "from_estimator", "read_arpa", "unpack", "write_arpa"]

# The words ARPA files give the reserved ids (no n-gram holds [PAD]).
ARPA_RESERVED = {UNKNOWN_ID: "<unk>", START_ID: "<s>", END_ID: "</s>"}
_LOG10 = math.log(10.0)
_NEVER = -99.0  # the log10 an ARPA file writes for a probability of 0


def unpack(keys, n, vocabulary_size):
    """The (M, n) ids of packed n-gram keys (M,), ``pack``'s inverse.

    Example:
    >>> unpack(np.array([24, 45]), 2, 10).tolist()
    [[2, 4], [4, 5]]
    """
    ids = np.empty((len(keys), n), dtype=np.int64)
    keys = np.asarray(keys, dtype=np.int64).copy()
    for column in range(n - 1, -1, -1):
        ids[:, column] = keys % vocabulary_size
        keys //= vocabulary_size
    return ids


class BackOffTables:
    """A back-off n-gram model: per order n = 1..N, sorted packed keys, log p and log b (natural logs).

    Order 1 is dense: ``keys[0]`` is every id 0..V-1 (log p = -inf for [PAD] and ``<s>``, which are
    never predicted). Order N has no back-off weights (zeros). Keys pack ids in base V as in
    ``_ngram.py``.

    Args:
        order: N.
        vocabulary_size: V.
        keys, log_probs, log_backoffs: lists of N arrays (int64, float64, float64), order n at n - 1.

    Example:
    >>> from seqrecipes.recipes.many_to_many._ngram import count_ngrams
    >>> from seqrecipes.recipes.many_to_many._ngram_estimators import KneserNey
    >>> estimator = KneserNey(count_ngrams([[4, 5, 4], [4, 4], [5]], order=2))
    >>> tables = from_estimator(estimator)
    >>> rows = np.array([[2, 4], [4, 5], [5, 5]])
    >>> bool(np.allclose(tables.log_prob(rows), np.log(estimator.probability(rows))))
    True
    """

    def __init__(self, order, vocabulary_size, keys, log_probs, log_backoffs):
        self.order = order
        self.vocabulary_size = vocabulary_size
        self.keys = keys
        self.log_probs = log_probs
        self.log_backoffs = log_backoffs

    @property
    def sizes(self):
        """The number of stored n-grams of orders 2..N (order 1 holds every id)."""
        return [int(k.size) for k in self.keys[1:]]

    def log_prob(self, ngrams):
        """log p(w | h) of each row (M, m) of ids (history, then the word; m <= N), by the back-off rule.

        Leading [PAD] ids are no history (single padding: ``[0, <s>, w]`` asks for p(w | <s>)).
        """
        ngrams = np.asarray(ngrams, dtype=np.int64)
        width, size = ngrams.shape[1], self.vocabulary_size
        result, backoff = np.zeros(len(ngrams)), np.zeros(len(ngrams))
        done = np.zeros(len(ngrams), bool)
        for n in range(width, 1, -1):
            rows = ngrams[:, width - n :]
            valid = rows[:, 0] != PAD_ID
            keys = pack(rows, size)
            found, value = _find(self.keys[n - 1], self.log_probs[n - 1], keys)
            hit = ~done & valid & found
            result[hit] = backoff[hit] + value[hit]
            done |= hit
            context = keys // size  # its own order is n - 1
            if n - 1 == 1:
                context_found, weight = np.ones(len(keys), bool), self.log_backoffs[0][context]
            else:
                context_found, weight = _find(self.keys[n - 2], self.log_backoffs[n - 2], context)
            add = ~done & valid & context_found
            backoff[add] += weight[add]
        last = ~done
        result[last] = backoff[last] + self.log_probs[0][ngrams[last, -1]]
        return result


def _find(keys, values, queries):
    """(found, values at the queries' positions) in the sorted ``keys``."""
    if keys.size == 0:
        return np.zeros(queries.shape, bool), np.zeros(queries.shape)
    index = np.minimum(np.searchsorted(keys, queries), keys.size - 1)
    return keys[index] == queries, values[index]


def _top_order_only(estimator):
    return isinstance(estimator, (MaximumLikelihood, AdditiveSmoothing))


def _estimator_log_prob(estimator, keys, n):
    """The estimator's log p of the order-n n-grams ``keys`` at their own order (fillers in front)."""
    ids = unpack(keys, n, estimator.counts.vocabulary_size)
    rows = np.concatenate([np.zeros((len(ids), estimator.order - n), np.int64), ids], axis=1)
    with np.errstate(divide="ignore"):
        return np.log(estimator.probability(rows))


def from_estimator(estimator):
    """The ``BackOffTables`` of an estimator: the same log p(w | h) for every history and word of V.

    The n-grams stored per order are the estimator's own (every n-gram seen; for the top-order-only
    estimators order N and the n-grams that start at ``<s>``) and the histories of the order above,
    stored with the value the back-off rule gives them anyway. Each history h's weight is
    b(h) = (1 - sum_w p(w | h)) / (1 - sum_w p(w | h')) over the words w stored after it (1 for a
    history with none), so that the back-off rule gives the estimator's probability for the others.
    """
    counts, order = estimator.counts, estimator.order
    size = counts.vocabulary_size
    top_only = _top_order_only(estimator)
    words = counts.words
    unigram = np.full(size, -np.inf)
    if order == 1 or not top_only:
        unigram[words] = _estimator_log_prob(estimator, words, 1)
    elif isinstance(estimator, AdditiveSmoothing):  # an unseen history of order N: uniform
        unigram[words] = -math.log(counts.num_words)
    real = [None] + [counts.keys[n - 1] for n in range(2, order + 1)]  # the n-grams with the estimator's value
    if top_only:
        real[1:-1] = [keys[keys // size ** (n - 1) == START_ID] for n, keys in enumerate(real[1:-1], start=2)]
    stored = list(real)
    for n in range(order - 1, 1, -1):  # each order also stores the histories of the order above
        stored[n - 1] = np.union1d(real[n - 1], np.unique(stored[n] // size))
    tables = BackOffTables(order, size, [np.arange(size, dtype=np.int64)], [unigram], [np.zeros(size)])
    for n in range(2, order + 1):
        keys = stored[n - 1]
        is_real = np.isin(keys, real[n - 1], assume_unique=True)
        log_probs = np.empty(keys.size)
        log_probs[is_real] = _estimator_log_prob(estimator, keys[is_real], n)
        # The weights of the order n - 1 histories, from their real followers.
        followers, lower = keys[is_real], tables.log_prob(unpack(keys[is_real] % size ** (n - 1), n - 1, size))
        histories, first = np.unique(followers // size, return_index=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            left = 1.0 - np.add.reduceat(np.exp(log_probs[is_real]), first) if first.size else np.zeros(0)
            lower_left = 1.0 - np.add.reduceat(np.exp(lower), first) if first.size else np.zeros(0)
            weights = np.where(left > 0, np.log(np.maximum(left, 1e-300)) - np.log(np.maximum(lower_left, 1e-300)), -np.inf)
        weights = np.where(lower_left > 0, weights, 0.0)  # every word of V seen after h: nothing to back off to
        previous = tables.log_backoffs[n - 2]
        if n - 1 == 1:
            previous[histories] = weights
        else:
            previous[:] = lookup(histories, weights, tables.keys[n - 2])
        inserted = keys[~is_real]  # a history stored for its weight: the back-off rule's value
        if inserted.size:
            weight = previous[inserted // size] if n - 1 == 1 else lookup(tables.keys[n - 2], previous, inserted // size)
            log_probs[~is_real] = weight + tables.log_prob(unpack(inserted % size ** (n - 1), n - 1, size))
        log_probs[~is_real & (keys % size == START_ID)] = -np.inf  # <s> is never predicted
        tables.keys.append(keys)
        tables.log_probs.append(log_probs)
        tables.log_backoffs.append(np.zeros(keys.size))
    return tables


def write_arpa(tables, words, path):
    """Writes ``tables`` as an ARPA file, ``words[i]`` the text of id i (reserved ids as ``ARPA_RESERVED``).

    log10 values with 8 significant digits; -inf as -99; weights of 0 left out.

    Raises:
        ValueError: a word holds whitespace or is empty (ARPA separates words by whitespace), or
            is one of ``<s>``, ``</s>``, ``<unk>`` at another id.
    """
    size = tables.vocabulary_size
    names = [ARPA_RESERVED.get(i, str(w)) for i, w in enumerate(words)]
    for i, name in enumerate(names[1:], start=1):
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"`words` must be tokens without whitespace to write ARPA. Received: words[{i}]={name!r}")
        if i not in ARPA_RESERVED and name in ARPA_RESERVED.values():
            raise ValueError(f"`words` must not hold the ARPA word {name!r} at an ordinary id. Received: words[{i}]={name!r}")
    unigrams = np.arange(1, size)  # every id but [PAD]
    entries = [(unigrams, tables.log_probs[0][1:], tables.log_backoffs[0][1:])]
    entries += [(k, p, b) for k, p, b in zip(tables.keys[1:], tables.log_probs[1:], tables.log_backoffs[1:])]
    with open(path, "w", encoding="utf-8") as file:
        file.write("\\data\\\n" + "".join(f"ngram {n}={len(e[0])}\n" for n, e in enumerate(entries, start=1)))
        for n, (keys, log_probs, log_backoffs) in enumerate(entries, start=1):
            file.write(f"\n\\{n}-grams:\n")
            ids = unpack(keys, n, size) if n > 1 else keys[:, None]
            probability = np.maximum(log_probs / _LOG10, _NEVER)
            backoff = np.maximum(log_backoffs / _LOG10, _NEVER)
            for row, p, b in zip(ids, probability, backoff):
                gram = " ".join(names[i] for i in row)
                file.write(f"{p:.8g}\t{gram}\t{b:.8g}\n" if b != 0 and n < len(entries) else f"{p:.8g}\t{gram}\n")
        file.write("\n\\end\\\n")


class _Lines:
    """An ARPA file's lines with their numbers, for errors that name the line."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as file:
            self.raw = file.read().split(b"\n")
        self.index = 0

    def fail(self, expected, number=None):
        number = self.index if number is None else number
        shown = self.raw[number - 1][:80] if 0 < number <= len(self.raw) else b"(end of file)"
        raise ValueError(f"`path` must be an ARPA file: {self.path}, line {number}: {expected}. Received: {shown!r}")

    def next(self):
        """The next line as text (stripped), or None at the end of the file."""
        if self.index >= len(self.raw):
            return None
        self.index += 1
        try:
            return self.raw[self.index - 1].decode("utf-8").strip()
        except UnicodeDecodeError:
            self.fail("UTF-8 text")

    def next_content(self):
        line = self.next()
        while line == "":
            line = self.next()
        return line


def read_arpa(path):
    """Reads an ARPA file: ``(tables, words)``, ``words[i]`` the text of id i.

    Ids: 0 is [PAD], ``<unk>`` 1, ``<s>`` 2, ``</s>`` 3, then the other unigrams in the file's order.
    A file without ``<unk>`` gets it with log10 p = -100 (an unknown word then scores, very low).

    Raises:
        ValueError: the file is not ARPA text (not UTF-8, no ``\\data\\`` header, a count or an
            entry that is malformed, an n-gram of unknown words, a repeated n-gram, fewer entries
            than the header announces, no ``\\end\\``); the error names the line.
    """
    lines = _Lines(path)
    line = lines.next_content()
    if line != "\\data\\":
        lines.fail("a first line \\data\\")
    sizes = []
    line = lines.next_content()
    while line is not None and line.startswith("ngram "):
        head, _, value = line[len("ngram ") :].partition("=")
        if not (head.strip().isdigit() and value.strip().isdigit() and int(head) == len(sizes) + 1):
            lines.fail(f"'ngram {len(sizes) + 1}=<count>'")
        sizes.append(int(value))
        line = lines.next_content()
    if not sizes or sizes[0] == 0:
        lines.fail("'ngram 1=<count>' with at least one unigram")
    order, grams = len(sizes), []
    for n in range(1, order + 1):
        if line != f"\\{n}-grams:":
            lines.fail(f"the section \\{n}-grams:")
        entries = []
        for _ in range(sizes[n - 1]):
            line = lines.next_content()
            fields = line.split() if line is not None else []
            if line is None or line.startswith("\\") or len(fields) not in (n + 1, n + 2):
                lines.fail(f"{sizes[n - 1]} {n}-gram entries 'log10p w_1 .. w_{n} [log10b]' ({len(entries)} read)")
            try:
                numbers = [float(fields[0])] + ([float(fields[-1])] if len(fields) == n + 2 else [0.0])
            except ValueError:
                lines.fail("numbers in the first and last fields")
            if not all(math.isfinite(x) for x in numbers):
                lines.fail("finite log10 values")
            entries.append((tuple(fields[1 : n + 1]), numbers[0], numbers[1], lines.index))
        grams.append(entries)
        line = lines.next_content()
    if line != "\\end\\":
        lines.fail("\\end\\ after the last section")
    return _tables(grams, lines)


def _tables(grams, lines):
    words = ["[PAD]", "<unk>", "<s>", "</s>"]
    ids = {"<unk>": UNKNOWN_ID, "<s>": START_ID, "</s>": END_ID}
    for (word,), _, _, number in grams[0]:
        if word not in ids:
            ids[word] = len(words)
            words.append(word)
    size, order = len(words), len(grams)
    if size**order > 2**63 - 1:
        lines.fail(f"an order and vocabulary that pack into int64 (V**N < 2**63; V={size}, N={order})", number=1)
    unigram_p, unigram_b = np.full(size, -np.inf), np.zeros(size)
    unigram_p[UNKNOWN_ID] = -100.0 * _LOG10
    keys, log_probs, log_backoffs = [np.arange(size, dtype=np.int64)], [unigram_p], [unigram_b]
    for n, entries in enumerate(grams, start=1):
        rows = np.empty((len(entries), n), np.int64)
        for i, (gram, _, _, number) in enumerate(entries):
            if any(w not in ids for w in gram):
                lines.fail(f"words of the \\1-grams: section (not {[w for w in gram if w not in ids]})", number)
            rows[i] = [ids[w] for w in gram]
        p = np.array([e[1] for e in entries]) * _LOG10
        b = np.array([e[2] for e in entries]) * _LOG10
        p[p <= _NEVER * _LOG10] = -np.inf
        b[b <= _NEVER * _LOG10] = -np.inf
        packed = pack(rows, size)
        order_of = np.argsort(packed, kind="stable")
        repeated = np.flatnonzero(np.diff(packed[order_of]) == 0)
        if repeated.size:
            lines.fail(f"each {n}-gram once", entries[order_of[repeated[0] + 1]][3])
        if n == 1:
            unigram_p[rows[:, 0]], unigram_b[rows[:, 0]] = p, b
        else:
            keys.append(packed[order_of])
            log_probs.append(p[order_of])
            log_backoffs.append(b[order_of] if n < order else np.zeros(len(entries)))
    return BackOffTables(order, size, keys, log_probs, log_backoffs), words
