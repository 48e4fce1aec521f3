"""mixed_bfloat16 against float32 on this CPU: training speed side by side, and the loss curves of both.

For ``seq2seq_attention`` (Bahdanau, bidirectional GRU) and ``transformer_seq2seq``, the same recipe is built
twice from the same seed, once with ``mixed_precision="float32"`` and once with ``"mixed_bfloat16"``, and both
train on the same synthetic batches (sequence reversal of 8-24 letters over 40 symbols, batch 64). After a
warm-up, timed rounds of ``--steps`` steps alternate between the two (the order rotated each round), and the
ratio of their target tokens per second is the median of the rounds' ratios; the losses of every step are
kept, and the table prints both curves at a few steps. bfloat16 speeds up matrix work only on CPUs with
AVX512_BF16 or AMX (this machine's TensorFlow build reports its instructions at start); elsewhere the casts
cost more than they save, which this measures rather than assumes. ``mixed_float16`` is left out: CPUs have
no fast float16 matrix units, so it is a GPU setting (Keras's loss scaling is tested in
tests/recipes/test_mixed_precision.py).

Ends with goal lines: bfloat16 at least as fast as float32 (it pays for its casts), and its last loss within 10%
of float32's (the same training, half precision).

Usage:
    python benchmarks/mixed_precision.py            # about 5 minutes on 2 CPU cores
    python benchmarks/mixed_precision.py --quick    # a smoke run, under a minute
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402

ALPHABET = [chr(ord("a") + i) for i in range(26)] + [str(i) for i in range(10)] + list("+-*/")
BUILDS = {
    "seq2seq_attention": lambda size, **kw: recipes.seq2seq_attention(units=size, embedding_dim=size // 2, **kw),
    "transformer_seq2seq": lambda size, **kw: recipes.transformer_seq2seq(
        num_layers=2, num_heads=4, hidden_dim=size, dropout=0.0, **kw),
}  # fmt: skip


def batches(tokenizer, batch_size, count, seed):
    rng = np.random.default_rng(seed)
    texts = ["".join(rng.choice(ALPHABET, rng.integers(8, 25))) for _ in range(batch_size * count)]
    pairs = tf.data.Dataset.from_tensor_slices((texts, [t[::-1] for t in texts]))
    return list(pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, batch_size)).take(count))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="units (RNN) / hidden size (Transformer)")
    parser.add_argument("--steps", type=int, default=10, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.size, args.steps, args.rounds, args.warmup = 32, 2, 2, 1
    tokenizer = data.CharTokenizer(vocabulary=ALPHABET)
    count = args.warmup + args.steps * args.rounds
    train = batches(tokenizer, 64, count, seed=0)
    tokens = [int(np.sum(np.asarray(y) != 0)) for _, y in train]
    print(f"{count} batches of 64 reversal pairs (8-24 symbols), {np.mean(tokens):.0f} target tokens a batch; size {args.size}")
    rows, goals = [], []
    for name, build in BUILDS.items():
        models = {}
        for precision in ("float32", "mixed_bfloat16"):
            keras.utils.set_random_seed(0)
            models[precision] = build(args.size, max_target_length=32, source_tokenizer=tokenizer, target_tokenizer=tokenizer,
                                      mixed_precision=precision)  # fmt: skip
        losses = {p: [] for p in models}
        for x, y in train[: args.warmup]:
            for precision, model in models.items():
                losses[precision].append(float(model.train_on_batch(x, y, return_dict=True)["loss"]))
        speed = {p: [] for p in models}
        for r in range(args.rounds):
            order = list(models) if r % 2 == 0 else list(models)[::-1]
            chunk = train[args.warmup + r * args.steps : args.warmup + (r + 1) * args.steps]
            chunk_tokens = sum(tokens[args.warmup + r * args.steps : args.warmup + (r + 1) * args.steps])
            for precision in order:
                start = time.perf_counter()
                for x, y in chunk:
                    losses[precision].append(float(models[precision].train_on_batch(x, y, return_dict=True)["loss"]))
                speed[precision].append(chunk_tokens / (time.perf_counter() - start))
        ratio = statistics.median(b / f for b, f in zip(speed["mixed_bfloat16"], speed["float32"]))
        at = sorted({0, len(losses["float32"]) // 2, len(losses["float32"]) - 1})
        rows.append((name, statistics.median(speed["float32"]), statistics.median(speed["mixed_bfloat16"]), ratio,
                     [(i, losses["float32"][i], losses["mixed_bfloat16"][i]) for i in at]))  # fmt: skip
        last_gap = abs(losses["mixed_bfloat16"][-1] - losses["float32"][-1]) / losses["float32"][-1]
        goals.append(f"goal {name}_bfloat16_speed: {ratio:.2f}x float32 (target >= 1.0x) {'met' if ratio >= 1.0 else 'not met'}")
        goals.append(f"goal {name}_bfloat16_loss: last loss {losses['mixed_bfloat16'][-1]:.4f} vs float32 "
                     f"{losses['float32'][-1]:.4f}, {100 * last_gap:.1f}% apart (target <= 10%) {'met' if last_gap <= 0.10 else 'not met'}")  # fmt: skip
    print(f"\n{'recipe':<22} {'float32 tok/s':>14} {'bfloat16 tok/s':>15} {'bf16/f32':>9}   loss at step (float32 / bfloat16)")
    for name, f32, bf16, ratio, curve in rows:
        points = ", ".join(f"{i}: {a:.3f} / {b:.3f}" for i, a, b in curve)
        print(f"{name:<22} {f32:>14,.0f} {bf16:>15,.0f} {ratio:>8.2f}x   {points}")
    print()
    for line in goals:
        print(line)


if __name__ == "__main__":
    main()
