"""Bad input to training and the command line (issue 12, sections 3 and 4): the divergence guard, token ids
at fit, full disks, and every flag of ``seqrecipes`` given a bad value.

Each case is lazy (``bad_input``): the models, files and folders it needs are built when it runs, once
(``functools.cache``). The command-line cases run ``seqrecipes.recipes.cli.main`` in this process and
return ``(exit status, standard error)``: a user error is exit status 2 and exactly one line naming the
flag or path; the non-UTF-8 argument needs a real process (its bytes go through the OS), so one case
runs ``python -m seqrecipes``.
"""

import contextlib
import errno
import functools
import io
import os
import subprocess
import sys
import tempfile
import warnings
from unittest import mock

import keras
import numpy as np
import pytest
import tensorflow as tf
from bad_input import answers, expect_clear, params, raises

from seqrecipes import data, recipes
from seqrecipes.recipes import cli
from seqrecipes.recipes.training import trainer

# ------------------------------------------------------------------------------------------------
# Set-up shared by the cases (built on first use).


def _folder():
    return tempfile.mkdtemp(prefix="bad_input_training_")


def _dense(learning_rate=0.01, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4, activation="tanh"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    return model


@functools.cache
def _arrays():
    x = np.random.default_rng(0).normal(size=(32, 2)).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


class _WeightsPerEpoch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())


class _AtEpoch(keras.callbacks.Callback):
    """Runs ``action(model)`` at the start of epoch ``epoch`` (0-based), or after its last batch."""

    def __init__(self, epoch, action, last_batch=None):
        super().__init__()
        self.epoch, self.action, self.last_batch, self.current = epoch, action, last_batch, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.current = epoch
        if epoch == self.epoch and self.last_batch is None:
            self.action(self.model)

    def on_train_batch_end(self, batch, logs=None):
        if self.current == self.epoch and batch == self.last_batch:
            self.action(self.model)


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def _finite(weights):
    return all(np.all(np.isfinite(w)) for w in weights)


