"""PositionalEncoding against Vaswani et al.'s table, any length and start, the mask, the harness."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test
from transformer_references import PAD, X

from seqrecipes import layers


@pytest.mark.parametrize("D", [6, 7])
def test_positional_encoding_matches_vaswani(D):
    T, start = 5, 3
    table = np.zeros((T, D))
    for p in range(T):
        for k in range(D):
            i = k // 2
            angle = (p + start) / 10000 ** (2 * i / D)
            table[p, k] = np.sin(angle) if k % 2 == 0 else np.cos(angle)
    pe = layers.PositionalEncoding()(np.zeros((2, T, D), "float32"), start_index=start)
    np.testing.assert_allclose(pe, np.broadcast_to(table, (2, T, D)), atol=1e-5)
    # Any length, and rows of a long table equal the rows computed from an offset.
    long = np.asarray(layers.PositionalEncoding()(np.zeros((1, 3000, D), "float32")))
    np.testing.assert_allclose(long[0, start : start + T], table, atol=1e-4)
    assert np.all(np.isfinite(long))


def test_positional_encoding_mask_and_harness():
    x = keras.layers.Masking(mask_value=0.0)(X * PAD[:, :, None])
    out = layers.PositionalEncoding()(x)
    np.testing.assert_array_equal(out._keras_mask, PAD)
    run_layer_test(
        layers.PositionalEncoding,
        {"max_wavelength": 500},
        X,
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=0,  # a fixed table
    )
