"""recipes/cli/: every command end to end with tiny settings, its errors, a start that imports no TensorFlow,
and the demo shrunk (demo.QUICK_SETTINGS): every step runs, the PNGs and the export exist, and the export
read back with tf.saved_model.load gives the Python model's outputs."""

import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import tensorflow as tf

from seqrecipes import recipes
from seqrecipes.recipes import cli
from seqrecipes.recipes.cli import commands, demo, parser, sources
from seqrecipes.recipes.serving import signatures


def test_list_names_every_public_layer(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for name in ("LSTM", "GRUCell", "PeepholeLSTMCell", "LayerNormLSTMCell", "CIFGLSTMCell", "RNN"):
        assert f"  {name} " in out


def test_unknown_command_is_a_clear_error(capsys):
    with pytest.raises(SystemExit) as err:
        cli.main(["frobnicate"])
    assert err.value.code == 2
    assert "invalid choice: 'frobnicate'" in capsys.readouterr().err


def test_console_script_is_installed():
    bindir = __import__("pathlib").Path(sys.executable).parent
    out = subprocess.run([str(bindir / "seqrecipes"), "--version"], capture_output=True, text=True, check=True).stdout
    assert out.startswith("seqrecipes ")


# ------------------------------------------------------------------------------------------------
# Recipes, training, evaluation, prediction and export from the command line (tiny settings).

TINY = ["units=16", "embedding_dim=8", "max_target_length=14"]


def _train(recipe, dataset, run_dir, num_examples, num_validation, batch_size, *arguments):
    """``seqrecipes train`` for one epoch with the recipe ``arguments`` (KEY=VALUE); its exit status."""
    argv = ["train", "--recipe", recipe, "--dataset", dataset, "--num-examples", str(num_examples),
            "--num-validation", str(num_validation), "--epochs", "1", "--batch-size", str(batch_size), "--run-dir", str(run_dir),
            "--no-bucket"]  # fmt: skip
    return cli.main(argv + [word for argument in arguments for word in ("--arg", argument)])


def test_list_shows_every_registered_recipe_with_its_task_type(capsys):
    assert cli.main(["list"]) == 0
    out = capsys.readouterr().out
    for info in recipes.list_recipes():
        line = next(line for line in out.splitlines() if line.startswith(f"  {info.name} "))
        assert info.task_type in line and info.serving in line
    assert "date_translation" in out and "seqrecipes.layers" in out


@pytest.mark.parametrize("command", ["list", "train", "evaluate", "predict", "generate", "export", "demo"])
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as err:
        cli.main([command, "--help"])
    assert err.value.code == 0
    assert f"usage: seqrecipes {command}" in capsys.readouterr().out


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """seq2seq_attention trained for one tiny epoch by `seqrecipes train` (shared by the tests below)."""
    run_dir = tmp_path_factory.mktemp("cli_run")
    assert _train("seq2seq_attention", "sequence_reversal", run_dir, 48, 8, 16, *TINY) == 0
    return run_dir


def test_train_saves_a_model_that_reloads_and_checkpoints(trained, capsys):
    path = trained / "seq2seq_attention.keras"
    assert path.exists() and (trained / "checkpoints" / "last.keras").exists()
    model = commands.load_model(str(path))
    assert model.recipe == "seq2seq_attention" and model.arguments["units"] == 16
    assert int(model.optimizer.iterations.numpy()) == 3  # 48 examples in batches of 16, one epoch


def test_evaluate_and_predict_print_the_models_results(trained, capsys):
    path = str(trained / "seq2seq_attention.keras")
    assert cli.main(["evaluate", "--model", path, "--dataset", "sequence_reversal", "--num-examples", "16"]) == 0
    out = capsys.readouterr().out
    for key in ("loss:", "token_accuracy:", "exact_match:", "bleu:"):
        assert key in out
    assert cli.main(["predict", "--model", path, "abc", "jihgf"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    expected = recipes.predict(commands.load_model(path), ["abc", "jihgf"])["outputs"]
    assert lines == [f"abc\t{expected[0].decode()}", f"jihgf\t{expected[1].decode()}"]


def test_generate_prints_the_n_best_with_scores_and_samples_reproducibly(trained, capsys):
    path = str(trained / "seq2seq_attention.keras")
    assert cli.main(["generate", "--model", path, "--beam-width", "4", "--num-results", "3", "abc", "jihgf"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    model = commands.load_model(path)
    expected = recipes.generate(model.decoder, model.decoder.inputs_from_raw(["abc", "jihgf"]), beam_width=4, num_results=3)
    texts = model.tokenizer("target").detokenize(np.asarray(expected["ids"]).reshape(6, -1)).numpy()
    assert [row[:2] for row in rows] == [[source, str(rank)] for source in ("abc", "jihgf") for rank in (1, 2, 3)]
    np.testing.assert_allclose([float(row[2]) for row in rows], np.asarray(expected["scores"]).reshape(-1), atol=1e-4)
    assert [row[3] for row in rows] == [t.decode() for t in texts]
    assert [float(row[2]) for row in rows[:3]] == sorted((float(row[2]) for row in rows[:3]), reverse=True)
    sample = ["generate", "--model", path, "--temperature", "1.5", "--num-results", "4", "--seed", "7", "abc"]
    assert cli.main(sample) == 0 and cli.main(sample) == 0
    first, second = np.split(np.array(capsys.readouterr().out.strip().splitlines()), 2)
    assert list(first) == list(second) and len(first) == 4
    assert cli.main(["generate", "--model", path, "--num-results", "2", "abc"]) == 2  # greedy gives one result
    assert re.search(r"seqrecipes generate: error: .*num_results.*Received: num_results=2", capsys.readouterr().err)


def test_generate_takes_the_decoding_controls_and_banned_phrases_one_per_flag(trained, capsys):
    path = str(trained / "seq2seq_attention.keras")
    model = commands.load_model(path)
    vocabulary = model.tokenizer("target").get_vocabulary()[4:]
    phrases = [vocabulary[0], vocabulary[1] + vocabulary[2]]
    argv = ["generate", "--model", path, "--min-length", "3", "--no-repeat-ngram-size", "2", "--repetition-penalty",
            "1.5", "--banned", phrases[0], "--banned", phrases[1], "abc"]  # fmt: skip
    assert cli.main(argv) == 0
    (row,) = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    settings = dict(min_length=3, no_repeat_ngram_size=2, repetition_penalty=1.5, banned="\n".join(phrases))
    expected = recipes.generate(model.decoder, model.decoder.inputs_from_raw(["abc"]), **settings)
    assert row[3] == model.decoder.detokenize(expected["ids"]).numpy()[0, 0].decode()
    assert cli.main(["generate", "--model", path, "--banned", phrases[0], "--banned", "", "abc"]) == 2
    assert re.search(r"seqrecipes generate: error: `banned` must hold no empty phrase", capsys.readouterr().err)


def test_generate_alignments_prints_where_each_output_token_looked(trained, capsys):
    path = str(trained / "seq2seq_attention.keras")
    assert cli.main(["generate", "--model", path, "--beam-width", "2", "--num-results", "2", "--alignments", "abc"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    model = commands.load_model(path)
    expected = recipes.generate(model.decoder, model.decoder.inputs_from_raw(["abc"]), beam_width=2, num_results=2,
                                alignments=True)  # fmt: skip
    for row, alignments, length in zip(rows, expected["alignments"][0].numpy(), expected["lengths"][0].numpy()):
        n = min(length + 1, alignments.shape[0])  # the tokens written, [END] included
        assert len(row) == 5 and row[4] == " ".join(str(int(i)) for i in alignments[:n].argmax(-1))
    lm = trained / "lm.keras"
    recipes.rnn_language_model(units=4, embedding_dim=4, text_tokenizer=model.tokenizer("target")).save(lm)
    assert cli.main(["generate", "--model", str(lm), "--alignments", "abc"]) == 2
    assert re.search(r"seqrecipes generate: error: `alignments` needs a decoder with attention", capsys.readouterr().err)


def test_list_reads_the_layers_summaries_from_the_sources_as_python_sees_them():
    from seqrecipes import layers

    read = sources.layer_summaries()
    assert [name for name, _ in read] == sorted(layers.__all__)
    for name, summary in read:
        assert summary == inspect.getdoc(getattr(layers, name)).splitlines()[0], name


def test_generate_flags_are_the_settings_of_recipes_generate():
    # The command line reads generate's signature from its source (so that --help imports no TensorFlow);
    # the export reads it with inspect: both see the same names, types, defaults and order.
    parameters = [p for p in inspect.signature(recipes.generate).parameters.values() if p.kind is p.KEYWORD_ONLY]
    read = sources.generate_parameters()
    assert list(read) == [p.name for p in parameters] == [name for name, _ in signatures.GENERATE_SETTINGS]
    for p, (name, dtype) in zip(parameters, signatures.GENERATE_SETTINGS):
        kind, default, meaning = read[name]
        kinds = {int: tf.int32, str: tf.string, bool: tf.bool, float: tf.float32}
        assert default == p.default and meaning and dtype == kinds[kind]


def _command_line(*argv):
    """Runs the installed console script with Python's import log: (exit status, output, the modules imported)."""
    bindir = __import__("pathlib").Path(sys.executable).parent
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # so that any TensorFlow or absl log line would show
    run = subprocess.run([str(bindir / "seqrecipes"), *argv], capture_output=True, text=True, env=env, timeout=120)
    imported = [line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")]
    log = [line for line in run.stderr.splitlines() if not line.startswith("import time:")]
    return run.returncode, run.stdout + "\n".join(log), imported


@pytest.mark.parametrize("argv", [["--help"], ["generate", "--help"], ["train", "--help"], ["list"]])
def test_help_and_list_import_no_tensorflow_and_print_no_log_lines(argv):
    status, output, imported = _command_line(*argv)
    assert status == 0, output
    assert "seqrecipes.recipes.registry" in imported and len(imported) > 50  # the import log works
    heavy = [m for m in imported if m.split(".")[0] in ("tensorflow", "keras", "keras_hub", "tensorflow_datasets", "numpy")]
    assert not heavy, heavy[:5]
    assert not re.search(r"cuda|absl|tensorflow/|WARNING:|I0000", output)
    if argv == ["list"]:
        assert "seq2seq_attention" in output and "LSTMCell" in output


def test_export_writes_a_numbered_saved_model(trained, tmp_path, capsys):
    path = str(trained / "seq2seq_attention.keras")
    assert cli.main(["export", "--model", path, "--name", "reverse", "--export-dir", str(tmp_path)]) == 0
    assert os.path.exists(tmp_path / "reverse" / "1" / "saved_model.pb")
    assert f"to {tmp_path / 'reverse' / '1'}" in capsys.readouterr().out
    assert cli.main(["export", "--model", path, "--name", "reverse", "--export-dir", str(tmp_path), "--version", "1"]) == 2
    assert "already exists" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--recipe", "nope", "--dataset", "date_translation"], r"Known recipes: .*seq2seq_attention.*Received: recipe='nope'"),
        (["train", "--recipe", "seq2seq", "--dataset", "nope"], r"Known datasets: .*date_translation.*Received: dataset='nope'"),
        (["train", "--recipe", "seq2seq", "--dataset", "imdb_reviews"], r"takes: date_translation.*Received: dataset='imdb_reviews'"),
        (["train", "--recipe", "image_captioner", "--dataset", "date_translation"], r"does not prepare data for recipe 'image_captioner'.*trains: .*sequence_tagger"),
        (["train", "--recipe", "seq2seq", "--dataset", "date_translation", "--arg", "units"], r"KEY=VALUE.*Received: --arg 'units'"),
        (["train", "--recipe", "seq2seq", "--dataset", "date_translation", "--num-examples", "8", "--arg", "cell=nope"],
         r"Could not build seq2seq: .*Received: cell='nope'"),
        (["evaluate", "--model", "missing.keras", "--dataset", "date_translation"], r"No model file at 'missing.keras'"),
        (["predict", "--model", "missing.keras", "x"], r"No model file"),
        (["export", "--model", "missing.keras", "--name", "x"], r"No model file"),
        (["generate", "--model", "missing.keras", "x"], r"No model file"),
    ],
)  # fmt: skip
def test_user_errors_are_one_clear_line_and_exit_status_2(argv, message, capsys):
    assert cli.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"seqrecipes {argv[0]}: error: ") and re.search(message, err), err


def test_train_text_classifier_on_a_tfds_name(tmp_path, capsys):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=24):
        assert _train("text_classifier", "imdb_reviews", tmp_path, 24, 8, 8, "units=8", "embedding_dim=8", "max_length=16") == 0
    out = capsys.readouterr().out
    assert "validation: accuracy" in out
    model = commands.load_model(str(tmp_path / "text_classifier.keras"))
    assert model.arguments["num_classes"] == 2 and model.arguments["max_length"] == 16
    assert np.all(np.isfinite(recipes.predict(model, ["a fine film"])["scores"]))


def _conll_sentences(*args, **kwargs):
    """Aligned (tokens, NER tag ids) sentences standing in for conll2003 (TFDS' own mock draws the
    token and tag counts independently)."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    words = ["EU", "rejects", "German", "call", "Peter", "Blackburn", "in", "Brussels"]
    rows = [rng.integers(0, len(words), size=rng.integers(2, 7)) for _ in range(24)]
    tokens = tf.ragged.constant([[words[i] for i in row] for row in rows])
    tags = tf.ragged.constant([[int(i) + 1 for i in row] for row in rows], dtype=tf.int64)
    return tf.data.Dataset.from_tensor_slices({"tokens": tokens, "ner": tags})


def test_train_evaluate_and_predict_a_tagger_on_conll2003(tmp_path, capsys):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=24, as_dataset_fn=_conll_sentences):
        assert _train("sequence_tagger", "conll2003", tmp_path, 24, 8, 8, "units=8", "embedding_dim=8") == 0
        path = str(tmp_path / "sequence_tagger.keras")
        assert cli.main(["evaluate", "--model", path, "--dataset", "conll2003", "--num-examples", "8"]) == 0
    out = capsys.readouterr().out
    assert "validation: macro_f1" in out and "f1 B-PER" in out and "token_accuracy:" in out
    model = commands.load_model(path)
    assert model.tokenizer("tags").get_vocabulary()[4:7] == ["O", "B-PER", "I-PER"]  # conll2003's tag names
    assert cli.main(["predict", "--model", path, "EU rejects German call"]) == 0
    tags = capsys.readouterr().out.strip().split("\t")[1].split()
    assert len(tags) == 4 and set(tags) <= set(model.tokenizer("tags").get_vocabulary()[4:])


def test_train_and_evaluate_a_language_model_on_tiny_shakespeare(tmp_path, capsys):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=2):
        assert _train("rnn_language_model", "tiny_shakespeare", tmp_path, 16, 4, 8, "units=8", "embedding_dim=8") == 0
        path = str(tmp_path / "rnn_language_model.keras")
        assert cli.main(["evaluate", "--model", path, "--dataset", "tiny_shakespeare", "--num-examples", "4"]) == 0
    out = capsys.readouterr().out
    perplexity = float(out.split("perplexity: ")[-1].split()[0])
    vocabulary = commands.load_model(path).tokenizer("text").vocabulary_size()
    assert 1.0 < perplexity < 2 * vocabulary  # about the vocabulary size after one tiny epoch


def test_the_console_script_loads_tensorflow_for_the_commands_that_need_it(trained):
    # In the console script seqrecipes.recipes loads only its registry (seqrecipes.COMMAND_LINE); a command that
    # reads a model imports what it uses, and the .keras file's classes are registered by then.
    path = str(trained / "seq2seq_attention.keras")
    status, output, imported = _command_line("predict", "--model", path, "abc")
    assert status == 0, output
    assert "tensorflow" in imported and "seqrecipes.recipes.cli.commands" in imported
    expected = recipes.predict(commands.load_model(path), ["abc"])["outputs"][0].decode()
    assert f"abc\t{expected}" in output.splitlines()


# ------------------------------------------------------------------------------------------------
# The demo.


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


def test_demo_command_parses_its_options():
    args = parser._parser().parse_args(["demo", "--quick", "--minutes", "0.5", "--run-dir", "r", "--export-dir", "e"])
    assert args.quick and args.minutes == 0.5 and args.run_dir == "r" and args.export_dir == "e"
    assert demo.QUICK_SETTINGS["run_dir"] != "runs/dates" and demo.QUICK_SETTINGS["export_name"] != "dates"
