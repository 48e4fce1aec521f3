"""bidirectional_language_model (ELMo): both directions' targets, each direction reading its own side only,
padding, the forward LM behind generation and scoring, learning from the right context, saving."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from bad_input import expect_clear, params, raises
from recipe_checks import reloaded

from seqrecipes import data, recipes

VERBS = {"barks": "dog", "meows": "cat", "moos": "cow"}


def _texts(repeats=30):
    """The animal is known only from the verb on its right; the word on its left ("the") is the same for all."""
    return [f"the {animal} {verb}" for verb, animal in VERBS.items()] * repeats


def _batches(tokenizer, texts, batch_size):
    return (
        tf.data.Dataset.from_tensor_slices(texts).apply(data.tokenize(tokenizer))
        .apply(data.bidirectional_lm_targets()).apply(data.batch_with_padding(batch_size))
    )  # fmt: skip


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    texts = _texts()
    tokenizer = data.WordTokenizer().adapt(texts)
    model = recipes.bidirectional_language_model(
        units=16, embedding_dim=8, num_layers=2, dropout=0.0, learning_rate=1e-2, text_tokenizer=tokenizer
    )
    history = model.fit(_batches(tokenizer, texts, 15).cache(), epochs=30, verbose=0)
    return model, tokenizer, history


def test_targets_are_the_next_and_the_previous_id_with_zero_where_there_is_none():
    ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[7, 8, 9], [5]])).apply(data.bidirectional_lm_targets())
    (ids, targets), (short_ids, short_targets) = [(i.numpy().tolist(), t.numpy().tolist()) for i, t in ds]
    assert ids == [2, 7, 8, 9, 3]
    assert targets == [[7, 0], [8, 2], [9, 7], [3, 8], [0, 9]]
    assert short_ids == [2, 5, 3] and short_targets == [[5, 0], [3, 2], [0, 5]]


def test_each_direction_reads_its_own_side_only():
    # Untrained weights: forward logits at step t must not move when a later id changes, backward logits
    # must not move when an earlier id changes (a leak would let either LM read its answer).
    keras.utils.set_random_seed(1)
    model = recipes.bidirectional_language_model(units=8, embedding_dim=4, num_layers=2, text_vocabulary_size=12)
    ids = np.array([[2, 5, 6, 7, 8, 3]], "int32")
    base = model.predict(ids, verbose=0)  # (1, 6, 2, V)
    changed_late, changed_early = ids.copy(), ids.copy()
    changed_late[0, 4], changed_early[0, 1] = 11, 11
    late, early = model.predict(changed_late, verbose=0), model.predict(changed_early, verbose=0)
    np.testing.assert_allclose(late[0, :4, 0], base[0, :4, 0], atol=1e-6)  # forward, steps before the change
    assert np.abs(late[0, 4:, 0] - base[0, 4:, 0]).max() > 1e-4
    np.testing.assert_allclose(early[0, 2:, 1], base[0, 2:, 1], atol=1e-6)  # backward, steps after the change
    assert np.abs(early[0, :2, 1] - base[0, :2, 1]).max() > 1e-4


def test_padding_on_the_right_changes_no_real_step_of_either_direction():
    keras.utils.set_random_seed(2)
    model = recipes.bidirectional_language_model(units=8, embedding_dim=4, num_layers=1, text_vocabulary_size=12)
    ids = np.array([[2, 5, 6, 3]], "int32")
    padded = np.array([[2, 5, 6, 3, 0, 0, 0]], "int32")
    np.testing.assert_allclose(model.predict(padded, verbose=0)[:, :4], model.predict(ids, verbose=0), atol=1e-6)


def test_one_table_and_one_softmax_serve_both_directions(trained):
    model, _, history = trained
    assert [layer.name for layer in model.layers if isinstance(layer, keras.layers.Embedding)] == ["embedding"]
    assert [layer.name for layer in model.layers if isinstance(layer, keras.layers.Dense)] == ["logits"]
    assert {f"rnn_{j}" for j in range(2)} | {f"backward_rnn_{j}" for j in range(2)} <= {layer.name for layer in model.layers}
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_the_backward_lm_learns_the_word_from_its_right_context(trained):
    model, tokenizer, _ = trained
    texts = [f"the {animal} {verb}" for verb, animal in VERBS.items()]
    ids = next(iter(_batches(tokenizer, texts, 3)))[0].numpy()  # [START] the animal verb [END]
    logits = model.predict(ids, verbose=0)  # (3, 5, 2, V)
    animals = ids[:, 2]
    # The backward LM at the verb (step 3) predicts the animal before it; the forward LM at "the" (step 1)
    # cannot tell the animal, whose cue is on the right.
    np.testing.assert_array_equal(logits[:, 3, 1].argmax(-1), animals)
    forward = tf.nn.softmax(logits[:, 1, 0]).numpy()[np.arange(3), animals]
    assert np.all(forward < 0.6), forward


def test_generation_and_scoring_use_the_forward_lm(trained):
    model, tokenizer, _ = trained
    sentence = "the dog barks"
    ids = next(iter(_batches(tokenizer, [sentence], 1)))[0].numpy()  # [START] the dog barks [END]
    # The step distribution scoring reads: the forward logits with [PAD] and [START] never generated.
    logits = model.predict(ids, verbose=0)[0, :, 0]  # (T, V)
    logits[:, [data.PAD_ID, data.START_ID]] = -1e9
    log_probabilities = tf.nn.log_softmax(logits).numpy()
    expected = sum(log_probabilities[t, ids[0, t + 1]] for t in range(ids.shape[1] - 1))
    assert recipes.score(model, [sentence])["log_prob"][0] == pytest.approx(expected, abs=1e-4)
    assert recipes.predict(model, ["the dog"])["outputs"][0].decode() == "barks"


def test_save_and_reload_in_safe_mode_reproduce_both_directions(trained, tmp_path):
    model, tokenizer, _ = trained
    ids = next(iter(_batches(tokenizer, _texts(1), 3)))[0]
    loaded = reloaded(model, ids, str(tmp_path / "elmo.keras"))
    assert recipes.predict(loaded, ["the cat"])["outputs"][0] == recipes.predict(model, ["the cat"])["outputs"][0]


@pytest.mark.parametrize(
    "case",
    params([
        raises("targets of strings", lambda: tf.data.Dataset.from_tensors(["a"]).apply(data.bidirectional_lm_targets()), ValueError, "integer ids"),
        raises("start_id over the vocabulary", lambda: data.bidirectional_lm_targets(start_id=9, vocabulary_size=8), ValueError, "start_id"),
        raises(
            "an id over the vocabulary",
            lambda: list(tf.data.Dataset.from_tensors([4, 9]).apply(data.bidirectional_lm_targets(vocabulary_size=8))),
            tf.errors.InvalidArgumentError, "vocabulary_size",
        ),
        raises("num_layers=0", lambda: recipes.bidirectional_language_model(num_layers=0, text_vocabulary_size=8), ValueError, "num_layers"),
        raises("cell='rnn'", lambda: recipes.bidirectional_language_model(cell="rnn", text_vocabulary_size=8), ValueError, "cell"),
    ]),  # fmt: skip
)
def test_bad_input(case):
    expect_clear(case)
