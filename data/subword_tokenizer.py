"""Subword tokenizer: WordPiece over words split by the WordTokenizer rules, vocabulary learnt by keras-hub."""

import keras
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.data.strings import no_text_error, text_dataset
from seqrecipes.data.vocabulary import RESERVED_TOKENS, UNKNOWN_TOKEN, Vocabulary
from seqrecipes.data.word_tokenizer import WordTokenizer


@keras.saving.register_keras_serializable(package="seqrecipes")
class SubwordTokenizer(WordTokenizer):
    """WordPiece: words split into the longest vocabulary pieces, continuations marked ``##``.

    A ``WordTokenizer`` whose words are cut further: text is first split into words by exactly its
    rules (invalid UTF-8 replaced, optional lower-casing, punctuation and symbols as their own
    words, whitespace), then
    every word is cut greedily into the longest pieces of the vocabulary (``"경마장에"`` ->
    ``["경", "##마", "##장", "##에"]`` with a small vocabulary, ``["경마장", "##에"]`` with a larger
    one). A word that cannot be covered becomes one ``"[UNK]"``.

    ``adapt`` learns the vocabulary with ``keras_hub.tokenizers.compute_word_piece_vocabulary``
    (the BERT WordPiece learner) with seqrecipes' reserved tokens in front. Tokenizing runs
    ``tensorflow_text.FastWordpieceTokenizer``, the op inside ``keras_hub.tokenizers.WordPieceTokenizer``;
    it is a TensorFlow Text op, so a process that loads a SavedModel with this layer must
    ``import tensorflow_text`` first (``CharTokenizer`` and ``WordTokenizer`` need core ops only).

    ``detokenize`` glues ``##`` pieces to their word and joins words with one space, so it inverts
    ``tokenize`` for in-vocabulary text in canonical form (as ``WordTokenizer``).

    Args:
        suffix_indicator: the mark of a piece that continues a word.
        max_size: the vocabulary size ``adapt`` learns at most, reserved tokens included (a
            WordPiece vocabulary needs a limit; there is no ``min_frequency``).
        vocabulary, sequence_length, lowercase, split_punctuation, dtype, **kwargs: as in
            ``WordTokenizer`` (``vocabulary``: WordPiece tokens).

    Call arguments and returns: those of ``Tokenizer``, one id per piece.

    Example:
    >>> from seqrecipes import data
    >>> vocab = ["경마장", "말", "##이", "##에", "있는"]
    >>> tokenizer = data.SubwordTokenizer(vocabulary=vocab)
    >>> tokenizer.tokenize("경마장에 있는 말이").numpy().tolist()
    [4, 7, 8, 5, 6]
    >>> tokenizer.detokenize([4, 7, 8, 5, 6]).numpy().decode("utf-8")
    '경마장에 있는 말이'

    References:
        Schuster and Nakajima, "Japanese and Korean voice search", ICASSP 2012; Wu et al.,
        "Google's neural machine translation system", 2016; Song et al., "Fast WordPiece
        tokenization", EMNLP 2021.
    """

    def __init__(
        self,
        vocabulary=None,
        sequence_length=None,
        lowercase=False,
        split_punctuation=True,
        suffix_indicator="##",
        max_size=8000,
        **kwargs,
    ):
        if not isinstance(suffix_indicator, str) or not suffix_indicator:
            raise ValueError(f"`suffix_indicator` must be a non-empty string. Received: suffix_indicator={suffix_indicator!r}")
        if max_size is None:
            raise ValueError("A WordPiece vocabulary needs a size limit. Received: max_size=None")
        self.suffix_indicator = suffix_indicator
        kwargs.pop("min_frequency", None)
        super().__init__(vocabulary, sequence_length, lowercase, split_punctuation, max_size=max_size, **kwargs)

    def set_vocabulary(self, vocabulary):
        super().set_vocabulary(vocabulary)
        if self.vocabulary is None:
            return
        import tensorflow_text

        with tf.init_scope():
            self._word_piece = tensorflow_text.FastWordpieceTokenizer(
                vocab=self.vocabulary.tokens,
                suffix_indicator=self.suffix_indicator,
                unknown_token=UNKNOWN_TOKEN,
                no_pretokenization=True,
                support_detokenization=True,
                token_out_type=tf.int64,
            )

    def adapt(self, data, batch_size=256):
        """Learns a WordPiece vocabulary of at most ``max_size`` tokens from text.

        The arguments and the result are those of ``Tokenizer.adapt``.

        Raises:
            TypeError: ``data`` does not hold strings.
            ValueError: ``data`` holds no words (no strings, or only empty or blank ones).
        """
        import keras_hub

        batch_size = check_positive_int("batch_size", batch_size)
        words = text_dataset(data, batch_size).map(self._split)
        # The WordPiece learner stops with a bare StopIteration on data without words: count them first.
        if int(words.reduce(tf.constant(0, tf.int64), lambda count, w: count + tf.size(w.flat_values, tf.int64))) == 0:
            raise no_text_error(data)
        tokens = keras_hub.tokenizers.compute_word_piece_vocabulary(
            words,
            vocabulary_size=self.max_size,
            split=False,
            suffix_indicator=self.suffix_indicator,
            reserved_tokens=list(RESERVED_TOKENS),
        )
        if len(tokens) <= len(RESERVED_TOKENS):
            raise no_text_error(data)
        self.set_vocabulary(Vocabulary(tokens))
        return self

    def encode(self, strings):
        pieces = self._word_piece.tokenize(self._split(strings))  # [B, words, pieces]
        return pieces.merge_dims(1, 2)

    def decode(self, ids):
        return self._word_piece.detokenize(ids)

    def get_config(self):
        config = super().get_config()
        config.pop("min_frequency", None)
        config["suffix_indicator"] = self.suffix_indicator
        return config
