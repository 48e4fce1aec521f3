"""LuongAttention against NumPy: the dot, general and concat scores, precomputed keys, masked values,
mixed precision, bad arguments and the shared harness."""

import re

import numpy as np
import pytest
from attention_references import (
    MASK,
    RNG,
    H,
    Q,
    check_masked_values_change_nothing_and_fully_masked_row_is_zero,
    check_masks_are_safe_under_mixed_float16,
    np_luong,
    run_query_attention_harness,
    weights_of,
)

from seqrecipes import layers


@pytest.mark.parametrize(
    "score, units, scale, query", [("dot", 6, False, "six"), ("general", 4, True, "four"), ("concat", 3, False, "four")]
)
def test_luong_matches_numpy(score, units, scale, query):
    s = Q if query == "four" else RNG.normal(size=(2, 6)).astype("float32")
    attention = layers.LuongAttention(units=units, score=score, scale=scale)
    context, alpha = attention(s, H, mask=MASK)
    w = weights_of(attention)
    if scale:
        attention.attention_g.assign(1.7)
        context, alpha = attention(s, H, mask=MASK)
        w = weights_of(attention)
    ref_context, ref_alpha = np_luong(w, s, H, MASK, score)
    np.testing.assert_allclose(alpha, ref_alpha, atol=1e-6)
    np.testing.assert_allclose(context, ref_context, atol=1e-5)
    context2, _ = attention(s, H, mask=MASK, keys=attention.compute_keys(H))
    np.testing.assert_allclose(context2, context, atol=1e-6)


@pytest.mark.parametrize(
    "make",
    [lambda: layers.LuongAttention(units=4, score="general"), lambda: layers.LuongAttention(units=3, score="concat")],
    ids=["general", "concat"],
)
def test_masked_values_change_nothing_and_fully_masked_row_is_zero(make):
    check_masked_values_change_nothing_and_fully_masked_row_is_zero(make())


def test_masks_are_safe_under_mixed_float16():
    check_masks_are_safe_under_mixed_float16(lambda: layers.LuongAttention(4, score="general"))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: layers.LuongAttention(units=-2), "units=-2"),
        (lambda: layers.LuongAttention(units=4, score="cosine"), "score='cosine'"),
        (lambda: layers.LuongAttention(units=4, score="general")(Q, Q), "values.shape=(2, 4)"),
        (lambda: layers.LuongAttention(units=5, score="dot")(Q, H), "units=5"),
    ],
)
def test_bad_arguments_raise_value_error(make, message):
    with pytest.raises(ValueError, match="Received: .*" + re.escape(message)):
        make()


@pytest.mark.parametrize("score, units, num_weights", [("general", 4, 2), ("concat", 3, 4)])  # (W_1, v_a,) W_a or W_2, g
def test_luong_harness(score, units, num_weights):
    run_query_attention_harness(layers.LuongAttention, {"units": units, "score": score, "scale": True}, num_weights)
