"""data.CharTokenizer: exact ids, exact round trips (Korean included), bad bytes, shapes."""

import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import SEED_002, texts


def test_char_tokenizer_seed_sentences_exact_ids_and_round_trip():
    tokenizer = data.CharTokenizer().adapt(SEED_002)
    vocabulary = tokenizer.get_vocabulary()
    assert vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    # Most frequent first: 10 spaces, 5 "이", 4 "말", ...
    assert vocabulary[4:7] == [" ", "이", "말"]
    assert tokenizer.vocabulary_size() == len(set("".join(SEED_002))) + 4
    ids = tokenizer.tokenize("말이 있다")
    expected = [vocabulary.index(c) for c in "말이 있다"]
    assert ids.numpy().tolist() == expected == [6, 5, 4, vocabulary.index("있"), vocabulary.index("다")]
    assert texts(tokenizer.detokenize(tokenizer.tokenize(SEED_002))) == SEED_002
    assert tokenizer.detokenize(ids).numpy().decode("utf-8") == "말이 있다"


def test_char_tokenizer_jamo_syllables_and_whitespace_round_trip():
    text = ["ㄱㄴㄷ 가나다", "가\n\tend", "한국어 ㅎㅏㄴ"]
    tokenizer = data.CharTokenizer().adapt(text)
    assert texts(tokenizer.detokenize(tokenizer.tokenize(text))) == text
    # Compatibility jamo, conjoining jamo and syllables are all separate code points.
    assert len(tokenizer.tokenize("ㄱ가ᄀ").numpy()) == 3


def test_char_tokenizer_unknown_and_invalid_utf8_never_raise():
    tokenizer = data.CharTokenizer(vocabulary=["a", "b", "\ufffd"])
    ids = tokenizer.tokenize([b"ab\xff\xfe", "a말".encode("utf-8"), b"\xc3"])
    assert ids.to_list() == [[4, 5, 6, 6], [4, 1], [6]]
    assert texts(tokenizer.detokenize(ids)) == ["ab\ufffd\ufffd", "a[UNK]", "\ufffd"]


def test_char_tokenizer_shapes_of_outputs():
    tokenizer = data.CharTokenizer(vocabulary=list("abc"), sequence_length=3)
    assert tokenizer.tokenize(["abca", "b"]).numpy().tolist() == [[4, 5, 6], [5, 0, 0]]
    assert tokenizer.tokenize("c").numpy().tolist() == [6, 0, 0]
    assert tokenizer(tf.constant([["a", "bb"]])).numpy().tolist() == [[[4, 0, 0], [5, 5, 0]]]
    ragged = data.CharTokenizer(vocabulary=list("abc"))
    assert ragged.tokenize([["a", "bc"], ["cc", ""]]).to_list() == [[[4], [5, 6]], [[6, 6], []]]
    assert ragged.tokenize(tf.ragged.constant([["ab"], ["c", "a"]])).to_list() == [[[4, 5]], [[6], [4]]]
    assert ragged.tokenize("").numpy().tolist() == []
    assert ragged.tokenize(["ab"]).dtype == tf.int32
    assert data.CharTokenizer(vocabulary=["a"], dtype="int64").tokenize("a").dtype == tf.int64


def test_char_tokenizer_lowercase_limits_and_errors():
    tokenizer = data.CharTokenizer(lowercase=True, max_size=6, min_frequency=2).adapt(["AAab", "Bcd"])
    assert tokenizer.get_vocabulary()[4:] == ["a", "b"]
    assert tokenizer.tokenize("AbC").numpy().tolist() == [4, 5, 1]
    with pytest.raises(ValueError, match=r"no vocabulary yet.*Received: vocabulary=None"):
        data.CharTokenizer().tokenize("a")
    with pytest.raises(ValueError, match=r"`data` must hold some text.*Received: data=\['', ''\]"):
        data.CharTokenizer().adapt(["", ""])
    with pytest.raises(ValueError, match=r"vocabulary would be empty.*Received: min_frequency=2"):
        data.CharTokenizer(min_frequency=2).adapt(["ab"])
    with pytest.raises(ValueError, match=r"Received: sequence_length=0"):
        data.CharTokenizer(sequence_length=0)
    with pytest.raises(ValueError, match=r"`dtype` of a tokenizer must be one of \['int32', 'int64'\]. Received: dtype='float32'"):
        data.CharTokenizer(dtype="float32")
    with pytest.raises(TypeError, match=r"must hold strings. Received: inputs.dtype=int32"):
        data.CharTokenizer(vocabulary=["a"]).tokenize([1, 2])
