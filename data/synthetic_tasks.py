"""Small synthetic sequence tasks made in code: seeded, reproducible, no downloads.

Each function draws its examples with ``numpy.random.default_rng(seed)`` (the same seed gives the
same examples on every machine) and returns a ``tf.data.Dataset`` whose element spec its
docstring states. The examples are made in memory: a request for more than ``MAX_VALUES``
numbers (2**28, 1 GiB of float32) in all raises a ValueError naming the sizes, as does a seed
that is not a non-negative integer or None.
"""

import math

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.series import from_series

MAX_VALUES = 2**28


def seeded_rng(seed):
    """``numpy.random.default_rng(seed)`` for a seed that is a non-negative integer or None."""
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0):
        raise ValueError(f"`seed` must be a non-negative integer or None. Received: seed={seed!r}")
    return np.random.default_rng(seed)


def check_total_size(**sizes):
    """Raises a ValueError naming ``sizes`` when their product is over ``MAX_VALUES`` numbers."""
    total = math.prod(int(value) for value in sizes.values())
    if total > MAX_VALUES:
        named = ", ".join(f"{name}={value}" for name, value in sizes.items())
        raise ValueError(
            f"The request makes {total} numbers in memory, more than MAX_VALUES={MAX_VALUES}; ask for fewer or "
            f"smaller examples. Received: {named}"
        )



def adding_problem(num_examples=10_000, length=50, seed=0):
    """The adding problem: add the two numbers marked in a long sequence.

    Each time step holds a value drawn from U(0, 1) and a marker; exactly two markers are 1, one in
    the first half and one in the second half. The target is the sum of the two marked values, so
    the model must carry information across up to ``length`` steps. Predicting 1.0 always gives a
    mean squared error of about 0.167, the baseline to beat.

    Args:
        num_examples: how many sequences.
        length: T, the sequence length (at least 2).
        seed: the random seed.

    Returns:
        A dataset with element spec ``(TensorSpec((T, 2), float32), TensorSpec((), float32))``:
        ``x[:, 0]`` the values, ``x[:, 1]`` the markers, and the target sum.

    Raises:
        ValueError: a size is not a positive integer (``length`` below 2), the examples would
            hold more than ``MAX_VALUES`` numbers, or ``seed`` is not a non-negative integer or None.

    Example:
    >>> from seqrecipes import data
    >>> x, y = next(iter(data.adding_problem(num_examples=1, length=10, seed=0)))
    >>> float(abs(y - (x[:, 0] * x[:, 1]).numpy().sum())) < 1e-6
    True

    References:
        Hochreiter and Schmidhuber, "Long short-term memory", Neural Computation 1997
        (experiment 4); Le et al., "A simple way to initialize recurrent networks of rectified
        linear units", 2015.
    """
    check_positive_int("num_examples", num_examples)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 2:
        raise ValueError(f"`length` must be an integer of at least 2. Received: length={length!r}")
    check_total_size(num_examples=num_examples, length=length, features=2)
    rng = seeded_rng(seed)
    values = rng.uniform(0.0, 1.0, size=(num_examples, length)).astype(np.float32)
    half = length // 2
    first = rng.integers(0, half, size=num_examples)
    second = rng.integers(half, length, size=num_examples)
    markers = np.zeros((num_examples, length), np.float32)
    rows = np.arange(num_examples)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    targets = (values[rows, first] + values[rows, second]).astype(np.float32)
    return tf.data.Dataset.from_tensor_slices((np.stack([values, markers], axis=-1), targets))


