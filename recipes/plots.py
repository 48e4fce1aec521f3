"""Pictures: attention alignment heatmaps as PNG files, with Hangul labels where a font has them."""

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
    import matplotlib  # here: matplotlib is needed only for pictures, and with the Agg backend

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path
