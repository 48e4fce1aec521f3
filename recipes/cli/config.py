"""The run configuration of ``seqrecipes train``: a YAML or JSON file, the command line's flags over it.

    recipe: seq2seq_attention
    arguments: {units: 256, dropout: 0.3}          # the recipe's keyword arguments
    data: {train: [train.de, train.en], validation: [val.de, val.en], format: null, columns: null,
           dataset: null, num_examples: null, num_validation: 500}
    tokenizer: {kind: sentencepiece, vocabulary_size: 8000, lowercase: true}
    training: {epochs: 10, batch_size: 64, steps_per_epoch: null, patience: null, seed: 0, bucket: true,
               strategy: null}                 # or mirrored, multi-worker
    run_dir: runs/de-en
    output: null                                    # the .keras file (default RUN_DIR/RECIPE.keras)

Every key is optional except ``recipe`` and one of ``data.train`` / ``data.dataset``; ``resolve`` fills in the
defaults above (``DEFAULTS``), and ``train`` writes the resolved configuration as ``RUN_DIR/config.yaml``, so
that ``seqrecipes train --config RUN_DIR/config.yaml`` runs the same training again.
"""

import copy
import json
import os

from seqrecipes.recipes.cli.errors import CommandError

DEFAULTS = {
    "recipe": None,
    "arguments": {},
    "data": {"train": None, "validation": None, "format": None, "columns": None, "dataset": None,
             "num_examples": None, "num_validation": 500},  # fmt: skip
    "tokenizer": {"kind": None, "vocabulary_size": None, "lowercase": False},
    "training": {"epochs": 10, "batch_size": 64, "steps_per_epoch": None, "patience": None, "seed": 0, "bucket": True,
                 "strategy": None},
    "run_dir": None,
    "output": None,
}
SECTIONS = ("data", "tokenizer", "training")
FORMATS = ("lines", "document", "tsv", "csv", "conll", "parallel")
# The formats each trainer kind reads (``files.py``), the first one its default for a file of no known extension.
TRAINER_FORMATS = {
    "text_pairs": ("tsv", "csv", "parallel"),
    "classification": ("tsv", "csv"),
    "tagging": ("conll",),
    "text": ("lines", "document"),
}
TOKENIZERS = ("char", "word", "wordpiece", "sentencepiece")
STRATEGIES = ("mirrored", "multi-worker")  # tf.distribute's MirroredStrategy, MultiWorkerMirroredStrategy (TF_CONFIG)
CONFIG_FILE = "config.yaml"


def _fail(path, message):
    raise CommandError(f"{message}. Received: --config={path!r}")


def load_config(path):
    """The configuration in ``path`` (YAML, or JSON, which YAML reads too) as a dict; a CommandError for a
    missing, empty or unreadable file, a syntax error (with its line), keys the configuration does not have
    (the message lists those it has) or a section that is not a mapping."""
    import yaml  # here: only a run with --config needs it

    if not os.path.isfile(path):
        _fail(path, "No configuration file there (a YAML or JSON file)")
    try:
        with open(path, encoding="utf-8") as file:
            text = file.read()
        config = json.loads(text) if path.lower().endswith(".json") else yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as error:
        _fail(path, f"Could not read the configuration ({error})")
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        _fail(path, f"The configuration is not valid {'JSON' if path.lower().endswith('.json') else 'YAML'}: {str(error)[:300]}")
    if config is None:
        _fail(path, "The configuration file is empty")
    if not isinstance(config, dict):
        _fail(path, f"The configuration must be a mapping of keys ({', '.join(DEFAULTS)}), not a {type(config).__name__}")
    unknown = sorted(set(config) - set(DEFAULTS))
    if unknown:
        _fail(path, f"Unknown configuration key(s) {unknown}; the keys are {', '.join(DEFAULTS)}")
    for section in (*SECTIONS, "arguments"):
        value = config.get(section)
        if value is not None and not isinstance(value, dict):
            _fail(path, f"`{section}` must be a mapping, not {value!r:.100}")
        for key in sorted(set(value or {}) - set(DEFAULTS[section])) if section != "arguments" else ():
            _fail(path, f"Unknown key `{section}.{key}`; `{section}` takes {', '.join(DEFAULTS[section])}")
    return config


