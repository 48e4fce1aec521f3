"""tf.data steps that turn token sequences into language-model examples (prefixes and windows)."""

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.vocabulary import END_ID, START_ID
from seqrecipes.data.transforms import checked_ids, dense_elements


def _check_id(name, value, vocabulary_size):
    """An id argument (``separator_id``): an integer in [0, vocabulary_size), or None."""
    if value is None:
        return None
    bad = isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0
    if not bad and vocabulary_size is not None and value >= vocabulary_size:
        bad = True
    if bad:
        limit = "" if vocabulary_size is None else f" below vocabulary_size={vocabulary_size}"
        raise ValueError(f"`{name}` must be a non-negative integer id{limit}, or None. Received: {name}={value!r}")
    return int(value)


def _token_sequences(dataset, step, vocabulary_size):
    """``dataset`` with dense elements, checked to be 1-D integer token sequences with valid ids."""
    dataset = dense_elements(dataset)
    spec = dataset.element_spec
    if not isinstance(spec, tf.TensorSpec) or spec.shape.rank != 1 or not spec.dtype.is_integer:
        raise ValueError(f"{step} expects 1-D token sequences of integer ids. Received: element_spec={spec}")
    return dataset.map(lambda ids: checked_ids(ids, "tokens", vocabulary_size, "the vocabulary_size argument"))



def lm_prefixes(min_length=1, vocabulary_size=None):
    """Every prefix of every sequence with the token that follows it (seed 002's table).

    For the words of "경마장에 있는 말이 뛰고 있다" this gives the four samples
    ("경마장에" -> "있는"), ("경마장에 있는" -> "말이"), ("경마장에 있는 말이" -> "뛰고"),
    ("경마장에 있는 말이 뛰고" -> "있다"): a sequence of n tokens gives n - min_length samples.
    Pad the prefixes in front (``truncate_or_pad(length, padding="pre")``) or batch them with
    ``batch_with_padding`` for a many-to-one model.

    When applied, the transform reads the sequences eagerly up to the first one longer than
    ``min_length`` (usually the first), to make sure that there is at least one sample; it skips
    this check on an infinite dataset.

    Args:
        min_length: the shortest prefix (1: start from the first token).
        vocabulary_size: when given, every id must be in ``[0, vocabulary_size)``; without it,
            ids must be >= 0. A bad id raises ``tf.errors.InvalidArgumentError`` when iterated,
            naming the batch tensor ``tokens`` and the id.

    Returns:
        A transform from 1-D integer token sequences to ``(prefix, next_token)`` pairs, in order.

    Raises:
        ValueError: the elements are not 1-D integer sequences, or no sequence is longer than
            ``min_length`` (no sample at all).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.from_tensors([10, 11, 12]).apply(data.lm_prefixes())
    >>> [(x.tolist(), int(y)) for x, y in ds.as_numpy_iterator()]
    [([10], 11), ([10, 11], 12)]

    References:
        Seed 002, "RNN을 이용한 텍스트 생성"; Bengio et al., "A neural probabilistic language
        model", JMLR 2003.
    """
    check_positive_int("min_length", min_length)
    if vocabulary_size is not None:
        check_positive_int("vocabulary_size", vocabulary_size)

    def transform(dataset):
        dataset = _token_sequences(dataset, "lm_prefixes", vocabulary_size)
        if dataset.cardinality() != tf.data.INFINITE_CARDINALITY:
            long_enough = dataset.filter(lambda sequence: tf.shape(sequence)[0] > min_length).take(1)
            if not list(long_enough.as_numpy_iterator()):
                raise ValueError(
                    f"lm_prefixes gives no sample: no sequence is longer than min_length={min_length} tokens "
                    f"(a sequence of n tokens gives n - min_length samples). Received: min_length={min_length}"
                )

        def prefixes(sequence):
            ends = tf.data.Dataset.range(min_length, tf.cast(tf.shape(sequence)[0], tf.int64))
            return ends.map(lambda end: (sequence[:end], sequence[end]))

        return dataset.flat_map(prefixes)

    return transform


