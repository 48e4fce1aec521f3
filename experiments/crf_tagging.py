"""Korean POS tagging: ``sequence_tagger(crf=True)`` (a linear-chain CRF over the BiLSTM's tag scores) against the softmax tagger.

Data (``--data``, default ``../shared/data``): ``korean-english/jhe-koen-{dev,eval}.ko.pos``, read as
``pretraining.py`` reads it (1,440 sentences of whitespace words; a word's tag is the Sejong tag of its first
morpheme), the same split (seed 0: 80% to train, 20% to test). 10% of the training sentences are held out
for early stopping (patience 3, best weights back, at most ``--epochs`` epochs). A word tokenizer of the
training words (``split_punctuation=False``; unseen test words are ``[UNK]``); the tagger's defaults (one
BiLSTM of 64 per direction over 64-wide embeddings) with dropout 0.2, Adam 1e-3, batches of 32; seeds
``--seeds``. Measures token accuracy and macro-F1 over the tags on the test words, and the training seconds.

The last line is the goal: ``goal crf_f1_at_least_softmax: ... met`` or ``... not met``.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python experiments/crf_tagging.py``.
"""

import argparse
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

import pretraining  # noqa: E402  (the POS sentences and their split)
from seqrecipes import data, recipes  # noqa: E402

MAX_LENGTH = 64


def run(crf, train, test, epochs, seed):
    keras.utils.set_random_seed(seed)
    words = data.WordTokenizer(split_punctuation=False).adapt([" ".join(w) for w, _ in train])
    tags = sorted({t for _, row in train + test for t in row})
    model = recipes.sequence_tagger(crf=crf, dropout=0.2, max_length=MAX_LENGTH, text_tokenizer=words, tags_tokenizer=tags)
    tag_tokenizer = model.tokenizer("tags")

    def batches(rows, shuffle=False):
        cut = [(w[:MAX_LENGTH], t[:MAX_LENGTH]) for w, t in rows]
        dataset = tf.data.Dataset.from_generator(lambda: iter(cut), output_signature=(tf.TensorSpec([None], tf.string),) * 2).cache()
        if shuffle:
            dataset = dataset.shuffle(len(cut), seed=seed)
        return dataset.apply(data.tagging_batches(words, tag_tokenizer, 32))

    held_out = len(train) // 10
    start = time.perf_counter()
    stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
    history = model.fit(batches(train[held_out:], shuffle=True), validation_data=batches(train[:held_out]), epochs=epochs, callbacks=[stop], verbose=0)
    seconds = time.perf_counter() - start
    gold, predicted = [], []
    for x, y in batches(test):
        real = x.numpy() != 0
        predicted.append(recipes.predict_tags(model, x).numpy()[real])
        gold.append(y.numpy()[real])
    gold, predicted = np.concatenate(gold), np.concatenate(predicted)
    return float((gold == predicted).mean()), f1_score(gold, predicted, average="macro"), seconds, len(history.history["loss"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    sentences = pretraining.pos_sentences(args.data)
    train_idx, test_idx = pretraining.split(len(sentences))
    train, test = [sentences[i] for i in train_idx], [sentences[i] for i in test_idx]
    print(f"{len(train)} training and {len(test)} test sentences, {len({t for _, row in sentences for t in row})} tags", flush=True)
    means, f1_runs = {}, {}
    for crf in (False, True):
        runs = f1_runs[crf] = [run(crf, train, test, args.epochs, seed) for seed in seeds]
        for seed, (accuracy, f1, seconds, epochs) in zip(seeds, runs):
            print(f"  {'crf' if crf else 'softmax':<8} seed {seed}: accuracy {accuracy:.4f}  macro-F1 {f1:.4f}  {seconds:.0f} s  {epochs} epochs", flush=True)
        means[crf] = np.mean([r[:3] for r in runs], axis=0)
    print(f"\n{'tagger':<10} {'accuracy':>9} {'macro-F1':>9} {'seconds':>8}   (mean of seeds {args.seeds})")
    for crf, (accuracy, f1, seconds) in means.items():
        print(f"{'crf' if crf else 'softmax':<10} {accuracy:>9.4f} {f1:>9.4f} {seconds:>8.0f}")
    print(f"speed: the CRF tagger trains in {means[True][2] / means[False][2]:.2f}x the softmax tagger's time")
    difference = means[True][1] - means[False][1]
    spread = max(np.ptp([r[1] for r in runs]) for runs in f1_runs.values())  # the widest seed-to-seed range of the two
    if abs(difference) < spread:
        verdict = f"undecided: the difference is inside the seeds' spread {spread:.4f}; not met"
    else:
        verdict = "met" if difference > 0 else "not met"
    print(f"goal crf_f1_at_least_softmax: macro-F1 {means[True][1]:.4f} vs softmax {means[False][1]:.4f}, difference {difference:+.4f} (target >=) {verdict}")


if __name__ == "__main__":
    main()