def resolve(config, overrides):
    """``DEFAULTS``, then ``config``, then ``overrides`` (the flags given: {"recipe": ..., "arguments": {...},
    "data": {...}, ...}, None values left out), as one configuration; ``data.train`` and ``data.validation``
    become lists of paths."""
    resolved = copy.deepcopy(DEFAULTS)
    for layer in (config or {}, overrides):
        for key, value in layer.items():
            if isinstance(value, dict) and key in resolved:
                resolved[key].update({k: v for k, v in value.items() if v is not None or key == "arguments"})
            elif value is not None:
                resolved[key] = value
    for key in ("train", "validation"):
        paths = resolved["data"][key]
        if isinstance(paths, str):
            resolved["data"][key] = [paths]
    check_values(resolved)
    if not resolved["recipe"]:
        raise CommandError("No recipe: pass --recipe, or give `recipe` in the --config file. Received: recipe=None")
    if not (resolved["data"]["train"] or resolved["data"]["dataset"]):
        raise CommandError("No training data: pass --train FILE (or --dataset NAME), or give `data.train` in --config")
    if resolved["data"]["train"] and resolved["data"]["dataset"]:
        raise CommandError(
            "Train on files or on a named data set, not both. "
            f"Received: train={resolved['data']['train']!r}, dataset={resolved['data']['dataset']!r}"
        )
    return resolved


def _is_int(value, low, high=None):
    return isinstance(value, int) and not isinstance(value, bool) and value >= low and (high is None or value <= high)


def _paths(value):
    return isinstance(value, list) and 1 <= len(value) <= 2 and all(isinstance(p, str) and p for p in value)


# What each value of a resolved configuration must be: (check, the expectation in words).
CHECKS = {
    ("training", "epochs"): (lambda v: _is_int(v, 1), "a positive integer"),
    ("training", "batch_size"): (lambda v: _is_int(v, 1), "a positive integer"),
    ("training", "steps_per_epoch"): (lambda v: v is None or _is_int(v, 1), "a positive integer or null"),
    ("training", "patience"): (lambda v: v is None or _is_int(v, 0), "an integer >= 0 or null"),
    ("training", "seed"): (lambda v: _is_int(v, 0, 2**32 - 1), "an integer in [0, 2**32 - 1]"),
    ("training", "bucket"): (lambda v: isinstance(v, bool), "true or false"),
    ("training", "strategy"): (lambda v: v in (None, *STRATEGIES), f"one of {', '.join(STRATEGIES)} or null"),
    ("tokenizer", "kind"): (lambda v: v is None or v in TOKENIZERS, f"one of {', '.join(TOKENIZERS)} or null"),
    ("tokenizer", "vocabulary_size"): (lambda v: v is None or _is_int(v, 5), "an integer >= 5 or null"),
    ("tokenizer", "lowercase"): (lambda v: isinstance(v, bool), "true or false"),
    ("data", "train"): (lambda v: v is None or _paths(v), "a file path, or a list of one or two"),
    ("data", "validation"): (lambda v: v is None or _paths(v), "a file path, or a list of one or two"),
    ("data", "format"): (lambda v: v is None or v in FORMATS, f"one of {', '.join(FORMATS)} or null"),
    ("data", "columns"): (lambda v: v is None or (isinstance(v, list) and len(v) == 2 and all(isinstance(c, (str, int)) for c in v)),
                          "a list of two column names (or numbers for CoNLL) or null"),
    ("data", "dataset"): (lambda v: v is None or isinstance(v, str), "a data source name or null"),
    ("data", "num_examples"): (lambda v: v is None or _is_int(v, 1), "a positive integer or null"),
    ("data", "num_validation"): (lambda v: _is_int(v, 0), "an integer >= 0"),
    ("recipe",): (lambda v: v is None or isinstance(v, str), "a recipe name"),
    ("run_dir",): (lambda v: v is None or (isinstance(v, str) and v), "a folder path or null"),
    ("output",): (lambda v: v is None or (isinstance(v, str) and v.endswith(".keras")), "a path ending in .keras or null"),
}


def check_values(resolved):
    """A CommandError naming the first value of a resolved configuration that is not what ``CHECKS`` expects."""
    for key, (check, expected) in CHECKS.items():
        value = resolved[key[0]] if len(key) == 1 else resolved[key[0]][key[1]]
        if not check(value):
            name = ".".join(key)
            raise CommandError(f"`{name}` must be {expected}. Received: {name}={value!r:.200}")


def check_arguments(function, arguments):
    """A CommandError unless every key of ``arguments`` is a keyword argument of the recipe ``function``
    (its tokenizers and name excepted: the command line makes those); the message lists the arguments."""
    import inspect

    taken = [name for name in inspect.signature(function).parameters if not name.endswith("_tokenizer") and name != "name"]
    unknown = sorted(set(arguments) - set(taken))
    if unknown:
        raise CommandError(
            f"Recipe {function.__name__!r} takes no argument(s) {unknown}. Its arguments: {', '.join(taken)}. "
            f"Received: arguments={arguments!r:.300}"
        )


def save_config(config, run_dir):
    """Writes the resolved configuration as ``RUN_DIR/config.yaml``; returns its path."""
    import yaml

    path = os.path.join(run_dir, CONFIG_FILE)
    with open(path, "w", encoding="utf-8") as file:
        yaml.safe_dump(config, file, sort_keys=False, allow_unicode=True)
    return path
