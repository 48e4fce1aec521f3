"""``recipes.train_word2vec`` against gensim's ``Word2Vec``: the same corpus and settings, quality and speed.

Corpus: WikiText-2 ``valid.txt`` and ``test.txt`` from ``--data`` (default ``../shared/data``; the
training set is not there, see its README) and gensim's own ``lee_background.cor`` from its test data,
one line (a paragraph) a sentence, lower-cased, split on whitespace (WikiText-2 is tokenized already);
WikiText-2 headings, blank lines and its literal ``<unk>`` left out. Both sides train on the same
token lists: our ``WordTokenizer(min_frequency=5)`` vocabulary is gensim's ``min_count=5``, and the
words outside it are dropped before the windows by both.

Settings (gensim's defaults but the ones named): ``--architecture`` skip-gram (``sg=1``) or CBOW,
d = 100, window 5, 5 negative samples, ``sample=1e-3``, alpha 0.025 decaying linearly to 0.0001, 5
epochs; gensim runs ``workers=2`` (this machine's two cores); ours runs TensorFlow on both.

Quality: WordSim353 Spearman correlation and the Google analogy accuracy (``wordsim353.tsv`` and
``questions-words.txt`` of gensim's test data), both computed by gensim's own ``KeyedVectors``
evaluators, ours after a round trip through our word2vec text file (``WordVectors.save_word2vec_format``
read by ``KeyedVectors.load_word2vec_format``). Our evaluators are checked against gensim's on the
same vectors. Speed: corpus words (in the vocabulary) times epochs over the training seconds; gensim's
``train`` against our ``train_word2vec`` (its counting pass included; vocabulary building excluded on
both sides). Each side trains ``--repeats`` times, interleaved; the medians are compared. A quality goal
whose gensim median is itself under the 0.02 tolerance is printed as undecided and not met: "within
0.02" of such a peer holds for a model that learned nothing.

The last lines are one per goal: ``goal NAME: ... met`` or ``... not met``.

Run: ``pip install -e '.[bench-word2vec]'`` then ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python
benchmarks/word2vec_gensim.py`` (``--quick``: 2,000 lines and 1 epoch, to check that it runs).
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import logging  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from gensim.models import KeyedVectors, Word2Vec  # noqa: E402
from gensim.test.utils import datapath  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402

QUALITY_TOLERANCE = 0.02
SPEED_TARGET = 0.5


def corpus(folder, max_lines=None):
    """Token lists: WikiText-2 valid and test paragraphs, then lee_background.cor lines, lower-cased."""
    lines = []
    for name in ("valid.txt", "test.txt"):
        for line in (Path(folder) / "wikitext-2" / name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("="):
                lines.append([w for w in line.lower().split() if w != "<unk>"])
    with open(datapath("lee_background.cor"), encoding="utf-8") as file:
        lines += [line.lower().split() for line in file if line.strip()]
    return lines[:max_lines]


def train_ours(sentences, tokenizer, args, seed):
    texts = [" ".join(words) for words in sentences]
    start = time.perf_counter()
    model = recipes.train_word2vec(
        texts, tokenizer, architecture=args.architecture, embedding_dim=args.dim, window=args.window,
        negative_samples=args.negative, subsample=args.sample, epochs=args.epochs, batch_size=args.batch_size,
        steps_per_execution=args.steps_per_execution, seed=seed, verbose=0,
    )  # fmt: skip
    return recipes.word_vectors(model), time.perf_counter() - start


def train_gensim(sentences, args, seed):
    model = Word2Vec(
        vector_size=args.dim, window=args.window, negative=args.negative, sample=args.sample, sg=int(args.architecture == "skip_gram"),
        min_count=args.min_count, workers=2, seed=seed,
    )  # fmt: skip
    model.build_vocab(sentences)
    start = time.perf_counter()
    model.train(sentences, total_examples=model.corpus_count, epochs=args.epochs)
    return model.wv, time.perf_counter() - start


def gensim_scores(keyed_vectors):
    spearman = keyed_vectors.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0]
    analogies = keyed_vectors.evaluate_word_analogies(datapath("questions-words.txt"))[0]
    return float(spearman), float(analogies)


def as_keyed_vectors(vectors, folder):
    """Our vectors through our word2vec text file, read by gensim."""
    return KeyedVectors.load_word2vec_format(vectors.save_word2vec_format(os.path.join(folder, "ours.txt")))


def goal(name, measured, target, met):
    print(f"goal {name}: {measured} (target {target}) {'met' if met else 'not met'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--architecture", default="skip_gram", choices=data.ARCHITECTURES)
    parser.add_argument("--dim", type=int, default=100)
    parser.add_argument("--window", type=int, default=5)
    parser.add_argument("--negative", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1e-3)
    parser.add_argument("--min-count", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--steps-per-execution", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.repeats = 1, 1
    logging.getLogger("gensim").setLevel(logging.WARNING)

    sentences = corpus(args.data, 2000 if args.quick else None)
    tokenizer = data.WordTokenizer(split_punctuation=False, min_frequency=args.min_count).adapt([" ".join(s) for s in sentences])
    known = set(tokenizer.get_vocabulary())
    words = sum(1 for s in sentences for w in s if w in known)
    print(f"corpus: {len(sentences)} lines, {sum(map(len, sentences))} tokens, {words} in the vocabulary of {len(known) - 4} words")
    print(f"settings: {args.architecture}, d={args.dim}, window={args.window}, negative={args.negative}, sample={args.sample}, "
          f"epochs={args.epochs}, batch_size={args.batch_size}")  # fmt: skip

    ours, theirs = [], []
    with tempfile.TemporaryDirectory() as folder:
        for repeat in range(args.repeats):
            vectors, seconds = train_gensim(sentences, args, seed=repeat + 1)
            theirs.append((gensim_scores(vectors), seconds))
            print(f"gensim run {repeat + 1}: WordSim353 {theirs[-1][0][0]:.4f}, analogies {theirs[-1][0][1]:.4f}, {seconds:.1f} s")
            vectors, seconds = train_ours(sentences, tokenizer, args, seed=repeat + 1)
            ours.append((gensim_scores(as_keyed_vectors(vectors, folder)), seconds))
            print(f"ours   run {repeat + 1}: WordSim353 {ours[-1][0][0]:.4f}, analogies {ours[-1][0][1]:.4f}, {seconds:.1f} s")
        own = (vectors.evaluate_word_pairs(datapath("wordsim353.tsv"))[0], vectors.evaluate_analogies(datapath("questions-words.txt"))[0])
        print(f"our evaluators on our last vectors: WordSim353 {own[0]:.6f}, analogies {own[1]:.6f}")

    def median(runs, index):
        return statistics.median(r[0][index] for r in runs)

    ours_speed = words * args.epochs / statistics.median(s for _, s in ours)
    gensim_speed = words * args.epochs / statistics.median(s for _, s in theirs)
    print(f"words per second: ours {ours_speed:,.0f}, gensim {gensim_speed:,.0f}")
    for index, metric in enumerate(("wordsim353_spearman", "analogy_accuracy")):
        difference = median(ours, index) - median(theirs, index)
        measured = f"{median(ours, index):.4f} vs gensim {median(theirs, index):.4f}, difference {difference:+.4f}"
        # A peer scoring under the tolerance cannot be told from a model that learned nothing: undecided, not met.
        decidable = median(theirs, index) > QUALITY_TOLERANCE
        if not decidable:
            measured += f"; undecided: gensim itself scores under {QUALITY_TOLERANCE} on this corpus"
        goal(f"{args.architecture}_{metric}", measured, f">= gensim - {QUALITY_TOLERANCE}", decidable and difference >= -QUALITY_TOLERANCE)
    agreement = max(abs(own[0] - ours[-1][0][0]), abs(own[1] - ours[-1][0][1]))
    goal("evaluators_agree_with_gensim", f"max difference {agreement:.1e}", "<= 1e-4", agreement <= 1e-4)
    ratio = ours_speed / gensim_speed
    goal(f"{args.architecture}_words_per_second", f"{ratio:.2f}x gensim", f">= {SPEED_TARGET}x", ratio >= SPEED_TARGET)


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