def _warned_train(model, x, **kwargs):
    """``recipes.train``, and whether it warned that training stopped (the guard's warning)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = recipes.train(model, x, verbose=0, tensorboard=False, **kwargs)
    history.warned = any("Training stopped at" in str(w.message) for w in caught)
    return history


def _guarded_run(learning_rate=0.01, *extra, epochs=4):
    """Trains the small Dense model with ``recipes.train``: (history, model, weights per epoch, run_dir, initial weights)."""
    model, run_dir, record = _dense(learning_rate), _folder(), _WeightsPerEpoch()
    initial = model.get_weights()
    x, y = _arrays()
    history = _warned_train(model, x, y=y, batch_size=8, epochs=epochs, run_dir=run_dir, callbacks=[record, *extra])
    return history, model, record.weights, run_dir, initial


def _exploding_in_epoch_one():
    history, model, _, run_dir, initial = _guarded_run(1e10)  # Adam moves every weight by ~1e10 a step
    checkpoints = os.path.exists(os.path.join(run_dir, "checkpoints", "last.keras"))
    return history.stopped_because, _same(model.get_weights(), initial) and history.warned, checkpoints, len(history.history["loss"])


def _exploding_later():
    boost = _AtEpoch(2, lambda model: model.optimizer.learning_rate.assign(1e10))
    history, model, weights, run_dir, _ = _guarded_run(0.01, boost)
    checkpoint = keras.saving.load_model(os.path.join(run_dir, "checkpoints", "last.keras"))
    good = weights[1]  # after epoch 2, the last one before the learning rate exploded
    return (history.stopped_because, _same(model.get_weights(), good), _same(checkpoint.get_weights(), good),
            trainer.backed_up_epoch(run_dir), max(history.history["loss"]))  # fmt: skip


def _infinite_weights():
    def poison(model):
        model.layers[-1].bias.assign([np.inf])  # after the epoch's last loss was computed: the loss is finite

    history, model, weights, run_dir, _ = _guarded_run(0.01, _AtEpoch(1, poison, last_batch=3))
    checkpoint = keras.saving.load_model(os.path.join(run_dir, "checkpoints", "last.keras"))
    return (history.stopped_because, _same(model.get_weights(), weights[0]), _same(checkpoint.get_weights(), weights[0]),
            bool(np.all(np.isfinite(history.history["loss"]))))  # fmt: skip


def _recipe_with_huge_learning_rate():
    tokenizer = data.WordTokenizer(vocabulary=["good", "bad", "film"])
    model = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, learning_rate=1e10, text_tokenizer=tokenizer)
    x = np.array([[4, 6, 0, 0], [5, 6, 0, 0]] * 8)
    run_dir = _folder()
    history = _warned_train(model, x, y=np.array([0, 1] * 8), batch_size=2, epochs=3, run_dir=run_dir)
    checkpoint = os.path.join(run_dir, "checkpoints", "last.keras")
    saved = keras.saving.load_model(checkpoint).get_weights() if os.path.exists(checkpoint) else []
    return history.stopped_because, _finite(model.get_weights()) and history.warned, _finite(saved)


@functools.cache
def _tokenizer():
    return data.CharTokenizer(vocabulary=list("abc"))  # ids 0-3 reserved: a vocabulary of 7


def _seq2seq():
    return recipes.seq2seq(units=4, embedding_dim=4, source_tokenizer=_tokenizer(), target_tokenizer=_tokenizer())


def _batch(source_id=4, target_in_id=4, target_id=5):
    source = np.array([[4, 5, 6, 3], [4, source_id, 3, 0]])
    target_in = np.array([[2, 4, 5], [2, target_in_id, 5]])
    target = np.array([[4, 5, 3], [4, target_id, 3]])
    return {"source": source, "target_in": target_in}, target


def _dataset(**ids):
    return tf.data.Dataset.from_tensor_slices(_batch(**ids)).batch(2)


def _fit_arrays(**ids):
    return _seq2seq().fit(*_batch(**ids), verbose=0)


def _fit_dataset(**ids):
    return _seq2seq().fit(_dataset(**ids), verbose=0)


def _good_fit():
    history = _seq2seq().fit(_dataset(), validation_data=_dataset(), verbose=0)
    return history.history


def _classifier_fit(token_id):
    tokenizer = data.WordTokenizer(vocabulary=["good", "bad"])
    model = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, text_tokenizer=tokenizer)
    return model.fit(np.array([[4, token_id, 0, 0]]), np.array([1]), verbose=0)


def _full_disk(method):
    """``recipes.train`` with ``keras.Model.<method>`` failing as a full disk does (no path in its error)."""
    x, y = _arrays()
    with mock.patch.object(keras.Model, method, side_effect=OSError(errno.ENOSPC, "No space left on device")):
        return recipes.train(_dense(), x, y=y, batch_size=8, epochs=2, run_dir=_folder(), verbose=0, tensorboard=False)


# ------------------------------------------------------------------------------------------------
# The command line.


def _cli(*argv):
    """``seqrecipes ARGV`` in this process: (exit status, standard error). Python warnings are recorded apart
    (as pytest does), so that standard error holds what the command line itself prints."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), warnings.catch_warnings(record=True):
        try:
            status = cli.main([str(a) for a in argv])
        except SystemExit as exit:
            status = exit.code
    return status, err.getvalue()


def _one_line(*names):
    """The check of a user error: exit status 2, one line ``seqrecipes ...: error: ...`` naming each of ``names``."""

    def check(result):
        status, err = result
        lines = err.strip().splitlines()
        return status == 2 and len(lines) == 1 and lines[0].startswith("seqrecipes") and all(n in lines[0] for n in names)

    return check


@functools.cache
def _model_file():
    """A seq2seq after one training step, saved as a .keras file."""
    path = os.path.join(_folder(), "reverse.keras")
    model = _seq2seq()
    model.fit(*_batch(), verbose=0)
    model.save(path)
    return path


