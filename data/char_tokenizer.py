"""Character-level tokenizer: one token per Unicode code point (Korean syllables and jamo alike)."""

import keras
import tensorflow as tf

from seqrecipes.data.tokenizer import Tokenizer


@keras.saving.register_keras_serializable(package="seqrecipes")
class CharTokenizer(Tokenizer):
    """Splits text into Unicode code points and maps each to an id.

    Every code point is a token: a precomposed Hangul syllable (``"경"``, U+ACBD) is one token and
    a conjoining or compatibility jamo (``"ᄀ"``, ``"ㄱ"``) is one token, so NFC and NFD spellings
    of the same Korean text tokenize differently (normalize first if your data mixes them).
    Spaces, tabs and line breaks are tokens too, so ``detokenize(tokenize(s)) == s`` for every
    string whose characters are all in the vocabulary. Invalid UTF-8 bytes become U+FFFD.

    Built on ``tf.strings.unicode_split`` and ``tf.lookup.StaticHashTable``: core TensorFlow ops
    only, so a SavedModel holding this layer loads in stock TensorFlow Serving.

    Args:
        vocabulary, sequence_length, lowercase, max_size, min_frequency, dtype, **kwargs: as in
            ``Tokenizer`` (``vocabulary``: characters).

    Call arguments and returns: those of ``Tokenizer``, one id per character.

    Example:
    >>> from seqrecipes import data
    >>> tokenizer = data.CharTokenizer().adapt(["경마장에 있는 말이 뛰고 있다"])
    >>> ids = tokenizer.tokenize("경마장에 있는 말이 뛰고 있다")
    >>> tokenizer.detokenize(ids).numpy().decode("utf-8")
    '경마장에 있는 말이 뛰고 있다'
    >>> tokenizer.start_id, tokenizer.end_id, tokenizer.vocabulary_size()
    (2, 3, 16)

    References:
        Karpathy, "The Unreasonable Effectiveness of Recurrent Neural Networks", 2015 (char-RNN);
        seed 002 and seed 004, the character-level RNN language model.
    """

    def split(self, strings):
        return tf.strings.unicode_split(strings, "UTF-8", errors="replace", replacement_char=0xFFFD)

    def join_tokens(self, tokens):
        return tf.strings.reduce_join(tokens, axis=-1)
