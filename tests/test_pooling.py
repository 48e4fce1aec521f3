"""Sentence pooling of seed 004 (last state, masked mean and max, attention pooling) against NumPy."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test
from test_attention import np_masked_softmax
from test_attention import weights_of

from seqrecipes import layers

RNG = np.random.default_rng(2)
H = RNG.normal(size=(3, 6, 4)).astype("float32")  # (B, T, H)
# Right padding, left padding, and an all-padding row.
MASK = np.array([[1, 1, 1, 1, 0, 0], [0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0]], bool)
SOME = np.array([[1, 1, 1, 1, 0, 0], [0, 1, 1, 0, 1, 1], [1, 0, 0, 0, 0, 0]], bool)


def np_last(h, mask):
    out = np.zeros((h.shape[0], h.shape[2]))
    for b in range(h.shape[0]):
        real = np.nonzero(mask[b])[0]
        if len(real):
            out[b] = h[b, real[-1]]
    return out


def np_mean(h, mask):
    m = mask[:, :, None].astype("float64")
    return (h * m).sum(1) / np.maximum(m.sum(1), 1.0)


def np_max(h, mask):
    out = np.zeros((h.shape[0], h.shape[2]))
    for b in range(h.shape[0]):
        if mask[b].any():
            out[b] = h[b][mask[b]].max(0)
    return out


@pytest.mark.parametrize(
    "cls, reference",
    [(layers.LastStatePooling, np_last), (layers.MeanPooling, np_mean), (layers.MaxPooling, np_max)],
)
def test_pooling_matches_numpy(cls, reference):
    layer = cls()
    for mask in (MASK, SOME):
        np.testing.assert_allclose(layer(H, mask=mask), reference(H, mask), atol=1e-6)
    np.testing.assert_allclose(layer(H), reference(H, np.ones((3, 6), bool)), atol=1e-6)
    # The Keras mask is used when no mask is given, and padded values change nothing.
    masked = keras.layers.Masking(mask_value=0.0)(H * MASK[:, :, None])
    np.testing.assert_allclose(layer(masked), reference(H, MASK), atol=1e-6)
    np.testing.assert_allclose(layer(H + 50.0 * (~SOME)[:, :, None], mask=SOME), reference(H, SOME), atol=1e-5)


def test_last_state_of_a_masked_rnn_is_its_final_state():
    rnn = keras.layers.GRU(3, return_sequences=True, return_state=True)
    masked = keras.layers.Masking(mask_value=0.0)(H[:2] * MASK[:2, :, None])
    sequence, final = rnn(masked)
    np.testing.assert_allclose(layers.LastStatePooling()(sequence, mask=MASK[:2]), final, atol=1e-6)


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


@pytest.mark.parametrize(
    "cls, kwargs",
    [(layers.LastStatePooling, {}), (layers.MeanPooling, {}), (layers.MaxPooling, {}), (layers.AttentionPooling, {"units": 3})],
)
def test_pooling_harness(cls, kwargs):
    run_layer_test(cls, kwargs, H, input_mask=SOME, expected_output_shape=(3, 4))


def test_attention_pooling_harness_with_scores():
    run_layer_test(
        layers.AttentionPooling,
        {"units": 3},
        H,
        input_mask=MASK,
        call_kwargs={"return_attention_scores": True},
        expected_output_shape=((3, 4), (3, 6)),
    )


@pytest.mark.parametrize("cls", [layers.LastStatePooling, layers.MeanPooling, layers.MaxPooling])
def test_pooling_rejects_wrong_rank(cls):
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(3, 4\)"):
        cls()(H[:, 0])


def test_attention_pooling_rejects_bad_units():
    with pytest.raises(ValueError, match="Received: units=0"):
        layers.AttentionPooling(units=0)
