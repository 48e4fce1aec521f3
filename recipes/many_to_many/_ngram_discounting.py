"""The discounting estimators of p(w_i | w_{i-n+1:i-1}): Katz back-off (seed 004) and interpolated
modified Kneser-Ney (Chen and Goodman 1998), over ``NGramCounts``; symbols as in ``_ngram_estimators.py``."""

import warnings

import numpy as np

from seqrecipes._checks import check_positive_int
from seqrecipes.data import START_ID
from seqrecipes.recipes.many_to_many._ngram import Estimator, history_sums, lookup, pack

__all__ = ["FALLBACK_DISCOUNTS", "KatzBackOff", "KneserNey", "good_turing_discounts", "modified_discounts"]


def good_turing_discounts(counts, k, order=None):
    """Katz's discount ratios d_c (index c = 0..k, d_0 unused) from the count-of-counts n_r of ``counts``.

    d_c = (c* / c - (k+1) n_{k+1} / n_1) / (1 - (k+1) n_{k+1} / n_1), c* = (c+1) n_{c+1} / n_c. Where
    some n_r (r <= k+1) is 0 or some d_c falls outside (0, 1], the order is left undiscounted
    (every d_c = 1), with a warning, as SRILM does.

    Example:
    >>> good_turing_discounts(np.array([1] * 10 + [2] * 4 + [3] * 2), k=2).round(4).tolist()
    [1.0, 0.5, 0.375]
    """
    n = np.array([np.sum(counts == r) for r in range(1, k + 2)], dtype=float)  # n[r - 1] = n_r
    if np.all(n > 0) and (k + 1) * n[k] < n[0]:
        common = (k + 1) * n[k] / n[0]
        c = np.arange(1, k + 1)
        ratios = ((c + 1) * n[c] / (c * n[c - 1]) - common) / (1 - common)
        if np.all((ratios > 0) & (ratios <= 1)):
            return np.concatenate([[1.0], ratios])
    warnings.warn(f"Good-Turing discounts are out of range for the {order}-grams (n_1..n_{k + 1} = "
                  f"{n.astype(int).tolist()}); they are left undiscounted.", stacklevel=3)  # fmt: skip
    return np.ones(k + 1)


