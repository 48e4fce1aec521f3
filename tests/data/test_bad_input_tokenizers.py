"""Bad input to the tokenizers and the vocabulary: each case a clear error naming the argument, or the right answer.

Empty input has an answer: ``tokenize([])`` is a batch of no strings (no rows, of the id dtype) and
``detokenize([])`` one sequence of no ids (``""``); ``adapt`` of no text is an error naming
``data``. A config names no file (see also test_crafted_archives.py), and no error quotes a file.
"""

import atexit
import functools
import os
import shutil
import tempfile

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

from bad_input import answers, expect_clear, params, raises

KINDS = ("char", "word", "subword", "sentence_piece")
CLASSES = {
    "char": data.CharTokenizer,
    "word": data.WordTokenizer,
    "subword": data.SubwordTokenizer,
    "sentence_piece": data.SentencePieceTokenizer,
}
TEXT = ["a b ab", "b a ba", "ab ab"]
MARKER = "SECRETMARKERtokens"  # the text of the files that no message may quote


@functools.cache
def _tokenizer(kind, sequence_length=None):
    if kind == "sentence_piece":
        return data.SentencePieceTokenizer(max_size=20, sequence_length=sequence_length).adapt(TEXT * 10)
    return CLASSES[kind](vocabulary=["a", "b"], sequence_length=sequence_length)


@functools.cache
def _folder():
    folder = tempfile.mkdtemp(prefix="bad_input_tokenizers_")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _file(name, content):
    path = os.path.join(_folder(), name)
    with open(path, "wb") as file:
        file.write(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


RESERVED = "[PAD]\n[UNK]\n[START]\n[END]\n"
BAD_FILES = {
    "no_reserved_lines": f"root:x:0:0:{MARKER}:/root:/bin/bash\n",
    "duplicate_token": RESERVED + f"{MARKER}\n{MARKER}\n",
    "empty_line": RESERVED + f"{MARKER}\n\nb\n",
    "bad_escape": RESERVED + f"{MARKER}\\q\n",
    "not_utf8": (RESERVED + MARKER + "\n").encode() + b"caf\xe9\n",
    "only_reserved": RESERVED,
    "empty": "",
}


def _error_of(call):
    """``(type name, message)`` of the error ``call()`` raises; ``None`` if it returns."""
    try:
        call()
    except Exception as error:  # noqa: BLE001 - the check judges it
        return type(error).__name__, str(error)
    return None


def _clear_and_quotes_nothing(error_type, name):
    def check(error):
        return error is not None and error[0] == error_type and f"`{name}`" in error[1] and MARKER not in error[1]

    return check


def _is_ragged(shape, dtype=tf.int32):
    return lambda ids: isinstance(ids, tf.RaggedTensor) and ids.shape.as_list() == shape and ids.dtype == dtype


def _is_dense(shape, dtype=tf.int32):
    return lambda ids: isinstance(ids, tf.Tensor) and ids.shape.as_list() == shape and ids.dtype == dtype


def _texts(strings):
    return np.asarray(strings.numpy()).tolist()


def _both(function, first, second):
    """``function`` of two inputs that must give the same result, as two lists."""
    return [_as_list(function(first)), _as_list(function(second))]


def _as_list(value):
    return value.to_list() if isinstance(value, tf.RaggedTensor) else np.asarray(value).tolist()


def _same(pair):
    return pair[0] == pair[1] and len(pair[0]) > 0


def _from_config(kind, **changes):
    cls = CLASSES[kind]
    return lambda: cls.from_config({**_tokenizer(kind).get_config(), **changes})


def _other_sentence_piece_model():
    # A SentencePiece model trained with the library's own ids (unknown 0, start 1, end 2).
    import io

    import sentencepiece

    model = io.BytesIO()
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT * 10), model_writer=model, vocab_size=12, hard_vocab_limit=False, minloglevel=2
    )
    return model.getvalue()


