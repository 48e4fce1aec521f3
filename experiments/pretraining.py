"""Pretraining then fine-tuning (seed 000) on two Korean tasks, against the same models trained from scratch.

Seed 000's claim: a model pretrained on unlabelled text (GPT: the next word from the left; BERT: masked words
from both sides; ELMo: a forward and a backward LM) needs fewer labelled examples for a downstream task. Each
family is pretrained once per tokenizer on unlabelled Korean text, then ``recipes.fine_tune`` starts a
downstream recipe from it; "scratch" is ``recipes.fine_tune`` from the same recipe left untrained (the same
architecture, the same training, random weights). Both are trained on 100, 1,000 and all labelled examples.

Data (``--data``, default ``../shared/data``):

- unlabelled: the Korean sides of ``korean-english/`` (the park news and jhe sentences) and ``chatbot-ko/``
  (questions and answers), without the test questions and test sentences of the two tasks below;
- (a) POS tagging: ``korean-english/jhe-koen-{dev,eval}.ko.pos`` (1,440 sentences, one word a line, BOS and EOS marking each sentence's ends); a word's
  tag is the Sejong tag of its first morpheme ("당신/NP+은/JX" -> NP); a permutation with seed 0, 80% to train,
  20% to test; a word tokenizer (whitespace words, ``min_frequency=2`` on the unlabelled text); token accuracy
  on the test words; ``sequence_tagger``;
- (b) classification: ``chatbot-ko/ChatbotData.csv`` questions, labels 0/1/2, the split of
  ``chatbot_classification.py`` (seed 0, 80/20); a syllable tokenizer; macro-F1 on the test questions;
  ``text_classifier`` with mean pooling over the first 40 syllables, the body's features plus syllable-bigram
  embeddings (``ngrams=2``, as the recipe's own encoders have by default); against the TF-IDF character 1-3-gram logistic regression
  (scikit-learn) fitted on all training questions.

Sizes: GPT and BERT 2 blocks of width 128 (4 heads), 64 positions; ELMo 2 LSTM layers of 128 per direction
over 128-wide embeddings. Pretraining: ``--pretrain-epochs`` epochs (batch 64). Fine-tuning: the same number
of update steps for every size (about ``--steps``; batch 16 for 100 examples, 32 for 1,000, 64 for all),
learning rate 1e-3 for the head, ``backbone_learning_rate`` 3e-4 for the body, dropout 0.1.

Prints a table and writes ``--out`` (default ``experiments/pretraining.png``): accuracy (tagging) and macro-F1
(classification) against labelled examples, solid lines pretrained, dashed from scratch. The last lines are one
per goal: ``goal NAME: ... met`` or ``... not met``.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python experiments/pretraining.py`` (``--quick`` to check that it runs;
``--tasks classification`` for one task; ``--results cells.json`` keeps every finished cell, so a stopped run
started again with it resumes where it stopped).
"""

import argparse
import csv
import glob
import json
import os
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

import chatbot_classification  # noqa: E402  (the split and the TF-IDF baseline of chatbot-ko)
from seqrecipes import data, recipes  # noqa: E402

MAX_LENGTH = 64  # the pretrained Transformers' positions and the tagger's longest sentence
QUESTION_LENGTH = 40  # the classifier's max_length: 99.9% of the questions are at most 42 syllables
SIZES = (100, 1000, None)  # None: all
FAMILIES = {
    "GPT": ("transformer_language_model", dict(num_layers=2, num_heads=4, hidden_dim=128, max_length=MAX_LENGTH, dropout=0.1)),
    "BERT": ("masked_language_model", dict(num_layers=2, num_heads=4, hidden_dim=128, max_length=MAX_LENGTH, dropout=0.1)),
    "ELMo": ("bidirectional_language_model", dict(embedding_dim=128, units=128, num_layers=2, dropout=0.1)),
}


def split(n, seed=0):
    order = np.random.default_rng(seed).permutation(n)
    cut = int(0.8 * n)
    return order[:cut], order[cut:]


