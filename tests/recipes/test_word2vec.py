"""word2vec: the tf.data examples (windows, subsampling, noise), the model's equation and update against NumPy,
related words getting close vectors, saving, export, the vector files and moving vectors into another recipe."""

import collections

import keras
import numpy as np
import pytest
import tensorflow as tf
from recipe_checks import reloaded

from seqrecipes import data, recipes

ANIMALS = ["cat", "dog", "horse", "cow"]
VEHICLES = ["car", "bus", "truck", "train"]


def _corpus(num_sentences=400, seed=0):
    """Animals eat and sleep, vehicles drive and park: each group shares its contexts (seed 003's king and man)."""
    rng = np.random.default_rng(seed)
    sentences = []
    for _ in range(num_sentences):
        if rng.random() < 0.5:
            words = [rng.choice(["the", "a"]), rng.choice(ANIMALS), rng.choice(["eats", "sleeps", "runs"]), rng.choice(["grass", "food"])]
        else:
            words = [rng.choice(["the", "a"]), rng.choice(VEHICLES), rng.choice(["drives", "parks", "stops"]), rng.choice(["road", "street"])]
        sentences.append(" ".join(words))
    return sentences


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    texts = _corpus()
    tokenizer = data.WordTokenizer().adapt(texts)
    model = recipes.train_word2vec(
        texts, tokenizer, embedding_dim=16, window=2, negative_samples=3, subsample=0, epochs=8, batch_size=256,
        learning_rate=0.05, seed=0, verbose=0,
    )  # fmt: skip
    return model, tokenizer


def _examples(sentences, counts, **arguments):
    dataset = tf.data.Dataset.from_tensor_slices(tf.ragged.constant(sentences, dtype=tf.int32))
    batches = list(dataset.apply(data.word2vec_batches(counts, batch_size=100_000, seed=0, **arguments)))
    words = np.concatenate([b[0]["words"].numpy() for b in batches])
    candidates = np.concatenate([b[0]["candidates"].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    return words, candidates, labels


def test_skip_gram_pairs_lie_in_the_dynamic_window_of_one_sentence():
    sentences = [[4, 5, 6, 7, 8], [9, 10, 1, 11]]  # [UNK] (1) is dropped before the windows are laid
    counts = data.word_counts(sentences, 12)
    words, candidates, labels = _examples(sentences * 200, counts, window=2, negative_samples=2, subsample=0)
    assert labels.shape[1] == 3 and (labels[:, 0] == 1).all() and (labels[:, 1:] == 0).all()
    position = {4: (0, 0), 5: (0, 1), 6: (0, 2), 7: (0, 3), 8: (0, 4), 9: (1, 0), 10: (1, 1), 11: (1, 2)}
    distances = collections.Counter()
    for word, centre in zip(words[:, 0], candidates[:, 0]):
        (row, i), (other, j) = position[word], position[centre]
        assert row == other and 1 <= abs(i - j) <= 2
        distances[abs(i - j)] += 1
    # b ~ U{1, 2}: a neighbour at distance 1 is always in the window, one at distance 2 half the time.
    near, far = distances[1] / (12 * 200), distances[2] / (8 * 200)  # pairs per ordered neighbour pair
    assert near == pytest.approx(1.0) and far == pytest.approx(0.5, abs=0.05)


def test_cbow_examples_hold_the_window_around_each_centre():
    sentences = [[4, 5, 6, 7]]
    counts = data.word_counts(sentences, 8)
    words, candidates, _ = _examples(sentences * 50, counts, architecture="cbow", window=1, negative_samples=2, subsample=0)
    assert words.shape[1] == 2
    expected = {4: {5}, 5: {4, 6}, 6: {5, 7}, 7: {6}}
    for context, centre in zip(words, candidates[:, 0]):
        assert set(context[context > 0]) == expected[centre]


def test_noise_follows_the_unigram_to_the_three_quarters_and_subsampling_its_formula():
    counts = np.array([0, 0, 0, 0, 1000, 100, 10, 1])
    noise = data.noise_distribution(counts)
    np.testing.assert_allclose(noise[4:], counts[4:] ** 0.75 / (counts[4:] ** 0.75).sum())
    sentences = [[4, 5, 6, 7]] * 3000
    _, candidates, _ = _examples(sentences, counts, window=1, negative_samples=3, subsample=0)
    drawn = np.bincount(candidates[:, 1:].ravel(), minlength=8) / candidates[:, 1:].size
    np.testing.assert_allclose(drawn, noise, atol=0.01)
    keep = data.keep_probabilities(counts, 1e-2)
    t, f = 1e-2, counts / counts.sum()
    np.testing.assert_allclose(keep[4:], np.minimum(1, (np.sqrt(f[4:] / t) + 1) * t / f[4:]))
    text = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[4] * 50 + [7]] * 200))
    steps = data.word2vec_batches(counts, architecture="cbow", window=1, subsample=1e-2, negative_samples=3, seed=1)
    centres = np.concatenate([b[0]["candidates"][:, 0].numpy() for b in text.apply(steps)])  # one per kept word
    assert (centres == 4).sum() / 200 == pytest.approx(50 * keep[4], rel=0.1)  # about 5.8 of the 50 survive
    assert (centres == 7).sum() == 200  # the rare word always does


