"""data.synthetic_tasks: seeded, exact synthetic sequence tasks."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import assert_reproducible, items


@pytest.mark.parametrize(
    "make",
    [
        lambda seed: data.adding_problem(20, length=12, seed=seed),
        lambda seed: data.copy_memory(20, delay=5, copy_length=3, seed=seed),
        lambda seed: data.sequence_reversal(20, seed=seed),
        lambda seed: data.digit_addition(20, seed=seed),
        lambda seed: data.noisy_periodic_series(50, seed=seed).batch(50).map(lambda x: (x, x)),
    ],
    ids=["adding", "copy", "reversal", "addition", "series"],
)
def test_synthetic_tasks_are_reproducible_under_a_seed(make):
    assert_reproducible(make)


def test_adding_problem():
    ds = data.adding_problem(100, length=20, seed=0)
    assert ds.element_spec == (tf.TensorSpec((20, 2), tf.float32), tf.TensorSpec((), tf.float32))
    for x, y in items(ds):
        marked = np.flatnonzero(x[:, 1])
        assert len(marked) == 2 and marked[0] < 10 <= marked[1]
        assert y == pytest.approx(x[marked, 0].sum(), abs=1e-6)
    with pytest.raises(ValueError, match=r"Received: length=1"):
        data.adding_problem(length=1)


def test_copy_memory():
    ds = data.copy_memory(50, delay=6, copy_length=4, num_symbols=5, seed=0)
    assert ds.element_spec == (tf.TensorSpec((14,), tf.int32), tf.TensorSpec((14,), tf.int32))
    for x, y in items(ds):
        symbols = x[:4]
        assert ((1 <= symbols) & (symbols <= 5)).all()
        assert x[4:9].tolist() == [0] * 5 and x[9] == 6 and x[10:].tolist() == [0] * 4
        assert y[:10].tolist() == [0] * 10 and y[10:].tolist() == symbols.tolist()


def test_reversal_and_addition():
    for source, target in items(data.sequence_reversal(50, min_length=2, max_length=5, alphabet="가나다", seed=1)):
        source, target = source.decode(), target.decode()
        assert target == source[::-1] and 2 <= len(source) <= 5 and set(source) <= set("가나다")
    pairs = [(a.decode(), b.decode()) for a, b in items(data.digit_addition(200, max_digits=3, seed=0))]
    for source, target in pairs:
        left, right = source.split("+")
        assert int(target) == int(left) + int(right) and str(int(left)) == left and len(left) <= 3
    assert {len(s.split("+")[0]) for s, _ in pairs} == {1, 2, 3}


def test_noisy_periodic_series():
    clean = np.array([v[0] for v in items(data.noisy_periodic_series(48, periods=(12,), noise=0.0, seed=0))])
    np.testing.assert_allclose(clean[:12], clean[12:24], atol=1e-5)
    trend = np.array([v[0] for v in items(data.noisy_periodic_series(24, periods=(12,), trend=1.0, noise=0.0, seed=0))])
    np.testing.assert_allclose(trend[12:] - trend[:12], 12.0, atol=1e-4)
    with pytest.raises(ValueError, match=r"Received: amplitudes=\[1.0, 2.0\]"):
        data.noisy_periodic_series(periods=(12,), amplitudes=(1, 2))
