"""text_classifier and sequence_regressor: training, padding, normalisation, save/reload, export."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from recipe_checks import assert_fine_tunes, reloaded

from seqrecipes import data, recipes
from seqrecipes.recipes.many_to_one import sequence_regressor, text_classifier

WORDS = ["movie", "plot", "actor", "scene", "film", "story", "music", "ending"]
TEXTS_TO_SERVE = [
    "good movie",
    "bad plot",
    "the actor was good",
    "",
    "bad bad bad",
    "scene " * 20 + "good",
    "film",
    "music good",
]


def _sentiment(num_examples, seed):
    """Texts of 2-6 filler words with "good" (label 1) or "bad" (label 0) somewhere in them."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(num_examples):
        words = list(rng.choice(WORDS, size=rng.integers(2, 7)))
        label = int(rng.integers(0, 2))
        words.insert(int(rng.integers(0, len(words) + 1)), "good" if label else "bad")
        texts.append(" ".join(words))
        labels.append(label)
    return texts, labels


def _batches(tokenizer, texts, labels, max_length=8, batch_size=16):
    pairs = tf.data.Dataset.from_tensor_slices((texts, labels))
    return pairs.apply(data.tokenize(tokenizer)).apply(data.truncate_or_pad(max_length)).batch(batch_size).cache()


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    texts, labels = _sentiment(64, seed=0)
    tokenizer = data.WordTokenizer().adapt(texts)
    labels_tokenizer = data.WordTokenizer(vocabulary=["negative", "positive"])
    model = recipes.text_classifier(
        max_length=8, encoder="rnn", pooling="last", cell="gru", units=16, embedding_dim=8, learning_rate=0.02,
        text_tokenizer=tokenizer, labels_tokenizer=labels_tokenizer,
    )  # fmt: skip
    batches = _batches(tokenizer, texts, labels)
    history = model.fit(batches, epochs=12, verbose=0)
    return model, tokenizer, batches, history


@pytest.fixture(scope="module")
def regressor():
    keras.utils.set_random_seed(0)
    steps = data.noisy_periodic_series(length=240, noise=0.05, seed=1)
    values = np.concatenate([v for v in steps.batch(1000).as_numpy_iterator()])[:, 0] * 3.0 + 10.0  # mean 10, not 0
    series = data.from_series(values[:200])
    windows = series.apply(data.series_windows(12, horizon=3)).batch(16).cache()
    model = recipes.sequence_regressor(input_length=12, horizon=3, units=16, learning_rate=0.01, series=values[:200])
    history = model.fit(windows, epochs=15, verbose=0)
    return model, values, windows, history


@pytest.fixture(scope="module")
def served(classifier, regressor, tmp_path_factory):
    """Both models exported and served by one fresh process that imports only TensorFlow."""
    root = tmp_path_factory.mktemp("served")
    classify_path = recipes.export(classifier[0], str(root / "classifier"))
    forecast_path = recipes.export(regressor[0], str(root / "regressor"))
    values = regressor[1]
    series = np.stack([values[i : i + 20] for i in range(0, 80, 10)]).astype("float32")  # (8, 20), longer than 12
    out = root / "served.json"
    script = textwrap.dedent(f"""
        import json, numpy as np, tensorflow as tf
        classify = tf.saved_model.load({classify_path!r}).signatures["serving_default"]
        forecast = tf.saved_model.load({forecast_path!r}).signatures["serving_default"]
        texts, series = {TEXTS_TO_SERVE!r}, np.array({series.tolist()!r}, np.float32)
        result = {{}}
        for n in (1, 8):
            out = classify(inputs=tf.constant(texts[:n]))
            result[f"classify_{{n}}"] = {{"label": [s.decode() for s in out["label"].numpy()],
                                         "label_id": out["label_id"].numpy().tolist(), "scores": out["scores"].numpy().tolist()}}
            result[f"forecast_{{n}}"] = forecast(series=tf.constant(series[:n]))["forecast"].numpy().tolist()
        json.dump(result, open({str(out)!r}, "w"))
        """)
    subprocess.run(
        [sys.executable, "-c", script], check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), timeout=300
    )
    return json.loads(out.read_text()), series


# ------------------------------------------------------------------------------------------------
# text_classifier


def test_classifier_learns_the_toy_sentiment(classifier):
    model, tokenizer, batches, history = classifier
    assert history.history["accuracy"][-1] >= 0.95
    texts, labels = _sentiment(32, seed=1)
    _, accuracy = model.evaluate(_batches(tokenizer, texts, labels), verbose=0)
    assert accuracy >= 0.9


