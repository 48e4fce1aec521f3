"""The ``seqrecipes`` command line: list, train, evaluate, predict, generate, export, demo.

    seqrecipes list
    seqrecipes train --recipe seq2seq_attention --dataset date_translation --epochs 5
    seqrecipes evaluate --model runs/seq2seq_attention/seq2seq_attention.keras --dataset date_translation
    seqrecipes predict --model runs/seq2seq_attention/seq2seq_attention.keras "June 25th, 2009" "2009년 6월 25일"
    seqrecipes generate --model runs/seq2seq_attention/seq2seq_attention.keras --beam-width 4 --num-results 3 "June 25th, 2009"
    seqrecipes export --model runs/seq2seq_attention/seq2seq_attention.keras --name dates
    seqrecipes demo

``train`` knows how to turn a named data source into batches for these recipes:

    encoder-decoder recipes (seq2seq, seq2seq_attention, transformer_seq2seq):
        date_translation, digit_addition, sequence_reversal (synthetic, made in code),
        ted_hrlr_translate/pt_to_en (TensorFlow Datasets); character tokenizers;
        scored by exact match and BLEU of greedy outputs
    text_classifier: imdb_reviews, glue/sst2, ag_news_subset (TensorFlow Datasets); word tokenizer;
        scored by accuracy
    sequence_tagger: conll2003 (TensorFlow Datasets); scored by per-tag and macro F1
    rnn_language_model: tiny_shakespeare (TensorFlow Datasets), its lines as sentences, characters;
        scored by perplexity

Other recipes are trained from Python (each recipe's docstring has an example). TensorFlow Datasets
are read from ``--data-dir`` (prepared beforehand; ``--download`` lets TFDS fetch them).
"""

import argparse
import inspect
import json
import os
import sys
import time

TEXT_PAIR_SOURCES = ("date_translation", "digit_addition", "sequence_reversal")
TFDS_PAIRS = ("ted_hrlr_translate/pt_to_en",)
TFDS_CLASSIFICATION = ("imdb_reviews", "glue/sst2", "ag_news_subset")
TFDS_TAGGING = ("conll2003",)
TFDS_TEXT = ("tiny_shakespeare",)
# (training split, held-out split) of each TensorFlow Datasets name.
TFDS_SPLITS = {
    "imdb_reviews": ("train", "test"),
    "glue/sst2": ("train", "validation"),
    "ag_news_subset": ("train", "test"),
    "ted_hrlr_translate/pt_to_en": ("train", "test"),
    "conll2003": ("train", "test"),
    "tiny_shakespeare": ("train", "test"),
}
LINE_LIMIT = 200  # tiny_shakespeare: the language-model examples are its lines, cut to this many characters


class CommandError(Exception):
    """A user error the command line reports in one line (exit status 2)."""


# ------------------------------------------------------------------------------------------------
# Data: named sources -> (inputs, targets) pairs.


def _known_datasets():
    return sorted(TEXT_PAIR_SOURCES + TFDS_PAIRS + TFDS_CLASSIFICATION + TFDS_TAGGING + TFDS_TEXT)


def _check_dataset(name, supported, recipe):
    if name not in _known_datasets():
        raise CommandError(f"Unknown dataset. Known datasets: {', '.join(_known_datasets())}. Received: dataset={name!r}")
    if name not in supported:
        raise CommandError(
            f"Recipe {recipe!r} does not train on {name!r} from the command line; it takes: {', '.join(supported)}. "
            f"Received: dataset={name!r}"
        )