def copy_memory(num_examples=10_000, delay=100, copy_length=10, num_symbols=8, seed=0):
    """The copy-memory task: read symbols, wait ``delay`` steps, then write them back.

    Ids: 0 is the blank, 1..``num_symbols`` the symbols, ``num_symbols + 1`` the delimiter that asks
    for the copy. The input is the ``copy_length`` symbols, ``delay - 1`` blanks, the delimiter and
    ``copy_length`` blanks; the target is ``delay + copy_length`` blanks followed by the symbols.
    A model that outputs blanks and then random symbols scores a cross-entropy of
    ``copy_length * log(num_symbols) / (delay + 2 * copy_length)``, the baseline to beat. (Here 0
    is a class, not padding: do not mask it.)

    Args:
        num_examples: how many sequences.
        delay: steps between the last symbol read and the delimiter, plus one.
        copy_length: how many symbols to remember.
        num_symbols: the alphabet size.
        seed: the random seed.

    Returns:
        A dataset with element spec ``(TensorSpec((T,), int32), TensorSpec((T,), int32))`` where
        ``T = delay + 2 * copy_length``.

    Raises:
        ValueError: a size is not a positive integer, the examples would hold more than
            ``MAX_VALUES`` numbers, or ``seed`` is not a non-negative integer or None.

    Example:
    >>> from seqrecipes import data
    >>> x, y = next(iter(data.copy_memory(num_examples=1, delay=3, copy_length=2, seed=0)))
    >>> x.numpy().tolist(), y.numpy().tolist()
    ([7, 6, 0, 0, 9, 0, 0], [0, 0, 0, 0, 0, 7, 6])

    References:
        Hochreiter and Schmidhuber 1997 (experiment 2); Arjovsky et al., "Unitary evolution
        recurrent neural networks", ICML 2016.
    """
    for name, value in (("num_examples", num_examples), ("delay", delay), ("copy_length", copy_length), ("num_symbols", num_symbols)):
        check_positive_int(name, value)
    check_total_size(num_examples=num_examples, steps=delay + 2 * copy_length, arrays=2)
    rng = seeded_rng(seed)
    symbols = rng.integers(1, num_symbols + 1, size=(num_examples, copy_length)).astype(np.int32)
    total = delay + 2 * copy_length
    inputs = np.zeros((num_examples, total), np.int32)
    inputs[:, :copy_length] = symbols
    inputs[:, copy_length + delay - 1] = num_symbols + 1
    targets = np.zeros((num_examples, total), np.int32)
    targets[:, -copy_length:] = symbols
    return tf.data.Dataset.from_tensor_slices((inputs, targets))


def sequence_reversal(num_examples=10_000, min_length=3, max_length=12, alphabet="abcdefghij", seed=0):
    """Strings and their reversals (``"abcde"`` -> ``"edcba"``), a sequence-to-sequence task.

    Args:
        num_examples: how many pairs.
        min_length: the shortest string.
        max_length: the longest string.
        alphabet: the characters to draw from (any Unicode, e.g. ``"가나다라마"``).
        seed: the random seed.

    Returns:
        A dataset with element spec ``(TensorSpec((), string), TensorSpec((), string))``.

    Raises:
        ValueError: a size is not a positive integer or ``max_length < min_length``; ``alphabet``
            is not a non-empty string (or list of characters); more than ``MAX_VALUES`` characters; a
            bad ``seed``.

    Example:
    >>> from seqrecipes import data
    >>> [(a.decode(), b.decode()) for a, b in data.sequence_reversal(2, seed=0).as_numpy_iterator()]
    [('fcdaaabigjf', 'fjgibaaadcf'), ('gjhgffjci', 'icjffghjg')]

    References:
        Sutskever et al., "Sequence to sequence learning with neural networks", 2014 (reversed
        source order).
    """
    check_positive_int("num_examples", num_examples)
    check_positive_int("min_length", min_length)
    check_positive_int("max_length", max_length)
    if max_length < min_length:
        raise ValueError(f"`max_length` must be at least min_length={min_length}. Received: max_length={max_length}")
    if isinstance(alphabet, (list, tuple)) and all(isinstance(a, str) and len(a) == 1 for a in alphabet):
        alphabet = "".join(alphabet)
    if not isinstance(alphabet, str) or not alphabet:
        raise ValueError(f"`alphabet` must be a non-empty string of characters. Received: alphabet={alphabet!r:.100}")
    check_total_size(num_examples=num_examples, max_length=max_length, strings=2)
    rng = seeded_rng(seed)
    letters = list(alphabet)
    lengths = rng.integers(min_length, max_length + 1, size=num_examples)
    sources = ["".join(rng.choice(letters, size=n)) for n in lengths]
    return tf.data.Dataset.from_tensor_slices((sources, [s[::-1] for s in sources]))


