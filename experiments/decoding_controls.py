"""Greedy decoding of a character LSTM language model with and without the decoding controls.

A greedy character LM loops ("the strength to the strength to the strengther"): the most probable
next character keeps leading back into the same few words. This script trains ``rnn_language_model``
(an LSTM over characters) on WikiText-2's validation text (``--data``, default ``../shared/data``)
for ``--minutes``, then continues the first words of ``--prompts`` test sentences greedily, with:

- nothing (plain greedy search),
- ``no_repeat_ngram_size=4`` (no character 4-gram twice),
- ``repetition_penalty=1.3`` (CTRL's penalty on every character already written),
- beam search (4 beams) with ``no_repeat_ngram_size=4``.

For each it prints the mean share of repeated character 8-grams in the outputs (an 8-gram that
occurred earlier in the same output: about a word and a half of copied text), the share of distinct
words, and the mean log-probability per character under the model (the price in likelihood),
then a few outputs side by side. Every output is made by one ``recipes.generate`` call, as the
export's ``generate`` signature makes it.

Usage:
    python experiments/decoding_controls.py                # about 12 minutes on 2 CPU cores
    python experiments/decoding_controls.py --minutes 1 --prompts 20
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from language_model_ladder import TimeBudget  # noqa: E402 (the experiments folder is the script's path)

from seqrecipes import data, recipes  # noqa: E402

MAX_CHARS = 200  # training sentences are cut to their first 200 characters
OUTPUT_LENGTH = 120

SETTINGS = {
    "greedy": {},
    "greedy, no_repeat_ngram_size=4": dict(no_repeat_ngram_size=4),
    "greedy, repetition_penalty=1.3": dict(repetition_penalty=1.3),
    "beam 4, no_repeat_ngram_size=4": dict(beam_width=4, no_repeat_ngram_size=4),
}


def sentences(path):
    out = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            line = line.strip()
            if line and not line.startswith("="):
                out += [part.strip() + " ." for part in line.split(" . ") if len(part.strip()) > 20]
    return out


def train_model(train, seconds):
    tokenizer = data.CharTokenizer(min_frequency=5).adapt(train)
    keras.utils.set_random_seed(0)
    model = recipes.rnn_language_model(
        cell="lstm", units=512, embedding_dim=64, max_output_length=OUTPUT_LENGTH, text_tokenizer=tokenizer
    )
    texts = tf.data.Dataset.from_tensor_slices([s[:MAX_CHARS] for s in train]).shuffle(len(train), seed=0)
    batches = texts.apply(data.tokenize(tokenizer)).apply(data.teacher_forcing_shift())
    batches = batches.apply(data.batch_with_padding(64, drop_remainder=True)).repeat().prefetch(2)
    history = model.fit(batches, epochs=10_000, steps_per_epoch=100, callbacks=[TimeBudget(seconds)], verbose=2)
    return model, history.history["loss"][-1]


def repeated_share(text, n=8):
    grams = [text[i : i + n] for i in range(len(text) - n + 1)]
    seen, repeated = set(), 0
    for gram in grams:
        repeated += gram in seen
        seen.add(gram)
    return repeated / len(grams) if grams else 0.0


def distinct_words(text):
    words = text.split()
    return len(set(words)) / len(words) if words else 1.0


def continue_prompts(model, prompts, settings):
    decoder = model.decoder
    result = recipes.generate(decoder, decoder.inputs_from_raw(tf.constant(prompts)), **settings)
    texts = [t.decode("utf-8") for t in decoder.detokenize(result["ids"][:, 0]).numpy()]
    scored = recipes.score(model, [p + t for p, t in zip(prompts, texts)])
    prompt_scores = recipes.score(model, prompts)
    # log p(continuation | prompt) per character, [END] of the prompt-only score removed on both sides alike
    per_char = (scored["log_prob"] - prompt_scores["log_prob"]) / np.maximum([len(t) for t in texts], 1)
    return texts, float(np.mean(per_char))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--prompts", type=int, default=100)
    args = parser.parse_args()

    folder = os.path.join(args.data, "wikitext-2")
    train, test = sentences(os.path.join(folder, "valid.txt")), sentences(os.path.join(folder, "test.txt"))
    model, loss = train_model(train, args.minutes * 60)
    print(f"trained {args.minutes} min on {len(train)} sentences: training loss {loss:.3f} nats per character")
    prompts = [" ".join(s.split()[:3]) + " " for s in test[: args.prompts]]

    outputs, rows = {}, []
    for name, settings in SETTINGS.items():
        start = time.perf_counter()
        texts, log_p = continue_prompts(model, prompts, settings)
        seconds = time.perf_counter() - start
        outputs[name] = texts
        rows.append((name, np.mean([repeated_share(t) for t in texts]), np.mean([distinct_words(t) for t in texts]), log_p, seconds))

    print(f"\n{len(prompts)} prompts (the first 3 words of WikiText-2 test sentences), {OUTPUT_LENGTH} characters at most")
    print(f"{'decoding':<34} {'repeated 8-grams':>16} {'distinct words':>14} {'log p / char':>12} {'seconds':>8}")
    for name, repeated, distinct, log_p, seconds in rows:
        print(f"{name:<34} {repeated:>16.3f} {distinct:>14.3f} {log_p:>12.3f} {seconds:>8.1f}")
    for i in range(3):
        print(f"\nprompt: {prompts[i]!r}")
        for name in SETTINGS:
            print(f"  {name:<32} {outputs[name][i]!r}")

    greedy = rows[0][1]
    for name, repeated, *_ in rows[1:]:
        if "no_repeat_ngram_size" in name:  # no 4-gram twice implies no 8-gram twice: a check, not a goal
            verdict = "holds" if repeated == 0 else "BROKEN"
            print(f"check no_repeated_8grams[{name}]: {repeated:.3f} (0 by construction) {verdict}")
            continue
        verdict = "met" if repeated <= greedy / 2 else "not met"
        print(f"goal fewer_loops[{name}]: repeated 8-grams {repeated:.3f} vs greedy {greedy:.3f} (target <= half) {verdict}")


if __name__ == "__main__":
    main()
