"""The seeds' central claim: a vanilla RNN cannot learn long-range dependencies, LSTM and GRU can.

The adding problem (Hochreiter and Schmidhuber 1997): each input step is a pair (value, marker);
values are U(0, 1), exactly two steps are marked, and the target is the sum of the two marked
values. A model that ignores the inputs and predicts the mean sum 1 scores MSE Var(u1 + u2) = 1/6,
about 0.167. SimpleRNN, GRU and LSTM (the project's layers, 128 units) are trained with Adam and
gradient clipping (global norm 1) at each sequence length T.

Prints a table of final test MSE per cell and T, and writes experiments/results/vanishing_gradient.png
with the test-loss curves and the norm of dL/dh_t against the time lag T - t (at initialisation and
after training), where h_t is the hidden state after step t and L the loss of one batch.

Usage:
    python experiments/vanishing_gradient.py            # the full run: T=100 and 200, 128 units
    python experiments/vanishing_gradient.py --short    # the short version `make demo` runs (< 5 min)
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data, layers  # noqa: E402

CELLS = {"SimpleRNN": layers.SimpleRNNCell, "GRU": layers.GRUCell, "LSTM": layers.LSTMCell}
CONSTANT_PREDICTOR_MSE = 1.0 / 6.0
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def adding_problem(num_examples, length, seed):
    """(x, y) as NumPy arrays: x (N, T, 2) of (value, marker) pairs, y (N, 1) the marked sum."""
    x, y = next(iter(data.adding_problem(num_examples=num_examples, length=length, seed=seed).batch(num_examples)))
    return x.numpy(), y.numpy()[:, None]


def build_model(cell_name, length, units, learning_rate):
    inputs = keras.Input((length, 2))
    cell = CELLS[cell_name](units)
    outputs = keras.layers.Dense(1)(layers.RNN(cell)(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, global_clipnorm=1.0), loss="mse")
    return model, cell


def state_gradient_norms(model, cell, x, y):
    """||dL/dh_t|| for t = 1..T, by adding a zero perturbation e_t to h_t and differentiating."""
    head = model.layers[-1]  # the Dense output layer
    x = tf.constant(x)
    length = x.shape[1]

    @tf.function
    def norms():
        eps = [tf.zeros((x.shape[0], cell.units)) for _ in range(length)]
        with tf.GradientTape() as tape:
            tape.watch(eps)
            states = cell.get_initial_state(batch_size=x.shape[0])
            for t in range(length):
                h, states = cell(x[:, t], states)
                states = [states[0] + eps[t]] + list(states[1:])
            loss = tf.reduce_mean(tf.square(head(states[0]) - y))
        grads = tape.gradient(loss, eps)
        return tf.stack([tf.norm(g) for g in grads])

    return norms().numpy()


class TestLoss(keras.callbacks.Callback):
    def __init__(self, x, y, every):
        super().__init__()
        self.x, self.y, self.every = x, y, every
        self.steps, self.losses = [], []

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self.every == 0:
            self.steps.append(batch + 1)
            self.losses.append(float(self.model.evaluate(self.x, self.y, verbose=0, batch_size=500)))


def run(cell_name, length, args):
    keras.utils.set_random_seed(args.seed)
    x_train, y_train = adding_problem(args.steps * args.batch, length, seed=args.seed)
    x_test, y_test = adding_problem(args.test_examples, length, seed=args.seed + 1)
    model, cell = build_model(cell_name, length, args.units, args.learning_rate)
    probe_x, probe_y = x_test[:100], y_test[:100]
    grads_init = state_gradient_norms(model, cell, probe_x, probe_y)
    curve = TestLoss(x_test, y_test, every=max(1, args.steps // 20))
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch, epochs=1, verbose=args.verbose, callbacks=[curve])
    seconds = time.perf_counter() - start
    grads_end = state_gradient_norms(model, cell, probe_x, probe_y)
    mse = float(model.evaluate(x_test, y_test, verbose=0, batch_size=500))
    return {"mse": mse, "curve": (curve.steps, curve.losses), "grads": (grads_init, grads_end), "seconds": seconds}


def plot(results, lengths, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(lengths), figsize=(6 * len(lengths), 8), squeeze=False)
    for col, length in enumerate(lengths):
        ax = axes[0, col]
        for name in CELLS:
            steps, losses = results[name, length]["curve"]
            ax.plot(steps, losses, label=name)
        ax.axhline(CONSTANT_PREDICTOR_MSE, color="gray", linestyle="--", label="constant predictor (1/6)")
        ax.set(title=f"adding problem, T={length}: test MSE", xlabel="training step", ylabel="MSE", yscale="log")
        ax.legend()
        ax = axes[1, col]
        for name in CELLS:
            grads_init, grads_end = results[name, length]["grads"]
            lag = np.arange(length)[::-1]  # T - t for t = 1..T
            (line,) = ax.plot(lag, grads_end + 1e-30, label=f"{name}, trained")
            ax.plot(lag, grads_init + 1e-30, color=line.get_color(), linestyle=":", label=f"{name}, initial")
        ax.set(title=f"T={length}: ||dL/dh_t|| against time lag T - t", xlabel="T - t", ylabel="gradient norm", yscale="log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Vanishing gradients on the adding problem.")
    parser.add_argument("--short", action="store_true", help="the short version: T=50 and 100, fewer steps")
    parser.add_argument("--lengths", type=int, nargs="+", default=None)
    parser.add_argument("--steps", type=int, default=None, help="training steps per run")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--learning-rate", type=float, default=1e-2)
    parser.add_argument("--test-examples", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=0)
    args = parser.parse_args(argv)
    lengths = args.lengths or ([50, 100] if args.short else [100, 200])
    args.steps = args.steps or (600 if args.short else 3000)

    results = {}
    for length in lengths:
        for name in CELLS:
            results[name, length] = run(name, length, args)
            print(f"  {name:<10} T={length:<4} test MSE {results[name, length]['mse']:.4f}  ({results[name, length]['seconds']:.0f} s)", flush=True)

    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "vanishing_gradient.png")
    plot(results, lengths, path)

    print(f"\nAdding problem, {args.units} units, {args.steps} Adam steps of {args.batch}, clipnorm 1. Test MSE (constant predictor: {CONSTANT_PREDICTOR_MSE:.3f}):")
    print(f"{'cell':<10}" + "".join(f"{'T=' + str(t):>10}" for t in lengths))
    for name in CELLS:
        print(f"{name:<10}" + "".join(f"{results[name, t]['mse']:>10.4f}" for t in lengths))
    print("\nratio of ||dL/dh_1|| to ||dL/dh_T|| after training (how much gradient reaches the first step):")
    for name in CELLS:
        print(f"{name:<10}" + "".join(f"{results[name, t]['grads'][1][0] / results[name, t]['grads'][1][-1]:>10.1e}" for t in lengths))
    print(f"plot: {path}")
    first = min(lengths)
    for name in ("LSTM", "GRU"):
        mse = results[name, first]["mse"]
        print(f"goal {name.lower()}_learns_T{first}: MSE {mse:.4f} (target < 0.01) {'met' if mse < 0.01 else 'not met'}")
    mse = results["SimpleRNN", max(lengths)]["mse"]
    near = abs(mse - CONSTANT_PREDICTOR_MSE) < 0.03
    print(f"goal simplernn_fails_T{max(lengths)}: MSE {mse:.4f} (target near the constant predictor's 0.167) {'met' if near else 'not met'}")


if __name__ == "__main__":
    main()
