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
