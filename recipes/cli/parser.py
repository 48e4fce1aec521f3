"""The ``seqrecipes`` command line: its arguments, ``list``, and ``main``.

    seqrecipes list
    seqrecipes train --recipe seq2seq_attention --dataset date_translation --epochs 5
    seqrecipes evaluate --model runs/seq2seq_attention/seq2seq_attention.keras --dataset date_translation
    seqrecipes predict --model runs/seq2seq_attention/seq2seq_attention.keras "June 25th, 2009" "2009년 6월 25일"
    seqrecipes generate --model runs/seq2seq_attention/seq2seq_attention.keras --beam-width 4 --num-results 3 "June 25th, 2009"
    seqrecipes export --model runs/seq2seq_attention/seq2seq_attention.keras --name dates
    seqrecipes demo

This module imports no TensorFlow: ``--help`` and ``list`` read the registry (whose catalogs import no
TensorFlow either) and the package's sources (``sources.py``); the other commands are in ``commands.py``,
imported when one of them runs. Which data sets ``train`` reads for which recipe, and how, is in each
recipe's registry entry and in ``trainers.py``.
"""

import argparse
import math
import os
import sys

from seqrecipes import __version__
from seqrecipes.recipes.cli.errors import CommandError
from seqrecipes.recipes.cli.sources import generate_parameters, layer_summaries
from seqrecipes.recipes.registry import list_recipes, trained_datasets


def list_command(args):
    """``seqrecipes list``: the recipes (task type, serving kind, data sets), the layers, the data sets ``train`` reads."""
    recipes = list_recipes()
    print(f"recipes ({len(recipes)}):")
    print(f"  {'name':<24} {'task type':<32} {'serving':<9} datasets")
    for info in recipes:
        print(f"  {info.name:<24} {info.task_type:<32} {info.serving:<9} {', '.join(info.datasets)}")
    summaries = layer_summaries()
    print(f"\nseqrecipes.layers ({len(summaries)}):")
    for name, summary in summaries:
        print(f"  {name:<24} {summary}")
    print(f"\ndatasets `seqrecipes train` reads: {', '.join(trained_datasets())}")
    return 0


# The most examples a command reads into memory (--num-examples, --num-validation): a sane bound, far above
# the largest data set it reads (ted_hrlr_translate/pt_to_en, about 50 000 pairs).
MAX_EXAMPLES = 10_000_000
MAX_SEED = 2**32 - 1  # NumPy's seeds are 32-bit


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, ``seqrecipes COMMAND: error: ...`` (exit status 2)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(flag, minimum=None, maximum=None):
    """An argparse type: an integer in [minimum, maximum] (None: no bound), else an error naming ``flag``."""
    expected = {None: "an integer", 0: "an integer >= 0", 1: "a positive integer"}.get(minimum, f"an integer >= {minimum}")
    if maximum is not None:
        expected = f"an integer in [{minimum}, {maximum}]"

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"`{flag}` must be {expected}. Received: {flag}={text!r}")
        return value

    parse.__name__ = "integer"
    return parse


def _number(flag, positive=False):
    """An argparse type: a finite number (> 0 when ``positive``), else an error naming ``flag``."""
    expected = "a finite number > 0" if positive else "a finite number"

    def parse(text):
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or (positive and value <= 0):
            raise argparse.ArgumentTypeError(f"`{flag}` must be {expected}. Received: {flag}={text!r}")
        return value

    parse.__name__ = "number"
    return parse


def _text(flag):
    """An argparse type: UTF-8 text (an argument of other bytes reaches Python as lone surrogates)."""

    def parse(text):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise argparse.ArgumentTypeError(
                f"`{flag}` must be UTF-8 text. Received: {flag}={os.fsencode(text)!r}"
            ) from None
        return text

    parse.__name__ = "text"
    return parse


def _keras_file(flag):
    """An argparse type: a path ending in ``.keras`` (what ``model.save`` writes)."""

    def parse(text):
        if not text.endswith(".keras") or os.path.basename(text) == ".keras":
            raise argparse.ArgumentTypeError(f"`{flag}` must be a path ending in .keras. Received: {flag}={text!r}")
        return text

    parse.__name__ = "keras file"
    return parse


def _name(flag):
    """An argparse type: a folder name (no path separator, not ``.`` or ``..``), in UTF-8."""

    def parse(text):
        _text(flag)(text)
        if not text or text in (".", "..") or "/" in text or os.sep in text or "\0" in text:
            raise argparse.ArgumentTypeError(
                f"`{flag}` must be a folder name (no '/', not '.' or '..'). Received: {flag}={text!r}"
            )
        return text

    parse.__name__ = "name"
    return parse


def _command(name):
    """The function that runs command ``name`` of ``commands.py``."""

    def run(args):
        from seqrecipes.recipes.cli import commands  # here: TensorFlow is imported only by the commands that use it

        return getattr(commands, name)(args)

    return run


