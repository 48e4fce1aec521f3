"""The commands of ``seqrecipes`` that need TensorFlow: train, evaluate, predict, generate, export, demo.

``parser.py`` imports this module only when one of them runs, so ``--help`` and ``list`` stay fast.
"""

import json
import os
import sys
import tempfile
import time

import keras
import numpy as np
import tensorflow as tf

from seqrecipes.data import RESERVED_TOKENS
from seqrecipes.recipes.cli import demo, files
from seqrecipes.recipes.cli.config import check_arguments, load_config, resolve, save_config
from seqrecipes.recipes.cli.errors import CommandError
from seqrecipes.recipes.cli.sources import generate_parameters
from seqrecipes.recipes.cli.trainers import TRAINERS, as_text
from seqrecipes.recipes.decoding.generation import generate as generate_outputs
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.registry import get_recipe, list_recipes, trained_datasets
from seqrecipes.recipes.serving.predictions import predict as predict_outputs
from seqrecipes.recipes.serving.saved_model import export as export_model
from seqrecipes.recipes.training.trainer import train as train_model, worker_run_dir


def _trainer(info):
    if info.trainer is None:
        trainable = sorted(known.name for known in list_recipes() if known.trainer)
        raise CommandError(
            f"`seqrecipes train` does not prepare data for recipe {info.name!r} yet; train it from Python (its docstring "
            f"has an example). Recipes the command line trains: {', '.join(trainable)}. Received: recipe={info.name!r}"
        )
    return TRAINERS[info.trainer]


def _check_dataset(name, info):
    if name not in trained_datasets():
        raise CommandError(f"Unknown dataset. Known datasets: {', '.join(trained_datasets())}. Received: dataset={name!r}")
    if name not in info.datasets:
        raise CommandError(
            f"Recipe {info.name!r} does not train on {name!r} from the command line; it takes: {', '.join(info.datasets)}. "
            f"Received: dataset={name!r}"
        )


def _recipe(name):
    try:
        return get_recipe(name)
    except ValueError as error:
        raise CommandError(str(error)) from error


def recipe_arguments(items):
    """``KEY=VALUE`` strings -> a dict; each VALUE read as JSON (numbers, true/false, null), else a string."""
    arguments = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"`--arg` takes KEY=VALUE (e.g. --arg units=64). Received: --arg {item!r}")
        try:
            arguments[key] = json.loads(value)
        except json.JSONDecodeError:
            arguments[key] = value
    return arguments


