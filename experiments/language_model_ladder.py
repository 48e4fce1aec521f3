"""Seed 004's language-model ladder on real text: n-grams with each estimator, then the window, RNN and
Transformer language models, one vocabulary, one test set, one perplexity definition.

Corpora (from ``--data``, default ``../shared/data``; see its README):

- ``wikitext-2`` (words): WikiText-2's raw validation text to train on and its test text to score
  (the training set is not in ../shared/data, so the figures are not comparable with published
  WikiText-2 ones). Headings are dropped and paragraphs split into sentences after " . ". The
  vocabulary is every word seen at least twice in training (``WordTokenizer(split_punctuation=False,
  min_frequency=2)``); the others, and WikiText's own ``<unk>``, are the tokenizer's [UNK].
- ``korean`` (characters): the Korean questions and answers of ``chatbot-ko`` and the Korean sides of
  ``korean-english``, one sentence a line, shuffled (seed 0) and split 90/10; the vocabulary is every
  character seen at least twice in training (``CharTokenizer``), spaces included.

Sentences of more than ``MAX_TOKENS`` tokens are left out of both sides, so that every model (the
Transformer has ``MAX_TOKENS + 2`` positions) scores exactly the same tokens.

The ladder: orders 1, 2, 3 with each estimator of ``ngram_language_model`` (maximum likelihood,
Laplace, add-k, linear interpolation with weights fitted by EM on the last 10% of the training
sentences and counts on the other 90%, Katz, interpolated modified Kneser-Ney), then
``window_language_model`` (Bengio et al. 2003), ``rnn_language_model`` (an LSTM) and
``transformer_language_model`` (GPT), each trained for ``--minutes`` on 2 CPU cores.

Perplexity, the package's one definition: exp of the mean negative log-likelihood per predicted token,
``</s>`` ([END]) counted, ``<s>`` not, an unknown word scored as the token ``<unk>``; every model is scored
by ``recipes.score`` on the same test sentences, so the table's token count is the same on each row.
Maximum likelihood gives an unseen test n-gram probability 0: its perplexity is inf.

Prints one table per corpus (perplexity and training time), writes
experiments/results/language_model_ladder.png, and ends with goal lines for the seeds' claims: smoothing
beats maximum likelihood and Laplace, higher orders help once smoothed, and the neural models beat the
best n-gram.

Usage:
    python experiments/language_model_ladder.py                  # about 35 minutes on 2 CPU cores
    python experiments/language_model_ladder.py --minutes 1      # shorter neural training
    python experiments/language_model_ladder.py --quick          # a smoke run (a few minutes)
"""

import argparse
import csv
import math
import os
import random
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MAX_TOKENS = 126
SCORE_BATCH = 512
N_GRAMS = [
    ("maximum likelihood", "maximum_likelihood", {}),
    ("Laplace (add-1)", "additive", {"alpha": 1.0}),
    ("add-k (k=0.01)", "additive", {"alpha": 0.01}),
    ("linear interpolation (EM)", "linear_interpolation", {}),
    ("Katz back-off", "katz", {}),
    ("Kneser-Ney (modified)", "kneser_ney", {}),
]


# ------------------------------------------------------------------------------------------------
# Corpora.


def wikitext(folder):
    def sentences(path):
        out = []
        with open(path, encoding="utf-8") as file:
            for line in file:
                line = line.strip()
                if not line or line.startswith("="):
                    continue
                for part in line.split(" . "):
                    part = part.strip()
                    if part:
                        out.append(part if part.endswith(".") else part + " .")
        return out

    train, test = sentences(os.path.join(folder, "wikitext-2", "valid.txt")), sentences(os.path.join(folder, "wikitext-2", "test.txt"))
    seen = data.WordTokenizer(split_punctuation=False, min_frequency=2).adapt(train).get_vocabulary()[4:]
    # WikiText's own "<unk>" (its rare words) is the tokenizer's [UNK], with the words seen once.
    tokenizer = data.WordTokenizer(split_punctuation=False, vocabulary=[w for w in seen if w != "<unk>"])
    return train, test, tokenizer


def korean(folder):
    lines = []
    with open(os.path.join(folder, "chatbot-ko", "ChatbotData.csv"), encoding="utf-8") as file:
        for row in csv.DictReader(file):
            lines += [row["Q"].strip(), row["A"].strip()]
    ko = os.path.join(folder, "korean-english")
    for name in sorted(os.listdir(ko)):
        if name.endswith(".ko"):
            with open(os.path.join(ko, name), encoding="utf-8") as file:
                lines += [line.strip() for line in file]
    lines = [line for line in lines if line]
    random.Random(0).shuffle(lines)
    cut = int(0.9 * len(lines))
    train, test = lines[:cut], lines[cut:]
    tokenizer = data.CharTokenizer(min_frequency=2).adapt(train)
    return train, test, tokenizer


