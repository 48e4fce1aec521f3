"""N-gram estimators against NLTK's ``nltk.lm``: the same perplexities on the same counts, and the speed.

Real text from ``--data`` (default ``../shared/data``, relative to the repository root; see its
README.md). Whitespace tokens, case kept; WikiText-2 headings and blank lines dropped and each
paragraph split into sentences after every ``.`` token; the corpus's literal ``<unk>`` is [UNK].

1. Perplexity equality (goals). Train on WikiText-2 ``valid.txt``, score the first ``--sample``
   sentences of ``test.txt`` (their figures are not comparable with published WikiText-2 ones). The
   closed vocabulary is the training words; a test word outside it is [UNK] (id 1) for us and
   ``"<UNK>"`` for NLTK (what its ``Vocabulary.lookup`` does). Both sides see the same counts: NLTK
   is fed, for every sentence, the n-grams of orders 1..N that end at each predicted token (the
   words and one ``</s>``) with N-1 ``<s>`` in front, which is ``count_ngrams(padding="full")``.
   (NLTK's own ``padded_everygram_pipeline`` also pads N-1 ``</s>`` on the right and counts n-grams
   made only of padding, so its unigram counts hold ``<s>`` and extra ``</s>``: other counts.)
   Lining up the definitions, from NLTK 3.10's source:

   - ``len(vocab)``, NLTK's |V| in Lidstone's ``(c + gamma) / (N + |V| gamma)``, counts the training
     words, ``<s>``, ``</s>`` and ``"<UNK>"`` (``Vocabulary.__iter__`` appends the unk label); our d =
     vocabulary_size - 2 counts the words, [UNK] and ``</s>`` but not ``<s>``. So our counts get
     ``vocabulary_size + 1`` (one id no text uses) and both d's are equal.
   - ``perplexity`` is ``2 ** entropy``, the entropy the mean of ``-log2 score`` over the n-grams
     given: ours is ``exp`` of the mean negative natural log over the same predicted tokens.
   - MLE with an unseen history: ``FreqDist.freq`` returns 0 when the history's total is 0, so the
     score is 0 and ``log_base2`` gives -inf, as ours. So MLE is compared on sentences with no unseen
     n-gram (the first ``--sample`` training sentences, and the test sentences we score finite), and
     on the whole test sample both must be inf.
   - ``KneserNeyInterpolated`` is not ours (printed, not a goal; see ``compare_kneser_ney``).

2. Speed (goal): fit plus scoring of about 1M tokens, a Laplace trigram, from the same tokenized
   sentences on each side: ours maps words to ids, ``count_ngrams``, ``AdditiveSmoothing`` and
   ``perplexity``; NLTK builds the same padded n-grams in Python, its ``Vocabulary``, ``lm.fit`` and
   ``lm.perplexity``. The text is all the English here (WikiText-2 valid and test, Multi30k train.en
   and val.en, the Korean-English .en files), cycled from its start until ``--speed-tokens``
   predicted tokens; the model scores the text it was fitted on. Ours is the median of 5 runs; NLTK
   runs once (its wall and CPU seconds printed; the goal is the wall-clock ratio). NLTK's documented
   pipeline (``padded_everygram_pipeline``, other counts) is timed too, for reference. Before them,
   the cost of a 1M-token Kneser-Ney trigram (default single padding): the time and the tracemalloc
   peak of counting, fitting and scoring.

The last lines are one per goal: ``goal NAME: ... met`` or ``... not met``.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/ngram_nltk.py`` (``--quick``: a small
check that the script works, under a minute).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import math  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from nltk.lm import MLE, KneserNeyInterpolated, Laplace, Lidstone, Vocabulary  # noqa: E402
from nltk.lm.preprocessing import pad_both_ends, padded_everygram_pipeline  # noqa: E402
from nltk.util import everygrams  # noqa: E402

from seqrecipes.recipes.many_to_many._ngram import as_sequences, count_ngrams, history_sums, lookup, pack, padded_ngrams  # noqa: E402
from seqrecipes.recipes.many_to_many._ngram_estimators import AdditiveSmoothing, KneserNey, MaximumLikelihood  # noqa: E402

UNK, START, END = "<UNK>", "<s>", "</s>"  # NLTK's labels for our ids 1, 2, 3
TOLERANCE = 1e-6
ENGLISH = ("wikitext-2/valid.txt", "wikitext-2/test.txt", "multi30k/train.en", "multi30k/val.en",
           "korean-english/korean-english-park.dev.en", "korean-english/korean-english-park.test.en",
           "korean-english/jhe-koen-dev.en", "korean-english/jhe-koen-eval.en")  # fmt: skip


# ---- data ----------------------------------------------------------------------------------------


def read_sentences(path):
    """Whitespace-token sentences of a file; WikiText paragraphs are split after each ``.``."""
    sentences = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        words = [UNK if w == "<unk>" else w for w in line.split()]
        if not words or (words[0] == "=" and words[-1] == "="):  # blank line or WikiText heading
            continue
        start = 0
        for i, word in enumerate(words):
            if word == "." and "wikitext" in str(path):
                sentences.append(words[start : i + 1])
                start = i + 1
        if words[start:]:
            sentences.append(words[start:])
    return sentences


def index_words(sentences):
    """(word -> id, the id arrays of ``sentences``) in one pass: [UNK] is 1, the words 4, 5, .. in order of
    first appearance."""
    index = {UNK: 1}
    ids = [np.fromiter((index.setdefault(w, len(index) + 3) for w in s), np.int64, len(s)) for s in sentences]
    return index, ids


def to_ids(sentences, index):
    """The id arrays of ``sentences``, a word outside ``index`` as [UNK] (1)."""
    return [np.fromiter((index.get(w, 1) for w in s), np.int64, len(s)) for s in sentences]


def id_names(index):
    """The NLTK string of each id (id 0, [PAD], never occurs)."""
    names = np.empty(len(index) + 3, dtype=object)
    names[:4] = ["<pad>", UNK, START, END]
    for word, i in index.items():
        names[i] = word
    return names


def nltk_ngrams(ids, order, names, all_orders):
    """The (full-padded) n-grams ending at each predicted token of ``ids``, as NLTK string tuples:
    order N only (to score), or orders 1..N (to fit), exactly the n-grams ``count_ngrams`` counts."""
    rows = names[padded_ngrams(*as_sequences(ids), order, padding="full")]  # (P, N) strings
    orders = range(1, order + 1) if all_orders else [order]
    return [tuple(row[order - n :]) for row in rows.tolist() for n in orders]


def nltk_vocabulary(index):
    """NLTK's Vocabulary of the training words with <s> and </s> (plus its own "<UNK>")."""
    return Vocabulary([w for w in index if w != UNK] + [START, END])


