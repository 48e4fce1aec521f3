"""image_captioner (show, attend and tell): trains on shapes captioning, reloads, fine-tunes, decodes
in one graph like a step-by-step reference, exports, and serves the same captions from plain TensorFlow."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from recipe_checks import reloaded

from seqrecipes import data, recipes

IMAGE_SIZE = 16
SMALL = dict(image_height=IMAGE_SIZE, image_width=IMAGE_SIZE, filters=[8, 16], embedding_dim=8, units=16, attention_units=8)


@pytest.fixture(scope="module")
def trained():
    """A shrunk captioner trained for 120 steps on 64 pictures (enough to write non-empty captions)."""
    keras.utils.set_random_seed(0)
    pairs = data.shapes_captioning(64, image_size=IMAGE_SIZE, seed=0).cache()
    tokenizer = data.WordTokenizer().adapt(pairs.map(lambda image, caption: caption))
    model = recipes.image_captioner(**SMALL, max_output_length=12, learning_rate=1e-2, target_tokenizer=tokenizer)
    batches = pairs.apply(data.caption_batches(tokenizer, 16, max_output_length=12)).cache()
    history = model.fit(batches, epochs=30, verbose=0)
    images = np.stack([image for image, _ in pairs.take(8).as_numpy_iterator()])
    return {"model": model, "tokenizer": tokenizer, "batches": batches, "images": images, "history": history.history}


def _python_captions(model, images):
    ids, _ = recipes.greedy_search(model.decoder, tf.constant(images))
    return [s.decode() for s in model.tokenizer("target").detokenize(ids).numpy()]


def test_registered_as_one_to_many_caption_recipe():
    info = recipes.get_recipe("image_captioner")
    assert info.task_type == "one-to-many" and info.serving == "caption"
    assert info.decoder is recipes.ImageCaptionerDecoder
    assert "image_captioner" in [r.name for r in recipes.list_recipes()]


def test_training_lowers_the_masked_loss(trained):
    losses, accuracy = trained["history"]["loss"], trained["history"]["token_accuracy"]
    assert losses[-1] < 0.5 * losses[0], losses
    assert accuracy[-1] > 0.5, accuracy
    model = trained["model"]
    json.dumps(model.arguments)  # JSON values only
    assert model.arguments["filters"] == [8, 16] and model.arguments["target_vocabulary_size"] == 20
    # The loss ignores padding: Keras' loss equals the cross-entropy averaged over real target positions.
    inputs, target = next(iter(trained["batches"]))
    probabilities = np.asarray(model(inputs))
    target = target.numpy()
    cross_entropy = -np.log(np.take_along_axis(probabilities, target[..., None], axis=-1)[..., 0])
    real = target != 0
    assert not real.all()
    expected = (cross_entropy * real).sum() / real.sum()
    np.testing.assert_allclose(model.evaluate(inputs, target, verbose=0)[0], expected, rtol=1e-4)


def test_in_graph_greedy_decoding_equals_step_by_step_reference(trained):
    model, images = trained["model"], trained["images"]
    ids, lengths = tf.function(lambda x: recipes.greedy_search(model.decoder, x))(tf.constant(images))
    ids, lengths = ids.numpy(), lengths.numpy()
    # Reference: rerun the whole teacher-forced model on the growing prefix, take the argmax of the last word.
    prefix = np.full((len(images), 1), data.START_ID, np.int32)
    reference = np.zeros_like(ids)
    finished = np.zeros(len(images), bool)
    for t in range(ids.shape[1]):
        probabilities = np.array(model({"image": images, "target_in": prefix})[:, -1])
        probabilities[:, list(recipes.decoding.NEVER_GENERATED)] = 0.0  # the decoder step bans them
        word = np.where(finished, data.PAD_ID, probabilities.argmax(-1)).astype(np.int32)
        reference[:, t] = word
        finished |= word == data.END_ID
        prefix = np.concatenate([prefix, word[:, None]], axis=1)
    np.testing.assert_array_equal(ids, reference)
    assert (lengths > 0).any() and (ids == data.END_ID).any()
    # The decoder's step probabilities equal the training graph's under teacher forcing, word by word.
    inputs, _ = next(iter(trained["batches"]))
    expected = np.asarray(model(inputs))
    state = model.decoder.encode(inputs["image"])
    for t in range(inputs["target_in"].shape[1]):
        logits, state = model.decoder.step(inputs["target_in"][:, t], state, tf.constant(t))
        real = inputs["target_in"][:, t].numpy() != 0
        allowed = expected[:, t].copy()
        allowed[:, list(recipes.decoding.NEVER_GENERATED)] = 0.0  # banned by the step, renormalised
        allowed /= allowed.sum(-1, keepdims=True)
        np.testing.assert_allclose(np.asarray(tf.nn.softmax(logits))[real], allowed[real], atol=1e-5)


def test_captions_name_what_is_in_the_picture(trained):
    captions = _python_captions(trained["model"], trained["images"])
    truth = [c.decode() for _, c in data.shapes_captioning(8, image_size=IMAGE_SIZE, seed=0).as_numpy_iterator()]
    assert all(c.startswith("a ") for c in captions), captions
    # After 120 steps the first colour word is right more often than chance (1 in 5).
    first_colour = sum(c.split()[1:2] == t.split()[1:2] for c, t in zip(captions, truth))
    assert first_colour >= 3, (captions, truth)


def test_saves_reloads_in_safe_mode_and_fine_tunes(trained, tmp_path):
    model, images = trained["model"], trained["images"]
    inputs, target = next(iter(trained["batches"]))
    loaded = reloaded(model, inputs, str(tmp_path / "captioner.keras"))
    assert loaded.tokenizer("target").get_vocabulary() == trained["tokenizer"].get_vocabulary()
    assert _python_captions(loaded, images) == _python_captions(model, images)
    before = [w.numpy().copy() for w in loaded.trainable_weights]
    loaded.fit(inputs, target, epochs=1, verbose=0)  # one fine-tuning step after reloading
    changed = [not np.allclose(b, w.numpy()) for b, w in zip(before, loaded.trainable_weights)]
    assert all(changed), [w.path for w, c in zip(loaded.trainable_weights, changed) if not c]


def test_export_serves_the_same_captions_in_plain_tensorflow(trained, tmp_path):
    model, images = trained["model"], trained["images"]
    path = recipes.export(model, str(tmp_path / "captioner"))
    assert sorted(os.listdir(os.path.join(path, "assets"))) == ["target.vocab"]
    expected = {n: _python_captions(model, images[:n]) for n in (1, 8)}
    assert any(expected[8]), expected
    np.save(tmp_path / "images.npy", images)
    script = textwrap.dedent(
        f"""
        import json, numpy as np, tensorflow as tf
        served = tf.saved_model.load({path!r}).signatures["serving_default"]
        spec = served.structured_input_signature[1]["images"]
        images = np.load({str(tmp_path / "images.npy")!r})
        out = {{n: [s.decode() for s in served(images=tf.constant(images[:n]))["outputs"].numpy()] for n in (1, 8)}}
        out["spec"] = [spec.name, spec.dtype.name, spec.shape.as_list()]
        print(json.dumps(out))
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-c", script], check=True, env=env, timeout=300, capture_output=True, text=True)
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["spec"] == ["images", "float32", [None, IMAGE_SIZE, IMAGE_SIZE, 3]]
    assert served["1"] == expected[1] and served["8"] == expected[8]


