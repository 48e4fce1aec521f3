"""SentencePiece tokenizer: a reversible subword model trained on raw text (needs `sentencepiece`)."""

import base64
import io
import os

import keras
import tensorflow as tf

from seqrecipes._checks import check_choice
from seqrecipes.data.strings import text_dataset
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
    ``get_config`` carries the model as base64 text.

    Args:
        proto: ``None`` (call ``adapt``), the serialized model (bytes), or the path of a
            ``.model`` file. The model's first four pieces must be the reserved tokens.
        model_type: ``"unigram"`` (default), ``"bpe"``, ``"char"`` or ``"word"`` for ``adapt``.
        lowercase: have ``adapt`` train a case-folding model (``nmt_nfkc_cf``); the model itself
            then folds the case when it tokenizes.
        max_size: the vocabulary size ``adapt`` trains at most, reserved tokens included (a
            SentencePiece model needs a limit; there is no ``min_frequency``).
        sequence_length, dtype, **kwargs: as in ``Tokenizer``.

    Call arguments and returns: those of ``Tokenizer``, one id per piece.

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
        """Sets the SentencePiece model from bytes, a ``.model`` path, or base64 text (``get_config``)."""
        if proto is None:
            self.proto = None
            self.vocabulary = None
            return
        if isinstance(proto, (str, os.PathLike)) and os.path.isfile(os.fspath(proto)):
            with open(os.fspath(proto), "rb") as file:
                proto = file.read()
        elif isinstance(proto, str):
            try:
                proto = base64.b64decode(proto.encode("ascii"), validate=True)
            except (ValueError, UnicodeEncodeError) as error:
                raise FileNotFoundError(f"SentencePiece model file not found. Received: proto={proto!r:.80}") from error
        if not isinstance(proto, bytes) or not proto:
            raise TypeError(f"`proto` must be a serialized SentencePiece model or its path. Received: proto={type(proto).__name__}")
        import tensorflow_text

        with tf.init_scope():
            sentence_piece = tensorflow_text.SentencepieceTokenizer(model=proto, out_type=tf.int32)
            size = int(sentence_piece.vocab_size())
            pieces = sentence_piece.id_to_string(tf.range(size)).numpy().tolist()
        if tuple(p.decode("utf-8") for p in pieces[: len(RESERVED_TOKENS)]) != RESERVED_TOKENS:
            raise ValueError(
                "The SentencePiece model's first four pieces must be the reserved tokens "
                f"{list(RESERVED_TOKENS)}; train it with adapt(). Received: first pieces={pieces[:4]}"
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
            ValueError: the data holds no text.
        """
        try:
            import sentencepiece
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("SentencePieceTokenizer.adapt needs the `sentencepiece` package: pip install sentencepiece") from error
        sentences = text_dataset(data, batch_size).unbatch()
        sentences = [s for s in sentences.as_numpy_iterator() if s.strip()]
        if not sentences:
            raise ValueError(f"SentencePieceTokenizer.adapt got no text. Received: data={data!r:.80}")
        model = io.BytesIO()
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
        self.set_proto(model.getvalue())
        return self

    def save_vocabulary(self, path):
        """Writes the binary SentencePiece model to ``path`` and returns the path."""
        self._check_vocabulary()
        with open(path, "wb") as file:
            file.write(self.proto)
        return path

    def load_vocabulary(self, path):
        """Reads a SentencePiece ``.model`` file; returns ``self``."""
        if not os.path.isfile(os.fspath(path)):
            raise FileNotFoundError(f"SentencePiece model file not found. Received: path={path!r}")
        self.set_proto(os.fspath(path))
        return self

    def encode(self, strings):
        return tf.cast(self._sentence_piece.tokenize(strings), tf.int64)

    def decode(self, ids):
        return self._sentence_piece.detokenize(tf.cast(ids, tf.int32))

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



