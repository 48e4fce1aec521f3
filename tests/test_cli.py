"""The command line: every command end to end with tiny settings, and its errors."""

import inspect
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from seqrecipes import recipes
from seqrecipes.recipes import cli


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

TINY = ["--arg", "units=16", "--arg", "embedding_dim=8", "--arg", "max_target_length=14"]


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
    argv = ["train", "--recipe", "seq2seq_attention", "--dataset", "sequence_reversal", "--num-examples", "48",
            "--num-validation", "8", "--epochs", "1", "--batch-size", "16", "--run-dir", str(run_dir), *TINY]  # fmt: skip
    assert cli.main(argv) == 0
    return run_dir


def test_train_saves_a_model_that_reloads_and_checkpoints(trained, capsys):
    path = trained / "seq2seq_attention.keras"
    assert path.exists() and (trained / "checkpoints" / "last.keras").exists()
    model = cli._load_model(str(path))
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
    expected = recipes.predict(cli._load_model(path), ["abc", "jihgf"])["outputs"]
    assert lines == [f"abc\t{expected[0].decode()}", f"jihgf\t{expected[1].decode()}"]


def test_generate_prints_the_n_best_with_scores_and_samples_reproducibly(trained, capsys):
    path = str(trained / "seq2seq_attention.keras")
    assert cli.main(["generate", "--model", path, "--beam-width", "4", "--num-results", "3", "abc", "jihgf"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.strip().splitlines()]
    model = cli._load_model(path)
    expected = recipes.generate(model.decoder, recipes.encoder_decoder.source_ids(model, ["abc", "jihgf"]), beam_width=4, num_results=3)
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


def test_generate_flags_default_to_what_recipes_generate_defaults_to():
    # The flags keep their defaults as literals (so `seqrecipes --help` imports no TensorFlow); they must not drift.
    parameters = inspect.signature(recipes.generate).parameters
    for flag, (_, default, _) in cli.GENERATE_SETTINGS.items():
        assert default == parameters[flag.replace("-", "_")].default, flag


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
        argv = ["train", "--recipe", "text_classifier", "--dataset", "imdb_reviews", "--num-examples", "24",
                "--num-validation", "8", "--epochs", "1", "--batch-size", "8", "--run-dir", str(tmp_path),
                "--arg", "units=8", "--arg", "embedding_dim=8", "--arg", "max_length=16"]  # fmt: skip
        assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "validation: accuracy" in out
    model = cli._load_model(str(tmp_path / "text_classifier.keras"))
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
        argv = ["train", "--recipe", "sequence_tagger", "--dataset", "conll2003", "--num-examples", "24",
                "--num-validation", "8", "--epochs", "1", "--batch-size", "8", "--run-dir", str(tmp_path),
                "--arg", "units=8", "--arg", "embedding_dim=8"]  # fmt: skip
        assert cli.main(argv) == 0
        path = str(tmp_path / "sequence_tagger.keras")
        assert cli.main(["evaluate", "--model", path, "--dataset", "conll2003", "--num-examples", "8"]) == 0
    out = capsys.readouterr().out
    assert "validation: macro_f1" in out and "f1 B-PER" in out and "token_accuracy:" in out
    model = cli._load_model(path)
    assert model.tokenizer("tags").get_vocabulary()[4:7] == ["O", "B-PER", "I-PER"]  # conll2003's tag names
    assert cli.main(["predict", "--model", path, "EU rejects German call"]) == 0
    tags = capsys.readouterr().out.strip().split("\t")[1].split()
    assert len(tags) == 4 and set(tags) <= set(model.tokenizer("tags").get_vocabulary()[4:])


def test_train_and_evaluate_a_language_model_on_tiny_shakespeare(tmp_path, capsys):
    import tensorflow_datasets as tfds

    with tfds.testing.mock_data(num_examples=2):
        argv = ["train", "--recipe", "rnn_language_model", "--dataset", "tiny_shakespeare", "--num-examples", "16",
                "--num-validation", "4", "--epochs", "1", "--batch-size", "8", "--run-dir", str(tmp_path),
                "--arg", "units=8", "--arg", "embedding_dim=8"]  # fmt: skip
        assert cli.main(argv) == 0
        path = str(tmp_path / "rnn_language_model.keras")
        assert cli.main(["evaluate", "--model", path, "--dataset", "tiny_shakespeare", "--num-examples", "4"]) == 0
    out = capsys.readouterr().out
    perplexity = float(out.split("perplexity: ")[-1].split()[0])
    vocabulary = cli._load_model(path).tokenizer("text").vocabulary_size()
    assert 1.0 < perplexity < 2 * vocabulary  # about the vocabulary size after one tiny epoch
