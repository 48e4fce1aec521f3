"""Speed of the project's attention against Keras's, and of cached Transformer generation against recomputation.

1. MultiHeadAttention forward + backward (gradients of a scalar loss with respect to the input and every
   weight) for B=32, T=128, D=256, 8 heads of 32, self-attention, against keras.layers.MultiHeadAttention
   with the same shapes, both inside tf.function. Once without a mask (the goal) and once causal (info).
2. Greedy generation of 128 new tokens with a decoder-only model (Embedding, PositionalEncoding,
   TransformerDecoder, Dense to the vocabulary): with the key/value cache (one token per step) against
   recomputing the whole prefix at every step. Each generation runs as one graph (a while loop inside
   tf.function), as an exported decoder would; the two must produce the same tokens.

Runs are interleaved (each candidate once per repeat, alternating which goes first) and medians over
repeats are reported, so the ratios hold on a noisy shared machine. The last lines are one line per goal: `goal NAME: ... met`.

Usage: python benchmarks/attention_throughput.py [--repeats 5] [--iterations 4] [--new-tokens 128]
"""

import argparse
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import layers  # noqa: E402


def timed(fn, iterations):
    start = time.perf_counter()
    for _ in range(iterations):
        result = fn()
    tf.nest.map_structure(lambda t: t.numpy(), result)
    return (time.perf_counter() - start) / iterations


def training_step(layer, x, causal):
    @tf.function
    def step():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, x, use_causal_mask=causal)
            loss = tf.reduce_sum(tf.square(y))
        return tape.gradient(loss, [x] + layer.trainable_weights)

    return step


def bench_attention(repeats, iterations, causal, B=32, T=128, D=256, heads=8):
    x = tf.random.stateless_normal((B, T, D), seed=(1, 2))
    candidates = {
        "seqrecipes.MultiHeadAttention": layers.MultiHeadAttention(heads, D // heads),
        "keras.MultiHeadAttention": keras.layers.MultiHeadAttention(heads, D // heads),
    }
    steps = {}
    for name, layer in candidates.items():
        layer(x, x)
        steps[name] = training_step(layer, x, causal)
        steps[name]()  # trace and warm up
    times = {name: [] for name in candidates}
    order = list(steps)
    for repeat in range(repeats):
        # Alternate who goes first: on a shared machine the first of a pair tends to be slower.
        for name in order if repeat % 2 == 0 else order[::-1]:
            times[name].append(timed(steps[name], iterations))
    medians = {name: statistics.median(t) for name, t in times.items()}
    label = "causal" if causal else "no mask"
    for name, median in medians.items():
        print(f"  {name:32s} {label:8s} fwd+bwd {1000 * median:8.1f} ms")
    ratio = medians["keras.MultiHeadAttention"] / medians["seqrecipes.MultiHeadAttention"]
    print(f"  ratio keras / seqrecipes ({label}): {ratio:.2f}x")
    return ratio


class Generator:
    """A decoder-only language model and its two greedy decoding steps."""

    def __init__(self, vocabulary=512, D=256, heads=8, intermediate=512, max_length=129):
        self.max_length = max_length
        self.embedding = keras.layers.Embedding(vocabulary, D)
        self.positions = layers.PositionalEncoding()
        self.decoder = layers.TransformerDecoder(intermediate, heads, normalize_first=True)
        self.head = keras.layers.Dense(vocabulary)
        self.full_logits(tf.zeros((1, 2), "int32"))

    def full_logits(self, tokens):
        x = self.embedding(tokens)  # (B, t, D)
        x = x + self.positions(x)
        return self.head(self.decoder(x))  # (B, t, V)

    def cached_logits(self, token, cache, index):
        x = self.embedding(token)  # (B, 1, D)
        x = x + self.positions(x, start_index=index)
        y, cache = self.decoder(x, self_attention_cache=cache, self_attention_cache_update_index=index)
        return self.head(y), cache  # (B, 1, V)


def bench_generation(repeats, new_tokens, B=8):
    model = Generator(max_length=new_tokens + 1)
    prompt = tf.random.stateless_uniform((B, 1), seed=(3, 4), maxval=512, dtype="int32")
    length = new_tokens + 1

    @tf.function
    def generate_recompute():
        # Every step runs the model over the whole prefix generated so far (which grows by one token).
        def body(tokens):
            next_token = tf.argmax(model.full_logits(tokens)[:, -1], axis=-1, output_type="int32")
            return (tf.concat([tokens, next_token[:, None]], axis=1),)

        (tokens,) = tf.while_loop(
            lambda tokens: tf.shape(tokens)[1] < length,
            body,
            (prompt,),
            shape_invariants=(tf.TensorShape([B, None]),),
        )
        return tokens

    @tf.function
    def generate_cached():
        # Every step feeds one token through the key/value cache: keras.ops.while_loop, fixed shapes.
        def body(i, cache, token, tokens):
            logits, cache = model.cached_logits(token, cache, i)
            next_token = keras.ops.cast(keras.ops.argmax(logits[:, -1], axis=-1), "int32")[:, None]  # (B, 1)
            tokens = keras.ops.slice_update(tokens, (0, i + 1), next_token)
            return i + 1, cache, next_token, tokens

        tokens = keras.ops.slice_update(keras.ops.zeros((B, length), "int32"), (0, 0), prompt)
        loop = (0, model.decoder.get_initial_cache(B, length), prompt, tokens)
        _, _, _, tokens = keras.ops.while_loop(lambda i, c, t, o: i < new_tokens, body, loop)
        return tokens

    same = bool(np.array_equal(generate_cached().numpy(), generate_recompute().numpy()))  # also warms up
    times = {"cached": [], "recompute": []}
    for repeat in range(repeats):
        pair = [("cached", generate_cached), ("recompute", generate_recompute)]
        for name, generate in pair if repeat % 2 == 0 else pair[::-1]:
            times[name].append(timed(generate, 1))
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"  {name:10s} {new_tokens} tokens x {B}: {median:7.3f} s  ({B * new_tokens / median:8.0f} tokens/s)")
    print(f"  same tokens: {same}")
    ratio = medians["recompute"] / medians["cached"]
    print(f"  ratio recompute / cached: {ratio:.2f}x")
    return ratio, same


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--new-tokens", type=int, default=128)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPU cores")
    print("MultiHeadAttention forward+backward, B=32 T=128 D=256 8 heads:")
    ratio = bench_attention(args.repeats, args.iterations, causal=False)
    bench_attention(args.repeats, args.iterations, causal=True)
    print(f"TransformerDecoder greedy generation of {args.new_tokens} new tokens, D=256 8 heads:")
    speedup, same = bench_generation(max(1, args.repeats // 2 + 1), args.new_tokens)
    print(f"goal mha_vs_keras_fwd_bwd: {ratio:.2f}x (target >= 1.00x) {'met' if ratio >= 1.0 else 'not met'}")
    met = speedup >= 5.0 and same
    print(
        f"goal cached_generation_{args.new_tokens}_tokens: {speedup:.2f}x faster than recomputation"
        f"{'' if same else ' (tokens differ)'} (target >= 5.00x) {'met' if met else 'not met'}"
    )


if __name__ == "__main__":
    main()
