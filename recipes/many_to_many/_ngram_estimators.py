"""Estimators of p(w_i | w_{i-n+1:i-1}) over ``NGramCounts`` (seed 004, "Classical language model").

Symbols of the seed: ``#(w_{i-n+1:i})`` is the count of an n-gram, ``#(w_{i-n+1:i-1})`` the count
of its history h as a history (the sum of ``#(h w)`` over the words w that follow it), d = |V| the
number of words that can be predicted (``NGramCounts.words``: every id but [PAD] and [START], so
``<unk>`` and ``</s>`` are in V and ``<s>`` is not).

- ``MaximumLikelihood``: #(w_{i-n+1:i}) / #(w_{i-n+1:i-1}).
- ``AdditiveSmoothing``: (#(w_{i-n+1:i}) + alpha) / (#(w_{i-n+1:i-1}) + alpha d); alpha = 1 is Laplace.
- ``LinearInterpolation``: alpha_0 / d + sum_n alpha_n #(w_{i-n+1:i}) / #(w_{i-n+1:i-1}), the seed's
  "back-off" slide, the weights fitted by EM on held-out sentences.
- ``KatzBackOff`` (``_ngram_discounting.py``): the seed's Katz back-off, Good-Turing discounts for
  counts up to k.
- ``KneserNey`` (``_ngram_discounting.py``): interpolated modified Kneser-Ney (Chen and Goodman
  1998), beyond the seed.

``ESTIMATORS`` names them for the recipe. All score in NumPy, vectorised over the n-grams (a loop
over orders only), through ``Estimator`` (``_ngram.py``): ``log_prob`` gives natural logs per
sentence and per predicted token; ``perplexity`` is exp of the mean negative log-likelihood per
predicted token, ``</s>`` counted, ``<s>`` not, ``<unk>`` scored as the word [UNK] like any other.
"""

import numpy as np

from seqrecipes._checks import check_positive_int, check_positive_number
from seqrecipes.recipes.many_to_many._ngram import Estimator, as_sequences, lookup, pack, padded_ngrams
from seqrecipes.recipes.many_to_many._ngram_discounting import KatzBackOff, KneserNey

__all__ = ["ESTIMATORS", "AdditiveSmoothing", "KatzBackOff", "KneserNey", "LinearInterpolation", "MaximumLikelihood"]


class MaximumLikelihood(Estimator):
    """The maximum-likelihood n-gram model: p(w_i | w_{i-n+1:i-1}) = #(w_{i-n+1:i}) / #(w_{i-n+1:i-1}).

    An n-gram never seen has probability 0 (log P = -inf, perplexity inf). A history never seen
    leaves the ratio 0 / 0 undefined: every word then gets probability 0 (the "distribution" sums to
    0, not 1), so the sentence's log P is -inf, never NaN. With single padding the first words have
    shorter histories (``<s> w_1`` ..), whose own order's counts are used: p(w_1 | <s>) is the bigram
    ratio.

    Args:
        counts: an ``NGramCounts`` of order N; order N's counts are used (and the shorter orders
            for the histories that start at ``<s>``).

    Example:
    >>> from seqrecipes.recipes.many_to_many._ngram import count_ngrams
    >>> model = MaximumLikelihood(count_ngrams([[4, 5], [4, 4]], order=2))
    >>> model.probability(np.array([[2, 4], [4, 5], [5, 4]])).tolist()
    [1.0, 0.3333333333333333, 0.0]
    >>> model.perplexity([[4, 4, 5]]) > 1.0, model.perplexity([[5, 5]])
    (True, inf)
    """

    def probability(self, ngrams):
        count, total = self._own_order_counts(ngrams)
        return np.where(total > 0, count / np.maximum(total, 1), 0.0)


class AdditiveSmoothing(Estimator):
    """Additive smoothing: p(w_i | w_{i-n+1:i-1}) = (#(w_{i-n+1:i}) + alpha) / (#(w_{i-n+1:i-1}) + alpha d).

    d = |V| = vocabulary_size - 2 (every id but [PAD] and [START]); alpha = 1 is Laplace smoothing,
    0 < alpha < 1 is add-k (Lidstone). A history never seen gets the uniform 1 / d. The counts are
    order N's, or, with single padding, the shorter order of a history that starts at ``<s>``.

    Args:
        counts: an ``NGramCounts`` of order N.
        alpha: the added count, a finite number > 0.

    Example:
    >>> from seqrecipes.recipes.many_to_many._ngram import count_ngrams
    >>> model = AdditiveSmoothing(count_ngrams([[4, 5], [4, 4]], order=2), alpha=1.0)
    >>> model.probability(np.array([[4, 5], [5, 4]])).round(4).tolist()
    [0.2857, 0.2]
    >>> round(float(model.distribution([4]).sum()), 12)
    1.0
    """

    def __init__(self, counts, alpha=1.0):
        super().__init__(counts)
        self.alpha = check_positive_number("alpha", alpha)

    def probability(self, ngrams):
        count, total = self._own_order_counts(ngrams)
        return (count + self.alpha) / (total + self.alpha * self.counts.num_words)


