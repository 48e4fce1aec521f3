"""recipes/training/: train (exact resume after an interruption, early stopping, the NaN guard, checkpoints,
TensorBoard) and the metrics, against NumPy, hand-computed values and scikit-learn."""

import math
import os
import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import precision_recall_fscore_support

from seqrecipes import layers, recipes
from seqrecipes.recipes.training import metrics, trainer


def _model(seed=0, learning_rate=0.01, optimizer="adam", units=4):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((5, 2))
    x = layers.GRU(units)(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1)(x))
    opt = keras.optimizers.Adam(learning_rate) if optimizer == "adam" else keras.optimizers.SGD(learning_rate)
    model.compile(optimizer=opt, loss="mse")
    return model


def _arrays(seed=0, n=48, sign=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5, 2)).astype("float32")
    return x, sign * x.sum(axis=(1, 2))[:, None].astype("float32")


def _dataset():
    """A fresh pipeline with a seeded shuffle, as a new process seeded the same way would build it."""
    tf.random.set_seed(7)  # the shuffle's order depends on the global seed too
    return tf.data.Dataset.from_tensor_slices(_arrays()).shuffle(48, seed=3, reshuffle_each_iteration=False).batch(8)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 2:
            raise KeyboardInterrupt("killed at epoch 2")


class _WeightsPerEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