CASES = []
for kind in KINDS:
    cls = CLASSES[kind]
    CASES += [
        # Empty input: the right answer is an empty result of the right shape and dtype.
        answers(f"{kind}_tokenize_empty_list", lambda kind=kind: _tokenizer(kind).tokenize([]), _is_ragged([0, None])),
        answers(f"{kind}_tokenize_empty_list_fixed_length", lambda kind=kind: _tokenizer(kind, 3).tokenize([]), _is_dense([0, 3])),
        answers(f"{kind}_tokenize_empty_string", lambda kind=kind: _tokenizer(kind).tokenize(""), _is_dense([0])),
        answers(f"{kind}_tokenize_ragged_empty_rows", lambda kind=kind: _tokenizer(kind).tokenize([[], []]), _is_ragged([2, 0, None])),
        # Bytes that are not UTF-8 read as U+FFFD, the documented rule.
        answers(f"{kind}_tokenize_not_utf8", lambda kind=kind: _both(_tokenizer(kind).tokenize, [b"\xff\xfe"], ["\ufffd\ufffd"]), _same),
        answers(f"{kind}_detokenize_empty_list", lambda kind=kind: _tokenizer(kind).detokenize([]), lambda s: s.shape == () and s.numpy() == b""),
        answers(f"{kind}_detokenize_empty_batch", lambda kind=kind: _tokenizer(kind).detokenize([[]]), lambda s: _texts(s) == [b""]),
        # Rows of different lengths read as a ragged batch: the same as padding them.
        answers(f"{kind}_detokenize_ragged_list", lambda kind=kind: _both(_tokenizer(kind).detokenize, [[4], [4, 5], []], [[4, 0], [4, 5], [0, 0]]), _same),
        raises(f"{kind}_adapt_empty_list", lambda cls=cls: cls().adapt([]), ValueError, "`data`"),
        raises(f"{kind}_adapt_only_empty_strings", lambda cls=cls: cls().adapt(["", ""]), ValueError, "`data`"),
        raises(f"{kind}_adapt_empty_dataset", lambda cls=cls: cls().adapt(tf.data.Dataset.from_tensor_slices(tf.constant([], tf.string))), ValueError, "`data`"),
        raises(f"{kind}_adapt_ints", lambda cls=cls: cls().adapt([1, 2]), TypeError, "`data`"),
        raises(f"{kind}_adapt_none_inside", lambda cls=cls: cls().adapt(["a b", None]), TypeError, "`data`"),
        raises(f"{kind}_adapt_dataset_of_ints", lambda cls=cls: cls().adapt(tf.data.Dataset.range(3)), TypeError, "`data`"),
        raises(f"{kind}_adapt_batch_size_0", lambda cls=cls: cls().adapt(TEXT, batch_size=0), ValueError, "`batch_size`"),
        raises(f"{kind}_tokenize_none_inside", lambda kind=kind: _tokenizer(kind).tokenize(["a", None]), TypeError, "`inputs`"),
        raises(f"{kind}_tokenize_ints", lambda kind=kind: _tokenizer(kind).tokenize([1, 2]), TypeError, "`inputs`"),
        raises(f"{kind}_tokenize_float_tensor", lambda kind=kind: _tokenizer(kind).tokenize(tf.zeros([2])), TypeError, "`inputs`"),
        raises(f"{kind}_tokenize_mixed_depth", lambda kind=kind: _tokenizer(kind).tokenize([["a"], "b"]), TypeError, "`inputs`"),
        raises(f"{kind}_detokenize_floats", lambda kind=kind: _tokenizer(kind).detokenize([1.5]), TypeError, "`ids`"),
        raises(f"{kind}_detokenize_strings", lambda kind=kind: _tokenizer(kind).detokenize(["a"]), TypeError, "`ids`"),
        raises(f"{kind}_detokenize_none_inside", lambda kind=kind: _tokenizer(kind).detokenize([4, None]), TypeError, "`ids`"),
        raises(f"{kind}_detokenize_beyond_int64", lambda kind=kind: _tokenizer(kind).detokenize([2**70]), TypeError, "`ids`"),
        raises(f"{kind}_detokenize_scalar", lambda kind=kind: _tokenizer(kind).detokenize(4), ValueError, "`ids`"),
        raises(f"{kind}_no_vocabulary_yet", lambda cls=cls: cls().tokenize(["a"]), ValueError, "vocabulary"),
        raises(f"{kind}_sequence_length_0", lambda cls=cls: cls(sequence_length=0), ValueError, "`sequence_length`"),
        raises(f"{kind}_sequence_length_float", lambda cls=cls: cls(sequence_length=2.5), ValueError, "`sequence_length`"),
        raises(f"{kind}_sequence_length_huge", lambda cls=cls: cls(sequence_length=10**9), ValueError, "`sequence_length`"),
        raises(f"{kind}_from_config_sequence_length_huge", lambda kind=kind: _from_config(kind, sequence_length=10**9)(), ValueError, "`sequence_length`"),
        raises(f"{kind}_lowercase_string", lambda cls=cls: cls(lowercase="no"), ValueError, "`lowercase`"),
        raises(f"{kind}_dtype_float", lambda cls=cls: cls(dtype="float32"), ValueError, "`dtype`"),
        raises(f"{kind}_dtype_int8", lambda cls=cls: cls(dtype="int8"), ValueError, "`dtype`"),
        raises(f"{kind}_max_size_4", lambda cls=cls: cls(max_size=4), ValueError, "`max_size`"),
        raises(f"{kind}_from_config_not_a_dict", lambda cls=cls: cls.from_config(["vocabulary"]), TypeError, "`config`"),
    ]
    if kind != "sentence_piece":
        CASES += [
            # A config carries tokens, never a path; nothing in it is opened.
            raises(f"{kind}_from_config_vocabulary_absolute_path", _from_config(kind, vocabulary="/etc/passwd"), ValueError, "`vocabulary`", "never a file path"),
            raises(f"{kind}_from_config_vocabulary_relative_path", _from_config(kind, vocabulary="../vocab.txt"), ValueError, "`vocabulary`"),
            raises(f"{kind}_from_config_vocabulary_dict", _from_config(kind, vocabulary={"path": "/etc/passwd"}), ValueError, "`vocabulary`"),
            raises(f"{kind}_from_config_vocabulary_ints", _from_config(kind, vocabulary=["[PAD]", 1]), ValueError, "`vocabulary`"),
            raises(f"{kind}_vocabulary_ints", lambda cls=cls: cls(vocabulary=[1, 2]), TypeError, "`vocabulary[0]`"),
            raises(f"{kind}_vocabulary_none_inside", lambda cls=cls: cls(vocabulary=["a", None]), TypeError, "`vocabulary[1]`"),
            raises(f"{kind}_vocabulary_nested", lambda cls=cls: cls(vocabulary=[["a", "b"]]), TypeError, "`vocabulary[0]`"),
            raises(f"{kind}_vocabulary_set", lambda cls=cls: cls(vocabulary={"a", "b"}), TypeError, "`vocabulary`"),
            raises(f"{kind}_vocabulary_int", lambda cls=cls: cls(vocabulary=5), TypeError, "`vocabulary`"),
            raises(f"{kind}_vocabulary_empty_list", lambda cls=cls: cls(vocabulary=[]), ValueError, "`vocabulary`"),
            raises(f"{kind}_vocabulary_empty_token", lambda cls=cls: cls(vocabulary=["a", ""]), ValueError, "vocabulary[1]"),
            raises(f"{kind}_vocabulary_duplicate", lambda cls=cls: cls(vocabulary=["a", "b", "a"]), ValueError, "vocabulary[2]"),
            raises(f"{kind}_vocabulary_reserved_inside", lambda cls=cls: cls(vocabulary=["a", "[END]"]), ValueError, "vocabulary[1]"),
            raises(f"{kind}_vocabulary_folder", lambda cls=cls: cls(vocabulary=_folder()), IsADirectoryError, "`vocabulary`"),
            raises(f"{kind}_vocabulary_device", lambda cls=cls: cls(vocabulary="/dev/zero"), ValueError, "`vocabulary`", "regular"),
            raises(f"{kind}_vocabulary_missing_file", lambda cls=cls: cls(vocabulary=os.path.join(_folder(), "missing.txt")), FileNotFoundError, "vocabulary="),
            answers(f"{kind}_vocabulary_bytes_not_utf8", lambda cls=cls: cls(vocabulary=[b"\xff", "a"]).get_vocabulary()[4:], lambda tokens: tokens == ["\ufffd", "a"]),
            raises(f"{kind}_load_vocabulary_int", lambda kind=kind: CLASSES[kind](vocabulary=["a"]).load_vocabulary(3), TypeError, "`path`"),
        ]
        for bad, content in BAD_FILES.items():
            CASES.append(
                answers(
                    f"{kind}_vocabulary_file_{bad}_quotes_nothing",
                    lambda cls=cls, bad=bad, content=content: _error_of(lambda: cls(vocabulary=_file(f"{bad}.txt", content))),
                    _clear_and_quotes_nothing("ValueError", "vocabulary"),
                )
            )

