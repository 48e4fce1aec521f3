"""Hand-written BPTT (layers/_bptt.py and the cells' recurrences): outputs and gradients against
autodiff through the generic loop, against Keras, and under mixed precision."""

import keras
import numpy as np
import pytest
from recurrent_checks import outputs_and_gradients
from recurrent_references import (
    FAST_IDS,
    FAST_LAYERS,
    FAST_SETTINGS,
    VARIANT_IDS,
    VARIANT_LAYERS,
    B,
    D,
    H,
    T,
    randomize,
)

from seqrecipes.layers import _bptt


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS + VARIANT_LAYERS, ids=FAST_IDS + VARIANT_IDS)
def test_hand_written_bptt_matches_autodiff(name, make, make_keras, n_states, monkeypatch):
    """Outputs and gradients (inputs, initial states, weights) of the hand-written BPTT equal those of
    autodiff through the generic loop, with masks, go_backwards, zero outputs, dropout and both
    output kinds receiving gradients."""
    calls = []
    run = _bptt.run
    monkeypatch.setattr(_bptt, "run", lambda *a, **k: calls.append(a[0].name) or run(*a, **k))
    rng = np.random.default_rng(13)
    x = rng.normal(size=(B, T, D)).astype("float32")
    initial_state = [rng.normal(size=(B, H)).astype("float32") for _ in range(n_states)]
    right_padding = np.arange(T)[None, :] < np.array([T, 3, 5])[:, None]
    for settings in FAST_SETTINGS:
        kwargs = {"return_sequences": True, "return_state": True, **settings}
        fast, generic = make(**kwargs), make(**kwargs)
        generic.hand_written_bptt = False
        fast(x), generic(x)
        randomize(fast, rng)
        generic.set_weights(fast.get_weights())
        training = "dropout" in settings  # both layers draw the same masks from the same seed
        for mask in (None, right_padding):
            got = outputs_and_gradients(fast, x, initial_state, mask, training)
            expected = outputs_and_gradients(generic, x, initial_state, mask, training)
            for a, b in zip(got, expected):
                np.testing.assert_allclose(a, b, atol=1e-5, err_msg=f"{name} {settings} mask={mask is not None}")
        if training:
            assert not np.allclose(got[0], outputs_and_gradients(fast, x, initial_state, None)[0])
    # The hand-written path ran, and only this cell's recurrence.
    assert len(calls) >= 2 * len(FAST_SETTINGS) and set(calls) == {fast.cell.hand_written_recurrence().name}


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS, ids=FAST_IDS)
def test_hand_written_bptt_gradients_match_keras(name, make, make_keras, n_states):
    rng = np.random.default_rng(14)
    x = rng.normal(size=(B, T, D)).astype("float32")
    initial_state = [rng.normal(size=(B, H)).astype("float32") for _ in range(n_states)]
    mask = np.arange(T)[None, :] < np.array([T, 2, 4])[:, None]
    ours = make(return_sequences=True, return_state=True)
    theirs = make_keras(return_sequences=True, return_state=True)
    ours(x), theirs(x)
    randomize(theirs, rng)
    ours.set_weights(theirs.get_weights())
    for m in (None, mask):
        got = outputs_and_gradients(ours, x, initial_state, m)
        expected = outputs_and_gradients(theirs, x, initial_state, m)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("name,make,make_keras,n_states", FAST_LAYERS + VARIANT_LAYERS, ids=FAST_IDS + VARIANT_IDS)
def test_hand_written_bptt_under_mixed_float16_tracks_float32(name, make, make_keras, n_states):
    rng = np.random.default_rng(15)
    x = rng.normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    reference = make(return_sequences=True)
    reference(x)
    randomize(reference, rng)
    expected = outputs_and_gradients(reference, x, [], mask)
    keras.config.set_dtype_policy("mixed_float16")  # the conftest fixture restores float32
    mixed = make(return_sequences=True)
    mixed(x)
    mixed.set_weights(reference.get_weights())
    got = outputs_and_gradients(mixed, x, [], mask)
    assert got[0].dtype == np.float16
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a.astype("float32"), b, atol=3e-2, rtol=3e-2)
