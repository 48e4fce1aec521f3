"""Batch builders: one ``dataset.apply`` step per task type, from raw examples to a recipe's batches.

Each ``*_batches`` function takes the recipe's tokenizers and a batch size and returns a transform
from the examples a source gives (strings, (string, string) pairs, (image, caption) pairs,
(tokens, tags) sentences) to the padded ``(inputs, targets)`` batches the recipe's model trains on:

    seq2seq_batches      (source, target) strings   -> ({"source", "target_in"}, target)
    tagging_batches      (tokens, tags) sentences   -> (token ids, tag ids)
    caption_batches      (image, caption string)    -> ({"image", "target_in"}, target)
    window_batches       text strings               -> (contexts (n-1 ids), next ids)

Ids are int32, padded with 0 (``PAD_ID``) to the longest in the batch; decoder inputs start with
``[START]`` and targets end with ``[END]`` (teacher forcing). Tokenizers with a
``sequence_length`` work too: their padding is removed first (``Tokenizer.tokenize_ragged``).

Every step checks the element structure when applied (a ValueError naming ``element_spec``) and,
in the graph, that every id of every batch tensor is in ``[0, vocabulary size)`` of the tokenizer
that made it: a bad id (integer tags past the tag names, for instance) raises
``tf.errors.InvalidArgumentError`` when the batches are iterated, naming the batch tensor and the id.

References:
    OpenNMT-tf ``opennmt/data/dataset.py``: batch builders are ``dataset.apply`` transforms that
    live with the data code, not in the model files.
"""

import tensorflow as tf

from seqrecipes._checks import check_bool, check_positive_int
from seqrecipes.data.padding import batch_with_padding, bucket_by_length
from seqrecipes.data.tokenizer import Tokenizer
from seqrecipes.data.transforms import checked_ids, dense_elements
from seqrecipes.data.vocabulary import END_ID, PAD_ID, RESERVED_TOKENS, START_ID, UNKNOWN_ID

NUM_RESERVED = len(RESERVED_TOKENS)


def _check_limits(batch_size, **max_lengths):
    check_positive_int("batch_size", batch_size)
    for name, value in max_lengths.items():
        if value is not None:
            check_positive_int(name, value)


def _check_tokenizers(**tokenizers):
    for name, tokenizer in tokenizers.items():
        if not isinstance(tokenizer, Tokenizer):
            raise TypeError(f"`{name}` must be a seqrecipes.data Tokenizer. Received: {name}={tokenizer!r:.100}")


def _check_spec(step, spec, expected, *components):
    """Raises unless ``spec`` holds one TensorSpec per component, each of the given ``(rank, dtype test)``."""
    specs = spec if isinstance(spec, tuple) and len(components) > 1 else (spec,)
    ok = len(specs) == len(components) and all(
        isinstance(s, tf.TensorSpec) and s.shape.rank == rank and dtype_ok(s.dtype)
        for s, (rank, dtype_ok) in zip(specs, components)
    )
    if not ok:
        raise ValueError(f"{step} expects {expected}. Received: element_spec={spec}")


def _is_string(dtype):
    return dtype == tf.string


def _size(tokenizer):
    return tokenizer.vocabulary_size()


def _ids(tokenizer, string):
    """The ids (n,) int32 of one string, without padding."""
    return tokenizer.tokenize_ragged(tf.reshape(string, [1]))[0]


def _teacher_forcing(ids, max_length):
    """Target ids y (n,) -> (``[START] y``, ``y [END]``), y cut to its first ``max_length - 1`` ids."""
    if max_length is not None:
        ids = ids[: max_length - 1]
    return tf.concat([[START_ID], ids], axis=0), tf.concat([ids, [END_ID]], axis=0)


