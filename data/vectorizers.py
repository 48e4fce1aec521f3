"""Text vectors before word embeddings (seed 003): one-hot sequences and bags of words over token ids.

Both are Keras preprocessing layers made of TensorFlow ops, so they run in ``tf.data`` maps, inside a
model and in an export. They read the ids a tokenizer writes (dense with padding 0, or ragged) and
know nothing of strings. Padding (0), ``[START]`` (2) and ``[END]`` (3) are never counted; ``[UNK]``
(1) is a word like any other (an unknown word is still a word of the text).

Seed 003's two lessons are properties of these vectors (``tests/data/test_vectorizers.py``):

- one-hot: "only the word's position is 1": every word is a unit vector e_w of size V, so any two
  different words are orthogonal (cosine 0), however alike they are; the vectors are as long as
  the vocabulary (inefficient).
- bag of words: the count of each word, c_w = sum_t [w_t = w]: any permutation of a sentence gets
  the same vector: the order (the time information) is lost.
"""

import keras
import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_bool, check_choice, check_positive_int
from seqrecipes.data.strings import as_id_tensor
from seqrecipes.data.vocabulary import END_ID, PAD_ID, START_ID

BAG_MODES = ("count", "binary", "tf_idf")
_NOT_WORDS = (PAD_ID, START_ID, END_ID)


def _dense_ids(ids):
    """Integer ids, dense (B, T) or ragged (lists too), as a dense int64 (B, T) tensor padded with 0
    (``strings.as_id_tensor``); a ValueError for another rank."""
    ids = as_id_tensor(ids)
    if ids.shape.rank != 2:
        raise ValueError(f"`ids` must be a batch of id sequences, shape (batch, tokens). Received: ids.shape={ids.shape}")
    return tf.cast(ids, tf.int64)


def _checked_range(ids, vocabulary_size, name="ids"):
    """``ids`` with an in-graph check that each lies in [0, vocabulary_size)."""
    bad = tf.reduce_any((ids < 0) | (ids >= vocabulary_size))
    message = f"`{name}` must hold ids in [0, {vocabulary_size}) (the layer's vocabulary_size). Received: an id outside it"
    if tf.executing_eagerly():
        if bool(bad):
            raise ValueError(message)
        return ids
    with tf.control_dependencies([tf.debugging.Assert(tf.logical_not(bad), [message])]):
        return tf.identity(ids)


@keras.saving.register_keras_serializable(package="seqrecipes")
class OneHot(keras.layers.Layer):
    """One-hot vectors of token ids: id w becomes e_w, the unit vector of size V with a 1 at w.

    Shapes: ids (B, T) int (dense, padded with 0, or ragged) -> (B, T, V) float. Padding, ``[START]``
    and ``[END]`` become zero vectors (they are not words), so the sum over time of the one-hot
    sequence is the ``BagOfWords`` count vector.

    Args:
        vocabulary_size: V, the tokenizer's ``vocabulary_size()``.
        **kwargs: ``keras.layers.Layer`` arguments (``name``, ``dtype``: the output's float type).

    Raises:
        ValueError: ``vocabulary_size`` is not an integer > 4; at call time an id outside [0, V).
        TypeError: the inputs are not integer ids.

    Example:
    >>> from seqrecipes import data
    >>> data.OneHot(6)([[4, 5, 0]]).numpy().astype(int).tolist()
    [[[0, 0, 0, 0, 1, 0], [0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0]]]
    """

    def __init__(self, vocabulary_size, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = _check_vocabulary_size(vocabulary_size)
        self._convert_input_args = False  # ragged ids pass through Layer.__call__ as they are
        self._allow_non_tensor_positional_args = True
        self.built = True

    def call(self, ids):
        ids = _checked_range(_dense_ids(ids), self.vocabulary_size)
        one_hot = tf.one_hot(ids, self.vocabulary_size, dtype=tf.float32) * tf.constant(_word_columns(self.vocabulary_size))
        return tf.cast(one_hot, self.compute_dtype)  # padding, start and end: zero vectors

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.vocabulary_size,)

    def get_config(self):
        return {**super().get_config(), "vocabulary_size": self.vocabulary_size}


