"""data.OneHot and data.BagOfWords: seed 003's claims as properties, NumPy counts and TF-IDF, saving, the [MASK] token."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

SENTENCE = "the cat sat on the mat"


@pytest.fixture(scope="module")
def tokenizer():
    return data.WordTokenizer().adapt([SENTENCE, "a dog ran in a room"])


def test_one_hot_marks_only_the_word_position_and_cannot_measure_similarity(tokenizer):
    ids = tokenizer.tokenize_ragged([SENTENCE])
    vectors = data.OneHot(tokenizer.vocabulary_size())(ids).numpy()[0]  # (T, V)
    assert vectors.shape == (6, tokenizer.vocabulary_size())  # as long as the vocabulary (limit 1: inefficient)
    # Only the word's own position is 1 ...
    np.testing.assert_array_equal(vectors.sum(axis=-1), np.ones(6))
    np.testing.assert_array_equal(vectors.argmax(axis=-1), ids.numpy()[0])
    # ... so two different words are orthogonal, "cat" as far from "mat" as from "on" (seed 003's limit 2),
    cosine = vectors @ vectors.T
    words = SENTENCE.split()
    for i, j in itertools.combinations(range(6), 2):
        assert cosine[i, j] == (1.0 if words[i] == words[j] else 0.0)


def test_one_hot_padding_start_and_end_are_zero_vectors_and_the_sum_is_the_bag(tokenizer):
    size = tokenizer.vocabulary_size()
    ids = np.array([[2, 4, 5, 1, 3, 0, 0]])
    vectors = data.OneHot(size)(ids).numpy()
    np.testing.assert_array_equal(vectors[0, [0, 4, 5, 6]], np.zeros((4, size)))
    assert vectors[0, 3, 1] == 1.0  # [UNK] is a word of the text
    np.testing.assert_array_equal(vectors.sum(axis=1), data.BagOfWords(size)(ids).numpy())


def test_a_bag_of_words_loses_the_word_order(tokenizer):
    """Seed 003: the bag counts each word and loses the time information: every permutation gets one vector."""
    bag = data.BagOfWords(tokenizer.vocabulary_size())
    words = SENTENCE.split()
    rng = np.random.default_rng(0)
    permutations = [" ".join(rng.permutation(words)) for _ in range(5)]
    vectors = bag(tokenizer.tokenize_ragged([SENTENCE] + permutations)).numpy()
    assert any(p != SENTENCE for p in permutations)
    for vector in vectors[1:]:
        np.testing.assert_array_equal(vector, vectors[0])
    assert vectors[0][tokenizer.token_to_id("the")] == 2 and vectors[0].sum() == 6


def _numpy_bags(sequences, size):
    counts = np.zeros((len(sequences), size))
    for row, sequence in enumerate(sequences):
        for token in sequence:
            if token not in (0, 2, 3):
                counts[row, token] += 1
    return counts


def test_counts_binary_and_tf_idf_against_numpy_and_scikit_learns_formula():
    rng = np.random.default_rng(1)
    size = 12
    sequences = [list(rng.integers(1, size, size=rng.integers(0, 9))) for _ in range(20)]
    ragged = tf.ragged.constant(sequences, dtype=tf.int64, ragged_rank=1)
    counts = _numpy_bags(sequences, size)
    np.testing.assert_array_equal(data.BagOfWords(size)(ragged).numpy(), counts)
    np.testing.assert_array_equal(data.BagOfWords(size, output_mode="binary")(ragged).numpy(), counts > 0)
    tf_idf = data.BagOfWords(size, output_mode="tf_idf", normalize=True).adapt(sequences)
    documents, frequency = len(sequences), (counts > 0).sum(axis=0)
    idf = np.log((1 + documents) / (1 + frequency)) + 1  # TfidfTransformer(smooth_idf=True)
    np.testing.assert_allclose(tf_idf.idf.numpy(), idf, rtol=1e-6)
    expected = counts * idf
    norms = np.linalg.norm(expected, axis=1, keepdims=True)
    expected = np.divide(expected, norms, out=np.zeros_like(expected), where=norms > 0)
    np.testing.assert_allclose(tf_idf(ragged).numpy(), expected, rtol=1e-5, atol=1e-7)
    # A dataset of batches with labels counts the same frequencies.
    dataset = tf.data.Dataset.from_tensor_slices((ragged, np.zeros(documents))).batch(7)
    again = data.BagOfWords(size, output_mode="tf_idf").adapt(dataset)
    np.testing.assert_allclose(again.idf.numpy(), idf, rtol=1e-6)


def test_the_layers_save_serialize_and_run_inside_a_graph(tmp_path):
    bag = data.BagOfWords(9, output_mode="tf_idf").adapt([[4, 5], [4], [6, 7, 8]])
    inputs = keras.Input((5,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Dense(2)(bag(inputs)))
    ids = np.array([[4, 4, 5, 0, 0], [8, 1, 0, 0, 0]], "int32")
    path = str(tmp_path / "bag.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded(ids).numpy(), model(ids).numpy(), atol=1e-6)
    for layer in (bag, data.OneHot(9)):
        clone = type(layer).from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()
    graph = tf.function(lambda x: data.OneHot(9)(x), input_signature=[tf.TensorSpec([None, None], tf.int32)])
    assert graph(ids).shape == (2, 5, 9)


@pytest.mark.parametrize(
    "build, call, error, match",
    [
        (lambda: data.BagOfWords(4), None, ValueError, r"vocabulary_size.*Received: vocabulary_size=4"),
        (lambda: data.BagOfWords(8, output_mode="tfidf"), None, ValueError, r"output_mode.*Received: output_mode='tfidf'"),
        (lambda: data.BagOfWords(8, normalize="yes"), None, ValueError, r"normalize"),
        (lambda: data.OneHot(8), [[4, 9]], ValueError, r"ids in \[0, 8\)"),
        (lambda: data.BagOfWords(8), [[-1]], ValueError, r"ids in \[0, 8\)"),
        (lambda: data.BagOfWords(8), [[0.5, 1.0]], TypeError, r"`ids` must be integer.*float"),
        (lambda: data.OneHot(8), [4, 5], ValueError, r"shape \(batch, tokens\).*Received: ids.shape=\(2,\)"),
        (lambda: data.BagOfWords(8, output_mode="tf_idf").adapt([]), None, ValueError, r"at least one id sequence"),
    ],
)
def test_bad_input_is_named(build, call, error, match):
    with pytest.raises(error, match=match):
        layer = build()
        if call is not None:
            layer(call)


def test_the_mask_token_comes_last_and_moves_no_id():
    tokenizer = data.WordTokenizer().adapt(["b a a", "c"])
    before = tokenizer.get_vocabulary()
    assert tokenizer.mask_id is None
    tokenizer.add_mask_token().add_mask_token()  # twice: one [MASK]
    assert tokenizer.get_vocabulary() == before + [data.MASK_TOKEN]
    assert tokenizer.mask_id == len(before) == tokenizer.token_to_id("[MASK]")
    assert tokenizer.tokenize(["a b c"]).to_list() == [[4, 5, 6]]
    clone = data.WordTokenizer.from_config(tokenizer.get_config())
    assert clone.mask_id == tokenizer.mask_id