# ---- perplexities --------------------------------------------------------------------------------


def relative(ours, theirs):
    if math.isinf(ours) or math.isinf(theirs):
        return 0.0 if ours == theirs else math.inf
    return abs(ours - theirs) / abs(theirs)


def nltk_fit(cls, order, vocabulary, train_ngrams, **kwargs):
    lm = cls(order=order, vocabulary=vocabulary, **kwargs)
    lm.fit([train_ngrams])
    return lm


def compare_additive(train, sample, test, index, orders, alpha):
    """MLE, Laplace and Lidstone at each order: ours and NLTK's perplexity; returns the goal rows."""
    names, vocabulary_size = id_names(index), len(index) + 3 + 1  # + 1: NLTK's |V| also counts <s>
    vocabulary = nltk_vocabulary(index)
    goals = []
    print(f"{'estimator':<14}{'order':>6}{'set':>22}{'ours':>16}{'NLTK':>16}{'rel. diff':>11}")
    for order in orders:
        counts = count_ngrams(train, order, vocabulary_size=vocabulary_size, padding="full")
        assert counts.num_words == len(vocabulary), (counts.num_words, len(vocabulary))
        mle = nltk_fit(MLE, order, vocabulary, nltk_ngrams(train, order, names, all_orders=True))
        test_ngrams = nltk_ngrams(test, order, names, all_orders=False)
        ours_mle = MaximumLikelihood(counts)
        finite = [s for s, lp in zip(test, ours_mle.log_prob(test)[0]) if np.isfinite(lp)]
        sets = [("train sample", sample), ("test", test)] + ([(f"test, {len(finite)} finite", finite)] if finite else [])
        rows = []
        for label, sentences in sets:
            ngrams = test_ngrams if sentences is test else nltk_ngrams(sentences, order, names, all_orders=False)
            rows.append(("MLE", label, ours_mle.perplexity(sentences), mle.perplexity(ngrams)))
        for name, gamma in (("Laplace", 1.0), (f"Lidstone {alpha:g}", alpha)):
            theirs = (Laplace(order=order, vocabulary=vocabulary, counter=mle.counts) if gamma == 1.0 else
                      Lidstone(gamma, order=order, vocabulary=vocabulary, counter=mle.counts))  # fmt: skip
            ours = AdditiveSmoothing(counts, alpha=gamma)
            rows.append((name, "test", ours.perplexity(test), theirs.perplexity(test_ngrams)))
        for name, label, ours_ppl, nltk_ppl in rows:
            print(f"{name:<14}{order:>6}{label:>22}{ours_ppl:>16.8f}{nltk_ppl:>16.8f}{relative(ours_ppl, nltk_ppl):>11.1e}")
        for name in ("MLE", "Laplace", f"Lidstone {alpha:g}"):
            worst = max(relative(o, t) for n, _, o, t in rows if n == name)
            goals.append((name.split()[0].lower(), order, worst))
    return goals


