"""Decoding settings: Python numbers are checked, scalar tensors clamped.

A search's settings (beam width, temperature, top-k, ...) may be Python numbers, checked here with a
ValueError that names the setting (a TypeError for a value that is not a number at all), or scalar
tensors (the export's ``generate`` signature feeds them per request), clamped into range instead, so
that no request fails: a non-finite float tensor (NaN, inf) becomes the setting's default in
``generate`` (``TENSOR_DEFAULTS``), and ``beam_width`` and ``num_results`` are at most ``MAX_BEAM_WIDTH`` and
``MAX_NUM_RESULTS`` (a ValueError for a Python number over it, a clamp for a tensor).
"""

import math

import numpy as np
import tensorflow as tf
from keras import ops

INT64_RANGE = (-(2**63), 2**63 - 1)

# The most beams and samples per input a search runs (B inputs carry B * K decoder states); an export
# clamps its requests to its own, lower limits (``recipes.export(max_beam_width=..., max_num_results=...)``).
MAX_BEAM_WIDTH = 1024
MAX_NUM_RESULTS = 10_000

# What a non-finite float tensor setting becomes: the defaults of ``decoding.generate`` (a test
# holds them equal).
TENSOR_DEFAULTS = {
    "temperature": 0.0,
    "top_p": 1.0,
    "length_penalty": 0.6,
    "coverage_penalty": 0.0,
    "repetition_penalty": 1.0,
}


def check_max_length(max_length, limit):
    """``max_length`` if it is a positive integer not over ``limit``; a ValueError otherwise."""
    if max_length is None:
        return limit
    if isinstance(max_length, bool) or not isinstance(max_length, int) or not 1 <= max_length <= limit:
        raise ValueError(
            f"`max_length` must be an integer in [1, {limit}] (the model's limit). Received: max_length={max_length!r}"
        )
    return max_length


def is_number(value):
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _is_python(value):
    """A Python (or NumPy) scalar or None, checked as a number; anything else is read as a tensor."""
    return is_number(value) or isinstance(value, (bool, np.bool_)) or value is None


def scalar_setting(name, value, dtype):
    """A scalar tensor setting cast to ``dtype``; a TypeError for a non-number, a ValueError for a
    tensor of another rank or (for an integer setting) of a float dtype."""
    expected = "an integer" if dtype == "int32" else "a number"
    if isinstance(value, (str, bytes)) or not (tf.is_tensor(value) or isinstance(value, (np.ndarray, np.generic))):
        raise TypeError(f"`{name}` must be {expected} or a scalar tensor. Received: {name}={value!r:.100}")
    tensor = ops.convert_to_tensor(value)
    if tensor.shape.rank not in (None, 0):
        raise ValueError(f"`{name}` must be a number or a scalar tensor. Received: {name}.shape={tuple(tensor.shape)}")
    numeric = tensor.dtype.is_integer if dtype == "int32" else (tensor.dtype.is_integer or tensor.dtype.is_floating)
    if not numeric or tensor.dtype == tf.bool:
        raise TypeError(f"`{name}` must be {expected} or a scalar tensor of one. Received: {name}.dtype={tensor.dtype.name}")
    return ops.cast(tensor, dtype)


def _bounds(low, high, low_open=False, high_name=None):
    left = "(" if low_open else "["
    if high is None:
        return f"> {low}" if low_open else f">= {low}"
    right = f"{high_name}={high}" if high_name else high
    return f"in {left}{low}, {right}]"


def int_setting(name, value, low, high=None, high_name=None):
    """A Python integer checked against [low, high], or a scalar integer tensor clamped into it (int32)."""
    if _is_python(value):
        integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not integer or value < low or (high is not None and value > high):
            raise ValueError(
                f"`{name}` must be an integer {_bounds(low, high, high_name=high_name)}. Received: {name}={value!r}"
            )
        return int(value)
    tensor = scalar_setting(name, value, "int32")
    # A constant (tf.constant(3) inside a tf.function) is read as the Python number it clamps to, so that
    # the shapes it sets stay static (a while loop's carry would otherwise change shape).
    static = tf.get_static_value(tensor)
    if static is not None:
        return max(int(static), low) if high is None else min(max(int(static), low), high)
    tensor = ops.maximum(tensor, low)
    return tensor if high is None else ops.minimum(tensor, high)


def float_setting(name, value, low, high=None, low_open=False):
    """A finite Python number checked against [low, high] ((low, high] when low_open), or a scalar
    tensor clamped into [low, high] (float32), NaN and inf replaced by ``TENSOR_DEFAULTS[name]``."""
    if _is_python(value):
        ok = (
            is_number(value)
            and math.isfinite(value)
            and (value > low if low_open else value >= low)
            and (high is None or value <= high)
        )
        if not ok:
            expected = f"a finite number {_bounds(low, high, low_open)}"
            raise ValueError(f"`{name}` must be {expected}. Received: {name}={value!r}")
        return float(value)
    tensor = scalar_setting(name, value, "float32")
    tensor = ops.where(ops.isfinite(tensor), tensor, TENSOR_DEFAULTS[name])
    tensor = ops.maximum(tensor, low)
    return tensor if high is None else ops.minimum(tensor, high)


def seed_setting(seed):
    if _is_python(seed):
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, (bool, np.bool_)):
            raise ValueError(f"`seed` must be an integer. Received: seed={seed!r}")
        if not INT64_RANGE[0] <= seed <= INT64_RANGE[1]:
            raise ValueError(f"`seed` must fit in 64 bits. Received: seed={seed!r}")
    else:
        scalar_setting("seed", seed, "int32")
    return tf.cast(seed, tf.int64)


def max_length_setting(decoder, max_length):
    """(max_length, buffer_length): a checked Python integer twice, or a clamped tensor and the
    decoder's limit (buffers are allocated at the limit and the results cut to max_length)."""
    limit = decoder.max_length
    if max_length is None:
        return limit, limit
    if isinstance(max_length, np.integer):
        max_length = int(max_length)
    if is_number(max_length) or isinstance(max_length, (bool, np.bool_)):
        max_length = check_max_length(max_length, limit)
        return max_length, max_length
    return ops.clip(scalar_setting("max_length", max_length, "int32"), 1, limit), limit
