"""Word-level tokenizer: whitespace and punctuation splitting with documented rules."""

import keras
import tensorflow as tf

from seqrecipes._checks import check_bool
from seqrecipes.data.tokenizer import Tokenizer

# Unicode punctuation (P*) and symbols (S*): each such character is a token of its own.
PUNCTUATION_PATTERN = r"([\p{P}\p{S}])"
# ASCII whitespace and Unicode space separators (Z*: no-break space, ideographic space, ...).
WHITESPACE_PATTERN = r"[\s\p{Z}]+"


@keras.saving.register_keras_serializable(package="seqrecipes")
class WordTokenizer(Tokenizer):
    """Splits text into words and maps each to an id.

    Split rules, applied in this order:

    1. bytes that are not valid UTF-8 become U+FFFD;
    2. with ``lowercase``, the text is lower-cased (Unicode-aware);
    3. with ``split_punctuation`` (the default), every punctuation or symbol character
       (Unicode categories P and S: ``. , ! ? ' " ( ) - + $ %`` ...) becomes a token of its own,
       so ``"말이다."`` gives ``["말이다", "."]`` and ``"don't"`` gives ``["don", "'", "t"]``;
    4. the text splits on runs of whitespace (ASCII whitespace and the Unicode space separators,
       such as the no-break and the ideographic space); empty tokens never appear.

    ``detokenize`` joins tokens with one space. It therefore inverts ``tokenize`` exactly for
    text in canonical form (in-vocabulary tokens separated by single spaces, such as
    ``"경마장에 있는 말이 뛰고 있다"``); otherwise it returns the canonical form
    (``"Hi, you."`` -> ``"Hi , you ."``).

    Core TensorFlow ops only (``tf.strings.regex_replace``, ``tf.strings.split``, hash tables).

    Args:
        split_punctuation: True to make punctuation and symbol characters separate tokens.
        vocabulary, sequence_length, lowercase, max_size, min_frequency, dtype, **kwargs: as in
            ``Tokenizer`` (``vocabulary``: words).

    Call arguments and returns: those of ``Tokenizer``, one id per word.

    Example:
    >>> from seqrecipes import data
    >>> sentences = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]
    >>> tokenizer = data.WordTokenizer().adapt(sentences)
    >>> tokenizer.get_vocabulary()[4:7]
    ['말이', '가는', '경마장에']
    >>> tokenizer.tokenize("그의 말이 빠르다").numpy().tolist()
    [9, 4, 1]

    References:
        seed 002 (word-level RNN language model); ``keras.layers.TextVectorization``
        (``split="whitespace"``).
    """

    def __init__(
        self,
        vocabulary=None,
        sequence_length=None,
        lowercase=False,
        split_punctuation=True,
        max_size=None,
        min_frequency=1,
        **kwargs,
    ):
        self.split_punctuation = check_bool("split_punctuation", split_punctuation)
        super().__init__(vocabulary, sequence_length, lowercase, max_size=max_size, min_frequency=min_frequency, **kwargs)

    def split(self, strings):
        return split_words(strings, split_punctuation=self.split_punctuation)

    def join_tokens(self, tokens):
        return tf.strings.reduce_join(tokens, axis=-1, separator=" ")

    def get_config(self):
        config = super().get_config()
        config["split_punctuation"] = self.split_punctuation
        return config


def split_words(strings, lowercase=False, split_punctuation=True):
    """The split rules of ``WordTokenizer`` on a 1-D tensor of valid UTF-8 strings (ragged output).

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> data.split_words(tf.constant(["Hi, you.", "don't  stop"])).to_list()
    [[b'Hi', b',', b'you', b'.'], [b'don', b"'", b't', b'stop']]
    """
    if lowercase:
        strings = tf.strings.lower(strings, encoding="utf-8")
    if split_punctuation:
        strings = tf.strings.regex_replace(strings, PUNCTUATION_PATTERN, r" \1 ")
    strings = tf.strings.regex_replace(strings, WHITESPACE_PATTERN, " ")
    return tf.strings.split(strings)
