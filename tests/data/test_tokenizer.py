"""data.Tokenizer, the base of every tokenizer: detokenizing, adapt, configs, files, SavedModels."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import SEED_002, texts


def test_detokenize_cuts_at_end_and_drops_padding_and_start():
    tokenizer = data.CharTokenizer(vocabulary=list("abc"))
    ids = [[2, 4, 5, 3, 6, 6], [4, 0, 6, 0, 0, 0], [2, 3, 4, 4, 4, 4], [4, 999, -5, 1, 5, 0]]
    assert texts(tokenizer.detokenize(ids)) == ["ab", "ac", "", "a[UNK][UNK][UNK]b"]
    assert texts(tokenizer.detokenize(tf.ragged.constant([[4, 5], [6]]))) == ["ab", "c"]
    assert tokenizer.detokenize(np.array([6, 5, 4], "int64")).numpy() == b"cba"
    with pytest.raises(TypeError, match=r"Received: ids.dtype=float32"):
        tokenizer.detokenize(np.zeros((2, 3), "float32"))


def test_adapt_accepts_datasets_lists_and_batched_datasets():
    texts = ["ab", "bc", "cd"]
    from_ragged = data.CharTokenizer().adapt(tf.data.Dataset.from_tensors(tf.ragged.constant([["ab"], ["bc", "cd"]])))
    assert from_ragged.get_vocabulary()[4:] == ["b", "c", "a", "d"]
    from_list = data.CharTokenizer().adapt(texts).get_vocabulary()
    from_scalars = data.CharTokenizer().adapt(tf.data.Dataset.from_tensor_slices(texts)).get_vocabulary()
    from_batches = data.CharTokenizer().adapt(tf.data.Dataset.from_tensor_slices(texts).batch(2)).get_vocabulary()
    assert from_list == from_scalars == from_batches == ["[PAD]", "[UNK]", "[START]", "[END]", "b", "c", "a", "d"]
    with pytest.raises(TypeError, match=r"elements are strings.*Received: data.element_spec"):
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
    assert texts(from_file.detokenize(from_file.tokenize(text))) == text
    other = data.CharTokenizer(vocabulary=["x"]).load_vocabulary(path)
    assert other.get_vocabulary() == tokenizer.get_vocabulary()


def test_tokenizer_inside_tf_data():
    tokenizer = data.CharTokenizer().adapt(SEED_002)
    ds = tf.data.Dataset.from_tensor_slices(SEED_002).map(tokenizer.tokenize).map(tokenizer.detokenize)
    assert [s.decode("utf-8") for s in ds.as_numpy_iterator()] == SEED_002
    ds = tf.data.Dataset.from_tensor_slices(SEED_002).map(tokenizer)  # as a layer
    assert [x.tolist() for x in ds.as_numpy_iterator()] == [tokenizer.tokenize(s).numpy().tolist() for s in SEED_002]


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
    assert texts(reloaded["round_trip"]) == inputs[:3] + ["말이 [UNK]다", ""]
    assert texts(reloaded["words"]) == SEED_002 + ["말이 [UNK]", ""]
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
    assert texts(out["text"]) == ["그의 말이 [UNK]", "경마장에 있는 말이 뛰고 있다"]
    # A character vocabulary with a line break token falls back to constants.
    chars = data.CharTokenizer().adapt(["a\nb"])
    chars_path = chars.save_vocabulary(str(tmp_path / "chars.txt"))
    assert data.CharTokenizer(vocabulary=chars_path).vocabulary_file is None


# ---------------------------------------------------------------------------------------------
# What the base class gives every tokenizer: reserved ids, lower-casing, tokenize_ragged.


def test_reserved_tokens_and_ids_are_the_same_for_vocabularies_and_every_tokenizer():
    holders = [
        data.Vocabulary(["a"]),
        data.CharTokenizer(),
        data.WordTokenizer(),
        data.SubwordTokenizer(vocabulary=["a"]),
        data.SentencePieceTokenizer(),
    ]
    for holder in holders:
        assert (holder.pad_token, holder.unknown_token, holder.start_token, holder.end_token) == data.RESERVED_TOKENS
        assert holder.special_token_ids == [holder.pad_id, holder.unknown_id, holder.start_id, holder.end_id] == [0, 1, 2, 3]


def test_lowercase_applies_before_the_split_of_every_splitting_tokenizer():
    assert data.CharTokenizer(vocabulary=["a", "b"], lowercase=True).tokenize("AB").numpy().tolist() == [4, 5]
    assert data.WordTokenizer(vocabulary=["hi"], lowercase=True).tokenize("Hi HI hi").numpy().tolist() == [4, 4, 4]
    subwords = data.SubwordTokenizer(vocabulary=["hello", "##s"], lowercase=True)
    assert isinstance(subwords, data.WordTokenizer)  # WordPiece over the WordTokenizer's words
    assert subwords.tokenize("Hellos HELLO").numpy().tolist() == [4, 5, 4]
    assert subwords.get_config()["lowercase"] is True and "min_frequency" not in subwords.get_config()
    learnt = data.SubwordTokenizer(max_size=30, lowercase=True).adapt(["Hello HELLO hello World"])
    assert not any(token != token.lower() for token in learnt.get_vocabulary()[4:])


def test_tokenize_ragged_is_int32_without_padding_whatever_the_tokenizer():
    fixed = data.CharTokenizer(vocabulary=list("abc"), sequence_length=3, dtype="int64")
    ragged = data.CharTokenizer(vocabulary=list("abc"))
    assert fixed.tokenize(["abca", "b"]).numpy().tolist() == [[4, 5, 6], [5, 0, 0]]
    for tokenizer, first in ((fixed, [[4, 5, 6], [5], []]), (ragged, [[4, 5, 6, 4], [5], []])):
        ids = tokenizer.tokenize_ragged(["abca", "b", ""])
        assert isinstance(ids, tf.RaggedTensor) and ids.dtype == tf.int32
        assert ids.to_list() == first
        assert tokenizer.tokenize_ragged([["a", "bc"], ["cc", ""]]).to_list() == [[[4], [5, 6]], [[6, 6], []]]
        assert tokenizer.tokenize_ragged(tf.ragged.constant([["ab"], ["c", "a"]])).to_list() == [[[4, 5]], [[6], [4]]]
    batches = tf.data.Dataset.from_tensor_slices(["ab", "c", "cab"]).batch(2).map(fixed.tokenize_ragged)
    assert [x.to_list() for x in batches] == [[[4, 5], [6]], [[6, 4, 5]]]
    serve = tf.function(fixed.tokenize_ragged, input_signature=[tf.TensorSpec([None], tf.string)])
    assert serve(tf.constant(["b", "aaaa"])).to_list() == [[5], [4, 4, 4]]
    with pytest.raises(ValueError, match=r"wrap one string in a list. Received: inputs.shape=\(\)"):
        fixed.tokenize_ragged("ab")
