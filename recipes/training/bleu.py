"""Corpus BLEU as sacreBLEU computes it (Post 2018), with its signature: ``sacre_bleu``.

BLEU = BP * exp(sum_n log p_n / N) * 100 over n = 1..N (N = 4): p_n the clipped n-gram matches of the corpus
over its hypothesis n-grams, BP = exp(1 - r/c) when the hypotheses' length c is below the references' r (the
closest reference length of each sentence, the shorter on a tie). Text is split with sacreBLEU's ``13a``
tokenizer (mteval-v13a's punctuation rules) after optional lowercasing; an order with no match counts as
100 / (2^k * its n-gram count) for the k-th such order (``exp`` smoothing, mteval's). This is sacreBLEU's
default BLEU, written out so that the package does not need sacreBLEU; ``tests/recipes/test_bleu.py`` checks
it against sacreBLEU itself.
"""

import math
import re
from collections import Counter
from functools import lru_cache

MAX_ORDER = 4
_RULES_13A = [
    (re.compile(r"([\{-\~\[-\` -\&\(-\+\:-\@\/])"), r" \1 "),  # punctuation and symbols
    (re.compile(r"([^0-9])([\.,])"), r"\1 \2 "),  # a period or comma not after a digit
    (re.compile(r"([\.,])([^0-9])"), r" \1 \2"),  # ... nor before one
    (re.compile(r"([0-9])(-)"), r"\1 \2 "),  # a dash after a digit
]


@lru_cache(maxsize=2**16)
def tokenize_13a(line):
    """sacreBLEU's ``13a`` tokens of ``line``, joined by single spaces.

    Example:
    >>> from seqrecipes.recipes.training.bleu import tokenize_13a
    >>> tokenize_13a("A dog, 3.5 years old, runs!")
    'A dog , 3.5 years old , runs !'
    """
    line = line.replace("<skipped>", "").replace("-\n", "").replace("\n", " ")
    if "&" in line:
        line = line.replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
    line = f" {line} "
    for pattern, replacement in _RULES_13A:
        line = pattern.sub(replacement, line)
    return " ".join(line.split())


def _ngrams(tokens):
    return Counter(tuple(tokens[i : i + n]) for n in range(1, MAX_ORDER + 1) for i in range(len(tokens) - n + 1))


def _statistics(hypothesis, references):
    """[c, r, matches of each order..., n-grams of each order...] of one sentence."""
    tokens = hypothesis.split()
    hypothesis_ngrams = _ngrams(tokens)
    reference_ngrams = Counter()
    lengths = []
    for reference in references:
        words = reference.split()
        lengths.append(len(words))
        for ngram, count in _ngrams(words).items():
            reference_ngrams[ngram] = max(reference_ngrams[ngram], count)
    closest = min(lengths, key=lambda length: (abs(len(tokens) - length), length))
    matches, totals = [0] * MAX_ORDER, [0] * MAX_ORDER
    for ngram, count in hypothesis_ngrams.items():
        totals[len(ngram) - 1] += count
        matches[len(ngram) - 1] += min(count, reference_ngrams.get(ngram, 0))
    return [len(tokens), closest, *matches, *totals]


def sacre_bleu(references, hypotheses, lowercase=False):
    """sacreBLEU's corpus BLEU (0-100) of ``hypotheses`` against ``references``, and its signature.

    Args:
        references: one reference string per hypothesis, or a list of references per hypothesis (as many
            for each).
        hypotheses: the decoded strings.
        lowercase: compare lowercased text (sacreBLEU's ``-lc``; the signature says ``case:lc``).

    Returns:
        (bleu, signature): BLEU as a float in [0, 100]; the signature in sacreBLEU's fields, e.g.
        ``nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`` (the sacreBLEU version it matches).

    Raises:
        ValueError: no hypotheses, or as many references as hypotheses missing.

    Example:
    >>> from seqrecipes.recipes.training.bleu import sacre_bleu
    >>> score, signature = sacre_bleu(["the cat sat on the mat"], ["the cat sat on a mat"])
    >>> round(score, 2), signature
    (53.73, 'nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0')
    """
    if isinstance(references, str) or isinstance(hypotheses, str):
        raise ValueError("`references` and `hypotheses` must be lists of strings, not one string.")
    if not hypotheses or len(references) != len(hypotheses):
        raise ValueError(
            "`references` and `hypotheses` must be non-empty and of the same length. "
            f"Received: {len(references)} references, {len(hypotheses)} hypotheses"
        )
    references = [[r] if isinstance(r, str) else list(r) for r in references]
    counts = {len(r) for r in references}
    if len(counts) != 1 or 0 in counts:
        raise ValueError(f"Every hypothesis must have as many references (at least one). Received: counts {sorted(counts)}")

    def prepared(text):
        return tokenize_13a((text.lower() if lowercase else text).rstrip())

    totals = [0] * (2 + 2 * MAX_ORDER)
    for hypothesis, refs in zip(hypotheses, references):
        for i, value in enumerate(_statistics(prepared(hypothesis), [prepared(r) for r in refs])):
            totals[i] += value
    signature = f"nrefs:{counts.pop()}|case:{'lc' if lowercase else 'mixed'}|eff:no|tok:13a|smooth:exp|version:2.6.0"
    return _score(totals), signature


def _score(totals):
    c, r = totals[0], totals[1]
    matches, ngrams = totals[2 : 2 + MAX_ORDER], totals[2 + MAX_ORDER :]
    if not any(matches):
        return 0.0
    brevity = 1.0 if c >= r else (math.exp(1 - r / c) if c > 0 else 0.0)
    logs, smoothing = [], 1.0
    for n in range(MAX_ORDER):
        if ngrams[n] == 0:  # no hypothesis this long: sacreBLEU counts log 0 for the orders left
            break
        if matches[n] == 0:
            smoothing *= 2
            logs.append(math.log(100.0 / (smoothing * ngrams[n])))
        else:
            logs.append(math.log(100.0 * matches[n] / ngrams[n]))
    logs += [-9999999999.0] * (MAX_ORDER - len(logs))
    return brevity * math.exp(sum(logs) / MAX_ORDER)
