"""``sequence_regressor``: a time series in, its next value or next ``horizon`` values out (MSE).

The input normalisation is inside the model, so that the model (and its export) takes raw series.
"""

import warnings
from typing import Optional, Sequence

import keras
import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_choice, check_rate
from seqrecipes.recipes._components import CELLS, check_lengths, check_positive_ints, recurrent_optimizer, recurrent_stack, saved_arguments
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes._precision import with_precision


def forecast_serving(model):
    """The serving function of ``sequence_regressor``: series (B, T) -> forecast (B, horizon)."""
    num_features = model.arguments["num_features"]
    if num_features != 1:
        raise ValueError(
            "The 'forecast' signature takes univariate series (B, T); this model reads "
            f"{num_features} features per step. Serve it with model.predict. Received: num_features={num_features}"
        )
    input_length = model.arguments["input_length"]

    def serve(series):
        series = tf.debugging.assert_all_finite(series, "`series` holds NaN or infinity")
        series = series[:, -input_length:]  # keep the last input_length steps
        forecast = model(series[:, :, None], training=False)  # (B, horizon)
        return {"forecast": tf.cast(forecast, tf.float32)}

    return serve


@with_precision
def sequence_regressor(
    *,
    input_length: int = 24,
    num_features: int = 1,
    horizon: int = 1,
    cell: str = "lstm",
    units: int = 32,
    num_layers: int = 1,
    dropout: float = 0.0,
    series=None,
    mean: Optional[Sequence[float]] = None,
    variance: Optional[Sequence[float]] = None,
    target_feature: int = 0,
    learning_rate: float = 1e-3,
    clipnorm: Optional[float] = 1.0,
    name: str = "sequence_regressor",
) -> RecipeModel:
    """Time-series regression and forecasting: an RNN over the series, ``horizon`` values out (MSE).

    Shapes: B batch, T time steps, F ``num_features``, H ``units``, K ``horizon``.

        z_t   = (x_t - mu) / sigma               Normalization, mu and sigma^2 from the training series
        h_T   = RNN(z_1 .. z_T)                  ``num_layers`` stacked ``cell`` RNNs, (B, H)
        y^    = mu_k + sigma_k (W h_T + b)       (B, K), back in the units of feature k = ``target_feature``

    The normalisation is part of the model (``Normalization`` layers holding mu and sigma^2), so
    the model, its ``.keras`` file and its export all take and give raw values. Give ``series``
    (the training series) to compute mu and sigma^2 per feature, or ``mean`` and ``variance``
    directly; with neither the inputs are not normalised (a warning says so).

    Inputs: (B, T, F) float windows (``data.series_windows`` makes them; any T). Targets:
    (B, K), or (B, K, 1) as ``series_windows`` gives them for a univariate series (Keras squeezes
    the last axis); for several features, map the windows' targets to the target column. Outputs:
    (B, K). Loss: mean squared error; metric: mean absolute error.

    Export (``serving="forecast"``, univariate models): ``serving_default`` takes ``series``,
    float32 (B, T) raw values, keeps the last ``input_length`` steps of longer series (the most
    recent window, which is what forecasting needs; shorter series are read as they are) and
    returns ``forecast`` (B, K) float32. A series holding NaN or infinity fails with an
    InvalidArgument error naming ``series``.

    Args:
        input_length: the window length the model is trained on; the export keeps that many of the
            latest steps.
        num_features: F, values per time step.
        horizon: K, the number of future steps predicted.
        cell: the recurrent cell: "simple_rnn", "gru", "lstm", "peephole_lstm", "layer_norm_lstm" or
            "cifg_lstm".
        units: H, the size of each recurrent layer.
        num_layers: stacked recurrent layers.
        dropout: dropout rate between recurrent layers and before the output (training only).
        series: the training series, to compute the normalisation: an array (time,) or
            (time, F), a dataset of time steps (``data.statsmodels_series``) or of (x, y) windows.
            Not stored; ``mean`` and ``variance`` are.
        mean, variance: mu and sigma^2, one per feature (instead of ``series``).
        target_feature: the feature whose units the forecast is in (0 for a univariate series).
        learning_rate: Adam's learning rate.
        clipnorm: gradient clipping by global norm (None: off).
        name: the model name.

    Returns:
        A compiled ``RecipeModel`` (Adam with clipping, MSE, MAE).

    Example:
    >>> from seqrecipes import data, recipes
    >>> steps = data.noisy_periodic_series(length=120, seed=0)
    >>> windows = steps.apply(data.series_windows(12, horizon=2)).batch(16)
    >>> model = recipes.sequence_regressor(input_length=12, horizon=2, units=8, series=steps)
    >>> history = model.fit(windows, epochs=2, verbose=0)
    >>> model.predict(next(iter(windows))[0], verbose=0).shape
    (16, 2)

    References:
        - Hyndman and Athanasopoulos, Forecasting: principles and practice (3rd ed.), ch. 5.
        - Hochreiter and Schmidhuber (1997), Long short-term memory, Neural Computation.
    """
    check_lengths(locals(), "input_length", "horizon")
    check_positive_ints(locals(), "num_features", "units", "num_layers")
    check_choice("cell", cell, CELLS)
    check_rate("dropout", dropout)
    if (
        isinstance(target_feature, bool)
        or not isinstance(target_feature, int)
        or not 0 <= target_feature < num_features
    ):
        raise ValueError(
            f"`target_feature` must be an integer in [0, {num_features}). Received: target_feature={target_feature!r}"
        )
    mean, variance = _normalization_statistics(series, mean, variance, num_features)
    optimizer = recurrent_optimizer(learning_rate, clipnorm=clipnorm)

    inputs = keras.Input((None, num_features), dtype="float32", name="series")
    x = keras.layers.Normalization(axis=-1, mean=mean, variance=variance, name="normalization")(inputs)  # (B, T, F)
    x = recurrent_stack(x, cell, units, num_layers, dropout, sequences=False)  # (B, H): h_T
    z = keras.layers.Dense(horizon, name="normalized_forecast")(x)  # (B, K), in units of sigma_k
    forecast = keras.layers.Normalization(
        axis=None, mean=mean[target_feature], variance=variance[target_feature], invert=True, dtype="float32", name="forecast"
    )(z)  # fmt: skip

    arguments = saved_arguments(sequence_regressor, locals(), leave_out=("series",))
    model = RecipeModel(inputs, forecast, recipe="sequence_regressor", arguments=arguments, name=name)
    model.compile(optimizer=optimizer, loss="mse", metrics=[keras.metrics.MeanAbsoluteError(name="mae")])
    return model