class LinearInterpolation(Estimator):
    """Linear interpolation of the orders (the seed's "back-off" slide), weights fitted by EM on held-out text.

    With every history seen, the seed's mixture of the maximum-likelihood q_n = #(w_{i-n+1:i}) /
    #(w_{i-n+1:i-1}) and the uniform q_0 = 1 / d over V:

        p(w_i | w_{i-N+1:i-1}) = alpha_0 / d + sum_{n=1..N} alpha_n q_n(w_i | w_{i-n+1:i-1}),  sum_n alpha_n = 1

    written as the recursion of Jelinek and Mercer, one weight lambda_n per order:

        p_n(w_i | h) = lambda_n q_n(w_i | h) + (1 - lambda_n) p_{n-1}(w_i | h')   if #(h) > 0
                     = p_{n-1}(w_i | h')                                           if #(h) = 0
        p_0 = 1 / d,    alpha_n = lambda_n prod_{j > n} (1 - lambda_j),    alpha_0 = prod_{j >= 1} (1 - lambda_j)

    so an order whose history was never seen is skipped and the weights below it renormalised; every
    p(. | h) sums to 1 over V and is > 0, and the model is a back-off model (an ARPA file holds it
    exactly: the back-off weight of h is 1 - lambda_n). The lambda_n start at 1 / (n + 1) (every
    alpha_n = 1 / (N + 1)); each EM step sets lambda_n to the expected share of the held-out tokens
    that reach order n (their history seen, the orders above declined) and take it, which never lowers
    the held-out likelihood; it stops after ``iterations`` steps or when no lambda moves by more
    than 1e-12.

    Args:
        counts: an ``NGramCounts`` of order N.
        held_out: sentences (as ``count_ngrams`` takes them) not in the counts, to fit the weights on.
        iterations: the most EM steps, a positive integer.

    Attributes:
        lambdas: (N + 1,) lambda_0 = 1, lambda_1 .. lambda_N.
        weights: (N + 1,) alpha_0 .. alpha_N, the seed's weights (those of a token whose histories
            were all seen).

    Example:
    >>> from seqrecipes.recipes.many_to_many._ngram import count_ngrams
    >>> model = LinearInterpolation(count_ngrams([[4, 5, 4], [4, 4]], order=2), held_out=[[4, 5], [5, 4]])
    >>> model.weights.shape, round(float(model.weights.sum()), 12), round(float(model.distribution([5]).sum()), 12)
    ((3,), 1.0, 1.0)
    """

    def __init__(self, counts, held_out, iterations=100):
        super().__init__(counts)
        iterations = check_positive_int("iterations", iterations)
        flat, lengths = as_sequences(held_out, counts.vocabulary_size, name="held_out")
        if flat.size == 0:
            raise ValueError(f"`held_out` must hold at least one token. Received: held_out={held_out!r:.200}")
        q, seen = self._components(padded_ngrams(flat, lengths, self.order, counts.padding))  # (M, N + 1) each
        lambdas = 1.0 / (np.arange(self.order + 1) + 1.0)
        lambdas[0] = 1.0
        for _ in range(iterations):
            share = self._mixture(lambdas, seen) * q  # (M, N + 1): beta_n q_n
            posterior = share / share.sum(axis=1, keepdims=True)
            reached = np.cumsum(posterior, axis=1) * seen  # the tokens that reach order n (and may take it)
            chosen, offered = posterior.sum(axis=0), reached.sum(axis=0)
            updated = np.where(offered > 0, chosen / np.where(offered > 0, offered, 1.0), lambdas)
            updated[0] = 1.0
            done = np.max(np.abs(updated - lambdas)) <= 1e-12
            lambdas = updated
            if done:
                break
        self.lambdas = lambdas
        self.weights = self._mixture(lambdas, np.ones((1, self.order + 1), bool))[0]

    @staticmethod
    def _mixture(lambdas, seen):
        """beta (M, N + 1): each token's weight of q_n, lambda_n times the (1 - lambda_j) of the seen orders above."""
        beta = np.zeros(seen.shape)
        left = np.ones(len(seen))
        for n in range(seen.shape[1] - 1, -1, -1):
            beta[:, n] = np.where(seen[:, n], left * lambdas[n], 0.0)
            left = left * np.where(seen[:, n], 1.0 - lambdas[n], 1.0)
        return beta

    def _components(self, ngrams):
        """(q, seen): q_0 .. q_N of each row (M, N + 1) and whether each order's history was seen."""
        size = self.counts.vocabulary_size
        q = np.zeros((len(ngrams), self.order + 1))
        seen = np.zeros(q.shape, bool)
        q[:, 0], seen[:, 0] = 1.0 / self.counts.num_words, True
        for n in range(1, self.order + 1):
            query = pack(ngrams[:, self.order - n :], size)
            count = lookup(self.counts.keys[n - 1], self.counts.counts[n - 1], query)
            h_total = lookup(*self._histories(n), query // size)
            seen[:, n] = h_total > 0
            q[:, n] = count / np.maximum(h_total, 1)
        return q, seen

    def probability(self, ngrams):
        q, seen = self._components(ngrams)
        return (self._mixture(self.lambdas, seen) * q).sum(axis=1)


# The estimators by the name ``ngram_language_model(estimator=...)`` takes.
ESTIMATORS = {
    "maximum_likelihood": MaximumLikelihood,
    "additive": AdditiveSmoothing,
    "linear_interpolation": LinearInterpolation,
    "katz": KatzBackOff,
    "kneser_ney": KneserNey,
}
