"""What every recurrent cell does, over all seven cells: the NumPy equation, step-by-step equals the
whole sequence, padding changes nothing, the shared harness, mixed precision, argument checks, and
which cells own a hand-written recurrence (RecurrentCell.hand_written_recurrence)."""

import keras
import numpy as np
import pytest
from layer_harness import run_layer_test
from recurrent_references import CELL_IDS, CELLS, B, D, H, T, numpy_run, randomize

from seqrecipes import layers


@pytest.mark.parametrize("name,make_cell,np_step,n_states,n_weights", CELLS, ids=CELL_IDS)
def test_cell_matches_numpy_equation(name, make_cell, np_step, n_states, n_weights):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, D)).astype("float32")
    rnn = layers.RNN(make_cell(), return_sequences=True, return_state=True)
    rnn(x)
    randomize(rnn, rng)
    outputs, *states = [np.asarray(t) for t in rnn(x)]
    expected_outputs, expected_states = numpy_run(np_step, x, [w.astype("float64") for w in rnn.get_weights()], n_states)
    np.testing.assert_allclose(outputs, expected_outputs, atol=1e-5)
    for got, want in zip(states, expected_states):
        np.testing.assert_allclose(got, want, atol=1e-5)


@pytest.mark.parametrize("name,make_cell,np_step,n_states,n_weights", CELLS, ids=CELL_IDS)
def test_step_by_step_equals_whole_sequence(name, make_cell, np_step, n_states, n_weights):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, T, D)).astype("float32")
    cell = make_cell()
    rnn = layers.RNN(cell, return_sequences=True, return_state=True)
    whole, *final = rnn(x)
    randomize(rnn, rng)
    whole, *final = [np.asarray(t) for t in rnn(x)]
    states = cell.get_initial_state(batch_size=B)
    for t in range(T):
        out, states = cell(x[:, t], states)
        np.testing.assert_allclose(np.asarray(out), whole[:, t], atol=1e-5)
    for got, want in zip(states, final):
        np.testing.assert_allclose(np.asarray(got), want, atol=1e-5)


@pytest.mark.parametrize("name,make_cell,np_step,n_states,n_weights", CELLS, ids=CELL_IDS)
def test_right_padding_with_mask_changes_nothing(name, make_cell, np_step, n_states, n_weights):
    rng = np.random.default_rng(2)
    lengths = [T, 4, 2]
    x = rng.normal(size=(B, T, D)).astype("float32")
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    rnn = layers.RNN(make_cell(), return_sequences=True, return_state=True)
    rnn(x)
    randomize(rnn, rng)
    padded = np.where(mask[..., None], x, 99.0).astype("float32")
    outputs, *states = [np.asarray(t) for t in rnn(padded, mask=mask)]
    for b, n in enumerate(lengths):
        alone, *alone_states = [np.asarray(t) for t in rnn(x[b : b + 1, :n])]
        np.testing.assert_allclose(outputs[b, :n], alone[0], atol=1e-5)
        for got, want in zip(states, alone_states):
            np.testing.assert_allclose(got[b], want[0], atol=1e-5)
    expected, _ = numpy_run(np_step, padded, [w.astype("float64") for w in rnn.get_weights()], n_states, mask)
    np.testing.assert_allclose(outputs, expected, atol=1e-5)


@pytest.mark.parametrize("name,make_cell,np_step,n_states,n_weights", CELLS, ids=CELL_IDS)
def test_shared_harness_generic_layer(name, make_cell, np_step, n_states, n_weights):
    cell = make_cell()
    x = np.random.default_rng(9).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    run_layer_test(
        layers.RNN,
        {"cell": cell, "return_sequences": True},
        x,
        input_mask=mask,
        expected_output_shape=(2, 4, H),
        expected_num_trainable_weights=n_weights,
        run_mixed_precision=False,  # the one cell instance is float32; mixed precision is checked below
    )


@pytest.mark.parametrize("name,make_cell,np_step,n_states,n_weights", CELLS, ids=CELL_IDS)
def test_cells_under_mixed_float16_track_float32(name, make_cell, np_step, n_states, n_weights):
    x = np.random.default_rng(11).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 1, 1, 1]], bool)
    reference = layers.RNN(make_cell(), return_sequences=True)
    expected = np.asarray(reference(x, mask=mask))
    keras.config.set_dtype_policy("mixed_float16")
    mixed = layers.RNN(make_cell(), return_sequences=True)
    mixed(x)
    mixed.set_weights(reference.get_weights())
    got = mixed(x, mask=mask)
    assert got.dtype == "float16"
    np.testing.assert_allclose(np.asarray(got, "float32"), expected, atol=2e-2)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: layers.LSTM(0), "units=0"),
        (lambda: layers.GRUCell(-3), "units=-3"),
        (lambda: layers.SimpleRNNCell("8"), "units='8'"),
        (lambda: layers.LSTMCell(4, dropout=1.5), "dropout=1.5"),
        (lambda: layers.GRU(4, recurrent_dropout=-0.1), "recurrent_dropout=-0.1"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_hand_written_recurrence_only_for_the_exact_class_with_default_activations():
    def recurrence(cell):
        cell.build((None, D))
        recurrence = cell.hand_written_recurrence()
        return None if recurrence is None else recurrence.name

    assert recurrence(layers.LSTMCell(H)) == "lstm"
    assert recurrence(layers.GRUCell(H, reset_after=False)) == "gru_before"
    assert recurrence(layers.LSTMCell(H, activation="relu")) is None
    assert recurrence(layers.GRUCell(H, recurrent_activation="hard_sigmoid")) is None
    assert recurrence(layers.PeepholeLSTMCell(H)) == "peephole"
    assert recurrence(layers.LayerNormLSTMCell(H)) == "layer_norm"
    assert recurrence(layers.CIFGLSTMCell(H)) == "cifg"
    non_default = (layers.PeepholeLSTMCell(H, activation="relu"), layers.LayerNormLSTMCell(H, recurrent_activation="hard_sigmoid"))
    for cell in non_default:
        assert recurrence(cell) is None
    assert recurrence(layers.GRUCell(H)) == "gru"
    assert recurrence(layers.SimpleRNNCell(H)) == "simple"
    assert recurrence(layers.SimpleRNNCell(H, activation="relu")) is None

    # A user's subclass may change the step: it runs with autodiff unless it declares its own recurrence.
    class MyLSTMCell(layers.LSTMCell):
        pass

    class MyGRUCell(layers.GRUCell):
        pass

    assert recurrence(MyLSTMCell(H)) is None and recurrence(MyGRUCell(H)) is None
    assert layers.RecurrentCell(H).hand_written_recurrence() is None
