"""window_language_model (Bengio 2003): training pairs, the equation, generation, save/reload, export."""

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

SENTENCES = ["the cat sat on the mat", "a dog ran in a park"]
PROMPTS = ["the cat", "a dog", "the cat sat", "", "a dog ran in a", "the", "a", "zebra on the"]


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    tokenizer = data.WordTokenizer().adapt(SENTENCES)
    model = recipes.window_language_model(
        context_size=2, embedding_dim=8, units=16, direct_connections=True, learning_rate=0.02, text_tokenizer=tokenizer
    )
    batches = tf.data.Dataset.from_tensor_slices(SENTENCES).apply(data.window_batches(tokenizer, 2, batch_size=16)).cache()
    history = model.fit(batches, epochs=80, verbose=0)
    pairs = batches.unbatch()
    return model, tokenizer, pairs, history


def _generate(model, prompts):
    return [s.decode() for s in recipes.serving.generation_serving(model)(tf.constant(prompts)).get("outputs").numpy()]


def test_window_contexts_follow_the_paper():
    # (data.window_batches, which makes the training pairs, is tested in tests/data/test_batches.py.)
    tokenizer = data.WordTokenizer(vocabulary=["a", "b", "c"])
    # [START]=2, a=4, b=5, c=6; the context is the last 3 ids of [START] + tokens, zeros in front.
    contexts = recipes.window_contexts(tokenizer, ["a b c", "", "c"], 3)
    np.testing.assert_array_equal(contexts.numpy(), [[4, 5, 6], [0, 0, 2], [0, 2, 6]])


def test_outputs_follow_the_bengio_equation(trained):
    model, tokenizer, pairs, _ = trained
    contexts = np.array([[0, 2], [4, 7], [5, 6]], "int32")
    C = model.get_layer("embedding").get_weights()[0]
    H, d = model.get_layer("hidden").get_weights()
    U, b = model.get_layer("logits").get_weights()
    (W,) = model.get_layer("direct").get_weights()
    x = C[contexts].reshape(len(contexts), -1)  # (B, (n-1) m)
    y = b + x @ W + np.tanh(d + x @ H) @ U
    expected = np.exp(y - y.max(-1, keepdims=True))
    expected /= expected.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model(contexts)), expected, rtol=1e-4, atol=1e-6)
    plain = recipes.window_language_model(text_vocabulary_size=12, context_size=2, embedding_dim=4, units=4)
    assert "direct" not in [layer.name for layer in plain.layers]


def test_trains_and_generates_the_memorized_text_in_one_graph(trained):
    model, tokenizer, pairs, history = trained
    assert history.history["loss"][-1] < 0.2 < history.history["loss"][0]
    assert history.history["perplexity"][-1] < 1.3
    search = tf.function(lambda contexts: recipes.greedy_search(model.decoder, contexts))
    ids, lengths = search(recipes.window_contexts(tokenizer, ["the cat", "a dog"], 2))
    assert [s.decode() for s in tokenizer.detokenize(ids).numpy()] == ["sat on the mat", "ran in a park"]
    np.testing.assert_array_equal(lengths.numpy(), [4, 4])
    assert _generate(model, ["the cat sat", "a dog ran in a"]) == ["on the mat", "park"]


def test_saves_reloads_in_safe_mode_and_fine_tunes(trained, tmp_path):
    model, tokenizer, pairs, _ = trained
    loaded = reloaded(model, next(iter(pairs.batch(32)))[0], str(tmp_path / "window.keras"))
    assert loaded.recipe == "window_language_model"
    assert _generate(loaded, PROMPTS) == _generate(model, PROMPTS)
    assert_fine_tunes(loaded, pairs.batch(16).take(1))


def test_export_serves_the_same_continuations_in_plain_tensorflow(trained, tmp_path):
    model, tokenizer, _, _ = trained
    path = recipes.export(model, str(tmp_path / "window"))
    expected_8, expected_1 = _generate(model, PROMPTS), _generate(model, PROMPTS[:1])
    out = tmp_path / "served.json"
    script = textwrap.dedent(f"""
        import json, tensorflow as tf
        served = tf.saved_model.load({path!r}).signatures["serving_default"]
        prompts = {PROMPTS!r}
        result = {{n: [s.decode() for s in served(inputs=tf.constant(prompts[:n]))["outputs"].numpy()] for n in (1, 8)}}
        json.dump(result, open({str(out)!r}, "w"))
        """)
    subprocess.run(
        [sys.executable, "-c", script], check=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"), timeout=300
    )
    served = json.loads(out.read_text())
    assert served["8"] == expected_8 and served["1"] == expected_1
    assert served["1"] == ["sat on the mat"]


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"context_size": 0}, r"context_size=0"),
        ({"units": -3}, r"units=-3"),
        ({"text_vocabulary_size": 0}, r"text_vocabulary_size=0"),
        ({"dropout": 1.5}, r"dropout=1.5"),
        ({"direct_connections": "yes"}, r"direct_connections='yes'"),
        ({"learning_rate": 0}, r"learning_rate=0"),
    ],
)
def test_bad_arguments_are_named(arguments, match):
    arguments = {"text_vocabulary_size": 10, **arguments}
    with pytest.raises(ValueError, match=match):
        recipes.window_language_model(**arguments)