def lm_windows(window_length, batch_size=None, stride=None, separator_id=None, vocabulary_size=None):
    """Contiguous next-token windows over the concatenation of all sequences (truncated BPTT).

    The sequences are joined into one stream of tokens (with ``separator_id`` between them when
    given). Without ``batch_size``, window k is ``x = stream[k*s : k*s + T]`` and
    ``y = stream[k*s + 1 : k*s + T + 1]`` with ``T = window_length`` and ``s = stride``
    (``stride=T``, the default, makes the inputs a partition of the stream).

    With ``batch_size`` B the stream is cut into B equal rows and the batches walk along them:
    batch k is ``x = rows[:, k*T : k*T + T]``, ``y = rows[:, k*T + 1 : k*T + T + 1]``, so row b of
    batch k + 1 continues row b of batch k — the layout a ``stateful=True`` RNN needs for
    truncated backpropagation through time (reset its states at each epoch). This mode counts
    the stream once, eagerly, when applied (so it needs a finite dataset); single-window mode
    reads only the first ``window_length + 1`` tokens when applied, to check that there is at
    least one window.

    Args:
        window_length: T, the number of time steps per window.
        batch_size: B for the stateful layout, or ``None`` for single windows.
        stride: the step between window starts (single-window mode only); defaults to T.
        separator_id: an id inserted after each sequence (for example ``END_ID``), or ``None``.
        vocabulary_size: when given, every id must be in ``[0, vocabulary_size)``; without it,
            ids must be >= 0. A bad id raises ``tf.errors.InvalidArgumentError`` when iterated,
            naming the batch tensor ``tokens`` and the id.

    Returns:
        A transform from 1-D integer token sequences to ``(x, y)`` windows of shape ``(T,)`` (or
        batches of shape ``(B, T)``).

    Raises:
        ValueError: the stream is shorter than one window (``window_length + 1`` tokens), or,
            with ``batch_size``, too short for one window per row, or infinite; the elements are
            not 1-D integer sequences; ``separator_id`` is not a valid id.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.from_tensors(tf.range(10)).apply(data.lm_windows(3))
    >>> [(x.tolist(), y.tolist()) for x, y in ds.as_numpy_iterator()]
    [([0, 1, 2], [1, 2, 3]), ([3, 4, 5], [4, 5, 6]), ([6, 7, 8], [7, 8, 9])]

    References:
        Williams and Peng, "An efficient gradient-based algorithm for on-line training of
        recurrent network trajectories", 1990; seed 004 (BPTT).
    """
    check_positive_int("window_length", window_length)
    if batch_size is not None:
        check_positive_int("batch_size", batch_size)
        if stride is not None:
            raise ValueError(f"`stride` applies to single windows only, not with batch_size. Received: stride={stride}")
    step = window_length if stride is None else stride
    check_positive_int("stride", step)
    if vocabulary_size is not None:
        check_positive_int("vocabulary_size", vocabulary_size)
    _check_id("separator_id", separator_id, vocabulary_size)

    def transform(dataset):
        dataset = _token_sequences(dataset, "lm_windows", vocabulary_size)
        if separator_id is not None:
            dataset = dataset.map(lambda s: tf.concat([s, tf.constant([separator_id], s.dtype)], axis=0))
        stream = dataset.unbatch()
        if batch_size is None:
            head = int(stream.take(window_length + 1).reduce(np.int64(0), lambda count, _: count + 1))
            if head < window_length + 1:
                raise ValueError(
                    f"The token stream ({head} tokens) is shorter than one window (window_length + 1 = "
                    f"{window_length + 1} tokens): it would give no window. Received: window_length={window_length}"
                )
            windows = stream.window(window_length + 1, shift=step, drop_remainder=True)
            windows = windows.flat_map(lambda w: w.batch(window_length + 1))
            return windows.map(lambda w: (w[:-1], w[1:]))

        if dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise ValueError(
                "lm_windows with batch_size counts the stream, so it needs a finite dataset (apply .repeat() "
                f"after it). Received: an infinite dataset, batch_size={batch_size}"
            )
        total = int(stream.reduce(np.int64(0), lambda count, _: count + 1))
        row_length = total // batch_size
        num_batches = (row_length - 1) // window_length
        if num_batches < 1:
            raise ValueError(
                f"The token stream ({total} tokens) is too short for {batch_size} rows of at least "
                f"window_length + 1 = {window_length + 1} tokens. Received: window_length={window_length}, "
                f"batch_size={batch_size}"
            )
        rows = stream.batch(row_length, drop_remainder=True).take(batch_size).batch(batch_size)
        rows = tf.data.Dataset.from_tensors(next(iter(rows)))  # (B, row_length), materialized once

        def windows(matrix):
            starts = tf.data.Dataset.range(num_batches).map(lambda k: k * window_length)
            return starts.map(
                lambda k: (
                    tf.ensure_shape(matrix[:, k : k + window_length], [batch_size, window_length]),
                    tf.ensure_shape(matrix[:, k + 1 : k + window_length + 1], [batch_size, window_length]),
                )
            )

        return rows.flat_map(windows)

    return transform


def bidirectional_lm_targets(start_id=START_ID, end_id=END_ID, vocabulary_size=None):
    """Both directions' targets of a bidirectional (ELMo) language model from one token sequence.

    A sequence w_1 .. w_n becomes the inputs ``[START] w_1 .. w_n [END]`` (n + 2 ids) and the
    targets (n + 2, 2): at step t, column 0 is the next id (the forward LM, reading ids 0..t, predicts
    ids[t + 1]) and column 1 the previous id (the backward LM, reading ids t..n+1, predicts ids[t - 1]);
    0 (padding, ignored by the loss) where there is none: the forward target of ``[END]`` and the
    backward target of ``[START]``. Apply before ``batch_with_padding``.

    Args:
        start_id, end_id: the ids put around each sequence (``[START]`` 2, ``[END]`` 3).
        vocabulary_size: when given, every id must be below it (a clear error otherwise).

    Returns:
        A transform from 1-D int token sequences to ``(inputs (n + 2,), targets (n + 2, 2))``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.from_tensors([7, 8]).apply(data.bidirectional_lm_targets())
    >>> inputs, targets = next(iter(ds))
    >>> inputs.numpy().tolist(), targets.numpy().tolist()
    ([2, 7, 8, 3], [[7, 0], [8, 2], [3, 7], [0, 8]])
    """
    start_id = _check_id("start_id", start_id, vocabulary_size)
    end_id = _check_id("end_id", end_id, vocabulary_size)

    def targets(ids):
        ids = tf.concat([tf.constant([start_id], ids.dtype), ids, tf.constant([end_id], ids.dtype)], axis=0)
        none = tf.zeros([1], ids.dtype)
        forward = tf.concat([ids[1:], none], axis=0)  # ids[t + 1]
        backward = tf.concat([none, ids[:-1]], axis=0)  # ids[t - 1]
        return ids, tf.stack([forward, backward], axis=1)

    def transform(dataset):
        return _token_sequences(dataset, "bidirectional_lm_targets", vocabulary_size).map(targets, num_parallel_calls=tf.data.AUTOTUNE)

    return transform
