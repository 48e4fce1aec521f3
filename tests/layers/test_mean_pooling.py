"""MeanPooling against NumPy and the harness."""

from layer_harness import run_layer_test
from pooling_references import SOME, H, check_pooling_matches_numpy, np_mean

from seqrecipes import layers


def test_mean_pooling_matches_numpy():
    check_pooling_matches_numpy(layers.MeanPooling, np_mean)


def test_mean_pooling_harness():
    run_layer_test(
        layers.MeanPooling, {}, H, input_mask=SOME, expected_output_shape=(3, 4), expected_num_trainable_weights=0
    )