def short_enough(sentences, tokenizer):
    lengths = tokenizer.tokenize_ragged(tf.constant(sentences)).row_lengths().numpy()
    return [s for s, n in zip(sentences, lengths) if 0 < n <= MAX_TOKENS]


# ------------------------------------------------------------------------------------------------
# Scoring: recipes.score on every test sentence, the package's perplexity.


def perplexity(model, test):
    test = sorted(test, key=len)  # batches of similar lengths: the step-by-step scorers run as many steps as the longest
    log_prob, tokens = 0.0, 0
    for start in range(0, len(test), SCORE_BATCH):
        scores = recipes.score(model, test[start : start + SCORE_BATCH])
        log_prob += float(np.sum(scores["log_prob"].astype("float64")))
        tokens += int(np.sum(scores["lengths"]))
    return math.exp(-log_prob / tokens) if math.isfinite(log_prob) else math.inf, tokens


class TimeBudget(keras.callbacks.Callback):
    """Stops training once ``seconds`` have passed (checked after every batch)."""

    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True


def sentence_batches(train, tokenizer, batch_size, pad_to_multiple_of=None):
    dataset = tf.data.Dataset.from_tensor_slices(train).shuffle(len(train), seed=0, reshuffle_each_iteration=True)
    dataset = dataset.apply(data.tokenize(tokenizer)).apply(data.teacher_forcing_shift())
    batches = data.batch_with_padding(batch_size, drop_remainder=True, pad_to_multiple_of=pad_to_multiple_of)
    return dataset.apply(batches).repeat().prefetch(2)


def trained(model, batches, seconds):
    start = time.perf_counter()
    model.fit(batches, epochs=10_000, steps_per_epoch=50, callbacks=[TimeBudget(seconds)], verbose=0)
    return time.perf_counter() - start


def step_seconds(build, batches, steps=15):
    """Seconds per training step of a model from ``build(decay_steps)``, measured over a few steps."""
    model = build(1000)
    iterator = iter(batches)
    model.train_on_batch(*next(iterator))
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*next(iterator))
    return (time.perf_counter() - start) / steps


def neural_rungs(train, test, tokenizer, seconds, words):
    keras.utils.set_random_seed(0)
    rows = []
    size = dict(embedding_dim=128, units=256) if words else dict(embedding_dim=64, units=256)
    window = recipes.window_language_model(context_size=4, **size, max_output_length=MAX_TOKENS + 1, text_tokenizer=tokenizer)
    pairs = tf.data.Dataset.from_tensor_slices(train).shuffle(len(train), seed=0).apply(
        data.window_batches(tokenizer, 4, batch_size=256)).repeat().prefetch(2)  # fmt: skip
    rows.append(("window LM (Bengio 2003, n=5)", window, trained(window, pairs, seconds)))
    rnn = recipes.rnn_language_model(cell="lstm", **size, max_output_length=MAX_TOKENS + 1, text_tokenizer=tokenizer)
    rows.append(("RNN LM (LSTM)", rnn, trained(rnn, sentence_batches(train, tokenizer, 32), seconds)))
    gpt_batches = sentence_batches(train, tokenizer, 32, pad_to_multiple_of=16)  # 8 shapes: XLA compiles each once

    def gpt(decay_steps):
        return recipes.transformer_language_model(
            num_layers=4, num_heads=4, hidden_dim=128, dropout=0.1, max_length=MAX_TOKENS + 2, warmup_steps=100,
            decay_steps=decay_steps, learning_rate=1e-3, min_learning_rate=1e-4,
            max_output_length=MAX_TOKENS + 1, text_tokenizer=tokenizer,
        )  # fmt: skip

    steps = max(200, int(seconds / step_seconds(gpt, gpt_batches)))  # the cosine schedule ends with the budget
    transformer = gpt(steps)
    rows.append(("Transformer LM (GPT, 4x128)", transformer, trained(transformer, gpt_batches, seconds)))
    return [(name, *perplexity(model, test), spent) for name, model, spent in rows]


