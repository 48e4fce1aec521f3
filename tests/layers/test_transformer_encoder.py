"""TransformerEncoder against NumPy (post-norm and pre-norm), padding, argument errors and the harness."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test
from transformer_references import PAD, X, np_encoder

from seqrecipes import layers


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_encoder_matches_numpy(normalize_first):
    encoder = layers.TransformerEncoder(intermediate_dim=12, num_heads=2, normalize_first=normalize_first)
    out = np.asarray(encoder(X, mask=PAD))
    ref = np_encoder(encoder, X.astype("float64"), PAD)
    np.testing.assert_allclose(out[PAD], ref[PAD], atol=1e-4)
    # Padding does not change the real positions; the Keras mask is the padding mask.
    noisy = X + 5.0 * (~PAD)[:, :, None]
    np.testing.assert_allclose(np.asarray(encoder(noisy, mask=PAD))[PAD], out[PAD], atol=1e-5)
    masked = keras.layers.Masking(mask_value=0.0)(X * PAD[:, :, None])
    np.testing.assert_allclose(np.asarray(encoder(masked))[PAD], out[PAD], atol=1e-5)


@pytest.mark.parametrize("normalize_first", [False, True])
def test_transformer_encoder_harness(normalize_first):
    run_layer_test(
        layers.TransformerEncoder,
        {"intermediate_dim": 12, "num_heads": 2, "normalize_first": normalize_first, "dropout": 0.1},
        X,
        input_mask=PAD,
        expected_output_shape=(2, 5, 8),
        expected_num_trainable_weights=16,  # attention 8, LN_1 2, W_1 b_1 W_2 b_2, LN_2 2
    )


def test_transformer_encoder_errors():
    with pytest.raises(ValueError, match="Received: num_heads=0"):
        layers.TransformerEncoder(intermediate_dim=8, num_heads=0)
    with pytest.raises(ValueError, match="Received: D=8"):
        layers.TransformerEncoder(intermediate_dim=8, num_heads=3)(X)
