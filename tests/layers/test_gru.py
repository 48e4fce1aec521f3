"""GRU, the sequence layer with Keras's arguments: Keras weight transfer (both reset forms) and the
shared harness."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test
from recurrent_checks import check_keras_weight_transfer

from seqrecipes import layers


@pytest.mark.parametrize("reset_after", [True, False], ids=["GRU-after", "GRU-before"])
def test_keras_weight_transfer_both_ways(reset_after):
    check_keras_weight_transfer(layers.GRU, keras.layers.GRU, {"reset_after": reset_after})


def test_shared_harness():
    x = np.random.default_rng(10).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    run_layer_test(
        layers.GRU,
        {"units": 4, "return_state": True, "reset_after": False, "recurrent_dropout": 0.1},
        x,
        input_mask=mask,
        expected_num_trainable_weights=3,  # kernel, recurrent_kernel, bias
    )