@functools.cache
def _plain_file():
    path = os.path.join(_folder(), "notes.txt")
    with open(path, "w") as f:
        f.write("not a folder\n")
    return path


@functools.cache
def _text_as_keras():
    path = os.path.join(_folder(), "text.keras")
    with open(path, "w") as f:
        f.write("SECRET-CONTENTS-1234\n" * 10)
    return path


@functools.cache
def _read_only_folder():
    """A folder no file can be written in: chmod 555, or (for root, whom modes do not stop) a sysfs path."""
    candidates = [_folder(), "/sys/seqrecipes-read-only"]
    os.chmod(candidates[0], 0o555)
    for path in candidates:
        try:
            os.makedirs(path, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError:
            return path
    raise RuntimeError(f"No read-only folder to test with. Received: candidates={candidates}")


TRAIN = ("train", "--recipe", "seq2seq", "--dataset", "sequence_reversal")
TINY = ("--num-examples", "16", "--num-validation", "0", "--epochs", "1", "--batch-size", "8",
        "--arg", "units=4", "--arg", "embedding_dim=4", "--arg", "max_target_length=14")  # fmt: skip


def _train_on_a_full_disk():
    run_dir = _folder()
    with mock.patch.object(keras.Model, "save", side_effect=OSError(errno.ENOSPC, "No space left on device")):
        status, err = _cli(*TRAIN, *TINY, "--run-dir", run_dir)
    return status, err, os.path.join(run_dir, "checkpoints", "last.keras")


def _full_disk_names_the_checkpoint(result):
    status, err, checkpoint = result
    return _one_line("No space left on device", checkpoint)((status, err))


def _non_utf8_argument():
    """``python -m seqrecipes predict --model M <the byte 0xff>``: a real process, whose argv comes from the OS."""
    run = subprocess.run([sys.executable, "-m", "seqrecipes", "predict", "--model", _model_file(), b"\xff"],
                         capture_output=True, text=True, timeout=120, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))  # fmt: skip
    return run.returncode, run.stderr


NOT_UTF8 = os.fsdecode(b"caf\xe9")  # Latin-1 bytes, as Python decodes an argument that is not UTF-8

