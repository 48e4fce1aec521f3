"""The base class of seqrecipes tokenizers: a Keras preprocessing layer made of TensorFlow ops."""

import logging
import os

import keras
import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_bool, check_positive_int
from seqrecipes.data.strings import as_id_tensor, as_string_tensor, nest_rows, no_text_error, replace_invalid_utf8, text_dataset
from seqrecipes.data.strings import without_padding
from seqrecipes.data.vocabulary import END_ID, PAD_ID, START_ID, UNKNOWN_ID, Vocabulary, _check_limits, _check_tokens
from seqrecipes.data.vocabulary import _NoTokensError, _read_tokens, _ReservedIds
from seqrecipes.data.vocabulary_sources import tokenizer_from_config

ID_DTYPES = ("int32", "int64")
MAX_SEQUENCE_LENGTH = 65536  # every call with sequence_length makes a dense (strings, sequence_length) tensor

logger = logging.getLogger(__name__)


@keras.saving.register_keras_serializable(package="seqrecipes")
class Tokenizer(keras.layers.Layer, _ReservedIds):
    """Base class: strings to ids and back with TensorFlow ops, over a ``Vocabulary``.

    A subclass defines how a batch of strings splits into string tokens (``split``) and how a
    batch of token strings joins back (``join_tokens``); this class does the rest: the shared
    arguments, lower-casing, vocabulary building (``adapt``), id lookup, padding to
    ``sequence_length``, cleaning ids before detokenizing, vocabulary files and the Keras config. Everything that runs on tensors is a
    TensorFlow op, so ``tokenize`` and ``detokenize`` work eagerly, inside ``tf.data`` maps, inside
    a ``tf.function`` and in a SavedModel.

    Reserved ids (the same for every tokenizer, see ``seqrecipes.data.vocabulary``):
    ``pad_id`` 0 ``"[PAD]"``, ``unknown_id`` 1 ``"[UNK]"``, ``start_id`` 2 ``"[START]"``,
    ``end_id`` 3 ``"[END]"``.

    Bytes that are not valid UTF-8 are replaced by U+FFFD before splitting; tokenizing never raises
    on text content. An empty list is a batch of no strings: ``tokenize([])`` has shape ``(0, None)``
    (``(0, sequence_length)``); ``detokenize([])`` is one sequence of no ids, ``""``.

    The vocabulary as a SavedModel asset: a tokenizer whose vocabulary comes from a file
    (``vocabulary="vocab.txt"`` or ``load_vocabulary(path)``; ``vocabulary_file`` then holds the
    absolute path) initializes its lookup tables from that file, so ``tf.saved_model.save`` copies
    the file into the SavedModel's ``assets/`` and the tables read it when the model loads. A
    vocabulary given as a list (or from ``adapt``, or ``from_config``) is held as constants in the
    graph instead; ``save_vocabulary`` then ``load_vocabulary`` switches to the file. (Files whose
    tokens needed escapes, such as a character vocabulary holding ``"\\n"``, always use constants.)

    The vocabulary in a ``.keras`` file is the config's list of tokens, inside the archive;
    ``from_config`` takes only such a list (or ``None``) and refuses a path without opening it, so
    a crafted archive cannot make loading read a file. Only a direct call
    (``WordTokenizer(vocabulary="vocab.txt")``, ``load_vocabulary(path)``) reads a file.

    Args:
        vocabulary: ``None`` (call ``adapt`` later), a list of string tokens (with or without
            the reserved tokens in front), a ``Vocabulary``, or the path of a vocabulary file
            written by ``save_vocabulary`` (a string here is always a path; in a config, never).
        sequence_length: ``None`` for ragged outputs; an integer in [1, ``MAX_SEQUENCE_LENGTH``]
            (65536) to pad with 0 or truncate every output to that many ids (a dense tensor).
        lowercase: True to lower-case the text (Unicode-aware) before ``split``; ``detokenize``
            then returns lower-case text.
        max_size: the largest vocabulary ``adapt`` builds, the reserved tokens included.
        min_frequency: the smallest count a token needs to enter the vocabulary in ``adapt``.
        dtype: the integer dtype of the ids, ``"int32"`` (the default) or ``"int64"``.
        **kwargs: the arguments of ``keras.layers.Layer`` (``name``).

    Call arguments:
        inputs: strings, any shape; the same as ``tokenize(inputs)``.

    Returns:
        For a scalar string, a dense 1-D tensor of ids. For a tensor of strings, a
        ``tf.RaggedTensor`` with one more (ragged) axis, or a dense tensor of shape
        ``inputs.shape + (sequence_length,)`` when ``sequence_length`` is set.
        ``tokenize_ragged`` gives the ragged int32 form whatever ``sequence_length`` is.

    Raises:
        ValueError: a bad argument, a vocabulary with an empty, reserved or duplicate token, or a
            malformed vocabulary file (the error names the file and line, never its text).
        TypeError: ``vocabulary`` is not a list of strings, a ``Vocabulary`` or a path.
        FileNotFoundError, IsADirectoryError: the vocabulary path is not a file.

    Example:
    >>> from seqrecipes import data
    >>> tokenizer = data.CharTokenizer(vocabulary=list("ab"))
    >>> tokenizer.tokenize(["ab", "ba?"]).to_list()
    [[4, 5], [5, 4, 1]]
    >>> tokenizer.tokenize([]).shape.as_list(), tokenizer.detokenize([]).numpy()
    ([0, None], b'')

    References:
        keras-hub ``keras_hub.tokenizers.Tokenizer``; ``keras.layers.TextVectorization``.
    """

    def __init__(
        self, vocabulary=None, sequence_length=None, lowercase=False, max_size=None, min_frequency=1, dtype="int32", **kwargs
    ):
        if sequence_length is not None:
            if not check_positive_int("sequence_length", sequence_length) <= MAX_SEQUENCE_LENGTH:
                raise ValueError(f"`sequence_length` must be an integer in [1, {MAX_SEQUENCE_LENGTH}] or None. Received: sequence_length={sequence_length}")
            sequence_length = int(sequence_length)
        check_bool("lowercase", lowercase)
        if str(getattr(dtype, "name", dtype)) not in ID_DTYPES:  # before Keras reads "int8" as a quantization mode
            raise ValueError(f"`dtype` of a tokenizer must be one of {list(ID_DTYPES)}. Received: dtype={dtype!r}")
        _check_limits(max_size, min_frequency)
        kwargs.setdefault("trainable", False)
        super().__init__(dtype=dtype, **kwargs)
        self.sequence_length = sequence_length
        self.lowercase = lowercase
        self.max_size = max_size
        self.min_frequency = min_frequency
        # Strings pass through Layer.__call__ unconverted, as in keras-hub's preprocessing layers.
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        self.vocabulary = None
        self.set_vocabulary(vocabulary)
        self.built = True

    # ----------------------------------------------------------------------------------------
    # What a subclass defines.

    def split(self, strings):
        """Splits a 1-D tensor of valid UTF-8 strings into a ragged ``[batch, tokens]`` tensor."""
        raise NotImplementedError(f"{type(self).__name__} must define split().")

    def join_tokens(self, tokens):
        """Joins a ragged ``[batch, tokens]`` tensor of token strings into a 1-D string tensor."""
        raise NotImplementedError(f"{type(self).__name__} must define join_tokens().")

    def encode(self, strings):
        """1-D valid UTF-8 strings -> ragged int64 ids ``[batch, tokens]`` (split, then look up)."""
        return self.tokens_to_ids(self._split(strings))

    def decode(self, ids):
        """Ragged int64 ids in the vocabulary, without padding/start/end ``[batch, tokens]`` -> 1-D strings."""
        return self.join_tokens(self.ids_to_tokens(ids))

    def _split(self, strings):
        """``split``, lower-casing the strings first when ``lowercase`` is set."""
        if self.lowercase:
            strings = tf.strings.lower(strings, encoding="utf-8")
        return self.split(strings)

    # ----------------------------------------------------------------------------------------
    # Vocabulary.

    def set_vocabulary(self, vocabulary):
        """Sets the vocabulary from a list of tokens, a ``Vocabulary`` or a vocabulary file path.

        Args:
            vocabulary: see the class arguments; ``None`` clears it. A string is a file's path
                (``from_config`` never passes one).

        Raises:
            TypeError, ValueError, FileNotFoundError, IsADirectoryError: see the class ``Raises``.
        """
        self.vocabulary_file = None
        if vocabulary is None:
            self.vocabulary = None
            return
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.path.abspath(os.fspath(vocabulary))
            vocabulary = Vocabulary(_read_tokens(path, "vocabulary"))
            if vocabulary.needs_escapes():
                logger.info("%s: escaped tokens, so the lookup tables hold the tokens as constants", path)
            else:
                self.vocabulary_file = path
        elif not isinstance(vocabulary, Vocabulary):
            if not isinstance(vocabulary, (list, tuple, np.ndarray)):
                raise TypeError(f"`vocabulary` must be a list of tokens, a Vocabulary or a file path. Received: vocabulary={vocabulary!r:.80}")
            vocabulary = Vocabulary(_check_tokens(vocabulary, "vocabulary"))
        self.vocabulary = vocabulary
        self._token_to_id_table, self._id_to_token_table = vocabulary.lookup_tables(self.vocabulary_file)

    def adapt(self, data, batch_size=256):
        """Builds the vocabulary from text, within ``max_size`` and ``min_frequency``.

        Args:
            data: a ``tf.data.Dataset`` of strings (scalar or batched elements), a list or array of
                strings, or a string tensor.
            batch_size: how many scalar elements are split at once.

        Returns:
            ``self``, for chaining.

        Raises:
            TypeError: ``data`` does not hold strings.
            ValueError: ``data`` holds no token (no text, or only empty or blank strings), or no
                token passes the limits (an empty vocabulary).
        """
        batch_size = check_positive_int("batch_size", batch_size)
        tokens = text_dataset(data, batch_size).map(self._split)
        try:
            vocabulary = Vocabulary.build(tokens, max_size=self.max_size, min_frequency=self.min_frequency)
        except _NoTokensError:
            raise no_text_error(data) from None
        self.set_vocabulary(vocabulary)
        return self

    @property
    def mask_id(self):
        """The id of ``"[MASK]"`` in the vocabulary, or None (see ``add_mask_token``)."""
        self._check_vocabulary()
        return self.vocabulary.mask_id

    def add_mask_token(self):
        """Appends ``"[MASK]"`` to the vocabulary (``Vocabulary.with_mask_token``); returns ``self``.

        The reserved ids and every other id keep their values; a masked language model's
        masking step writes this id over the token ids it hides.

        Example:
        >>> from seqrecipes import data
        >>> tokenizer = data.WordTokenizer(vocabulary=["a", "b"]).add_mask_token()
        >>> tokenizer.mask_id, tokenizer.vocabulary_size()
        (6, 7)
        """
        self._check_vocabulary()
        if self.vocabulary.mask_id is None:
            self.set_vocabulary(self.vocabulary.with_mask_token())
        return self

    def get_vocabulary(self):
        """The vocabulary as a list of tokens in id order, reserved tokens first."""
        self._check_vocabulary()
        return self.vocabulary.tokens

    def vocabulary_size(self):
        """The number of ids, reserved ones included (the size an Embedding or softmax needs)."""
        self._check_vocabulary()
        return len(self.vocabulary)

    def token_to_id(self, token):
        """The id of one token (Python); the unknown id for an unknown token."""
        self._check_vocabulary()
        return self.vocabulary.token_to_id(token)

    def id_to_token(self, token_id):
        """The token of one id (Python); raises ValueError for an id out of range."""
        self._check_vocabulary()
        return self.vocabulary.id_to_token(token_id)

    def save_vocabulary(self, path):
        """Writes the vocabulary file (see ``Vocabulary.save``) and returns its path."""
        self._check_vocabulary()
        return self.vocabulary.save(path)

    def load_vocabulary(self, path):
        """Replaces the vocabulary by the one in a vocabulary file (file-backed lookups); returns ``self``."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a file path. Received: path={type(path).__name__}")
        self.set_vocabulary(os.fspath(path))
        return self

    def _check_vocabulary(self):
        if self.vocabulary is None:
            raise ValueError(
                f"{type(self).__name__} has no vocabulary yet: call adapt(data) or pass `vocabulary=`. "
                "Received: vocabulary=None"
            )

    # ----------------------------------------------------------------------------------------
    # Tensors.

    def tokens_to_ids(self, tokens):
        """Looks up string tokens (any shape, dense or ragged) and returns int64 ids."""
        self._check_vocabulary()
        if isinstance(tokens, tf.RaggedTensor):
            return tf.ragged.map_flat_values(self._token_to_id_table.lookup, tokens)
        return self._token_to_id_table.lookup(tf.convert_to_tensor(tokens, tf.string))

    def ids_to_tokens(self, ids):
        """Looks up ids (any shape, dense or ragged); unknown and out-of-range ids give ``"[UNK]"``."""
        self._check_vocabulary()
        if isinstance(ids, tf.RaggedTensor):
            return tf.ragged.map_flat_values(lambda x: self._id_to_token_table.lookup(tf.cast(x, tf.int64)), ids)
        return self._id_to_token_table.lookup(tf.cast(tf.convert_to_tensor(ids), tf.int64))

    def tokenize(self, inputs):
        """Strings to ids (see the class ``Returns``).

        Args:
            inputs: a string or a tensor (list, array) of strings of any rank.

        Returns:
            Ids of ``dtype``: dense 1-D for a scalar input, ragged (or dense with
            ``sequence_length``) with one more axis otherwise.
        """
        self._check_vocabulary()
        inputs = as_string_tensor(inputs)
        if isinstance(inputs, tf.RaggedTensor):
            return inputs.with_flat_values(self.tokenize(inputs.flat_values))
        if inputs.shape.rank is None:
            raise ValueError(f"`inputs` must have a known rank. Received: inputs.shape={inputs.shape}")
        scalar = inputs.shape.rank == 0
        flat = replace_invalid_utf8(tf.reshape(inputs, [-1]))
        ids = tf.cast(self.encode(flat), self.compute_dtype)  # ragged [N, None]
        if self.sequence_length is not None:
            ids = ids[:, : self.sequence_length].to_tensor(default_value=0, shape=[None, self.sequence_length])
            return tf.reshape(ids, tf.concat([tf.shape(inputs), [self.sequence_length]], axis=0))
        if scalar:
            return ids[0]
        if inputs.shape.rank == 1:
            return ids
        return nest_rows(ids, inputs)

    def tokenize_ragged(self, inputs):
        """Strings to an int32 ``tf.RaggedTensor`` of ids, without padding whatever ``sequence_length`` is.

        The form the batch builders and the recipes' serving functions work on: ``tokenize``, then
        a fixed-length tokenizer's padding (0) is removed (its cut to ``sequence_length`` stays),
        then the ids are cast to int32 whatever ``dtype`` is. TensorFlow ops only, so it runs in
        ``tf.data`` maps and inside an export.

        Args:
            inputs: strings with at least one axis (a batch), dense or ragged.

        Returns:
            An int32 ``tf.RaggedTensor`` of shape ``inputs.shape + (None,)``.

        Raises:
            ValueError: ``inputs`` is one string (wrap it in a list).

        Example:
        >>> from seqrecipes import data
        >>> tokenizer = data.CharTokenizer(vocabulary=list("ab"), sequence_length=3)
        >>> tokenizer.tokenize(["ab", "b"]).numpy().tolist()
        [[4, 5, 0], [5, 0, 0]]
        >>> tokenizer.tokenize_ragged(["ab", "b"]).to_list()
        [[4, 5], [5]]
        """
        inputs = as_string_tensor(inputs)
        if inputs.shape.rank == 0:
            raise ValueError(
                "tokenize_ragged needs strings with at least one axis (a batch): wrap one string in a list. "
                "Received: inputs.shape=()"
            )
        ids = self.tokenize(inputs)
        if self.sequence_length is not None:
            ids = without_padding(ids)
        return tf.cast(ids, tf.int32)

    def detokenize(self, ids):
        """Ids back to strings.

        Each sequence is cut at its first ``end_id``; padding (0) and ``start_id`` are dropped;
        out-of-range ids become the unknown id, and it becomes ``"[UNK]"``. For in-vocabulary text this inverts
        ``tokenize`` (the subclass documents what its splitting keeps).

        Args:
            ids: integer ids, shape ``[..., tokens]``: a tensor, ragged or not, an array or nested
                lists (rows may differ in length); 1-D is one sequence, so ``[]`` gives ``""``.

        Returns:
            A string tensor of shape ``ids.shape[:-1]`` (a scalar for 1-D ``ids``).

        Raises:
            TypeError: ``ids`` are not integers (floats, strings, ``None``, or too large for int64).
            ValueError: ``ids`` is a scalar.
        """
        self._check_vocabulary()
        ids = as_id_tensor(ids)
        if ids.shape.rank == 0:
            raise ValueError(f"`ids` must have at least one axis (the tokens). Received: ids.shape={ids.shape}")
        ids = tf.cast(ids, tf.int64)
        outer = tf.shape(ids)[:-1]
        flat = tf.reshape(ids, tf.stack([tf.reduce_prod(outer), tf.shape(ids)[-1]]))  # (N, tokens), N may be 0
        flat = tf.where((flat < 0) | (flat >= len(self.vocabulary)), tf.constant(UNKNOWN_ID, tf.int64), flat)
        before_end = tf.equal(tf.math.cumsum(tf.cast(tf.equal(flat, END_ID), tf.int32), axis=-1), 0)
        keep = before_end & tf.not_equal(flat, PAD_ID) & tf.not_equal(flat, START_ID)
        strings = self.decode(tf.ragged.boolean_mask(flat, keep))
        return tf.reshape(strings, outer)

    def call(self, inputs):
        return self.tokenize(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.sequence_length,)

    @classmethod
    def from_config(cls, config):
        """A tokenizer from its ``get_config``; ``vocabulary`` must be ``None`` or a list of tokens, never a
        path (``vocabulary_sources.tokenizer_from_config``)."""
        return tokenizer_from_config(cls, config)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "vocabulary": None if self.vocabulary is None else self.vocabulary.tokens,
                "sequence_length": self.sequence_length,
                "lowercase": self.lowercase,
                "max_size": self.max_size,
                "min_frequency": self.min_frequency,
            }
        )
        return config
