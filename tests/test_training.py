"""recipes.train: exact resume after an interruption, early stopping, the NaN guard, checkpoints, predict."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data, layers, recipes
from seqrecipes.recipes import training


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
    assert training.backed_up_epoch(str(tmp_path / "b")) == 2

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
    good = record.weights[1]  # after the second epoch, the last finite one
    _assert_same_weights(model.get_weights(), good)
    checkpoint = keras.saving.load_model(str(tmp_path / "checkpoints" / "last.keras"))
    _assert_same_weights(checkpoint.get_weights(), good)
    assert training.backed_up_epoch(str(tmp_path)) == 2  # kept: a rerun resumes from the good state

    model.optimizer.learning_rate.assign(0.01)
    history = recipes.train(model, _dataset(), epochs=4, run_dir=str(tmp_path), verbose=0)
    assert len(history.history["loss"]) == 2 and np.all(np.isfinite(history.history["loss"]))


def test_bad_arguments_are_clear_errors(tmp_path):
    model = _model()
    with pytest.raises(ValueError, match=r"Received: epochs=0"):
        recipes.train(model, _dataset(), epochs=0, run_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"Received: patience=-1"):
        recipes.train(model, _dataset(), patience=-1, run_dir=str(tmp_path))
    uncompiled = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="must be compiled"):
        recipes.train(uncompiled, _dataset(), run_dir=str(tmp_path))


def _toy_serving(model):
    tokenizer = model.tokenizer("text")

    def serve(strings):
        scores = model(tokenizer.tokenize(strings).to_tensor(shape=[None, 8]))
        return {"label_id": tf.argmax(scores, axis=-1, output_type=tf.int32), "scores": scores}

    return serve


@recipes.register("many-to-one", datasets=(), serving="classify", serving_function=_toy_serving)
def training_test_classifier(*, units: int = 4, text_tokenizer=None, name="training_test_classifier"):
    """A tiny classifier for the predict test."""
    inputs = keras.Input((8,), dtype="int32")
    x = layers.GRU(units)(keras.layers.Embedding(text_tokenizer.vocabulary_size(), units, mask_zero=True)(inputs))
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = recipes.RecipeModel(
        inputs, outputs, recipe="training_test_classifier", arguments={"units": units}, tokenizers={"text": text_tokenizer}, name=name
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def test_predict_runs_the_serving_function_in_batches():
    tokenizer = data.CharTokenizer(vocabulary=list("abcdefg"))
    model = training_test_classifier(text_tokenizer=tokenizer)
    strings = ["abc", "gfe", "aab", "ggf", "a"]
    out = recipes.predict(model, strings, batch_size=2)
    ids = tokenizer.tokenize(strings).to_tensor(shape=[None, 8])
    np.testing.assert_allclose(out["scores"], np.asarray(model(ids)), atol=1e-6)
    np.testing.assert_array_equal(out["label_id"], np.argmax(out["scores"], axis=-1))
    with pytest.raises(ValueError, match="Received: inputs=\\[\\]"):
        recipes.predict(model, [])
    with pytest.raises(ValueError, match="serving function"):
        recipes.predict(_model(), strings)


def test_predict_takes_float_series_for_forecasting_recipes():
    model = recipes.get_recipe("sequence_regressor").function(input_length=6, units=4, mean=[0.0], variance=[1.0])
    series = np.random.default_rng(0).normal(size=(5, 9)).astype("float32")
    out = recipes.predict(model, series, batch_size=2)
    np.testing.assert_allclose(out["forecast"], np.asarray(model(series[:, -6:, None])), atol=1e-5)
    with pytest.raises(ValueError, match=r"\(B, T\) series. Received: shape=\(9,\)"):
        recipes.predict(model, series[0])
