"""data.WordTokenizer: the split rules, seed 002's words, vocabulary limits."""

import tensorflow as tf

from seqrecipes import data

from data_helpers import SEED_002, texts


def test_word_split_rules():
    strings = tf.constant(["Hi, you.  don't\u3000stop\u00a0now!", "말이다.", "  a\tb\nc  "])
    assert data.split_words(strings).to_list() == [
        [b"Hi", b",", b"you", b".", b"don", b"'", b"t", "stop".encode(), b"now", b"!"],
        ["말이다".encode(), b"."],
        [b"a", b"b", b"c"],
    ]
    lowered = data.split_words(tf.constant(["ÀB Çd"]), lowercase=True, split_punctuation=False)
    assert lowered.to_list() == [["àb".encode(), "çd".encode()]]
    assert data.split_words(tf.constant(["a,b 1+2"]), split_punctuation=False).to_list() == [[b"a,b", b"1+2"]]


def test_word_tokenizer_seed_sentences():
    tokenizer = data.WordTokenizer().adapt(SEED_002)
    assert tokenizer.get_vocabulary() == [
        "[PAD]", "[UNK]", "[START]", "[END]",
        "말이",  # 4 times
        "가는", "경마장에", "고와야", "곱다", "그의", "뛰고", "법이다", "오는", "있는", "있다",
    ]  # fmt: skip
    assert tokenizer.tokenize("그의 말이 빠르다").numpy().tolist() == [9, 4, 1]
    assert texts(tokenizer.detokenize(tokenizer.tokenize(SEED_002))) == SEED_002
    assert tokenizer.detokenize(tokenizer.tokenize("  그의   말이 ")).numpy().decode("utf-8") == "그의 말이"


def test_word_tokenizer_min_frequency_and_max_size():
    text = ["the cat sat", "the cat ran", "the dog"]
    assert data.WordTokenizer(min_frequency=2).adapt(text).get_vocabulary()[4:] == ["the", "cat"]
    assert data.WordTokenizer(max_size=5).adapt(text).get_vocabulary()[4:] == ["the"]
    tokenizer = data.WordTokenizer(min_frequency=2, lowercase=True).adapt(text)
    assert tokenizer.tokenize("The DOG, the cat.").numpy().tolist() == [4, 1, 1, 4, 5, 1]
    assert tokenizer.detokenize([4, 1, 5]).numpy().decode() == "the [UNK] cat"
    restored = data.WordTokenizer.from_config(tokenizer.get_config())
    assert restored.get_config() == tokenizer.get_config()
