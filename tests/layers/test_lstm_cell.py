"""LSTMCell: golden values and the forget-gate bias (its equation against NumPy, over every cell:
test_recurrent_cell.py)."""

import numpy as np
from recurrent_checks import check_golden_values
from recurrent_references import GOLDEN_INITIALIZERS, GOLDEN_UNITS, D, H

from seqrecipes import layers


def test_golden_values():
    # Computed with keras.layers.LSTM(3) given the same weights built in NumPy (W, U, b each evenly
    # spaced over its entries, as recurrent_references.Ramp, then b_f = 1 for unit_forget_bias), on
    # GOLDEN_INPUT; it agrees with recurrent_references.np_lstm to 1e-7. Swapping any two gates'
    # blocks of W, U and b moves some output by 0.02 or more.
    expected = np.array(
        [
            [[0.0453092, 0.0609860, 0.0775877], [0.1041941, 0.1426217, 0.1832296], [0.1704479, 0.2361801, 0.3040537]],
            [[0.1229068, 0.1659489, 0.2106177], [0.2278311, 0.3120860, 0.3956167], [0.3133011, 0.4317090, 0.5413201]],
        ]
    )
    check_golden_values(layers.LSTMCell(GOLDEN_UNITS, **GOLDEN_INITIALIZERS), expected, atol=1e-6)


def test_forget_gate_bias_starts_at_one():
    lstm = layers.LSTMCell(H)
    lstm.build((None, D))
    bias = np.asarray(lstm.bias)
    np.testing.assert_array_equal(bias[H : 2 * H], 1.0)
    np.testing.assert_array_equal(np.delete(bias, np.s_[H : 2 * H]), 0.0)
    plain = layers.LSTMCell(H, unit_forget_bias=False)
    plain.build((None, D))
    np.testing.assert_array_equal(np.asarray(plain.bias), 0.0)