def _load_examples(name, num_examples, held_out, args):
    """Training or held-out examples of a named source: (examples, tag names or None).

    Examples are (inputs, targets) Python pairs (strings; label ids; token and tag-id arrays for
    conll2003), or lines of text for tiny_shakespeare.
    """
    from seqrecipes import data

    names = None
    if name in TEXT_PAIR_SOURCES:
        source = getattr(data, name)
        if name == "date_translation":
            dataset = source(num_examples, split="test" if held_out else "train", seed=args.seed + held_out)
        else:  # random strings: another seed gives other examples
            dataset = source(num_examples, seed=args.seed + 1000 * held_out + 1)
    else:
        split = TFDS_SPLITS[name][1 if held_out else 0]
        try:
            dataset, info = data.load_tfds(name, split=split, data_dir=args.data_dir, download=args.download, with_info=True)
        except Exception as error:  # TFDS raises many kinds; say what to do
            raise CommandError(
                f"Could not load the TensorFlow Datasets data set {name!r} ({type(error).__name__}: {str(error)[:200]}). "
                "Prepare it under --data-dir, or pass --download where the machine can reach the internet. "
                f"Received: dataset={name!r}, data_dir={args.data_dir!r}"
            ) from error
        if name in TFDS_TAGGING:
            names = list(info.features["ner"].feature.names)
        if name in TFDS_TEXT:  # one long text per split: its lines are the examples
            lines = [line[:LINE_LIMIT] for text in dataset.as_numpy_iterator() for line in _text(text).split("\n")]
            examples = [line for line in lines if line.strip()][:num_examples]
            if not examples:
                raise CommandError(f"The data set {name!r} gave no lines of text. Received: dataset={name!r}")
            return examples, names
        dataset = dataset.take(num_examples)
    examples = [(_text(x), _text(y)) for x, y in dataset.as_numpy_iterator()]
    if names is not None:  # a sentence needs one tag per token
        aligned = [(tokens, tags) for tokens, tags in examples if len(tokens) == len(tags) > 0]
        if len(aligned) < len(examples):
            print(f"{args.dataset}: left out {len(examples) - len(aligned)} sentences whose token and tag counts differ")
        examples = aligned
    if not examples:
        raise CommandError(f"The data set {name!r} gave no examples. Received: num_examples={num_examples}")
    return examples, names


def _text(value):
    """bytes -> str, arrays of bytes -> lists of str; anything else as it is."""
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if getattr(value, "dtype", None) == object:
        return [_text(v) for v in value]
    return value


# ------------------------------------------------------------------------------------------------
# Recipe families: tokenizers, batches and scores for each kind of recipe the CLI trains.


class _EncoderDecoder:
    """String pairs -> seq2seq batches; scored by greedy decoding (exact match, BLEU)."""

    datasets = TEXT_PAIR_SOURCES + TFDS_PAIRS

    def build(self, info, pairs, arguments, names=None):
        from seqrecipes import data

        sources, targets = zip(*pairs)
        source_tokenizer = data.CharTokenizer().adapt(list(sources))
        target_tokenizer = data.CharTokenizer().adapt(list(targets))
        return info.function(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer, **arguments)

    def batches(self, model, pairs, batch_size, shuffle_seed=None):
        import tensorflow as tf

        from seqrecipes.recipes.encoder_decoder import seq2seq_batches

        sources, targets = zip(*pairs)
        dataset = tf.data.Dataset.from_tensor_slices((list(sources), list(targets)))
        if shuffle_seed is not None:
            dataset = dataset.shuffle(len(sources), seed=shuffle_seed, reshuffle_each_iteration=False)
        step = seq2seq_batches(
            model.tokenizer("source"), model.tokenizer("target"), batch_size,
            max_source_length=model.arguments["max_source_length"], max_target_length=model.arguments["max_target_length"],
        )  # fmt: skip
        return dataset.apply(step).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, pairs, batch_size):
        from seqrecipes.recipes import metrics

        sources, targets = zip(*pairs)
        scores, _ = metrics.generation_scores(model, list(sources), list(targets), batch_size=batch_size, progress=True)
        return scores


class _Classifier:
    """(text, label id) pairs -> token-id batches; scored by accuracy of the served labels."""

    datasets = TFDS_CLASSIFICATION

    def build(self, info, pairs, arguments, names=None):
        from seqrecipes import data

        texts = [text for text, _ in pairs]
        tokenizer = data.WordTokenizer(max_size=20_000).adapt(texts)
        arguments.setdefault("num_classes", max(2, 1 + max(int(label) for _, label in pairs)))
        return info.function(text_tokenizer=tokenizer, **arguments)

    def batches(self, model, pairs, batch_size, shuffle_seed=None):
        import tensorflow as tf

        from seqrecipes import data

        texts, labels = zip(*pairs)
        dataset = tf.data.Dataset.from_tensor_slices((list(texts), [int(y) for y in labels]))
        if shuffle_seed is not None:
            dataset = dataset.shuffle(len(texts), seed=shuffle_seed, reshuffle_each_iteration=False)
        dataset = dataset.apply(data.tokenize(model.tokenizer("text"))).apply(data.truncate_or_pad(model.arguments["max_length"]))
        return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, pairs, batch_size):
        import numpy as np

        from seqrecipes.recipes.training import predict

        texts, labels = zip(*pairs)
        predicted = predict(model, list(texts), batch_size=batch_size, progress=True)["label_id"]
        return {"accuracy": float(np.mean(predicted == np.array([int(y) for y in labels])))}