def _parser():
    parser = _Parser(prog="seqrecipes", description="Sequence-model recipes for Keras 3.")
    parser.add_argument("--version", action="version", version=f"seqrecipes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="List the recipes (task type, serving kind, datasets) and the layers.").set_defaults(func=list_command)

    def data_options(p, default_examples):
        p.add_argument("--dataset", required=True, help=f"a data source: {', '.join(trained_datasets())}")
        p.add_argument("--num-examples", type=_integer("--num-examples", 1, MAX_EXAMPLES), default=default_examples,
                       help=f"examples to read, 1 to {MAX_EXAMPLES:,} (default %(default)s)")  # fmt: skip
        p.add_argument("--batch-size", type=_integer("--batch-size", 1), default=64, help="(default %(default)s)")
        p.add_argument("--data-dir", default=None, help="TensorFlow Datasets folder")
        p.add_argument("--download", action="store_true", help="let TensorFlow Datasets download missing data")
        p.add_argument("--seed", type=_integer("--seed", 0, MAX_SEED), default=0, help="0 to 2**32 - 1 (default %(default)s)")

    train = sub.add_parser("train", help="Train a registered recipe on a named data source and save the .keras file.")
    train.add_argument("--recipe", required=True, help="a recipe name (see `seqrecipes list`)")
    data_options(train, 10_000)
    train.add_argument("--num-validation", type=_integer("--num-validation", 0, MAX_EXAMPLES), default=500,
                       help="held-out examples for validation (0: none)")  # fmt: skip
    train.add_argument("--epochs", type=_integer("--epochs", 1), default=10, help="(default %(default)s)")
    train.add_argument("--steps-per-epoch", type=_integer("--steps-per-epoch", 1), default=None, help="batches per epoch (default: the whole data)")
    train.add_argument("--patience", type=_integer("--patience", 0), default=None, help="early stopping patience in epochs (default: off)")
    train.add_argument("--run-dir", default=None, help="checkpoints, resume state and TensorBoard logs (default runs/RECIPE)")
    train.add_argument("--no-resume", action="store_true", help="start over even if the run folder holds a killed run")
    train.add_argument("--output", type=_keras_file("--output"), default=None, help="the .keras file to write (default RUN_DIR/RECIPE.keras)")
    train.add_argument("--arg", type=_text("--arg"), action="append", metavar="KEY=VALUE", help="a recipe argument, e.g. --arg units=64 (repeatable)")
    train.set_defaults(func=_command("train"))

    evaluate = sub.add_parser("evaluate", help="Score a saved model on held-out examples of a data source.")
    evaluate.add_argument("--model", required=True, help="a .keras file written by `seqrecipes train`")
    data_options(evaluate, 1_000)
    evaluate.set_defaults(func=_command("evaluate"))

    predict = sub.add_parser("predict", help="Print a saved model's outputs for raw input strings.")
    predict.add_argument("--model", required=True, help="a .keras file")
    predict.add_argument("inputs", type=_text("inputs"), nargs="+", help="input strings (UTF-8)")
    predict.set_defaults(func=_command("predict"))

    generate = sub.add_parser(
        "generate",
        help="Print a generating model's outputs for raw strings: greedy, sampling or beam search (n-best with scores).",
        description="One line per result: input, rank, score, output (tab-separated). Scores: the penalised beam "
        "score for beam search, the log-probability of the output otherwise; with --alignments a fifth column, the "
        "source token position each output token (its end included) attended most.",
    )
    generate.add_argument("--model", required=True, help="a .keras file of a generating text recipe")
    for setting, (kind, default, meaning) in generate_parameters().items():
        flag = f"--{setting.replace('_', '-')}"  # the ranges are checked by generate; here only the number's form
        if kind is str:  # phrases: the flag once per phrase, joined one per line for generate
            generate.add_argument(flag, type=_text(flag), action="append", default=[], help=f"{meaning}; repeat the flag for more")
            continue
        if kind is bool:  # a switch, off by default
            generate.add_argument(flag, action="store_true", help=meaning)
            continue
        parse = _integer(flag) if kind is int else _number(flag)
        generate.add_argument(flag, type=parse, default=default, help=f"{meaning} (default %(default)s)")
    generate.add_argument("inputs", type=_text("inputs"), nargs="+", help="input strings, UTF-8 (prompts for language models)")
    generate.set_defaults(func=_command("generate"))

    export = sub.add_parser("export", help="Write a saved model as a SavedModel for TF Serving: EXPORT_DIR/NAME/VERSION.")
    export.add_argument("--model", required=True, help="a .keras file")
    export.add_argument("--name", type=_name("--name"), required=True, help="the served model's name (a folder name)")
    export.add_argument("--export-dir", default="saved_models", help="(default %(default)s)")
    export.add_argument("--version", type=_integer("--version", 1), default=None, help="(default: the next free number)")
    export.set_defaults(func=_command("export"))

    demo = sub.add_parser("demo", help="Train seq2seq_attention on dates (English and Korean), plot attention, export, serve.")
    demo.add_argument("--quick", action="store_true", help="a smoke run with tiny settings (well under a minute)")
    demo.add_argument("--minutes", type=_number("--minutes", positive=True), default=None, help="the training time budget")
    demo.add_argument("--run-dir", default=None, help="the training run folder (default runs/dates; runs/dates_quick with --quick)")
    demo.add_argument("--export-dir", default=None, help="the SavedModel root (default saved_models)")
    demo.set_defaults(func=_command("run_demo"))
    return parser


def main(argv=None):
    """Runs the command line; returns the exit status (0 success, 2 a user error).

    A user error is one line on standard error, ``seqrecipes COMMAND: error: ...``, naming the flag (or
    path) with what it expected and what it received: bad arguments (found as they are parsed, which
    then raises ``SystemExit(2)`` as argparse does), a ``CommandError`` of a command, and an OSError
    (a missing file, a read-only folder, a full disk) with the path it is about.

    Example:
    >>> from seqrecipes.recipes.cli import main
    >>> main(["list"])  # doctest: +ELLIPSIS
    recipes (...):
    ...
    0
    >>> main(["train", "--recipe", "seq2seq", "--dataset", "date_translation", "--epochs", "0"])  # one line on stderr
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except CommandError as error:
        message = str(error)
    except OSError as error:  # a file the command reads or writes: say which, in one line
        reason = error.strerror or str(error) or type(error).__name__
        message = f"{reason}. Received: path={error.filename!r}" if error.filename is not None else f"{type(error).__name__}: {reason}"
    print(f"seqrecipes {args.command}: error: {' '.join(message.split())}", file=sys.stderr)
    return 2
