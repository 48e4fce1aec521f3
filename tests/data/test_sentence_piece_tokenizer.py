"""data.SentencePieceTokenizer: round trips, model files and config."""

import pytest

from seqrecipes import data

from data_helpers import SEED_002, texts


def test_sentence_piece_tokenizer_round_trip_files_and_config(tmp_path):
    tokenizer = data.SentencePieceTokenizer(max_size=60).adapt(SEED_002 * 20)
    assert tokenizer.get_vocabulary()[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    text = ["그의 말이 뛰고 있다", "가는 말이 곱다"]
    ids = tokenizer.tokenize(text)
    assert texts(tokenizer.detokenize(ids)) == text
    assert min(ids.flat_values.numpy()) >= 4
    path = tokenizer.save_vocabulary(str(tmp_path / "sp.model"))
    from_file = data.SentencePieceTokenizer(proto=path)
    assert from_file.tokenize(text).to_list() == ids.to_list()
    clone = data.SentencePieceTokenizer.from_config(tokenizer.get_config())
    assert clone.tokenize(text).to_list() == ids.to_list()
    with pytest.raises(FileNotFoundError, match=r"Received: proto='no/such.model'"):
        data.SentencePieceTokenizer(proto="no/such.model")
    with pytest.raises(FileNotFoundError, match=r"a string `proto` is a path"):
        data.SentencePieceTokenizer(proto=tokenizer.get_config()["proto"])  # base64 is the config's form only
    assert data.SentencePieceTokenizer(proto=tokenizer.proto).tokenize(text).to_list() == ids.to_list()


def test_sentence_piece_tokenizer_survives_a_new_seed_and_a_saved_model(tmp_path):
    import keras
    import tensorflow as tf

    tokenizer = data.SentencePieceTokenizer(max_size=40).adapt(SEED_002 * 10)
    expected = tokenizer.tokenize(SEED_002).to_list()
    # Setting a seed clears TensorFlow's eager caches, where tensorflow_text keeps its model by default.
    keras.utils.set_random_seed(7)
    other = data.SentencePieceTokenizer(max_size=40).adapt(SEED_002[:1] * 10)
    del other
    assert tokenizer.tokenize(SEED_002).to_list() == expected
    module = tf.Module()
    module.tokenizer = tokenizer
    module.serve = tf.function(lambda text: tokenizer.tokenize(text).to_tensor(), input_signature=[tf.TensorSpec([None], tf.string)])
    tf.saved_model.save(module, str(tmp_path / "sp"))
    reloaded = tf.saved_model.load(str(tmp_path / "sp"))
    tf.random.set_seed(3)
    assert tf.RaggedTensor.from_tensor(reloaded.serve(tf.constant(SEED_002)), padding=0).to_list() == expected