def _assert_same_weights(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_interrupted_and_resumed_run_ends_with_the_uninterrupted_weights(tmp_path):
    uninterrupted = _model()
    recipes.train(uninterrupted, _dataset(), epochs=4, run_dir=str(tmp_path / "a"), verbose=0)

    killed = _model()
    with pytest.raises(KeyboardInterrupt):
        recipes.train(killed, _dataset(), epochs=4, run_dir=str(tmp_path / "b"), verbose=0, callbacks=[_Interrupt()])
    assert trainer.backed_up_epoch(str(tmp_path / "b")) == 2

    # A new process: the model is built again (from another seed, to show the weights are loaded).
    resumed = _model(seed=99)
    history = recipes.train(resumed, _dataset(), epochs=4, run_dir=str(tmp_path / "b"), verbose=0)
    assert len(history.history["loss"]) == 2  # only epochs 3 and 4 ran
    assert int(resumed.optimizer.iterations.numpy()) == int(uninterrupted.optimizer.iterations.numpy()) == 4 * 6
    _assert_same_weights(resumed.get_weights(), uninterrupted.get_weights())
    _assert_same_weights(
        [v.numpy() for v in resumed.optimizer.variables], [v.numpy() for v in uninterrupted.optimizer.variables]
    )
    assert not os.path.exists(tmp_path / "b" / "backup")  # a finished run leaves no backup behind

    # Starting over instead (resume=False) from another initialisation ends elsewhere: the check above can fail.
    restarted = _model(seed=99)
    with pytest.raises(KeyboardInterrupt):
        recipes.train(restarted, _dataset(), epochs=4, run_dir=str(tmp_path / "c"), verbose=0, callbacks=[_Interrupt()])
    recipes.train(restarted, _dataset(), epochs=2, run_dir=str(tmp_path / "c"), resume=False, verbose=0)
    assert not np.array_equal(restarted.get_weights()[0], uninterrupted.get_weights()[0])


def test_resuming_the_backup_of_another_model_is_a_clear_error(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        recipes.train(_model(), _dataset(), epochs=4, run_dir=str(tmp_path), verbose=0, callbacks=[_Interrupt()])
    with pytest.raises(ValueError, match="does not fit this model.*resume=False"):
        recipes.train(_model(units=6), _dataset(), epochs=4, run_dir=str(tmp_path), verbose=0)
    history = recipes.train(_model(units=6), _dataset(), epochs=1, run_dir=str(tmp_path), resume=False, verbose=0)
    assert len(history.history["loss"]) == 1


def test_checkpoints_and_tensorboard_logs_are_written(tmp_path):
    model = _model()
    recipes.train(model, _dataset(), epochs=2, run_dir=str(tmp_path), verbose=0)
    checkpoint = keras.saving.load_model(str(tmp_path / "checkpoints" / "last.keras"), safe_mode=True)
    _assert_same_weights(checkpoint.get_weights(), model.get_weights())
    assert int(checkpoint.optimizer.iterations.numpy()) == 12  # the optimizer state travels with it
    assert os.listdir(tmp_path / "logs" / "train")
    assert sorted(os.listdir(tmp_path / "checkpoints")) == ["last.keras"]


def test_a_dataset_of_unknown_length_trains_without_the_ran_out_of_data_warning(tmp_path):
    data = _dataset().filter(lambda x, y: tf.constant(True))  # the length is unknown until a pass ends
    assert data.cardinality() == tf.data.UNKNOWN_CARDINALITY
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = recipes.train(_model(), data, epochs=2, run_dir=str(tmp_path / "a"), verbose=0, tensorboard=False)
    assert len(history.history["loss"]) == 2
    assert not [w for w in caught if "ran out of data" in str(w.message)]
    with pytest.warns(UserWarning, match="Your input ran out of data"):  # a real interruption still warns
        recipes.train(_model(), data, epochs=2, steps_per_epoch=10, run_dir=str(tmp_path / "b"), verbose=0, tensorboard=False)


def test_early_stopping_stops_and_restores_the_best_weights(tmp_path):
    # Training fits y = sum(x); validation wants y = -sum(x), so validation loss gets worse as training goes on.
    model = _model(learning_rate=0.05)
    record = _WeightsPerEpoch()
    history = recipes.train(
        model, _dataset(), tf.data.Dataset.from_tensor_slices(_arrays(1, 16, sign=-1.0)).batch(8),
        epochs=30, patience=2, run_dir=str(tmp_path), verbose=0, callbacks=[record],
    )  # fmt: skip
    val_loss = history.history["val_loss"]
    best = int(np.argmin(val_loss))
    assert len(val_loss) == best + 3 < 30  # stopped two epochs after the best one
    assert history.stopped_because == "early stopping"
    _assert_same_weights(model.get_weights(), record.weights[best])


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    class _Explode(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                self.model.optimizer.learning_rate.assign(1e30)

    model = _model(optimizer="sgd", learning_rate=0.01)
    record = _WeightsPerEpoch()
    with pytest.warns(UserWarning, match="last good epoch"):
        history = recipes.train(model, _dataset(), epochs=6, run_dir=str(tmp_path), verbose=0, callbacks=[record, _Explode()])
    assert len(history.history["loss"]) == 3 and not np.isfinite(history.history["loss"][-1])
    assert history.stopped_because.startswith("a non-finite loss") and "epoch 3" in history.stopped_because
    good = record.weights[1]  # after the second epoch, the last finite one
    _assert_same_weights(model.get_weights(), good)
    checkpoint = keras.saving.load_model(str(tmp_path / "checkpoints" / "last.keras"))
    _assert_same_weights(checkpoint.get_weights(), good)
    assert trainer.backed_up_epoch(str(tmp_path)) == 2  # kept: a rerun resumes from the good state

    model.optimizer.learning_rate.assign(0.01)
    history = recipes.train(model, _dataset(), epochs=4, run_dir=str(tmp_path), verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))
    assert history.stopped_because is None


def test_bad_arguments_are_clear_errors(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"Received: epochs=0"):
        recipes.train(model, _dataset(), epochs=0, run_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"Received: patience=-1"):
        recipes.train(model, _dataset(), patience=-1, run_dir=str(tmp_path))
    uncompiled = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="must be compiled"):
        recipes.train(uncompiled, _dataset(), run_dir=str(tmp_path))


# ------------------------------------------------------------------------------------------------
# Metrics.

PAD = 0


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _batch(seed=0, batch=3, time=5, vocab=7):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(batch, time, vocab)).astype("float32")
    y_true = rng.integers(1, vocab, size=(batch, time))
    y_true[0, 3:] = PAD
    y_true[-1, 1:] = PAD
    return y_true, logits


def _numpy_perplexity(pairs):
    total, count = 0.0, 0
    for y_true, logits in pairs:
        log_p = np.take_along_axis(_log_softmax(logits.astype("float64")), y_true[..., None], axis=-1)[..., 0]
        mask = y_true != PAD
        total -= log_p[mask].sum()
        count += mask.sum()
    return math.exp(total / count)


