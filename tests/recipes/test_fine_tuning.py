"""recipes.fine_tune: text_classifier and sequence_tagger started from a GPT-, BERT- or ELMo-style model (seed 000):
the weights moved in, ELMo's mix of both directions' layers, freezing, the backbone's own learning rate,
padding, safe-mode reloads, and the errors that name both models."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from bad_input import expect_clear, params, raises
from recipe_checks import assert_fine_tunes, reloaded

from seqrecipes import data, recipes
from seqrecipes.recipes.backbones import FineTuningAdam

TEXTS = ["the cat sat", "the dog ran", "a cat ran", "a dog sat", "the cow sat down"]
LABELS = [0, 1, 0, 1, 0]
MAX_LENGTH = 8


@functools.cache
def _tokenizer():
    return data.WordTokenizer(split_punctuation=False).adapt(TEXTS).add_mask_token()


@functools.cache
def _pretrained(recipe):
    keras.utils.set_random_seed(0)
    tokenizer = _tokenizer()
    if recipe == "bidirectional_language_model":
        return recipes.bidirectional_language_model(units=6, embedding_dim=4, num_layers=2, text_tokenizer=tokenizer)
    sizes = dict(num_layers=1, num_heads=2, hidden_dim=8, max_length=16, text_tokenizer=tokenizer)
    return getattr(recipes, recipe)(**sizes)


FAMILIES = ["transformer_language_model", "masked_language_model", "bidirectional_language_model"]


def _class_batches(model):
    pairs = tf.data.Dataset.from_tensor_slices((TEXTS, LABELS))
    return pairs.apply(data.tokenize(model.tokenizer("text"))).apply(data.truncate_or_pad(MAX_LENGTH)).batch(5)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_classifier_starts_from_the_pretrained_weights_trains_reloads_and_predicts(family, tmp_path):
    pretrained = _pretrained(family)
    model = recipes.fine_tune(pretrained, "text_classifier", num_classes=2, max_length=MAX_LENGTH, pooling="mean")
    assert model.arguments["encoder"] == "pretrained" and model.arguments["backbone"]["recipe"] == family
    body = model.get_layer("backbone")
    names = [layer.name for layer in body.layers if layer.weights]
    assert "embedding" in names
    for name in names:
        for got, expected in zip(body.get_layer(name).get_weights(), pretrained.get_layer(name).get_weights()):
            np.testing.assert_array_equal(got, expected)
    batches = _class_batches(model)
    assert_fine_tunes(model, batches, layer="logits")
    x = next(iter(batches))[0]
    loaded = reloaded(model, x, str(tmp_path / "fine_tuned.keras"))
    assert sorted(recipes.predict(loaded, ["the cat"])) == ["label", "label_id", "scores"]


def test_padding_changes_no_prediction_of_a_classifier_on_a_gpt_body():
    # GPT's body carries no mask: the classifier's pooling takes ids != 0 as its mask.
    model = recipes.fine_tune(_pretrained("transformer_language_model"), "text_classifier", max_length=MAX_LENGTH, pooling="mean")
    ids = _tokenizer().tokenize(["the cat sat"]).to_tensor(shape=[None, MAX_LENGTH]).numpy()
    shorter = recipes.text_classifier(**dict(model.arguments, max_length=4), text_tokenizer=_tokenizer())
    shorter.set_weights(model.get_weights())
    np.testing.assert_allclose(shorter.predict(ids[:, :4], verbose=0), model.predict(ids, verbose=0), atol=1e-6)


def test_elmo_representation_is_the_even_mix_of_both_directions_layers_at_start():
    pretrained = _pretrained("bidirectional_language_model")
    model = recipes.fine_tune(pretrained, "sequence_tagger", tags_tokenizer=["N", "V"])
    ids = _tokenizer().tokenize(["the cat sat", "a dog"]).to_tensor().numpy()
    mix = keras.Model(model.input, model.get_layer("scalar_mix").output).predict(ids, verbose=0)  # (B, T, 2H)
    outputs = [pretrained.get_layer(f"{side}rnn_{j}").output for j in range(2) for side in ("", "backward_")]
    forward_0, backward_0, forward_1, backward_1 = keras.Model(pretrained.input, outputs).predict(ids, verbose=0)
    lengths = (ids != 0).sum(1)

    def back_in_place(h):  # the backward stack ran over each row's real steps reversed
        out = np.zeros_like(h)
        for b, n in enumerate(lengths):
            out[b, :n] = h[b, :n][::-1]
        return out

    layer_0 = np.concatenate([forward_0, back_in_place(backward_0)], -1)
    layer_1 = np.concatenate([forward_1, back_in_place(backward_1)], -1)
    real = ids != 0
    np.testing.assert_allclose(mix[real], ((layer_0 + layer_1) / 2)[real], atol=1e-5)  # s_j = 1/2, gamma = 1


@pytest.mark.parametrize("family", ["masked_language_model", "transformer_language_model"])
def test_a_tagger_on_a_pretrained_body_trains_and_skips_padded_tags(family):
    model = recipes.fine_tune(_pretrained(family), "sequence_tagger", tags_tokenizer=["D", "N", "V", "A"])
    assert model.arguments["max_length"] == 16  # the tagger's 128 cut to the body's learned positions
    words, tags = ["the", "cat", "sat"], ["D", "N", "V"]
    batches = tf.data.Dataset.from_tensors((words, tags)).apply(data.tagging_batches(_tokenizer(), model.tokenizer("tags"), 1))
    x, y = next(iter(batches))
    loss = model.evaluate(x, y, verbose=0)[0]
    padded_x, padded_y = (np.pad(v.numpy(), [[0, 0], [0, 4]]) for v in (x, y))
    assert model.evaluate(padded_x, padded_y, verbose=0)[0] == pytest.approx(loss, rel=1e-5)
    assert_fine_tunes(model, batches, layer="logits")


def test_a_frozen_body_keeps_its_weights_while_the_head_learns():
    model = recipes.fine_tune(_pretrained("bidirectional_language_model"), "text_classifier", max_length=MAX_LENGTH, backbone_trainable=False)
    before = model.get_layer("backbone").get_weights()
    assert_fine_tunes(model, _class_batches(model), layer="logits")
    for got, expected in zip(model.get_layer("backbone").get_weights(), before):
        np.testing.assert_array_equal(got, expected)


def test_the_body_steps_at_its_own_learning_rate():
    # Adam's first step moves every weight with a gradient by about its learning rate (m / sqrt(v) = sign(g)).
    model = recipes.fine_tune(
        _pretrained("transformer_language_model"), "text_classifier", max_length=MAX_LENGTH, learning_rate=1e-2,
        backbone_learning_rate=1e-4, clipnorm=None,
    )  # fmt: skip
    assert isinstance(model.optimizer, FineTuningAdam) and model.optimizer.scale == pytest.approx(1e-2)
    x, y = next(iter(_class_batches(model)))
    before = {name: model.get_layer(name).get_weights()[0] for name in ("logits",)}
    table = model.get_layer("backbone").get_layer("final_norm").get_weights()[0]  # gamma: every entry has a gradient
    model.train_on_batch(x, y)
    head_step = np.abs(model.get_layer("logits").get_weights()[0] - before["logits"]).max()
    body_step = np.abs(model.get_layer("backbone").get_layer("final_norm").get_weights()[0] - table).max()
    assert head_step == pytest.approx(1e-2, rel=0.05) and body_step == pytest.approx(1e-4, rel=0.05)


def test_the_optimizer_split_survives_a_reload(tmp_path):
    model = recipes.fine_tune(_pretrained("masked_language_model"), "text_classifier", max_length=MAX_LENGTH, backbone_learning_rate=1e-4)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", safe_mode=True)
    assert isinstance(loaded.optimizer, FineTuningAdam)
    assert loaded.optimizer.scaled_layers == model.optimizer.scaled_layers and "encoder_0" in loaded.optimizer.scaled_layers


def _wider_gpt_classifier():
    tokenizer = _tokenizer()
    wider = recipes.transformer_language_model(num_layers=1, num_heads=2, hidden_dim=16, max_length=16, text_tokenizer=tokenizer)
    return recipes.fine_tune(wider, "text_classifier", max_length=MAX_LENGTH)


def _elmo_spec():
    return {"recipe": "bidirectional_language_model", "arguments": _pretrained("bidirectional_language_model").arguments}


CASES = [
    raises(
        "pretrained model of another kind",
        lambda: recipes.fine_tune(recipes.rnn_language_model(units=4, embedding_dim=4, text_tokenizer=_tokenizer()), "text_classifier"),
        ValueError, "rnn_language_model", "text_classifier",
    ),
    raises(
        "weights of another shape",
        lambda: recipes.load_backbone(_wider_gpt_classifier(), _pretrained("transformer_language_model")),
        ValueError, "transformer_language_model", "text_classifier", "shapes",
    ),
    raises(
        "a body of another family",
        lambda: recipes.load_backbone(_wider_gpt_classifier(), _pretrained("masked_language_model")),
        ValueError, "masked_language_model", "text_classifier",
    ),
    raises(
        "a model without a body",
        lambda: recipes.load_backbone(recipes.text_classifier(text_vocabulary_size=8), _pretrained("masked_language_model")),
        ValueError, "encoder", "text_classifier",
    ),
    raises("downstream recipe", lambda: recipes.fine_tune(_pretrained("masked_language_model"), "seq2seq"), ValueError, "recipe"),
    raises("encoder given", lambda: recipes.fine_tune(_pretrained("masked_language_model"), "text_classifier", encoder="rnn"), ValueError, "encoder"),
    raises("a path that is no model", lambda: recipes.fine_tune(3, "text_classifier"), ValueError, "pretrained"),
    raises(
        "max_length over the learned positions",
        lambda: recipes.fine_tune(_pretrained("transformer_language_model"), "text_classifier", max_length=17),
        ValueError, "max_length",
    ),
    raises(
        "backbone_learning_rate=-1",
        lambda: recipes.fine_tune(_pretrained("masked_language_model"), "text_classifier", backbone_learning_rate=-1.0),
        ValueError, "backbone_learning_rate",
    ),
    raises("pretrained without a backbone", lambda: recipes.text_classifier(encoder="pretrained", text_vocabulary_size=8), ValueError, "backbone"),
    raises("a backbone for another encoder", lambda: recipes.sequence_tagger(backbone=_elmo_spec(), text_vocabulary_size=8, tags_vocabulary_size=6), ValueError, "backbone"),
    raises("a malformed backbone", lambda: recipes.text_classifier(encoder="pretrained", backbone={"recipe": "seq2seq"}, text_vocabulary_size=8), ValueError, "backbone"),
    raises(
        "another vocabulary",
        lambda: recipes.text_classifier(encoder="pretrained", backbone=_elmo_spec(), text_vocabulary_size=8),
        ValueError, "tokenizer", "bidirectional_language_model",
    ),
]  # fmt: skip


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)
