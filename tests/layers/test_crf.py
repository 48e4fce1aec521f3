"""CRF (a linear-chain conditional random field): log Z, the score and Viterbi against brute force over every tag
sequence, padding, training on a task only the transitions solve, tf.function and SavedModel, .keras, bad input."""

import itertools
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from seqrecipes import layers

LENGTHS = [4, 1, 0, 3, 2]  # one row of each length up to T = 4, a row of 1 and an empty row


def np_score(x, y, a, b, e):
    """The docstring's score(x, y) of one row's L real steps x (L, K) and tags y (L,); 0 for L = 0."""
    if len(y) == 0:
        return 0.0
    pairs = sum(a[i, j] for i, j in zip(y[:-1], y[1:]))
    return b[y[0]] + sum(x[t, y_t] for t, y_t in enumerate(y)) + pairs + e[y[-1]]


def np_all_scores(x, a, b, e, length):
    """{tags: score} over all K**L tag sequences of one row (the empty sequence for L = 0)."""
    k = x.shape[-1]
    return {y: np_score(x[:length], y, a, b, e) for y in itertools.product(range(k), repeat=length)}


def np_log_z(scores):
    values = np.array(list(scores.values()), dtype=np.float64)
    top = values.max()
    return top + np.log(np.exp(values - top).sum())


def random_crf(k, seed):
    """A built CRF with random A, b and e (so that the start and end scores count too), and the three arrays."""
    rng = np.random.default_rng(seed)
    crf = layers.CRF(num_tags=k)
    crf.build((None, None, k))
    weights = [rng.normal(size=(k, k)), rng.normal(size=k), rng.normal(size=k)]
    crf.set_weights([w.astype("float32") for w in weights])
    return crf, [w.astype("float32").astype(np.float64) for w in weights]


def random_batch(k, steps, lengths, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(len(lengths), steps, k)).astype("float32")
    mask = np.arange(steps)[None, :] < np.array(lengths)[:, None]  # (B, T), right-padded
    tags = rng.integers(0, k, size=(len(lengths), steps))
    return x, mask, tags


CASES = [(2, 4, LENGTHS), (3, 4, LENGTHS), (3, 2, [2, 1, 0]), (2, 1, [1, 0])]