def test_perplexity_is_exp_of_the_masked_mean_cross_entropy_over_the_corpus():
    first, second = _batch(0), _batch(1, batch=2, time=3)
    ppl = metrics.Perplexity(from_logits=True)
    ppl.update_state(*first)
    np.testing.assert_allclose(float(ppl.result()), _numpy_perplexity([first]), rtol=1e-5)
    ppl.update_state(*second)  # the corpus value, not the mean of the two batch values
    np.testing.assert_allclose(float(ppl.result()), _numpy_perplexity([first, second]), rtol=1e-5)

    probabilities = metrics.Perplexity(from_logits=False)
    probabilities.update_state(first[0], np.exp(_log_softmax(first[1])))
    np.testing.assert_allclose(float(probabilities.result()), _numpy_perplexity([first]), rtol=1e-5)

    uniform = metrics.Perplexity(from_logits=True)  # a uniform model's perplexity is the vocabulary size
    uniform.update_state(first[0], np.zeros_like(first[1]))
    np.testing.assert_allclose(float(uniform.result()), 7.0, rtol=1e-5)
    uniform.reset_state()
    assert float(uniform.result()) == 1.0  # exp(0): nothing counted yet


def test_perplexity_sample_weight_multiplies_the_padding_mask():
    y_true, logits = _batch(0)
    weighted = metrics.Perplexity(from_logits=True)
    weighted.update_state(y_true, logits, sample_weight=np.array([1.0, 0.0, 1.0]))  # drop the middle example
    np.testing.assert_allclose(float(weighted.result()), _numpy_perplexity([(y_true[[0, 2]], logits[[0, 2]])]), rtol=1e-5)


def test_token_accuracy_ignores_padding():
    y_true, logits = _batch(2)
    predicted = logits.argmax(-1)
    mask = y_true != PAD
    accuracy = metrics.TokenAccuracy()
    accuracy.update_state(y_true, logits)
    np.testing.assert_allclose(float(accuracy.result()), (predicted == y_true)[mask].mean(), rtol=1e-6)
    hand = metrics.TokenAccuracy()  # 2 of the 3 real tokens right; the padded positions' 9s do not count
    hand.update_state(np.array([[4, 5, 0], [6, 0, 0]]), np.array([[4, 6, 9], [6, 9, 9]]))
    np.testing.assert_allclose(float(hand.result()), 2 / 3, rtol=1e-6)


def test_exact_match_compares_whole_sequences_up_to_the_end_token():
    y_true = np.array([[4, 5, 3, 0], [4, 5, 3, 0], [4, 5, 3, 0], [6, 3, 0, 0]])
    predicted = np.array(
        [
            [4, 5, 3, 9],  # right; what follows the end token is ignored
            [4, 5, 5, 3],  # runs past the end: wrong
            [4, 3, 0, 0],  # stops early: wrong
            [6, 3, 0, 0],  # right
        ]
    )  # fmt: skip
    exact = metrics.ExactMatch()
    exact.update_state(y_true, predicted)
    assert float(exact.result()) == 0.5
    scores = np.eye(10, dtype="float32")[predicted]  # the same predictions as one-hot scores (B, T, V)
    from_scores = metrics.ExactMatch()
    from_scores.update_state(y_true, scores)
    assert float(from_scores.result()) == 0.5
    wider = metrics.ExactMatch()  # decoded ids longer than the targets are cut to their width
    wider.update_state(y_true[:1], np.array([[4, 5, 3, 0, 0, 0, 7]]))
    assert float(wider.result()) == 1.0


def test_tagging_f1_per_tag_and_macro_match_scikit_learn():
    rng = np.random.default_rng(3)
    num_tags = 9  # ids 0-3 reserved, tags 4..8
    y_true = rng.integers(4, num_tags, size=(6, 7))
    y_true[:, 5:] = PAD
    predicted = np.where(rng.random(y_true.shape) < 0.6, y_true, rng.integers(4, num_tags, size=y_true.shape))
    names = ["[PAD]", "[UNK]", "[START]", "[END]", "O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    f1 = metrics.TaggingF1(num_tags, tag_names=names)
    f1.update_state(y_true[:3], predicted[:3])
    f1.update_state(y_true[3:], np.eye(num_tags)[predicted[3:]])  # scores work as well as ids
    mask = y_true != PAD
    tags = list(range(4, num_tags))
    p, r, f, support = precision_recall_fscore_support(y_true[mask], predicted[mask], labels=tags, zero_division=0)
    report = f1.report()
    for k, tag in enumerate(tags):
        assert report[names[tag]]["support"] == support[k]
        np.testing.assert_allclose(
            [report[names[tag]][key] for key in ("precision", "recall", "f1")], [p[k], r[k], f[k]], rtol=1e-5
        )
    np.testing.assert_allclose(report["macro"]["f1"], f.mean(), rtol=1e-5)
    np.testing.assert_allclose(float(f1.result()), f.mean(), rtol=1e-5)
    assert "[PAD]" not in report and "[UNK]" not in report


def test_tagging_f1_hand_example_and_bad_arguments():
    f1 = metrics.TaggingF1(6)
    f1.update_state(np.array([[4, 5, 5, 0]]), np.array([[4, 5, 4, 5]]))
    # tag 4: TP 1, FP 1, FN 0 -> P 1/2, R 1, F1 2/3; tag 5: TP 1, FP 0, FN 1 -> P 1, R 1/2, F1 2/3.
    report = f1.report()
    assert report["4"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3), "support": 1}
    assert report["5"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3), "support": 2}
    with pytest.raises(ValueError, match=r"Received: num_tags=0"):
        metrics.TaggingF1(0)
    with pytest.raises(ValueError, match=r"name all 3 tag ids"):
        metrics.TaggingF1(3, tag_names=["a"])