def nltk_kneser_ney_numpy(counts, discount):
    """NLTK's KneserNeyInterpolated re-derived in NumPy on our (full-padded) counts: returns p(ngrams).

    From nltk/lm/smoothing.py and models.py: at the top order alpha = max(#(h w) - D, 0) / #(h); at a
    lower order alpha = max(N1+(. h w) - D, 0) / N1+(. h .); gamma = D N1+(h .) / (the same
    denominator); a history with no counts passes the lower order through (alpha 0, gamma 1); and the
    bottom is the undiscounted continuation unigram N1+(. w) / N1+(. .), with no uniform term.
    """
    size, order = counts.vocabulary_size, counts.order
    levels = []
    for n in range(1, order + 1):
        keys = counts.keys[n - 1]
        if n == order:
            value = counts.counts[n - 1]
        else:  # continuation counts N1+(. w_{i-n+1:i}) from the distinct (n+1)-grams
            suffixes, continuation = np.unique(counts.keys[n] % size**n, return_counts=True)
            value = lookup(suffixes, continuation, keys)
        history, (total, types) = history_sums(keys, [value, np.ones_like(value)], size)
        raw_history, _ = history_sums(keys, [counts.counts[n - 1]], size)
        levels.append((keys, value, history, total, types, raw_history))

    def probability(ngrams):
        keys, value, *_ = levels[0]
        p = lookup(keys, value, ngrams[:, -1]) / value.sum()
        for n in range(2, order + 1):
            keys, value, history, total, types, raw_history = levels[n - 1]
            query = pack(ngrams[:, order - n :], size)
            seen = np.isin(query // size, raw_history)
            h_total = np.maximum(lookup(history, total, query // size), 1)
            alpha = np.maximum(lookup(keys, value, query) - discount, 0) / h_total
            gamma = discount * lookup(history, types, query // size) / h_total
            p = np.where(seen, alpha + gamma * p, p)
        return p

    return probability


def compare_kneser_ney(train, test, index, orders, discount=0.1):
    """Ours (modified KN) and NLTK's KneserNeyInterpolated, with a NumPy re-derivation of NLTK's."""
    names, vocabulary_size = id_names(index), len(index) + 3 + 1
    vocabulary = nltk_vocabulary(index)
    flat, lengths = as_sequences(test)
    print(f"{'order':>5}{'ours (modified KN)':>20}{'NLTK KN D=0.1':>16}{'NumPy NLTK KN':>16}{'rel. diff':>11}{'NLTK s/token':>14}")
    for order in orders:
        counts = count_ngrams(train, order, vocabulary_size=vocabulary_size, padding="full")
        lm = nltk_fit(KneserNeyInterpolated, order, vocabulary, nltk_ngrams(train, order, names, all_orders=True),
                      discount=discount)  # fmt: skip
        test_ngrams = nltk_ngrams(test, order, names, all_orders=False)
        start = time.perf_counter()
        theirs = lm.perplexity(test_ngrams)
        per_token = (time.perf_counter() - start) / len(test_ngrams)
        replica = nltk_kneser_ney_numpy(counts, discount)(padded_ngrams(flat, lengths, order, padding="full"))
        replica = float(np.exp(-np.log(replica).mean()))
        ours = KneserNey(counts).perplexity(test)
        print(f"{order:>5}{ours:>20.4f}{theirs:>16.4f}{replica:>16.4f}{relative(replica, theirs):>11.1e}{per_token:>14.4f}")
        print(f"      NLTK's scoring rate is {per_token * 1e6 / 3600:.1f} h per 1M tokens; our discounts (D1, D2, D3+) "
              f"per order: {[np.round(d, 3).tolist() for d in KneserNey(counts).discounts]}")  # fmt: skip


# ---- speed and cost ------------------------------------------------------------------------------


def speed_corpus(data, tokens):
    """All the English sentences, cycled from the start until ``tokens`` predicted tokens (words + </s>)."""
    pool = [s for name in ENGLISH for s in read_sentences(Path(data) / name)]
    sentences, total, i = [], 0, 0
    while total < tokens:
        sentences.append(pool[i % len(pool)])
        total += len(pool[i % len(pool)]) + 1
        i += 1
    return sentences, total, len(pool), sum(len(s) + 1 for s in pool)


def ours_laplace(sentences, order):
    index, ids = index_words(sentences)
    model = AdditiveSmoothing(count_ngrams(ids, order, vocabulary_size=len(index) + 4, padding="full"), alpha=1.0)
    return model.perplexity(ids)


def nltk_laplace(sentences, order):
    """NLTK end to end: the same full-padded n-grams built in Python, its Vocabulary, fit, perplexity."""
    def ngrams(words):
        padded = [START] * (order - 1) + list(words) + [END]
        return [tuple(padded[i - n + 1 : i + 1]) for i in range(order - 1, len(padded)) for n in range(1, order + 1)]

    vocabulary = Vocabulary([w for s in sentences for w in s if w != UNK] + [START, END])
    lm = Laplace(order=order, vocabulary=vocabulary)
    lm.fit(ngrams(s) for s in sentences)
    return lm.perplexity(g for s in sentences for g in ngrams(s) if len(g) == order)


def nltk_native_laplace(sentences, order):
    """NLTK as its documentation goes: padded_everygram_pipeline (N-1 </s> too, n-grams of padding alone)."""
    train, vocabulary_text = padded_everygram_pipeline(order, sentences)
    lm = Laplace(order=order)
    lm.fit(train, vocabulary_text)
    return lm.perplexity(g for s in sentences for g in everygrams(list(pad_both_ends(s, n=order)), order, order))


def timed(function, *args):
    """(wall seconds, CPU seconds, result) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def compare_speed(sentences, order):
    """Ours (median of 5) against NLTK on the same n-grams (once); NLTK's own pipeline for reference."""
    ours = [timed(ours_laplace, sentences, order) for _ in range(5)]
    wall, cpu = statistics.median(t[0] for t in ours), statistics.median(t[1] for t in ours)
    nltk_wall, nltk_cpu, nltk_ppl = timed(nltk_laplace, sentences, order)
    native_wall, native_cpu, native_ppl = timed(nltk_native_laplace, sentences, order)
    print(f"\n{'fit + score, Laplace trigram':<58}{'wall s':>8}{'CPU s':>8}{'perplexity':>14}")
    print(f"{'ours: ids, count_ngrams, AdditiveSmoothing, perplexity':<58}{wall:>8.2f}{cpu:>8.2f}{ours[0][2]:>14.6f}")
    print(f"{'NLTK: same n-grams, Vocabulary, Laplace.fit, perplexity':<58}{nltk_wall:>8.2f}{nltk_cpu:>8.2f}{nltk_ppl:>14.6f}")
    print(f"{'NLTK: its padded_everygram_pipeline (other counts)':<58}{native_wall:>8.2f}{native_cpu:>8.2f}{native_ppl:>14.6f}")
    print(f"ours, 5 runs (wall s): {', '.join(f'{t[0]:.2f}' for t in ours)}; same perplexity as NLTK's: "
          f"rel. diff {relative(ours[0][2], nltk_ppl):.1e}; speed-up {nltk_wall / wall:.1f}x wall, {nltk_cpu / cpu:.1f}x CPU "
          f"({native_wall / wall:.1f}x against NLTK's own pipeline)")  # fmt: skip
    return nltk_wall / wall


def measure(function, *args):
    """(seconds, tracemalloc peak bytes above the start, result) of one call."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    result = function(*args)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    start = time.perf_counter()
    function(*args)
    return time.perf_counter() - start, peak, result


def fit_cost(sentences, order):
    """Time and peak memory of a Kneser-Ney fit on ``sentences``: counting, the estimator, scoring."""
    index, ids = index_words(sentences)
    seconds, peak, counts = measure(count_ngrams, ids, order, len(index) + 3)
    held = sum(k.nbytes + c.nbytes for k, c in zip(counts.keys, counts.counts))
    print(f"n-grams per order: {[k.size for k in counts.keys]}, held in {held / 2**20:.1f} MiB of keys and counts")
    print(f"{'step':<34}{'seconds':>9}{'peak MiB':>10}")
    print(f"{'count_ngrams (orders 1..3)':<34}{seconds:>9.3f}{peak / 2**20:>10.1f}")
    seconds, peak, model = measure(KneserNey, counts)
    print(f"{'KneserNey(counts)':<34}{seconds:>9.3f}{peak / 2**20:>10.1f}")
    seconds, peak, perplexity = measure(model.perplexity, ids)
    print(f"{'perplexity of the ' + format(sum(len(s) + 1 for s in ids), ',') + ' tokens':<34}{seconds:>9.3f}{peak / 2**20:>10.1f}")
    print(f"(Kneser-Ney trigram perplexity of its own training text: {perplexity:.3f})")


# ---- main ----------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", help="the shared data folder (relative to the repository root)")
    parser.add_argument("--sample", type=int, default=2000, help="test (and training) sentences to compare on")
    parser.add_argument("--kn-sentences", type=int, default=60, help="test sentences for NLTK's slow Kneser-Ney")
    parser.add_argument("--alpha", type=float, default=0.1, help="Lidstone's added count")
    parser.add_argument("--speed-tokens", type=int, default=1_000_000, help="predicted tokens of the speed run")
    parser.add_argument("--quick", action="store_true", help="a small run to check the script works")
    args = parser.parse_args()
    data = Path(__file__).resolve().parents[1] / args.data  # relative to the repository root (or absolute)
    train_words = read_sentences(data / "wikitext-2/valid.txt")
    test_words = read_sentences(data / "wikitext-2/test.txt")
    if args.quick:
        train_words, args.sample, args.kn_sentences, args.speed_tokens = train_words[:1500], 200, 10, 30_000
    index, train = index_words(train_words)
    test = to_ids(test_words[: args.sample], index)
    print(f"train: WikiText-2 valid.txt, {len(train):,} sentences, {sum(len(s) + 1 for s in train):,} predicted tokens, "
          f"{len(index) + 2} words in V (with [UNK] and </s>); test: the first {len(test):,} sentences of test.txt, "
          f"{sum(len(s) + 1 for s in test):,} tokens, {sum(int((s == 1).sum()) for s in test):,} of them [UNK]")  # fmt: skip

    print("\n== perplexities on the same counts (ours: count_ngrams(padding='full', vocabulary_size + 1)) ==")
    goals = compare_additive(train, train[: args.sample], test, index, (1, 2, 3), args.alpha)

    print(f"\n== Kneser-Ney (report only), the first {args.kn_sentences} test sentences ==")
    compare_kneser_ney(train, test[: args.kn_sentences], index, (2, 3))
    print("NLTK's KneserNeyInterpolated is not modified Kneser-Ney: one discount D = 0.1 at every order (ours: D1, D2,\n"
          "D3+ per order from its count-of-counts); its bottom order is the undiscounted continuation unigram\n"
          "N1+(. w) / N1+(. .), with no uniform 1/|V| below it (ours discounts the unigram continuation counts too\n"
          "and interpolates with 1/d), so a word never seen after any history gets probability 0 there. Its order 1\n"
          "divides by zero (its unigram level reads the bigram counts). NLTK scores a lower-order probability by a\n"
          "scan over every stored n-gram of the order above (_continuation_counts), so each query costs O(#n-grams).")  # fmt: skip

    print(f"\n== speed: a Laplace trigram, fit and score {args.speed_tokens:,} tokens ==")
    sentences, tokens, pool_sentences, pool_tokens = speed_corpus(data, args.speed_tokens)
    print(f"text: all the English ({pool_sentences:,} sentences, {pool_tokens:,} tokens), cycled: "
          f"{len(sentences):,} sentences, {tokens:,} predicted tokens")  # fmt: skip
    print(f"\n-- ours: what a {tokens:,}-token Kneser-Ney trigram costs (single padding) --")
    fit_cost(sentences, 3)
    speedup = compare_speed(sentences, 3)
    print()
    for name, order, worst in goals:
        print(f"goal nltk_perplexity_{name}_{order}: max relative difference {worst:.1e} (target <= {TOLERANCE:g}) "
              f"{'met' if worst <= TOLERANCE else 'not met'}")
    label = "1m" if args.speed_tokens >= 1_000_000 else f"{args.speed_tokens // 1000}k"
    print(f"goal nltk_speed_{label}_tokens: {speedup:.1f}x (target >= 20x NLTK) {'met' if speedup >= 20 else 'not met'}")


if __name__ == "__main__":
    main()