@pytest.mark.parametrize("k, steps, lengths", CASES)
def test_log_partition_is_the_logsumexp_of_every_sequence_score(k, steps, lengths):
    crf, (a, b, e) = random_crf(k, seed=k + steps)
    x, mask, _ = random_batch(k, steps, lengths, seed=steps)
    got = np.asarray(crf.log_partition(x, mask))
    expected = [np_log_z(np_all_scores(x[i], a, b, e, n)) for i, n in enumerate(lengths)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    assert got[lengths.index(0)] == 0.0
    full = np.asarray(crf.log_partition(x))  # mask=None: every step is real
    np.testing.assert_allclose(full, [np_log_z(np_all_scores(row, a, b, e, steps)) for row in x], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k, steps, lengths", CASES)
def test_sequence_score_is_the_docstring_formula(k, steps, lengths):
    crf, (a, b, e) = random_crf(k, seed=10 + k)
    x, mask, tags = random_batch(k, steps, lengths, seed=20 + steps)
    got = np.asarray(crf.sequence_score(x, tags, mask))
    expected = [np_score(x[i, :n], tuple(tags[i, :n]), a, b, e) for i, n in enumerate(lengths)]
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)
    full = np.asarray(crf.sequence_score(x, tags))
    np.testing.assert_allclose(full, [np_score(x[i], tuple(tags[i]), a, b, e) for i in range(len(x))], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", [2, 3])
def test_the_probabilities_of_every_sequence_of_a_row_sum_to_one(k):
    crf, _ = random_crf(k, seed=3)
    steps, length = 4, 3
    x, _, _ = random_batch(k, steps, [length], seed=4)
    sequences = np.array([list(y) + [0] * (steps - length) for y in itertools.product(range(k), repeat=length)])
    batch = np.repeat(x, len(sequences), axis=0)  # one copy of the row for each tag sequence
    mask = np.arange(steps)[None, :] < length
    log_p = np.asarray(crf.log_likelihood(batch, sequences, np.repeat(mask, len(sequences), axis=0)), dtype=np.float64)
    assert np.all(log_p < 0)
    np.testing.assert_allclose(np.exp(log_p).sum(), 1.0, rtol=1e-5)


@pytest.mark.parametrize("k, steps, lengths", CASES)
def test_decode_is_the_brute_force_argmax(k, steps, lengths):
    crf, (a, b, e) = random_crf(k, seed=30 + k)
    x, mask, _ = random_batch(k, steps, lengths, seed=40 + steps)
    tags, score = crf.decode(x, mask)
    assert tags.dtype == "int32" and score.dtype == "float32"
    for i, n in enumerate(lengths):
        scores = np_all_scores(x[i], a, b, e, n)
        best = max(scores, key=scores.get)
        np.testing.assert_array_equal(np.asarray(tags)[i], list(best) + [0] * (steps - n))
        np.testing.assert_allclose(np.asarray(score)[i], scores[best], rtol=1e-5, atol=1e-5)
    full_tags, full_score = crf.decode(x)  # mask=None
    for i in range(len(x)):
        scores = np_all_scores(x[i], a, b, e, steps)
        best = max(scores, key=scores.get)
        np.testing.assert_array_equal(np.asarray(full_tags)[i], best)
        np.testing.assert_allclose(np.asarray(full_score)[i], scores[best], rtol=1e-5, atol=1e-5)


def test_emissions_and_tags_at_padding_change_nothing():
    crf, _ = random_crf(3, seed=5)
    x, mask, tags = random_batch(3, 4, LENGTHS, seed=6)
    noisy_x = np.where(mask[..., None], x, 50.0 * np.random.default_rng(7).normal(size=x.shape)).astype("float32")
    noisy_tags = np.where(mask, tags, 2 - tags)
    assert not np.allclose(noisy_x, x) and not np.array_equal(noisy_tags, tags)
    for f, g in [
        (lambda: crf.log_partition(x, mask), lambda: crf.log_partition(noisy_x, mask)),
        (lambda: crf.sequence_score(x, tags, mask), lambda: crf.sequence_score(noisy_x, noisy_tags, mask)),
        (lambda: crf.decode(x, mask), lambda: crf.decode(noisy_x, mask)),
    ]:
        for clean, noisy in zip(keras.tree.flatten(f()), keras.tree.flatten(g())):
            np.testing.assert_allclose(np.asarray(noisy), np.asarray(clean), rtol=1e-6, atol=1e-6)


def cycle_task():
    """Token 1, 2 or 3 starts a row with tag 0, 1 or 2; every later token is 4 and its tag is the previous tag + 1
    (mod 3). Token 4's emissions are the same at every step, so only the transitions can tell its tags apart."""
    ids, tags = [], []
    for first in range(3):
        for length in (2, 3, 5, 6):
            ids.append([first + 1] + [4] * (length - 1) + [0] * (6 - length))
            tags.append([(first + t) % 3 for t in range(length)] + [0] * (6 - length))
    return np.array(ids), np.array(tags)


def test_training_the_negative_log_likelihood_learns_transitions_that_decode_the_cycle():
    ids, tags = cycle_task()
    mask = ids != 0
    inputs = keras.Input((None,), dtype="int32")
    crf = layers.CRF(num_tags=3)
    emissions = crf(keras.layers.Dense(3)(keras.layers.Embedding(5, 8, mask_zero=True)(inputs)))
    model = keras.Model(inputs, emissions)
    optimizer = keras.optimizers.Adam(0.05)

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(crf.log_likelihood(model(ids), tags, mask))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_weights), model.trainable_weights))
        return loss

    before = np.asarray(crf.decode(model(ids), mask)[0])
    assert not np.array_equal(before, tags)
    losses = [float(train_step()) for _ in range(300)]
    assert losses[-1] < 0.05 * losses[0]
    np.testing.assert_array_equal(np.asarray(crf.decode(model(ids), mask)[0]), tags)
    longer = np.array([[2] + [4] * 7])  # longer than any training row
    np.testing.assert_array_equal(np.asarray(crf.decode(model(longer))[0]), [[1, 2, 0, 1, 2, 0, 1, 2]])


def test_decode_and_log_partition_in_a_tf_function_and_a_reloaded_saved_model(tmp_path):
    crf, _ = random_crf(3, seed=8)
    signature = [tf.TensorSpec((None, None, 3), tf.float32), tf.TensorSpec((None, None), tf.bool)]

    class Tagger(tf.Module):
        def __init__(self, crf):
            super().__init__()
            self.crf = crf

        @tf.function(input_signature=signature)
        def decode(self, x, mask):
            return self.crf.decode(x, mask)

        @tf.function(input_signature=signature)
        def log_partition(self, x, mask):
            return self.crf.log_partition(x, mask)

    tagger = Tagger(crf)
    concrete = tagger.decode.get_concrete_function()
    assert concrete.structured_outputs[0].shape.as_list() == [None, None]  # T unknown when traced
    tf.saved_model.save(tagger, str(tmp_path / "tagger"))
    reloaded = tf.saved_model.load(str(tmp_path / "tagger"))
    for steps, lengths in [(4, LENGTHS), (1, [1, 0, 1]), (6, [6, 2])]:
        x, mask, _ = random_batch(3, steps, lengths, seed=steps)
        expected_tags, expected_score = crf.decode(x, mask)
        expected_log_z = np.asarray(crf.log_partition(x, mask))
        for module in (tagger, reloaded):
            got_tags, got_score = module.decode(tf.constant(x), tf.constant(mask))
            np.testing.assert_array_equal(got_tags.numpy(), np.asarray(expected_tags))
            np.testing.assert_allclose(got_score.numpy(), np.asarray(expected_score), rtol=1e-6)
            np.testing.assert_allclose(module.log_partition(x, mask).numpy(), expected_log_z, rtol=1e-6)


