"""Scheduled sampling of the recurrent encoder-decoders: the schedule against NumPy, teacher forcing at epsilon 1,
the model's own samples fed back at epsilon 0 (found by a brute-force replay), training, a saved model, export."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from recipe_checks import reloaded
from seqrecipes import data, recipes
from seqrecipes.recipes.training.scheduled_sampling import truth_probability

TOKENIZER = data.CharTokenizer(vocabulary=list("abcdef"))
BUILDS = {
    "seq2seq": lambda **kw: recipes.seq2seq(cell="gru", **kw),
    "seq2seq, Cho's context": lambda **kw: recipes.seq2seq(context_every_step=True, **kw),
    "seq2seq_attention": lambda **kw: recipes.seq2seq_attention(**kw),
    "seq2seq_attention, Luong": lambda **kw: recipes.seq2seq_attention(attention="luong_general", **kw),
}


def _model(name, **settings):
    keras.utils.set_random_seed(3)
    return BUILDS[name](units=8, embedding_dim=4, max_target_length=8, source_tokenizer=TOKENIZER,
                        target_tokenizer=TOKENIZER, **settings)  # fmt: skip


def _batches(batch_size=8):
    pairs = data.sequence_reversal(32, max_length=6, alphabet="abcdef", seed=1)
    return pairs.apply(data.seq2seq_batches(TOKENIZER, TOKENIZER, batch_size)).cache()


def test_truth_probability_is_the_inverse_sigmoid():
    for k in (1.0, 10.0, 500.0):
        steps = np.array([0, 1, 10, 100, 1000, 10**5])
        expected = k / (k + np.exp(np.minimum(steps / k, 700)))
        np.testing.assert_allclose(truth_probability(steps, k).numpy(), expected, rtol=1e-5, atol=1e-30)
    assert float(truth_probability(500 * math.log(500), 500.0)) == pytest.approx(0.5, abs=1e-4)


@pytest.mark.parametrize("name", sorted(BUILDS))
def test_epsilon_one_is_teacher_forcing(name):
    """k = 1e9 at step 0: epsilon rounds to 1 in float32, every input is the truth: the teacher-forced logits."""
    model = _model(name, scheduled_sampling=1e9)
    x, _ = next(iter(_batches()))
    real = x["target_in"].numpy() != 0
    np.testing.assert_allclose(np.asarray(model(x, training=True))[real], np.asarray(model(x))[real], atol=1e-5)


@pytest.mark.parametrize("name", ["seq2seq", "seq2seq_attention"])
def test_epsilon_zero_feeds_back_the_models_own_samples(name):
    """k = 1 after 100 steps: epsilon = 1 / (1 + e^100) = 0. A replay step by step finds, for every
    position, the one token whose step reproduces the logits returned: never [PAD] or [START], and
    [PAD] where the target is padding."""
    model = _model(name, scheduled_sampling=1)
    model.optimizer.iterations.assign(100)
    x, _ = next(iter(_batches(4)))
    logits = np.asarray(model(x, training=True))  # (B, T, V)
    decoder, target_in = model.decoder, x["target_in"].numpy()
    sampled_truth = 0
    for b in range(4):
        state = decoder.encode(x["source"][b : b + 1])
        token = data.START_ID
        for t in range(target_in.shape[1]):
            step, next_state = decoder.step_logits(tf.constant([token]), state, tf.constant(t))
            np.testing.assert_allclose(step.numpy()[0], logits[b, t], atol=1e-5)
            state = next_state
            if t + 1 == target_in.shape[1]:
                break
            candidates = [v for v in range(logits.shape[-1]) if np.allclose(
                decoder.step_logits(tf.constant([v]), state, tf.constant(t + 1))[0].numpy()[0], logits[b, t + 1], atol=1e-5)]  # fmt: skip
            assert len(candidates) == 1, (b, t, candidates)
            (token,) = candidates
            if target_in[b, t + 1] == data.PAD_ID:
                assert token == data.PAD_ID
            else:
                assert token not in (data.PAD_ID, data.START_ID)
                sampled_truth += token == target_in[b, t + 1]
    assert sampled_truth < (target_in[:, 1:] != 0).sum()  # an untrained model's samples are not the truth


def test_trains_saves_reloads_and_exports(tmp_path):
    model = _model("seq2seq_attention", scheduled_sampling=20, dropout=0.1)
    history = model.fit(_batches().repeat(), steps_per_epoch=4, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"])) and int(model.optimizer.iterations) == 8
    x, _ = next(iter(_batches()))
    loaded = reloaded(model, x, str(tmp_path / "scheduled.keras"))
    assert loaded.arguments["scheduled_sampling"] == 20 and loaded.training_logits is not None
    assert np.asarray(loaded(x, training=True)).shape == np.asarray(loaded(x)).shape
    path = recipes.export(loaded, str(tmp_path / "export"))
    served = tf.saved_model.load(path).signatures["serving_default"](inputs=tf.constant(["abc"]))
    assert served["outputs"].numpy()[0] == recipes.predict(loaded, ["abc"])["outputs"][0]
    assert _model("seq2seq").training_logits is None  # off by default: teacher forcing
