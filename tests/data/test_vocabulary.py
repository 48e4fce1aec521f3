"""data.Vocabulary: reserved ids, building with size and frequency limits, the vocabulary file."""

import pytest
import tensorflow as tf

from seqrecipes import data


def test_reserved_ids_and_tokens():
    vocab = data.Vocabulary(["a", "b"])
    assert vocab.tokens == ["[PAD]", "[UNK]", "[START]", "[END]", "a", "b"]
    assert (vocab.pad_id, vocab.unknown_id, vocab.start_id, vocab.end_id) == (0, 1, 2, 3)
    assert (data.PAD_ID, data.UNKNOWN_ID, data.START_ID, data.END_ID) == (0, 1, 2, 3)
    assert vocab.token_to_id("b") == 5
    assert vocab.token_to_id("zzz") == 1
    assert vocab.id_to_token(4) == "a"
    assert len(vocab) == 6 and "a" in vocab and "zzz" not in vocab
    # A full list (reserved first) is accepted as is.
    assert data.Vocabulary(vocab.tokens) == vocab


def test_build_orders_by_count_then_code_point_and_applies_limits():
    sentences = tf.data.Dataset.from_tensor_slices(
        tf.ragged.constant([["b", "a", "c", "a"], ["c", "d", "b", "a"], ["e"]])
    )
    assert data.Vocabulary.build(sentences).tokens[4:] == ["a", "b", "c", "d", "e"]
    assert data.Vocabulary.build(sentences, min_frequency=2).tokens[4:] == ["a", "b", "c"]
    assert data.Vocabulary.build(sentences, max_size=6).tokens[4:] == ["a", "b"]
    assert data.Vocabulary.build(sentences, max_size=6, min_frequency=3).tokens[4:] == ["a"]


def test_empty_vocabulary_is_a_clear_error():
    words = tf.data.Dataset.from_tensors(["a", "b"])
    with pytest.raises(ValueError, match=r"vocabulary would be empty.*Received: min_frequency=3"):
        data.Vocabulary.build(words, min_frequency=3)
    with pytest.raises(ValueError, match=r"`dataset` must hold at least one token.*Received: dataset with 1 tokens"):
        data.Vocabulary.build(tf.data.Dataset.from_tensors([""]))
    with pytest.raises(ValueError, match=r"`counts` must hold at least one token.*Received: counts=\{'\[PAD\]': 2\}"):
        data.Vocabulary.from_counts({"[PAD]": 2})
    with pytest.raises(ValueError, match=r"vocabulary is empty.*Received: tokens=\[\]"):
        data.Vocabulary([])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"max_size": 4}, r"Received: max_size=4"),
        ({"min_frequency": 0}, r"Received: min_frequency=0"),
    ],
)
def test_bad_limits(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.Vocabulary.from_counts({"a": 1}, **kwargs)


def test_bad_tokens():
    with pytest.raises(ValueError, match=r"Duplicate vocabulary token 'a'.*Received: tokens\[2\]='a'"):
        data.Vocabulary(["a", "b", "a"])
    with pytest.raises(ValueError, match=r"Reserved token '\[UNK\]'.*Received: tokens\[1\]='\[UNK\]'"):
        data.Vocabulary(["a", "[UNK]"])
    with pytest.raises(ValueError, match=r"must not be empty"):
        data.Vocabulary(["a", ""])


def test_file_round_trip_with_line_breaks_backslashes_and_spaces(tmp_path):
    tokens = ["말", " ", "\n", "\r", "\\", "\\n", "\t", "a b"]
    vocab = data.Vocabulary(tokens)
    path = vocab.save(str(tmp_path / "vocab.txt"))
    lines = open(path, "rb").read().decode("utf-8").split("\n")
    assert lines[:5] == ["[PAD]", "[UNK]", "[START]", "[END]", "말"]
    assert lines[6:10] == ["\\n", "\\r", "\\\\", "\\\\n"]
    assert data.Vocabulary.load(path) == vocab
    assert data.Vocabulary.load(path).tokens[4:] == tokens


def test_load_of_a_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Received: path='.*missing.txt'"):
        data.Vocabulary.load(str(tmp_path / "missing.txt"))


RESERVED_LINES = "[PAD]\n[UNK]\n[START]\n[END]\n"


@pytest.mark.parametrize(
    "name, text, message",
    [
        ("empty.txt", "", r"`path` must be a vocabulary file, and the file is empty"),
        ("no_reserved.txt", "a\nb\n", r"first four lines are the reserved.*no_reserved.txt' \(line 1 is not '\[PAD\]'\)"),
        ("short.txt", "[PAD]\n[UNK]\n", r"reserved tokens.*short.txt' \(only 2 lines\)"),
        ("only_reserved.txt", RESERVED_LINES, r"at least one token.*only_reserved.txt' \(only the 4 reserved lines\)"),
        ("duplicate.txt", RESERVED_LINES + "a\nb\na\n", r"without duplicate tokens.*duplicate.txt' \(line 7 repeats line 5\)"),
        ("blank.txt", RESERVED_LINES + "a\n\nb\n", r"without empty lines.*blank.txt' \(line 6 is empty\)"),
        ("escape.txt", RESERVED_LINES + "a\\x\n", r"backslashes.*escape.txt' \(line 5, column 2: another escape\)"),
    ],
    ids=["empty", "no_reserved", "short", "only_reserved", "duplicate", "blank", "escape"],
)
def test_load_errors_name_the_file_and_line_never_its_text(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ValueError, match=message) as raised:
        data.Vocabulary.load(str(path))
    assert "Received: path=" in str(raised.value)
    for line in text.split("\n")[4:]:
        if line:
            assert repr(line) not in str(raised.value)


def test_load_of_bytes_that_are_not_utf8_names_the_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(RESERVED_LINES.encode() + b"ok\ncaf\xe9\n")
    with pytest.raises(ValueError, match=r"UTF-8 vocabulary file.*latin1.txt' \(line 6 is not UTF-8\)"):
        data.Vocabulary.load(str(path))
    with pytest.raises(IsADirectoryError, match=r"not a folder. Received: path="):
        data.Vocabulary.load(str(tmp_path))


def test_lookup_tables():
    to_id, to_token = data.Vocabulary(["a", "b"]).lookup_tables()
    assert to_id.lookup(tf.constant(["b", "a", "?", "[END]"])).numpy().tolist() == [5, 4, 1, 3]
    assert to_token.lookup(tf.constant([4, 5, 0, 99], tf.int64)).numpy().tolist() == [b"a", b"b", b"[PAD]", b"[UNK]"]
