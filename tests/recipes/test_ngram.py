"""N-gram counts and estimators (issue 13, part F): ``recipes/many_to_many/_ngram*.py``.

Every probability is checked against a plain-Python reference written here (dict counts, the
textbook formulas of seed 004 and of Chen and Goodman 1998), the padding rules by hand, the
vectorised counts against a dict count of a 100k-token corpus, and bad input through ``CASES``.
"""

import collections
import itertools
import math

import numpy as np
import pytest
import tensorflow as tf

from bad_input import expect_clear, params, raises

from seqrecipes.recipes.many_to_many._ngram import count_ngrams
from seqrecipes.recipes.many_to_many._ngram_estimators import AdditiveSmoothing, KatzBackOff, KneserNey, LinearInterpolation, MaximumLikelihood

FULL = "full"  # N-1 <s>: the textbook padding of the references below (single padding has its own tests)

pytestmark = pytest.mark.filterwarnings("ignore:.*out of range:UserWarning")  # tiny corpora; tested once below

START, END, UNK = 2, 3, 1
VOCABULARY_SIZE = 9  # V = {1, 3, 4, ..., 8}: d = 7


def _corpus(seed=0, sentences=40, vocabulary_size=VOCABULARY_SIZE):
    rng = np.random.default_rng(seed)
    words = [UNK] + list(range(4, vocabulary_size))
    weights = np.arange(len(words), 0, -1) ** 2.0  # skewed, so that counts 1, 2, 3 and 4 all occur
    return [list(rng.choice(words, size=rng.integers(0, 9), p=weights / weights.sum())) for _ in range(sentences)]


# ------------------------------------------------------------------------------------------------
# The plain-Python reference.


def _padded(sentence, order, padding):
    return [START] * (order - 1 if padding == FULL else 1) + [int(w) for w in sentence] + [END]


def _reference_counts(corpus, order, padding=FULL):
    """{n: Counter of n-gram tuples}, each sentence padded with order-1 <s> (full) or one (single) and one </s>;
    with single padding no n-gram reaches past <s>."""
    counts = {n: collections.Counter() for n in range(1, order + 1)}
    for sentence in corpus:
        padded = _padded(sentence, order, padding)
        first = order - 1 if padding == FULL else 1
        for i in range(first, len(padded)):
            for n in range(1, min(order, i + 1) + 1):
                counts[n][tuple(padded[i - n + 1 : i + 1])] += 1
    return counts


def _vocabulary(vocabulary_size):
    return [w for w in range(vocabulary_size) if w not in (0, START)]


class Reference:
    """MLE, additive and interpolated modified Kneser-Ney, one n-gram at a time, from dict counts."""

    def __init__(self, corpus, order, vocabulary_size, padding=FULL):
        self.order, self.words = order, _vocabulary(vocabulary_size)
        self.raw = _reference_counts(corpus, order, padding)
        self.kn = {order: dict(self.raw[order])}
        for n in range(1, order):  # N1+(. g): distinct words before g in the order n+1 counts
            self.kn[n] = dict(collections.Counter(g[1:] for g in self.raw[n + 1]))
            if padding != FULL:  # single padding: an n-gram starting at <s> keeps its count (KenLM)
                self.kn[n].update({g: c for g, c in self.raw[n].items() if g[0] == START})
        self.discounts = {n: self._discounts(list(self.kn[n].values())) for n in self.kn}

    @staticmethod
    def _discounts(values):
        n1, n2, n3, n4 = [sum(1 for v in values if v == r) for r in (1, 2, 3, 4)]
        if n1 and n2 and n3:
            y = n1 / (n1 + 2 * n2)
            d = [1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3]
            if all(0 < d_r <= r for r, d_r in zip((1, 2, 3), d)):
                return d
        return [0.5, 1.0, 1.5]  # KenLM's --discount_fallback

    def _total(self, table, history):
        return sum(table.get(history + (w,), 0) for w in self.words)

    def mle(self, history, word):  # at the history's own order (shorter after a single <s>)
        table = self.raw[len(history) + 1]
        total = self._total(table, history)
        return table.get(history + (word,), 0) / total if total else 0.0

    def additive(self, history, word, alpha):
        table = self.raw[len(history) + 1]
        total = self._total(table, history)
        return (table.get(history + (word,), 0) + alpha) / (total + alpha * len(self.words))

    def kneser_ney(self, history, word, n=None):
        n = self.order if n is None else n
        if n == 0:
            return 1.0 / len(self.words)
        lower = self.kneser_ney(history, word, n - 1)
        history = history[len(history) - (n - 1) :] if n > 1 else ()  # a shorter one (after <s>) is never seen here
        table, d = self.kn[n], self.discounts[n]
        followers = [table.get(history + (w,), 0) for w in self.words]
        total = sum(followers)
        if total == 0:
            return lower
        discount = lambda c: 0.0 if c == 0 else d[min(c, 3) - 1]  # noqa: E731
        gamma = sum(discount(c) for c in followers) / total
        c = table.get(history + (word,), 0)
        return max(c - discount(c), 0.0) / total + gamma * lower


