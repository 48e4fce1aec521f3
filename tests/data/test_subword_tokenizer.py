"""data.SubwordTokenizer (WordPiece): exact pieces, adapt, config, SavedModel."""

import numpy as np
import tensorflow as tf

from seqrecipes import data

from data_helpers import SEED_002, texts


def test_subword_tokenizer_exact_pieces():
    tokenizer = data.SubwordTokenizer(vocabulary=["경마장", "말", "##이", "##에", "있는", "뛰", "##고"])
    ids = tokenizer.tokenize(["경마장에 있는 말이", "말이 뛰고 달린다"])
    assert ids.to_list() == [[4, 7, 8, 5, 6], [5, 6, 9, 10, 1]]
    assert texts(tokenizer.detokenize(ids)) == ["경마장에 있는 말이", "말이 뛰고 [UNK]"]
    assert tokenizer.detokenize([[4, 7, 999, 3, 5]]).numpy().tolist() == ["경마장에 [UNK]".encode()]


def test_subword_tokenizer_adapt_round_trip_and_config():
    corpus = SEED_002 * 3 + ["The quick brown fox jumps over the lazy dog."]
    tokenizer = data.SubwordTokenizer(max_size=120).adapt(corpus)
    vocabulary = tokenizer.get_vocabulary()
    assert vocabulary[:4] == ["[PAD]", "[UNK]", "[START]", "[END]"]
    assert len(vocabulary) <= 120 and any(t.startswith("##") for t in vocabulary)
    expected = SEED_002 + ["The quick brown fox jumps over the lazy dog ."]
    assert texts(tokenizer.detokenize(tokenizer.tokenize(corpus[-1:]))) == expected[-1:]
    assert texts(tokenizer.detokenize(tokenizer.tokenize(SEED_002))) == SEED_002
    clone = data.SubwordTokenizer.from_config(tokenizer.get_config())
    np.testing.assert_array_equal(clone.tokenize(SEED_002).to_tensor(), tokenizer.tokenize(SEED_002).to_tensor())


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
    assert texts(next(iter(out.values()))) == ["경마장에 있는 말이", "말에"]