@pytest.mark.parametrize(
    "encoder, pooling",
    [("rnn", "last"), ("rnn", "attention"), ("birnn", "last"), ("birnn", "max"), ("transformer", "mean"),
     ("transformer", "attention")],  # fmt: skip
)
def test_padding_never_changes_a_prediction(encoder, pooling):
    """The same weights at max_length 8 and 12: the extra padding must not move the scores."""
    tokenizer = data.WordTokenizer(vocabulary=WORDS + ["good", "bad"])
    arguments = dict(
        encoder=encoder,
        pooling=pooling,
        units=8,
        embedding_dim=8,
        num_heads=2,
        intermediate_dim=8,
        text_tokenizer=tokenizer,
    )
    short, long = recipes.text_classifier(max_length=8, **arguments), recipes.text_classifier(
        max_length=12, **arguments
    )
    # Same weights; the position table of the longer model starts with the shorter one's rows.
    weights = zip(short.get_weights(), long.get_weights())
    long.set_weights([w if w.shape == v.shape else np.concatenate([w, v[len(w) :]]) for w, v in weights])
    texts = tf.constant(["good movie", "bad plot and story", "film", ""])
    short_scores = short(recipes.token_ids(tokenizer, texts, 8))
    long_scores = long(recipes.token_ids(tokenizer, texts, 12))
    np.testing.assert_allclose(np.asarray(long_scores), np.asarray(short_scores), atol=1e-5)
    assert not np.allclose(np.asarray(short_scores)[0], np.asarray(short_scores)[1])  # the inputs matter


def test_a_bag_of_words_classifier_learns_ignores_the_order_saves_and_exports(tmp_path):
    keras.utils.set_random_seed(0)
    texts, labels = _sentiment(64, seed=0)
    tokenizer = data.WordTokenizer().adapt(texts)
    model = recipes.text_classifier(max_length=8, encoder="bag_of_words", learning_rate=0.05, text_tokenizer=tokenizer)
    batches = _batches(tokenizer, texts, labels)
    model.get_layer("bag_of_words").adapt(batches)
    assert float(model.get_layer("bag_of_words").idf.numpy()[tokenizer.token_to_id("good")]) > 1.0
    model.fit(batches, epochs=30, verbose=0)
    test_texts, test_labels = _sentiment(32, seed=1)
    assert model.evaluate(_batches(tokenizer, test_texts, test_labels), verbose=0)[1] >= 0.9
    serve = text_classifier.classifier_serving(model)
    forward, backward = serve(tf.constant(["good movie plot", "plot movie good"]))["scores"].numpy()
    np.testing.assert_array_equal(forward, backward)  # a bag loses the word order
    loaded = reloaded(model, next(iter(batches))[0], str(tmp_path / "bag.keras"))
    np.testing.assert_array_equal(loaded.get_layer("bag_of_words").idf.numpy(), model.get_layer("bag_of_words").idf.numpy())
    exported = recipes.export(loaded, str(tmp_path / "export"), version=1)
    restored = tf.saved_model.load(exported).signatures["serving_default"]
    np.testing.assert_allclose(restored(inputs=tf.constant(["good movie"]))["scores"].numpy(), serve(tf.constant(["good movie"]))["scores"].numpy(), atol=1e-6)


def test_birnn_last_pools_the_final_state_of_each_direction():
    model = recipes.text_classifier(
        text_vocabulary_size=12, max_length=6, encoder="birnn", pooling="last", units=4, embedding_dim=4, ngrams=1
    )  # tokens only: the RNN reads the embedding as it is
    birnn = model.get_layer("birnn_0")
    ids = np.array([[5, 6, 7, 0, 0, 0]], "int32")
    embedded = model.get_layer("embedding")(ids)
    forward = keras.layers.RNN(birnn.forward_layer.cell)(embedded[:, :3])  # (1, 4): after the last real word
    backward = keras.layers.RNN(birnn.backward_layer.cell)(embedded[:, :3][:, ::-1])  # after reading back to word 1
    pooled = keras.Model(model.input, birnn.output)(ids)
    np.testing.assert_allclose(np.asarray(pooled), np.concatenate([forward, backward], axis=-1), atol=1e-5)


