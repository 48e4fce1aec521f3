"""SimpleRNN, the sequence layer with Keras's arguments: Keras weight transfer and the shared harness."""

import keras
import numpy as np
from layer_harness import run_layer_test
from recurrent_checks import check_keras_weight_transfer

from seqrecipes import layers


def test_keras_weight_transfer_both_ways():
    check_keras_weight_transfer(layers.SimpleRNN, keras.layers.SimpleRNN, {})


def test_shared_harness():
    x = np.random.default_rng(10).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 1]], bool)
    run_layer_test(
        layers.SimpleRNN,
        {"units": 4, "return_sequences": True, "dropout": 0.1},
        x,
        input_mask=mask,
        expected_num_trainable_weights=3,  # kernel, recurrent_kernel, bias
    )
