"""ReversibleEmbedding: the lookup and the tied projection x E^T against NumPy, masking, and the harness."""

import keras
import numpy as np
from layer_harness import run_layer_test

from seqrecipes import layers

IDS = np.array([[4, 5, 0], [1, 2, 3]], "int32")


def test_lookup_and_reverse_projection_against_numpy():
    layer = layers.ReversibleEmbedding(6, 4, mask_zero=True)
    x = layer(IDS)
    table = np.asarray(layer.embeddings)
    np.testing.assert_allclose(np.asarray(x), table[IDS], atol=0)
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(IDS)), IDS != 0)
    features = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    np.testing.assert_allclose(np.asarray(layer(features, reverse=True)), features @ table.T, rtol=1e-5, atol=1e-6)
    assert layer.compute_mask(features, mask=IDS != 0) is not None and layer.compute_mask(features) is None


def test_one_table_in_a_saved_model_and_the_harness(tmp_path):
    inputs = keras.Input((None,), dtype="int32")
    embedding = layers.ReversibleEmbedding(7, 4, name="embedding")
    model = keras.Model(inputs, embedding(embedding(inputs), reverse=True))
    assert len(model.weights) == 1
    path = str(tmp_path / "tied.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(IDS)), np.asarray(model(IDS)), atol=1e-6)
    run_layer_test(layers.ReversibleEmbedding, {"input_dim": 6, "output_dim": 4}, IDS, expected_output_shape=(2, 3, 4),
                   expected_num_trainable_weights=1)  # fmt: skip
