"""Decoding settings: Python numbers are checked, scalar tensors clamped.

A search's settings (beam width, temperature, top-k, ...) may be Python numbers, checked here with a
ValueError that names the setting, or scalar tensors (the export's ``generate`` signature feeds them
per request), clamped into range instead, so that no request fails.
"""

import numpy as np
import tensorflow as tf
from keras import ops

INT64_RANGE = (-(2**63), 2**63 - 1)


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


def scalar_setting(name, value, dtype):
    tensor = ops.convert_to_tensor(value)
    if tensor.shape.rank not in (None, 0):
        raise ValueError(f"`{name}` must be a number or a scalar tensor. Received: {name}.shape={tuple(tensor.shape)}")
    return ops.cast(tensor, dtype)


def _bounds(low, high, low_open=False, high_name=None):
    left = "(" if low_open else "["
    if high is None:
        return f"> {low}" if low_open else f">= {low}"
    right = f"{high_name}={high}" if high_name else high
    return f"in {left}{low}, {right}]"


def int_setting(name, value, low, high=None, high_name=None):
    """A Python integer checked against [low, high], or a scalar tensor clamped into it (int32)."""
    if is_number(value) or isinstance(value, (bool, np.bool_)) or value is None:
        integer = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
        if not integer or value < low or (high is not None and value > high):
            raise ValueError(
                f"`{name}` must be an integer {_bounds(low, high, high_name=high_name)}. Received: {name}={value!r}"
            )
        return int(value)
    tensor = ops.maximum(scalar_setting(name, value, "int32"), low)
    return tensor if high is None else ops.minimum(tensor, high)


def float_setting(name, value, low, high=None, low_open=False):
    """A Python number checked against [low, high] ((low, high] when low_open), or a scalar tensor
    clamped into [low, high] (float32)."""
    if is_number(value) or isinstance(value, (bool, np.bool_)) or value is None:
        ok = is_number(value) and (value > low if low_open else value >= low) and (high is None or value <= high)
        if not ok:
            raise ValueError(f"`{name}` must be a number {_bounds(low, high, low_open)}. Received: {name}={value!r}")
        return float(value)
    tensor = ops.maximum(scalar_setting(name, value, "float32"), low)
    return tensor if high is None else ops.minimum(tensor, high)


def seed_setting(seed):
    if is_number(seed) or isinstance(seed, (bool, np.bool_)) or seed is None:
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
