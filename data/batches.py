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

References:
    OpenNMT-tf ``opennmt/data/dataset.py``: batch builders are ``dataset.apply`` transforms that
    live with the data code, not in the model files.
"""

import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.padding import batch_with_padding, bucket_by_length
from seqrecipes.data.vocabulary import END_ID, PAD_ID, RESERVED_TOKENS, START_ID, UNKNOWN_ID

NUM_RESERVED = len(RESERVED_TOKENS)


def _check_limits(batch_size, **max_lengths):
    check_positive_int("batch_size", batch_size)
    for name, value in max_lengths.items():
        if value is not None:
            check_positive_int(name, value)


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

    Example:
    >>> from seqrecipes import data
    >>> tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    >>> pairs = data.sequence_reversal(4, max_length=5, alphabet="abc", seed=0)
    >>> inputs, target = next(iter(pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 4))))
    >>> sorted(inputs), int(inputs["target_in"][0, 0]), inputs["target_in"].shape == target.shape
    (['source', 'target_in'], 2, True)
    """
    _check_limits(batch_size, max_source_length=max_source_length, max_target_length=max_target_length)

    def shift(source, target):
        x = _ids(source_tokenizer, source)
        if max_source_length is not None:
            x = x[:max_source_length]
        target_in, target_out = _teacher_forcing(_ids(target_tokenizer, target), max_target_length)
        return {"source": x, "target_in": target_in}, target_out

    def transform(dataset):
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

    Example:
    >>> from seqrecipes import data
    >>> tags = data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)
    >>> data.tag_ids(tags, ["B-ORG", "O", "X"]).numpy().tolist(), data.tag_ids(tags, [1, 0]).numpy().tolist()
    ([5, 4, 1], [5, 4])
    """
    tags = tf.convert_to_tensor(tags)
    if tags.dtype == tf.string:
        return tf.cast(tags_tokenizer.tokens_to_ids(tags), tf.int32)
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

    def encode(tokens, tags):
        pieces = text_tokenizer.tokenize_ragged(tf.reshape(tokens, [-1]))  # (T, pieces)
        first = pieces.to_tensor(default_value=PAD_ID, shape=[None, 1])[:, 0]  # (T,)
        words = tf.where(first == PAD_ID, tf.fill(tf.shape(first), UNKNOWN_ID), first)  # no id -> [UNK]
        labels = tag_ids(tags_tokenizer, tags)
        if max_length is not None:
            words, labels = words[:max_length], labels[:max_length]
        return words, labels

    def transform(dataset):
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

    Example:
    >>> from seqrecipes import data
    >>> pairs = data.shapes_captioning(4, image_size=16)
    >>> tokenizer = data.WordTokenizer().adapt(pairs.map(lambda image, caption: caption))
    >>> inputs, target = next(iter(pairs.apply(data.caption_batches(tokenizer, 4))))
    >>> inputs["image"].shape.as_list(), int(inputs["target_in"][0, 0])
    ([4, 16, 16, 3], 2)
    """
    _check_limits(batch_size, max_output_length=max_output_length)

    def shift(image, caption):
        target_in, target = _teacher_forcing(_ids(target_tokenizer, caption), max_output_length)
        return {"image": image, "target_in": target_in}, target

    def transform(dataset):
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

    def sequence(text):
        if text.shape.rank != 0:
            raise ValueError(f"window_batches expects one string per element. Received: element shape {text.shape}")
        padding = tf.zeros([context_size - 1], tf.int32)
        return tf.concat([padding, [START_ID], _ids(tokenizer, text), [END_ID]], axis=0)  # (n-2 + k + 2,)

    def pairs(ids):
        count = tf.shape(ids)[0] - context_size  # k + 1 targets
        positions = tf.range(count)[:, None] + tf.range(context_size)[None, :]  # (k+1, n-1)
        contexts = tf.gather(ids, positions)  # (k+1, n-1)
        targets = ids[context_size:]  # (k+1,)
        return tf.data.Dataset.from_tensor_slices((contexts, targets))

    def transform(dataset):
        dataset = dataset.map(sequence, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return dataset.flat_map(pairs).batch(batch_size)

    return transform
