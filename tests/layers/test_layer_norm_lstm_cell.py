"""LayerNormLSTMCell: golden values, the input projection read off the kernel, and its epsilon check
(its equation against NumPy, over every cell: test_recurrent_cell.py)."""

import numpy as np
import pytest
from recurrent_checks import check_golden_values
from recurrent_references import GOLDEN_INITIALIZERS, GOLDEN_UNITS, B, D, H, T, layer_norm

from seqrecipes import layers


def test_golden_values():
    # Computed with recurrent_references.np_layer_norm_lstm in float64 from weights built in NumPy (W, U,
    # b each evenly spaced over its entries, as recurrent_references.Ramp, then b_f = 1) and the
    # normalisations' scales and offsets below, on GOLDEN_INPUT. Swapping two gates' blocks moves some
    # output by 0.04 or more, swapping a_x and a_h by 0.05. float32 LN: atol 2e-6.
    cell = layers.LayerNormLSTMCell(GOLDEN_UNITS, **GOLDEN_INITIALIZERS)
    cell.build((None, 4))
    norms = [
        (cell.kernel_norm.gamma, 0.8, 1.2), (cell.kernel_norm.beta, -0.1, 0.1),  # a_x, b_x
        (cell.recurrent_norm.gamma, 1.1, 0.9), (cell.recurrent_norm.beta, 0.05, -0.05),  # a_h, b_h
        (cell.cell_norm.gamma, 0.7, 1.3), (cell.cell_norm.beta, 0.2, -0.2),  # a_c, b_c
    ]  # fmt: skip
    for weight, low, high in norms:
        weight.assign(np.linspace(low, high, weight.shape[0]))
    expected = np.array(
        [
            [[-0.3666362, -0.0336559, 0.7102616], [-0.4459314, -0.1112107, 0.8407868], [-0.4435380, -0.1496883, 0.8507071]],
            [[-0.3992446, -0.0352719, 0.7651230], [-0.4478592, -0.1157204, 0.8446589], [-0.4431389, -0.1518114, 0.8513430]],
        ]
    )
    check_golden_values(cell, expected, atol=2e-6)


def test_layer_norm_input_projection_is_layer_norm_of_wx():
    # project_inputs reads LN's statistics off the kernel (W_c x, x^T G x); check it against LN(W x) + b
    # itself, with gamma, beta, b and inputs far from zero mean, where a shortcut that lost precision would show.
    rng = np.random.default_rng(1)
    cell = layers.LayerNormLSTMCell(H, norm_epsilon=1e-3)
    x = (50.0 + rng.normal(size=(B, T, D))).astype("float32")
    cell.build((None, D))
    for w in (cell.kernel, cell.bias, cell.kernel_norm.gamma, cell.kernel_norm.beta):
        w.assign(rng.normal(0.3, 0.5, w.shape).astype("float32"))
    W, b, a_x, b_x = (np.asarray(w, "float64") for w in (cell.kernel, cell.bias, cell.kernel_norm.gamma, cell.kernel_norm.beta))
    want = layer_norm(x.astype("float64") @ W, a_x, b_x, 1e-3) + b
    got = np.asarray(cell.project_inputs(x))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


def test_bad_norm_epsilon_names_the_argument_and_value():
    with pytest.raises(ValueError, match="norm_epsilon=0"):
        layers.LayerNormLSTMCell(4, norm_epsilon=0)