def test_classifier_saves_reloads_and_fine_tunes(classifier, tmp_path):
    model, tokenizer, batches, _ = classifier
    loaded = reloaded(model, next(iter(batches))[0], str(tmp_path / "classifier.keras"))
    assert loaded.tokenizer("labels").get_vocabulary()[4:] == ["negative", "positive"]
    assert_fine_tunes(loaded, batches.take(1), layer="logits")


def test_classifier_export_matches_python(classifier, served):
    model, tokenizer, _, _ = classifier
    result, _ = served
    serve = text_classifier.classifier_serving(model)
    for n in (1, 8):
        expected = serve(tf.constant(TEXTS_TO_SERVE[:n]))
        assert result[f"classify_{n}"]["label"] == [s.decode() for s in expected["label"].numpy()]
        assert result[f"classify_{n}"]["label_id"] == expected["label_id"].numpy().tolist()
        np.testing.assert_allclose(result[f"classify_{n}"]["scores"], expected["scores"].numpy(), atol=1e-5)
    assert result["classify_8"]["label"][:2] == ["positive", "negative"]
    # Over-long texts keep their first max_length (8) tokens: "good" at token 21 is not seen.
    ids = recipes.token_ids(tokenizer, tf.constant([TEXTS_TO_SERVE[5], "scene " * 8]), 8)
    np.testing.assert_array_equal(ids[0].numpy(), ids[1].numpy())


def test_label_names_and_class_ids_in_the_serving_output():
    tokenizer = data.WordTokenizer(vocabulary=["a", "b"])
    named = recipes.text_classifier(
        max_length=4, units=4, embedding_dim=4, label_names=["x", "y", "z"], text_tokenizer=tokenizer
    )
    out = text_classifier.classifier_serving(named)(tf.constant(["a b", "b"]))
    names = ["x", "y", "z"]
    assert [s.decode() for s in out["label"].numpy()] == [names[i] for i in out["label_id"].numpy()]
    np.testing.assert_allclose(out["scores"].numpy().sum(-1), 1.0, atol=1e-5)
    plain = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, num_classes=3, text_tokenizer=tokenizer)
    out = text_classifier.classifier_serving(plain)(tf.constant(["a"]))
    assert out["label"].numpy()[0].decode() == str(out["label_id"].numpy()[0])


