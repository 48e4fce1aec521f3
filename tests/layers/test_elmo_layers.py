"""ReverseSequence and ScalarMix (ELMo's pieces): the equations against NumPy, masking, the harness, a saved model."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test

from seqrecipes import layers

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 4)).astype("float32")
LENGTHS = np.array([5, 3, 1])
MASK = np.arange(5)[None, :] < LENGTHS[:, None]  # (B, T), right padding


def np_reverse(x, lengths):
    y = x.copy()
    for b, n in enumerate(lengths):
        y[b, :n] = x[b, :n][::-1]
    return y


def test_reverse_sequence_matches_numpy_and_keeps_padding_and_mask():
    layer = layers.ReverseSequence()
    y = np.asarray(layer(X, mask=MASK))
    np.testing.assert_array_equal(y, np_reverse(X, LENGTHS))
    np.testing.assert_array_equal(y[1, 3:], X[1, 3:])  # padding stays where it was
    np.testing.assert_array_equal(np.asarray(layer(y, mask=MASK)), X)  # twice: the input back
    np.testing.assert_array_equal(np.asarray(layer(X)), X[:, ::-1])  # no mask: every step is real
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(X, MASK)), MASK)
    ids = np.array([[4, 5, 6, 0]])
    assert np.asarray(layer(ids, mask=ids != 0)).tolist() == [[6, 5, 4, 0]]


def test_reverse_sequence_in_a_masked_model_passes_the_mask_on():
    inputs = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(10, 4, mask_zero=True)
    reversed_x = layers.ReverseSequence()(embedding(inputs))
    assert reversed_x._keras_mask is not None
    model = keras.Model(inputs, layers.LastStatePooling()(reversed_x))
    table = np.asarray(embedding.embeddings)
    # The last real step of a reversed row is its first word; a dropped mask would give the padding's row.
    np.testing.assert_allclose(np.asarray(model(np.array([[4, 5, 6, 0, 0]]))), table[[4]], atol=1e-6)


def test_reverse_sequence_harness():
    run_layer_test(layers.ReverseSequence, {}, X, input_mask=MASK, expected_output_shape=(3, 5, 4),
                   expected_num_trainable_weights=0, run_fit=False)  # fmt: skip


def test_scalar_mix_matches_numpy_after_training_moves_its_weights():
    h = [RNG.normal(size=(2, 3, 4)).astype("float32") for _ in range(3)]
    layer = layers.ScalarMix()
    np.testing.assert_allclose(np.asarray(layer(h)), np.mean(h, axis=0), rtol=1e-5, atol=1e-6)  # s_j = 1/J, gamma = 1
    w, gamma = np.array([0.5, -1.0, 2.0], "float32"), np.float32(1.7)
    layer.set_weights([w, gamma])
    s = np.exp(w) / np.exp(w).sum()
    np.testing.assert_allclose(np.asarray(layer(h)), gamma * np.tensordot(s, np.stack(h), axes=1), rtol=1e-5, atol=1e-6)
    assert [v.name for v in layer.trainable_weights] == ["layer_weights", "gamma"]


def test_scalar_mix_mask_round_trip_and_saved_model(tmp_path):
    layer = layers.ScalarMix(name="mix")
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    assert type(revived) is layers.ScalarMix and revived.get_config() == layer.get_config()
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(inputs)
    y = keras.layers.Dense(4)(x)
    mixed = layer([x, y])
    assert mixed._keras_mask is not None  # the first input's padding mask goes on
    model = keras.Model(inputs, layers.MeanPooling()(mixed))
    layer.set_weights([np.array([0.3, -0.2], "float32"), np.float32(2.0)])
    ids = np.array([[4, 5, 0], [6, 0, 0]])
    steps = np.asarray(keras.Model(inputs, mixed)(ids))  # (B, T, D), padded steps included
    real = (ids != 0)[:, :, None]
    # The pooled vector is the mean over the real steps only: the mix kept the padding mask.
    np.testing.assert_allclose(np.asarray(model(ids)), (steps * real).sum(1) / real.sum(1), rtol=1e-5, atol=1e-6)
    path = str(tmp_path / "mix.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(ids)), np.asarray(model(ids)), atol=1e-6)


@pytest.mark.parametrize("shapes", [[(2, 3, 4), (2, 3, 5)], (2, 3, 4)])
def test_scalar_mix_rejects_layers_of_different_sizes_or_one_tensor(shapes):
    with pytest.raises(ValueError, match="ScalarMix"):
        layers.ScalarMix().build(shapes)
