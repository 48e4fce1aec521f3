"""train(keep_checkpoints=k) keeps the last k epoch weights; average_checkpoints loads their mean (NumPy)."""

import os

import keras
import numpy as np
import pytest

from seqrecipes import data, recipes


def _weights_of(path, model):
    model.load_weights(path)
    return [np.asarray(v) for v in model.weights]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    keras.utils.set_random_seed(0)
    tokenizer = data.CharTokenizer(vocabulary=list("abcd"))
    model = recipes.seq2seq_attention(units=8, embedding_dim=4, max_target_length=6, source_tokenizer=tokenizer,
                                      target_tokenizer=tokenizer)  # fmt: skip
    pairs = data.sequence_reversal(64, max_length=5, alphabet="abcd", seed=0)
    batches = pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, batch_size=16))
    run_dir = str(tmp_path_factory.mktemp("run"))
    recipes.train(model, batches, epochs=4, run_dir=run_dir, keep_checkpoints=3, verbose=0, tensorboard=False)
    return model, run_dir


def test_the_last_k_epochs_are_kept_and_averaged_as_numpy_averages_them(run):
    model, run_dir = run
    paths = recipes.epoch_checkpoints(run_dir)
    assert [os.path.basename(p) for p in paths] == [f"epoch-{n:04d}.weights.h5" for n in (2, 3, 4)]
    last = [np.asarray(v) for v in model.weights]
    for got, want in zip(_weights_of(paths[-1], model), last):  # the newest is the trained model
        np.testing.assert_array_equal(got, want)
    each = [_weights_of(p, model) for p in paths[-2:]]
    recipes.average_checkpoints(model, run_dir, last=2)
    for variable, a, b in zip(model.weights, *each):
        np.testing.assert_allclose(np.asarray(variable), (a.astype("float64") + b) / 2, rtol=1e-6, atol=1e-7)
    assert not np.allclose(np.asarray(model.weights[0]), each[1][0])  # the epochs differ: a real average
    # The averaged model generates and exports as any.
    ids, _ = recipes.greedy_search(model.decoder, model.decoder.inputs_from_raw(["abc"]))
    assert ids.shape == (1, 6)


def test_bad_arguments_name_what_is_wrong(run, tmp_path):
    model, run_dir = run
    with pytest.raises(ValueError, match=r"`last` must be an integer in \[1, 3\].*Received: last=4"):
        recipes.average_checkpoints(model, run_dir, last=4)
    with pytest.raises(ValueError, match=r"no kept epoch weights .* keep_checkpoints=k"):
        recipes.average_checkpoints(model, str(tmp_path))
    with pytest.raises(ValueError, match=r"at least one checkpoint. Received: checkpoints=\[\]"):
        recipes.average_checkpoints(model, [])
    with pytest.raises(ValueError, match=r"does not exist"):
        recipes.average_checkpoints(model, [str(tmp_path / "missing.weights.h5")])
    other = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, name="other")])
    with pytest.raises(ValueError, match=r"Checkpoint .*epoch-0004.weights.h5' does not fit model 'sequential"):
        recipes.average_checkpoints(other, run_dir, last=1)
    with pytest.raises(ValueError, match=r"`keep_checkpoints` must be an integer >= 0. Received: keep_checkpoints=-1"):
        recipes.train(model, np.zeros((2, 2)), epochs=1, run_dir=str(tmp_path), keep_checkpoints=-1)
