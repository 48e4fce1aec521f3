"""NumPy references of the pooling layers (seed 004's sentence vectors), their shared data and the
check every masked pooling passes."""

import keras
import numpy as np

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


def check_pooling_matches_numpy(cls, reference):
    """``cls()`` equals ``reference`` with masks, without one, with a Keras mask, and padded values
    change nothing."""
    layer = cls()
    for mask in (MASK, SOME):
        np.testing.assert_allclose(layer(H, mask=mask), reference(H, mask), atol=1e-6)
    np.testing.assert_allclose(layer(H), reference(H, np.ones((3, 6), bool)), atol=1e-6)
    # The Keras mask is used when no mask is given, and padded values change nothing.
    masked = keras.layers.Masking(mask_value=0.0)(H * MASK[:, :, None])
    np.testing.assert_allclose(layer(masked), reference(H, MASK), atol=1e-6)
    np.testing.assert_allclose(layer(H + 50.0 * (~SOME)[:, :, None], mask=SOME), reference(H, SOME), atol=1e-5)