class _Tagger:
    """(tokens, tag ids) sentences -> ``tagging_batches``; scored by per-tag and macro F1."""

    datasets = TFDS_TAGGING

    def build(self, info, sentences, arguments, names=None):
        from seqrecipes import data

        text_tokenizer = data.WordTokenizer(split_punctuation=False, max_size=20_000).adapt([" ".join(t) for t, _ in sentences])
        return info.function(text_tokenizer=text_tokenizer, tags_tokenizer=list(names), **arguments)

    def batches(self, model, sentences, batch_size, shuffle_seed=None):
        import tensorflow as tf

        from seqrecipes.recipes.many_to_many import tagging_batches

        dataset = tf.data.Dataset.from_generator(
            lambda: iter(sentences), output_signature=(tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.int64))
        ).apply(tf.data.experimental.assert_cardinality(len(sentences)))
        if shuffle_seed is not None:
            dataset = dataset.shuffle(len(sentences), seed=shuffle_seed, reshuffle_each_iteration=False)
        step = tagging_batches(model.tokenizer("text"), model.tokenizer("tags"), batch_size, max_length=model.arguments["max_length"])
        return dataset.apply(step).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, sentences, batch_size):
        from seqrecipes.recipes import metrics
        from seqrecipes.recipes.many_to_many import predict_tags

        vocabulary = model.tokenizer("tags").get_vocabulary()
        f1 = metrics.TaggingF1(len(vocabulary), tag_names=vocabulary)
        for ids, tags in self.batches(model, sentences, batch_size):
            f1.update_state(tags, predict_tags(model, ids))
        report = f1.report()
        scores = {f"f1 {tag}": values["f1"] for tag, values in report.items() if tag != "macro"}
        return {"macro_f1": report["macro"]["f1"], **scores}


class _LanguageModel:
    """Lines of text -> ``[START] w`` / ``w [END]`` batches; scored by the compiled perplexity."""

    datasets = TFDS_TEXT

    def build(self, info, lines, arguments, names=None):
        from seqrecipes import data

        return info.function(text_tokenizer=data.CharTokenizer().adapt(lines), **arguments)

    def batches(self, model, lines, batch_size, shuffle_seed=None):
        import tensorflow as tf

        from seqrecipes import data

        dataset = tf.data.Dataset.from_tensor_slices(lines)
        if shuffle_seed is not None:
            dataset = dataset.shuffle(len(lines), seed=shuffle_seed, reshuffle_each_iteration=False)
        dataset = dataset.apply(data.tokenize(model.tokenizer("text"))).apply(data.teacher_forcing_shift())
        return dataset.apply(data.batch_with_padding(batch_size)).prefetch(tf.data.AUTOTUNE)

    def scores(self, model, lines, batch_size):
        return {}  # model.evaluate reports the perplexity the recipe compiles in


FAMILIES = {
    "many-to-many (encoder-decoder)": _EncoderDecoder(),
    "text_classifier": _Classifier(),
    "sequence_tagger": _Tagger(),
    "rnn_language_model": _LanguageModel(),
}


def _family(info):
    family = FAMILIES.get(info.name) or FAMILIES.get(info.task_type)
    if family is None:
        trainable = sorted(
            name for name, known in _recipes().items() if (FAMILIES.get(name) or FAMILIES.get(known.task_type)) is not None
        )
        raise CommandError(
            f"`seqrecipes train` does not prepare data for recipe {info.name!r} yet; train it from Python (its docstring "
            f"has an example). Recipes the command line trains: {', '.join(trainable)}. Received: recipe={info.name!r}"
        )
    return family


