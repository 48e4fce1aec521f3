"""Pictures as PNG files, with Hangul labels where a font has them: attention alignment heatmaps, word vectors
in two dimensions (PCA), and the encoder's summary vectors of sentences (Cho et al. 2014, seed 004)."""

import importlib.util
import os

import numpy as np


def hangul_font():
    """A font with Hangul glyphs for matplotlib, or None.

    Looks at the fonts matplotlib knows (system fonts: ``fc-list :lang=ko`` lists them) and then at
    NanumGothic from the ``koreanize-matplotlib`` package (a seqrecipes dependency), without importing
    that package (importing it changes matplotlib's global settings).

    Returns:
        A ``matplotlib.font_manager.FontProperties`` or None.

    Example:
    >>> from seqrecipes import recipes
    >>> font = recipes.hangul_font()
    >>> font is None or bool(font.get_name())
    True
    """
    from matplotlib import font_manager, ft2font  # here: matplotlib is needed only for pictures

    def has_hangul(path):
        try:
            return ft2font.FT2Font(path).get_char_index(ord("년")) != 0
        except (OSError, RuntimeError, ValueError):
            return False

    candidates = [f.fname for f in font_manager.fontManager.ttflist if any(k in f.name for k in ("Nanum", "CJK", "KR", "Gothic", "Malgun", "Batang", "Gulim", "Dotum", "UnDotum", "Baekmuk"))]
    spec = importlib.util.find_spec("koreanize_matplotlib")
    if spec is not None and spec.submodule_search_locations:
        candidates.append(os.path.join(list(spec.submodule_search_locations)[0], "fonts", "NanumGothic.ttf"))
    for path in candidates:
        if os.path.exists(path) and has_hangul(path):
            return font_manager.FontProperties(fname=path)
    return None


def _label(token, font):
    if token == " ":
        return "·"  # a space, shown as editors show it
    if font is None and any(ord(ch) > 0x2FFF for ch in token):
        return "".join(f"U+{ord(ch):04X}" if ord(ch) > 0x2FFF else ch for ch in token)
    return token


def plot_alignments(source_tokens, output_tokens, alignments, path, title=None, font=None):
    """Writes an attention heatmap as a PNG: output tokens down, source tokens across.

    Args:
        source_tokens: the S source token strings (columns).
        output_tokens: the L output token strings (rows).
        alignments: (L, S) attention weights.
        path: the PNG file to write (folders are made).
        title: an optional title.
        font: ``FontProperties`` for the tick labels (``hangul_font()`` for Korean); without one,
            characters from U+3000 on are written as code points (``U+B144``).

    Returns:
        ``path``.

    Example:
    >>> import os, tempfile
    >>> from seqrecipes import recipes
    >>> path = recipes.plot_alignments(list("abc"), list("cba"), [[0, 0, 1], [0, 1, 0], [1, 0, 0]],
    ...                                os.path.join(tempfile.mkdtemp(), "alignments.png"))
    >>> os.path.getsize(path) > 0
    True
    """
    plt = _pyplot()
    alignments = np.asarray(alignments, dtype="float32")
    if alignments.shape != (len(output_tokens), len(source_tokens)):
        raise ValueError(
            f"`alignments` must have shape (len(output_tokens), len(source_tokens)) = "
            f"({len(output_tokens)}, {len(source_tokens)}). Received: alignments.shape={alignments.shape}"
        )
    width = max(4.0, 0.42 * len(source_tokens) + 1.5)
    height = max(3.0, 0.42 * len(output_tokens) + 1.5)
    figure, axes = plt.subplots(figsize=(width, height))
    image = axes.imshow(alignments, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(source_tokens)))
    axes.set_xticklabels([_label(t, font) for t in source_tokens], fontproperties=font, rotation=90 if font is None else 0)
    axes.set_yticks(range(len(output_tokens)))
    axes.set_yticklabels([_label(t, font) for t in output_tokens], fontproperties=font)
    axes.set_xlabel("source characters")
    axes.set_ylabel("output characters")
    if title:
        axes.set_title(title, fontproperties=font)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04, label="attention weight")
    return _save(plt, figure, path)


