"""AttentionPooling against NumPy, fully masked rows, mixed precision, bad units and the harness."""

import numpy as np
import pytest
from attention_references import check_masks_are_safe_under_mixed_float16, np_masked_softmax, weights_of
from layer_harness import run_layer_test
from pooling_references import MASK, SOME, H

from seqrecipes import layers


def test_attention_pooling_matches_numpy():
    pooling = layers.AttentionPooling(units=5)
    s, alpha = pooling(H, mask=SOME, return_attention_scores=True)
    w = weights_of(pooling)
    e = np.tanh(H @ w["kernel"] + w["bias"]) @ w["attention_v"]
    ref_alpha = np_masked_softmax(e, SOME)
    np.testing.assert_allclose(alpha, ref_alpha, atol=1e-6)
    np.testing.assert_allclose(s, np.einsum("bt,bth->bh", ref_alpha, H), atol=1e-5)
    np.testing.assert_allclose(np.asarray(alpha).sum(-1), 1.0, atol=1e-6)
    s, alpha = pooling(H, mask=MASK, return_attention_scores=True)
    assert np.all(np.asarray(s)[2] == 0.0) and np.all(np.asarray(alpha)[2] == 0.0)


def test_attention_pooling_masks_are_safe_under_mixed_float16():
    check_masks_are_safe_under_mixed_float16(lambda: layers.AttentionPooling(3))


def test_attention_pooling_harness():
    run_layer_test(
        layers.AttentionPooling,
        {"units": 3},
        H,
        input_mask=SOME,
        expected_output_shape=(3, 4),
        expected_num_trainable_weights=3,  # W, b, v
    )


def test_attention_pooling_harness_with_scores():
    run_layer_test(
        layers.AttentionPooling,
        {"units": 3},
        H,
        input_mask=MASK,
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((3, 4), (3, 6)),
        expected_num_trainable_weights=3,
    )


def test_attention_pooling_rejects_bad_units():
    with pytest.raises(ValueError, match="Received: units=0"):
        layers.AttentionPooling(units=0)
