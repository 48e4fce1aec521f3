"""The token list every seqrecipes tokenizer shares: reserved ids, building from data, file I/O.

Reserved tokens always take the first four ids, in this order:

    id 0  "[PAD]"    padding (the value every padding step fills with)
    id 1  "[UNK]"    unknown: any token not in the vocabulary maps here
    id 2  "[START]"  start of a decoder sequence (teacher forcing, decoding loops)
    id 3  "[END]"    end of a sequence

Ordinary tokens follow from id 4, most frequent first. A masked language model's ``"[MASK]"``
(``MASK_TOKEN``) is an ordinary token appended by ``with_mask_token()``, so the reserved ids and every
existing id stay where they are.
"""

import collections
import collections.abc
import logging
import numbers

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.vocabulary_sources import read_vocabulary_file, write_lines

logger = logging.getLogger(__name__)

PAD_TOKEN = "[PAD]"
UNKNOWN_TOKEN = "[UNK]"
START_TOKEN = "[START]"
END_TOKEN = "[END]"
RESERVED_TOKENS = (PAD_TOKEN, UNKNOWN_TOKEN, START_TOKEN, END_TOKEN)
PAD_ID, UNKNOWN_ID, START_ID, END_ID = 0, 1, 2, 3
MASK_TOKEN = "[MASK]"


def _to_text(token, name="token"):
    if isinstance(token, bytes):
        return token.decode("utf-8", errors="replace")
    if isinstance(token, np.str_):
        return str(token)
    if not isinstance(token, str):
        raise TypeError(f"`{name}` must be a string. Received: {name}={token!r:.80}")
    return token


def _check_tokens(tokens, name):
    """The ordinary tokens of ``tokens`` (a list or tuple of strings, reserved tokens in front or not).

    ``name`` is the argument the errors name: ``tokens`` for ``Vocabulary``, ``vocabulary`` for a
    tokenizer.
    """
    if isinstance(tokens, np.ndarray):
        tokens = tokens.tolist()
    if not isinstance(tokens, (list, tuple)):
        raise TypeError(f"`{name}` must be a list of strings. Received: {name}={type(tokens).__name__}")
    tokens = [_to_text(token, f"{name}[{position}]") for position, token in enumerate(tokens)]
    if tuple(tokens[: len(RESERVED_TOKENS)]) == RESERVED_TOKENS:
        tokens = tokens[len(RESERVED_TOKENS) :]
    seen = {}
    for position, token in enumerate(tokens):
        if token == "":
            raise ValueError(f"A vocabulary token must not be empty. Received: {name}[{position}]=''")
        if token in RESERVED_TOKENS:
            raise ValueError(
                f"Reserved token {token!r} may only appear as one of the first four entries "
                f"{list(RESERVED_TOKENS)} of `{name}`. Received: {name}[{position}]={token!r}"
            )
        if token in seen:
            raise ValueError(
                f"Duplicate vocabulary token {token!r} at positions {seen[token]} and {position} of `{name}`. "
                f"Received: {name}[{position}]={token!r}"
            )
        seen[token] = position
    if not tokens:
        raise ValueError(
            f"The vocabulary is empty: `{name}` needs at least one token besides the reserved "
            f"{list(RESERVED_TOKENS)}. Received: {name}={tokens}"
        )
    return tokens


class _NoTokensError(ValueError):
    """The data to build a vocabulary from holds no token at all (empty or blank text)."""


class _ReservedIds:
    """The reserved tokens and ids as attributes, the same for ``Vocabulary`` and every tokenizer."""

    pad_token = PAD_TOKEN
    unknown_token = UNKNOWN_TOKEN
    start_token = START_TOKEN
    end_token = END_TOKEN
    pad_id = PAD_ID
    unknown_id = UNKNOWN_ID
    start_id = START_ID
    end_id = END_ID

    mask_token = MASK_TOKEN

    @property
    def special_token_ids(self):
        """The reserved ids ``[pad_id, unknown_id, start_id, end_id]``."""
        return [PAD_ID, UNKNOWN_ID, START_ID, END_ID]