def test_attention_alignments_are_attention_maps_over_the_feature_map(trained):
    model, images = trained["model"], trained["images"]
    ids, alignments = recipes.attention_alignments(model, images)
    greedy, lengths = recipes.greedy_search(model.decoder, tf.constant(images))
    np.testing.assert_array_equal(ids, greedy.numpy())
    num_positions = (IMAGE_SIZE // 4) ** 2  # two 2x2 poolings: a 4 x 4 feature map
    assert alignments.shape == (8, 12, num_positions)
    words = np.arange(12)[None, :] <= lengths.numpy()[:, None]  # the words and the [END]
    np.testing.assert_allclose(alignments.sum(-1), words.astype(np.float32), atol=1e-5)
    # Teacher forcing: one map per given word, none at padding.
    inputs, target = next(iter(trained["batches"]))
    ids, alignments = recipes.attention_alignments(model, inputs["image"], target_in=inputs["target_in"])
    real = inputs["target_in"].numpy() != 0
    np.testing.assert_allclose(alignments.sum(-1), real.astype(np.float32), atol=1e-5)
    np.testing.assert_array_equal(ids[real], np.asarray(model(inputs)).argmax(-1)[real])


def test_position_vectors_are_optional(trained, tmp_path):
    """Without position vectors the memory is the paper's: the CNN features themselves."""
    model = trained["model"]
    assert tuple(model.get_layer("feature_positions").embeddings.shape) == (16, 16)
    plain = recipes.image_captioner(**SMALL, position_embedding=False, target_tokenizer=trained["tokenizer"])
    assert len(plain.trainable_weights) == len(model.trainable_weights) - 1
    images = tf.constant(trained["images"])
    memory, *_ = plain.decoder.encoder(images)
    features = keras.Model(plain.get_layer("image").output, plain.get_layer("features").output)(images)
    np.testing.assert_allclose(np.asarray(memory), np.asarray(features))
    path = str(tmp_path / "plain.keras")
    plain.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.arguments["position_embedding"] is False
    inputs, _ = next(iter(trained["batches"]))
    np.testing.assert_allclose(np.asarray(reloaded(inputs)), np.asarray(plain(inputs)), atol=1e-6)


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"cell": "nope"}, r"`cell` must be one of .*Received: cell='nope'"),
        ({"units": 0}, r"`units` must be a positive integer. Received: units=0"),
        ({"attention_units": -1}, r"Received: attention_units=-1"),
        ({"target_vocabulary_size": 0, "target_tokenizer": None}, r"Received: target_vocabulary_size=0"),
        ({"filters": []}, r"`filters` must be .*Received: filters=\[\]"),
        ({"filters": [8, 0]}, r"Received: filters=\[8, 0\]"),
        ({"image_height": 2}, r"too small for 2 CNN blocks.*image_height=2"),
        ({"dropout": 1.5}, r"`dropout` must be .*Received: dropout=1.5"),
        ({"channels": 0}, r"Received: channels=0"),
    ],
)
def test_bad_arguments_are_clear_errors(arguments, match):
    tokenizer = data.WordTokenizer(vocabulary=["a", "red", "circle"])
    with pytest.raises(ValueError, match=match):
        recipes.image_captioner(**{**SMALL, "target_tokenizer": tokenizer, **arguments})


def test_bad_calls_are_clear_errors(trained, tmp_path):
    model = trained["model"]
    with pytest.raises(ValueError, match=r"max_length=13"):
        recipes.greedy_search(model.decoder, tf.constant(trained["images"]), max_length=13)
    untokenized = recipes.image_captioner(**SMALL, target_vocabulary_size=10)
    with pytest.raises(ValueError, match=r"no 'target' tokenizer"):
        recipes.export(untokenized, str(tmp_path / "untokenized"))
