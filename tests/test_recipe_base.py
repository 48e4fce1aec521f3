"""The machinery every recipe shares: RecipeModel save/load, registry errors, greedy search, export."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data, recipes
from seqrecipes.recipes import registry


def _toy_serving(model):
    tokenizer = model.tokenizer("text")

    def serve(strings):
        ids = tokenizer.tokenize(strings).to_tensor(shape=[None, model.arguments["max_length"]])
        scores = model(ids)
        return {"label": tf.argmax(scores, axis=-1, output_type=tf.int32), "scores": scores}

    return serve


class _CountingDecoder(recipes.Decoder):
    """Emits start+1, start+2, ... then the end token after `n` steps (n from the input)."""

    def encode(self, inputs):
        return {"n": tf.cast(inputs, "int32")}

    def step(self, token_ids, state, index):
        vocab = 12
        want = tf.where(index < state["n"], tf.fill(tf.shape(token_ids), 4 + index % 8), tf.fill(tf.shape(token_ids), self.end_id))
        return tf.one_hot(want, vocab) * 5.0, state


@registry.register("many-to-one", datasets=("toy",), serving="classify", serving_function=_toy_serving)
def toy_classifier(*, vocabulary_size: int = 0, max_length: int = 8, units: int = 4, text_tokenizer=None, name="toy_classifier"):
    """A tiny classifier used to test the shared machinery."""
    if text_tokenizer is not None:
        vocabulary_size = text_tokenizer.vocabulary_size()
    inputs = keras.Input((max_length,), dtype="int32")
    x = keras.layers.Embedding(vocabulary_size, units, mask_zero=True)(inputs)
    from seqrecipes import layers

    x = layers.LSTM(units)(x)
    outputs = keras.layers.Dense(2, activation="softmax")(x)
    model = recipes.RecipeModel(
        inputs, outputs, recipe="toy_classifier",
        arguments={"vocabulary_size": vocabulary_size, "max_length": max_length, "units": units},
        tokenizers={"text": text_tokenizer} if text_tokenizer is not None else None, name=name,
    )  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def _trained_toy():
    tokenizer = data.CharTokenizer(vocabulary=list("abcdefg"))
    model = toy_classifier(text_tokenizer=tokenizer)
    x = tokenizer.tokenize(["abc", "gfe", "aab", "ggf"]).to_tensor(shape=[None, 8])
    model.fit(x, np.array([0, 1, 0, 1]), epochs=2, verbose=0)
    return model, tokenizer, x


def test_recipe_model_saves_and_reloads_in_safe_mode(tmp_path):
    model, tokenizer, x = _trained_toy()
    path = str(tmp_path / "toy.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, recipes.RecipeModel)
    assert loaded.recipe == "toy_classifier" and loaded.arguments == model.arguments
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert loaded.tokenizer("text").get_vocabulary() == tokenizer.get_vocabulary()
    loaded.fit(x, np.array([0, 1, 0, 1]), epochs=1, verbose=0)  # fine-tunes after loading


def test_unknown_recipe_and_missing_tokenizer_are_clear_errors():
    with pytest.raises(ValueError, match=r"Known recipes: .*toy_classifier.*Received: recipe='nope'"):
        recipes.get_recipe("nope")
    model = toy_classifier(vocabulary_size=10)
    with pytest.raises(ValueError, match=r"no 'text' tokenizer"):
        model.tokenizer("text")


def test_greedy_search_runs_in_one_graph_and_stops_at_end():
    decoder = _CountingDecoder(model=None, max_length=6)
    search = tf.function(lambda n: recipes.greedy_search(decoder, n))
    ids, lengths = search(tf.constant([2, 0, 9]))
    np.testing.assert_array_equal(
        ids.numpy(),
        [[4, 5, 3, 0, 0, 0], [3, 0, 0, 0, 0, 0], [4, 5, 6, 7, 8, 9]],
    )
    np.testing.assert_array_equal(lengths.numpy(), [2, 0, 6])
    with pytest.raises(ValueError, match=r"max_length=7"):
        recipes.greedy_search(decoder, tf.constant([1]), max_length=7)


def test_export_writes_numbered_versions_that_plain_tensorflow_serves(tmp_path):
    model, tokenizer, x = _trained_toy()
    base = str(tmp_path / "toy")
    first = recipes.export(model, base)
    second = recipes.export(model, base)
    assert first.endswith(os.path.join("toy", "1")) and second.endswith(os.path.join("toy", "2"))
    assert sorted(os.listdir(os.path.join(first, "assets"))) == ["text.vocab"]
    expected = np.asarray(model(x))
    script = textwrap.dedent(
        f"""
        import numpy as np, tensorflow as tf
        served = tf.saved_model.load({first!r}).signatures["serving_default"]
        out = served(inputs=tf.constant(["abc", "gfe", "aab", "ggf"]))
        np.save({str(tmp_path / "scores.npy")!r}, out["scores"].numpy())
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300)
    np.testing.assert_allclose(np.load(tmp_path / "scores.npy"), expected, atol=1e-5)
    with pytest.raises(ValueError, match="a RecipeModel"):
        recipes.export(keras.Sequential([keras.layers.Dense(1)]), base)
