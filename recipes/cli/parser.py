"""The ``seqrecipes`` command line: its arguments, ``list``, and ``main``.

    seqrecipes list
    seqrecipes train --recipe seq2seq_attention --dataset date_translation --epochs 5
    seqrecipes train --recipe seq2seq_attention --train pairs.tsv --validation held_out.tsv --tokenizer sentencepiece
    seqrecipes train --config runs/seq2seq_attention/config.yaml
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
from seqrecipes.recipes.cli.config import FORMATS, STRATEGIES, TOKENIZERS
from seqrecipes.recipes.cli.sources import generate_parameters, layer_summaries
from seqrecipes.recipes.registry import PRECISIONS, list_recipes, trained_datasets


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

    def data_options(p, default_examples, training=False):
        """The data flags of train and evaluate; train's defaults are None, filled in by the configuration."""
        default = None  # the data source's default_examples, or all of a file
        p.add_argument("--dataset", default=None, help=f"a built-in data source: {', '.join(trained_datasets())}")
        p.add_argument("--num-examples", type=_integer("--num-examples", 1, MAX_EXAMPLES), default=default,
                       help=f"examples to read, 1 to {MAX_EXAMPLES:,} (default: {default_examples:,} of a data source, all of a file)")  # fmt: skip
        p.add_argument("--format", choices=FORMATS, default=None, help="the files' format (default: told by the extension: "
                       ".tsv, .tab, .csv, .conll; two files: parallel; otherwise lines)")  # fmt: skip
        p.add_argument("--columns", type=_text("--columns"), default=None, metavar="A,B",
                       help="TSV/CSV: the input and target column names (default: the first two); CoNLL: the token and tag column numbers (default 0,-1)")  # fmt: skip
        p.add_argument("--batch-size", type=_integer("--batch-size", 1), default=None if training else 64, help="(default 64)")
        p.add_argument("--data-dir", default=None, help="TensorFlow Datasets folder")
        p.add_argument("--download", action="store_true", help="let TensorFlow Datasets download missing data")
        p.add_argument("--seed", type=_integer("--seed", 0, MAX_SEED), default=None if training else 0, help="0 to 2**32 - 1 (default 0)")

    train = sub.add_parser(
        "train", help="Train a registered recipe on your files or a built-in data source and save the .keras file.",
        description="Flags override the --config file's values; the run folder keeps the resolved configuration as "
        "config.yaml, so `seqrecipes train --config RUN_DIR/config.yaml` runs the same training again.",
    )  # fmt: skip
    train.add_argument("--config", type=_text("--config"), default=None, help="a YAML or JSON run configuration")
    train.add_argument("--recipe", default=None, help="a recipe name (see `seqrecipes list`)")
    train.add_argument("--train", type=_text("--train"), nargs="+", metavar="FILE", default=None,
                       help="the training file, or two files of aligned lines (source, target)")  # fmt: skip
    train.add_argument("--validation", type=_text("--validation"), nargs="+", metavar="FILE", default=None,
                       help="the validation file(s), in the training files' format")  # fmt: skip
    data_options(train, 10_000, training=True)
    train.add_argument("--tokenizer", choices=TOKENIZERS, default=None,
                       help="fitted on the training file (default: char for pairs and text, word for classes and tags)")  # fmt: skip
    train.add_argument("--vocabulary-size", type=_integer("--vocabulary-size", 5), default=None,
                       help="the tokenizer's most entries (default: every character, 20,000 words, 8,000 subwords)")  # fmt: skip
    train.add_argument("--lowercase", action="store_true", default=None, help="lowercase the text before tokenizing")
    train.add_argument("--no-bucket", action="store_true", default=None, help="batch pairs in file order, not by source length")
    train.add_argument("--num-validation", type=_integer("--num-validation", 0, MAX_EXAMPLES), default=None,
                       help="held-out examples of a data source for validation (0: none; default 500)")  # fmt: skip
    train.add_argument("--epochs", type=_integer("--epochs", 1), default=None, help="(default 10)")
    train.add_argument("--steps-per-epoch", type=_integer("--steps-per-epoch", 1), default=None, help="batches per epoch (default: the whole data)")
    train.add_argument("--patience", type=_integer("--patience", 0), default=None, help="early stopping patience in epochs (default: off)")
    train.add_argument("--run-dir", default=None, help="checkpoints, resume state, TensorBoard logs, config.yaml (default runs/RECIPE)")
    train.add_argument("--no-resume", action="store_true", help="start over even if the run folder holds a killed run")
    train.add_argument("--output", type=_keras_file("--output"), default=None, help="the .keras file to write (default RUN_DIR/RECIPE.keras)")
    train.add_argument("--arg", type=_text("--arg"), action="append", metavar="KEY=VALUE", help="a recipe argument, e.g. --arg units=64 (repeatable)")
    train.add_argument("--mixed-precision", choices=PRECISIONS, default=None,
                       help="the recipe's mixed_precision: half-precision compute, float32 variables (default float32)")  # fmt: skip
    train.add_argument("--strategy", choices=STRATEGIES, default=None,
                       help="tf.distribute: mirrored (this machine's GPUs) or multi-worker (the machines of TF_CONFIG); the "
                       "--batch-size is the global batch (default: one device)")  # fmt: skip
    train.set_defaults(func=_command("train"))

    evaluate = sub.add_parser("evaluate", help="Score a saved model on held-out examples of a data source or on your file.")
    evaluate.add_argument("--model", required=True, help="a .keras file written by `seqrecipes train`")
    evaluate.add_argument("--file", type=_text("--file"), nargs="+", metavar="FILE", default=None,
                          help="a file (or two of aligned lines) in a format `train --train` reads, instead of --dataset")  # fmt: skip
    evaluate.add_argument("--lowercase", action="store_true",
                          help="score BLEU on lowercased text (sacreBLEU's -lc), for a model whose tokenizer lowercases")  # fmt: skip
    data_options(evaluate, 1_000)
    evaluate.set_defaults(func=_command("evaluate"))

    predict = sub.add_parser("predict", help="Print a saved model's outputs for raw input strings.")
    predict.add_argument("--model", required=True, help="a .keras file")
    predict.add_argument("--input-file", type=_text("--input-file"), default=None, metavar="FILE",
                         help="read the inputs from FILE, one a line ('-': standard input), after any given as arguments")  # fmt: skip
    predict.add_argument("--batch-size", type=_integer("--batch-size", 1), default=64, help="(default %(default)s)")
    predict.add_argument("inputs", type=_text("inputs"), nargs="*", help="input strings (UTF-8)")
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
