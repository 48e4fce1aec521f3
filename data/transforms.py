"""tf.data steps around the padding: tokenizing, the teacher-forcing shift, shuffle, cache, prefetch.

Each function returns a transform for ``dataset.apply``; the padding and bucketing steps are in
``seqrecipes.data.padding``, the language-model windows in ``seqrecipes.data.language_model``. A
typical sequence-to-sequence pipeline::

    pairs = data.date_translation(num_examples=10_000, seed=0)      # (human, iso) strings
    train = (
        pairs.apply(data.tokenize((source_tokenizer, target_tokenizer)))
        .apply(data.teacher_forcing_shift())                    # ((source, [START]+target), target+[END])
        .apply(data.cache())
        .apply(data.shuffle(seed=0))
        .apply(data.bucket_by_length(batch_size=64))             # or data.batch_with_padding(64)
        .apply(data.prefetch())
    )

(``data.seq2seq_batches`` does the tokenizing, the shift and the batching in one step.)

Element structures: a step that works on "sequence components" treats every component of rank
one or more as a sequence along its first axis and leaves scalars (labels) alone.
"""

import numbers
import os

import tensorflow as tf

from seqrecipes._checks import check_bool, check_positive_int
from seqrecipes.data.tokenizer import Tokenizer
from seqrecipes.data.vocabulary import END_ID, START_ID


def _unpack(args):
    return args[0] if len(args) == 1 else args


def tokenize(tokenizer, num_parallel_calls=tf.data.AUTOTUNE):
    """Tokenizes the string components of every element.

    Args:
        tokenizer: a ``Tokenizer`` applied to every string component (labels and other numeric
            components pass through), or a structure matching the element, with a tokenizer or
            ``None`` (leave as is) per component, e.g. ``(source_tokenizer, target_tokenizer)``.
        num_parallel_calls: the ``map`` parallelism; ``tf.data.AUTOTUNE`` by default. The
            output order is deterministic.

    Returns:
        A transform: each scalar string becomes a dense 1-D id tensor (or a fixed-length one when
        the tokenizer has ``sequence_length``).

    Raises:
        ValueError: ``tokenizer`` is neither a Tokenizer nor a structure matching the element,
            or the element has no string component to tokenize (when applied).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> ds = tf.data.Dataset.from_tensor_slices((["ab", "cab"], [0, 1]))
    >>> [(x.tolist(), int(y)) for x, y in ds.apply(data.tokenize(tokenizer)).as_numpy_iterator()]
    [([4, 5], 0), ([6, 4, 5], 1)]

    References:
        OpenNMT-tf ``opennmt/data/dataset.py`` (data steps as functions for ``dataset.apply``).
    """

    def transform(dataset):
        spec = dataset.element_spec
        if isinstance(tokenizer, Tokenizer):
            tokenizers = tf.nest.map_structure(lambda s: tokenizer if s.dtype == tf.string else None, spec)
            if all(t is None for t in tf.nest.flatten(tokenizers)):
                raise ValueError(f"tokenize found no string component to tokenize. Received: element_spec={spec}")
        else:
            try:
                tf.nest.assert_same_structure(tokenizer, spec, check_types=False)
            except (ValueError, TypeError) as error:
                raise ValueError(
                    "`tokenizer` must be one Tokenizer or a structure matching the dataset element. "
                    f"Received: tokenizer={tokenizer!r:.120}, element_spec={spec}"
                ) from error
            tokenizers = tokenizer

        def apply(tok, x):
            return x if tok is None else tok.tokenize(x)

        def fn(*args):
            element = _unpack(args)
            return tf.nest.map_structure(apply, tokenizers, element)

        return dataset.map(fn, num_parallel_calls=num_parallel_calls, deterministic=True)

    return transform


