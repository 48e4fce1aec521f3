"""Time series into tf.data: a checked entry point for arrays and a windowing step for forecasting.

A missing value is NaN, inf or -inf, or a number beyond float32's range (about 3.4e38, which
becomes inf in float32): every non-finite value is treated as NaN is, by ``clean_series`` (and
so ``from_series``) and by ``series_windows``.
"""

import logging
import warnings

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_choice, check_positive_int

logger = logging.getLogger(__name__)

NAN_POLICIES = ("raise", "drop", "interpolate", "keep")


def _as_float_array(values, name):
    """``values`` as a float32 array of shape (time, features), checked for real numbers and shape."""
    if isinstance(values, (str, bytes)):
        raise TypeError(f"`values` must be numbers (a list or array), not a string. Received: values={values!r:.80}")
    try:
        array = np.asarray(values)
        if array.dtype.kind == "O":  # Python objects: numbers and None (NaN) pass, anything else fails
            array = array.astype(np.float64)
        if array.dtype.kind not in "biuf":  # strings, complex numbers, dates
            raise TypeError(f"dtype {array.dtype}")
    except (TypeError, ValueError) as error:  # a ragged list, strings, complex numbers
        raise TypeError(
            f"`values` of the series {name!r} must be real numbers of shape (time,) or (time, features). "
            f"Received: values={str(values)[:80]!r} ({str(error)[:120]})"
        ) from error
    with np.errstate(over="ignore", invalid="ignore"):  # values beyond float32 become inf: caught as missing
        array = array.astype(np.float32)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ValueError(
            f"`values`: a series must have shape (time,) or (time, features). Received: {name}.shape={array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(f"`values`: the series {name!r} is empty. Received: {name}.shape={array.shape}")
    if array.shape[1] == 0:
        raise ValueError(f"`values`: the series {name!r} has no feature. Received: {name}.shape={array.shape}")
    return array


def clean_series(values, nan_policy="raise", name="series"):
    """Checks a series for missing values (NaN, inf) at the boundary and applies ``nan_policy``.

    Non-finite values (NaN, inf, -inf, and numbers beyond float32's range, which float32 holds
    as inf) are all missing values, treated as NaN is.

    Args:
        values: array-like of real numbers of shape ``(time,)`` or ``(time, features)``.
        nan_policy: ``"raise"`` (default) raises on any missing value; ``"drop"`` removes the
            time steps that hold one (warns); ``"interpolate"`` fills them linearly from the
            neighbouring steps, per feature, holding the first/last valid value at the ends
            (warns); ``"keep"`` leaves them (for ``series_windows(nan_policy="drop")`` to skip
            windows).
        name: the series' name for messages.

    Returns:
        A float32 array of shape ``(time, features)``.

    Raises:
        ValueError: a missing value with ``nan_policy="raise"`` (the message gives their count and
            the first index), an empty, featureless or all-missing series, a bad shape or policy.
        TypeError: ``values`` is a string or not real numbers (strings, a ragged list).

    Example:
    >>> import warnings
    >>> from seqrecipes import data
    >>> data.clean_series([1.0, 2.0, 4.0]).tolist()
    [[1.0], [2.0], [4.0]]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # "1 time steps with NaN or inf ... handled by nan_policy='interpolate'"
    ...     data.clean_series([1.0, float("inf"), 3.0], nan_policy="interpolate")[:, 0].tolist()
    [1.0, 2.0, 3.0]
    >>> data.clean_series([1.0, 1e39, 3.0])
    Traceback (most recent call last):
    ...
    ValueError: `values` of the series 'series' holds NaN or inf (or a number beyond float32) at 1 of 3 time
    steps (first at index 1); ... Received: nan_policy='raise'
    """
    check_choice("nan_policy", nan_policy, NAN_POLICIES)
    if not isinstance(name, str):
        raise TypeError(f"`name` must be a string. Received: name={name!r}")
    array = _as_float_array(values, name)
    missing = ~np.isfinite(array).all(axis=1)
    count = int(missing.sum())
    if count == 0 or nan_policy == "keep":
        return array
    first = int(np.argmax(missing))
    if nan_policy == "raise":
        raise ValueError(
            f"`values` of the series {name!r} holds NaN or inf (or a number beyond float32) at {count} of "
            f"{len(array)} time steps (first at index {first}); pass nan_policy='drop', 'interpolate' or 'keep' "
            "to handle them. Received: nan_policy='raise'"
        )
    if count == len(array):
        raise ValueError(f"`values`: the series {name!r} holds only NaN or inf. Received: {name}.shape={array.shape}")
    warnings.warn(
        f"{name}: {count} time steps with NaN or inf (first at index {first}) handled by nan_policy={nan_policy!r}"
    )
    if nan_policy == "drop":
        return array[~missing]
    steps = np.arange(len(array))
    filled = array.copy()
    for column in range(array.shape[1]):
        bad = ~np.isfinite(array[:, column])
        if bad.any():
            filled[bad, column] = np.interp(steps[bad], steps[~bad], array[~bad, column])
    return filled


def from_series(values, nan_policy="raise", name="series"):
    """A dataset of the time steps of a series, checked for missing values (NaN, inf) at the boundary.

    Args:
        values: array-like of real numbers of shape ``(time,)`` or ``(time, features)``.
        nan_policy: see ``clean_series``: ``"raise"`` (default), ``"drop"``, ``"interpolate"``
            or ``"keep"``.
        name: the series' name for messages.

    Returns:
        A ``tf.data.Dataset`` with element spec ``TensorSpec((features,), tf.float32)``, one
        element per time step, in time order.

    Raises:
        ValueError, TypeError: as ``clean_series`` (NaN or inf with ``nan_policy="raise"``, a
            bad shape, values that are not real numbers).

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
    the transform reads the series once, eagerly, to check its length and its missing values
    (NaN, inf, -inf, or numbers beyond float32's range, all treated as NaN).

    Args:
        input_length: L, time steps the model sees.
        horizon: H, time steps it predicts.
        stride: s, steps between window starts.
        nan_policy: ``"raise"`` (default) raises a ValueError on a missing value in the series;
            ``"drop"`` skips the windows that hold one.

    Returns:
        A transform from a dataset of numeric time steps (element shape ``()`` or
        ``(features,)``) to ``(x, y)`` with shapes ``(L, features)`` and ``(H, features)``.

    Raises:
        ValueError: the window (L + H steps) is longer than the series, the series holds a
            missing value with ``nan_policy="raise"``, every window holds one with
            ``nan_policy="drop"`` (no window would be left), the series is infinite, or its
            elements are not one numeric tensor per time step.

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
        spec = dataset.element_spec
        if not isinstance(spec, tf.TensorSpec) or not (spec.dtype.is_floating or spec.dtype.is_integer):
            raise ValueError(
                "series_windows expects a dataset of time steps, one numeric tensor each (data.from_series). "
                f"Received: element_spec={spec}"
            )
        if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise ValueError("series_windows needs a finite series. Received: an infinite dataset")
        blocks = []
        for block in dataset.batch(4096).as_numpy_iterator():
            with np.errstate(over="ignore", invalid="ignore"):  # beyond float32 is inf, a missing value
                block = np.asarray(block).astype(np.float32)
            blocks.append(~np.isfinite(block.reshape(len(block), -1)).all(axis=1))
        bad = np.concatenate(blocks) if blocks else np.zeros([0], bool)
        length, nan_steps = len(bad), int(bad.sum())
        if size > length:
            raise ValueError(
                f"The window (input_length + horizon = {size} steps) is longer than the series ({length} steps). "
                f"Received: input_length={input_length}, horizon={horizon}"
            )
        if nan_steps and nan_policy == "raise":
            raise ValueError(
                f"The series holds NaN or inf at {nan_steps} of {length} time steps (first at index "
                f"{int(np.argmax(bad))}); pass nan_policy='drop' to skip the windows that hold them. "
                "Received: nan_policy='raise'"
            )
        if nan_steps:
            starts = np.arange(0, length - size + 1, stride)
            bad_before = np.concatenate([[0], np.cumsum(bad)])
            clean = int((bad_before[starts + size] == bad_before[starts]).sum())
            if clean == 0:
                raise ValueError(
                    f"Every one of the {len(starts)} windows of {size} steps holds NaN or inf ({nan_steps} of "
                    f"{length} time steps do): nan_policy='drop' would leave no window. Received: "
                    f"input_length={input_length}, horizon={horizon}, nan_policy='drop'"
                )
            logger.info("series_windows: %d of %d windows hold NaN or inf and are skipped", len(starts) - clean, len(starts))
        windows = dataset.window(size, shift=stride, drop_remainder=True).flat_map(lambda w: w.batch(size))
        if nan_steps:
            windows = windows.filter(lambda w: tf.reduce_all(tf.math.is_finite(tf.cast(w, tf.float32))))
        features = spec.shape.as_list()

        def split(window):
            x = tf.ensure_shape(window[:input_length], [input_length] + features)
            y = tf.ensure_shape(window[input_length:], [horizon] + features)
            return x, y

        return windows.map(split, num_parallel_calls=tf.data.AUTOTUNE)

    return transform