CASES = [
    # The divergence guard: a loss that explodes but stays finite, non-finite weights.
    answers("guard: learning_rate=1e10 explodes in epoch 1: stopped, the initial weights back, no checkpoint",
            _exploding_in_epoch_one, lambda r: "exploding loss" in r[0] and r[1] and not r[2] and r[3] == 1),
    answers("guard: learning rate 1e10 from epoch 3: stopped, the epoch-2 weights in the model and the checkpoint",
            _exploding_later, lambda r: "exploding loss at epoch 3" in r[0] and r[1] and r[2] and r[3] == 2 and r[4] > 1e6),
    answers("guard: an infinite weight after a finite loss: stopped before the checkpoint",
            _infinite_weights, lambda r: "non-finite weights after epoch 2" in r[0] and r[1] and r[2] and r[3]),
    answers("guard: text_classifier(learning_rate=1e10) through recipes.train: stopped, finite weights kept",
            _recipe_with_huge_learning_rate, lambda r: r[0] is not None and r[1] and r[2]),
    # Token ids at fit and evaluate.
    raises("fit: a negative source id (NumPy)", lambda: _fit_arrays(source_id=-1), ValueError, "`source`", "-1"),
    raises("fit: a source id at the vocabulary size (tf.data)", lambda: _fit_dataset(source_id=7), ValueError, "`source`", "id 7", "[0, 7)"),
    raises("fit: a negative target_in id (tf.data)", lambda: _fit_dataset(target_in_id=-5), ValueError, "`target_in`", "-5"),
    raises("fit: a huge target_in id (NumPy)", lambda: _fit_arrays(target_in_id=10**6), ValueError, "`target_in`", "1000000"),
    raises("fit: a target id past the output (tf.data)", lambda: _fit_dataset(target_id=9), ValueError, "`targets`", "id 9"),
    raises("fit: a negative target id (NumPy)", lambda: _fit_arrays(target_id=-2), ValueError, "`targets`", "-2"),
    raises("fit: a bad id in validation_data (tf.data)",
           lambda: _seq2seq().fit(_dataset(), validation_data=_dataset(source_id=99), verbose=0), ValueError, "`source`", "99"),
    raises("evaluate: a bad id (tf.data)", lambda: _seq2seq().evaluate(_dataset(source_id=8), verbose=0), ValueError, "`source`", "8"),
    raises("recipes.train: a bad id (tf.data)",
           lambda: recipes.train(_seq2seq(), _dataset(target_in_id=-1), epochs=1, run_dir=_folder(), verbose=0, tensorboard=False),
           ValueError, "`target_in`", "-1"),
    raises("fit: text_classifier token id 9999 (NumPy)", lambda: _classifier_fit(9999), ValueError, "`token_ids`", "9999"),
    answers("fit: good ids train as before (with validation data)", _good_fit,
            lambda h: np.isfinite(h["loss"][0]) and np.isfinite(h["val_loss"][0])),
    # A full disk while checkpointing or backing up: an OSError naming the file or folder.
    raises("recipes.train: a full disk at the checkpoint", lambda: _full_disk("save"), OSError, "last.keras", "No space left"),
    raises("recipes.train: a full disk at the backup", lambda: _full_disk("save_weights"), OSError, "backup", "No space left"),
    # The command line: numbers checked as they are parsed.
    answers("cli: train --steps-per-epoch 0", lambda: _cli(*TRAIN, "--steps-per-epoch", "0"), _one_line("--steps-per-epoch", "'0'")),
    answers("cli: train --epochs 0", lambda: _cli(*TRAIN, "--epochs", "0"), _one_line("--epochs", "positive integer", "'0'")),
    answers("cli: train --epochs -3", lambda: _cli(*TRAIN, "--epochs", "-3"), _one_line("--epochs", "'-3'")),
    answers("cli: train --epochs ten", lambda: _cli(*TRAIN, "--epochs", "ten"), _one_line("--epochs", "'ten'")),
    answers("cli: train --batch-size 0", lambda: _cli(*TRAIN, "--batch-size", "0"), _one_line("--batch-size", "'0'")),
    answers("cli: train --num-examples 0", lambda: _cli(*TRAIN, "--num-examples", "0"), _one_line("--num-examples", "'0'")),
    answers("cli: train --num-examples 10**12", lambda: _cli(*TRAIN, "--num-examples", str(10**12)), _one_line("--num-examples", "10000000")),
    answers("cli: train --num-validation -1", lambda: _cli(*TRAIN, "--num-validation", "-1"), _one_line("--num-validation", "'-1'")),
    answers("cli: train --patience -1", lambda: _cli(*TRAIN, "--patience", "-1"), _one_line("--patience", "'-1'")),
    answers("cli: train --seed -1", lambda: _cli(*TRAIN, "--seed", "-1"), _one_line("--seed", "'-1'")),
    answers("cli: train --seed 2**40", lambda: _cli(*TRAIN, "--seed", str(2**40)), _one_line("--seed", str(2**40))),
    answers("cli: train --output model.h5", lambda: _cli(*TRAIN, "--output", "model.h5"), _one_line("--output", ".keras", "model.h5")),
    answers("cli: evaluate --batch-size 0", lambda: _cli("evaluate", "--model", "m.keras", "--dataset", "date_translation", "--batch-size", "0"),
            _one_line("--batch-size")),
    answers("cli: evaluate --num-examples -5", lambda: _cli("evaluate", "--model", "m.keras", "--dataset", "date_translation", "--num-examples", "-5"),
            _one_line("--num-examples")),
    answers("cli: generate --temperature nan", lambda: _cli("generate", "--model", "m.keras", "--temperature", "nan", "x"), _one_line("--temperature", "nan")),
    answers("cli: generate --top-p inf", lambda: _cli("generate", "--model", "m.keras", "--top-p", "inf", "x"), _one_line("--top-p", "inf")),
    answers("cli: generate --beam-width 1.5", lambda: _cli("generate", "--model", "m.keras", "--beam-width", "1.5", "x"), _one_line("--beam-width", "1.5")),
    answers("cli: export --version 0", lambda: _cli("export", "--model", "m.keras", "--name", "x", "--version", "0"), _one_line("--version", "'0'")),
    answers("cli: export --name ../escape", lambda: _cli("export", "--model", "m.keras", "--name", "../escape"), _one_line("--name", "../escape")),
    answers("cli: export --name ''", lambda: _cli("export", "--model", "m.keras", "--name", ""), _one_line("--name")),
    answers("cli: demo --minutes 0", lambda: _cli("demo", "--minutes", "0"), _one_line("--minutes", "'0'")),
    answers("cli: demo --minutes nan", lambda: _cli("demo", "--minutes", "nan"), _one_line("--minutes", "nan")),
    # Arguments that are not UTF-8.
    answers("cli: predict with a non-UTF-8 argument (a real process)", _non_utf8_argument, _one_line("inputs", "UTF-8", "xff")),
    answers("cli: generate with a non-UTF-8 argument", lambda: _cli("generate", "--model", _model_file(), NOT_UTF8), _one_line("inputs", "UTF-8", "xe9")),
    answers("cli: train --arg with a non-UTF-8 value", lambda: _cli(*TRAIN, "--arg", f"cell={NOT_UTF8}"), _one_line("--arg", "UTF-8")),
    # Files and folders: one line naming the flag or path.
    answers("cli: train --run-dir a file", lambda: _cli(*TRAIN, "--run-dir", _plain_file()), _one_line("--run-dir", _plain_file(), "a file")),
    answers("cli: train --run-dir read-only", lambda: _cli(*TRAIN, "--run-dir", os.path.join(_read_only_folder(), "run")), _one_line("--run-dir")),
    answers("cli: train --output in a read-only folder",
            lambda: _cli(*TRAIN, "--run-dir", _folder(), "--output", os.path.join(_read_only_folder(), "m.keras")), _one_line("--output")),
    answers("cli: train on a full disk: the checkpoint path", _train_on_a_full_disk, _full_disk_names_the_checkpoint),
    answers("cli: export into a read-only folder",
            lambda: _cli("export", "--model", _model_file(), "--name", "x", "--export-dir", _read_only_folder()),
            _one_line("--export-dir", _read_only_folder())),
    answers("cli: export --export-dir a file", lambda: _cli("export", "--model", _model_file(), "--name", "x", "--export-dir", _plain_file()),
            _one_line("--export-dir", "a file")),
    answers("cli: predict --model a missing file", lambda: _cli("predict", "--model", "missing.keras", "x"), _one_line("--model", "missing.keras")),
    answers("cli: predict --model a folder", lambda: _cli("predict", "--model", _folder(), "x"), _one_line("--model")),
    answers("cli: predict --model a text file named .keras, its text never shown",
            lambda: _cli("predict", "--model", _text_as_keras(), "x"), lambda r: _one_line("--model")(r) and "SECRET" not in r[1]),
    answers("cli: train --recipe unknown", lambda: _cli("train", "--recipe", "nope", "--dataset", "date_translation"), _one_line("recipe='nope'")),
    answers("cli: train --arg an unknown recipe argument",
            lambda: _cli(*TRAIN, "--num-examples", "8", "--run-dir", _folder(), "--arg", "frobnicate=1"), _one_line("frobnicate")),
    answers("cli: generate --beam-width 0", lambda: _cli("generate", "--model", _model_file(), "--beam-width", "0", "abc"), _one_line("beam_width")),
    answers("cli: generate --beam-width 10**6", lambda: _cli("generate", "--model", _model_file(), "--beam-width", str(10**6), "abc"),
            _one_line("beam_width")),
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)