# ------------------------------------------------------------------------------------------------
# Counts and padding.


def test_padding_rules():
    counts = count_ngrams([[4, 5]], order=3, vocabulary_size=6, padding=FULL)
    assert counts.count(np.array([[2, 2, 4], [2, 4, 5], [4, 5, 3]])).tolist() == [1, 1, 1]
    assert counts.counts[2].sum() == 3  # one trigram per predicted token: 4, 5 and </s>
    assert counts.count(np.array([[2], [3], [4], [5]])).tolist() == [0, 1, 1, 1]  # <s> is never predicted
    assert counts.count(np.array([[2, 4], [4, 5], [5, 3]])).tolist() == [1, 1, 1]
    same = [[[4, 5, 0, 0]], np.array([[4, 5, 0]]), [[4, 5, 3]], tf.ragged.constant([[4, 5]])]
    for sequences in same:  # [PAD] dropped, a final [END] dropped, a ragged tensor read
        other = count_ngrams(sequences, order=3, vocabulary_size=6, padding=FULL)
        for n in range(3):
            np.testing.assert_array_equal(other.keys[n], counts.keys[n])
            np.testing.assert_array_equal(other.counts[n], counts.counts[n])


def test_an_empty_sentence_counts_its_end():
    counts = count_ngrams([[4], []], order=2, vocabulary_size=5)
    assert counts.count(np.array([[2, 3], [2, 4], [4, 3]])).tolist() == [1, 1, 1]


def _unpack(counts, n):
    ids = []
    keys = counts.keys[n - 1].copy()
    for _ in range(n):
        ids.append(keys % counts.vocabulary_size)
        keys //= counts.vocabulary_size
    return [tuple(int(x) for x in row) for row in np.stack(ids[::-1], axis=1)]


def test_vectorised_counts_match_the_dict_reference_on_100k_tokens():
    rng = np.random.default_rng(1)
    lengths = rng.integers(0, 40, size=5000)
    flat = rng.integers(3, 60, size=int(lengths.sum()))
    flat[flat == 3] = UNK
    corpus = np.split(flat, np.cumsum(lengths)[:-1])
    assert flat.size > 95_000
    counts = count_ngrams(corpus, order=3, vocabulary_size=60, padding=FULL)
    reference = _reference_counts(corpus, 3)
    for n in (1, 2, 3):
        assert dict(zip(_unpack(counts, n), counts.counts[n - 1].tolist())) == dict(reference[n])


# ------------------------------------------------------------------------------------------------
# Estimators against the reference.


def _estimator(name, counts):
    return {
        "mle": lambda: MaximumLikelihood(counts),
        "laplace": lambda: AdditiveSmoothing(counts, alpha=1.0),
        "add_k": lambda: AdditiveSmoothing(counts, alpha=0.25),
        "kneser_ney": lambda: KneserNey(counts),
    }[name]()


def _reference_probability(reference, name, history, word):
    if name == "mle":
        return reference.mle(history, word)
    if name == "kneser_ney":
        return reference.kneser_ney(history, word)
    return reference.additive(history, word, 1.0 if name == "laplace" else 0.25)


