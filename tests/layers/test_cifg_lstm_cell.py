"""CIFGLSTMCell: golden values and the input-gate bias that starts f = 1 - i where LSTMCell's forget
bias starts (its equation against NumPy, over every cell: test_recurrent_cell.py)."""

import numpy as np
from recurrent_checks import check_golden_values
from recurrent_references import GOLDEN_INITIALIZERS, GOLDEN_UNITS, D, H

from seqrecipes import layers


def test_golden_values():
    # Computed with recurrent_references.np_cifg_lstm in float64 from weights built in NumPy (W, U, b
    # each evenly spaced over its entries, as recurrent_references.Ramp, then b_i = -1 for
    # unit_forget_bias), on GOLDEN_INPUT. Swapping any two gates' blocks moves some output by 0.1 or more.
    expected = np.array(
        [
            [[0.0123669, 0.0241227, 0.0364673], [0.0295160, 0.0575426, 0.0874725], [0.0504094, 0.0984385, 0.1495362]],
            [[0.0371446, 0.0713326, 0.1093926], [0.0725535, 0.1401059, 0.2121261], [0.1066730, 0.2053538, 0.3043777]],
        ]
    )
    check_golden_values(layers.CIFGLSTMCell(GOLDEN_UNITS, **GOLDEN_INITIALIZERS), expected, atol=1e-6)


def test_input_gate_bias_starts_at_minus_one():
    cifg = layers.CIFGLSTMCell(H)
    cifg.build((None, D))
    np.testing.assert_array_equal(np.asarray(cifg.bias)[:H], -1.0)  # f = 1 - sigmoid(-1) = sigmoid(1)
