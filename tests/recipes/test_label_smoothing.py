"""Label smoothing of the generating recipes: the loss against NumPy, padding left out, every recipe, a saved model."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_bad_input_recipes import TINY

from seqrecipes import data, recipes
from seqrecipes.recipes.training.losses import LabelSmoothingCrossentropy

GENERATING = [
    "seq2seq", "seq2seq_attention", "transformer_seq2seq", "rnn_language_model", "transformer_language_model",
    "masked_language_model", "bidirectional_language_model", "window_language_model", "image_captioner",
]  # fmt: skip
RNG = np.random.default_rng(0)


def np_smoothed(y, p, epsilon):
    """The docstring's formula in NumPy: the mean over targets y != 0 of (1 - e)(-log p_y) + e mean_k(-log p_k)."""
    log_p = np.log(p)
    picked = -np.take_along_axis(log_p, y[..., None], axis=-1)[..., 0]
    loss = (1 - epsilon) * picked + epsilon * -log_p.mean(-1)
    return loss[y != 0].mean()


@pytest.mark.parametrize("epsilon", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 2)])  # (B, T) and the bidirectional LM's (B, T, 2)
def test_the_loss_matches_numpy_from_logits_and_probabilities(epsilon, shape):
    logits = RNG.normal(size=(*shape, 7)).astype("float32")
    y = RNG.integers(1, 7, size=shape)
    y[0, -2:] = 0  # padding
    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    expected = np_smoothed(y, p, epsilon)
    assert float(LabelSmoothingCrossentropy(epsilon, from_logits=True)(y, logits)) == pytest.approx(expected, rel=1e-5)
    assert float(LabelSmoothingCrossentropy(epsilon)(y, p)) == pytest.approx(expected, rel=1e-5)
    if epsilon == 0:  # plain cross-entropy with the padding ignored: Keras's own
        plain = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)(y, logits)
        assert float(LabelSmoothingCrossentropy(0.0, from_logits=True)(y, logits)) == pytest.approx(float(plain), rel=1e-5)
    changed = np.where((y == 0)[..., None], RNG.normal(size=logits.shape), logits).astype("float32")
    assert float(LabelSmoothingCrossentropy(epsilon, from_logits=True)(y, changed)) == pytest.approx(expected, rel=1e-5)


def test_smoothing_is_minimal_at_the_smoothed_target():
    """The loss over p is smallest at p = q = (1 - e) onehot(y) + e / V, not at the one-hot."""
    epsilon, v = 0.2, 4
    loss = LabelSmoothingCrossentropy(epsilon)
    q = np.full((1, 1, v), epsilon / v, "float32")
    q[0, 0, 2] += 1 - epsilon
    sharper = np.full((1, 1, v), 0.01, "float32")
    sharper[0, 0, 2] = 0.97
    y = np.array([[2]])
    assert float(loss(y, q)) < float(loss(y, sharper))


@pytest.mark.parametrize("recipe", GENERATING)
def test_every_generating_recipe_takes_label_smoothing(recipe):
    plain = getattr(recipes, recipe)(**TINY[recipe])
    assert type(plain.loss) is keras.losses.SparseCategoricalCrossentropy  # 0: unchanged
    smoothed = getattr(recipes, recipe)(**TINY[recipe], label_smoothing=0.1)
    assert isinstance(smoothed.loss, LabelSmoothingCrossentropy) and smoothed.loss.label_smoothing == 0.1
    assert smoothed.loss.from_logits == plain.loss.from_logits
    assert smoothed.arguments["label_smoothing"] == 0.1


def test_a_smoothed_language_model_trains_saves_and_reloads(tmp_path):
    keras.utils.set_random_seed(0)
    tokenizer = data.CharTokenizer().adapt(["abcabcabc"])
    model = recipes.rnn_language_model(units=16, embedding_dim=8, learning_rate=0.05, label_smoothing=0.3, text_tokenizer=tokenizer)
    lines = tf.data.Dataset.from_tensor_slices(["abcabcabc"] * 16).apply(data.tokenize(tokenizer))
    batches = lines.apply(data.teacher_forcing_shift()).apply(data.batch_with_padding(8)).cache()
    model.fit(batches, epochs=30, verbose=0)
    x = next(iter(batches))[0]
    real = x.numpy() != 0
    real[:, 0] = False  # after "[START]" the first letter is always "a" too, but keep to the periodic steps
    confidence = float(np.max(np.asarray(model(x)), axis=-1)[real].mean())
    # Every next letter is certain: the loss's minimum puts 1 - e + e / V on it (0.74 here; without smoothing
    # the same training reaches 0.998).
    assert confidence == pytest.approx(0.7 + 0.3 / tokenizer.vocabulary_size(), abs=0.03)
    path = str(tmp_path / "smoothed.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded.loss, LabelSmoothingCrossentropy) and loaded.loss.label_smoothing == 0.3
    np.testing.assert_allclose(loaded.evaluate(batches, verbose=0)[0], model.evaluate(batches, verbose=0)[0], rtol=1e-5)
