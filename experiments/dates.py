"""Date-format translation with attention, and the fixed-context bottleneck of plain seq2seq.

Part 1, the product's main job: ``seq2seq_attention`` (defaults: bidirectional GRU encoder, Bahdanau
attention, character tokens) learns to turn human dates in English and Korean
(``data.date_translation``: "June 25th, 2009", "2009년 6월 25일 목요일", "6/25/2009", ...) into ISO
"2009-06-25". Training runs in a time budget (4 minutes by default) and stops early once the
exact match on held-out validation days reaches 99.5%; the exact match is then measured on other
held-out days (``split="test"``: days never seen in training).

Part 2, the seeds' bottleneck claim: the encoder-decoder without attention (``seq2seq``) squeezes the
whole source through one context vector. Both recipes are trained on dates with at most
``--train-filler`` filler words in front ("please note the date June 25th, 2009") and evaluated on
held-out dates with more filler words, keeping only inputs longer than any training input.

Prints a table and ends with goal lines ``goal <name>: <measured> (target <comparison>) met|not met``.

Usage:
    python experiments/dates.py                 # about 8-10 minutes on 2 CPU cores
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


def pairs_of(dataset):
    """(sources, targets) lists of Python strings."""
    sources, targets = [], []
    for source, target in dataset.as_numpy_iterator():
        sources.append(source.decode("utf-8"))
        targets.append(target.decode("utf-8"))
    return sources, targets


def training_batches(sources, targets, model, batch_size, seed):
    pairs = tf.data.Dataset.from_tensor_slices((sources, targets))
    step = recipes.seq2seq_batches(
        model.tokenizer("source"), model.tokenizer("target"), batch_size, bucket=True,
        max_source_length=model.arguments["max_source_length"],
    )  # fmt: skip
    return pairs.cache().shuffle(len(sources), seed=seed).apply(step).repeat().prefetch(tf.data.AUTOTUNE)


class ExactMatch:
    """Greedy-decodes strings in one graph and scores whole-output exact match."""

    def __init__(self, model, batch_size=512):
        self.serve = tf.function(
            recipes.encoder_decoder.generate_serving(model), input_signature=[tf.TensorSpec([None], tf.string)]
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
    validation decoding excluded), or once validation exact match reaches `stop_at` (checked at each
    epoch end); records (steps, seconds, validation exact match) per epoch."""

    def __init__(self, seconds, stop_at, validation, steps_per_epoch):
        super().__init__()
        self.seconds, self.stop_at, self.validation = seconds, stop_at, validation
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


def train(recipe, arguments, train_pairs, validation, args, seconds, stop_at):
    source_tokenizer = data.CharTokenizer().adapt(train_pairs[0])
    target_tokenizer = data.CharTokenizer(vocabulary=TARGET_CHARACTERS)
    keras.utils.set_random_seed(args.seed)
    model = recipe(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer, **arguments)
    batches = training_batches(*train_pairs, model, args.batch_size, args.seed)
    budget = Budget(seconds, stop_at, validation, args.steps_per_epoch)
    model.fit(batches, epochs=10_000, steps_per_epoch=args.steps_per_epoch, callbacks=[budget], verbose=0)
    return model, budget


def longer_than(sources, targets, length):
    keep = [i for i, s in enumerate(sources) if len(s) > length]
    return [sources[i] for i in keep], [targets[i] for i in keep]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: tiny budgets")
    parser.add_argument("--minutes", type=float, default=4.0, help="training budget of seq2seq_attention")
    parser.add_argument("--bottleneck-minutes", type=float, default=2.0, help="training budget of each part-2 model")
    parser.add_argument("--num-train", type=int, default=20_000)
    parser.add_argument("--num-test", type=int, default=2_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--embedding-dim", type=int, default=64)
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--attention", default="bahdanau")
    parser.add_argument("--train-filler", type=int, default=2, help="part 2: at most this many filler words in training")
    parser.add_argument("--skip-bottleneck", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.quick:
        args.minutes, args.bottleneck_minutes, args.num_test, args.steps_per_epoch = 0.3, 0.2, 200, 50

    # Part 1: seq2seq_attention on dates, held-out days.
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

    rows = [("seq2seq_attention", "dates, held-out days", len(test[0]), test_exact, budget.train_seconds, steps)]
    goals = [
        ("attention held-out exact match", f"{test_exact:.4f}", ">= 0.99", test_exact >= 0.99),
        ("attention training seconds", f"{budget.train_seconds:.0f}", f"<= {args.minutes * 60:.0f}",
         budget.train_seconds <= args.minutes * 60 + 5),
    ]  # fmt: skip

    # Part 2: the bottleneck, on inputs longer than any in training.
    if not args.skip_bottleneck:
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
            f"Part 2: training inputs at most {longest} characters; {len(longer[0])} held-out inputs longer "
            f"({min(len(s) for s in longer[0])}-{max(len(s) for s in longer[0])} characters)",
            flush=True,
        )
        results = {}
        variants = (
            ("seq2seq", recipes.seq2seq, {"cell": "lstm"}),
            ("seq2seq reversed", recipes.seq2seq, {"cell": "lstm", "reverse_source": True}),
            ("seq2seq_attention", recipes.seq2seq_attention, {"cell": args.cell}),
        )
        for label, recipe, extra in variants:
            arguments = {"units": args.units, "embedding_dim": args.embedding_dim, "learning_rate": args.learning_rate, **extra}
            print(f"  {label} {arguments}, budget {args.bottleneck_minutes} min", flush=True)
            model, budget = train(
                recipe, arguments, filler_train, filler_validation, args, args.bottleneck_minutes * 60, 0.995
            )
            exact = ExactMatch(model)
            results[label] = (exact(*in_distribution), exact(*longer))
            for name, pairs, value in (
                ("dates + filler, held-out", in_distribution, results[label][0]),
                (f"longer than {longest} chars", longer, results[label][1]),
            ):
                rows.append((label, name, len(pairs[0]), value, budget.train_seconds, budget.history[-1]["steps"]))
        drops = {label: inside - outside for label, (inside, outside) in results.items()}
        attention_drop = drops.pop("seq2seq_attention")
        for label, drop in drops.items():
            goals.append(
                (f"bottleneck: {label} loses more than attention on longer inputs",
                 f"{drop:.3f} vs {attention_drop:.3f}", "a drop at least 0.02 larger", drop >= attention_drop + 0.02)
            )  # fmt: skip

    print()
    print(f"{'recipe':<20} {'evaluated on':<28} {'n':>6} {'exact match':>12} {'train s':>8} {'steps':>6}")
    for recipe, name, n, value, seconds, steps in rows:
        print(f"{recipe:<20} {name:<28} {n:>6} {value:>12.4f} {seconds:>8.0f} {steps:>6}")
    print()
    for name, measured, target, met in goals:
        print(f"goal {name}: {measured} (target {target}) {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
