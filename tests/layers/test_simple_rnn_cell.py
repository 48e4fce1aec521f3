"""SimpleRNNCell: golden values (its equation against NumPy, over every cell: test_recurrent_cell.py)."""

import numpy as np
from recurrent_checks import check_golden_values
from recurrent_references import GOLDEN_INITIALIZERS, GOLDEN_UNITS

from seqrecipes import layers


def test_golden_values():
    # Computed with keras.layers.SimpleRNN(3) given the same weights built in NumPy (W_x, W_h, b each
    # evenly spaced over its entries, as recurrent_references.Ramp), on GOLDEN_INPUT; it agrees with
    # recurrent_references.np_simple_rnn to 1e-7.
    expected = np.array(
        [
            [[-0.1122522, 0.1493295, 0.3915559], [-0.0690198, 0.3263464, 0.6331144], [-0.1231828, 0.4070337, 0.7564710]],
            [[-0.1763198, 0.3717520, 0.7438710], [-0.1113399, 0.5734052, 0.8889643], [-0.1896102, 0.6140786, 0.9250320]],
        ]
    )
    check_golden_values(layers.SimpleRNNCell(GOLDEN_UNITS, **GOLDEN_INITIALIZERS), expected, atol=1e-6)
