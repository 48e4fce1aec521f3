"""Forecasting real series that statsmodels ships with sequence_regressor, against the seasonal-naive baseline.

For each series, the first 80% of the time steps train and the last 20% test. A forecast at time t
sees the ``input_length`` steps before t (which may reach back into the training part, as any
forecaster's would) and predicts the value at t, one step ahead. Every method is scored on the same
test targets:

- seasonal naive: y^_t = y_{t-m}, the value one season earlier (m = 12 for monthly El Nino,
  m = 11 for the sunspot cycle), the baseline the goal is about;
- naive: y^_t = y_{t-1}, the last value;
- sequence_regressor: one LSTM layer (32 units) over the last ``input_length`` raw values; its
  normalisation is computed from the training part only and stored in the model.

Prints a table of test MSE (and MAE), the goal lines, and writes
experiments/results/series_forecast.png (the test part of each series with the forecasts).

Usage:
    python experiments/series_forecast.py
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
SERIES = {
    # name: (season length m, input_length, epochs)
    "elnino": (12, 24, 60),
    "sunspots": (11, 22, 150),
}
GOAL_SERIES = "elnino"
TRAIN_FRACTION = 0.8


def windows(values, starts, input_length):
    """x (N, L, 1) and y (N,) for forecasts of values[t], t in starts, from values[t - L : t]."""
    x = np.stack([values[t - input_length : t] for t in starts])[:, :, None]
    return x.astype("float32"), values[starts].astype("float32")


def forecast_series(name, seed):
    season, input_length, epochs = SERIES[name]
    steps = data.statsmodels_series(name)  # one element (1,) per time step
    values = np.concatenate(list(steps.batch(4096).as_numpy_iterator()))[:, 0].astype("float64")
    cut = int(round(len(values) * TRAIN_FRACTION))
    train_starts = np.arange(input_length, cut)
    test_starts = np.arange(cut, len(values))
    x_train, y_train = windows(values, train_starts, input_length)
    x_test, y_test = windows(values, test_starts, input_length)

    keras.utils.set_random_seed(seed)
    model = recipes.sequence_regressor(
        input_length=input_length, horizon=1, units=32, learning_rate=3e-3, series=values[:cut]
    )
    start = time.time()
    model.fit(x_train, y_train, batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    seconds = time.time() - start
    predicted = np.asarray(model.predict(x_test, batch_size=256, verbose=0))[:, 0]

    forecasts = {
        "seasonal naive": values[test_starts - season],
        "naive (last value)": values[test_starts - 1],
        "sequence_regressor": predicted,
    }
    scores = {
        method: {"mse": float(np.mean((f - y_test) ** 2)), "mae": float(np.mean(np.abs(f - y_test)))}
        for method, f in forecasts.items()
    }
    print(f"  {name:<9} {len(train_starts)} training and {len(test_starts)} test forecasts, season {season}, "
          f"window {input_length}, {epochs} epochs ({seconds:.0f} s)", flush=True)  # fmt: skip
    return {"values": values, "test_starts": test_starts, "forecasts": forecasts, "scores": scores, "season": season}


def plot(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(results), 1, figsize=(9, 3.5 * len(results)), squeeze=False)
    for ax, (name, result) in zip(axes[:, 0], results.items()):
        t = result["test_starts"]
        ax.plot(t, result["values"][t], color="black", label="actual")
        for method in ("seasonal naive", "sequence_regressor"):
            ax.plot(t, result["forecasts"][method], label=f"{method} (MSE {result['scores'][method]['mse']:.3g})")
        ax.set_title(f"{name}: one-step forecasts on the test part")
        ax.set_xlabel("time step")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description="sequence_regressor against the seasonal-naive baseline.")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    results = {name: forecast_series(name, args.seed) for name in SERIES}

    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, "series_forecast.png")
    plot(results, path)

    methods = list(next(iter(results.values()))["scores"])
    print(f"\none-step test errors (first {TRAIN_FRACTION:.0%} of each series trains):")
    print(f"{'series':<10}{'method':<22}{'MSE':>12}{'MAE':>10}{'MSE / seasonal naive':>23}")
    for name, result in results.items():
        baseline = result["scores"]["seasonal naive"]["mse"]
        for method in methods:
            score = result["scores"][method]
            print(f"{name:<10}{method:<22}{score['mse']:>12.4g}{score['mae']:>10.4g}{score['mse'] / baseline:>23.3f}")
    print(f"plot: {path}")
    for name, result in results.items():
        model_mse = result["scores"]["sequence_regressor"]["mse"]
        baseline = result["scores"]["seasonal naive"]["mse"]
        met = "met" if model_mse < baseline else "not met"
        print(
            f"goal {name}_beats_seasonal_naive: test MSE {model_mse:.4g} (target < seasonal naive {baseline:.4g}) {met}"
        )


if __name__ == "__main__":
    main()