ESTIMATORS = ("mle", "laplace", "add_k", "kneser_ney")
HISTORY_IDS = (START, UNK, 4, 5, 8)  # <s>, <unk>, frequent and rare words


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_probabilities_match_the_reference(name, order):
    corpus = _corpus()
    reference = Reference(corpus, order, VOCABULARY_SIZE)
    model = _estimator(name, count_ngrams(corpus, order, vocabulary_size=VOCABULARY_SIZE, padding=FULL))
    histories = list(itertools.product(HISTORY_IDS, repeat=order - 1))
    rows = [h + (w,) for h in histories for w in reference.words]
    expected = [_reference_probability(reference, name, row[:-1], row[-1]) for row in rows]
    np.testing.assert_allclose(model.probability(np.array(rows)), expected, rtol=0, atol=1e-12)


def test_discounts_are_chen_and_goodman_s_or_kenlm_s_fallback():
    reference = Reference(_corpus(), 3, VOCABULARY_SIZE)
    with pytest.warns(UserWarning, match="out of range for the 2-grams"):  # this corpus's bigram D2 < 0
        model = KneserNey(count_ngrams(_corpus(), 3, vocabulary_size=VOCABULARY_SIZE, padding=FULL))
    top = model.discounts[2]
    assert top.tolist() != [0.5, 1.0, 1.5] and np.all((0 < top) & (top <= [1, 2, 3]))
    np.testing.assert_allclose(top, reference.discounts[3], atol=1e-12)
    assert model.discounts[1].tolist() == [0.5, 1.0, 1.5] == reference.discounts[2]


@pytest.mark.parametrize("name", ["laplace", "add_k", "kneser_ney", "mle"])
def test_every_distribution_sums_to_one(name):
    counts = count_ngrams(_corpus(), 3, vocabulary_size=VOCABULARY_SIZE, padding=FULL)
    model = _estimator(name, counts)
    seen = {tuple(int(x) for x in row) for row in _unpack_histories(counts)}
    for history in itertools.product((START, UNK, 4, 6, 8, END), repeat=2):
        total = model.distribution(list(history)).sum()
        if name == "mle" and history not in seen:
            assert total == 0.0  # MLE: 0 / 0 for a history never seen, every word gets 0
        else:
            assert abs(total - 1.0) < 1e-12, (history, total)
        if name != "mle":
            assert model.distribution(list(history)).min() > 0, history  # smoothing leaves no zero
    assert any(h not in seen for h in itertools.product((START, END), repeat=2))  # unseen ones were tried


