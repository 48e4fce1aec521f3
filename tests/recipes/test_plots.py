"""recipes/plots.py: attention heatmaps, their labels and their checks."""

import numpy as np
import pytest

from seqrecipes import recipes
from seqrecipes.recipes import plots


def test_plot_alignments_labels_and_checks_shapes(tmp_path):
    path = recipes.plot_alignments(list("6월"), ["0", "6", "[END]"], np.full((3, 2), 0.5), str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").exists() and path.endswith("a.png")
    assert plots._label("월", None) == "U+C6D4" and plots._label(" ", None) == "·"
    with pytest.raises(ValueError, match=r"Received: alignments.shape=\(2, 2\)"):
        recipes.plot_alignments(["a", "b"], ["c", "d", "e"], np.zeros((2, 2)), str(tmp_path / "b.png"))


def test_pca_2d_is_the_projection_on_the_top_two_singular_vectors():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 5)) * np.array([5.0, 3.0, 1.0, 0.5, 0.1])
    y = recipes.pca_2d(x)
    centred = x - x.mean(0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))  # the covariance's eigenvectors
    top = eigenvectors[:, ::-1][:, :2]
    expected = centred @ top
    np.testing.assert_allclose(np.abs(y), np.abs(expected), atol=1e-8)  # the same axes, up to a sign each
    np.testing.assert_allclose(y.var(0, ddof=1), eigenvalues[::-1][:2], rtol=1e-8)
    assert y[np.abs(y).argmax(0), [0, 1]].min() > 0  # the sign rule: each column's largest entry is positive
    with pytest.raises(ValueError, match=r"at least 2 points. Received: shape=\(1, 5\)"):
        recipes.pca_2d(x[:1])


def test_plot_word_vectors_writes_a_picture_and_checks_its_labels(tmp_path):
    from seqrecipes import data

    vectors = data.WordVectors(["cat", "dog", "car", "bus"], np.eye(4, dtype="float32"))
    path = recipes.plot_word_vectors(vectors, ["cat", "dog", "car"], str(tmp_path / "w.png"), groups=["animal", "animal", "vehicle"])
    assert (tmp_path / "w.png").stat().st_size > 0 and path.endswith("w.png")
    with pytest.raises(ValueError, match="one label per point"):
        recipes.plot_points(np.eye(3), ["a", "b"], str(tmp_path / "p.png"))
    with pytest.raises(KeyError, match="zebra"):
        recipes.plot_word_vectors(vectors, ["cat", "zebra"], str(tmp_path / "z.png"))


def test_encoder_summaries_are_the_fixed_context_of_seq2seq():
    from seqrecipes import data

    chars = data.CharTokenizer(vocabulary=list("abc"))
    model = recipes.seq2seq(units=6, embedding_dim=4, cell="gru", source_tokenizer=chars, target_tokenizer=chars)
    summaries = recipes.encoder_summaries(model, ["abc", "ca"])
    ids = chars.tokenize(["abc", "ca"]).to_tensor().numpy()
    _, state = model.get_layer("encoder")(model.get_layer("source_embedding")(ids))
    assert summaries.shape == (2, 6)
    np.testing.assert_allclose(summaries, np.asarray(state), atol=1e-6)
    with pytest.raises(ValueError, match="seq2seq"):
        recipes.encoder_summaries(recipes.rnn_language_model(units=4, embedding_dim=4, text_tokenizer=chars), ["a"])
