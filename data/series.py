"""Time series into tf.data: a checked entry point for arrays and a windowing step for forecasting."""

import logging
import warnings

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_choice, check_positive_int

logger = logging.getLogger(__name__)

NAN_POLICIES = ("raise", "drop", "interpolate", "keep")



def clean_series(values, nan_policy="raise", name="series"):
    """Checks a series for NaN at the boundary and applies ``nan_policy``.

    Args:
        values: array-like of shape ``(time,)`` or ``(time, features)``.
        nan_policy: ``"raise"`` (default) raises on any NaN; ``"drop"`` removes the time steps
            that hold one (warns); ``"interpolate"`` fills them linearly from the neighbouring
            steps, per feature, holding the first/last valid value at the ends (warns);
            ``"keep"`` leaves them (for ``series_windows(nan_policy="drop")`` to skip windows).
        name: the series' name for messages.

    Returns:
        A float32 array of shape ``(time, features)``.

    Raises:
        ValueError: NaN with ``nan_policy="raise"``, an empty or all-NaN series, a bad shape or
            policy.

    Example:
    >>> import warnings
    >>> from seqrecipes import data
    >>> data.clean_series([1.0, 2.0, 4.0]).tolist()
    [[1.0], [2.0], [4.0]]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # "1 time steps with NaN ... handled by nan_policy='interpolate'"
    ...     data.clean_series([1.0, float("nan"), 3.0], nan_policy="interpolate")[:, 0].tolist()
    [1.0, 2.0, 3.0]
    """
    check_choice("nan_policy", nan_policy, NAN_POLICIES)
    array = np.asarray(values, dtype=np.float32)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(f"A series must have shape (time,) or (time, features). Received: {name}.shape={array.shape}")
    if array.shape[0] == 0:
        raise ValueError(f"The series {name!r} is empty. Received: {name}.shape={array.shape}")
    missing = np.isnan(array).any(axis=1)
    count = int(missing.sum())
    if count == 0 or nan_policy == "keep":
        return array
    first = int(np.argmax(missing))
    if nan_policy == "raise":
        raise ValueError(
            f"The series {name!r} holds NaN at {count} of {len(array)} time steps (first at index {first}); "
            "pass nan_policy='drop', 'interpolate' or 'keep' to handle them. Received: nan_policy='raise'"
        )
    if count == len(array):
        raise ValueError(f"The series {name!r} holds only NaN. Received: {name}.shape={array.shape}")
    warnings.warn(f"{name}: {count} time steps with NaN (first at index {first}) handled by nan_policy={nan_policy!r}")
    if nan_policy == "drop":
        return array[~missing]
    steps = np.arange(len(array))
    filled = array.copy()
    for column in range(array.shape[1]):
        bad = np.isnan(array[:, column])
        if bad.any():
            filled[bad, column] = np.interp(steps[bad], steps[~bad], array[~bad, column])
    return filled


def from_series(values, nan_policy="raise", name="series"):
    """A dataset of the time steps of a series, checked for NaN at the boundary.

    Args:
        values: array-like of shape ``(time,)`` or ``(time, features)``.
        nan_policy: see ``clean_series``: ``"raise"`` (default), ``"drop"``, ``"interpolate"``
            or ``"keep"``.
        name: the series' name for messages.

    Returns:
        A ``tf.data.Dataset`` with element spec ``TensorSpec((features,), tf.float32)``, one
        element per time step, in time order.

    Example:
    >>> from seqrecipes import data
    >>> ds = data.from_series([1.0, 2.0, 3.0])
    >>> ds.element_spec
    TensorSpec(shape=(1,), dtype=tf.float32, name=None)
    """
    return tf.data.Dataset.from_tensor_slices(clean_series(values, nan_policy=nan_policy, name=name))


def series_windows(input_length, horizon=1, stride=1, nan_policy="raise"):
    """Sliding windows for forecasting: ``input_length`` steps in, the next ``horizon`` steps out.

    Window k is ``x = series[k*s : k*s + L]`` and ``y = series[k*s + L : k*s + L + H]``, for every
    k whose window fits (``s = stride``, ``L = input_length``, ``H = horizon``). When applied,
    the transform reads the series once, eagerly, to check its length and its NaN.

    Args:
        input_length: L, time steps the model sees.
        horizon: H, time steps it predicts.
        stride: s, steps between window starts.
        nan_policy: ``"raise"`` (default) raises a ValueError on NaN in the series; ``"drop"``
            skips the windows that hold NaN.

    Returns:
        A transform from a dataset of time steps (element shape ``(features,)``) to ``(x, y)``
        with shapes ``(L, features)`` and ``(H, features)``.

    Raises:
        ValueError: the window (L + H steps) is longer than the series, the series holds NaN with
            ``nan_policy="raise"``, or the series is infinite.

    Example:
    >>> from seqrecipes import data
    >>> ds = data.from_series([0.0, 1.0, 2.0, 3.0, 4.0]).apply(data.series_windows(3, horizon=1))
    >>> [(x[:, 0].tolist(), y[:, 0].tolist()) for x, y in ds.as_numpy_iterator()]
    [([0.0, 1.0, 2.0], [3.0]), ([1.0, 2.0, 3.0], [4.0])]

    References:
        Hyndman and Athanasopoulos, "Forecasting: principles and practice", ch. 5 (time series
        cross-validation); ``keras.utils.timeseries_dataset_from_array``.
    """
    check_positive_int("input_length", input_length)
    check_positive_int("horizon", horizon)
    check_positive_int("stride", stride)
    check_choice("nan_policy", nan_policy, ("raise", "drop"))
    size = input_length + horizon

    def transform(dataset):
        if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise ValueError("series_windows needs a finite series. Received: an infinite dataset")
        length, nan_steps, first_nan = 0, 0, None
        for block in dataset.batch(4096).as_numpy_iterator():
            block = np.asarray(block, dtype=np.float64)
            bad = np.isnan(block.reshape(len(block), -1)).any(axis=1)
            if bad.any() and first_nan is None:
                first_nan = length + int(np.argmax(bad))
            nan_steps += int(bad.sum())
            length += len(block)
        if size > length:
            raise ValueError(
                f"The window (input_length + horizon = {size} steps) is longer than the series ({length} steps). "
                f"Received: input_length={input_length}, horizon={horizon}"
            )
        if nan_steps and nan_policy == "raise":
            raise ValueError(
                f"The series holds NaN at {nan_steps} time steps (first at index {first_nan}); pass "
                "nan_policy='drop' to skip the windows that hold them. Received: nan_policy='raise'"
            )
        windows = dataset.window(size, shift=stride, drop_remainder=True).flat_map(lambda w: w.batch(size))
        if nan_steps:
            windows = windows.filter(lambda w: tf.reduce_all(tf.math.is_finite(tf.cast(w, tf.float32))))
        features = dataset.element_spec.shape.as_list()

        def split(window):
            x = tf.ensure_shape(window[:input_length], [input_length] + features)
            y = tf.ensure_shape(window[input_length:], [horizon] + features)
            return x, y

        return windows.map(split, num_parallel_calls=tf.data.AUTOTUNE)

    return transform
