"""``seqrecipes train`` / ``evaluate`` / ``predict`` on the user's own files, and the run configuration: every
format a trainer kind reads, the tokenizer choice, config.yaml that repeats a run exactly, and the bad input
(missing or empty files, a row with the wrong number of fields, unknown keys and arguments)."""

import io
import json
import re

import keras
import numpy as np
import pytest
import yaml

from seqrecipes import data, recipes
from seqrecipes.recipes import cli, metrics
from seqrecipes.recipes.cli import commands

WORDS = ["a red car", "the blue sky", "a green tree", "one small dog", "the old house", "a long road"]
TINY = ["--arg", "units=8", "--arg", "embedding_dim=4", "--epochs", "1", "--batch-size", "4"]


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("own_files")
    rows = "".join(f"{w}\t{w[::-1]}\n" for w in WORDS * 3)
    _write(root / "pairs.tsv", "source\ttarget\n" + rows)
    _write(root / "train.src", "".join(f"{w}\n" for w in WORDS * 2))
    _write(root / "train.tgt", "".join(f"{w.upper()}\n" for w in WORDS * 2))
    labels = "".join(f'"{w}",{"vehicle" if "car" in w or "road" in w else "other"}\n' for w in WORDS * 3)
    _write(root / "labels.csv", "text,label\n" + labels)
    sentences = "".join("".join(f"{token} {'N' if i == len(w.split()) - 1 else 'D'}\n" for i, token in enumerate(w.split())) + "\n" for w in WORDS * 2)
    _write(root / "tags.conll", sentences)
    _write(root / "lines.txt", "".join(f"{w}.\n" for w in WORDS * 2))
    return root


def _train(folder, name, *argv):
    return cli.main(["train", "--run-dir", str(folder / name), *argv])


