"""tf.data steps that give every sequence its length: a fixed one, or the longest in its batch or bucket.

``truncate_or_pad`` cuts or pads each element to a fixed length; ``batch_with_padding`` pads each
batch to its longest sequence; ``bucket_by_length`` batches sequences of similar length together
(with ``choose_bucket_boundaries`` finding the cut with the least padding), so each batch pads less.
Each step is a function returning a transform for ``dataset.apply``; a step that works on
"sequence components" treats every component of rank one or more as a sequence along its first
axis and leaves scalars (labels) alone.
"""

import logging

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_bool, check_choice, check_positive_int
from seqrecipes.data.transforms import _unpack, dense_elements
from seqrecipes.data.vocabulary import PAD_ID

logger = logging.getLogger(__name__)


def _padding_values(spec, pad_value):
    def value(s):
        if s.dtype == tf.string:
            return tf.constant("", tf.string)
        if s.dtype == tf.bool:
            return tf.constant(False)
        return tf.constant(pad_value, s.dtype)

    return tf.nest.map_structure(value, spec)


def truncate_or_pad(length, pad_value=PAD_ID, padding="post", truncating="post"):
    """Makes every sequence component exactly ``length`` long.

    Args:
        length: the length, or a structure matching the element with an int or ``None``
            (leave as is) per component.
        pad_value: the value padding adds (0, the padding id, by default; ``""`` for strings).
        padding: ``"post"`` pads at the end, ``"pre"`` at the front (as Keras' ``pad_sequences``;
            seed 002's text-generation table pads its prefixes in front).
        truncating: ``"post"`` keeps the first ``length`` items, ``"pre"`` the last.

    Returns:
        A transform whose sequence components have static first dimension ``length``.

    Raises:
        ValueError: ``length`` is not a positive integer (or a structure of them and None), or a
            bad ``padding`` or ``truncating``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[5, 6, 7], [8]]))
    >>> [x.tolist() for x in ds.apply(data.truncate_or_pad(2, padding="pre")).as_numpy_iterator()]
    [[5, 6], [0, 8]]
    """
    check_choice("padding", padding, ("pre", "post"))
    check_choice("truncating", truncating, ("pre", "post"))

    def fit(x, n):
        if n is None or x.shape.rank == 0:
            return x
        if isinstance(x, tf.RaggedTensor):
            x = x.to_tensor()
        x = x[:n] if truncating == "post" else x[tf.maximum(tf.shape(x)[0] - n, 0) :]
        missing = n - tf.shape(x)[0]
        first = [0, missing] if padding == "post" else [missing, 0]
        paddings = tf.stack([first] + [[0, 0]] * (x.shape.rank - 1))
        value = "" if x.dtype == tf.string else tf.cast(pad_value, x.dtype)
        x = tf.pad(x, paddings, constant_values=value)
        return tf.ensure_shape(x, [n] + x.shape.as_list()[1:])

    def transform(dataset):
        spec = dataset.element_spec
        if isinstance(length, (int, np.integer)) and not isinstance(length, bool):
            check_positive_int("length", length)
            lengths = tf.nest.map_structure(lambda s: length, spec)
        else:
            tf.nest.map_structure(lambda n: n is None or check_positive_int("length", n), length)
            lengths = length

        def fn(*args):
            return tf.nest.map_structure(fit, _unpack(args), lengths)

        return dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return transform


