"""Date-format translation with attention, and the fixed-context bottleneck of plain seq2seq.

Part 1, the product's main job: ``seq2seq_attention`` (defaults: bidirectional GRU encoder, Bahdanau
attention, character tokens) learns to turn human dates in English and Korean
(``data.date_translation``: "June 25th, 2009", "2009년 6월 25일 목요일", "6/25/2009", ...) into ISO
"2009-06-25". Training runs in a time budget (4 minutes by default) and stops early once the
exact match on held-out validation days reaches 99.5%; the exact match is then measured on other
held-out days (``split="test"``: days never seen in training).

Part 2, the seeds' bottleneck claim as the data module frames it: the encoder-decoder without
attention (``seq2seq``, reading forwards or reversed as Sutskever et al. did) squeezes the whole source
through one context vector. Each recipe is trained on dates with at most ``--train-filler`` filler
words in front ("please note the date June 25th, 2009") until 99.5% validation exact match (at most
3000 steps), then evaluated on held-out dates with more filler words, keeping only inputs longer than any
training input.

Part 3, the claim where the content grows with the length (the source of Cho et al.'s and Bahdanau
et al.'s length curves): sequence reversal of 4-16 letters, every recipe trained for the same number
of steps, exact match by length.

Prints a table and ends with goal lines ``goal <name>: <measured> (target <comparison>) met|not met``;
writes experiments/results/dates_alignments.png (the attention alignments of a few dates).

Usage:
    python experiments/dates.py                 # about 9-12 minutes on 2 shared CPU cores
    python experiments/dates.py --parts 1       # part 1 only: about 2 minutes
    python experiments/dates.py --quick         # a smoke run (under a minute of training)
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402

TARGET_CHARACTERS = list("0123456789-")
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
PLOT_SOURCES = ["Thursday, June 25, 2009", "2009년 6월 25일 목요일", "06/25/09"]
# The plot's font has no Hangul: Korean characters are labelled by their romanization.
ROMANIZED = {
    "년": "nyeon",
    "월": "wol",
    "일": "il",
    "화": "hwa",
    "수": "su",
    "목": "mok",
    "금": "geum",
    "토": "to",
    "요": "yo",
}


def pairs_of(dataset):
    """(sources, targets) lists of Python strings."""
    sources, targets = [], []
    for source, target in dataset.as_numpy_iterator():
        sources.append(source.decode("utf-8"))
        targets.append(target.decode("utf-8"))
    return sources, targets


def training_batches(sources, targets, model, batch_size, seed):
    pairs = tf.data.Dataset.from_tensor_slices((sources, targets))
    step = data.seq2seq_batches(
        model.tokenizer("source"), model.tokenizer("target"), batch_size, bucket=True,
        max_source_length=model.arguments["max_source_length"],
    )  # fmt: skip
    return pairs.cache().shuffle(len(sources), seed=seed).apply(step).repeat().prefetch(tf.data.AUTOTUNE)


class ExactMatch:
    """Greedy-decodes strings in one graph and scores whole-output exact match."""

    def __init__(self, model, batch_size=512):
        self.serve = tf.function(
            recipes.serving.generation_serving(model), input_signature=[tf.TensorSpec([None], tf.string)]
        )
        self.batch_size = batch_size

    def outputs(self, sources):
        results = []
        for i in range(0, len(sources), self.batch_size):
            batch = tf.constant(sources[i : i + self.batch_size])
            results += [s.decode("utf-8") for s in self.serve(batch)["outputs"].numpy()]
        return results

    def __call__(self, sources, targets):
        outputs = self.outputs(sources)
        return float(np.mean([o == t for o, t in zip(outputs, targets)]))


class Budget(keras.callbacks.Callback):
    """Stops training after `seconds` of training (the first step's graph tracing included, the
    validation decoding excluded), after `max_steps` steps, or once validation exact match reaches
    `stop_at` (checked at each epoch end); records (steps, seconds, validation exact match) per epoch."""

    def __init__(self, seconds, stop_at, validation, steps_per_epoch, max_steps=None):
        super().__init__()
        self.seconds, self.stop_at, self.validation = seconds, stop_at, validation
        self.max_steps = max_steps
        self.steps_per_epoch = steps_per_epoch
        self.history = []
        self.train_seconds = 0.0
        self.steps = 0

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()
        self.exact = ExactMatch(self.model)

    def on_train_batch_end(self, batch, logs=None):
        self.steps += 1
        if time.perf_counter() - self.start - self.eval_seconds() > self.seconds:
            self.model.stop_training = True
        if self.max_steps is not None and self.steps >= self.max_steps:
            self.model.stop_training = True

    def eval_seconds(self):
        return sum(h["eval_seconds"] for h in self.history)

    def on_epoch_end(self, epoch, logs=None):
        trained = time.perf_counter() - self.start - self.eval_seconds()
        t0 = time.perf_counter()
        exact = self.exact(*self.validation)
        record = {
            "epoch": epoch + 1, "steps": self.steps, "train_seconds": trained,
            "loss": logs.get("loss"), "token_accuracy": logs.get("token_accuracy"), "validation_exact": exact,
            "eval_seconds": time.perf_counter() - t0,
        }  # fmt: skip
        self.history.append(record)
        self.train_seconds = trained
        print(
            f"  epoch {record['epoch']:3d}  steps {record['steps']:5d}  train {trained:6.1f}s  loss {record['loss']:.4f}  "
            f"token acc {record['token_accuracy']:.4f}  validation exact {exact:.4f}",
            flush=True,
        )
        if exact >= self.stop_at or trained > self.seconds:
            self.model.stop_training = True


def train(
    recipe,
    arguments,
    train_pairs,
    validation,
    args,
    seconds,
    stop_at,
    target_characters=TARGET_CHARACTERS,
    max_steps=None,
):
    source_tokenizer = data.CharTokenizer().adapt(train_pairs[0])
    target_tokenizer = data.CharTokenizer(vocabulary=target_characters)
    keras.utils.set_random_seed(args.seed)
    model = recipe(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer, **arguments)
    batches = training_batches(*train_pairs, model, args.batch_size, args.seed)
    budget = Budget(seconds, stop_at, validation, args.steps_per_epoch, max_steps)
    model.fit(batches, epochs=10_000, steps_per_epoch=args.steps_per_epoch, callbacks=[budget], verbose=0)
    return model, budget


def plot_alignments(model, sources, path):
    """Heatmaps of alpha (output characters x source characters) for a few dates, saved as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids, alignments = recipes.attention_alignments(model, sources)
    target_tokenizer = model.tokenizer("target")
    fig, axes = plt.subplots(1, len(sources), figsize=(5 * len(sources), 3.6))
    for ax, source, row_ids, alpha in zip(axes, sources, ids, alignments):
        length = int(recipes.sequence_lengths(row_ids[None]).numpy()[0])
        outputs = [target_tokenizer.id_to_token(int(i)) for i in row_ids[:length]]
        characters = [ROMANIZED.get(c, c) for c in source]
        ax.imshow(alpha[:length, : len(source)], cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
        ax.set_xticks(range(len(source)), characters, fontsize=7, rotation=90)
        ax.set_yticks(range(length), outputs, fontsize=8)
        ax.set_title(f"{''.join(characters)!r} -> {''.join(outputs)}", fontsize=8)
    fig.suptitle("seq2seq_attention on dates: where the decoder looks for each output character", fontsize=9)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def longer_than(sources, targets, length):
    keep = [i for i, s in enumerate(sources) if len(s) > length]
    return [sources[i] for i in keep], [targets[i] for i in keep]


def part1_attention_on_dates(args, rows, goals):
    """seq2seq_attention on dates, exact match on held-out days."""
    train_pairs = pairs_of(data.date_translation(args.num_train, split="train", seed=args.seed))
    validation = pairs_of(data.date_translation(500, split="test", seed=args.seed + 1))
    test = pairs_of(data.date_translation(args.num_test, split="test", seed=args.seed + 2))
    arguments = {
        "units": args.units, "embedding_dim": args.embedding_dim, "cell": args.cell, "attention": args.attention,
        "learning_rate": args.learning_rate,
    }  # fmt: skip
    print(f"Part 1: seq2seq_attention {arguments}, batch {args.batch_size}, budget {args.minutes} min", flush=True)
    model, budget = train(recipes.seq2seq_attention, arguments, train_pairs, validation, args, args.minutes * 60, 0.995)
    exact = ExactMatch(model)
    test_exact = exact(*test)
    outputs = exact.outputs(test[0][:5])
    for source, output in zip(test[0][:5], outputs):
        print(f"    {source!r:40} -> {output!r}")
    steps = budget.history[-1]["steps"]
    print(f"  held-out exact match {test_exact:.4f} after {steps} steps, {budget.train_seconds:.0f} s of training")
    print(f"  alignments: {plot_alignments(model, PLOT_SOURCES, os.path.join(RESULTS, 'dates_alignments.png'))}")
    rows.append(("seq2seq_attention", "dates, held-out days", len(test[0]), test_exact, budget.train_seconds, steps))
    goals.append(("attention held-out exact match", f"{test_exact:.4f}", ">= 0.99", test_exact >= 0.99))
    goals.append(
        ("attention training seconds", f"{budget.train_seconds:.0f}", f"<= {args.minutes * 60:.0f}",
         budget.train_seconds <= args.minutes * 60 + 5)
    )  # fmt: skip


def part2_longer_dates(args, rows, goals):
    """Each recipe trained on dates with at most --train-filler filler words (until 99.5% validation
    exact match, at most --bottleneck-steps steps), then tested on held-out dates longer than any
    training input."""
    filler_train = pairs_of(
        data.date_translation(args.num_train, split="train", filler_words=(0, args.train_filler), seed=args.seed)
    )
    longest = max(len(s) for s in filler_train[0])
    filler_validation = pairs_of(
        data.date_translation(500, split="test", filler_words=(0, args.train_filler), seed=args.seed + 1)
    )
    in_distribution = pairs_of(
        data.date_translation(args.num_test, split="test", filler_words=(0, args.train_filler), seed=args.seed + 2)
    )
    longer = longer_than(
        *pairs_of(
            data.date_translation(
                4 * args.num_test, split="test", filler_words=(args.train_filler + 2, args.train_filler + 5),
                seed=args.seed + 3,
            )
        ),
        longest,
    )  # fmt: skip
    print(
        f"Part 2: dates with filler words; training inputs at most {longest} characters; {len(longer[0])} held-out "
        f"inputs longer ({min(len(s) for s in longer[0])}-{max(len(s) for s in longer[0])} characters)",
        flush=True,
    )
    drops = {}
    for label, recipe, arguments in _variants(args):
        print(f"  {label} {arguments}, at most {args.bottleneck_steps} steps", flush=True)
        model, budget = train(
            recipe, arguments, filler_train, filler_validation, args, 3600, 0.995, max_steps=args.bottleneck_steps
        )
        exact = ExactMatch(model)
        inside, outside = exact(*in_distribution), exact(*longer)
        drops[label] = inside - outside
        steps = budget.history[-1]["steps"]
        rows.append((label, "dates + filler, held-out", len(in_distribution[0]), inside, budget.train_seconds, steps))
        rows.append((label, f"longer than {longest} chars", len(longer[0]), outside, budget.train_seconds, steps))
    attention_drop = drops.pop("seq2seq_attention")
    for label, drop in drops.items():
        goals.append(
            (f"bottleneck on longer dates: {label} drops more than attention", f"{drop:.3f} vs {attention_drop:.3f}",
             "a drop at least 0.02 larger", drop >= attention_drop + 0.02)
        )  # fmt: skip


def part3_reversal_by_length(args, rows, goals):
    """Sequence reversal, where the content grows with the length: each recipe trained on lengths
    4-16 for the same number of steps (or until 99.5% validation exact match), exact match by length
    on held-out strings. Steps, not seconds: the machine is shared, and a time budget would measure the
    neighbours' load."""
    letters = "abcdefghij"
    train_pairs = pairs_of(
        data.sequence_reversal(args.num_train, min_length=4, max_length=16, alphabet=letters, seed=args.seed)
    )
    validation = pairs_of(
        data.sequence_reversal(500, min_length=4, max_length=16, alphabet=letters, seed=args.seed + 1)
    )
    test = pairs_of(
        data.sequence_reversal(args.num_test, min_length=4, max_length=16, alphabet=letters, seed=args.seed + 2)
    )
    buckets = ((4, 7), (8, 11), (12, 16))
    print(f"Part 3: sequence reversal, lengths 4-16, every recipe trained for {args.reversal_steps} steps", flush=True)
    gaps = {}
    for label, recipe, arguments in _variants(args):
        print(f"  {label} {arguments}", flush=True)
        model, budget = train(
            recipe, arguments, train_pairs, validation, args, 3600, 0.995, target_characters=list(letters),
            max_steps=args.reversal_steps,
        )  # fmt: skip
        exact = ExactMatch(model)
        by_bucket = []
        for low, high in buckets:
            keep = [i for i, s in enumerate(test[0]) if low <= len(s) <= high]
            value = exact([test[0][i] for i in keep], [test[1][i] for i in keep])
            by_bucket.append(value)
            rows.append(
                (
                    label,
                    f"reversal, length {low}-{high}",
                    len(keep),
                    value,
                    budget.train_seconds,
                    budget.history[-1]["steps"],
                )
            )
        gaps[label] = by_bucket[0] - by_bucket[-1]
    attention_gap = gaps.pop("seq2seq_attention")
    for label, gap in gaps.items():
        goals.append(
            (f"bottleneck by length: {label} loses more from short to long reversals than attention",
             f"{gap:.3f} vs {attention_gap:.3f}", "a loss at least 0.1 larger", gap >= attention_gap + 0.1)
        )  # fmt: skip


def _variants(args):
    common = {"units": args.units, "embedding_dim": args.embedding_dim, "learning_rate": args.learning_rate}
    return (
        ("seq2seq", recipes.seq2seq, {**common, "cell": "lstm"}),
        ("seq2seq reversed", recipes.seq2seq, {**common, "cell": "lstm", "reverse_source": True}),
        ("seq2seq_attention", recipes.seq2seq_attention, {**common, "cell": args.cell}),
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny budgets")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run, e.g. 1 or 1,3")
    parser.add_argument("--minutes", type=float, default=4.0, help="part 1: training budget of seq2seq_attention")
    parser.add_argument("--bottleneck-steps", type=int, default=3000, help="part 2: most training steps of each model")
    parser.add_argument("--reversal-steps", type=int, default=1200, help="part 3: training steps of each model")
    parser.add_argument("--num-train", type=int, default=20_000)
    parser.add_argument("--num-test", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--attention", default="bahdanau")
    parser.add_argument(
        "--train-filler", type=int, default=2, help="part 2: at most this many filler words in training"
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.bottleneck_steps, args.reversal_steps = 0.3, 50, 50
        args.num_test, args.steps_per_epoch = 200, 50
    parts = {int(p) for p in args.parts.split(",")}

    rows, goals = [], []
    started = time.perf_counter()
    if 1 in parts:
        part1_attention_on_dates(args, rows, goals)
    if 2 in parts:
        part2_longer_dates(args, rows, goals)
    if 3 in parts:
        part3_reversal_by_length(args, rows, goals)

    print()
    print(f"{'recipe':<20} {'evaluated on':<28} {'n':>6} {'exact match':>12} {'train s':>8} {'steps':>6}")
    for recipe, name, n, value, seconds, steps in rows:
        print(f"{recipe:<20} {name:<28} {n:>6} {value:>12.4f} {seconds:>8.0f} {steps:>6}")
    print(f"(whole run {time.perf_counter() - started:.0f} s)")
    print()
    for name, measured, target, met in goals:
        print(f"goal {name}: {measured} (target {target}) {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
