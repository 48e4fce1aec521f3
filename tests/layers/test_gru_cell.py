"""GRUCell: golden values of both reset forms and seed 001's mirror update convention (its equations
against NumPy, over every cell: test_recurrent_cell.py)."""

import numpy as np
import pytest
from recurrent_checks import check_golden_values
from recurrent_references import GOLDEN_INITIALIZERS, GOLDEN_UNITS, B, D, H, randomize, sigmoid

from seqrecipes import layers

# Computed with keras.layers.GRU(3, reset_after=...) given the same weights built in NumPy (W, U, b
# each evenly spaced over its entries, as recurrent_references.Ramp; b of shape (2, 9) for
# reset_after=True), on GOLDEN_INPUT; both agree with recurrent_references.np_gru to 1e-7.
GOLDEN = {
    True: [
        [[0.1063852, 0.1299258, 0.1513756], [0.2333688, 0.2820220, 0.3238659], [0.3633967, 0.4335796, 0.4896399]],
        [[0.3174200, 0.3451587, 0.3564994], [0.5225776, 0.5770859, 0.6005093], [0.6530827, 0.7240109, 0.7554622]],
    ],
    False: [
        [[0.1459118, 0.1730967, 0.1967822], [0.2910964, 0.3434172, 0.3859883], [0.4265821, 0.4977931, 0.5512435]],
        [[0.3478533, 0.3716256, 0.3783424], [0.5655723, 0.6132167, 0.6290787], [0.6968608, 0.7586195, 0.7814459]],
    ],
}


@pytest.mark.parametrize("reset_after", [True, False], ids=["reset_after", "reset_before"])
def test_golden_values(reset_after):
    cell = layers.GRUCell(GOLDEN_UNITS, reset_after=reset_after, **GOLDEN_INITIALIZERS)
    check_golden_values(cell, GOLDEN[reset_after], atol=1e-6)


def test_gru_mirror_update_convention_is_the_same_family():
    """Seed 001's h = (1 - z') h_{t-1} + z' h~ is this cell with z' = 1 - z (W_z, U_z, b_z negated)."""
    rng = np.random.default_rng(8)
    x = rng.normal(size=(B, D)).astype("float32")
    h_tm1 = rng.normal(size=(B, H)).astype("float32")
    cell = layers.GRUCell(H, reset_after=False)
    cell.build((None, D))
    randomize(cell, rng)
    W, U, b = [w.astype("float64") for w in cell.get_weights()]
    # The mirror form, written as seed 001 writes it, with its own update weights W'_z = -W_z etc.
    Wz_p, Uz_p, bz_p = -W[:, :H], -U[:, :H], -b[:H]
    z_p = sigmoid(x @ Wz_p + h_tm1 @ Uz_p + bz_p)
    r = sigmoid(x @ W[:, H : 2 * H] + h_tm1 @ U[:, H : 2 * H] + b[H : 2 * H])
    hh = np.tanh(x @ W[:, 2 * H :] + (r * h_tm1) @ U[:, 2 * H :] + b[2 * H :])
    mirror = (1 - z_p) * h_tm1 + z_p * hh
    np.testing.assert_allclose(np.asarray(cell(x, [h_tm1])[0]), mirror, atol=1e-5)