def digit_addition(num_examples=10_000, max_digits=3, seed=0):
    """Addition as text: ``"123+45"`` -> ``"168"``.

    Each operand first draws its number of digits uniformly from 1..``max_digits``, then a value
    with that many digits, so short and long operands are equally common.

    Args:
        num_examples: how many pairs.
        max_digits: the most digits an operand has.
        seed: the random seed.

    Returns:
        A dataset with element spec ``(TensorSpec((), string), TensorSpec((), string))``.

    Raises:
        ValueError: a size is not a positive integer, ``max_digits`` is over 18 (int64), more than
            ``MAX_VALUES`` characters, or a bad ``seed``.

    Example:
    >>> from seqrecipes import data
    >>> [(a.decode(), b.decode()) for a, b in data.digit_addition(3, seed=0).as_numpy_iterator()]
    [('342+8', '350'), ('37+6', '43'), ('13+9', '22')]

    References:
        Zaremba and Sutskever, "Learning to execute", 2014; the Keras example "Sequence to
        sequence learning for performing number addition".
    """
    check_positive_int("num_examples", num_examples)
    check_positive_int("max_digits", max_digits)
    if max_digits > 18:  # 10**max_digits must fit in int64
        raise ValueError(f"`max_digits` must be at most 18 (operands fit in int64). Received: max_digits={max_digits}")
    check_total_size(num_examples=num_examples, characters=4 * max_digits + 3)
    rng = seeded_rng(seed)

    def operands():
        digits = rng.integers(1, max_digits + 1, size=num_examples)
        low = np.where(digits == 1, 0, 10 ** (digits - 1))
        return rng.integers(low, 10**digits)

    a, b = operands(), operands()
    sources = [f"{x}+{y}" for x, y in zip(a.tolist(), b.tolist())]
    targets = [str(x + y) for x, y in zip(a.tolist(), b.tolist())]
    return tf.data.Dataset.from_tensor_slices((sources, targets))


def noisy_periodic_series(length=1000, periods=(12,), amplitudes=None, noise=0.1, trend=0.0, seed=0):
    """A univariate series: sines of the given periods plus a linear trend plus Gaussian noise.

    ``x_t = trend * t + sum_k a_k sin(2 pi t / p_k + phi_k) + noise * e_t``, with phases
    ``phi_k`` and noise ``e_t ~ N(0, 1)`` drawn from the seed.

    Args:
        length: time steps.
        periods: the periods p_k, in steps (12: a yearly cycle of monthly data).
        amplitudes: a_k, one per period; 1.0 each by default.
        noise: the noise standard deviation.
        trend: the slope per step.
        seed: the random seed.

    Returns:
        A dataset of time steps with element spec ``TensorSpec((1,), float32)``; window it with
        ``series_windows``.

    Raises:
        ValueError: ``length`` is not a positive integer; ``periods`` or ``amplitudes`` is not a
            list of finite numbers (a bare string or number is refused), or their lengths differ;
            ``noise`` or ``trend`` is not finite, ``noise`` negative; a bad ``seed``.

    Example:
    >>> from seqrecipes import data
    >>> ds = data.noisy_periodic_series(length=24, noise=0.0, seed=0)
    >>> values = [float(v[0]) for v in ds.as_numpy_iterator()]
    >>> abs(values[0] - values[12]) < 1e-5
    True
    """
    check_positive_int("length", length)
    periods = _finite_numbers("periods", periods)
    if not periods or any(p <= 0 for p in periods):
        raise ValueError(f"`periods` must be positive numbers. Received: periods={periods}")
    amplitudes = [1.0] * len(periods) if amplitudes is None else _finite_numbers("amplitudes", amplitudes)
    if len(amplitudes) != len(periods):
        raise ValueError(f"Give one amplitude per period ({len(periods)}). Received: amplitudes={amplitudes}")
    for name, value in (("noise", noise), ("trend", trend)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)) or not np.isfinite(value):
            raise ValueError(f"`{name}` must be a finite number. Received: {name}={value!r}")
    if noise < 0:
        raise ValueError(f"`noise` must be non-negative. Received: noise={noise}")
    check_total_size(length=length, periods=len(periods))
    rng = seeded_rng(seed)
    phases = rng.uniform(0.0, 2.0 * np.pi, size=len(periods))
    t = np.arange(length, dtype=np.float64)
    values = trend * t
    for amplitude, period, phase in zip(amplitudes, periods, phases):
        values = values + amplitude * np.sin(2.0 * np.pi * t / period + phase)
    values = values + noise * rng.standard_normal(length)
    return from_series(values.astype(np.float32), name="noisy_periodic_series")


def _finite_numbers(name, values):
    """A list of finite floats from a list of numbers (a bare string or number is refused)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise ValueError(f"`{name}` must be a list of numbers. Received: {name}={values!r:.100}")
    if not all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) and np.isfinite(v) for v in values):
        raise ValueError(f"`{name}` must hold finite numbers only. Received: {name}={list(values)!r:.100}")
    return [float(v) for v in values]
