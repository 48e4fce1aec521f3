"""BahdanauAttention against NumPy: both scores, precomputed keys, Keras masks, masked values, mixed
precision, bad arguments and the shared harness."""

import re

import keras
import numpy as np
import pytest
from attention_references import (
    MASK,
    H,
    Q,
    check_masked_values_change_nothing_and_fully_masked_row_is_zero,
    check_masks_are_safe_under_mixed_float16,
    np_bahdanau,
    run_query_attention_harness,
    weights_of,
)

from seqrecipes import layers


@pytest.mark.parametrize("normalize", [False, True])
def test_bahdanau_matches_numpy(normalize):
    attention = layers.BahdanauAttention(units=3, normalize=normalize)
    context, alpha = attention(Q, H, mask=MASK)
    ref_context, ref_alpha = np_bahdanau(weights_of(attention), Q, H, MASK, normalize)
    np.testing.assert_allclose(alpha, ref_alpha, atol=1e-6)
    np.testing.assert_allclose(context, ref_context, atol=1e-5)
    assert np.all(np.asarray(alpha)[~MASK] == 0.0)
    np.testing.assert_allclose(np.asarray(alpha).sum(-1), 1.0, atol=1e-6)


def test_bahdanau_precomputed_keys_and_keras_mask():
    attention = layers.BahdanauAttention(units=3)
    context, alpha = attention(Q, H, mask=MASK)
    keys = attention.compute_keys(H)
    context2, alpha2 = attention(Q, H, mask=MASK, keys=keys)
    np.testing.assert_allclose(context2, context, atol=1e-6)
    masked_values = keras.layers.Masking(mask_value=0.0)(H * MASK[:, :, None])
    context3, alpha3 = attention(Q, masked_values)
    np.testing.assert_allclose(alpha3, alpha, atol=1e-6)


def test_masked_values_change_nothing_and_fully_masked_row_is_zero():
    check_masked_values_change_nothing_and_fully_masked_row_is_zero(layers.BahdanauAttention(units=3))


def test_masks_are_safe_under_mixed_float16():
    check_masks_are_safe_under_mixed_float16(lambda: layers.BahdanauAttention(3))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.BahdanauAttention(units=0), "units=0"),
        (lambda: layers.BahdanauAttention(units=3)(H, H), "query.shape=(2, 5, 6)"),
    ],
)
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match="Received: .*" + re.escape(message)):
        make()


@pytest.mark.parametrize("normalize, num_weights", [(False, 3), (True, 5)])  # W, U, v (, g, b)
def test_bahdanau_harness(normalize, num_weights):
    run_query_attention_harness(layers.BahdanauAttention, {"units": 3, "normalize": normalize}, num_weights)