def batch_with_padding(batch_size, pad_value=PAD_ID, drop_remainder=False, pad_to_multiple_of=None):
    """Batches, padding every sequence component to the longest in its batch ("pad to longest").

    Args:
        batch_size: examples per batch.
        pad_value: the padding value for numeric components (``""`` for strings).
        drop_remainder: drop a last, smaller batch.
        pad_to_multiple_of: None, or k: pad each batch further, to the next multiple of k, so batches
            come in few shapes (an XLA-compiled model, ``jit_compile=True``, compiles once per shape).

    Returns:
        A transform over ``dataset.padded_batch``.

    Raises:
        ValueError: ``batch_size`` or ``pad_to_multiple_of`` is not a positive integer,
            ``drop_remainder`` not a bool.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[5, 6, 7], [8]]))
    >>> next(iter(ds.apply(data.batch_with_padding(2)))).numpy().tolist()
    [[5, 6, 7], [8, 0, 0]]
    >>> next(iter(ds.apply(data.batch_with_padding(2, pad_to_multiple_of=4)))).numpy().tolist()
    [[5, 6, 7, 0], [8, 0, 0, 0]]
    """
    check_positive_int("batch_size", batch_size)
    check_bool("drop_remainder", drop_remainder)
    if pad_to_multiple_of is not None:
        check_positive_int("pad_to_multiple_of", pad_to_multiple_of)

    def to_multiple(x, value):
        if x.shape.rank < 2:
            return x
        k = pad_to_multiple_of
        missing = (k - tf.shape(x)[1] % k) % k
        return tf.pad(x, tf.stack([[0, 0], [0, missing]] + [[0, 0]] * (x.shape.rank - 2)), constant_values=value)

    def transform(dataset):
        dataset = dense_elements(dataset)
        values = _padding_values(dataset.element_spec, pad_value)
        dataset = dataset.padded_batch(batch_size, padding_values=values, drop_remainder=drop_remainder)
        if pad_to_multiple_of is None:
            return dataset
        return dataset.map(lambda *args: tf.nest.map_structure(to_multiple, _unpack(args), values))

    return transform


def sequence_length(*args):
    """The default length of an element (int32): the longest first axis of its sequence components.

    ``bucket_by_length`` measures elements with it unless given a ``length_fn``; scalars (labels)
    do not count.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> int(data.sequence_length(tf.constant([5, 6, 7]), tf.constant([8, 9]), tf.constant(1)))
    3
    """
    lengths = [tf.shape(x, out_type=tf.int32)[0] for x in tf.nest.flatten(_unpack(args)) if x.shape.rank != 0]
    if not lengths:
        raise ValueError(
            "The element has no sequence component (rank one or more) to measure. "
            f"Received: element ranks={[x.shape.rank for x in tf.nest.flatten(_unpack(args))]}"
        )
    return tf.reduce_max(tf.stack(lengths))


def choose_bucket_boundaries(lengths, num_buckets=8):
    """Bucket boundaries that minimize padding for the observed lengths.

    Boundary ``b`` separates lengths ``< b`` from lengths ``>= b`` (as in
    ``tf.data.Dataset.bucket_by_sequence_length``). Among all ways to cut the sorted distinct
    lengths into at most ``num_buckets`` contiguous buckets, this picks the one with the fewest
    padded positions when every sequence is padded to the longest length of its bucket (an upper
    bound of the padding a batch sees), by dynamic programming over the length histogram:
    ``O(num_buckets * distinct_lengths**2)`` arithmetic, vectorized. Dense regions of the
    distribution get narrow buckets and the long tail gets wide ones only where few sequences
    live, so skewed (real) text is served far better than by equal-count quantiles.

    Args:
        lengths: observed sequence lengths (a list or 1-D array of non-negative integers).
        num_buckets: the most buckets wanted (at least 2).

    Returns:
        A sorted list of int boundaries (at most ``num_buckets - 1``; empty when every length is
        the same).

    Raises:
        ValueError: ``num_buckets`` is not an integer of at least 2, or ``lengths`` is empty.

    Example:
    >>> from seqrecipes import data
    >>> data.choose_bucket_boundaries(range(1, 101), num_buckets=4)
    [26, 51, 76]
    >>> data.choose_bucket_boundaries([1] * 90 + [50] * 10, num_buckets=4)
    [50]

    References:
        Khomenko et al., "Accelerating recurrent neural network training using sequence
        bucketing and multi-GPU data parallelization", 2016; Bellman, "Dynamic programming", 1957.
    """
    if isinstance(num_buckets, bool) or not isinstance(num_buckets, (int, np.integer)) or num_buckets < 2:
        raise ValueError(f"`num_buckets` must be an integer of at least 2. Received: num_buckets={num_buckets!r}")
    lengths = np.asarray(list(lengths), dtype=np.int64)
    if lengths.size == 0:
        raise ValueError("Cannot choose bucket boundaries from no lengths. Received: lengths=[]")
    values, counts = np.unique(lengths, return_counts=True)
    size = len(values)
    count_sum = np.concatenate([[0], np.cumsum(counts)])
    length_sum = np.concatenate([[0], np.cumsum(counts * values)])
    buckets = min(int(num_buckets), size)
    # best[k, j]: least padding for values[:j] in k buckets; first[k, j]: where the last one starts.
    best = np.full((buckets + 1, size + 1), np.inf)
    best[0, 0] = 0.0
    first = np.zeros((buckets + 1, size + 1), dtype=np.int64)
    for k in range(1, buckets + 1):
        for j in range(k, size + 1):
            starts = np.arange(k - 1, j)  # the last bucket holds values[starts:j], padded to values[j - 1]
            padding = values[j - 1] * (count_sum[j] - count_sum[starts]) - (length_sum[j] - length_sum[starts])
            total = best[k - 1, starts] + padding
            pick = int(np.argmin(total))
            best[k, j], first[k, j] = total[pick], starts[pick]
    boundaries, j = [], size
    for k in range(buckets, 0, -1):
        start = int(first[k, j])
        if start > 0:
            boundaries.append(int(values[start]))
        j = start
    return sorted(set(boundaries))