def test_bleu_by_hand():
    # Hypothesis "the cat sat on the mat", reference "the cat is on the mat": n-gram precisions 5/6, 3/5, 1/4, 0/3;
    # equal lengths, so no brevity penalty.
    hypothesis, reference = "the cat sat on the mat", "the cat is on the mat"
    expected = math.exp((math.log(5 / 6) + math.log(3 / 5) + math.log(1 / 4)) / 3)
    np.testing.assert_allclose(metrics.bleu([reference], [hypothesis], max_order=3), expected, rtol=1e-5)
    assert metrics.bleu([reference], [hypothesis]) == 0.0  # no 4-gram matches, no smoothing
    assert metrics.bleu(["2009-06-25", "1999-01-02"], ["2009-06-25", "1999-01-02"]) == 1.0
    short = metrics.bleu(["a b c d"], ["a b"], max_order=1)  # brevity penalty exp(1 - 4/2)
    np.testing.assert_allclose(short, math.exp(1 - 4 / 2), rtol=1e-5)
    with pytest.raises(ValueError, match="same length"):
        metrics.bleu(["a"], ["a", "b"])


def test_exact_match_of_strings():
    assert metrics.exact_match(["2009-06-25", "1999-01-02"], ["2009-06-25", "1999-01-03"]) == 0.5


def _logit_table_model(table):
    """A model whose output for token x is row x of ``table``: fixed, known logits for evaluate."""
    inputs = keras.Input((None,), dtype="int32")
    embedding = keras.layers.Embedding(table.shape[0], table.shape[1], embeddings_initializer=keras.initializers.Constant(table))
    model = keras.Model(inputs, embedding(inputs))
    return model


def test_metrics_inside_compile_evaluate_and_saving(tmp_path):
    rng = np.random.default_rng(5)
    table = rng.normal(size=(7, 7)).astype("float32")
    x = rng.integers(0, 7, size=(10, 6))
    y = rng.integers(1, 7, size=(10, 6))
    y[:, 4:] = PAD
    y[1] = np.where(np.arange(6) < 4, table[x[1]].argmax(-1), PAD)  # one fully right sequence
    model = _logit_table_model(table)
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[metrics.Perplexity(from_logits=True), metrics.TokenAccuracy(), metrics.ExactMatch(), metrics.TaggingF1(7)],
    )
    results = model.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    logits = table[x]
    mask = y != PAD
    np.testing.assert_allclose(results["perplexity"], _numpy_perplexity([(y, logits)]), rtol=1e-5)
    np.testing.assert_allclose(results["token_accuracy"], (logits.argmax(-1) == y)[mask].mean(), rtol=1e-6)
    exact = np.mean([np.all((logits.argmax(-1) == y)[i][mask[i]]) for i in range(10)])
    np.testing.assert_allclose(results["exact_match"], exact, rtol=1e-6)
    assert exact >= 0.1

    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    again = loaded.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    for key in ("perplexity", "token_accuracy", "exact_match", "tagging_f1"):
        np.testing.assert_allclose(again[key], results[key], rtol=1e-6)


def test_series_metrics_are_keras_mse_and_mae():
    mse, mae = metrics.series_metrics()
    y_true, y_pred = np.array([[1.0, 2.0]]), np.array([[2.0, 4.0]])
    mse.update_state(y_true, y_pred)
    mae.update_state(y_true, y_pred)
    assert float(mse.result()) == 2.5 and float(mae.result()) == 1.5