def _unpack_histories(counts):
    keys = np.unique(counts.keys[-1] // counts.vocabulary_size)
    return np.stack([keys // counts.vocabulary_size, keys % counts.vocabulary_size], axis=1)


@pytest.mark.parametrize("name", ESTIMATORS)
def test_log_prob_and_perplexity_replay_the_reference(name):
    corpus = _corpus()
    reference = Reference(corpus, 3, VOCABULARY_SIZE)
    model = _estimator(name, count_ngrams(corpus, 3, vocabulary_size=VOCABULARY_SIZE, padding=FULL))
    test = [[4, 5, 4], [UNK, 6], [8]] if name != "mle" else [s for s in corpus if s][:3]  # MLE: seen ones
    sentence, tokens = model.log_prob(test)
    everything = []
    for b, words in enumerate(test):
        padded = [START, START] + words + [END]
        expected = [
            math.log(_reference_probability(reference, name, tuple(padded[i - 2 : i]), padded[i]))
            for i in range(2, len(padded))
        ]
        np.testing.assert_allclose(tokens[b], expected, atol=1e-12)
        np.testing.assert_allclose(sentence[b], sum(expected), atol=1e-12)
        everything += expected
    assert len(everything) == sum(len(s) + 1 for s in test)  # </s> counted, <s> not
    np.testing.assert_allclose(model.perplexity(test), math.exp(-sum(everything) / len(everything)), rtol=1e-12)


@pytest.mark.parametrize("order", [2, 3, 4])
@pytest.mark.parametrize("name", ESTIMATORS)
def test_single_padding_scores_the_first_words_with_shorter_histories(name, order):
    # One <s> (KenLM, SRILM): p(w_1 | <s>), p(w_2 | <s> w_1), ..; Kneser-Ney keeps the counts of <s> n-grams.
    corpus = _corpus(seed=3, sentences=120)
    reference = Reference(corpus, order, VOCABULARY_SIZE, padding="single")
    counts = count_ngrams(corpus, order, vocabulary_size=VOCABULARY_SIZE)
    assert counts.padding == "single"
    for n in range(1, order + 1):
        assert dict(zip(_unpack(counts, n), counts.counts[n - 1].tolist())) == dict(reference.raw[n])
    model = _estimator(name, counts)
    test = [s for s in corpus if s][:6] if name == "mle" else [[4, 5, 4, 6], [UNK], [8, 8, 8, 8, 8]]
    _, tokens = model.log_prob(test)
    for b, words in enumerate(test):
        padded = _padded(words, order, "single")
        expected = [
            math.log(_reference_probability(reference, name, tuple(padded[max(0, i - order + 1) : i]), padded[i]))
            for i in range(1, len(padded))
        ]
        np.testing.assert_allclose(tokens[b], expected, atol=1e-12)
    for history in [(0,) * (order - 2) + (START,), (START, 4, 5, 6)[: order - 1]]:
        distribution = model.distribution(list(history))
        assert abs(distribution.sum() - 1.0) < 1e-12, history


def test_maximum_likelihood_gives_inf_for_the_unseen_never_nan():
    model = MaximumLikelihood(count_ngrams([[4, 5]], 2, vocabulary_size=7))
    sentence, tokens = model.log_prob([[4, 6], [6]])  # 6 is never seen; after it the history is unseen too
    assert np.all(np.isneginf(sentence)) and not np.any(np.isnan(np.concatenate(tokens)))
    assert model.perplexity([[4, 6]]) == math.inf
    assert model.perplexity([[4, 5]]) == 1.0


def _reference_components(reference, history, word):
    """(q_0 .. q_N, seen_0 .. seen_N) of one token: the ML of each order and whether its history was seen."""
    q, seen = [1.0 / len(reference.words)], [True]
    for n in range(1, reference.order + 1):
        h = tuple(history[len(history) - (n - 1) :]) if n > 1 else ()
        total = sum(reference.raw[n].get(h + (w,), 0) for w in reference.words)
        q.append(reference.raw[n].get(h + (word,), 0) / total if total else 0.0)
        seen.append(total > 0)
    return q, seen


def _reference_em(reference, held_out, iterations):
    order = reference.order
    tokens = []
    for sentence in held_out:
        padded = [START] * (order - 1) + list(sentence) + [END]
        tokens += [_reference_components(reference, padded[i - order + 1 : i], padded[i]) for i in range(order - 1, len(padded))]
    lambdas = [1.0] + [1.0 / (n + 1) for n in range(1, order + 1)]
    for _ in range(iterations):
        chosen, offered = [0.0] * (order + 1), [0.0] * (order + 1)
        for q, seen in tokens:
            beta = _reference_mixture(lambdas, seen)
            p = sum(b * x for b, x in zip(beta, q))
            posterior = [b * x / p for b, x in zip(beta, q)]
            for n in range(order + 1):
                chosen[n] += posterior[n]
                offered[n] += sum(posterior[: n + 1]) if seen[n] else 0.0
        updated = [1.0] + [chosen[n] / offered[n] if offered[n] else lambdas[n] for n in range(1, order + 1)]
        done = max(abs(a - b) for a, b in zip(updated, lambdas)) <= 1e-12
        lambdas = updated
        if done:
            break
    return lambdas


def _reference_mixture(lambdas, seen):
    """The weight of each q_n: lambda_n times (1 - lambda_j) of every seen order j above n (Jelinek-Mercer)."""
    beta = []
    for n in range(len(lambdas)):
        above = [1.0 - lambdas[j] for j in range(n + 1, len(lambdas)) if seen[j]]
        beta.append(lambdas[n] * math.prod(above) if seen[n] else 0.0)
    return beta


@pytest.mark.parametrize("order", [1, 2, 3])
def test_linear_interpolation_matches_the_reference_em(order):
    corpus, held_out = _corpus(seed=0), _corpus(seed=5, sentences=15)
    reference = Reference(corpus, order, VOCABULARY_SIZE)
    model = LinearInterpolation(count_ngrams(corpus, order, vocabulary_size=VOCABULARY_SIZE, padding=FULL), held_out, iterations=40)
    lambdas = _reference_em(reference, held_out, iterations=40)
    np.testing.assert_allclose(model.lambdas, lambdas, atol=1e-10)
    np.testing.assert_allclose(model.weights, _reference_mixture(lambdas, [True] * (order + 1)), atol=1e-12)
    rows = [h + (w,) for h in itertools.product(HISTORY_IDS, repeat=order - 1) for w in reference.words]
    components = [_reference_components(reference, r[:-1], r[-1]) for r in rows]
    expected = [sum(b * x for b, x in zip(_reference_mixture(lambdas, seen), q)) for q, seen in components]
    np.testing.assert_allclose(model.probability(np.array(rows)), expected, rtol=0, atol=1e-12)
    for history in itertools.product((START, UNK, 4, 8, END), repeat=order - 1):
        distribution = model.distribution(list(history))
        assert abs(distribution.sum() - 1.0) < 1e-12 and distribution.min() > 0


def test_em_never_lowers_the_held_out_likelihood():
    counts, held_out = count_ngrams(_corpus(), 3, vocabulary_size=VOCABULARY_SIZE, padding=FULL), _corpus(seed=5, sentences=15)
    likelihoods = [-LinearInterpolation(counts, held_out, iterations=k).perplexity(held_out) for k in (1, 2, 5, 20)]
    assert likelihoods == sorted(likelihoods) and likelihoods[0] < likelihoods[-1]


class KatzReference:
    """Katz back-off one n-gram at a time, Good-Turing ratios from the dict counts (textbook form)."""

    def __init__(self, reference, k):
        self.r, self.k = reference, k
        self.d = {n: self._ratios(list(reference.raw[n].values())) for n in reference.raw}

    def _ratios(self, values):
        n = {r: sum(1 for v in values if v == r) for r in range(1, self.k + 2)}
        k = self.k
        if all(n.values()) and (k + 1) * n[k + 1] < n[1]:
            common = (k + 1) * n[k + 1] / n[1]
            d = {c: ((c + 1) * n[c + 1] / (c * n[c]) - common) / (1 - common) for c in range(1, k + 1)}
            if all(0 < x <= 1 for x in d.values()):
                return d
        return {c: 1.0 for c in range(1, k + 1)}

    def p(self, history, word, n=None):
        n = self.r.order if n is None else n
        if n == 0:
            return 1.0 / len(self.r.words)
        h = tuple(history[len(history) - (n - 1) :]) if n > 1 else ()
        table = self.r.raw[n]
        counts = {w: table.get(h + (w,), 0) for w in self.r.words}
        total = sum(counts.values())
        if total == 0:
            return self.p(h[1:], word, n - 1)
        seen = {w: (self.d[n][c] if c <= self.k else 1.0) * c / total for w, c in counts.items() if c > 0}
        if len(seen) == len(self.r.words):
            return seen[word] / sum(seen.values())
        if word in seen:
            return seen[word]
        beta = (1 - sum(seen.values())) / (1 - sum(self.p(h[1:], w, n - 1) for w in seen))
        return beta * self.p(h[1:], word, n - 1)


@pytest.mark.parametrize("k", [1, 2, 5])
@pytest.mark.parametrize("order", [1, 2, 3])
def test_katz_back_off_matches_the_reference(order, k):
    corpus = _corpus(seed=2, sentences=300)
    reference = KatzReference(Reference(corpus, order, VOCABULARY_SIZE), k)
    model = KatzBackOff(count_ngrams(corpus, order, vocabulary_size=VOCABULARY_SIZE, padding=FULL), k=k)
    if k == 2 and order > 1:  # this corpus's bigram ratios are in range for k = 2: the discounts are used
        assert 0 < reference.d[2][1] < reference.d[2][2] < 1
    rows = [h + (w,) for h in itertools.product(HISTORY_IDS + (END,), repeat=order - 1) for w in reference.r.words]
    expected = [reference.p(r[:-1], r[-1]) for r in rows]
    np.testing.assert_allclose(model.probability(np.array(rows)), expected, rtol=0, atol=1e-12)
    for history in itertools.product((START, UNK, 4, 8, END), repeat=order - 1):
        assert abs(model.distribution(list(history)).sum() - 1.0) < 1e-12, history


# ------------------------------------------------------------------------------------------------
# Bad input.

TINY = [[4, 5], [4]]
NAN = float("nan")

CASES = [
    raises("empty corpus", lambda: count_ngrams([], 2), ValueError, "sequences"),
    raises("only empty sentences", lambda: count_ngrams([[], []], 2), ValueError, "sequences"),
    raises("shorter than the order", lambda: count_ngrams([[4]], 3), ValueError, "sequences", "order"),
    raises("order 0", lambda: count_ngrams(TINY, 0), ValueError, "order"),
    raises("order 50", lambda: count_ngrams(TINY, 50), ValueError, "order"),
    raises("order not an integer", lambda: count_ngrams(TINY, 2.0), ValueError, "order"),
    raises("order overflows int64", lambda: count_ngrams([[4] * 10], 10, vocabulary_size=200_000), ValueError, "order", "vocabulary_size"),  # fmt: skip
    raises("negative id", lambda: count_ngrams([[4, -1]], 1), ValueError, "sequences"),
    raises("id past the vocabulary", lambda: count_ngrams([[4, 9]], 1, vocabulary_size=6), ValueError, "sequences", "vocabulary_size"),  # fmt: skip
    raises("float ids", lambda: count_ngrams([[4.0, 5.5]], 1), ValueError, "sequences"),
    raises("string ids", lambda: count_ngrams([["a", "b"]], 1), ValueError, "sequences"),
    raises("a [START] id", lambda: count_ngrams([[2, 4]], 1), ValueError, "sequences", "[START]"),
    raises("an [END] inside", lambda: count_ngrams([[4, 3, 5]], 1), ValueError, "sequences", "[END]"),
    raises("not sequences", lambda: count_ngrams(7, 1), ValueError, "sequences"),
    raises("vocabulary_size 3", lambda: count_ngrams(TINY, 1, vocabulary_size=3), ValueError, "vocabulary_size"),
    raises("alpha 0", lambda: AdditiveSmoothing(count_ngrams(TINY, 2), alpha=0), ValueError, "alpha"),
    raises("alpha negative", lambda: AdditiveSmoothing(count_ngrams(TINY, 2), alpha=-1.0), ValueError, "alpha"),
    raises("alpha NaN", lambda: AdditiveSmoothing(count_ngrams(TINY, 2), alpha=NAN), ValueError, "alpha"),
    raises("iterations 0", lambda: LinearInterpolation(count_ngrams(TINY, 2), TINY, iterations=0), ValueError, "iterations"),  # fmt: skip
    raises("empty held-out text", lambda: LinearInterpolation(count_ngrams(TINY, 2), [[], [0]]), ValueError, "held_out"),  # fmt: skip
    raises("held-out id past the vocabulary", lambda: LinearInterpolation(count_ngrams(TINY, 2), [[9]]), ValueError, "held_out"),  # fmt: skip
    raises("Katz k 0", lambda: KatzBackOff(count_ngrams(TINY, 2), k=0), ValueError, "k"),
    raises("Katz k float", lambda: KatzBackOff(count_ngrams(TINY, 2), k=2.5), ValueError, "k"),
    raises("not counts", lambda: KneserNey([[4, 5]]), ValueError, "counts"),
    raises("empty sentence to score", lambda: KneserNey(count_ngrams(TINY, 2)).log_prob([[4], []]), ValueError, "sequences"),  # fmt: skip
    raises("scored id past the vocabulary", lambda: KneserNey(count_ngrams(TINY, 2)).log_prob([[9]]), ValueError, "sequences"),  # fmt: skip
    raises("history of the wrong length", lambda: KneserNey(count_ngrams(TINY, 2)).distribution([4, 5]), ValueError, "history"),  # fmt: skip
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input_is_answered_clearly(case):
    expect_clear(case)