def dense_elements(dataset):
    """Makes ragged element components dense (``from_tensor_slices`` of a ragged tensor yields a
    ``RaggedTensorSpec`` even for 1-D rows); other datasets are returned unchanged."""
    specs = tf.nest.flatten(dataset.element_spec)
    if not any(isinstance(s, tf.RaggedTensorSpec) for s in specs):
        return dataset

    def densify(*args):
        return tf.nest.map_structure(
            lambda x: x.to_tensor() if isinstance(x, tf.RaggedTensor) else tf.identity(x), _unpack(args)
        )

    return dataset.map(densify, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def checked_ids(ids, tensor, vocabulary_size=None, size_from="the vocabulary"):
    """``ids`` (dense, any shape) with an in-graph check that each is in ``[0, vocabulary_size)``.

    Without ``vocabulary_size`` only negative ids fail. A failing check raises
    ``tf.errors.InvalidArgumentError`` when the dataset is iterated (at once when eager), with a
    message that names the batch tensor and the first bad id: ``assertion failed: [The batch
    tensor `source` holds an id outside [0, 40) (the vocabulary size of source_tokenizer).
    Received: source id=] [-1]``. The batch builders and the language-model steps use it; ids
    below 0 would read another embedding row and ids past the vocabulary fail deep in the model.
    """
    flat = tf.reshape(ids, [-1])
    bad = flat < 0
    if vocabulary_size is None:
        expected = "a negative id: ids must be >= 0"
    else:
        bad = tf.logical_or(bad, flat >= tf.cast(vocabulary_size, flat.dtype))
        expected = f"an id outside [0, {vocabulary_size}) ({size_from})"
    message = f"The batch tensor `{tensor}` holds {expected}. Received: {tensor} id="
    if tf.executing_eagerly():  # eager: the same error type, without the graph op's wording
        if bool(tf.reduce_any(bad)):
            first = tf.boolean_mask(flat, bad)[:1].numpy().tolist()
            raise tf.errors.InvalidArgumentError(None, None, f"{message}{first}")
        return ids
    check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(bad)), [message, tf.boolean_mask(flat, bad)[:1]])
    with tf.control_dependencies([check]):
        return tf.identity(ids)


