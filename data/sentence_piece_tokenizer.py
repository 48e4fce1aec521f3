"""SentencePiece tokenizer: a reversible subword model trained on raw text (needs `sentencepiece`)."""

import base64
import binascii
import functools
import io
import os
import re
import uuid

import keras
import tensorflow as tf

from seqrecipes._checks import check_choice, check_positive_int
from seqrecipes.data.strings import no_text_error, text_dataset
from seqrecipes.data.tokenizer import Tokenizer
from seqrecipes.data.vocabulary import RESERVED_TOKENS, Vocabulary

MODEL_TYPES = ("unigram", "bpe", "char", "word")


@keras.saving.register_keras_serializable(package="seqrecipes")
class SentencePieceTokenizer(Tokenizer):
    """SentencePiece (unigram or BPE) with seqrecipes' reserved ids 0-3.

    SentencePiece treats the text as a stream of Unicode characters with the space as an ordinary
    symbol (written ``"▁"``), so ``detokenize(tokenize(s)) == s`` for NFKC-normalized text whose
    characters it has seen, spaces included, with no word-splitting rules. ``adapt`` trains a
    model with the ``sentencepiece`` package (an optional dependency: only this class needs it)
    and pieces ``"[PAD]"``, ``"[UNK]"``, ``"[START]"``, ``"[END]"`` at ids 0-3. Tokenizing runs
    ``tensorflow_text.SentencepieceTokenizer``, a TensorFlow Text op (``import tensorflow_text``
    before loading a SavedModel that holds this layer).

    The "vocabulary file" of this tokenizer is the binary SentencePiece model (``.model``):
    ``save_vocabulary(path)`` writes it and ``SentencePieceTokenizer(proto=path)`` reads it.
    ``get_config`` carries the model as base64 text, so a ``.keras`` file holds the model inside
    the archive; ``from_config`` takes only that base64 text (or ``None``) and never reads a file:
    a config whose ``proto`` is not base64 (a path) is refused, and a base64 text is decoded and
    parsed as a model, never opened. In Python, the two forms are told apart by type, never by
    looking at the disk: bytes are a model, a string is a path.

    Args:
        proto: ``None`` (call ``adapt``), the serialized model (bytes), or the path of a
            ``.model`` file (a string or ``os.PathLike``; base64 text is the config's form, for
            ``from_config`` only). The model's first four pieces must be the reserved tokens.
        model_type: ``"unigram"`` (default), ``"bpe"``, ``"char"`` or ``"word"`` for ``adapt``.
        lowercase: have ``adapt`` train a case-folding model (``nmt_nfkc_cf``); the model itself
            then folds the case when it tokenizes.
        max_size: the vocabulary size ``adapt`` trains at most, reserved tokens included (a
            SentencePiece model needs a limit; there is no ``min_frequency``).
        sequence_length, dtype, **kwargs: as in ``Tokenizer``.

    Call arguments and returns: those of ``Tokenizer``, one id per piece.

    Raises:
        ValueError: ``proto`` is not a SentencePiece model with the reserved pieces first (the
            error says what is wrong, never what the file holds), or a bad ``model_type``.
        FileNotFoundError: ``proto`` is a path and no file is there.
        TypeError: ``proto`` is neither bytes nor a path.

    Example:
    >>> from seqrecipes import data
    >>> text = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]
    >>> tokenizer = data.SentencePieceTokenizer(max_size=40).adapt(text * 20)
    >>> tokenizer.detokenize(tokenizer.tokenize("그의 말이 뛰고 있다")).numpy().decode("utf-8")
    '그의 말이 뛰고 있다'

    References:
        Kudo and Richardson, "SentencePiece", EMNLP 2018; Kudo, "Subword regularization", ACL 2018.
    """

    def __init__(
        self,
        proto=None,
        sequence_length=None,
        model_type="unigram",
        lowercase=False,
        max_size=8000,
        **kwargs,
    ):
        check_choice("model_type", model_type, MODEL_TYPES)
        if max_size is None:
            raise ValueError("A SentencePiece model needs a size limit. Received: max_size=None")
        self.model_type = model_type
        self.proto = None
        kwargs.pop("min_frequency", None)
        kwargs.pop("vocabulary", None)
        super().__init__(None, sequence_length, lowercase, max_size=max_size, **kwargs)
        self.set_proto(proto)

    def set_proto(self, proto):
        """Sets the SentencePiece model from its serialized bytes or the path of a ``.model`` file.

        Args:
            proto: bytes (the model), a string or ``os.PathLike`` (the path of the model file),
                or ``None`` to clear the model. Base64 text is ``from_config``'s form, not this one.

        Raises:
            ValueError: the bytes are not a SentencePiece model, or its first four pieces are not
                the reserved tokens.
            FileNotFoundError: no file at the path.
            TypeError: ``proto`` is of another type.
        """
        if proto is None:
            self.proto = None
            self.vocabulary = None
            return
        received = f"{len(proto)} bytes" if isinstance(proto, bytes) else None
        if isinstance(proto, (str, os.PathLike)):
            path = os.fspath(proto)
            received = repr(path)
            if not os.path.isfile(path):
                raise FileNotFoundError(
                    f"SentencePiece model file not found (a string `proto` is a path; pass the model as bytes). Received: proto={path!r}"
                )
            with open(path, "rb") as file:
                proto = file.read()
        if not isinstance(proto, bytes):
            raise TypeError(
                f"`proto` must be a serialized SentencePiece model (bytes) or its path. Received: proto={type(proto).__name__}"
            )
        if not proto:
            raise ValueError(f"`proto` must be a serialized SentencePiece model, not empty. Received: proto={received}")
        try:
            with tf.init_scope():
                sentence_piece = _sentence_piece_op(proto)
                size = int(sentence_piece.vocab_size())
                pieces = sentence_piece.id_to_string(tf.range(size)).numpy().tolist()
        except (tf.errors.OpError, ValueError):
            # The op's own message is left out: it may quote the bytes it could not parse.
            raise ValueError(
                f"`proto` must be a serialized SentencePiece model; it does not parse as one. Received: proto={received}"
            ) from None
        for position, (piece, reserved) in enumerate(zip(pieces + [None] * 4, RESERVED_TOKENS)):
            if piece != reserved.encode("utf-8"):
                raise ValueError(
                    "`proto` must be a SentencePiece model whose first four pieces are the reserved tokens "
                    f"{list(RESERVED_TOKENS)}; train it with adapt(). Received: proto={received} "
                    f"(piece {position} is not {reserved!r})"
                )
        self.proto = proto
        super().set_vocabulary(Vocabulary(pieces))
        self._sentence_piece = sentence_piece

    def set_vocabulary(self, vocabulary):
        if vocabulary is not None and not isinstance(vocabulary, Vocabulary):
            raise TypeError(
                "A SentencePieceTokenizer's vocabulary is its model: use set_proto(). "
                f"Received: vocabulary={type(vocabulary).__name__}"
            )
        super().set_vocabulary(vocabulary)

    def adapt(self, data, batch_size=256):
        """Trains a SentencePiece model of at most ``max_size`` pieces on text.

        The arguments and the result are those of ``Tokenizer.adapt``.

        Raises:
            ImportError: the ``sentencepiece`` package is not installed.
            TypeError: ``data`` does not hold strings.
            ValueError: ``data`` holds no text (no strings, or only empty or blank ones), or
                ``max_size`` is smaller than the text's distinct characters and the reserved tokens.
        """
        try:
            import sentencepiece
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("SentencePieceTokenizer.adapt needs the `sentencepiece` package: pip install sentencepiece") from error
        batch_size = check_positive_int("batch_size", batch_size)
        sentences = text_dataset(data, batch_size).unbatch()
        sentences = [s for s in sentences.as_numpy_iterator() if s.strip()]
        if not sentences:
            raise no_text_error(data)
        model = io.BytesIO()
        try:
            self._train(sentencepiece, sentences, model)
        except RuntimeError as error:
            # character_coverage 1.0 makes every character of the text a piece: max_size must hold them.
            needed = re.search(r"required_chars.*?(\d+) vs (\d+)", str(error), re.DOTALL)
            if needed is None:
                raise
            raise ValueError(
                f"`max_size` must be at least {needed.group(2)} for this text: every one of its characters is a "
                f"piece (with the reserved tokens), so that no text is lost to [UNK]. Received: max_size={self.max_size}"
            ) from None
        self.set_proto(model.getvalue())
        return self

    def _train(self, sentencepiece, sentences, model):
        sentencepiece.SentencePieceTrainer.train(
            sentence_iterator=iter(s.decode("utf-8") for s in sentences),
            model_writer=model,
            vocab_size=self.max_size,
            hard_vocab_limit=False,
            model_type=self.model_type,
            normalization_rule_name="nmt_nfkc_cf" if self.lowercase else "nmt_nfkc",
            character_coverage=1.0,
            pad_id=0,
            unk_id=1,
            bos_id=2,
            eos_id=3,
            pad_piece=RESERVED_TOKENS[0],
            unk_piece=RESERVED_TOKENS[1],
            bos_piece=RESERVED_TOKENS[2],
            eos_piece=RESERVED_TOKENS[3],
            minloglevel=2,
        )

    def save_vocabulary(self, path):
        """Writes the binary SentencePiece model to ``path`` and returns the path."""
        self._check_vocabulary()
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a file path. Received: path={type(path).__name__}")
        try:
            with open(path, "wb") as file:
                file.write(self.proto)
        except OSError as error:
            raise type(error)(f"`path` must be a file that can be written: {error.strerror}. Received: path={path!r}") from error
        return path

    def load_vocabulary(self, path):
        """Reads a SentencePiece ``.model`` file; returns ``self``."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"`path` must be a file path. Received: path={type(path).__name__}")
        if not os.path.isfile(os.fspath(path)):
            raise FileNotFoundError(f"SentencePiece model file not found. Received: path={path!r}")
        self.set_proto(os.fspath(path))
        return self

    def encode(self, strings):
        return tf.cast(self._sentence_piece.tokenize(strings), tf.int64)

    def decode(self, ids):
        return self._sentence_piece.detokenize(tf.cast(ids, tf.int32))

    @classmethod
    def from_config(cls, config):
        """A tokenizer from its ``get_config``: ``proto`` must be base64 text or ``None``, never a path.

        The base64 text is decoded and parsed as a model; nothing in the config is opened,
        stat-ed or resolved as a file.

        Args:
            config: a dict, as ``get_config`` returns.

        Returns:
            A ``SentencePieceTokenizer``.

        Raises:
            ValueError: ``proto`` is not base64 text (a path, say) or not a SentencePiece model.

        Example:
        >>> from seqrecipes import data
        >>> config = data.SentencePieceTokenizer().get_config()
        >>> data.SentencePieceTokenizer.from_config({**config, "proto": "/tmp/m.model"})
        Traceback (most recent call last):
        ...
        ValueError: `proto` in a config must be the model as base64 text: a config carries the model, never a file path. Received: proto='/tmp/m.model'
        """
        if not isinstance(config, dict):
            raise TypeError(f"`config` must be a dict. Received: config={type(config).__name__}")
        config = dict(config)
        proto = config.get("proto")
        if proto is not None:
            try:
                if not isinstance(proto, str):
                    raise TypeError(proto)
                config["proto"] = base64.b64decode(proto.encode("ascii"), validate=True)
            except (TypeError, UnicodeEncodeError, binascii.Error):
                received = f"{proto!r:.200}" if isinstance(proto, str) else f"a {type(proto).__name__}"
                raise ValueError(
                    "`proto` in a config must be the model as base64 text: a config carries the model, never a "
                    f"file path. Received: proto={received}"
                ) from None
        return super().from_config(config)

    def get_config(self):
        config = super().get_config()
        for key in ("vocabulary", "min_frequency"):
            config.pop(key, None)
        config.update(
            {
                "proto": None if self.proto is None else base64.b64encode(self.proto).decode("ascii"),
                "model_type": self.model_type,
            }
        )
        return config


def _sentence_piece_op(proto):
    """A ``tensorflow_text.SentencepieceTokenizer`` of ``proto`` whose model outlives the eager kernel cache.

    tensorflow_text's model resource is private to the eager kernel that created it, so anything
    that clears the eager caches (``tf.random.set_seed``, ``keras.utils.set_random_seed``) deletes
    it, and every later ``tokenize`` fails with "Resource ... does not exist". Here the resource
    gets a name of its own (``shared_name``), so the resource manager keeps it.
    """
    import tensorflow_text

    tokenizer = tensorflow_text.SentencepieceTokenizer(model=proto, out_type=tf.int32)
    named = _named_model_resource()
    if named is not None:
        tokenizer._model_resource = named(proto)
    return tokenizer


@functools.cache
def _named_model_resource():
    # Defined on first use: tensorflow_text is imported only by the tokenizers that need it. These
    # are tensorflow_text internals: without them (another version), its own private resource stays.
    from tensorflow_text.python.ops import sentencepiece_tokenizer

    if not hasattr(sentencepiece_tokenizer, "_SentencepieceModelResource") or not hasattr(
        sentencepiece_tokenizer, "gen_sentencepiece_tokenizer"
    ):
        return None

    class NamedModelResource(sentencepiece_tokenizer._SentencepieceModelResource):
        def __init__(self, model):
            self._shared_name = f"seqrecipes_sentence_piece_{uuid.uuid4().hex}"
            super().__init__(model, name=None)

        def _create_resource(self):
            with tf.name_scope("SentenceTokenizerInitializer"):
                return sentencepiece_tokenizer.gen_sentencepiece_tokenizer.sentencepiece_op(
                    model=self._model, shared_name=self._shared_name
                )

    return NamedModelResource