def test_tsv_pairs_train_keep_their_config_and_repeat_exactly(folder, capsys):
    assert _train(folder, "pairs", "--recipe", "seq2seq_attention", "--train", str(folder / "pairs.tsv"),
                  "--validation", str(folder / "pairs.tsv"), "--seed", "3", *TINY) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "data: 18 training and 18 validation examples" in out and "validation: exact_match" in out
    config = yaml.safe_load((folder / "pairs" / "config.yaml").read_text())
    assert config["recipe"] == "seq2seq_attention" and config["arguments"] == {"units": 8, "embedding_dim": 4}
    assert config["data"]["train"] == [str(folder / "pairs.tsv")] and config["training"]["seed"] == 3
    assert config["training"]["bucket"] is True and config["run_dir"] == str(folder / "pairs")
    first = keras.saving.load_model(str(folder / "pairs" / "seq2seq_attention.keras")).get_weights()
    # The kept configuration, into another folder: the same data, tokenizers, seed and so the same weights.
    assert cli.main(["train", "--config", str(folder / "pairs" / "config.yaml"), "--run-dir", str(folder / "again")]) == 0
    again = keras.saving.load_model(str(folder / "again" / "seq2seq_attention.keras"))
    assert yaml.safe_load((folder / "again" / "config.yaml").read_text()) == dict(config, run_dir=str(folder / "again"))
    for a, b in zip(first, again.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert cli.main(["evaluate", "--model", str(folder / "again" / "seq2seq_attention.keras"), "--file", str(folder / "pairs.tsv")]) == 0
    assert re.search(r"evaluating .* on 18 .*pairs.tsv.*\n(.|\n)*bleu: ", capsys.readouterr().out)


def test_evaluate_reports_the_sacrebleu_of_the_api_outputs_with_its_signature(folder, capsys):
    # Word tokens and targets of 6: outputs of several words, so that BLEU's 4-grams exist.
    rows = "".join(f"{w}\tso {w} is here\n" for w in WORDS * 3)
    train = _write(folder / "long.tsv", "source\ttarget\n" + rows)
    assert _train(folder, "words", "--recipe", "seq2seq_attention", "--train", train, "--tokenizer", "word", *TINY, "--epochs", "30") == 0
    path = folder / "words" / "seq2seq_attention.keras"
    outputs = [o.decode() for o in recipes.predict(commands.load_model(str(path)), WORDS)["outputs"]]
    # References: every other one the model's own output, so the BLEU is neither 0 nor 100.
    references = [o.upper() if i % 2 else w[::-1] for i, (w, o) in enumerate(zip(WORDS, outputs))]
    _write(folder / "scored.tsv", "source\ttarget\n" + "".join(f"{w}\t{r}\n" for w, r in zip(WORDS, references)))
    for flags, lowercase in (([], False), (["--lowercase"], True)):
        assert cli.main(["evaluate", "--model", str(path), "--file", str(folder / "scored.tsv"), *flags]) == 0
        out = capsys.readouterr().out
        expected, signature = metrics.sacre_bleu(references, outputs, lowercase=lowercase)
        assert float(re.search(r"^bleu: (\S+)$", out, flags=re.M).group(1)) == pytest.approx(expected, abs=5e-5)
        assert f"bleu_signature: {signature}" in out and ("case:lc" in signature) == lowercase
    assert 0 < metrics.sacre_bleu(references, outputs, lowercase=True)[0] < 100


def test_parallel_files_with_a_wordpiece_tokenizer_from_a_json_config(folder, capsys):
    config = {"recipe": "seq2seq", "arguments": {"units": 8, "embedding_dim": 4},
              "data": {"train": [str(folder / "train.src"), str(folder / "train.tgt")]},
              "tokenizer": {"kind": "wordpiece", "vocabulary_size": 40, "lowercase": True},
              "training": {"epochs": 1, "batch_size": 4, "bucket": False}}  # fmt: skip
    path = _write(folder / "parallel.json", json.dumps(config))
    assert _train(folder, "parallel", "--config", path) == 0
    model = commands.load_model(str(folder / "parallel" / "seq2seq.keras"))
    source, target = model.tokenizer("source"), model.tokenizer("target")
    assert isinstance(source, data.SubwordTokenizer) and source.get_config()["lowercase"] is True
    pieces = target.get_vocabulary()[4:]  # of the upper-case targets, lowercased
    assert len(pieces) <= 36 and "r" in pieces and not any(c.isupper() for piece in pieces for c in piece)
    assert "data: 12 training and 0 validation examples" in capsys.readouterr().out


def test_csv_labels_by_name_train_evaluate_and_predict_from_a_file_and_stdin(folder, capsys, monkeypatch):
    assert _train(folder, "labels", "--recipe", "text_classifier", "--train", str(folder / "labels.csv"), "--strategy", "mirrored", *TINY) == 0
    assert "seqrecipes train: warning" not in capsys.readouterr().err
    path = str(folder / "labels" / "text_classifier.keras")
    model = commands.load_model(path)
    assert model.arguments["label_names"] == ["other", "vehicle"] and model.arguments["num_classes"] == 2
    capsys.readouterr()
    assert cli.main(["evaluate", "--model", path, "--file", str(folder / "labels.csv")]) == 0
    out = capsys.readouterr().out
    assert "on 18 " in out and re.search(r"^accuracy: \d\.\d{4}$", out, flags=re.M) and re.search(r"^macro_f1: \d\.\d{4}$", out, flags=re.M)
    inputs = _write(folder / "inputs.txt", "a red car\nthe old house\n")
    assert cli.main(["predict", "--model", path, "first", "--input-file", inputs]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == ["first", "a red car", "the old house"]
    monkeypatch.setattr("sys.stdin", io.StringIO("one small dog\n"))
    assert cli.main(["predict", "--model", path, "--input-file", "-"]) == 0
    (line,) = capsys.readouterr().out.strip().splitlines()
    assert line.split("\t")[0] == "one small dog" and line.split("\t")[1].split(" ")[0] in ("other", "vehicle")


def test_conll_tags_and_a_text_document_train(folder, capsys):
    assert _train(folder, "tags", "--recipe", "sequence_tagger", "--train", str(folder / "tags.conll"), *TINY) == 0
    tagger = str(folder / "tags" / "sequence_tagger.keras")
    assert commands.load_model(tagger).tokenizer("tags").get_vocabulary()[-2:] == ["D", "N"]
    assert cli.main(["evaluate", "--model", tagger, "--file", str(folder / "tags.conll")]) == 0
    assert "macro_f1: " in capsys.readouterr().out
    assert _train(folder, "text", "--recipe", "rnn_language_model", "--train", str(folder / "lines.txt"),
                  "--format", "document", "--tokenizer", "word", "--mixed-precision", "mixed_bfloat16", *TINY) == 0  # fmt: skip
    model = commands.load_model(str(folder / "text" / "rnn_language_model.keras"))
    assert model.arguments["mixed_precision"] == "mixed_bfloat16" and model.get_layer("logits").compute_dtype == "bfloat16"
    assert isinstance(model.tokenizer("text"), data.WordTokenizer) and "house" in model.tokenizer("text").get_vocabulary()


BAD_FILES = {
    "missing file": ("missing.tsv", None, r"Data file not found. Received: path='.*missing.tsv'"),
    "empty file": ("empty.tsv", "", r"The data file is empty"),
    "row with one field": ("short.tsv", "source\ttarget\nab\tba\nonly\n", r"short.tsv:3: expected 2 fields .*found 1"),
    "column not in the header": ("cols.tsv", "a\tb\nx\ty\n", r"column\(s\) \['source', 'target'\] not in the header"),
}


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_files_are_errors_naming_the_file(folder, capsys, case):
    name, text, message = BAD_FILES[case]
    path = str(folder / name) if text is None else _write(folder / name, text)
    extra = ["--columns", "source,target"] if case == "column not in the header" else []
    assert _train(folder, "bad", "--recipe", "seq2seq", "--train", path, *extra, *TINY) == 2
    assert re.search(r"seqrecipes train: error: .*" + message, capsys.readouterr().err)


def _config(folder, text):
    return ["train", "--config", _write(folder / "bad.yaml", text)]


BAD_RUNS = {
    "unknown config key": (lambda f: _config(f, "recipe: seq2seq\nepochz: 3\n"), r"Unknown configuration key\(s\) \['epochz'\]; the keys are recipe, arguments"),
    "unknown section key": (lambda f: _config(f, "recipe: seq2seq\ntraining: {epoch: 3}\n"), r"Unknown key `training.epoch`; `training` takes epochs, batch_size"),
    "not YAML": (lambda f: _config(f, "recipe: [\n"), r"The configuration is not valid YAML"),
    "a list, not a mapping": (lambda f: _config(f, "- seq2seq\n"), r"must be a mapping of keys"),
    "a bad value": (lambda f: _config(f, "recipe: seq2seq\ndata: {train: x.tsv}\ntraining: {epochs: ten}\n"),
                    r"`training.epochs` must be a positive integer. Received: training.epochs='ten'"),
    "an argument no recipe takes": (lambda f: ["train", "--recipe", "seq2seq", "--train", str(f / "pairs.tsv"), "--arg", "unitz=3"],
                                    r"Recipe 'seq2seq' takes no argument\(s\) \['unitz'\]. Its arguments: .*units, embedding_dim"),
    "no data": (lambda f: ["train", "--recipe", "seq2seq"], r"No training data: pass --train FILE"),
    "files and a data set": (lambda f: ["train", "--recipe", "seq2seq", "--train", str(f / "pairs.tsv"), "--dataset", "sequence_reversal"],
                             r"Train on files or on a named data set, not both"),
    "parallel files of other lengths": (lambda f: ["train", "--recipe", "seq2seq", "--train", str(f / "train.src"), _write(f / "short.tgt", "x\n")],
                                        r"Parallel files must have one line each per pair. Received: .*train.src' has 12 lines, .*short.tgt' has 1"),
    "a format the recipe does not read": (lambda f: ["train", "--recipe", "text_classifier", "--train", str(f / "tags.conll")],
                                          r"This recipe trains on tsv, csv files; .* reads as 'conll'"),
    "a subword tokenizer for a tagger": (lambda f: ["train", "--recipe", "sequence_tagger", "--train", str(f / "tags.conll"), "--tokenizer", "wordpiece"],
                                         r"--tokenizer word only. Received: --tokenizer='wordpiece'"),
    "an unknown strategy": (lambda f: _config(f, "recipe: seq2seq\ndata: {train: x.tsv}\ntraining: {strategy: ring}\n"),
                            r"`training.strategy` must be one of mirrored, multi-worker or null. Received: training.strategy='ring'"),
    "predict with a missing model": (lambda f: ["predict", "--model", str(f / "missing.keras")], r"No model file at"),
}  # fmt: skip


def test_a_malformed_tf_config_is_refused_before_any_work(folder, capsys, monkeypatch):
    monkeypatch.setenv("TF_CONFIG", '{"cluster": ["not", "a", "mapping"]}')
    argv = ["train", "--recipe", "seq2seq", "--train", str(folder / "pairs.tsv"), "--strategy", "multi-worker", "--run-dir", str(folder / "bad")]
    assert cli.main(argv) == 2
    assert re.search(r"TF_CONFIG must be JSON such as .*Received: TF_CONFIG=", capsys.readouterr().err)


@pytest.mark.parametrize("case", sorted(BAD_RUNS))
def test_bad_configurations_and_flags_are_clear_errors(folder, capsys, case):
    argv, message = BAD_RUNS[case]
    assert cli.main(argv(folder) + (["--run-dir", str(folder / "bad")] if argv(folder)[0] == "train" else [])) == 2
    assert re.search(message, capsys.readouterr().err)
