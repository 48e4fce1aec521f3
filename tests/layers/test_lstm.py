"""LSTM, the sequence layer with Keras's arguments: Keras weight transfer and the shared harness."""

import keras
import numpy as np
from layer_harness import run_layer_test
from recurrent_checks import check_keras_weight_transfer

from seqrecipes import layers


def test_keras_weight_transfer_both_ways():
    check_keras_weight_transfer(layers.LSTM, keras.layers.LSTM, {})


def test_shared_harness():
    x = np.random.default_rng(10).normal(size=(2, 4, 3)).astype("float32")
    # No mask: a backward pass over right padding reads the padding first (go_backwards with a mask: test_bptt.py).
    run_layer_test(
        layers.LSTM,
        {"units": 4, "return_sequences": True, "return_state": True, "go_backwards": True},
        x,
        expected_num_trainable_weights=3,  # kernel, recurrent_kernel, bias
    )
