"""``mixed_precision`` of every recipe: the policy its layers get, float32 outputs and loss scaling, finite
outputs (fully masked rows included), a .keras round trip, training steps, and an export that takes and gives a
float32 model's dtypes."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops
from test_bad_input_recipes import TINY

from seqrecipes import data, recipes

POLICIES = ("mixed_float16", "mixed_bfloat16")
HALF = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}
NEURAL = sorted(name for name in TINY if name != "ngram_language_model")  # counts, no layers to cast
RNG = np.random.default_rng(0)


def _random_inputs(model, batch=2, length=5):
    """Random inputs for every input of a model: ids in [4, 6) (inside TINY's vocabularies of 8 entries and the
    tagger's 6 tags), float values elsewhere; unknown sizes are ``length``."""

    def value(x):
        shape = [batch] + [length if d is None else d for d in x.shape[1:]]
        if "int" in str(x.dtype):
            return RNG.integers(4, 6, size=shape).astype(str(x.dtype))
        return RNG.normal(size=shape).astype("float32")

    return keras.tree.map_structure(value, model.input)


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", NEURAL)
def test_every_recipe_builds_under_the_policy_with_float32_outputs(name, policy):
    model = getattr(recipes, name)(**TINY[name], mixed_precision=policy)
    assert model.arguments["mixed_precision"] == policy and keras.config.dtype_policy().name == "float32"  # restored
    half = [layer for layer in model.layers if layer.compute_dtype == HALF[policy]]
    assert half and all(w.dtype == "float32" for w in model.weights)  # float32 variables
    if name != "word2vec":  # its outputs are scores its loss reads (Keras losses compute in float32)
        assert all(output.dtype == "float32" for output in keras.tree.flatten(model.output)), name
    assert (type(model.optimizer).__name__ == "LossScaleOptimizer") == (policy == "mixed_float16")
    x = _random_inputs(model)
    for training in (False, True):
        outputs = keras.tree.flatten(model(x, training=training))
        assert all(np.all(np.isfinite(ops.convert_to_numpy(ops.cast(o, "float32")))) for o in outputs), (name, training)
    rebuilt = type(model).from_config(model.get_config())  # what a .keras file reloads
    assert rebuilt.arguments == model.arguments and sum(layer.compute_dtype == HALF[policy] for layer in rebuilt.layers) == len(half)


def _date_pairs(tokenizer, n=64):
    pairs = data.sequence_reversal(n, max_length=6, alphabet="abcdef", seed=0)
    return pairs.apply(data.seq2seq_batches(tokenizer, tokenizer, 16)).cache()


@pytest.mark.parametrize("name, policy", [("seq2seq_attention", "mixed_float16"), ("transformer_seq2seq", "mixed_bfloat16")])
def test_encoder_decoders_train_in_mixed_precision_like_float32(name, policy, tmp_path):
    tokenizer = data.CharTokenizer(vocabulary=list("abcdef"))
    sizes = dict(units=16, embedding_dim=8) if name == "seq2seq_attention" else dict(num_layers=1, num_heads=2, hidden_dim=16)
    losses = {}
    for precision in ("float32", policy):
        keras.utils.set_random_seed(1)
        model = getattr(recipes, name)(**sizes, max_target_length=8, source_tokenizer=tokenizer, target_tokenizer=tokenizer,
                                       mixed_precision=precision)  # fmt: skip
        losses[precision] = model.fit(_date_pairs(tokenizer).repeat(), steps_per_epoch=6, epochs=2, verbose=0).history["loss"]
    assert all(np.isfinite(losses[policy])) and losses[policy][-1] < losses[policy][0]
    np.testing.assert_allclose(losses[policy], losses["float32"], rtol=0.05)  # the same run, within half precision
    # Empty sources (a fully masked attention row) decode to finite scores; the export's dtypes are float32's.
    result = recipes.generate(model.decoder, model.decoder.inputs_from_raw(tf.constant(["", "abc"])), beam_width=2,
                              num_results=2, alignments=True)  # fmt: skip
    assert np.all(np.isfinite(result["scores"])) and np.all(np.isfinite(result["alignments"]))
    if name != "seq2seq_attention":
        return
    path = recipes.export(model, str(tmp_path / "export"))
    generate = tf.saved_model.load(path).signatures["generate"]
    assert {key: spec.dtype for key, spec in generate.structured_outputs.items()} == {
        "outputs": tf.string, "scores": tf.float32, "alignments": tf.float32}  # fmt: skip


def test_a_classifier_trains_in_float16_with_loss_scaling_and_exports_float32_scores(tmp_path):
    tokenizer = data.WordTokenizer(vocabulary=["good", "bad", "fine", "awful"])
    texts = ["good fine", "bad awful", "fine good good", "awful bad"] * 8
    labels = [1, 0, 1, 0] * 8
    dataset = tf.data.Dataset.from_tensor_slices((texts, labels)).apply(data.tokenize(tokenizer))
    dataset = dataset.apply(data.truncate_or_pad(4)).batch(8).cache()
    keras.utils.set_random_seed(0)
    model = recipes.text_classifier(max_length=4, units=8, embedding_dim=8, text_tokenizer=tokenizer, mixed_precision="mixed_float16")
    history = model.fit(dataset.repeat(), steps_per_epoch=4, epochs=5, verbose=0).history
    assert np.all(np.isfinite(history["loss"])) and history["loss"][-1] < history["loss"][0]
    assert float(model.optimizer.dynamic_scale.numpy()) > 1.0  # loss scaling at work
    path = recipes.export(model, str(tmp_path / "export"))
    outputs = tf.saved_model.load(path).signatures["serving_default"](inputs=tf.constant(["good", "bad"]))
    assert outputs["scores"].dtype == tf.float32 and np.allclose(outputs["scores"].numpy().sum(-1), 1.0, atol=1e-3)


@pytest.mark.parametrize("value", ["float16", "bf16", None, 16])
def test_other_precisions_are_refused_naming_the_argument(value):
    with pytest.raises(ValueError, match=r"`mixed_precision` must be one of"):
        recipes.seq2seq(**TINY["seq2seq"], mixed_precision=value)
    assert keras.config.dtype_policy().name == "float32"