def _pyplot():
    import matplotlib  # here: matplotlib is needed only for pictures, and with the Agg backend

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, figure, path):
    """Writes ``figure`` to the PNG ``path`` (folders made) and closes it; returns ``path``."""
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def pca_2d(points):
    """The first two principal components of N points (N, D): Y = (X - mean) V_2, V_2 the top two right
    singular vectors of the centred X; (N, 2), each column's sign fixed so its largest entry is positive.

    Example:
    >>> import numpy as np
    >>> y = pca_2d(np.array([[0.0, 0, 0], [2, 0, 0], [4, 0, 1]]))
    >>> y.shape, bool(abs(y[:, 0]).max() > abs(y[:, 1]).max())
    ((3, 2), True)
    """
    x = np.asarray(points, dtype="float64")
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"`points` must be (N, D) with at least 2 points. Received: shape={x.shape}")
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2].T  # (D, <= 2)
    if components.shape[1] < 2:
        components = np.pad(components, [[0, 0], [0, 2 - components.shape[1]]])
    y = centred @ components  # (N, 2)
    flip = np.sign(y[np.abs(y).argmax(axis=0), [0, 1]])
    return y * np.where(flip == 0, 1.0, flip)


def plot_points(points, labels, path, title=None, font=None, groups=None):
    """Writes labelled points (N, D) as a PNG scatter of their first two principal components (``pca_2d``).

    Args:
        points: (N, D) vectors (word vectors, encoder states).
        labels: N strings written beside the points.
        path: the PNG file to write (folders are made).
        title: an optional title.
        font: ``FontProperties`` for the labels (``hangul_font()`` for Korean).
        groups: optional N group names; each group gets its own colour and a legend entry.

    Returns:
        ``path``.

    Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from seqrecipes import recipes
    >>> path = recipes.plot_points(np.eye(3), ["a", "b", "c"], os.path.join(tempfile.mkdtemp(), "p.png"), groups=["x", "x", "y"])
    >>> os.path.getsize(path) > 0
    True
    """
    plt = _pyplot()
    labels = [str(label) for label in labels]
    if len(labels) != len(points):
        raise ValueError(f"Give one label per point ({len(points)}). Received: {len(labels)} labels")
    y = pca_2d(points)
    groups = ["points"] * len(labels) if groups is None else [str(g) for g in groups]
    figure, axes = plt.subplots(figsize=(8, 6.5))
    for group in dict.fromkeys(groups):
        chosen = np.array([g == group for g in groups])
        axes.scatter(y[chosen, 0], y[chosen, 1], s=14, label=group)
    for (a, b), label in zip(y, labels):
        axes.annotate(_label(label, font), (a, b), fontsize=8, fontproperties=font, xytext=(3, 2), textcoords="offset points")
    axes.set_xlabel("principal component 1")
    axes.set_ylabel("principal component 2")
    if len(set(groups)) > 1:
        axes.legend(fontsize=8)
    if title:
        axes.set_title(title, fontproperties=font)
    return _save(plt, figure, path)


def plot_word_vectors(vectors, words, path, title=None, font=None, groups=None):
    """Writes the PCA picture of some words' vectors (a ``data.WordVectors``: ``recipes.word_vectors(model)``).

    Example:
    >>> import os, tempfile
    >>> import numpy as np
    >>> from seqrecipes import data, recipes
    >>> vectors = data.WordVectors(["cat", "dog", "car"], np.eye(3, dtype="float32"))
    >>> path = recipes.plot_word_vectors(vectors, ["cat", "dog", "car"], os.path.join(tempfile.mkdtemp(), "w.png"))
    >>> os.path.getsize(path) > 0
    True
    """
    return plot_points(np.stack([vectors[word] for word in words]), words, path, title, font, groups)


def encoder_summaries(model, sentences):
    """The fixed-context ``seq2seq``'s summary of each source sentence: the encoder's last state c (B, H),
    the vector Cho et al. (2014) project in their figure 4 (h for a GRU, the hidden state of an LSTM).

    Example:
    >>> from seqrecipes import data, recipes
    >>> chars = data.CharTokenizer(vocabulary=list("abc"))
    >>> model = recipes.seq2seq(units=6, embedding_dim=4, source_tokenizer=chars, target_tokenizer=chars)
    >>> recipes.encoder_summaries(model, ["abc", "ca"]).shape
    (2, 6)
    """
    if model.recipe != "seq2seq":
        raise ValueError(f"encoder_summaries reads the fixed context of a seq2seq model. Received: a {model.recipe}")
    decoder = model.decoder
    state = decoder.encode(decoder.inputs_from_raw(np.asarray(sentences, dtype=object)))
    return np.asarray(state["cell"][0])
