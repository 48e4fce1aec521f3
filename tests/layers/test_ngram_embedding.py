"""NGramEmbedding (fastText's hashed n-grams): the hash and the sum against NumPy, padding, the harness, a saved model."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test

from seqrecipes import layers

IDS = np.array([[5, 6, 7, 0, 0], [7, 5, 6, 7, 9], [4, 0, 0, 0, 0]])


def np_buckets(ids, max_n, buckets):
    """The docstring's hash, in Python integers: g[b, t, n - 2] for the n-gram ending at step t."""
    m = buckets - 1
    g = np.zeros((*ids.shape, max_n - 1), dtype=np.int64)
    for b, row in enumerate(ids.tolist()):
        padded = [0] * (max_n - 1) + row
        for t, w in enumerate(row):
            if w == 0:
                continue
            for n in range(2, max_n + 1):
                h = n
                for v in padded[t + max_n - n : t + max_n]:  # w_{t-n+1} .. w_t
                    h = (h * 1_000_003 + v) % m
                g[b, t, n - 2] = 1 + h
    return g


@pytest.mark.parametrize("max_n, buckets", [(2, 16), (3, 1000), (4, 2**31)])
def test_buckets_match_the_docstring_hash(max_n, buckets):
    ids = np.concatenate([IDS, [[123_456, 2**31 - 1, 1, 0, 0]]])
    got = np.asarray(layers.NGramEmbedding.buckets_of(ids, max_n, buckets))
    np.testing.assert_array_equal(got, np_buckets(ids, max_n, buckets))
    assert got[ids > 0].min() >= 1 and got.max() < buckets and (got[ids == 0] == 0).all()


def test_output_is_the_sum_of_the_ngram_rows_and_zero_at_padding():
    layer = layers.NGramEmbedding(output_dim=4, max_n=3, buckets=50)
    y = np.asarray(layer(IDS))
    table = np.asarray(layer.embeddings)
    expected = table[np_buckets(IDS, 3, 50)].sum(axis=2) * (IDS != 0)[..., None]
    np.testing.assert_allclose(y, expected, rtol=1e-6, atol=1e-6)
    assert not y[IDS == 0].any()
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(IDS)), IDS != 0)
    # The same n-gram gives the same vector wherever it is: "5 6" ends step 1 of row 0 and step 2 of row 1,
    # but the trigrams differ (the start vs 7), so with max_n=2 only the bigram rows agree.
    bigrams = np.asarray(layers.NGramEmbedding(output_dim=4, max_n=2, buckets=50)(IDS))
    assert not np.allclose(bigrams[0, 1], 0)
    two = layers.NGramEmbedding(output_dim=4, max_n=2, buckets=50)
    two.build(IDS.shape)
    two.set_weights([table])
    pair = np.asarray(two(IDS))
    np.testing.assert_allclose(pair[0, 1], pair[1, 2], atol=1e-7)
    assert not np.allclose(y[0, 1], y[1, 2])


def test_a_bigram_and_a_trigram_of_the_same_ids_are_different_buckets():
    g = np.asarray(layers.NGramEmbedding.buckets_of(np.array([[3, 4]]), 3, 2**20))
    assert g[0, 1, 0] != g[0, 1, 1]


def test_padding_after_the_real_steps_changes_no_real_step_and_the_mask_reaches_a_pooling():
    inputs = keras.Input((None,), dtype="int32")
    ngrams = layers.NGramEmbedding(output_dim=4, max_n=3, buckets=64)
    x = keras.layers.Add()([keras.layers.Embedding(20, 4, mask_zero=True)(inputs), ngrams(inputs)])
    assert x._keras_mask is not None
    model = keras.Model(inputs, layers.MeanPooling()(x))
    short, long = np.array([[5, 6, 7]]), np.array([[5, 6, 7, 0, 0, 0]])
    np.testing.assert_allclose(np.asarray(model(short)), np.asarray(model(long)), rtol=1e-6, atol=1e-6)


def test_harness_and_saved_model():
    run_layer_test(layers.NGramEmbedding, {"output_dim": 3, "max_n": 3, "buckets": 32}, IDS,
                   expected_output_shape=(3, 5, 3), expected_num_trainable_weights=1)  # fmt: skip


@pytest.mark.parametrize(
    "arguments, words",
    [
        ({"output_dim": 0}, "`output_dim` must be an int of at least 1. Received: output_dim=0"),
        ({"output_dim": 4, "max_n": 1}, "`max_n` must be an int of at least 2. Received: max_n=1"),
        ({"output_dim": 4, "buckets": 1}, "`buckets` must be an int of at least 2. Received: buckets=1"),
        ({"output_dim": 4, "buckets": 2**31 + 1}, "`buckets` must be at most 2**31. Received: buckets=2147483649"),
        ({"output_dim": 4, "max_n": True}, "`max_n` must be an int of at least 2. Received: max_n=True"),
    ],
)
def test_bad_arguments(arguments, words):
    with pytest.raises(ValueError) as error:
        layers.NGramEmbedding(**arguments)
    assert words in str(error.value)