def seq2seq_batches(
    source_tokenizer, target_tokenizer, batch_size, max_source_length=None, max_target_length=None, bucket=False
):
    """A ``dataset.apply`` step from (source string, target string) pairs to training batches.

    The source is tokenized and cut to its first ``max_source_length`` tokens; the target is cut to
    its first ``max_target_length - 1`` tokens (so that with [END] it fits the model's limit);
    ``target_in`` is ``[START] y_1 .. y_n`` and the target ``y_1 .. y_n [END]``
    (``data.teacher_forcing_shift``), all padded with 0 to the longest in the batch.

    Args:
        source_tokenizer, target_tokenizer: the recipe's tokenizers.
        batch_size: examples per batch.
        max_source_length, max_target_length: the model's limits, or None for no cut.
        bucket: batch examples of similar source length together (``data.bucket_by_length``),
            which saves the padded steps of recurrent encoders; False keeps the order.

    Returns:
        A transform giving ``({"source": (B, S), "target_in": (B, T)}, target (B, T))``.

    Raises:
        ValueError: a bad size or limit; the elements are not (string, string) pairs.
        TypeError: a tokenizer is not a ``Tokenizer``.

    Example:
    >>> from seqrecipes import data
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> pairs = data.sequence_reversal(4, max_length=5, alphabet="abc", seed=0)
    >>> inputs, target = next(iter(pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 4))))
    >>> sorted(inputs), int(inputs["target_in"][0, 0]), inputs["target_in"].shape == target.shape
    (['source', 'target_in'], 2, True)
    """
    _check_limits(batch_size, max_source_length=max_source_length, max_target_length=max_target_length)
    _check_tokenizers(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer)
    check_bool("bucket", bucket)

    def transform(dataset):
        _check_spec("seq2seq_batches", dataset.element_spec, "(source string, target string) pairs", (0, _is_string), (0, _is_string))
        source_size, target_size = _size(source_tokenizer), _size(target_tokenizer)

        def shift(source, target):
            x = checked_ids(_ids(source_tokenizer, source), "source", source_size, "source_tokenizer")
            if max_source_length is not None:
                x = x[:max_source_length]
            y = checked_ids(_ids(target_tokenizer, target), "target", target_size, "target_tokenizer")
            target_in, target_out = _teacher_forcing(y, max_target_length)
            return {"source": x, "target_in": target_in}, target_out

        dataset = dataset.map(shift, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        if bucket:
            return dataset.apply(
                bucket_by_length(batch_size, length_fn=lambda inputs, target: tf.shape(inputs["source"])[0])
            )
        return dataset.apply(batch_with_padding(batch_size))

    return transform


def tag_ids(tags_tokenizer, tags):
    """Tags of one sentence -> tag ids (T,) int32: names are looked up, class indices k become k + 4.

    String tags (``data.conll_file``) are looked up in the tags vocabulary (unknown tags give the
    unknown id 1); integer tags (TFDS ``conll2003``, where k indexes the tag names) become k + 4,
    the id of the k-th name in a tags tokenizer built from those names in order.

    Args:
        tags_tokenizer: the recipe's tags tokenizer (its vocabulary is the tag names).
        tags: the tags of one sentence, strings or class indices, shape (T,).

    Returns:
        A (T,) int32 tensor of tag ids.

    Raises:
        TypeError: the tags are neither strings nor integers.
        tf.errors.InvalidArgumentError: an integer tag is not a class index in ``[0, number of
            tag names)`` (at once when eager, when iterated inside a dataset map); the message
            names ``tags`` and the bad tag.

    Example:
    >>> from seqrecipes import data
    >>> tags = data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)
    >>> data.tag_ids(tags, ["B-ORG", "O", "X"]).numpy().tolist(), data.tag_ids(tags, [1, 0]).numpy().tolist()
    ([5, 4, 1], [5, 4])
    """
    _check_tokenizers(tags_tokenizer=tags_tokenizer)
    if isinstance(tags, (str, bytes)):
        raise TypeError(f"`tags` must be a sequence of tags, not one string. Received: tags={tags!r:.100}")
    tags = tf.convert_to_tensor(tags)
    if tags.dtype == tf.string:
        return tf.cast(tags_tokenizer.tokens_to_ids(tags), tf.int32)
    if not tags.dtype.is_integer:
        raise TypeError(f"`tags` must be tag names (strings) or class indices (integers). Received: tags.dtype={tags.dtype.name}")
    names = tags_tokenizer.vocabulary_size() - NUM_RESERVED
    tags = checked_ids(tags, "tags", names, f"the class indices of the {names} tag names of tags_tokenizer")
    return tf.cast(tags, tf.int32) + NUM_RESERVED


def tagging_batches(text_tokenizer, tags_tokenizer, batch_size, max_length=None):
    """A ``dataset.apply`` step from (tokens (T,), tags (T,)) sentences to ``sequence_tagger`` batches.

    Each token is tokenized on its own and stands for its first id (so a CoNLL token is one model
    step whatever the tokenizer's splitting; a token that gives no id becomes ``[UNK]``); tags go
    through ``tag_ids``. Sentences are cut to their first ``max_length`` tokens and padded with 0
    to the longest in the batch (padding is masked in the loss and metrics).

    Args:
        text_tokenizer: the recipe's text tokenizer.
        tags_tokenizer: the recipe's tags tokenizer.
        batch_size: sentences per batch.
        max_length: the model's ``max_length``, or None for no cut.

    Returns:
        A transform giving ``(token ids (B, T) int32, tag ids (B, T) int32)``.

    Raises:
        ValueError: a bad size or limit; the elements are not (tokens (T,) strings, tags (T,)
            strings or integers) pairs.
        TypeError: a tokenizer is not a ``Tokenizer``.
        tf.errors.InvalidArgumentError: when iterated, a sentence with more or fewer tags than
            tokens, or an integer tag outside the tag names (see ``tag_ids``).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> words = data.WordTokenizer(vocabulary=["EU", "rejects"], split_punctuation=False)
    >>> tags = data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)
    >>> sentences = tf.data.Dataset.from_tensors((["EU", "rejects", "it"], ["B-ORG", "O", "O"]))
    >>> x, y = next(iter(sentences.apply(data.tagging_batches(words, tags, 2))))
    >>> x.numpy().tolist(), y.numpy().tolist()
    ([[4, 5, 1]], [[5, 4, 4]])
    """
    _check_limits(batch_size, max_length=max_length)
    _check_tokenizers(text_tokenizer=text_tokenizer, tags_tokenizer=tags_tokenizer)

    def transform(dataset):
        dataset = dense_elements(dataset)
        _check_spec(
            "tagging_batches",
            dataset.element_spec,
            "(tokens (T,) strings, tags (T,) strings or integers) pairs",
            (1, _is_string),
            (1, lambda dtype: dtype == tf.string or dtype.is_integer),
        )
        text_size = _size(text_tokenizer)

        def encode(tokens, tags):
            same = tf.equal(tf.shape(tokens)[0], tf.shape(tags)[0])
            check = tf.debugging.Assert(
                same, ["The batch tensor `tags` must hold one tag per token. Received: tokens, tags =", tf.shape(tokens)[0], tf.shape(tags)[0]]
            )
            with tf.control_dependencies([check]):
                pieces = text_tokenizer.tokenize_ragged(tf.reshape(tokens, [-1]))  # (T, pieces)
            first = pieces.to_tensor(default_value=PAD_ID, shape=[None, 1])[:, 0]  # (T,)
            words = tf.where(first == PAD_ID, tf.fill(tf.shape(first), UNKNOWN_ID), first)  # no id -> [UNK]
            words = checked_ids(words, "tokens", text_size, "text_tokenizer")
            labels = tag_ids(tags_tokenizer, tags)
            if max_length is not None:
                words, labels = words[:max_length], labels[:max_length]
            return words, labels

        dataset = dataset.map(encode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.apply(batch_with_padding(batch_size))

    return transform


def caption_batches(target_tokenizer, batch_size, max_output_length=None):
    """A ``dataset.apply`` step from (image, caption string) pairs to ``image_captioner`` batches.

    Each caption is tokenized and cut to its first ``max_output_length - 1`` tokens (so that with
    [END] it fits the model's limit); ``target_in`` is ``[START] y_1 .. y_n`` and the target
    ``y_1 .. y_n [END]``, both padded with 0 to the longest caption in the batch.

    Args:
        target_tokenizer: the recipe's target tokenizer.
        batch_size: examples per batch.
        max_output_length: the model's ``max_output_length``, or None for no cut.

    Returns:
        A transform giving ``({"image": (B, H, W, C), "target_in": (B, T)}, target (B, T))``.

    Raises:
        ValueError: a bad size or limit; the elements are not (image (H, W, C) numbers, caption
            string) pairs.
        TypeError: the tokenizer is not a ``Tokenizer``.

    Example:
    >>> from seqrecipes import data
    >>> pairs = data.shapes_captioning(4, image_size=16)
    >>> tokenizer = data.WordTokenizer().adapt(pairs.map(lambda image, caption: caption))
    >>> inputs, target = next(iter(pairs.apply(data.caption_batches(tokenizer, 4))))
    >>> inputs["image"].shape.as_list(), int(inputs["target_in"][0, 0])
    ([4, 16, 16, 3], 2)
    """
    _check_limits(batch_size, max_output_length=max_output_length)
    _check_tokenizers(target_tokenizer=target_tokenizer)

    def transform(dataset):
        _check_spec(
            "caption_batches",
            dataset.element_spec,
            "(image (H, W, C), caption string) pairs",
            (3, lambda dtype: dtype.is_floating or dtype.is_integer),
            (0, _is_string),
        )
        size = _size(target_tokenizer)

        def shift(image, caption):
            ids = checked_ids(_ids(target_tokenizer, caption), "target", size, "target_tokenizer")
            target_in, target = _teacher_forcing(ids, max_output_length)
            return {"image": image, "target_in": target_in}, target

        dataset = dataset.map(shift, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.apply(batch_with_padding(batch_size))

    return transform


def window_batches(tokenizer, context_size, batch_size):
    """A ``dataset.apply`` step from strings to batches of (context (n-1,), next id) training pairs.

    Each string becomes ``[START] w_1 .. w_k [END]``; every position i >= 1 of that sequence gives
    one pair: the previous n-1 ids (padded with 0 in front at the start of the text) and the id at
    i. A text of k tokens gives k + 1 pairs, the last one predicting ``[END]``. The pairs of all
    texts, in order, are batched ``batch_size`` at a time (``.unbatch()`` gives the pairs back).

    Args:
        tokenizer: the recipe's text tokenizer.
        context_size: n - 1, the recipe's ``context_size``.
        batch_size: pairs per batch.

    Returns:
        A transform giving ``(contexts (B, n-1) int32, next ids (B,) int32)``.

    Raises:
        ValueError: a bad size; the elements are not single strings.
        TypeError: the tokenizer is not a ``Tokenizer``.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> tokenizer = data.WordTokenizer(vocabulary=["a", "b"])
    >>> batches = tf.data.Dataset.from_tensors("a b").apply(data.window_batches(tokenizer, 2, batch_size=2))
    >>> [(x.tolist(), y.tolist()) for x, y in batches.as_numpy_iterator()]
    [([[0, 2], [2, 4]], [4, 5]), ([[4, 5]], [3])]
    """
    check_positive_int("context_size", context_size)
    check_positive_int("batch_size", batch_size)
    _check_tokenizers(tokenizer=tokenizer)

    def sequence(text):
        padding = tf.zeros([context_size - 1], tf.int32)
        ids = checked_ids(_ids(tokenizer, text), "tokens", _size(tokenizer), "tokenizer")
        return tf.concat([padding, [START_ID], ids, [END_ID]], axis=0)  # (n-2 + k + 2,)

    def pairs(ids):
        count = tf.shape(ids)[0] - context_size  # k + 1 targets
        positions = tf.range(count)[:, None] + tf.range(context_size)[None, :]  # (k+1, n-1)
        contexts = tf.gather(ids, positions)  # (k+1, n-1)
        targets = ids[context_size:]  # (k+1,)
        return tf.data.Dataset.from_tensor_slices((contexts, targets))

    def transform(dataset):
        _check_spec("window_batches", dataset.element_spec, "one string per element", (0, _is_string))
        dataset = dataset.map(sequence, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.flat_map(pairs).batch(batch_size)

    return transform