def writable_folder(path, flag):
    """Makes folder ``path`` (if missing) and checks that a file can be written in it; a CommandError naming
    ``flag`` otherwise (a file in the way, a read-only folder), before any work is done."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise CommandError(f"`{flag}` must be a folder. Received: {flag}={path!r} (a file)")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        raise CommandError(
            f"`{flag}` must be a folder this user can write to. Received: {flag}={path!r} ({error.strerror or error})"
        ) from error
    return path


def load_model(path):
    """The ``RecipeModel`` of a ``.keras`` file, loaded with ``safe_mode=True``; a CommandError otherwise."""
    if not os.path.exists(path):
        raise CommandError(f"No model file at {path!r}; `seqrecipes train` writes one (a .keras file). Received: --model={path!r}")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:
        reason = (str(error).strip().splitlines() or [""])[0][:300]  # the first line: never a whole file's text
        raise CommandError(f"Could not load {path!r} as a Keras model ({type(error).__name__}: {reason}). Received: --model={path!r}") from error
    if not isinstance(model, RecipeModel):
        raise CommandError(f"{path!r} holds a {type(model).__name__}, not a seqrecipes recipe model. Received: --model={path!r}")
    return model


def _columns(text):
    """``--columns A,B`` -> ["A", "B"] (None when not given)."""
    return None if text is None else [part.strip() for part in text.split(",")]


def _overrides(args):
    """The flags given to ``train``, as configuration values (None: not given)."""
    return {
        "recipe": args.recipe,
        "arguments": dict(recipe_arguments(args.arg), **({"mixed_precision": args.mixed_precision} if args.mixed_precision else {})),
        "data": {"train": args.train, "validation": args.validation, "format": args.format, "columns": _columns(args.columns),
                 "dataset": args.dataset, "num_examples": args.num_examples, "num_validation": args.num_validation},  # fmt: skip
        "tokenizer": {"kind": args.tokenizer, "vocabulary_size": args.vocabulary_size, "lowercase": args.lowercase},
        "training": {"epochs": args.epochs, "batch_size": args.batch_size, "steps_per_epoch": args.steps_per_epoch,
                     "patience": args.patience, "seed": args.seed, "bucket": False if args.no_bucket else None,
                     "strategy": args.strategy},  # fmt: skip
        "run_dir": args.run_dir,
        "output": args.output,
    }


def file_examples(info, paths, settings, names=None):
    """(examples, names) of the user's files for ``info``'s trainer, labels and tags as ids: ``names`` (the
    model's, when evaluating) or, when None, those the training file holds."""
    kind = info.trainer
    examples = files.read_examples(paths, files.file_format(paths, settings["format"], kind), kind, settings["columns"])
    if kind == "classification":
        ids, names = files.label_ids([label for _, label in examples], names)
        examples = [(text, i) for (text, _), i in zip(examples, ids)]
    elif kind == "tagging":
        names = list(names) if names is not None else sorted({tag for _, tags in examples for tag in tags})
        index = {name: i for i, name in enumerate(names)}
        unknown = sorted({tag for _, tags in examples for tag in tags} - set(index))
        if unknown:
            raise CommandError(f"Tags the model does not know: {unknown[:10]}. Known tags: {names}")
        examples = [(tokens, np.array([index[t] for t in tags], "int64")) for tokens, tags in examples]
    if settings.get("num_examples"):
        examples = examples[: settings["num_examples"]]
    return examples, names


def distribution_strategy(name):
    """The tf.distribute strategy of ``--strategy``: None, MirroredStrategy (every GPU here, else the CPU), or
    MultiWorkerMirroredStrategy (the cluster of ``TF_CONFIG``: JSON with "cluster" and "task"; a CommandError
    when it is set and malformed)."""
    if name is None:
        return None
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    config = os.environ.get("TF_CONFIG")
    if config is not None:
        try:
            parsed = json.loads(config)
            well_formed = isinstance(parsed, dict) and isinstance(parsed.get("cluster"), dict) and isinstance(parsed.get("task"), dict)
        except json.JSONDecodeError:
            well_formed = False
        if not well_formed:
            raise CommandError(
                'TF_CONFIG must be JSON such as {"cluster": {"worker": ["host1:port", "host2:port"]}, "task": '
                f'{{"type": "worker", "index": 0}}}}. Received: TF_CONFIG={config!r:.200}'
            )
    return tf.distribute.MultiWorkerMirroredStrategy()


def train(args):
    config = resolve(load_config(args.config) if args.config else {}, _overrides(args))
    info = _recipe(config["recipe"])
    trainer = _trainer(info)
    check_arguments(info.function, config["arguments"])
    settings, training = config["data"], config["training"]
    strategy = distribution_strategy(training["strategy"])  # a malformed TF_CONFIG fails before any work
    args.seed = training["seed"]  # the built-in sources draw their examples with it
    config["run_dir"] = run_dir = writable_folder(config["run_dir"] or os.path.join("runs", info.name), "--run-dir")
    output = config["output"] or os.path.join(run_dir, f"{info.name}.keras")
    own_dir = worker_run_dir(run_dir, strategy) if strategy is not None else run_dir
    if own_dir != run_dir:  # a worker other than the chief keeps its copies in its own folder (see recipes.train)
        output = os.path.join(own_dir, os.path.basename(output))
    if os.path.isdir(output):
        raise CommandError(f"`--output` must be a .keras file, not a folder. Received: --output={output!r}")
    writable_folder(os.path.dirname(os.path.abspath(output)), "--output")
    t0 = time.perf_counter()
    if settings["dataset"]:
        _check_dataset(settings["dataset"], info)
        pairs, names = trainer.examples(settings["dataset"], settings["num_examples"] or 10_000, held_out=False, args=args)
        count = settings["num_validation"]
        validation = trainer.examples(settings["dataset"], count, held_out=True, args=args)[0] if count else None
        source = settings["dataset"]
    else:
        pairs, names = file_examples(info, settings["train"], settings)
        validation = None
        if settings["validation"]:
            validation, _ = file_examples(info, settings["validation"], dict(settings, num_examples=None), names)
        source = " ".join(settings["train"])
    print(f"data: {len(pairs)} training and {len(validation or [])} validation examples of {source} ({time.perf_counter() - t0:.1f} s)")
    print(f"config: {save_config(config, writable_folder(own_dir, '--run-dir'))}")
    keras.utils.set_random_seed(training["seed"])
    try:
        model = trainer.build(info, pairs, dict(config["arguments"]), names, tokenizer=config["tokenizer"])
    except (TypeError, ValueError) as error:
        raise CommandError(f"Could not build {info.name}: {error}") from error
    print(f"model: {info.name} {model.arguments}: {model.count_params():,} parameters")
    batch_size = training["batch_size"]
    batches = trainer.batches(model, pairs, batch_size, shuffle_seed=training["seed"], bucket=training["bucket"])
    validation_batches = trainer.batches(model, validation, batch_size) if validation else None
    try:
        history = train_model(
            model, batches, validation_batches, epochs=training["epochs"], run_dir=run_dir, patience=training["patience"],
            resume=not args.no_resume, steps_per_epoch=training["steps_per_epoch"], verbose=1,
            strategy=strategy,
        )  # fmt: skip
    except ValueError as error:  # a token id outside the vocabulary, a backup of another model in --run-dir
        raise CommandError(str(error)) from error
    if history.stopped_because not in (None, "early stopping"):
        print(f"seqrecipes train: warning: training stopped at {history.stopped_because}; the last good weights are kept", file=sys.stderr)
    try:
        model.save(output)
    except OSError as error:
        raise CommandError(f"Could not write the model ({error.strerror or error}). Received: --output={output!r}") from error
    print(f"saved {output}")
    if validation:
        scores = trainer.scores(model, validation, batch_size)
        if scores:
            print("validation: " + ", ".join(f"{k} {v}" if isinstance(v, str) else f"{k} {v:.4f}" for k, v in scores.items()))
    return 0


def _model_names(model):
    """The label or tag names a model was trained with (None: classes are plain ids)."""
    if model.info.trainer == "tagging":
        return model.tokenizer("tags").get_vocabulary()[len(RESERVED_TOKENS):]  # the tag names, after the reserved ids
    return model.arguments.get("label_names") or None


def evaluate(args):
    model = load_model(args.model)
    info = model.info
    trainer = _trainer(info)
    if (args.file is None) == (args.dataset is None):
        raise CommandError(f"Pass one of --dataset NAME and --file FILE. Received: dataset={args.dataset!r}, file={args.file!r}")
    if args.file:
        settings = {"format": args.format, "columns": _columns(args.columns), "num_examples": args.num_examples}
        pairs, _ = file_examples(info, args.file, settings, _model_names(model))
        source = " ".join(args.file)
    else:
        _check_dataset(args.dataset, info)
        pairs, _ = trainer.examples(args.dataset, args.num_examples or 1_000, held_out=True, args=args)
        source = f"held-out examples of {args.dataset}"
    print(f"evaluating {args.model} ({info.name}) on {len(pairs)} {source}")
    try:
        results = model.evaluate(trainer.batches(model, pairs, args.batch_size), verbose=1, return_dict=True)
    except ValueError as error:  # a token id outside the model's vocabulary
        raise CommandError(str(error)) from error
    results.update(trainer.scores(model, pairs, args.batch_size, lowercase=args.lowercase))
    for key, value in results.items():
        print(f"{key}: {value}" if isinstance(value, str) else f"{key}: {float(value):.4f}")
    return 0


def _inputs(args):
    """The strings to predict: those given as arguments, then the lines of --input-file ('-': standard input)."""
    inputs = list(args.inputs)
    if args.input_file == "-":
        inputs += [line.rstrip("\r\n") for line in sys.stdin]
    elif args.input_file is not None:
        try:
            inputs += [line.decode("utf-8") for line in files.data.text_lines(args.input_file).as_numpy_iterator()]
        except (OSError, ValueError, TypeError) as error:
            raise CommandError(f"{error} Received: --input-file={args.input_file!r}") from error
    if not inputs:
        raise CommandError("Nothing to predict: give input strings, or --input-file FILE ('-': standard input)")
    return inputs


def predict(args):
    model = load_model(args.model)
    if model.info.serving not in ("generate", "classify", "tag", "embed"):
        raise CommandError(
            f"`seqrecipes predict` reads strings; a {model.info.serving!r} model takes arrays (use recipes.predict in "
            f"Python). Received: --model={args.model!r}"
        )
    inputs = _inputs(args)
    outputs = predict_outputs(model, inputs, batch_size=args.batch_size)
    for i, text in enumerate(inputs):
        if "outputs" in outputs:
            answer = as_text(outputs["outputs"][i])
        elif "filled" in outputs:  # a masked language model: the text with its [MASK] marks filled
            answer = as_text(outputs["filled"][i])
        elif "vectors" in outputs:  # a word's vector, or "unknown"
            vector = outputs["vectors"][i]
            answer = " ".join(f"{v:.4f}" for v in vector) if outputs["known"][i] else "unknown"
        elif "label" in outputs:
            answer = f"{as_text(outputs['label'][i])} ({float(outputs['scores'][i].max()):.3f})"
        else:
            answer = " ".join(as_text(tag) for tag in outputs["tags"][i] if tag)
        print(f"{text}\t{answer}")
    return 0


def generate(args):
    model = load_model(args.model)
    if model.info.serving != "generate":
        raise CommandError(
            f"`seqrecipes generate` reads strings and needs a generating text recipe; {model.recipe!r} serves "
            f"{model.info.serving!r} (use recipes.generate in Python). Received: --model={args.model!r}"
        )
    decoder = model.decoder
    settings = {name: getattr(args, name) for name in generate_parameters()}
    settings.update({name: "\n".join(value) for name, value in settings.items() if isinstance(value, list)})
    try:
        result = generate_outputs(decoder, decoder.inputs_from_raw(tf.constant(args.inputs)), **settings)
    except ValueError as error:
        raise CommandError(str(error)) from error
    texts, scores = decoder.detokenize(result["ids"]).numpy(), result["scores"].numpy()  # (B, N) each
    looked = _looked_at(result)
    for b, (text, row_texts, row_scores) in enumerate(zip(args.inputs, texts, scores)):
        for rank, (output, score) in enumerate(zip(row_texts, row_scores), start=1):
            line = f"{text}\t{rank}\t{score:.4f}\t{as_text(output)}"
            print(line if looked is None else f"{line}\t{looked[b][rank - 1]}")
    return 0


def _looked_at(result):
    """With alignments: per input and result, the source position each output token (its end token
    included) attended most, space-separated; None without."""
    if "alignments" not in result:
        return None
    alignments, lengths = result["alignments"].numpy(), result["lengths"].numpy()  # (B, N, L, S), (B, N)
    ends = np.minimum(lengths + 1, alignments.shape[2])  # the tokens written, [END] included
    return [[" ".join(map(str, a[:n].argmax(-1))) for a, n in zip(row, row_ends)] for row, row_ends in zip(alignments, ends)]


def export(args):
    writable_folder(args.export_dir, "--export-dir")
    base_path = os.path.join(args.export_dir, args.name)
    if os.path.exists(base_path) and not os.path.isdir(base_path):
        raise CommandError(f"`--name` must name a folder under --export-dir, and a file is in the way. Received: --name={args.name!r}")
    model = load_model(args.model)
    try:
        path = export_model(model, base_path, version=args.version)
    except ValueError as error:
        raise CommandError(str(error)) from error
    print(f"exported {args.model} to {path}")
    return 0


def run_demo(args):
    settings = dict(demo.QUICK_SETTINGS) if args.quick else {}
    for key in ("minutes", "run_dir", "export_dir"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    result = demo.run_demo(progress=sys.stdout.isatty(), **settings)
    return 0 if result["export_matches"] else 1