def ngram_rungs(train, test, tokenizer):
    rows = []
    cut = int(0.9 * len(train))
    for order in (1, 2, 3):
        for label, estimator, settings in N_GRAMS:
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the fallback discounts of small orders are reported by the estimators
                if estimator == "linear_interpolation":
                    model = recipes.ngram_language_model(train[:cut], held_out=train[cut:], order=order, estimator=estimator,
                                                         text_tokenizer=tokenizer)  # fmt: skip
                else:
                    model = recipes.ngram_language_model(train, order=order, estimator=estimator, text_tokenizer=tokenizer, **settings)
            spent = time.perf_counter() - start
            rows.append((f"{order}-gram {label}", *perplexity(model, test), spent))
    return rows


# ------------------------------------------------------------------------------------------------


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(7 * len(results), 6), squeeze=False)
    for axis, (corpus, rows) in zip(axes[0], results.items()):
        names = [r[0] for r in rows]
        values = [r[1] if math.isfinite(r[1]) else np.nan for r in rows]
        colors = ["tab:gray" if "maximum" in n else "tab:blue" if "gram" in n else "tab:red" for n in names]
        axis.barh(range(len(rows)), values, color=colors)
        axis.set_yticks(range(len(rows)), names, fontsize=8)
        axis.set_xscale("log")
        axis.invert_yaxis()
        axis.set_xlabel("test perplexity (log scale; maximum likelihood is inf)")
        axis.set_title(f"{corpus}: {rows[0][2]:,} test tokens")
        for i, value in enumerate(values):
            axis.text(value if np.isfinite(value) else 1, i, f" {rows[i][1]:.1f}", va="center", fontsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=110)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "data"))
    parser.add_argument("--corpora", default="wikitext-2,korean")
    parser.add_argument("--minutes", type=float, default=4.0, help="training time of each neural model")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 3,000 training sentences, 10 s per neural model")
    args = parser.parse_args()
    readers = {"wikitext-2": wikitext, "korean": korean}
    results, goals = {}, []
    for corpus in args.corpora.split(","):
        train, test, tokenizer = readers[corpus](args.data)
        train, test = short_enough(train, tokenizer), short_enough(test, tokenizer)
        if args.quick:
            train, test = train[:3000], test[:300]
        seconds = 10 if args.quick else 60 * args.minutes
        print(f"\n{corpus}: {len(train):,} training and {len(test):,} test sentences, vocabulary {tokenizer.vocabulary_size():,}")
        rows = ngram_rungs(train, test, tokenizer) + neural_rungs(train, test, tokenizer, seconds, words=corpus == "wikitext-2")
        assert len({r[2] for r in rows}) == 1, "every model scores the same tokens"
        print("\n| model | test perplexity | training time (s) |\n|---|---:|---:|")
        for name, value, _, spent in rows:
            print(f"| {name} | {value:.2f} | {spent:.1f} |")
        order = sorted(rows, key=lambda r: r[1])
        print("order, best first: " + " < ".join(f"{r[0]} ({r[1]:.1f})" for r in order[:6]) + " < ...")
        results[corpus] = [(r[0], r[1], r[2]) for r in rows]
        ppl = {r[0]: r[1] for r in rows}
        best_ngram = min((r for r in rows if "gram" in r[0]), key=lambda r: r[1])
        best_neural = min((r for r in rows if "gram" not in r[0]), key=lambda r: r[1])
        kn3, laplace3, mle3 = ppl["3-gram Kneser-Ney (modified)"], ppl["3-gram Laplace (add-1)"], ppl["3-gram maximum likelihood"]
        kn1, kn2 = ppl["1-gram Kneser-Ney (modified)"], ppl["2-gram Kneser-Ney (modified)"]
        goals += [
            (f"{corpus}_smoothing", f"Kneser-Ney trigram {kn3:.1f}, Laplace {laplace3:.1f}, maximum likelihood {mle3}",
             "Kneser-Ney < Laplace < maximum likelihood", kn3 < laplace3 < mle3),
            (f"{corpus}_orders", f"Kneser-Ney 1/2/3-gram {kn1:.1f} / {kn2:.1f} / {kn3:.1f}", "falling with the order",
             kn1 > kn2 > kn3),
            (f"{corpus}_neural", f"best neural {best_neural[0]} {best_neural[1]:.1f} vs best n-gram {best_ngram[0]} {best_ngram[1]:.1f}",
             "the best neural model below the best n-gram", best_neural[1] < best_ngram[1]),
        ]  # fmt: skip
    print(f"\nplot: {plot(results, os.path.join(RESULTS, 'language_model_ladder.png'))}")
    for name, measured, target, met in goals:
        print(f"goal ladder_{name}: {measured} (target {target}) {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