class KatzBackOff(Estimator):
    """Katz back-off (seed 004), with Good-Turing discounts d_c for the counts c = #(w_{i-n+1:i}) <= k.

        p(w_i | h) = d_c c / #(h)                 if c > 0     (d_c = 1 for c > k)
                   = beta(h) p(w_i | h')          otherwise    (h' = h without its first word)
        beta(h) = (1 - sum_{w: #(h w) > 0} p(w | h)) / (1 - sum_{w: #(h w) > 0} p(w | h'))

    down to the unigrams, discounted the same way and backing off to the uniform 1 / d over V. A
    history never seen passes p(w_i | h') through; where every word of V was seen after h, the
    discounted d_c c / #(h) are renormalised to sum to 1 (nothing is left to back off to). An order
    whose Good-Turing ratios are out of range is undiscounted (``good_turing_discounts``), and then
    gives probability 0 to the words never seen after a seen history, as Katz's model does. So does a
    seen history all of whose followers were seen more than k times: every d_c is 1, nothing is left
    over, beta(h) = 0, and one such test n-gram makes the perplexity inf (on real text, e.g. the Katz
    rows of ``experiments/language_model_ladder.py``). Kneser-Ney discounts every count and has no zeros.

    Args:
        counts: an ``NGramCounts`` of order N.
        k: the largest discounted count, a positive integer (Katz used 5).

    Example:
    >>> from seqrecipes.recipes.many_to_many._ngram import count_ngrams
    >>> model = KatzBackOff(count_ngrams([[4, 5, 4], [4, 4], [5], [6, 4]], order=2), k=1)
    >>> round(float(model.distribution([4]).sum()), 12), round(float(model.distribution([1]).sum()), 12)
    (1.0, 1.0)
    """

    def __init__(self, counts, k=5):
        super().__init__(counts)
        self.k = check_positive_int("k", k)
        size, self._orders = counts.vocabulary_size, []
        for n in range(1, self.order + 1):  # each order's beta needs the orders below it
            keys, count = counts.keys[n - 1], counts.counts[n - 1]
            discounts = np.append(good_turing_discounts(count, self.k, order=n), 1.0)  # d_c, c = 0..k+1 (k+1: c > k)
            history, (total, followers) = history_sums(keys, [count, np.ones_like(count)], size)
            seen = discounts[np.minimum(count, self.k + 1)] * count / lookup(history, total, keys // size)
            lower = self._probability(n - 1, keys % size ** (n - 1))
            _, (seen_mass, lower_mass) = history_sums(keys, [seen, lower], size)
            everything = followers == counts.num_words
            left = np.where(everything, 1.0, 1.0 - lower_mass)
            beta = np.where(everything | (left <= 0), 0.0, (1.0 - seen_mass) / np.where(left > 0, left, 1.0))
            norm = np.where(everything, seen_mass, 1.0)
            self._orders.append((keys, count, discounts, history, total, beta, norm))

    def _probability(self, n, query):
        """p of the order-n n-grams packed in ``query`` (M,), by the back-off recursion."""
        if n == 0:
            return np.full(query.shape, 1.0 / self.counts.num_words)
        keys, count, discounts, history, total, beta, norm = self._orders[n - 1]
        size = self.counts.vocabulary_size
        lower = self._probability(n - 1, query % size ** (n - 1))
        c, h_total = lookup(keys, count, query), lookup(history, total, query // size)
        h_norm = np.maximum(lookup(history, norm, query // size), 1e-300)  # 0 only where no history was seen
        seen = discounts[np.minimum(c, self.k + 1)] * c / np.maximum(h_total, 1) / h_norm
        backed_off = lookup(history, beta, query // size) * lower
        return np.where(h_total == 0, lower, np.where(c > 0, seen, backed_off))

    def probability(self, ngrams):
        return self._probability(self.order, pack(ngrams, self.counts.vocabulary_size))


FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # KenLM's --discount_fallback


def modified_discounts(counts, order=None):
    """Chen and Goodman's (D1, D2, D3+) from the count-of-counts n_r of one order's ``counts``.

    Y = n1 / (n1 + 2 n2), D1 = 1 - 2 Y n2 / n1, D2 = 2 - 3 Y n3 / n2, D3+ = 3 - 4 Y n4 / n3. Where
    n1, n2 or n3 is 0 or some D_r falls outside (0, r] (small corpora), the order takes KenLM's
    fallback ``FALLBACK_DISCOUNTS`` = (0.5, 1, 1.5) instead, with a warning, as ``lmplz
    --discount_fallback`` does; so every D_r > 0 and no word of V ever gets probability 0.

    Example:
    >>> modified_discounts(np.array([1, 1, 1, 1, 2, 2, 3, 4])).round(4).tolist()
    [0.5, 1.25, 1.0]
    """
    n1, n2, n3, n4 = (float(np.sum(counts == r)) for r in (1, 2, 3, 4))
    if min(n1, n2, n3) > 0:
        y = n1 / (n1 + 2 * n2)
        discounts = np.array([1 - 2 * y * n2 / n1, 2 - 3 * y * n3 / n2, 3 - 4 * y * n4 / n3])
        if np.all((discounts > 0) & (discounts <= [1, 2, 3])):
            return discounts
    warnings.warn(
        f"Modified Kneser-Ney discounts are out of range for the {order}-grams (count-of-counts n1..n4 = "
        f"{[int(n1), int(n2), int(n3), int(n4)]}); using the fallback {FALLBACK_DISCOUNTS}.",
        stacklevel=3,
    )
    return np.array(FALLBACK_DISCOUNTS)


class KneserNey(Estimator):
    """Interpolated modified Kneser-Ney (Chen and Goodman 1998), down to the uniform 1 / d over V.

    At the highest order N, with c = #(w_{i-N+1:i}) and h = w_{i-N+1:i-1}:

        p_N(w_i | h) = max(c - D(c), 0) / #(h) + gamma(h) p_{N-1}(w_i | w_{i-N+2:i-1})
        gamma(h) = (D1 N1(h .) + D2 N2(h .) + D3+ N3+(h .)) / #(h)

    where D(c) is D1, D2 or D3+ for c = 1, 2, >= 3 (0 for c = 0), N_r(h .) the number of words
    that follow h exactly r (3+: at least 3) times and #(h) = sum_w #(h w). A lower order n < N uses
    the same formula with the continuation count N1+(. w_{i-n+1:i}) (the number of distinct words
    seen before the n-gram) in place of c, and discounts from its own count-of-counts
    (``modified_discounts``, with KenLM's fallback where they are out of range); below order 1 is
    the uniform 1 / d. With single padding an n-gram that starts at ``<s>`` has no word before it and
    keeps its own count #(<s> ..) at the lower orders, as KenLM's ``lmplz`` does. A history never
    seen at an order passes the lower order's probability through. Every p(. | h) sums to 1 over V.

    Args:
        counts: an ``NGramCounts`` of order N.

    Example:
    >>> from seqrecipes.recipes.many_to_many._ngram import count_ngrams
    >>> model = KneserNey(count_ngrams([[4, 5, 4], [4, 4], [5]], order=2))
    >>> round(float(model.distribution([4]).sum()), 12), round(float(model.distribution([5]).sum()), 12)
    (1.0, 1.0)
    >>> bool(model.probability(np.array([[5, 5]]))[0] > 0)
    True
    """

    def __init__(self, counts):
        super().__init__(counts)
        size, order = counts.vocabulary_size, counts.order
        self._orders = []
        for n in range(1, order + 1):
            keys = counts.keys[n - 1]
            if n == order:
                count = counts.counts[n - 1]
            else:  # N1+(. w_{i-n+1:i}): each distinct (n+1)-gram counts once for its last n words
                suffixes, continuation = np.unique(counts.keys[n] % size**n, return_counts=True)
                count = lookup(suffixes, continuation.astype(np.int64), keys)
                if counts.padding == "single":  # nothing comes before <s>: its n-grams keep their counts
                    starts = keys // size ** (n - 1) == START_ID
                    count = np.where(starts, counts.counts[n - 1], count)
            discounts = modified_discounts(count, order=n)
            history, (total, mass) = history_sums(keys, [count, discounts[np.minimum(count, 3) - 1]], size)
            self._orders.append((keys, count, np.concatenate([[0.0], discounts]), history, total, mass / total))

    @property
    def discounts(self):
        """Per order n = 1..N, the array (D1, D2, D3+)."""
        return [entry[2][1:] for entry in self._orders]

    def probability(self, ngrams):
        size = self.counts.vocabulary_size
        p = np.full(len(ngrams), 1.0 / self.counts.num_words)
        for n, (keys, count, discounts, history, total, gamma) in enumerate(self._orders, start=1):
            query = pack(ngrams[:, self.order - n :], size)
            c = lookup(keys, count, query)
            h_total = lookup(history, total, query // size)
            h_gamma = lookup(history, gamma, query // size)
            discounted = np.maximum(c - discounts[np.minimum(c, 3)], 0.0) / np.maximum(h_total, 1)
            p = np.where(h_total > 0, discounted + h_gamma * p, p)
        return p
