"""sequence_tagger(crf=True): a CRF over the tag scores, trained on -log p(y | x), Viterbi in predict_tags and the export."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from recipe_checks import assert_fine_tunes, reloaded

from seqrecipes import data, recipes

TAGS = ["A1", "A2", "P", "Q", "O"]


def _sentences(n, seed=0):
    """The tag of "a" is told by the NEXT word only: "a p" is A1 P, "a q" is A2 Q; "o" is O anywhere."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        tokens, tags = [], []
        for _ in range(rng.integers(1, 4)):
            if rng.random() < 0.3:
                tokens.append("o"), tags.append("O")
            else:
                second = rng.choice(["p", "q"])
                tokens += ["a", second]
                tags += ["A1", "P"] if second == "p" else ["A2", "Q"]
        rows.append((tokens, tags))
    return rows


def _batches(words, tags, rows, batch_size=32):
    sentences = tf.data.Dataset.from_generator(lambda: iter(rows), output_signature=(tf.TensorSpec([None], tf.string),) * 2)
    return sentences.apply(data.tagging_batches(words, tags, batch_size)).cache()


def _trained(crf, seed=0):
    keras.utils.set_random_seed(seed)
    words = data.WordTokenizer(vocabulary=["a", "p", "q", "o"], split_punctuation=False)
    # Left to right only: at "a" the tagger cannot see the next word; only a CRF's transitions can carry it back.
    model = recipes.sequence_tagger(units=8, embedding_dim=8, bidirectional=False, crf=crf, learning_rate=0.03,
                                    text_tokenizer=words, tags_tokenizer=TAGS)  # fmt: skip
    batches = _batches(words, model.tokenizer("tags"), _sentences(128))
    model.fit(batches, epochs=12, verbose=0)
    return model, batches


@pytest.fixture(scope="module")
def crf_tagger():
    return _trained(crf=True)


def _accuracy(model, batches):
    correct = total = 0
    for x, y in batches:
        predicted, real = recipes.predict_tags(model, x).numpy(), x.numpy() != 0
        correct += int((predicted[real] == y.numpy()[real]).sum())
        total += int(real.sum())
    return correct / total


def test_the_crf_carries_the_next_word_back_where_a_softmax_cannot(crf_tagger):
    model, batches = crf_tagger
    softmax, _ = _trained(crf=False)
    test = _batches(model.tokenizer("text"), model.tokenizer("tags"), _sentences(64, seed=1))
    assert _accuracy(model, test) == 1.0
    assert _accuracy(softmax, test) < 0.93  # "a" is a coin toss for a left-to-right softmax
    assert model.output.shape[-1] == model.arguments["tags_vocabulary_size"] and model.get_layer("crf").num_tags == 9


def test_the_loss_is_the_negative_log_likelihood_per_real_token_and_skips_padding(crf_tagger):
    model, batches = crf_tagger
    x, y = (t.numpy() for t in next(iter(batches)))
    assert (x == 0).any()
    real = x != 0
    emissions = model(x)
    expected = -np.sum(model.get_layer("crf").log_likelihood(emissions, y, real)) / real.sum()
    loss = model.evaluate(x, y, verbose=0)[0]
    assert loss == pytest.approx(float(expected), rel=1e-5)
    assert model.evaluate(x, np.where(real, y, 5), verbose=0)[0] == pytest.approx(loss, rel=1e-6)
    tags = recipes.predict_tags(model, x).numpy()
    assert (tags[~real] == 0).all() and (tags[real] >= 4).all()  # never a reserved tag
    padded = recipes.predict_tags(model, np.pad(x, [[0, 0], [0, 3]])).numpy()
    np.testing.assert_array_equal(padded[:, : x.shape[1]], tags)


def test_saves_reloads_exports_and_fine_tunes(crf_tagger, tmp_path):
    model, batches = crf_tagger
    x = next(iter(batches))[0]
    loaded = reloaded(model, x, str(tmp_path / "crf.keras"))
    np.testing.assert_array_equal(recipes.predict_tags(loaded, x).numpy(), recipes.predict_tags(model, x).numpy())
    exported = recipes.export(loaded, str(tmp_path / "export"), version=1)
    serve = tf.saved_model.load(exported).signatures["serving_default"]
    tags = serve(inputs=tf.constant(["a p o a q", "o", ""]))["tags"].numpy().tolist()
    assert [[t.decode() for t in row] for row in tags] == [["A1", "P", "O", "A2", "Q"], ["O", "", "", "", ""], [""] * 5]
    assert_fine_tunes(loaded, batches.take(1), layer="crf")  # the transitions learn too


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"crf": 1}, r"crf=1"),
        ({"crf": True, "tags_vocabulary_size": 5}, r"a CRF with one tag has nothing to choose\). Received: tags_vocabulary_size=5"),
    ],
)
def test_bad_arguments(arguments, match):
    with pytest.raises(ValueError, match=match):
        recipes.sequence_tagger(**{"text_vocabulary_size": 10, "tags_vocabulary_size": 8, **arguments})


def test_tags_longer_than_the_input_are_a_clear_error():
    model = recipes.sequence_tagger(text_vocabulary_size=10, tags_vocabulary_size=8, units=4, embedding_dim=4, crf=True)
    x, y = np.array([[4, 5, 6]]), np.array([[4, 5, 6, 7]])
    with pytest.raises(ValueError, match=r"`tags` of CRF must have the shape \(B, T\) .* Received: tags.shape=\(None, 4\)"):
        model.fit(x, y, verbose=0)  # shapes known when traced
    unknown = tf.data.Dataset.from_generator(
        lambda: iter([(x, y)]), output_signature=(tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.int32))
    )
    model = recipes.sequence_tagger(text_vocabulary_size=10, tags_vocabulary_size=8, units=4, embedding_dim=4, crf=True)
    with pytest.raises(tf.errors.InvalidArgumentError, match=r"the tags \(B, T\) must have the shape of the token ids"):
        model.fit(unknown, verbose=0)  # shapes known when run
