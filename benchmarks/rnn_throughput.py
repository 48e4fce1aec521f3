"""Training-step throughput of the project's sequence layers against Keras's own.

B=64 sequences of T=100 steps, 128 inputs, 256 hidden units; a layer, then Dense(1) on the last
output, MSE, Adam; one compiled training step at a time (``model.train_on_batch``), with the same
compile settings for every model. Runs are interleaved (every layer once per repeat) and the median
over repeats is reported, so the ratios hold on a noisy shared machine. The "(autodiff BPTT)" rows
run the same layers with autodiff through their generic loop instead of the hand-written gradient
of layers/_bptt.py, to show what it brings; the "(one chunk)" rows run them with one input
projection and one loop over all T steps instead of TIME_CHUNKS chunks (layers/rnn.py).

GFLOP/s counts the recurrent layer's matmuls only: forward 2*B*T*(D+H)*gH, training about 3x that.
The roof is this machine's measured float32 matmul rate (a 2048x2048 product).

Usage: python benchmarks/rnn_throughput.py [--repeats 5] [--steps 4] [--batch 64] [--time 100]
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


def matmul_roof(n=2048, repeats=10):
    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    f = tf.function(lambda: tf.matmul(a, b))
    f().numpy()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        f().numpy()
        times.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(times) / 1e9


def autodiff(layer):
    """The layer with its generic loop and autodiff BPTT instead of the hand-written gradient."""
    layer.hand_written_bptt = False
    return layer


def one_chunk(layer):
    """The layer with one input projection and one loop over all steps (no time chunks)."""
    layer.max_time_chunks = 1
    return layer


def candidates(units):
    """name -> (factory, gates, peer name)."""
    return {
        "keras.SimpleRNN": (lambda: keras.layers.SimpleRNN(units), 1, None),
        "keras.GRU": (lambda: keras.layers.GRU(units), 3, None),
        "keras.LSTM": (lambda: keras.layers.LSTM(units), 4, None),
        "SimpleRNN": (lambda: layers.SimpleRNN(units), 1, "keras.SimpleRNN"),
        "GRU": (lambda: layers.GRU(units), 3, "keras.GRU"),
        "GRU(reset_after=False)": (lambda: layers.GRU(units, reset_after=False), 3, "keras.GRU"),
        "LSTM": (lambda: layers.LSTM(units), 4, "keras.LSTM"),
        "LSTM (autodiff BPTT)": (lambda: autodiff(layers.LSTM(units)), 4, "keras.LSTM"),
        "GRU (autodiff BPTT)": (lambda: autodiff(layers.GRU(units)), 3, "keras.GRU"),
        "LSTM (one chunk)": (lambda: one_chunk(layers.LSTM(units)), 4, "keras.LSTM"),
        "GRU (one chunk)": (lambda: one_chunk(layers.GRU(units)), 3, "keras.GRU"),
        "RNN(PeepholeLSTMCell)": (lambda: layers.RNN(layers.PeepholeLSTMCell(units)), 4, "keras.LSTM"),
        "RNN(LayerNormLSTMCell)": (lambda: layers.RNN(layers.LayerNormLSTMCell(units)), 4, "keras.LSTM"),
        "RNN(CIFGLSTMCell)": (lambda: layers.RNN(layers.CIFGLSTMCell(units)), 3, "keras.LSTM"),
    }


def build_model(factory, time_steps, features):
    inputs = keras.Input((time_steps, features))
    outputs = keras.layers.Dense(1)(factory()(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse")
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=4, help="training steps timed per run")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--time", type=int, default=100)
    parser.add_argument("--features", type=int, default=128)
    parser.add_argument("--units", type=int, default=256)
    args = parser.parse_args()
    B, T, D, H = args.batch, args.time, args.features, args.units

    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D)).astype("float32")
    y = rng.standard_normal((B, 1)).astype("float32")
    specs = candidates(H)
    models = {}
    for name, (factory, _, _) in specs.items():
        keras.utils.set_random_seed(0)
        models[name] = build_model(factory, T, D)
        models[name].train_on_batch(x, y)  # trace and warm up
        models[name].train_on_batch(x, y)

    roof = matmul_roof()
    times = {name: [] for name in specs}
    for _ in range(args.repeats):
        for name, model in models.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                model.train_on_batch(x, y)
            times[name].append((time.perf_counter() - start) / args.steps)

    gpu = bool(tf.config.list_physical_devices("GPU"))
    print(f"device: {'GPU' if gpu else 'CPU'}; B={B} T={T} D={D} H={H}; {args.repeats} interleaved repeats of {args.steps} steps")
    print(f"float32 matmul roof: {roof:.1f} GFLOP/s")
    print(f"{'layer':<26}{'step ms':>10}{'tokens/s':>12}{'GFLOP/s':>10}{'% roof':>8}  ratio vs peer")
    median = {name: statistics.median(t) for name, t in times.items()}
    for name, (_, gates, peer) in specs.items():
        step = median[name]
        flops = 3 * 2 * B * T * (D + H) * gates * H
        ratio = f"{median[peer] / step:.2f}x {peer}" if peer else "(peer)"
        print(f"{name:<26}{step * 1e3:>10.1f}{B * T / step:>12.0f}{flops / step / 1e9:>10.1f}{100 * flops / step / 1e9 / roof:>8.1f}  {ratio}")

    goals = []
    for name in ("LSTM", "GRU"):
        ratio = median[specs[name][2]] / median[name]
        goals.append((f"{name.lower()}_vs_keras", ratio, 1.0, f"at least 1.0x keras.{name}"))
    for name in ("LSTM", "RNN(PeepholeLSTMCell)", "RNN(LayerNormLSTMCell)", "RNN(CIFGLSTMCell)", "GRU", "GRU(reset_after=False)", "SimpleRNN"):
        ratio = median["keras.LSTM"] / median[name]
        goals.append((f"{name}_vs_keras_lstm", ratio, 0.8, "at least 0.8x keras.LSTM"))
    for goal, ratio, target, text in goals:
        print(f"goal {goal}: {ratio:.2f}x ({'target ' + text}) {'met' if ratio >= target else 'not met'}")
    if not gpu:
        print("goal cudnn_speed: not measured, no GPU on this machine; benchmarks/rnn_throughput_gpu.py measures it on one (target LSTM and GRU at cuDNN speed on a GPU) not met")


if __name__ == "__main__":
    main()