def _recipes():
    from seqrecipes import recipes

    return {info.name: info for info in recipes.list_recipes()}


def _recipe(name):
    from seqrecipes.recipes.registry import get_recipe

    try:
        return get_recipe(name)
    except ValueError as error:
        raise CommandError(str(error)) from error


def _recipe_arguments(items):
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


def _load_model(path):
    import keras

    from seqrecipes.recipes.recipe_model import RecipeModel

    if not os.path.exists(path):
        raise CommandError(f"No model file at {path!r}; `seqrecipes train` writes one (a .keras file). Received: model={path!r}")
    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as error:
        raise CommandError(f"Could not load {path!r} as a Keras model ({type(error).__name__}: {error}). Received: model={path!r}") from error
    if not isinstance(model, RecipeModel):
        raise CommandError(f"{path!r} holds a {type(model).__name__}, not a seqrecipes recipe model. Received: model={path!r}")
    return model


# ------------------------------------------------------------------------------------------------
# Commands.


def _list(args):
    from seqrecipes import layers

    recipes = _recipes()
    print(f"recipes ({len(recipes)}):")
    print(f"  {'name':<24} {'task type':<32} {'serving':<9} datasets")
    for info in recipes.values():
        print(f"  {info.name:<24} {info.task_type:<32} {info.serving:<9} {', '.join(info.datasets)}")
    names = sorted(n for n, obj in vars(layers).items() if inspect.isclass(obj) and not n.startswith("_"))
    print(f"\nseqrecipes.layers ({len(names)}):")
    for name in names:
        doc = (inspect.getdoc(getattr(layers, name)) or "").splitlines()
        print(f"  {name:<24} {doc[0] if doc else ''}")
    print(f"\ndatasets `seqrecipes train` reads: {', '.join(_known_datasets())}")
    return 0