def test_the_scores_and_one_sgd_step_are_the_c_tools_update():
    """s = v'_c . mean(v_w); one step moves v' by alpha (label - sigma(s)) h and v_w by alpha sum (label - sigma) v' / C."""
    model = recipes.word2vec(text_vocabulary_size=12, embedding_dim=3, architecture="cbow", window=1, negative_samples=2, learning_rate=0.1)
    rng = np.random.default_rng(0)
    table_in, table_out = rng.normal(size=(12, 3)).astype("float32"), rng.normal(size=(12, 3)).astype("float32")
    model.get_layer("embedding").set_weights([table_in])
    model.get_layer("context_embedding").set_weights([table_out])
    words, candidates = np.array([[4, 5], [6, 0]], "int32"), np.array([[7, 8, 9], [10, 4, 5]], "int32")
    labels = np.array([[1, 0, 0], [1, 0, 0]], "float32")
    h = np.stack([table_in[[4, 5]].mean(0), table_in[6]])  # padding (0) is not a context word
    scores = np.einsum("bd,bkd->bk", h, table_out[candidates])
    np.testing.assert_allclose(model({"words": words, "candidates": candidates}).numpy(), scores, rtol=1e-5)
    gradient = 0.1 * (labels - 1 / (1 + np.exp(-scores)))  # (B, 1 + k), the C tool's g
    expected_in, expected_out = table_in.copy(), table_out.copy()
    for b in range(2):
        for k, c in enumerate(candidates[b]):
            expected_out[c] += gradient[b, k] * h[b]
        context = [w for w in words[b] if w]
        for w in context:
            expected_in[w] += (gradient[b][:, None] * table_out[candidates[b]]).sum(0) / len(context)
    model.train_on_batch({"words": words, "candidates": candidates}, labels)
    np.testing.assert_allclose(model.get_layer("embedding").get_weights()[0], expected_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.get_layer("context_embedding").get_weights()[0], expected_out, rtol=1e-4, atol=1e-6)


def test_related_words_get_close_vectors(trained):
    """Seed 004: words with the same neighbours get similar vectors (the printed nearest neighbours)."""
    vectors = recipes.word_vectors(trained[0])
    for group in (ANIMALS, VEHICLES):
        for word in group:
            neighbours = [w for w, _ in vectors.most_similar(word, topn=3)]
            print(word, "->", neighbours)
            assert set(neighbours) <= set(group), (word, neighbours)
    assert vectors.similarity("cat", "dog") > vectors.similarity("cat", "car") + 0.3


def test_saves_reloads_and_exports_words_to_vectors(trained, tmp_path):
    model, tokenizer = trained
    inputs = {"words": np.array([[4], [5]], "int32"), "candidates": np.array([[4, 5, 6, 7], [6, 7, 8, 9]], "int32")}
    loaded = reloaded(model, inputs, str(tmp_path / "word2vec.keras"))
    np.testing.assert_array_equal(recipes.word_vectors(loaded).vectors, recipes.word_vectors(model).vectors)
    path = recipes.export(loaded, str(tmp_path / "export"), version=1)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    out = serve(inputs=tf.constant(["cat", "zebra", "", "\xff bus"]))
    np.testing.assert_allclose(out["vectors"].numpy()[0], recipes.word_vectors(model)["cat"], rtol=1e-6)
    assert out["known"].numpy().tolist() == [True, False, False, False]
    np.testing.assert_array_equal(out["vectors"].numpy()[1:], np.zeros((3, 16)))


def test_vector_files_round_trip_and_bad_files_are_named(trained, tmp_path):
    vectors = recipes.word_vectors(trained[0])
    path = vectors.save_word2vec_format(str(tmp_path / "vectors.txt"))
    header = open(path, encoding="utf-8").readline().split()
    assert header == [str(len(vectors)), "16"]
    again = data.WordVectors.load_word2vec_format(path)
    assert again.tokens == vectors.tokens
    np.testing.assert_array_equal(again.vectors, vectors.vectors)
    vectors_tsv, metadata_tsv = vectors.save_projector(str(tmp_path / "projector"))
    assert np.loadtxt(vectors_tsv, delimiter="\t").shape == (len(vectors), 16)
    assert open(metadata_tsv, encoding="utf-8").read().split("\n")[:2] == vectors.tokens[:2]
    bad = tmp_path / "bad.txt"
    for text, match in [
        ("3 x\n", r"first line of a word2vec file must be 'N d'.*line 1"),
        ("", r"first line of a word2vec file must be 'N d'"),
        ("2 2\ncat 0.1 0.2\ndog 0.3\n", r"token and d=2 numbers.*line 3"),
        ("2 2\ncat 0.1 0.2\n", r"N=2 lines its header names.*1 lines"),
    ]:
        bad.write_text(text)
        with pytest.raises(ValueError, match=match):
            data.WordVectors.load_word2vec_format(str(bad))
    with pytest.raises(KeyError, match=r"'zebra' is not in the vocabulary"):
        vectors.most_similar("zebra")