def test_feature_sequences_with_input_dim_train_on_digit_rows():
    keras.utils.set_random_seed(0)
    model = recipes.text_classifier(
        input_dim=8, num_classes=10, encoder="birnn", pooling="mean", units=16, learning_rate=0.02
    )
    train = data.digit_rows().take(320).batch(32).cache()
    history = model.fit(train, epochs=6, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    assert history.history["accuracy"][-1] > 0.6  # chance is 0.1
    with pytest.raises(ValueError, match=r"input_dim=8"):
        recipes.export(model, "unused")


# ------------------------------------------------------------------------------------------------
# sequence_regressor


def test_regressor_stores_the_normalisation_and_inverts_it(regressor):
    model, values, _, _ = regressor
    mean, variance = model.arguments["mean"], model.arguments["variance"]
    np.testing.assert_allclose(mean, [values[:200].mean()], rtol=1e-5)
    np.testing.assert_allclose(variance, [values[:200].var()], rtol=1e-4)
    probe = recipes.sequence_regressor(input_length=4, horizon=2, units=4, mean=[5.0], variance=[4.0])
    dense = probe.get_layer("normalized_forecast")
    dense.set_weights([np.zeros_like(dense.get_weights()[0]), np.array([0.5, -1.0], "float32")])
    # y^ = mu + sigma z with z = b: 5 + 2 * 0.5 and 5 + 2 * (-1).
    np.testing.assert_allclose(
        np.asarray(probe(np.random.rand(3, 4, 1).astype("float32"))), [[6.0, 3.0]] * 3, atol=1e-5
    )
    windows = data.from_series(values[:200]).apply(data.series_windows(4, horizon=1))
    from_dataset = recipes.sequence_regressor(input_length=4, series=data.from_series(values[:200]))
    assert from_dataset.arguments["mean"] == pytest.approx(mean, rel=1e-5)
    from_windows = recipes.sequence_regressor(input_length=4, series=windows)  # the windows' inputs
    assert from_windows.arguments["mean"] == pytest.approx(mean, rel=1e-2)


def test_regressor_forecasts_better_than_the_mean_on_raw_values(regressor):
    model, values, _, history = regressor
    assert history.history["loss"][-1] < 0.2 * history.history["loss"][0]
    test = data.from_series(values[188:]).apply(data.series_windows(12, horizon=3)).batch(64)
    mse, mae = model.evaluate(test, verbose=0)
    assert mse < 0.1 * values[:200].var()  # predicting the mean scores about the variance
    assert mae > 0


def test_regressor_saves_reloads_and_fine_tunes(regressor, tmp_path):
    model, _, windows, _ = regressor
    loaded = reloaded(model, next(iter(windows))[0], str(tmp_path / "regressor.keras"), atol=1e-5)
    assert_fine_tunes(loaded, windows.take(1), layer="normalized_forecast")


def test_regressor_export_keeps_the_last_window_and_matches_python(regressor, served):
    model, _, _, _ = regressor
    result, series = served
    for n in (1, 8):
        expected = np.asarray(model(series[:n, -12:, None]))  # the export keeps the last 12 steps
        np.testing.assert_allclose(result[f"forecast_{n}"], expected, rtol=1e-5, atol=1e-4)
    serve = tf.function(sequence_regressor.forecast_serving(model))
    with pytest.raises(tf.errors.InvalidArgumentError, match="series"):
        serve(tf.constant([[1.0, float("nan"), 2.0]]))
    multivariate = recipes.sequence_regressor(num_features=2, units=4, mean=[0.0, 1.0], variance=[1.0, 2.0])
    with pytest.raises(ValueError, match=r"num_features=2"):
        recipes.export(multivariate, "unused")


# ------------------------------------------------------------------------------------------------
# Bad arguments


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"encoder": "cnn"}, r"encoder='cnn'"),
        ({"pooling": "sum"}, r"pooling='sum'"),
        ({"cell": "lstmm"}, r"cell='lstmm'"),
        ({"units": 0}, r"units=0"),
        ({"text_vocabulary_size": 0}, r"text_vocabulary_size=0"),
        ({"encoder": "transformer", "embedding_dim": 10, "num_heads": 4}, r"embedding_dim=10, num_heads=4"),
        ({"num_classes": 3, "label_names": ["a", "b"]}, r"one label name per class \(3\)"),
        ({"label_names": ["a", "a"]}, r"distinct"),
        ({"input_dim": 0}, r"input_dim=0"),
        ({"dropout": -0.1}, r"dropout=-0.1"),
        ({"encoder": "bag_of_words", "bag_mode": "tfidf"}, r"bag_mode='tfidf'"),
        ({"encoder": "bag_of_words", "input_dim": 3}, r"cannot read float features. Received: input_dim=3"),
        ({"ngrams": 0}, r"`ngrams` must be a positive integer. Received: ngrams=0"),
        ({"ngrams": 2, "ngram_buckets": 0}, r"ngram_buckets=0"),
        ({"ngrams": 2, "ngram_buckets": 1}, r"at least 2 \(bucket 0 is padding\). Received: ngram_buckets=1"),
        ({"ngram_buckets": 2**31 + 1}, r"at most 2\*\*31. Received: ngram_buckets=2147483649"),
        ({"ngrams": 2, "input_dim": 3}, r"cannot read float features. Received: ngrams=2, input_dim=3"),
        ({"ngrams": 3, "encoder": "bag_of_words"}, r"encoder='bag_of_words' has none of. Received: ngrams=3"),
        ({"backbone_learning_rate": 1e-4}, r"read by encoder='pretrained' only. Received: encoder='birnn', backbone_learning_rate=0.0001"),
        ({"backbone_trainable": False}, r"read by encoder='pretrained' only. Received: encoder='birnn', backbone_trainable=False"),
    ],
)
def test_classifier_bad_arguments_are_named(arguments, match):
    arguments = {"text_vocabulary_size": 10, **arguments}
    with pytest.raises(ValueError, match=match):
        recipes.text_classifier(**arguments)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"horizon": 0}, r"horizon=0"),
        ({"cell": "rnn"}, r"cell='rnn'"),
        ({"series": [1.0, float("nan"), 2.0]}, r"NaN"),
        ({"series": np.zeros((5, 3))}, r"series.shape=\(5, 3\)"),
        ({"mean": [1.0]}, r"both `mean` and `variance`"),
        ({"mean": [1.0, 2.0], "variance": [1.0, 1.0]}, r"one value per feature \(1\)"),
        ({"target_feature": 1}, r"target_feature=1"),
    ],
)
def test_regressor_bad_arguments_are_named(arguments, match):
    with pytest.raises(ValueError, match=match):
        recipes.sequence_regressor(**arguments)
