"""MaxPooling against NumPy and the harness."""

from layer_harness import run_layer_test
from pooling_references import SOME, H, check_pooling_matches_numpy, np_max

from seqrecipes import layers


def test_max_pooling_matches_numpy():
    check_pooling_matches_numpy(layers.MaxPooling, np_max)


def test_max_pooling_harness():
    run_layer_test(
        layers.MaxPooling, {}, H, input_mask=SOME, expected_output_shape=(3, 4), expected_num_trainable_weights=0
    )
