"""Tokenizers: exact ids, exact round trips (Korean included), bad bytes, configs and files."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

SEED_002 = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]


def _text(tensor):
    return np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(tensor.numpy()).tolist()


# ---------------------------------------------------------------------------------------------
# CharTokenizer


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
    assert _text(tokenizer.detokenize(tokenizer.tokenize(SEED_002))) == SEED_002
    assert tokenizer.detokenize(ids).numpy().decode("utf-8") == "말이 있다"


def test_char_tokenizer_jamo_syllables_and_whitespace_round_trip():
    text = ["ㄱㄴㄷ 가나다", "가\n\tend", "한국어 ㅎㅏㄴ"]
    tokenizer = data.CharTokenizer().adapt(text)
    assert _text(tokenizer.detokenize(tokenizer.tokenize(text))) == text
    # Compatibility jamo, conjoining jamo and syllables are all separate code points.
    assert len(tokenizer.tokenize("ㄱ가ᄀ").numpy()) == 3


def test_char_tokenizer_unknown_and_invalid_utf8_never_raise():
    tokenizer = data.CharTokenizer(vocabulary=["a", "b", "\ufffd"])
    ids = tokenizer.tokenize([b"ab\xff\xfe", "a말".encode("utf-8"), b"\xc3"])
    assert ids.to_list() == [[4, 5, 6, 6], [4, 1], [6]]
    assert _text(tokenizer.detokenize(ids)) == ["ab\ufffd\ufffd", "a[UNK]", "\ufffd"]


def test_detokenize_cuts_at_end_and_drops_padding_and_start():
    tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    ids = [[2, 4, 5, 3, 6, 6], [4, 0, 6, 0, 0, 0], [2, 3, 4, 4, 4, 4], [4, 999, -5, 1, 5, 0]]
    assert _text(tokenizer.detokenize(ids)) == ["ab", "ac", "", "a[UNK][UNK][UNK]b"]
    assert _text(tokenizer.detokenize(tf.ragged.constant([[4, 5], [6]]))) == ["ab", "c"]
    assert tokenizer.detokenize(np.array([6, 5, 4], "int64")).numpy() == b"cba"
    with pytest.raises(TypeError, match=r"Received: ids.dtype=float32"):
        tokenizer.detokenize(np.zeros((2, 3), "float32"))


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
    with pytest.raises(ValueError, match=r"vocabulary would be empty.*Received: min_frequency=1"):
        data.CharTokenizer().adapt(["", ""])
    with pytest.raises(ValueError, match=r"Received: sequence_length=0"):
        data.CharTokenizer(sequence_length=0)
    with pytest.raises(ValueError, match=r"Received: dtype='float32'"):
        data.CharTokenizer(dtype="float32")
    with pytest.raises(TypeError, match=r"must hold strings. Received: inputs.dtype=int32"):
        data.CharTokenizer(vocabulary=["a"]).tokenize([1, 2])


def test_adapt_accepts_datasets_lists_and_batched_datasets():
    texts = ["ab", "bc", "cd"]
    from_ragged = data.CharTokenizer().adapt(tf.data.Dataset.from_tensors(tf.ragged.constant([["ab"], ["bc", "cd"]])))
    assert from_ragged.get_vocabulary()[4:] == ["b", "c", "a", "d"]
    from_list = data.CharTokenizer().adapt(texts).get_vocabulary()
    from_scalars = data.CharTokenizer().adapt(tf.data.Dataset.from_tensor_slices(texts)).get_vocabulary()
    from_batches = data.CharTokenizer().adapt(tf.data.Dataset.from_tensor_slices(texts).batch(2)).get_vocabulary()
    assert from_list == from_scalars == from_batches == ["[PAD]", "[UNK]", "[START]", "[END]", "b", "c", "a", "d"]
    with pytest.raises(TypeError, match=r"elements are strings.*Received: element_spec"):
        data.CharTokenizer().adapt(tf.data.Dataset.range(3))


def test_tokenizer_config_and_keras_serialization_round_trip():
    tokenizer = data.CharTokenizer(lowercase=True, sequence_length=5, name="chars").adapt(SEED_002)
    config = tokenizer.get_config()
    assert config["vocabulary"] == tokenizer.get_vocabulary()
    assert config["lowercase"] is True and config["sequence_length"] == 5
    clone = data.CharTokenizer.from_config(config)
    assert clone.get_config() == config
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(tokenizer))
    assert type(restored) is data.CharTokenizer
    np.testing.assert_array_equal(restored.tokenize(SEED_002), tokenizer.tokenize(SEED_002))


def test_vocabulary_file_round_trip(tmp_path):
    text = ["line one\nline two\\", "탭\t끝\r"]
    tokenizer = data.CharTokenizer().adapt(text)
    path = tokenizer.save_vocabulary(str(tmp_path / "chars.txt"))
    from_file = data.CharTokenizer(vocabulary=path)
    assert from_file.get_vocabulary() == tokenizer.get_vocabulary()
    assert _text(from_file.detokenize(from_file.tokenize(text))) == text
    other = data.CharTokenizer(vocabulary=["x"]).load_vocabulary(path)
    assert other.get_vocabulary() == tokenizer.get_vocabulary()


def test_tokenizer_inside_tf_data():
    tokenizer = data.CharTokenizer().adapt(SEED_002)
    ds = tf.data.Dataset.from_tensor_slices(SEED_002).map(tokenizer.tokenize).map(tokenizer.detokenize)
    assert [s.decode("utf-8") for s in ds.as_numpy_iterator()] == SEED_002
    ds = tf.data.Dataset.from_tensor_slices(SEED_002).map(tokenizer)  # as a layer
    assert [x.tolist() for x in ds.as_numpy_iterator()] == [tokenizer.tokenize(s).numpy().tolist() for s in SEED_002]


# ---------------------------------------------------------------------------------------------
# WordTokenizer


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
    assert _text(tokenizer.detokenize(tokenizer.tokenize(SEED_002))) == SEED_002
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


# ---------------------------------------------------------------------------------------------
# SubwordTokenizer (WordPiece) and SentencePieceTokenizer


def test_subword_tokenizer_exact_pieces():
    tokenizer = data.SubwordTokenizer(vocabulary=["경마장", "말", "##이", "##에", "있는", "뛰", "##고"])
    ids = tokenizer.tokenize(["경마장에 있는 말이", "말이 뛰고 달린다"])
    assert ids.to_list() == [[4, 7, 8, 5, 6], [5, 6, 9, 10, 1]]
    assert _text(tokenizer.detokenize(ids)) == ["경마장에 있는 말이", "말이 뛰고 [UNK]"]
    assert tokenizer.detokenize([[4, 7, 999, 3, 5]]).numpy().tolist() == ["경마장에 [UNK]".encode()]


def test_subword_tokenizer_adapt_round_trip_and_config():
    corpus = SEED_002 * 3 + ["The quick brown fox jumps over the lazy dog."]
    tokenizer = data.SubwordTokenizer(max_size=120).adapt(corpus)
    vocabulary = tokenizer.get_vocabulary()
    assert vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert len(vocabulary) <= 120 and any(t.startswith("##") for t in vocabulary)
    expected = SEED_002 + ["The quick brown fox jumps over the lazy dog ."]
    assert _text(tokenizer.detokenize(tokenizer.tokenize(corpus[-1:]))) == expected[-1:]
    assert _text(tokenizer.detokenize(tokenizer.tokenize(SEED_002))) == SEED_002
    clone = data.SubwordTokenizer.from_config(tokenizer.get_config())
    np.testing.assert_array_equal(clone.tokenize(SEED_002).to_tensor(), tokenizer.tokenize(SEED_002).to_tensor())


def test_sentence_piece_tokenizer_round_trip_files_and_config(tmp_path):
    tokenizer = data.SentencePieceTokenizer(max_size=60).adapt(SEED_002 * 20)
    assert tokenizer.get_vocabulary()[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    text = ["그의 말이 뛰고 있다", "가는 말이 곱다"]
    ids = tokenizer.tokenize(text)
    assert _text(tokenizer.detokenize(ids)) == text
    assert min(ids.flat_values.numpy()) >= 4
    path = tokenizer.save_vocabulary(str(tmp_path / "sp.model"))
    from_file = data.SentencePieceTokenizer(proto=path)
    assert from_file.tokenize(text).to_list() == ids.to_list()
    clone = data.SentencePieceTokenizer.from_config(tokenizer.get_config())
    assert clone.tokenize(text).to_list() == ids.to_list()
    with pytest.raises(FileNotFoundError, match=r"Received: proto='no/such.model'"):
        data.SentencePieceTokenizer(proto="no/such.model")


# ---------------------------------------------------------------------------------------------
# Export: the tokenizer inside a SavedModel, the path the recipes' export takes.


class _Serving(tf.Module):
    def __init__(self, source, target):
        super().__init__()
        self.source = source
        self.target = target

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(self, text):
        ids = self.source.tokenize(text)
        return {"ids": ids.to_tensor(), "round_trip": self.source.detokenize(ids), "words": self.target.detokenize(self.target.tokenize(text))}


def test_tokenizers_in_saved_model_reload_in_process_and_in_fresh_tensorflow(tmp_path):
    import subprocess
    import sys

    chars = data.CharTokenizer().adapt(SEED_002)
    words = data.WordTokenizer().adapt(SEED_002)
    module = _Serving(chars, words)
    path = str(tmp_path / "tokenizers" / "1")
    tf.saved_model.save(module, path, signatures={"serving_default": module.serve})
    inputs = SEED_002 + ["말이 없다", ""]
    expected = module.serve(tf.constant(inputs))
    reloaded = tf.saved_model.load(path).signatures["serving_default"](tf.constant(inputs))
    np.testing.assert_array_equal(reloaded["ids"], expected["ids"])
    assert _text(reloaded["round_trip"]) == inputs[:3] + ["말이 [UNK]다", ""]
    assert _text(reloaded["words"]) == SEED_002 + ["말이 [UNK]", ""]
    # A fresh process with nothing but TensorFlow (no seqrecipes, no keras) gives the same.
    script = (
        "import sys, tensorflow as tf\n"
        "f = tf.saved_model.load(sys.argv[1]).signatures['serving_default']\n"
        "out = f(tf.constant(['경마장에 있는 말이 뛰고 있다', '말이 없다']))\n"
        "print(out['ids'].numpy().tolist()); print([s.decode() for s in out['round_trip'].numpy()])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, path],
        capture_output=True,
        text=True,
        timeout=120,
        env={"TF_CPP_MIN_LOG_LEVEL": "2", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    rows = [chars.tokenize(s).numpy().tolist() for s in (SEED_002[0], "말이 없다")]
    assert lines[-2] == str([rows[0], rows[1] + [0] * (len(rows[0]) - len(rows[1]))])
    assert lines[-1] == str(["경마장에 있는 말이 뛰고 있다", "말이 [UNK]다"])


def test_subword_tokenizer_in_saved_model(tmp_path):
    subwords = data.SubwordTokenizer(vocabulary=["경마장", "말", "##이", "##에", "있는"])
    module = tf.Module()
    module.tokenizer = subwords

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(text):
        return subwords.detokenize(subwords.tokenize(text))

    module.serve = serve
    tf.saved_model.save(module, str(tmp_path / "subword"), signatures={"serving_default": serve})
    reloaded = tf.saved_model.load(str(tmp_path / "subword")).signatures["serving_default"]
    out = reloaded(tf.constant(["경마장에 있는 말이", "말에"]))
    assert _text(next(iter(out.values()))) == ["경마장에 있는 말이", "말에"]


def test_tokenizer_inside_a_keras_model_saves_loads_and_exports(tmp_path):
    tokenizer = data.CharTokenizer(sequence_length=12).adapt(SEED_002)
    inputs = keras.Input(shape=(), dtype="string")
    ids = tokenizer(inputs)
    assert tuple(ids.shape) == (None, 12) and ids.dtype == "int32"
    hidden = keras.layers.GlobalAveragePooling1D()(keras.layers.Embedding(tokenizer.vocabulary_size(), 4, mask_zero=True)(ids))
    model = keras.Model(inputs, keras.layers.Dense(2)(hidden))
    text = tf.constant(["말이 있다", "그의 말이"])
    expected = model.predict(text, verbose=0)
    model.save(str(tmp_path / "model.keras"))
    restored = keras.saving.load_model(str(tmp_path / "model.keras"), safe_mode=True)
    np.testing.assert_allclose(restored.predict(text, verbose=0), expected, atol=1e-6)
    model.export(str(tmp_path / "exported"), verbose=False)
    reloaded = tf.saved_model.load(str(tmp_path / "exported"))  # keep a reference while serving
    served = reloaded.serve(text)
    np.testing.assert_allclose(served.numpy(), expected, atol=1e-6)


def test_vocabulary_file_becomes_a_saved_model_asset(tmp_path):
    import os
    import shutil

    adapted = data.WordTokenizer().adapt(SEED_002)
    vocabulary_path = adapted.save_vocabulary(str(tmp_path / "words.txt"))
    words = data.WordTokenizer(vocabulary=vocabulary_path)
    assert words.vocabulary_file == vocabulary_path
    assert data.WordTokenizer(vocabulary=adapted.get_vocabulary()).vocabulary_file is None
    module = tf.Module()
    module.words = words

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def serve(text):
        ids = words.tokenize(text)
        return {"ids": ids.to_tensor(), "text": words.detokenize(ids)}

    module.serve = serve
    export = str(tmp_path / "export")
    tf.saved_model.save(module, export, signatures={"serving_default": serve})
    assert os.listdir(os.path.join(export, "assets")) == ["words.txt"]
    assert open(os.path.join(export, "assets", "words.txt"), encoding="utf-8").read() == open(vocabulary_path, encoding="utf-8").read()
    shutil.move(vocabulary_path, str(tmp_path / "moved.txt"))  # the SavedModel must not need the original
    reloaded = tf.saved_model.load(export)
    out = reloaded.signatures["serving_default"](tf.constant(["그의 말이 빠르다", "경마장에 있는 말이 뛰고 있다"]))
    assert out["ids"].numpy().tolist() == [[9, 4, 1, 0, 0], [6, 13, 4, 10, 14]]
    assert _text(out["text"]) == ["그의 말이 [UNK]", "경마장에 있는 말이 뛰고 있다"]
    # A character vocabulary with a line break token falls back to constants.
    chars = data.CharTokenizer().adapt(["a\nb"])
    chars_path = chars.save_vocabulary(str(tmp_path / "chars.txt"))
    assert data.CharTokenizer(vocabulary=chars_path).vocabulary_file is None