def test_shared_harness():
    x, mask, _ = random_batch(3, 4, [4, 2, 1], seed=9)
    # run_fit=False: call is the identity, so a loss on its output gives the CRF's weights no gradient and the
    # harness's "one fit step changed a weight" cannot hold; training goes through log_likelihood (test above).
    run_layer_test(layers.CRF, {"num_tags": 3}, x, input_mask=mask, expected_output_shape=(3, 4, 3),
                   expected_num_trainable_weights=3, run_fit=False)  # fmt: skip


def test_float16_emissions_are_computed_in_float32():
    crf, _ = random_crf(3, seed=11)
    x, mask, tags = random_batch(3, 4, LENGTHS, seed=12)
    x16 = x.astype("float16")
    x32 = x16.astype("float32")
    for method, args in [("log_partition", ()), ("sequence_score", (tags,)), ("log_likelihood", (tags,))]:
        got = getattr(crf, method)(x16, *args, mask=mask)
        assert got.dtype == "float32"
        np.testing.assert_allclose(np.asarray(got), np.asarray(getattr(crf, method)(x32, *args, mask=mask)), rtol=1e-6)
    np.testing.assert_array_equal(np.asarray(crf.decode(x16, mask)[0]), np.asarray(crf.decode(x32, mask)[0]))
    keras.config.set_dtype_policy("mixed_float16")  # restored by conftest
    mixed = layers.CRF(num_tags=3)
    assert mixed(x16).dtype == "float16" and mixed.transitions.dtype == "float32"
    assert mixed.log_partition(x16, mask).dtype == "float32"


def test_a_saved_keras_model_reproduces_decode_after_a_safe_mode_load(tmp_path):
    ids = np.array([[3, 1, 4, 1, 0], [5, 2, 6, 0, 0], [2, 0, 0, 0, 0]])
    inputs = keras.Input((None,), dtype="int32")
    x = keras.layers.Dense(4)(keras.layers.Embedding(8, 6, mask_zero=True)(inputs))
    model = keras.Model(inputs, layers.CRF(num_tags=4, name="crf")(x))
    crf = model.get_layer("crf")
    crf.start_transitions.assign(np.random.default_rng(13).normal(size=4).astype("float32"))
    expected_tags, expected_score = crf.decode(model(ids), ids != 0)
    path = os.path.join(tmp_path, "tagger.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    loaded_crf = loaded.get_layer("crf")
    assert type(loaded_crf) is layers.CRF and loaded_crf.num_tags == 4
    for w, v in zip(crf.weights, loaded_crf.weights):
        np.testing.assert_array_equal(np.asarray(v), np.asarray(w))
    tags, score = loaded_crf.decode(loaded(ids), ids != 0)
    np.testing.assert_array_equal(np.asarray(tags), np.asarray(expected_tags))
    np.testing.assert_allclose(np.asarray(score), np.asarray(expected_score), rtol=1e-6)


@pytest.mark.parametrize("num_tags", [1, 0, 2.0, True, "3"])
def test_num_tags_must_be_an_integer_of_at_least_two(num_tags):
    with pytest.raises(ValueError) as error:
        layers.CRF(num_tags=num_tags)
    message = str(error.value)
    assert "`num_tags` of CRF must be an integer of at least 2 (a CRF with one tag" in message
    assert f"Received: num_tags={num_tags!r}" in message


def test_num_tags_may_be_a_numpy_integer_and_is_stored_as_an_int():
    crf = layers.CRF(num_tags=np.int64(4))
    assert type(crf.num_tags) is int and crf.get_config()["num_tags"] == 4


def test_emissions_whose_last_axis_is_not_num_tags():
    crf, _ = random_crf(3, seed=14)
    words = "`emissions` of CRF must have the shape (B, T, num_tags), with num_tags=3"
    for call in (lambda: crf.log_partition(np.zeros((2, 4, 5))), lambda: crf.decode(np.zeros((2, 4, 5))),
                 lambda: layers.CRF(num_tags=3)(np.zeros((2, 4, 5))), lambda: crf.decode(np.zeros((2, 3)))):  # fmt: skip
        with pytest.raises(ValueError) as error:
            call()
        assert words in str(error.value) and "Received: emissions.shape=(2, " in str(error.value)


@pytest.mark.parametrize("shape", [(2, 5), (3, 4), (2, 4, 1), (8,)])
def test_tags_and_mask_must_have_the_first_two_axes_of_the_emissions(shape):
    crf, _ = random_crf(3, seed=15)
    x = np.zeros((2, 4, 3), "float32")
    with pytest.raises(ValueError) as error:
        crf.sequence_score(x, np.zeros(shape, "int32"))
    assert f"`tags` of CRF must have the shape (B, T) of the emissions' first two axes (2, 4). Received: tags.shape={shape}" in str(error.value)
    with pytest.raises(ValueError) as error:
        crf.log_partition(x, np.ones(shape, bool))
    assert f"Received: mask.shape={shape}" in str(error.value)