def test_benchmark_evaluators_on_known_answers(tmp_path):
    vectors = data.WordVectors(["king", "queen", "man", "woman", "apple"], [[1, 1, 0], [1, -1, 0], [0.2, 1, 0], [0.2, -1, 0], [0, 0, 1]])
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("# Word 1\tWord 2\tHuman\nking\tqueen\t8\nKing\tman\t6\nking\tapple\t1\nzebra\tking\t5\n")
    rho, oov = vectors.evaluate_word_pairs(str(pairs))
    cosines = [vectors.similarity("king", w) for w in ("queen", "man", "apple")]
    assert oov == 0.25 and rho == pytest.approx(data.word_vectors.spearman([8, 6, 1], cosines))
    questions = tmp_path / "questions.txt"
    questions.write_text(": gender\nman king woman queen\nwoman queen man king\nman woman king apple\n: other\nzebra a b c\n")
    accuracy, sections = vectors.evaluate_analogies(str(questions))
    assert sections == {"gender": (2, 3), "other": (0, 0)} and accuracy == pytest.approx(2 / 3)


def test_trained_vectors_start_another_recipe_frozen_or_not(trained):
    model, tokenizer = trained
    vectors = recipes.word_vectors(model)
    classifier = recipes.text_classifier(max_length=6, units=4, embedding_dim=16, text_tokenizer=tokenizer)
    assert recipes.set_embedding(classifier, vectors, trainable=False) == len(vectors)
    table = classifier.get_layer("embedding").get_weights()[0]
    np.testing.assert_array_equal(table[tokenizer.token_to_id("cat")], vectors["cat"])
    texts = tf.constant(["the cat eats food", "a bus parks street"])
    classifier.fit(recipes.token_ids(tokenizer, texts, 6), np.array([0, 1]), epochs=2, verbose=0)
    np.testing.assert_array_equal(classifier.get_layer("embedding").get_weights()[0], table)  # frozen
    recipes.set_embedding(classifier, vectors, trainable=True)
    classifier.fit(recipes.token_ids(tokenizer, texts, 6), np.array([0, 1]), epochs=2, verbose=0)
    assert not np.array_equal(classifier.get_layer("embedding").get_weights()[0], table)
    wide = recipes.text_classifier(max_length=6, units=4, embedding_dim=8, text_tokenizer=tokenizer, name="wide")
    with pytest.raises(ValueError, match=r"d=16 but the 'embedding' table of model 'wide' \(recipe 'text_classifier'\) has 8 columns"):
        recipes.set_embedding(wide, vectors)
    bag = recipes.text_classifier(max_length=6, encoder="bag_of_words", text_tokenizer=tokenizer, name="bag")
    with pytest.raises(ValueError, match=r"Embedding layer named 'embedding'; model 'bag' \(recipe 'text_classifier'\) has none"):
        recipes.set_embedding(bag, vectors)


@pytest.mark.parametrize(
    "build, error, match",
    [
        (lambda: data.word_counts([], 8), ValueError, r"holds no word \(an empty corpus"),
        (lambda: data.word_counts([[0, 2, 3]], 8), ValueError, r"holds no word"),
        (lambda: data.word2vec_batches([0, 0, 0, 0, 5, 3], negative_samples=5), ValueError, r"more words than `negative_samples` \(5\).*2 words"),
        (lambda: data.word2vec_batches([0, 0, 0, 0, 5, 3], window=0), ValueError, r"`window` must be a positive integer. Received: window=0"),
        (lambda: data.word2vec_batches([0, 0, 0, 0, 5, 3], architecture="glove"), ValueError, r"architecture='glove'"),
        (lambda: recipes.word2vec(text_vocabulary_size=8, window=0), ValueError, r"window=0"),
        (lambda: recipes.word2vec(text_vocabulary_size=8, negative_samples=5), ValueError, r"more words than `negative_samples` \(5\)"),
        (lambda: recipes.word2vec(text_vocabulary_size=20, decay_steps=-1), ValueError, r"decay_steps=-1"),
        (lambda: recipes.train_word2vec([], data.WordTokenizer(vocabulary=["a"] * 1 + ["b"])), ValueError, r"holds no word"),
        (lambda: data.WordVectors(["a", "a"], [[1.0], [2.0]]), ValueError, r"distinct.*tokens\[1\]='a'"),
        (lambda: data.WordVectors(["a b"], [[1.0]]), ValueError, r"no whitespace.*tokens\[0\]='a b'"),
        (lambda: data.WordVectors(["a"], [[float("nan")]]), ValueError, r"finite"),
    ],
)
def test_bad_input_is_named(build, error, match):
    with pytest.raises(error, match=match):
        build()