def first_tag(analysis):
    """The Sejong tag of an eojeol's first morpheme: "당신/NP+은/JX" -> "NP" (a "/" or "+" may be a morpheme)."""
    match = re.match(r"^(.+?)/([A-Z]+)(?:\+|$)", analysis)
    return match.group(2) if match else "NA"


def pos_sentences(folder):
    sentences = []
    for name in ("jhe-koen-dev.ko.pos", "jhe-koen-eval.ko.pos"):
        words, tags = [], []
        with open(os.path.join(folder, "korean-english", name), encoding="utf-8") as file:
            for line in file:
                fields = line.rstrip("\n").split("\t")
                if len(fields) != 3:
                    continue
                if fields[1] == "BOS" and words:  # the second column marks a sentence's first and last word
                    sentences.append((words, tags))
                    words, tags = [], []
                words.append(fields[0])
                tags.append(first_tag(fields[2]))
                if fields[1] == "EOS":
                    sentences.append((words, tags))
                    words, tags = [], []
        if words:
            sentences.append((words, tags))
    return sentences


def chatbot_lines(folder):
    """The questions and the answers of chatbot-ko (unlabelled text)."""
    with open(os.path.join(folder, "chatbot-ko", "ChatbotData.csv"), encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    return [row["Q"] for row in rows] + [row["A"] for row in rows]


def unlabelled_text(folder, held_out):
    lines = []
    for path in sorted(glob.glob(os.path.join(folder, "korean-english", "*.ko"))):
        with open(path, encoding="utf-8") as file:
            lines += [line.strip() for line in file if line.strip()]
    lines += chatbot_lines(folder)
    return [line for line in lines if line not in held_out]


def pretrain(family, tokenizer, lines, epochs, seed=0):
    recipe, sizes = FAMILIES[family]
    keras.utils.set_random_seed(seed)
    steps = epochs * (len(lines) // 64 + 1)
    schedule = {} if family == "ELMo" else dict(warmup_steps=min(200, steps // 10), decay_steps=max(steps, 201))
    model = getattr(recipes, recipe)(**sizes, **schedule, text_tokenizer=tokenizer)
    texts = tf.data.Dataset.from_tensor_slices(lines).shuffle(len(lines), seed=seed)
    if family == "BERT":
        batches = texts.apply(data.masked_lm_batches(tokenizer, 64, MAX_LENGTH, seed=seed))
    else:
        ids = texts.apply(data.tokenize(tokenizer)).map(lambda t: t[: MAX_LENGTH - 2])
        shift = data.bidirectional_lm_targets() if family == "ELMo" else data.teacher_forcing_shift()
        batches = ids.apply(shift).apply(data.batch_with_padding(64, pad_to_multiple_of=16))
    start = time.perf_counter()
    history = model.fit(batches.prefetch(tf.data.AUTOTUNE), epochs=epochs, verbose=0)
    print(f"  pretrained {family} on {len(lines)} lines ({type(tokenizer).__name__}): loss {history.history['loss'][0]:.3f} -> "
          f"{history.history['loss'][-1]:.3f}, {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
    return model


def untrained(family, tokenizer):
    recipe, sizes = FAMILIES[family]
    return getattr(recipes, recipe)(**sizes, text_tokenizer=tokenizer)


def _plan(n, steps):
    batch = 16 if n <= 100 else 32 if n <= 1000 else 64
    return batch, max(1, round(steps * batch / n))


def fine_tune_classifier(lm, texts, labels, test_texts, steps, seed=0):
    keras.utils.set_random_seed(seed)
    model = recipes.fine_tune(lm, "text_classifier", num_classes=3, max_length=QUESTION_LENGTH, pooling="mean", dropout=0.1,
                              ngrams=2, backbone_learning_rate=3e-4)  # fmt: skip
    tokenizer = model.tokenizer("text")
    batch, epochs = _plan(len(texts), steps)
    pairs = tf.data.Dataset.from_tensor_slices((texts, labels)).apply(data.tokenize(tokenizer)).apply(data.truncate_or_pad(QUESTION_LENGTH))
    model.fit(pairs.cache().shuffle(len(texts), seed=seed).batch(batch), epochs=epochs, verbose=0)
    return recipes.predict(model, test_texts)["scores"].argmax(axis=1)


def fine_tune_tagger(lm, sentences, test_sentences, steps, seed=0):
    keras.utils.set_random_seed(seed)
    tags = sorted({t for _, sentence_tags in sentences + test_sentences for t in sentence_tags})
    model = recipes.fine_tune(lm, "sequence_tagger", tags_tokenizer=tags, max_length=MAX_LENGTH, dropout=0.1, backbone_learning_rate=3e-4)
    words, tag_tokenizer = model.tokenizer("text"), model.tokenizer("tags")
    batch, epochs = _plan(len(sentences), steps)

    def dataset(rows):
        cut = [(w[:MAX_LENGTH], t[:MAX_LENGTH]) for w, t in rows]
        return tf.data.Dataset.from_generator(lambda: iter(cut), output_signature=(tf.TensorSpec([None], tf.string),) * 2)

    train = dataset(sentences).cache().shuffle(len(sentences), seed=seed).apply(data.tagging_batches(words, tag_tokenizer, batch))
    model.fit(train, epochs=epochs, verbose=0)
    correct = total = 0
    for x, y in dataset(test_sentences).apply(data.tagging_batches(words, tag_tokenizer, 64)):
        predicted = recipes.predict_tags(model, x).numpy()
        real = y.numpy() != 0
        correct += int((predicted[real] == y.numpy()[real]).sum())
        total += int(real.sum())
    return correct / total


def plot(results, baseline, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, (task, metric) in zip(axes, (("tagging", "token accuracy"), ("classification", "macro-F1"))):
        for i, family in enumerate(FAMILIES):
            for start, style in (("pretrained", "-"), ("scratch", "--")):
                points = sorted((n, v) for (t, f, s, n), v in results.items() if (t, f, s) == (task, family, start))
                if points:
                    ax.plot(*zip(*points), style, marker="o", color=f"C{i}", label=f"{family} {start}")
        if task == "classification":
            ax.axhline(baseline, color="gray", linestyle=":", label="TF-IDF + logistic regression (all)")
        ax.set_xscale("log")
        ax.set_xlabel("labelled training examples")
        ax.set_ylabel(metric)
        ax.set_title("Korean POS tagging (jhe-koen)" if task == "tagging" else "chatbot-ko question labels")
        ax.legend(fontsize=7)
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--pretrain-epochs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--families", default=",".join(FAMILIES))
    parser.add_argument("--tasks", default="tagging,classification", help="the tasks, in the order they run")
    parser.add_argument("--results", help="a JSON file of finished cells: read at the start (those cells are not run again) "
                        "and written after every cell, so a stopped run resumes")  # fmt: skip
    parser.add_argument("--out", default="experiments/pretraining.png")
    parser.add_argument("--quick", action="store_true", help="2,000 unlabelled lines, 1 epoch, 20 steps: to check that it runs")
    args = parser.parse_args()
    if args.quick:
        args.pretrain_epochs, args.steps = 1, 20
    families = args.families.split(",")

    sentences = pos_sentences(args.data)
    train_idx, test_idx = split(len(sentences))
    pos_train, pos_test = [sentences[i] for i in train_idx], [sentences[i] for i in test_idx]
    cls_train, train_labels, cls_test, test_labels = chatbot_classification.load(args.data)  # its split
    held_out = set(cls_test) | {" ".join(words) for words, _ in pos_test}
    lines = unlabelled_text(args.data, held_out)
    if args.quick:
        lines = lines[:: len(lines) // 2000][:2000]
    print(f"unlabelled: {len(lines)} lines; tagging: {len(pos_train)} training and {len(pos_test)} test sentences; "
          f"classification: {len(cls_train)} training and {len(cls_test)} test questions", flush=True)  # fmt: skip

    baseline = f1_score(test_labels, chatbot_classification.baseline(cls_train, train_labels, cls_test)[0], average="macro")
    tokenizers = {
        "tagging": data.WordTokenizer(split_punctuation=False, min_frequency=2).adapt(lines + [" ".join(w) for w, _ in pos_train]),
        "classification": data.CharTokenizer().adapt(lines),
    }
    for task, tokenizer in tokenizers.items():
        tokenizer.add_mask_token()
        print(f"{task}: {type(tokenizer).__name__}, {tokenizer.vocabulary_size()} tokens", flush=True)
    results = {}
    if args.results and os.path.exists(args.results):
        with open(args.results) as file:
            for key, value in json.load(file).items():
                task, family, start, n = key.split("|")
                results[task, family, start, int(n)] = value
        print(f"{len(results)} cells read from {args.results}", flush=True)
    sizes = {"tagging": len(pos_train), "classification": len(cls_train)}
    for task in args.tasks.split(","):
        tokenizer = tokenizers[task]
        for family in families:
            if all((task, family, start, size or sizes[task]) in results for start in ("pretrained", "scratch") for size in SIZES):
                continue
            pretrained = pretrain(family, tokenizer, lines, args.pretrain_epochs)
            for start in ("pretrained", "scratch"):
                lm = pretrained if start == "pretrained" else untrained(family, tokenizer)
                for size in SIZES:
                    if (task, family, start, size or sizes[task]) in results:
                        continue
                    t0 = time.perf_counter()
                    if task == "tagging":
                        # The same subset of a size for every family and start (a seed per size).
                        chosen = pos_train if size is None else [pos_train[i] for i in np.random.default_rng(size).permutation(len(pos_train))[:size]]
                        value = fine_tune_tagger(lm, chosen, pos_test, args.steps)
                        n = len(chosen)
                    else:
                        chosen = np.arange(len(cls_train)) if size is None else np.random.default_rng(size).permutation(len(cls_train))[:size]
                        predicted = fine_tune_classifier(lm, [cls_train[i] for i in chosen], train_labels[chosen], cls_test, args.steps)
                        value = f1_score(test_labels, predicted, average="macro")
                        n = len(chosen)
                    results[task, family, start, n] = value
                    if args.results:
                        with open(args.results, "w") as file:
                            json.dump({"|".join(map(str, key)): v for key, v in results.items()}, file, indent=0)
                    print(f"  {task:<14} {family:<5} {start:<10} n={n:<5} {value:.4f}  ({time.perf_counter() - t0:.0f} s)", flush=True)

    print(f"\n{'task':<15} {'family':<6} {'examples':>8} {'scratch':>9} {'pretrained':>11} {'gain':>8}")
    gains = []
    for (task, family, start, n), value in sorted(results.items()):
        if start == "pretrained":
            scratch = results[task, family, "scratch", n]
            gains.append((task, family, n, value - scratch))
            print(f"{task:<15} {family:<6} {n:>8} {scratch:>9.4f} {value:>11.4f} {value - scratch:>+8.4f}")
    print(f"TF-IDF char 1-3-grams + logistic regression (all {len(cls_train)} questions): macro-F1 {baseline:.4f}")
    plot(results, baseline, args.out)
    print(f"picture: {args.out}")

    helped = [g for g in gains if g[3] > 0]
    print(f"goal pretraining_helps: {len(helped)} of {len(gains)} (task, family, size) cells gain from pretraining "
          f"(target all) {'met' if len(helped) == len(gains) else 'not met'}")  # fmt: skip
    best = max((v for (t, f, s, n), v in results.items() if t == "classification" and s == "pretrained" and n == len(cls_train)), default=float("nan"))
    print(f"goal fine_tuned_beats_tfidf: best fine-tuned macro-F1 {best:.4f} vs TF-IDF {baseline:.4f} "
          f"(target > baseline) {'met' if best > baseline else 'not met'}")  # fmt: skip


if __name__ == "__main__":
    main()
