"""PeepholeLSTMCell: golden values (its equation against NumPy, over every cell: test_recurrent_cell.py)."""

import numpy as np
from recurrent_checks import check_golden_values
from recurrent_references import GOLDEN_INITIALIZERS, GOLDEN_UNITS

from seqrecipes import layers


def test_golden_values():
    # Computed with recurrent_references.np_peephole_lstm in float64 from weights built in NumPy (W, U, b
    # each evenly spaced over its entries, as recurrent_references.Ramp, then b_f = 1) and the peepholes
    # below, on GOLDEN_INPUT. Swapping two gates' blocks moves some output by 0.02 or more, swapping two
    # peephole vectors by 0.004 or more.
    cell = layers.PeepholeLSTMCell(GOLDEN_UNITS, **GOLDEN_INITIALIZERS)
    cell.build((None, 4))
    cell.input_gate_peephole_weights.assign([0.1, 0.2, 0.3])  # p_i
    cell.forget_gate_peephole_weights.assign([-0.2, 0.0, 0.2])  # p_f
    cell.output_gate_peephole_weights.assign([0.3, -0.1, 0.05])  # p_o
    expected = np.array(
        [
            [[0.0457570, 0.0607276, 0.0777867], [0.1063204, 0.1423893, 0.1867594], [0.1752008, 0.2369271, 0.3161060]],
            [[0.1249251, 0.1648370, 0.2114117], [0.2340881, 0.3127500, 0.4081650], [0.3228587, 0.4365796, 0.5708899]],
        ]
    )
    check_golden_values(cell, expected, atol=1e-6)