class Vocabulary(_ReservedIds):
    """An ordered list of tokens with the four reserved tokens in front.

    A ``Vocabulary`` is plain Python: it maps tokens to ids and back, builds itself from token
    counts over a ``tf.data.Dataset``, and saves to and loads from a plain text file with one token
    per line. Tokenizers turn it into TensorFlow lookup tables with ``lookup_tables()``.

    File format: UTF-8, one token per line, ``\\n`` line ends, the first four lines the reserved
    tokens. Three escapes keep every token on one line: a backslash is written ``\\\\``, a line
    feed ``\\n`` and a carriage return ``\\r`` (a character-level vocabulary can hold all three).

    Args:
        tokens: the ordinary tokens in id order (ids 4, 5, ...). A list that already starts with
            the four reserved tokens in order is accepted as the whole vocabulary, so
            ``Vocabulary(vocab.tokens)`` round-trips. Bytes are decoded as UTF-8 with replacement.

    Example:
    >>> from seqrecipes import data
    >>> vocab = data.Vocabulary(["말이", "있는"])
    >>> vocab.tokens
    ['[PAD]', '[UNK]', '[START]', '[END]', '말이', '있는']
    >>> vocab.token_to_id("있는"), vocab.token_to_id("없는")
    (5, 1)

    References:
        OpenNMT-tf ``opennmt/data/vocab.py`` (a vocabulary built from counts, saved one token per
        line); ``keras.layers.StringLookup`` (reserved padding and out-of-vocabulary ids).
    """

    def __init__(self, tokens):
        self._tokens = list(RESERVED_TOKENS) + _check_tokens(tokens, "tokens")
        self._ids = {token: index for index, token in enumerate(self._tokens)}

    @property
    def tokens(self):
        """The whole vocabulary in id order, reserved tokens first (a copy)."""
        return list(self._tokens)

    def __len__(self):
        return len(self._tokens)

    def __contains__(self, token):
        return _to_text(token) in self._ids

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self._tokens == other._tokens

    def __repr__(self):
        preview = ", ".join(repr(t) for t in self._tokens[4:10])
        more = ", ..." if len(self._tokens) > 10 else ""
        return f"Vocabulary(size={len(self)}, tokens=[{preview}{more}])"

    def token_to_id(self, token):
        """The id of ``token``; the unknown id (1) for a token not in the vocabulary."""
        return self._ids.get(_to_text(token), UNKNOWN_ID)

    def id_to_token(self, token_id):
        """The token with id ``token_id``; a TypeError for a non-integer, a ValueError outside ``[0, len(self))``."""
        if isinstance(token_id, bool) or not isinstance(token_id, numbers.Integral):
            raise TypeError(f"`token_id` must be an integer. Received: token_id={token_id!r:.80}")
        token_id = int(token_id)
        if not 0 <= token_id < len(self._tokens):
            raise ValueError(
                f"Token id out of range [0, {len(self._tokens) - 1}]. Received: token_id={token_id}"
            )
        return self._tokens[token_id]

    @property
    def mask_id(self):
        """The id of ``"[MASK]"``, or None when the vocabulary has none (``with_mask_token``)."""
        return self._ids.get(MASK_TOKEN)

    def with_mask_token(self):
        """This vocabulary with ``"[MASK]"`` appended (itself when it holds one already).

        The masked language model's token goes last: the reserved ids and every other id stay.

        Example:
        >>> from seqrecipes import data
        >>> vocab = data.Vocabulary(["a", "b"]).with_mask_token()
        >>> vocab.mask_id, vocab.tokens[4:]
        (6, ['a', 'b', '[MASK]'])
        """
        if self.mask_id is not None:
            return self
        return Vocabulary(self._tokens + [MASK_TOKEN])

    def needs_escapes(self):
        """Whether a token holds a line feed, carriage return or backslash (escaped in files)."""
        return any(("\n" in t) or ("\r" in t) or ("\\" in t) for t in self._tokens)

    def lookup_tables(self, path=None):
        """Two TensorFlow hash tables: token -> id (default: unknown id) and id -> token.

        The id -> token table answers ``"[UNK]"`` for ids outside the vocabulary. The tables are
        created in the eager context (``tf.init_scope``) so that a tokenizer built inside a
        ``tf.function`` or ``tf.data`` trace still owns ordinary resources that a SavedModel
        tracks.

        Args:
            path: ``None`` to hold the tokens as constants in the graph; or this vocabulary's
                file (written by ``save``, with no escaped token), to initialize both tables from
                it with ``tf.lookup.TextFileInitializer``: ``tf.saved_model.save`` then copies the
                file into the SavedModel's ``assets/`` and the tables read it at load time.

        Returns:
            ``(token_to_id, id_to_token)``, two ``tf.lookup.StaticHashTable`` with int64 ids.
        """
        if path is not None:
            if self.needs_escapes():
                raise ValueError(
                    "A vocabulary with line breaks or backslashes in its tokens cannot initialize tables "
                    f"from its file line by line; use path=None. Received: path={path!r}"
                )
            with tf.init_scope():
                by_line = tf.lookup.TextFileIndex
                token_to_id = tf.lookup.StaticHashTable(
                    tf.lookup.TextFileInitializer(path, tf.string, by_line.WHOLE_LINE, tf.int64, by_line.LINE_NUMBER),
                    default_value=np.int64(UNKNOWN_ID),
                )
                id_to_token = tf.lookup.StaticHashTable(
                    tf.lookup.TextFileInitializer(path, tf.int64, by_line.LINE_NUMBER, tf.string, by_line.WHOLE_LINE),
                    default_value=UNKNOWN_TOKEN,
                )
            return token_to_id, id_to_token
        with tf.init_scope():
            keys = tf.constant(self._tokens, dtype=tf.string)
            ids = tf.range(len(self._tokens), dtype=tf.int64)
            token_to_id = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(keys, ids), default_value=np.int64(UNKNOWN_ID)
            )
            id_to_token = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(ids, keys), default_value=UNKNOWN_TOKEN
            )
        return token_to_id, id_to_token

    def save(self, path):
        """Writes the vocabulary to ``path``, one (escaped) token per line.

        Args:
            path: the file to write; its folder must exist.

        Returns:
            ``path``.

        Raises:
            OSError: the file cannot be written (the error names ``path``).
            TypeError: ``path`` is not a path.
        """
        write_lines(path, self._tokens)
        logger.info("Saved a vocabulary of %d tokens to %s", len(self), path)
        return path

    @classmethod
    def load(cls, path):
        """Reads a vocabulary written by ``save``.

        Errors name the file, the line and what is wrong, never the file's text.

        Args:
            path: a UTF-8 text file, one token per line, the four reserved tokens first.

        Returns:
            A ``Vocabulary``.

        Raises:
            FileNotFoundError: the file does not exist.
            IsADirectoryError: ``path`` is a folder.
            ValueError: not a regular file, empty or not UTF-8, lacks the reserved tokens, or has an
                empty, duplicate or badly escaped token (the error names the file and line).

        Example:
        >>> import os, pathlib, tempfile
        >>> from seqrecipes import data
        >>> path = data.Vocabulary(["말이", "있는"]).save(os.path.join(tempfile.mkdtemp(), "vocab.txt"))
        >>> data.Vocabulary.load(path).tokens[4:]
        ['말이', '있는']
        >>> bad = pathlib.Path(tempfile.mkdtemp(), "bad.txt")
        >>> _ = bad.write_text("root:x:0:0:secret")
        >>> data.Vocabulary.load(bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: `path` must be a vocabulary file whose first four lines are ... (line 1 is not '[PAD]')
        """
        return cls(_read_tokens(path, "path"))

    @classmethod
    def from_counts(cls, counts, max_size=None, min_frequency=1):
        """Keeps the most frequent tokens of a ``{token: count}`` mapping.

        Tokens are ordered by decreasing count, ties broken by the token's code points, so the
        result does not depend on the order in which the data was read.

        Args:
            counts: a mapping from token (str or UTF-8 bytes) to its count.
            max_size: the largest vocabulary size, the four reserved tokens included; ``None``
                keeps every token that passes ``min_frequency``.
            min_frequency: the smallest count a token needs to enter.

        Returns:
            A ``Vocabulary``.

        Raises:
            TypeError: ``counts`` is not a mapping of string tokens.
            ValueError: a count is not an integer >= 0, ``counts`` holds no token, no token
                passes the limits (an empty vocabulary), or bad limits.
        """
        _check_limits(max_size, min_frequency)
        if not isinstance(counts, collections.abc.Mapping):
            raise TypeError(f"`counts` must be a mapping from token to count. Received: counts={type(counts).__name__}")
        merged = collections.Counter()
        for token, count in counts.items():
            if isinstance(count, bool) or not isinstance(count, numbers.Integral) or count < 0:
                raise ValueError(f"`counts` must map each token to an integer >= 0. Received: counts[{token!r:.80}]={count!r:.80}")
            if not isinstance(token, (str, bytes)):
                raise TypeError(f"`counts` must have string tokens as keys. Received: counts={{{token!r:.80}: ...}}")
            token = _to_text(token)
            if token in RESERVED_TOKENS or token == "":
                continue
            merged[token] += int(count)
        if not merged:
            raise _NoTokensError(
                "`counts` must hold at least one token besides the reserved ones: the vocabulary would be "
                f"empty. Received: counts={dict(counts)!r:.80}"
            )
        kept = sorted((t for t, c in merged.items() if c >= min_frequency), key=lambda t: (-merged[t], t))
        if max_size is not None:
            kept = kept[: max_size - len(RESERVED_TOKENS)]
        if not kept:
            raise ValueError(
                f"The vocabulary would be empty: none of the {len(merged)} distinct tokens in the data "
                f"occurs at least min_frequency times. Received: min_frequency={min_frequency}, "
                f"max_size={max_size}"
            )
        logger.info("Built a vocabulary of %d tokens from %d distinct tokens", len(kept) + 4, len(merged))
        return cls(kept)

    @classmethod
    def build(cls, dataset, max_size=None, min_frequency=1):
        """Counts the tokens of a ``tf.data.Dataset`` and keeps the most frequent.

        Args:
            dataset: a ``tf.data.Dataset`` whose elements are string tokens of any shape, dense or
                ragged (for example a tokenizer's split of a batch of sentences).
            max_size: the largest vocabulary size, the four reserved tokens included.
            min_frequency: the smallest count a token needs to enter.

        Returns:
            A ``Vocabulary``.

        Raises:
            TypeError: ``dataset`` is not a ``tf.data.Dataset``.
            ValueError: the dataset holds no token, or none passes the limits.

        Example:
        >>> import tensorflow as tf
        >>> from seqrecipes import data
        >>> words = tf.data.Dataset.from_tensor_slices([["a", "b", "a"], ["a", "c", "b"]])
        >>> data.Vocabulary.build(words, min_frequency=2).tokens
        ['[PAD]', '[UNK]', '[START]', '[END]', 'a', 'b']
        """
        if not isinstance(dataset, tf.data.Dataset):
            raise TypeError(f"`dataset` must be a tf.data.Dataset. Received: dataset={type(dataset).__name__}")
        _check_limits(max_size, min_frequency)

        def unique_counts(tokens):
            if isinstance(tokens, tf.RaggedTensor):
                tokens = tokens.flat_values
            unique, _, count = tf.unique_with_counts(tf.reshape(tokens, [-1]))
            return unique, count

        counts = collections.Counter()
        for unique, count in dataset.map(unique_counts).as_numpy_iterator():
            for token, n in zip(unique.tolist(), count.tolist()):
                counts[token] += n
        if not any(_to_text(token) not in RESERVED_TOKENS and token not in ("", b"") for token in counts):
            raise _NoTokensError(
                "`dataset` must hold at least one token besides the reserved ones: the vocabulary would be "
                f"empty. Received: dataset with {sum(counts.values())} tokens"
            )
        return cls.from_counts(counts, max_size=max_size, min_frequency=min_frequency)


def _check_limits(max_size, min_frequency):
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= 4):
        raise ValueError(
            "`max_size` counts the four reserved tokens and must be an integer above 4, or None. "
            f"Received: max_size={max_size!r}"
        )
    check_positive_int("min_frequency", min_frequency)


def _read_tokens(path, name):  # the reserved tokens first, as ``read_vocabulary_file`` checks
    return read_vocabulary_file(path, name, RESERVED_TOKENS)