def bucket_by_length(
    batch_size,
    boundaries=None,
    num_buckets=8,
    sample_size=10_000,
    pad_value=PAD_ID,
    drop_remainder=False,
    length_fn=None,
):
    """Batches examples of similar length together, padding each batch to its own longest.

    With ``boundaries=None`` the boundaries are chosen from the data: the transform reads the
    lengths of the first ``sample_size`` elements once, eagerly, when it is applied, and passes
    them to ``choose_bucket_boundaries`` (the cut with the least padding). Shuffle before bucketing (batches then mix examples
    from across the data) and after if you need batch order shuffled too.

    Args:
        batch_size: examples per batch (the same in every bucket).
        boundaries: explicit bucket boundaries, or ``None`` to choose them from the data.
        num_buckets: the most buckets when choosing boundaries.
        sample_size: how many elements to measure when choosing boundaries.
        pad_value: the padding value for numeric components.
        drop_remainder: drop each bucket's last, smaller batch.
        length_fn: ``fn(*element) -> int scalar``; defaults to ``sequence_length`` (the longest
            first axis among the sequence components).

    Returns:
        A transform over ``tf.data.Dataset.bucket_by_sequence_length``. The boundaries used are
        logged at INFO level.

    Raises:
        ValueError: a size is not a positive integer; ``boundaries`` is not a strictly increasing
            list of positive integers; ``drop_remainder`` not a bool; with ``boundaries=None``, an
            empty dataset (when applied).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> seqs = tf.ragged.constant([[1], [1, 2, 3, 4], [1, 2], [1, 2, 3, 4, 5]])
    >>> ds = tf.data.Dataset.from_tensor_slices(seqs).apply(data.bucket_by_length(2, boundaries=[3]))
    >>> [b.shape[1] for b in ds]
    [2, 5]

    References:
        Khomenko et al., "Accelerating recurrent neural network training using sequence
        bucketing and multi-GPU data parallelization", 2016.
    """
    check_positive_int("batch_size", batch_size)
    check_positive_int("sample_size", sample_size)
    check_bool("drop_remainder", drop_remainder)
    if boundaries is not None:
        if isinstance(boundaries, (str, bytes)) or not all(
            isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in boundaries
        ):
            raise ValueError(f"`boundaries` must be a list of positive integers. Received: boundaries={boundaries!r:.200}")
        boundaries = [int(b) for b in boundaries]
        if any(b < 1 for b in boundaries) or boundaries != sorted(set(boundaries)):
            raise ValueError(
                f"`boundaries` must be strictly increasing positive integers. Received: boundaries={boundaries}"
            )
    measure = length_fn or sequence_length

    def transform(dataset):
        dataset = dense_elements(dataset)
        chosen = boundaries
        if chosen is None:
            lengths = list(dataset.take(sample_size).map(measure).as_numpy_iterator())
            if not lengths:
                raise ValueError("Cannot choose bucket boundaries: the dataset is empty. Received: dataset=<empty>")
            chosen = choose_bucket_boundaries(lengths, num_buckets)
            logger.info("bucket_by_length: boundaries %s from %d lengths", chosen, len(lengths))
        return dataset.bucket_by_sequence_length(
            measure,
            bucket_boundaries=chosen,
            bucket_batch_sizes=[batch_size] * (len(chosen) + 1),
            padding_values=_padding_values(dataset.element_spec, pad_value),
            drop_remainder=drop_remainder,
        )

    return transform
