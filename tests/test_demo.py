"""The demo, shrunk (recipes.demo.QUICK_SETTINGS): every step runs, the PNGs and the export exist,
and the export read back with tf.saved_model.load gives the Python model's outputs."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import recipes
from seqrecipes.recipes import cli, demo


@pytest.fixture(scope="module")
def quick_demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    lines = []
    settings = dict(demo.QUICK_SETTINGS, run_dir=str(root / "run"), export_dir=str(root / "export"))
    result = demo.run_demo(**settings, echo=lines.append)
    return result, lines, root


def test_quick_demo_runs_every_step_and_ends_with_the_goal_line(quick_demo):
    result, lines, root = quick_demo
    for number in range(1, 7):
        assert any(line.startswith(f"[{number}/6] ") for line in lines)
    measured = f"{result['exact_match']:.4f}"
    assert lines[-1] == f"goal dates_exact_match: {measured} (target >= 0.99) {'met' if result['goal_met'] else 'not met'}"
    assert 0.0 <= result["exact_match"] <= 1.0 and result["goal_met"] == (result["exact_match"] >= 0.99)
    assert set(result["samples"]) == set(demo.SAMPLES)
    assert (root / "run" / "dates.keras").exists() and (root / "run" / "checkpoints" / "last.keras").exists()


def test_quick_demo_writes_the_attention_heatmaps(quick_demo):
    result, lines, root = quick_demo
    assert set(result["heatmaps"]) == {"en", "ko"}
    for path in result["heatmaps"].values():
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert any("attention heatmaps:" in line for line in lines)


def test_quick_demo_export_serves_the_models_outputs(quick_demo):
    result, lines, root = quick_demo
    assert result["export_path"] == str(root / "export" / "dates_quick" / "1")
    assert result["export_matches"] and any("the same outputs as the Python model" in line for line in lines)
    inputs = list(demo.SAMPLES) + ["", "9999999999999999999999999999999999999999999999999999999999999999999999"]
    served = tf.saved_model.load(result["export_path"]).signatures["serving_default"](inputs=tf.constant(inputs))
    np.testing.assert_array_equal(served["outputs"].numpy(), recipes.predict(result["model"], inputs)["outputs"])
    # The export's generate signature answers with the beam's 3 best readings, best first, as Python's beam search.
    model = result["model"]
    expected = recipes.beam_search(model.decoder, model.decoder.inputs_from_raw([demo.AMBIGUOUS]), beam_width=3, num_results=3)
    texts = [t.decode() for t in model.decoder.detokenize(expected["ids"][0]).numpy()]
    assert [output for output, _ in result["n_best"]] == texts
    np.testing.assert_allclose([score for _, score in result["n_best"]], np.asarray(expected["scores"][0]), atol=1e-5)
    assert any(f"the 3 best readings of {demo.AMBIGUOUS!r}" in line for line in lines)


def test_plot_alignments_labels_and_checks_shapes(tmp_path):
    path = demo.plot_alignments(list("6월"), ["0", "6", "[END]"], np.full((3, 2), 0.5), str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").exists() and path.endswith("a.png")
    assert demo._label("월", None) == "U+C6D4" and demo._label(" ", None) == "·"
    with pytest.raises(ValueError, match=r"Received: alignments.shape=\(2, 2\)"):
        demo.plot_alignments(["a", "b"], ["c", "d", "e"], np.zeros((2, 2)), str(tmp_path / "b.png"))


def test_demo_command_parses_its_options():
    args = cli._parser().parse_args(["demo", "--quick", "--minutes", "0.5", "--run-dir", "r", "--export-dir", "e"])
    assert args.quick and args.minutes == 0.5 and args.run_dir == "r" and args.export_dir == "e"
    assert demo.QUICK_SETTINGS["run_dir"] != "runs/dates" and demo.QUICK_SETTINGS["export_name"] != "dates"
