"""LastStatePooling against NumPy, against a masked RNN's final state, and the harness."""

import keras
import numpy as np
from layer_harness import run_layer_test
from pooling_references import MASK, SOME, H, check_pooling_matches_numpy, np_last

from seqrecipes import layers


def test_last_state_pooling_matches_numpy():
    check_pooling_matches_numpy(layers.LastStatePooling, np_last)


def test_last_state_of_a_masked_rnn_is_its_final_state():
    rnn = keras.layers.GRU(3, return_sequences=True, return_state=True)
    masked = keras.layers.Masking(mask_value=0.0)(H[:2] * MASK[:2, :, None])
    sequence, final = rnn(masked)
    np.testing.assert_allclose(layers.LastStatePooling()(sequence, mask=MASK[:2]), final, atol=1e-6)


def test_last_state_pooling_harness():
    run_layer_test(
        layers.LastStatePooling, {}, H, input_mask=SOME, expected_output_shape=(3, 4), expected_num_trainable_weights=0
    )
