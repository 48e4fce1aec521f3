"""Seed 004's pictures: related words get close vectors (NPLM and word2vec), and an encoder's sentence summaries.

1. Nearest neighbours. On WikiText-2 ``valid.txt`` (``--data``, default ``../shared/data``; lower-cased,
   headings and ``<unk>`` left out, words seen 5 times or more), two embeddings: word2vec (skip-gram, d = 100,
   window 5, 5 negatives, ``--w2v-epochs``) and the embedding table C of Bengio et al.'s neural probabilistic
   LM (``window_language_model``: 4 words of context, m = 64, h = 128, ``--nplm-epochs``). For each query word
   the 5 nearest words by cosine, side by side; and how often a query's neighbours in the two tables overlap.
2. A 2-D PCA picture of word2vec vectors for words of a few groups (``word_vectors_pca.png``).
3. The hidden-state PCA of Cho et al. (2014, figure 4): a fixed-context ``seq2seq`` (GRU 256, word tokens)
   trained for ``--minutes`` on Multi30k en -> de (``multi30k/train``), then the encoder's last state c of
   validation sentences that start with one of a few subjects ("a man", "a woman", "two dogs", ...), in PCA,
   coloured by subject (``encoder_states_pca.png``). Cho et al. report phrases with the same meaning grouped.
   The measure: the share of sentences whose nearest point in the picture has the same subject, against the
   same encoder before training (sentences that share their first words are near even then).

The pictures go to ``--out`` (default ``experiments/``). The last lines are one per goal: ``goal NAME: ... met`` or
``... not met``.

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python experiments/word_vector_pictures.py`` (``--quick``: small and short).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402

QUERIES = ["city", "war", "film", "music", "river", "king", "church", "army", "january", "french", "game", "good"]
GROUPS = {
    "months": ["january", "february", "march", "april", "june", "july", "august", "october"],
    "numbers": ["two", "three", "four", "five", "six", "seven", "eight", "ten"],
    "nations": ["french", "german", "british", "american", "english", "italian", "russian", "japanese"],
    "war": ["army", "battle", "forces", "troops", "attack", "soldiers", "war", "military"],
    "music": ["album", "song", "songs", "band", "music", "single", "singer", "guitar"],
}
SUBJECTS = ["a man", "a woman", "two men", "a dog", "a young boy", "a little girl", "a group of people"]


def wikitext_lines(folder, limit=None):
    with open(os.path.join(folder, "wikitext-2", "valid.txt"), encoding="utf-8") as file:
        lines = [line.strip().lower().replace("<unk>", " ") for line in file]
    lines = [" ".join(line.split()) for line in lines if line and not line.startswith("=")]
    return lines[:limit]


def nplm(lines, tokenizer, epochs, seed=0):
    keras.utils.set_random_seed(seed)
    model = recipes.window_language_model(context_size=4, embedding_dim=64, units=128, text_tokenizer=tokenizer)
    batches = tf.data.Dataset.from_tensor_slices(lines).apply(data.window_batches(tokenizer, 4, 256)).cache()
    model.fit(batches.prefetch(tf.data.AUTOTUNE), epochs=epochs, verbose=0)
    return model


def neighbours(vectors, word, k=5):
    return [w for w, _ in vectors.most_similar(word, topn=k)]


def cho_states(folder, minutes, quick, out, font=None, seed=0):
    def read(name):
        with open(os.path.join(folder, "multi30k", name), encoding="utf-8") as file:
            return [line.strip().lower() for line in file]

    english, german = read("train.en"), read("train.de")
    if quick:
        english, german = english[:2000], german[:2000]
    source = data.WordTokenizer(min_frequency=2).adapt(english)
    target = data.WordTokenizer(min_frequency=2).adapt(german)
    keras.utils.set_random_seed(seed)
    model = recipes.seq2seq(cell="gru", units=256, embedding_dim=128, max_source_length=40, max_target_length=40,
                            source_tokenizer=source, target_tokenizer=target)  # fmt: skip
    validation = read("val.en")
    chosen, groups = [], []
    for subject in SUBJECTS:
        found = [s for s in validation if s.startswith(subject + " ")][:12]
        chosen += found
        groups += [subject] * len(found)
    untrained = _grouping(recipes.pca_2d(recipes.encoder_summaries(model, chosen)), groups)  # the control
    pairs = tf.data.Dataset.from_tensor_slices((english, german)).shuffle(len(english), seed=seed)
    batches = pairs.apply(data.seq2seq_batches(source, target, 64, 40, 40)).cache()
    deadline, epochs, start = time.perf_counter() + 60 * minutes, 0, time.perf_counter()
    while time.perf_counter() < deadline:
        history = model.fit(batches, epochs=1, verbose=0)
        epochs += 1
    print(f"seq2seq (GRU 256) on {len(english)} Multi30k pairs: {epochs} epochs in {time.perf_counter() - start:.0f} s, "
          f"last loss {history.history['loss'][-1]:.3f}")  # fmt: skip
    summaries = recipes.encoder_summaries(model, chosen)
    labels = [s[:28] if groups[:i].count(groups[i]) < 3 else "" for i, s in enumerate(chosen)]  # three per subject
    path = recipes.plot_points(summaries, labels, os.path.join(out, "encoder_states_pca.png"),
                               title="seq2seq encoder summaries c of Multi30k sentences (PCA)", groups=groups)  # fmt: skip
    return path, _grouping(recipes.pca_2d(summaries), groups), untrained, _chance(groups)


def _grouping(points, groups):
    """The share of points whose nearest other point (in the 2-D picture) has the same group."""
    points, groups = np.asarray(points), np.asarray(groups)
    distances = ((points[:, None] - points[None]) ** 2).sum(-1)
    np.fill_diagonal(distances, np.inf)
    return float((groups[distances.argmin(1)] == groups).mean())


def _chance(groups):
    """That share for a nearest point drawn at random among the others: mean over points of (group size - 1) / (N - 1)."""
    groups = np.asarray(groups)
    sizes = np.array([(groups == g).sum() for g in groups])
    return float(((sizes - 1) / (len(groups) - 1)).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="../shared/data")
    parser.add_argument("--out", default="experiments")
    parser.add_argument("--w2v-epochs", type=int, default=5)
    parser.add_argument("--nplm-epochs", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=6.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.w2v_epochs, args.nplm_epochs, args.minutes = 1, 1, 0.2
    lines = wikitext_lines(args.data, 1500 if args.quick else None)
    tokenizer = data.WordTokenizer(min_frequency=5, split_punctuation=False).adapt(lines)
    print(f"WikiText-2 valid: {len(lines)} lines, {sum(len(line.split()) for line in lines)} words, "
          f"vocabulary {tokenizer.vocabulary_size()}", flush=True)  # fmt: skip

    start = time.perf_counter()
    w2v = recipes.word_vectors(recipes.train_word2vec(lines, tokenizer, epochs=args.w2v_epochs, seed=0, verbose=0))
    print(f"word2vec: {time.perf_counter() - start:.0f} s", flush=True)
    start = time.perf_counter()
    table = recipes.word_vectors(nplm(lines, tokenizer, args.nplm_epochs))
    print(f"NPLM (window_language_model): {time.perf_counter() - start:.0f} s", flush=True)

    queries = [q for q in QUERIES if q in w2v.index]
    overlaps = []
    print(f"\n{'word':<10} {'word2vec: 5 nearest':<52} {'NPLM table C: 5 nearest':<52}")
    for word in queries:
        a, b = neighbours(w2v, word), neighbours(table, word)
        overlaps.append(len(set(a) & set(b)))
        print(f"{word:<10} {', '.join(a):<52} {', '.join(b):<52}")
    print(f"shared neighbours per query: {np.mean(overlaps):.2f} of 5")

    words = [w for group in GROUPS.values() for w in group if w in w2v.index]
    groups = [name for name, group in GROUPS.items() for w in group if w in w2v.index]
    os.makedirs(args.out, exist_ok=True)
    word_path = recipes.plot_word_vectors(w2v, words, os.path.join(args.out, "word_vectors_pca.png"),
                                          title="word2vec on WikiText-2 valid (PCA)", groups=groups)  # fmt: skip
    word_grouping = _grouping(recipes.pca_2d(np.stack([w2v[w] for w in words])), groups)
    word_chance = _chance(groups)
    print(f"picture: {word_path}; nearest point in the same group: {word_grouping:.2f} (chance {word_chance:.2f})")
    state_path, state_grouping, untrained, state_chance = cho_states(args.data, args.minutes, args.quick, args.out)
    print(f"picture: {state_path}; nearest point in the same subject: {state_grouping:.2f} (the untrained encoder "
          f"{untrained:.2f}, chance {state_chance:.2f})")  # fmt: skip

    print(f"goal word_groups_cluster: {word_grouping:.2f} of the words' nearest points in their group (target > chance "
          f"{word_chance:.2f}) {'met' if word_grouping > word_chance else 'not met'}")  # fmt: skip
    print(f"goal sentence_summaries_cluster: {state_grouping:.2f} (target > the untrained encoder's {untrained:.2f}) "
          f"{'met' if state_grouping > untrained else 'not met'}")  # fmt: skip


if __name__ == "__main__":
    main()