def _train(args):
    import keras

    from seqrecipes.recipes.training import train

    info = _recipe(args.recipe)
    family = _family(info)
    _check_dataset(args.dataset, family.datasets, info.name)
    arguments = _recipe_arguments(args.arg)
    t0 = time.perf_counter()
    pairs, names = _load_examples(args.dataset, args.num_examples, held_out=False, args=args)
    validation = _load_examples(args.dataset, args.num_validation, held_out=True, args=args)[0] if args.num_validation else None
    print(f"data: {len(pairs)} training and {len(validation or [])} validation examples of {args.dataset} ({time.perf_counter() - t0:.1f} s)")
    keras.utils.set_random_seed(args.seed)
    try:
        model = family.build(info, pairs, arguments, names)
    except (TypeError, ValueError) as error:
        raise CommandError(f"Could not build {info.name}: {error}") from error
    print(f"model: {info.name} {model.arguments}: {model.count_params():,} parameters")
    run_dir = args.run_dir or os.path.join("runs", info.name)
    batches = family.batches(model, pairs, args.batch_size, shuffle_seed=args.seed)
    validation_batches = family.batches(model, validation, args.batch_size) if validation else None
    train(
        model, batches, validation_batches, epochs=args.epochs, run_dir=run_dir, patience=args.patience,
        resume=not args.no_resume, steps_per_epoch=args.steps_per_epoch, verbose=1,
    )  # fmt: skip
    output = args.output or os.path.join(run_dir, f"{info.name}.keras")
    os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
    model.save(output)
    print(f"saved {output}")
    if validation:
        scores = family.scores(model, validation, args.batch_size)
        if scores:
            print("validation: " + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
    return 0


def _evaluate(args):
    model = _load_model(args.model)
    info = model.info
    family = _family(info)
    _check_dataset(args.dataset, family.datasets, info.name)
    pairs, _ = _load_examples(args.dataset, args.num_examples, held_out=True, args=args)
    print(f"evaluating {args.model} ({info.name}) on {len(pairs)} held-out examples of {args.dataset}")
    results = model.evaluate(family.batches(model, pairs, args.batch_size), verbose=1, return_dict=True)
    results.update(family.scores(model, pairs, args.batch_size))
    for key, value in results.items():
        print(f"{key}: {float(value):.4f}")
    return 0


def _predict(args):
    from seqrecipes.recipes.training import predict

    model = _load_model(args.model)
    if model.info.serving not in ("generate", "classify", "tag"):
        raise CommandError(
            f"`seqrecipes predict` reads strings; a {model.info.serving!r} model takes arrays (use recipes.predict in "
            f"Python). Received: model={args.model!r}"
        )
    outputs = predict(model, args.inputs)
    for i, text in enumerate(args.inputs):
        if "outputs" in outputs:
            answer = _text(outputs["outputs"][i])
        elif "label" in outputs:
            answer = f"{_text(outputs['label'][i])} ({float(outputs['scores'][i].max()):.3f})"
        else:
            answer = " ".join(_text(tag) for tag in outputs["tags"][i] if tag)
        print(f"{text}\t{answer}")
    return 0


# The decoding settings of `seqrecipes generate`: flag -> (type, default, help), passed on to
# recipes.generate under the same names (dashes as underscores).
GENERATE_SETTINGS = {
    "beam-width": (int, 1, "beams; >= 2 runs beam search"),
    "num-results": (int, 1, "results per input (the n-best of beam search, or samples)"),
    "max-length": (int, None, "the most output tokens (default: the model's limit)"),
    "temperature": (float, 0.0, "> 0 samples (with beam width 1); 0 is greedy"),
    "top-k": (int, 0, "sample from the k most probable tokens only (0: all)"),
    "top-p": (float, 1.0, "sample from the smallest set of tokens whose probability reaches p (1: all)"),
    "seed": (int, 0, "the sampling seed (the same seed gives the same samples)"),
    "length-penalty": (float, 0.6, "GNMT length penalty alpha of beam search (0: none)"),
    "coverage-penalty": (float, 0.0, "GNMT coverage penalty beta of beam search (attention models only)"),
}


def _generate(args):
    import tensorflow as tf

    from seqrecipes.recipes.decoding import generate

    model = _load_model(args.model)
    if model.info.serving != "generate":
        raise CommandError(
            f"`seqrecipes generate` reads strings and needs a generating text recipe; {model.recipe!r} serves "
            f"{model.info.serving!r} (use recipes.generate in Python). Received: model={args.model!r}"
        )
    decoder = model.decoder
    settings = {flag.replace("-", "_"): getattr(args, flag.replace("-", "_")) for flag in GENERATE_SETTINGS}
    try:
        result = generate(decoder, decoder.inputs_from_raw(tf.constant(args.inputs)), **settings)
    except ValueError as error:
        raise CommandError(str(error)) from error
    texts, scores = decoder.detokenize(result["ids"]).numpy(), result["scores"].numpy()  # (B, N) each
    for text, row_texts, row_scores in zip(args.inputs, texts, scores):
        for rank, (output, score) in enumerate(zip(row_texts, row_scores), start=1):
            print(f"{text}\t{rank}\t{score:.4f}\t{_text(output)}")
    return 0


def _export(args):
    from seqrecipes.recipes.export import export

    model = _load_model(args.model)
    try:
        path = export(model, os.path.join(args.export_dir, args.name), version=args.version)
    except ValueError as error:
        raise CommandError(str(error)) from error
    print(f"exported {args.model} to {path}")
    return 0


def _demo(args):
    from seqrecipes.recipes import demo

    settings = dict(demo.QUICK_SETTINGS) if args.quick else {}
    for key in ("minutes", "run_dir", "export_dir"):
        if getattr(args, key) is not None:
            settings[key] = getattr(args, key)
    result = demo.run_demo(progress=sys.stdout.isatty(), **settings)
    return 0 if result["export_matches"] else 1


# ------------------------------------------------------------------------------------------------


def _parser():
    from seqrecipes import __version__

    parser = argparse.ArgumentParser(prog="seqrecipes", description="Sequence-model recipes for Keras 3.")
    parser.add_argument("--version", action="version", version=f"seqrecipes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("list", help="List the recipes (task type, serving kind, datasets) and the layers.").set_defaults(func=_list)

    def data_options(p, default_examples):
        p.add_argument("--dataset", required=True, help=f"a data source: {', '.join(_known_datasets())}")
        p.add_argument("--num-examples", type=int, default=default_examples, help="examples to read (default %(default)s)")
        p.add_argument("--batch-size", type=int, default=64, help="(default %(default)s)")
        p.add_argument("--data-dir", default=None, help="TensorFlow Datasets folder")
        p.add_argument("--download", action="store_true", help="let TensorFlow Datasets download missing data")
        p.add_argument("--seed", type=int, default=0, help="(default %(default)s)")

    train = sub.add_parser("train", help="Train a registered recipe on a named data source and save the .keras file.")
    train.add_argument("--recipe", required=True, help="a recipe name (see `seqrecipes list`)")
    data_options(train, 10_000)
    train.add_argument("--num-validation", type=int, default=500, help="held-out examples for validation (0: none)")
    train.add_argument("--epochs", type=int, default=10, help="(default %(default)s)")
    train.add_argument("--steps-per-epoch", type=int, default=None, help="batches per epoch (default: the whole data)")
    train.add_argument("--patience", type=int, default=None, help="early stopping patience in epochs (default: off)")
    train.add_argument("--run-dir", default=None, help="checkpoints, resume state and TensorBoard logs (default runs/RECIPE)")
    train.add_argument("--no-resume", action="store_true", help="start over even if the run folder holds a killed run")
    train.add_argument("--output", default=None, help="the .keras file to write (default RUN_DIR/RECIPE.keras)")
    train.add_argument("--arg", action="append", metavar="KEY=VALUE", help="a recipe argument, e.g. --arg units=64 (repeatable)")
    train.set_defaults(func=_train)

    evaluate = sub.add_parser("evaluate", help="Score a saved model on held-out examples of a data source.")
    evaluate.add_argument("--model", required=True, help="a .keras file written by `seqrecipes train`")
    data_options(evaluate, 1_000)
    evaluate.set_defaults(func=_evaluate)

    predict = sub.add_parser("predict", help="Print a saved model's outputs for raw input strings.")
    predict.add_argument("--model", required=True, help="a .keras file")
    predict.add_argument("inputs", nargs="+", help="input strings")
    predict.set_defaults(func=_predict)

    generate = sub.add_parser(
        "generate",
        help="Print a generating model's outputs for raw strings: greedy, sampling or beam search (n-best with scores).",
        description="One line per result: input, rank, score, output (tab-separated). Scores: the penalised beam "
        "score for beam search, the log-probability of the output otherwise.",
    )
    generate.add_argument("--model", required=True, help="a .keras file of a generating text recipe")
    for flag, (kind, default, text) in GENERATE_SETTINGS.items():
        generate.add_argument(f"--{flag}", type=kind, default=default, help=f"{text} (default %(default)s)")
    generate.add_argument("inputs", nargs="+", help="input strings (prompts for language models)")
    generate.set_defaults(func=_generate)

    export = sub.add_parser("export", help="Write a saved model as a SavedModel for TF Serving: EXPORT_DIR/NAME/VERSION.")
    export.add_argument("--model", required=True, help="a .keras file")
    export.add_argument("--name", required=True, help="the served model's name")
    export.add_argument("--export-dir", default="saved_models", help="(default %(default)s)")
    export.add_argument("--version", type=int, default=None, help="(default: the next free number)")
    export.set_defaults(func=_export)

    demo = sub.add_parser("demo", help="Train seq2seq_attention on dates (English and Korean), plot attention, export, serve.")
    demo.add_argument("--quick", action="store_true", help="a smoke run with tiny settings (well under a minute)")
    demo.add_argument("--minutes", type=float, default=None, help="the training time budget")
    demo.add_argument("--run-dir", default=None, help="the training run folder (default runs/dates; runs/dates_quick with --quick)")
    demo.add_argument("--export-dir", default=None, help="the SavedModel root (default saved_models)")
    demo.set_defaults(func=_demo)
    return parser


def main(argv=None):
    """Runs the command line; returns the exit status (0 success, 2 a user error)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    args = _parser().parse_args(argv)
    try:
        return args.func(args)
    except CommandError as error:
        print(f"seqrecipes {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
