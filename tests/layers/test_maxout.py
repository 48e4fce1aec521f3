"""Maxout: the maximum of each group of pieces against NumPy, the shared harness (no weights; the mask
passes through), and argument errors."""

import numpy as np
import pytest
from layer_harness import run_layer_test

from seqrecipes import layers

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("pieces", [1, 2, 3])
def test_groups_of_pieces_match_numpy(pieces):
    x = RNG.normal(size=(2, 5, 4 * pieces)).astype("float32")
    expected = np.stack([x[..., j * pieces : (j + 1) * pieces].max(-1) for j in range(4)], axis=-1)
    np.testing.assert_array_equal(layers.Maxout(pieces)(x), expected)


def test_harness_with_a_mask():
    x = RNG.normal(size=(2, 5, 6)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    run_layer_test(layers.Maxout, {"pieces": 2}, x, input_mask=mask, expected_output_shape=(2, 5, 3),
                   expected_num_trainable_weights=0, run_fit=False)  # fmt: skip
    assert np.array_equal(layers.Maxout(2).compute_mask(x, mask), mask)


def test_errors():
    with pytest.raises(ValueError, match="Received: pieces=0"):
        layers.Maxout(0)
    with pytest.raises(ValueError, match=r"multiple of pieces=2. Received: inputs.shape=\(2, 5\)"):
        layers.Maxout(2)(np.zeros((2, 5), "float32"))
