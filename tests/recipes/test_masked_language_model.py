"""masked_language_model (BERT): the masking step's rates, [MASK] in raw text, learning from both sides, padding,
saving and export."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from recipe_checks import assert_fine_tunes, reloaded

from seqrecipes import data, recipes
from seqrecipes.recipes.many_to_many import masked_language_model as mlm

ANIMALS = {"barks": "dog", "meows": "cat", "moos": "cow"}


def _texts(repeats=40):
    """The animal is known only from the verb on its right: the left context ("the") is the same for all."""
    return [f"the {animal} {verb} loudly" for verb, animal in ANIMALS.items()] * repeats


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    texts = _texts()
    tokenizer = data.WordTokenizer().adapt(texts).add_mask_token()
    model = recipes.masked_language_model(
        num_layers=1, num_heads=2, hidden_dim=32, dropout=0.0, max_length=8, learning_rate=5e-3, warmup_steps=10,
        decay_steps=400, text_tokenizer=tokenizer,
    )  # fmt: skip
    batches = tf.data.Dataset.from_tensor_slices(texts).shuffle(200, seed=0).apply(
        data.masked_lm_batches(tokenizer, 16, 8, seed=0, rate=0.3)
    )
    history = model.fit(batches, epochs=40, verbose=0)
    return model, tokenizer, batches, history


def test_the_masking_step_selects_15_percent_and_replaces_80_10_10():
    vocabulary_size, mask_id = 40, 39
    rng = np.random.default_rng(0)
    ids = rng.integers(4, 39, size=(400, 50)).astype("int32")
    ids[:, 40:] = 0  # padding
    ids[:, 0] = data.START_ID
    ids[:, 1] = mask_id  # an existing [MASK] is never chosen
    step = data.mask_tokens(mask_id, vocabulary_size, seed=0)
    masked, targets = next(iter(tf.data.Dataset.from_tensors(ids).apply(step)))
    masked, targets = masked.numpy(), targets.numpy()
    selected = targets != 0
    assert not selected[:, :2].any() and not selected[:, 40:].any()
    np.testing.assert_array_equal(targets[selected], ids[selected])
    np.testing.assert_array_equal(masked[~selected], ids[~selected])
    assert selected[:, 2:40].mean() == pytest.approx(0.15, abs=0.01)
    as_mask = masked[selected] == mask_id
    kept = masked[selected] == ids[selected]
    assert as_mask.mean() == pytest.approx(0.8, abs=0.03)
    assert kept.mean() == pytest.approx(0.1 + 0.1 / 35, abs=0.03)  # a random word may be the word itself
    random = masked[selected][~as_mask & ~kept]
    assert ((random >= 4) & (random != mask_id)).all()  # random replacements are words, never reserved ids
    # At least one selection per sequence with a word, none in an all-padding row.
    few = np.array([[5, 0, 0], [0, 0, 0]], "int32")
    _, few_targets = next(iter(tf.data.Dataset.from_tensors(few).apply(data.mask_tokens(mask_id, vocabulary_size, rate=0.0, seed=1))))
    assert few_targets.numpy().tolist() == [[5, 0, 0], [0, 0, 0]]


def test_mask_marks_in_raw_text_become_the_mask_id():
    tokenizer = data.WordTokenizer(vocabulary=["the", "cat", "sat"]).add_mask_token()
    ids = recipes.masked_ids(tokenizer, ["[MASK] cat [MASK]", "the[MASK]sat", "", "[MASK][MASK]", "the cat sat the cat"], 4)
    mask = tokenizer.mask_id
    assert ids.numpy().tolist() == [[mask, 5, mask, 0], [4, mask, 6, 0], [0, 0, 0, 0], [mask, mask, 0, 0], [4, 5, 6, 4]]


def test_predicts_a_masked_word_from_its_right_context(trained):
    """Seed 000's point against GPT: BERT reads both sides; here only the right side tells the word."""
    model, tokenizer, _, history = trained
    assert history.history["accuracy"][-1] > 0.9
    out = recipes.predict(model, [f"the [MASK] {verb} loudly" for verb in ANIMALS])
    assert [f.decode() for f in out["filled"]] == [f"the {animal} {verb} loudly" for verb, animal in ANIMALS.items()]
    assert [t.decode() for t in out["tags"][0][:4]][1] == "dog"


def test_padding_never_changes_a_prediction(trained):
    model, tokenizer, _, _ = trained
    ids = recipes.masked_ids(tokenizer, ["the [MASK] meows loudly"], 8)
    short, long = model(ids[:, :5]), model(tf.pad(ids, [[0, 0], [0, 0]]))
    np.testing.assert_allclose(np.asarray(short)[:, :4], np.asarray(long)[:, :4], atol=1e-4)


def test_saves_reloads_fine_tunes_and_exports(trained, tmp_path):
    model, tokenizer, batches, _ = trained
    ids = recipes.masked_ids(tokenizer, ["the [MASK] moos loudly"], 8)
    loaded = reloaded(model, ids, str(tmp_path / "mlm.keras"), atol=1e-5)
    assert loaded.tokenizer("text").mask_id == tokenizer.mask_id
    assert_fine_tunes(loaded, batches.take(2), layer="encoder_0")
    path = recipes.export(model, str(tmp_path / "export"), version=1)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    out = serve(inputs=tf.constant(["the [MASK] barks loudly", "", "\xff"]))
    assert out["filled"].numpy()[0] == b"the dog barks loudly"
    assert out["tags"].shape[0] == 3


@pytest.mark.parametrize(
    "build, match",
    [
        (lambda: recipes.masked_language_model(text_tokenizer=data.WordTokenizer(vocabulary=["a", "b"])), r"add_mask_token\(\).*mask_id=None"),
        (lambda: recipes.masked_language_model(text_vocabulary_size=20, hidden_dim=10, num_heads=4), r"hidden_dim=10"),
        (lambda: recipes.masked_language_model(text_vocabulary_size=20, max_length=0), r"max_length=0"),
        (lambda: data.mask_tokens(mask_id=2, vocabulary_size=10), r"`mask_id` must be the \[MASK\] id.*Received: mask_id=2"),
        (lambda: data.mask_tokens(mask_id=9, vocabulary_size=10, rate=1.5), r"rate"),
        (lambda: data.mask_tokens(mask_id=9, vocabulary_size=10, mask_rate=0.9, random_rate=0.2), r"at most 1"),
        (lambda: data.masked_lm_batches(data.WordTokenizer(vocabulary=["a"]), 4, 8), r"no \[MASK\] token"),
    ],
)
def test_bad_input_is_named(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_the_serving_function_never_predicts_a_reserved_id_or_mask():
    tokenizer = data.WordTokenizer(vocabulary=["a", "b"]).add_mask_token()
    model = recipes.masked_language_model(num_layers=1, num_heads=1, hidden_dim=4, max_length=4, text_tokenizer=tokenizer)
    tags = mlm.masked_lm_serving(model)(tf.constant(["a [MASK] b", "[MASK]"]))["tags"].numpy()
    assert set(tags.ravel()) <= {b"a", b"b", b""}
