"""The token list every seqrecipes tokenizer shares: reserved ids, building from data, file I/O.

Reserved tokens always take the first four ids, in this order:

    id 0  "[PAD]"    padding (the value every padding step fills with)
    id 1  "[UNK]"    unknown: any token not in the vocabulary maps here
    id 2  "[START]"  start of a decoder sequence (teacher forcing, decoding loops)
    id 3  "[END]"    end of a sequence

Ordinary tokens follow from id 4, most frequent first.
"""

import collections
import logging
import os

import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int

logger = logging.getLogger(__name__)

PAD_TOKEN = "[PAD]"
UNKNOWN_TOKEN = "[UNK]"
START_TOKEN = "[START]"
END_TOKEN = "[END]"
RESERVED_TOKENS = (PAD_TOKEN, UNKNOWN_TOKEN, START_TOKEN, END_TOKEN)
PAD_ID, UNKNOWN_ID, START_ID, END_ID = 0, 1, 2, 3


def _escape(token):
    return token.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")


def _unescape(line, path, line_number):
    out = []
    chars = iter(line)
    for char in chars:
        if char != "\\":
            out.append(char)
            continue
        following = next(chars, None)
        if following not in ("\\", "n", "r"):
            raise ValueError(
                f"{path}:{line_number}: a backslash in a vocabulary file must start one of the escapes "
                f"'\\\\', '\\n' or '\\r'. Received: line={line!r}"
            )
        out.append({"\\": "\\", "n": "\n", "r": "\r"}[following])
    return "".join(out)


def _to_text(token):
    if isinstance(token, bytes):
        return token.decode("utf-8", errors="replace")
    if isinstance(token, np.str_):
        return str(token)
    if not isinstance(token, str):
        raise TypeError(f"Vocabulary tokens must be strings. Received: token={token!r}")
    return token


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
        tokens = [_to_text(token) for token in tokens]
        if tuple(tokens[: len(RESERVED_TOKENS)]) == RESERVED_TOKENS:
            tokens = tokens[len(RESERVED_TOKENS) :]
        seen = {}
        for position, token in enumerate(tokens):
            if token == "":
                raise ValueError(f"A vocabulary token must not be empty. Received: tokens[{position}]=''")
            if token in RESERVED_TOKENS:
                raise ValueError(
                    f"Reserved token {token!r} may only appear as one of the first four entries "
                    f"{list(RESERVED_TOKENS)}. Received: tokens[{position}]={token!r}"
                )
            if token in seen:
                raise ValueError(
                    f"Duplicate vocabulary token {token!r} at positions {seen[token]} and {position}. "
                    f"Received: tokens[{position}]={token!r}"
                )
            seen[token] = position
        if not tokens:
            raise ValueError(
                "The vocabulary is empty: it needs at least one token besides the reserved "
                f"{list(RESERVED_TOKENS)}. Received: tokens={tokens}"
            )
        self._tokens = list(RESERVED_TOKENS) + tokens
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
        """The token with id ``token_id``; raises ValueError outside ``[0, len(self))``."""
        token_id = int(token_id)
        if not 0 <= token_id < len(self._tokens):
            raise ValueError(
                f"Token id out of range [0, {len(self._tokens) - 1}]. Received: token_id={token_id}"
            )
        return self._tokens[token_id]

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
        """
        with open(path, "w", encoding="utf-8", newline="") as file:
            for token in self._tokens:
                file.write(_escape(token) + "\n")
        logger.info("Saved a vocabulary of %d tokens to %s", len(self), path)
        return path

    @classmethod
    def load(cls, path):
        """Reads a vocabulary written by ``save``.

        Args:
            path: a UTF-8 text file, one token per line, the four reserved tokens first.

        Returns:
            A ``Vocabulary``.

        Raises:
            FileNotFoundError: the file does not exist.
            ValueError: the file is empty, lacks the reserved tokens, or has an empty,
                duplicate or badly escaped token (the error names the file and line).
        """
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Vocabulary file not found. Received: path={path!r}")
        with open(path, "rb") as file:
            text = file.read().decode("utf-8", errors="replace")
        if text.endswith("\n"):
            text = text[:-1]
        if not text:
            raise ValueError(f"The vocabulary file is empty. Received: path={path!r}")
        lines = text.split("\n")
        tokens = []
        for number, line in enumerate(lines, start=1):
            if line == "":
                raise ValueError(f"{path}:{number}: empty line in a vocabulary file. Received: line=''")
            tokens.append(_unescape(line, path, number))
        if tuple(tokens[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            raise ValueError(
                f"{path}: the first four lines of a vocabulary file must be the reserved tokens "
                f"{list(RESERVED_TOKENS)}. Received: first lines={tokens[:4]}"
            )
        first_line = {}
        for number, token in enumerate(tokens, start=1):
            if token in first_line:
                raise ValueError(
                    f"{path}:{number}: duplicate vocabulary token (first on line {first_line[token]}). "
                    f"Received: token={token!r}"
                )
            first_line[token] = number
        return cls(tokens)

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
            ValueError: no token passes the limits (an empty vocabulary), or bad limits.
        """
        _check_limits(max_size, min_frequency)
        merged = collections.Counter()
        for token, count in counts.items():
            token = _to_text(token)
            if token in RESERVED_TOKENS or token == "":
                continue
            merged[token] += int(count)
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
        return cls.from_counts(counts, max_size=max_size, min_frequency=min_frequency)


def _check_limits(max_size, min_frequency):
    if max_size is not None and (isinstance(max_size, bool) or not isinstance(max_size, int) or max_size <= 4):
        raise ValueError(
            "`max_size` counts the four reserved tokens and must be an integer above 4, or None. "
            f"Received: max_size={max_size!r}"
        )
    check_positive_int("min_frequency", min_frequency)