CASES += [
    answers("char_tokenize_ragged_list", lambda: _tokenizer("char").tokenize([["a"], ["b", "ab"]]).to_list(), lambda ids: ids == [[[4]], [[5], [4, 5]]]),
    answers("char_detokenize_out_of_range_ids", lambda: _tokenizer("char").detokenize([[4, -7, 99, 5]]), lambda s: _texts(s) == [b"a[UNK][UNK]b"]),
    raises("char_tokenize_ragged_one_string", lambda: _tokenizer("char").tokenize_ragged("ab"), ValueError, "inputs"),
    raises("word_split_punctuation_string", lambda: data.WordTokenizer(split_punctuation="no"), ValueError, "`split_punctuation`"),
    raises("subword_suffix_indicator_empty", lambda: data.SubwordTokenizer(suffix_indicator=""), ValueError, "`suffix_indicator`"),
    raises("subword_max_size_none", lambda: data.SubwordTokenizer(max_size=None), ValueError, "max_size"),
    # SentencePiece: bytes are a model, a string is a path; a config holds base64 text only.
    raises("sentence_piece_model_type", lambda: data.SentencePieceTokenizer(model_type="words"), ValueError, "`model_type`"),
    raises("sentence_piece_max_size_none", lambda: data.SentencePieceTokenizer(max_size=None), ValueError, "max_size"),
    # 20 distinct characters and 4 reserved tokens do not fit in 10 pieces (SentencePiece's own RuntimeError before).
    raises(
        "sentence_piece_max_size_below_the_characters",
        lambda: data.SentencePieceTokenizer(max_size=10).adapt(["가나다라마바사아자차 abcdefghij"] * 5),
        ValueError, "`max_size` must be at least 25 for this text", "Received: max_size=10",
    ),  # fmt: skip
    raises("sentence_piece_proto_int", lambda: data.SentencePieceTokenizer(proto=5), TypeError, "`proto`"),
    raises("sentence_piece_proto_empty_bytes", lambda: data.SentencePieceTokenizer(proto=b""), ValueError, "`proto`"),
    raises("sentence_piece_proto_garbage_bytes", lambda: data.SentencePieceTokenizer(proto=b"\x00not a model"), ValueError, "`proto`"),
    raises("sentence_piece_proto_missing_file", lambda: data.SentencePieceTokenizer(proto=os.path.join(_folder(), "missing.model")), FileNotFoundError, "proto="),
    raises("sentence_piece_proto_base64_is_a_path_here", lambda: data.SentencePieceTokenizer(proto=_tokenizer("sentence_piece").get_config()["proto"]), FileNotFoundError, "proto="),
    answers(
        "sentence_piece_proto_file_not_a_model_quotes_nothing",
        lambda: _error_of(lambda: data.SentencePieceTokenizer(proto=_file("text.model", f"{MARKER}\n" * 3))),
        _clear_and_quotes_nothing("ValueError", "proto"),
    ),
    raises("sentence_piece_proto_without_reserved_pieces", lambda: data.SentencePieceTokenizer(proto=_other_sentence_piece_model()), ValueError, "`proto`", "reserved"),
    raises("sentence_piece_vocabulary_list", lambda: _tokenizer("sentence_piece").set_vocabulary(["a"]), TypeError, "vocabulary"),
    raises("sentence_piece_from_config_proto_path", _from_config("sentence_piece", proto="/etc/passwd"), ValueError, "`proto`", "never a file path"),
    raises("sentence_piece_from_config_proto_not_base64", _from_config("sentence_piece", proto="not base64!"), ValueError, "`proto`"),
    raises("sentence_piece_from_config_proto_bytes", _from_config("sentence_piece", proto=b"\x00"), ValueError, "`proto`"),
    raises("sentence_piece_from_config_proto_base64_garbage", _from_config("sentence_piece", proto="aGVsbG8="), ValueError, "`proto`"),
    raises("sentence_piece_from_config_vocabulary_path", _from_config("sentence_piece", vocabulary="/etc/passwd"), ValueError, "`vocabulary`"),
    raises("sentence_piece_load_vocabulary_int", lambda: _tokenizer("sentence_piece").load_vocabulary(3), TypeError, "`path`"),
    raises("sentence_piece_save_vocabulary_no_folder", lambda: _tokenizer("sentence_piece").save_vocabulary(os.path.join(_folder(), "no", "m.model")), FileNotFoundError, "`path`"),
    # Vocabulary: a bare string is not a list of characters; no error quotes a file.
    raises("vocabulary_bare_string", lambda: data.Vocabulary("abc"), TypeError, "`tokens`"),
    raises("vocabulary_ints", lambda: data.Vocabulary([1]), TypeError, "`tokens[0]`"),
    raises("vocabulary_empty", lambda: data.Vocabulary([]), ValueError, "`tokens`"),
    raises("vocabulary_id_to_token_string", lambda: data.Vocabulary(["a"]).id_to_token("4"), TypeError, "`token_id`"),
    raises("vocabulary_id_to_token_out_of_range", lambda: data.Vocabulary(["a"]).id_to_token(5), ValueError, "token_id"),
    raises("vocabulary_token_to_id_int", lambda: data.Vocabulary(["a"]).token_to_id(4), TypeError, "token"),
    raises("vocabulary_load_folder", lambda: data.Vocabulary.load(_folder()), IsADirectoryError, "`path`"),
    raises("vocabulary_load_missing", lambda: data.Vocabulary.load(os.path.join(_folder(), "missing.txt")), FileNotFoundError, "path="),
    raises("vocabulary_save_no_folder", lambda: data.Vocabulary(["a"]).save(os.path.join(_folder(), "no", "v.txt")), FileNotFoundError, "`path`"),
    raises("vocabulary_save_int_path", lambda: data.Vocabulary(["a"]).save(3), TypeError, "`path`"),
    raises("vocabulary_build_list", lambda: data.Vocabulary.build(["a"]), TypeError, "`dataset`"),
    raises("vocabulary_build_no_tokens", lambda: data.Vocabulary.build(tf.data.Dataset.from_tensors([""])), ValueError, "`dataset`"),
    raises("vocabulary_from_counts_list", lambda: data.Vocabulary.from_counts(["a"]), TypeError, "`counts`"),
    raises("vocabulary_from_counts_string_count", lambda: data.Vocabulary.from_counts({"a": "3"}), ValueError, "`counts`"),
    raises("vocabulary_from_counts_negative", lambda: data.Vocabulary.from_counts({"a": -1}), ValueError, "`counts`"),
    raises("vocabulary_from_counts_int_key", lambda: data.Vocabulary.from_counts({4: 1}), TypeError, "`counts`"),
    raises("vocabulary_from_counts_empty", lambda: data.Vocabulary.from_counts({}), ValueError, "`counts`"),
    raises("vocabulary_min_frequency_0", lambda: data.Vocabulary.from_counts({"a": 1}, min_frequency=0), ValueError, "`min_frequency`"),
    raises("replace_invalid_utf8_ints", lambda: data.replace_invalid_utf8([1, 2]), TypeError, "`strings`"),
    answers("replace_invalid_utf8_ragged", lambda: data.replace_invalid_utf8(tf.ragged.constant([[b"\xff"], []])).to_list(), lambda s: s == [["\ufffd".encode()], []]),
]
for bad, content in BAD_FILES.items():
    CASES.append(
        answers(
            f"vocabulary_load_{bad}_quotes_nothing",
            lambda bad=bad, content=content: _error_of(lambda: data.Vocabulary.load(_file(f"load_{bad}.txt", content))),
            _clear_and_quotes_nothing("ValueError", "path"),
        )
    )


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)