@keras.saving.register_keras_serializable(package="seqrecipes")
class BagOfWords(keras.layers.Layer):
    """A bag of words over token ids: one vector of size V per sequence, word order discarded.

    With c_w = sum_t [w_t = w] the count of word w in a sequence, N the number of documents and
    df_w those that hold w (counted by ``adapt``):

        "count"   x_w = c_w
        "binary"  x_w = [c_w > 0]
        "tf_idf"  x_w = c_w * idf_w,   idf_w = ln((1 + N) / (1 + df_w)) + 1

    the smoothed idf of scikit-learn's ``TfidfVectorizer`` (before ``adapt``, idf_w = 1). With
    ``normalize=True`` each vector is divided by its L2 norm (scikit-learn's default ``norm="l2"``;
    an empty sequence stays 0). Padding, ``[START]`` and ``[END]`` are never counted.

    Shapes: ids (B, T) int (dense padded with 0, or ragged) -> (B, V) float.

    Args:
        vocabulary_size: V, the tokenizer's ``vocabulary_size()``.
        output_mode: ``"count"``, ``"binary"`` or ``"tf_idf"``.
        normalize: divide each vector by its L2 norm.
        **kwargs: ``keras.layers.Layer`` arguments (``name``, ``dtype``).

    The idf weights are a non-trainable weight ``idf`` (V,), so a ``.keras`` file and an export keep
    what ``adapt`` counted.

    Raises:
        ValueError: a bad argument; at call time an id outside [0, V).
        TypeError: the inputs are not integer ids.

    Example:
    >>> from seqrecipes import data
    >>> bag = data.BagOfWords(7)
    >>> bag([[4, 5, 4, 0], [5, 4, 4, 6]]).numpy().astype(int).tolist()
    [[0, 0, 0, 0, 2, 1, 0], [0, 0, 0, 0, 2, 1, 1]]
    >>> tf_idf = data.BagOfWords(7, output_mode="tf_idf").adapt([[4, 5, 4], [4, 6]])
    >>> [round(float(v), 3) for v in tf_idf.idf.numpy()[4:]]
    [1.0, 1.405, 1.405]

    References:
        scikit-learn ``sklearn.feature_extraction.text.TfidfTransformer`` (smooth_idf, norm);
        ``keras.layers.TextVectorization`` (``output_mode="count" | "multi_hot" | "tf_idf"``).
    """

    def __init__(self, vocabulary_size, output_mode="count", normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.vocabulary_size = _check_vocabulary_size(vocabulary_size)
        self.output_mode = check_choice("output_mode", output_mode, BAG_MODES)
        self.normalize = check_bool("normalize", normalize)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.idf = self.add_weight(shape=(self.vocabulary_size,), initializer="ones", trainable=False, name="idf")
        self.built = True

    def counts(self, ids):
        """c (B, V): how often each word id occurs in each sequence (padding, start and end ids 0)."""
        ids = _checked_range(_dense_ids(ids), self.vocabulary_size)
        counts = tf.math.bincount(ids, minlength=self.vocabulary_size, maxlength=self.vocabulary_size, axis=-1, dtype=tf.float32)
        return counts * tf.constant(_word_columns(self.vocabulary_size))

    def call(self, ids):
        x = self.counts(ids)  # (B, V)
        if self.output_mode == "binary":
            x = tf.cast(x > 0, tf.float32)
        elif self.output_mode == "tf_idf":
            x = x * tf.cast(self.idf, tf.float32)[None, :]
        if self.normalize:
            x = tf.math.divide_no_nan(x, tf.norm(x, axis=-1, keepdims=True))
        return tf.cast(x, self.compute_dtype)

    def adapt(self, data, batch_size=256):
        """Counts the document frequencies df_w of ``data`` and sets ``idf`` (for ``"tf_idf"``).

        Args:
            data: token ids: a ``tf.data.Dataset`` of id sequences (one sequence, or a batch of
                them, per element; dense or ragged; extra elements of a tuple, such as labels, are
                ignored), or a list or array of sequences.
            batch_size: how many sequences are counted at once when ``data`` is not a dataset.

        Returns:
            ``self``.

        Raises:
            ValueError: ``data`` holds no sequence.
        """
        check_positive_int("batch_size", batch_size)
        if not isinstance(data, tf.data.Dataset):
            if isinstance(data, np.ndarray):
                data = tf.convert_to_tensor(data)
            elif not isinstance(data, (tf.Tensor, tf.RaggedTensor)):
                data = tf.ragged.constant(data, dtype=tf.int64) if len(data) else tf.zeros([0, 0], tf.int64)
            data = tf.data.Dataset.from_tensor_slices(data).batch(batch_size)
        document_frequency = np.zeros(self.vocabulary_size, np.float64)
        documents = 0
        for ids in data:
            if isinstance(ids, tuple):
                ids = ids[0]
            if ids.shape.rank == 1:  # one sequence per element
                ids = ids[None]
            present = self.counts(ids).numpy() > 0
            document_frequency += present.sum(axis=0)
            documents += present.shape[0]
        if documents == 0:
            raise ValueError("`data` must hold at least one id sequence to count document frequencies. Received: no sequence")
        self.idf.assign(np.log((1.0 + documents) / (1.0 + document_frequency)) + 1.0)
        return self

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.vocabulary_size)

    def get_config(self):
        config = super().get_config()
        config.update({"vocabulary_size": self.vocabulary_size, "output_mode": self.output_mode, "normalize": self.normalize})
        return config


def _word_columns(vocabulary_size):
    """1 for the ids that are words, 0 for padding, start and end (V,) float32."""
    columns = np.ones(vocabulary_size, np.float32)
    columns[list(_NOT_WORDS)] = 0.0
    return columns


def _check_vocabulary_size(vocabulary_size):
    if check_positive_int("vocabulary_size", vocabulary_size) <= 4:
        raise ValueError(
            "`vocabulary_size` must be an integer above 4 (ids 0-3 are reserved: pad, unknown, start, end). "
            f"Received: vocabulary_size={vocabulary_size}"
        )
    return int(vocabulary_size)