def _normalization_statistics(series, mean, variance, num_features):
    """mu and sigma^2 as lists of F floats, from ``series`` or as given (identity when neither)."""
    if series is not None:
        if mean is not None or variance is not None:
            raise ValueError(
                "Pass either `series` or `mean` and `variance`, not both. Received: series and mean/variance"
            )
        values = _series_values(series, num_features)
        return values.mean(axis=0).astype(float).tolist(), values.var(axis=0).astype(float).tolist()
    if mean is None and variance is None:
        warnings.warn(
            "sequence_regressor: no `series` (or `mean` and `variance`) given, so the inputs are not normalised; "
            "pass the training series for a model that trains well on raw values."
        )
        return [0.0] * num_features, [1.0] * num_features
    if mean is None or variance is None:
        raise ValueError(f"Pass both `mean` and `variance`. Received: mean={mean!r}, variance={variance!r}")
    mean = [float(m) for m in np.ravel(mean)]
    variance = [float(v) for v in np.ravel(variance)]
    if len(mean) != num_features or len(variance) != num_features:
        raise ValueError(
            f"`mean` and `variance` need one value per feature ({num_features}). Received: mean={mean}, variance={variance}"
        )
    if not all(np.isfinite(mean)) or not all(np.isfinite(variance)) or min(variance) < 0:
        raise ValueError(
            f"`mean` must be finite and `variance` finite and >= 0. Received: mean={mean}, variance={variance}"
        )
    return mean, variance


def _series_values(series, num_features):
    """The training series as a (N, F) float64 array (window datasets: their inputs)."""
    if isinstance(series, tf.data.Dataset):
        spec = series.element_spec
        if isinstance(spec, tuple):
            series = series.map(lambda x, *rest: x)
        blocks = [np.asarray(b, np.float64).reshape(-1, num_features) for b in series.batch(4096).as_numpy_iterator()]
        values = np.concatenate(blocks) if blocks else np.zeros((0, num_features))
    else:
        values = np.asarray(series, dtype=np.float64)
        if values.ndim == 1 and num_features == 1:
            values = values[:, None]
        if values.ndim != 2 or values.shape[1] != num_features:
            raise ValueError(
                f"`series` must have shape (time,) or (time, {num_features}). Received: series.shape={values.shape}"
            )
    if values.shape[0] == 0:
        raise ValueError(f"`series` is empty. Received: series.shape={values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(
            f"`series` holds NaN or infinity ({int((~np.isfinite(values)).sum())} values); clean it first "
            "(data.clean_series). Received: a series with missing values"
        )
    return values