def teacher_forcing_shift(start_id=START_ID, end_id=END_ID):
    """Decoder inputs and targets for teacher forcing: ``[START] + target[:-1]`` in, ``target`` out.

    With ``end_id`` set (the default), ``[END]`` is first appended to the target, so for a
    tokenized target ``y``: decoder input ``[START] y_1 ... y_n`` and target ``y_1 ... y_n [END]``.
    Apply before padding and batching (the target must be one unpadded sequence).

    Args:
        start_id: the id fed at the first decoder step (``[START]``, 2).
        end_id: the id appended to the target (``[END]``, 3), or ``None`` if targets already end
            with it.

    Returns:
        A transform mapping an element ``target`` to ``(decoder_input, target)`` and an element
        ``(source, target)`` to ``((source, decoder_input), target)``.

    Raises:
        ValueError: an id is not a non-negative integer; the element is not ``target`` or
            ``(source, target)`` with a 1-D integer target (when applied).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.from_tensors(([7, 8, 9], [5, 6]))
    >>> (source, decoder_in), target = next(iter(ds.apply(data.teacher_forcing_shift())))
    >>> decoder_in.numpy().tolist(), target.numpy().tolist()
    ([2, 5, 6], [5, 6, 3])

    References:
        Williams and Zipser, "A learning algorithm for continually running fully recurrent
        neural networks", 1989; Sutskever et al., "Sequence to sequence learning", 2014.
    """

    for name, value in (("start_id", start_id), ("end_id", end_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0):
            raise ValueError(f"`{name}` must be a non-negative integer id. Received: {name}={value!r}")
    if start_id is None:
        raise ValueError("`start_id` must be a non-negative integer id. Received: start_id=None")

    def shift(target):
        if not target.dtype.is_integer:
            raise ValueError(
                f"teacher_forcing_shift needs integer token ids (tokenize first). Received: target.dtype={target.dtype.name}"
            )
        if target.shape.rank != 1:
            raise ValueError(
                "teacher_forcing_shift needs one unpadded target sequence per element: apply it "
                f"before batching. Received: target.shape={target.shape}"
            )
        if end_id is not None:
            target = tf.concat([target, tf.constant([end_id], target.dtype)], axis=0)
        decoder_input = tf.concat([tf.constant([start_id], target.dtype), target[:-1]], axis=0)
        return decoder_input, target

    def transform(dataset):
        dataset = dense_elements(dataset)
        spec = dataset.element_spec
        if isinstance(spec, tuple) and len(spec) == 2:

            def fn(source, target):
                decoder_input, target = shift(target)
                return (source, decoder_input), target

        elif isinstance(spec, tf.TensorSpec):

            def fn(target):
                return shift(target)

        else:
            raise ValueError(
                "teacher_forcing_shift expects elements `target` or `(source, target)`. "
                f"Received: element_spec={spec}"
            )
        return dataset.map(fn, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)

    return transform


def shuffle(buffer_size=10_000, seed=None, reshuffle_each_iteration=True):
    """Shuffles with a buffer; with ``seed`` the first epoch's order is reproducible.

    Args:
        buffer_size: the shuffle buffer (10,000 by default: whole small data sets, a good mix
            of large ones).
        seed: an int for a reproducible order.
        reshuffle_each_iteration: a new order every epoch.

    Returns:
        A transform.

    Raises:
        ValueError: ``buffer_size`` is not a positive integer, ``seed`` not an integer or None,
            ``reshuffle_each_iteration`` not a bool.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.range(5).apply(data.shuffle(seed=1))
    >>> sorted(int(x) for x in ds)
    [0, 1, 2, 3, 4]
    """
    check_positive_int("buffer_size", buffer_size)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
    check_bool("reshuffle_each_iteration", reshuffle_each_iteration)
    return _calling(tf.data.Dataset.shuffle, buffer_size, seed=seed, reshuffle_each_iteration=reshuffle_each_iteration)


def cache(filename=""):
    """Caches elements after the first epoch, in memory (default) or in ``filename`` on disk.

    Put it after the expensive, deterministic steps (reading, tokenizing) and before shuffling.

    Args:
        filename: ``""`` for memory, or a file path prefix for a disk cache.

    Returns:
        A transform.

    Raises:
        TypeError: ``filename`` is not a string or path.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> ds = tf.data.Dataset.range(3).map(lambda x: tf.random.uniform([])).apply(data.cache())
    >>> [float(x) for x in ds] == [float(x) for x in ds]  # drawn once, then read from the cache
    True
    """
    if not isinstance(filename, (str, os.PathLike)):
        raise TypeError(f"`filename` must be '' (memory) or a file path prefix. Received: filename={filename!r}")
    return _calling(tf.data.Dataset.cache, os.fspath(filename))


def prefetch(buffer_size=tf.data.AUTOTUNE):
    """Prefetches batches so that the pipeline runs ahead of the training step; put it last.

    Args:
        buffer_size: batches to prepare ahead; ``tf.data.AUTOTUNE`` lets tf.data choose.

    Returns:
        A transform.

    Raises:
        ValueError: ``buffer_size`` is neither a positive integer nor ``tf.data.AUTOTUNE``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> batches = tf.data.Dataset.range(6).batch(2).apply(data.prefetch(1))
    >>> [b.tolist() for b in batches.as_numpy_iterator()]
    [[0, 1], [2, 3], [4, 5]]
    """
    if buffer_size != tf.data.AUTOTUNE:
        check_positive_int("buffer_size", buffer_size)
    return _calling(tf.data.Dataset.prefetch, buffer_size)


def _calling(method, *args, **kwargs):
    """A transform that calls the ``tf.data.Dataset`` method ``method`` with these arguments."""

    def transform(dataset):
        return method(dataset, *args, **kwargs)

    return transform
