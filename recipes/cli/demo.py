"""The demo (``seqrecipes demo``, ``make demo``): attention learns to read dates, end to end.

``seq2seq_attention`` (bidirectional GRU encoder, Bahdanau attention, character tokens) learns to
turn dates as people write them, in English and Korean (``data.date_translation``: "June 25th,
2009", "Thu, 25 Jun 2009", "6/25/2009", "2009년 6월 25일 목요일", ...), into ISO 8601
("2009-06-25"). The demo, each step printed with its time:

1. makes the data: training pairs on training days, validation and test pairs on held-out days
   (days never seen in training), and the character tokenizers;
2. builds the recipe with the settings of ``experiments/dates.py``;
3. trains with ``recipes.train`` (checkpoints, resume, TensorBoard logs in ``runs/dates``) within a
   time budget, stopping early once the validation exact match reaches ``stop_at``;
4. measures the exact match (and BLEU) on the held-out test dates, English and Korean apart;
5. translates sample inputs and draws the attention alignments of two of them as PNG heatmaps;
6. exports the model to ``saved_models/dates/VERSION``, loads it back with
   ``tf.saved_model.load``, checks that ``serving_default`` on raw strings gives the Python
   model's outputs, and asks the export's ``generate`` signature for the 3 best readings (beam
   search) of an ambiguous date;

and ends with ``goal dates_exact_match: <measured> (target >= 0.99) met|not met``.
"""

import math
import os
import time
import unicodedata

import keras
import numpy as np
import tensorflow as tf

from seqrecipes import data
from seqrecipes.recipes.decoding.alignments import attention_alignments
from seqrecipes.recipes.plots import hangul_font, plot_alignments
from seqrecipes.recipes.registry import get_recipe
from seqrecipes.recipes.serving.predictions import predict
from seqrecipes.recipes.serving.saved_model import export
from seqrecipes.recipes.serving.signatures import generate_settings
from seqrecipes.recipes.training import metrics
from seqrecipes.recipes.training.trainer import train

TARGET_CHARACTERS = list("0123456789-")
SAMPLES = (
    "June 25th, 2009",
    "2009년 6월 25일",
    "Thursday, June 25, 2009",
    "2009년 6월 25일 목요일",
    "6/25/2009",
    "25 June 2009",
    "Mar 1, 1987",
    "1987. 3. 1.",
)

# A date that could read two ways; the data writes month/day, and the n-best of beam search shows how sure
# the model is of that reading (the 2nd and 3rd best score far below the 1st).
AMBIGUOUS = "3/4/2021"
HEATMAPS = {"en": "June 25th, 2009", "ko": "2009년 6월 25일"}
GOAL = 0.99

# The training settings of experiments/dates.py; the model is seq2seq_attention with its defaults,
# which are tuned for this task (see its docstring).
SETTINGS = {
    "num_train": 20_000,
    "num_validation": 500,
    "num_test": 2_000,
    "batch_size": 64,
    "steps_per_epoch": 200,
    "minutes": 3.5,
    "stop_at": 0.995,
}

# A smoke run in well under a minute (tests, `seqrecipes demo --quick`): the goal is not expected to be
# met. It keeps its own run folder and export name, so it never resumes from or publishes over the real demo.
QUICK_SETTINGS = {
    "run_dir": os.path.join("runs", "dates_quick"),
    "export_name": "dates_quick",
    "num_train": 256,
    "num_validation": 16,
    "num_test": 32,
    "batch_size": 32,
    "steps_per_epoch": 4,
    "minutes": 0.05,
    "recipe_arguments": {"units": 16, "embedding_dim": 8},
}


def _n_best(generate, text, max_length, beam_width=3):
    """[(output, score)] from an export's ``generate`` signature: beam search, the ``beam_width`` best."""
    settings = generate_settings(max_length, beam_width=beam_width, num_results=beam_width)
    result = generate(inputs=tf.constant([text]), **{name: tf.constant(value) for name, value in settings.items()})
    outputs, scores = result["outputs"].numpy()[0], result["scores"].numpy()[0]
    return [(output.decode("utf-8"), float(score)) for output, score in zip(outputs, scores)]


def _pairs(dataset):
    sources, targets = [], []
    for source, target in dataset.as_numpy_iterator():
        sources.append(source.decode("utf-8"))
        targets.append(target.decode("utf-8"))
    return sources, targets


def _print(line):
    print(line, flush=True)


def _padded(text, width):
    """``text`` padded with spaces to ``width`` terminal columns (Hangul syllables take two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def _is_korean(text):
    return any("\uac00" <= ch <= "\ud7a3" for ch in text)


class _Step:
    """Prints a numbered step and, on leaving, the seconds it took."""

    def __init__(self, echo, total):
        self.echo, self.total, self.number = echo, total, 0

    def __call__(self, title):
        self.number += 1
        self.title = title
        return self

    def __enter__(self):
        self.echo(f"[{self.number}/{self.total}] {self.title}")
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        if exc[0] is None:
            self.echo(f"      ({time.perf_counter() - self.start:.1f} s)")
        return False


class _Budget(keras.callbacks.Callback):
    """Stops training after ``seconds`` (checked after each batch) or once the validation exact
    match reaches ``stop_at`` (checked after each epoch); prints one line per epoch."""

    def __init__(self, seconds, stop_at, validation, echo, steps_per_epoch, progress=False, batch_size=512):
        super().__init__()
        self.seconds, self.stop_at, self.validation, self.echo = seconds, stop_at, validation, echo
        self.steps_per_epoch, self.progress, self.batch_size = steps_per_epoch, progress, batch_size
        self.validation_exact = []

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self.bar = keras.utils.Progbar(self.steps_per_epoch, unit_name="step") if self.progress else None

    def on_train_batch_end(self, batch, logs=None):
        if self.bar is not None:
            self.bar.update(batch + 1, [("loss", float((logs or {}).get("loss", math.nan)))])
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        scores, _ = metrics.generation_scores(self.model, *self.validation, batch_size=self.batch_size)
        self.validation_exact.append(scores["exact_match"])
        logs = logs or {}
        self.echo(
            f"      epoch {epoch + 1:3d}  at {time.perf_counter() - self.start:6.1f} s  loss {logs.get('loss', math.nan):.4f}  "
            f"token accuracy {logs.get('token_accuracy', math.nan):.4f}  validation exact match {scores['exact_match']:.4f}"
        )
        if scores["exact_match"] >= self.stop_at:
            self.model.stop_training = True


def _heatmaps(model, run_dir, echo):
    font = hangul_font()
    target_vocabulary = model.tokenizer("target").get_vocabulary()
    paths = {}
    for language, text in HEATMAPS.items():
        ids, alignments = attention_alignments(model, [text])
        length = int(np.sum(ids[0] != data.PAD_ID))  # the output tokens, the end token included
        output_tokens = [target_vocabulary[i] for i in ids[0, :length]]
        source_tokens = list(text)[: alignments.shape[2]]
        path = os.path.join(run_dir, f"attention_{language}.png")
        paths[language] = plot_alignments(
            source_tokens, output_tokens, alignments[0, :length, : len(source_tokens)], path,
            title=f"{text}  ->  {''.join(output_tokens[:-1] if output_tokens[-1] == data.END_TOKEN else output_tokens)}", font=font,
        )  # fmt: skip
    font_name = font.get_name() if font is not None else "none with Hangul found: Korean labels as code points"
    echo(f"      attention heatmaps: {', '.join(paths.values())} (font: {font_name})")
    return paths


def run_demo(
    *,
    num_train=SETTINGS["num_train"],
    num_validation=SETTINGS["num_validation"],
    num_test=SETTINGS["num_test"],
    batch_size=SETTINGS["batch_size"],
    steps_per_epoch=SETTINGS["steps_per_epoch"],
    minutes=SETTINGS["minutes"],
    stop_at=SETTINGS["stop_at"],
    recipe_arguments=None,
    run_dir=os.path.join("runs", "dates"),
    export_dir="saved_models",
    export_name="dates",
    seed=0,
    progress=False,
    echo=None,
):
    """Runs the date-translation demo and returns what it measured.

    Args:
        num_train, num_validation, num_test: the numbers of training pairs (training days),
            validation pairs and test pairs (held-out days).
        batch_size, steps_per_epoch: the training batches.
        minutes: the training time budget.
        stop_at: stop training once the validation exact match reaches this.
        recipe_arguments: ``seq2seq_attention`` arguments over its defaults.
        run_dir: the training run's folder (backup, checkpoints, TensorBoard logs, the ``.keras``
            model, the heatmaps); a killed demo resumes its training from there.
        export_dir: the SavedModel root; the model goes to ``export_dir/export_name/VERSION``.
        export_name: the served model's name.
        seed: the random seed of data and initialisation.
        progress: a progress bar over each epoch's steps (for terminals), besides the line
            per epoch.
        echo: ``fn(line)`` that shows a line; by default printed and flushed at once (so that
            the steps appear as they happen when the output goes to a pipe or a file).

    Returns:
        A dict: ``exact_match``, ``exact_match_en``, ``exact_match_ko``, ``bleu``, ``goal_met``,
        ``samples`` (input -> output), ``heatmaps`` (language -> PNG path), ``model_path``,
        ``export_path``, ``export_matches``, ``n_best``, ``seconds``, ``model``.
    """
    started = time.perf_counter()
    echo = echo or _print
    arguments = dict(recipe_arguments or {})
    step = _Step(echo, 6)
    echo("seqrecipes demo: seq2seq_attention learns to read dates (English and Korean) and write them as ISO 8601")

    with step("data: date_translation pairs, character tokenizers"):
        train_pairs = _pairs(data.date_translation(num_train, split="train", seed=seed))
        validation = _pairs(data.date_translation(num_validation, split="test", seed=seed + 1))
        test = _pairs(data.date_translation(num_test, split="test", seed=seed + 2))
        source_tokenizer = data.CharTokenizer().adapt(train_pairs[0])
        target_tokenizer = data.CharTokenizer(vocabulary=TARGET_CHARACTERS)
        echo(
            f"      {num_train} training pairs; {num_validation} validation and {num_test} test pairs on held-out days; "
            f"vocabularies: {source_tokenizer.vocabulary_size()} source, {target_tokenizer.vocabulary_size()} target ids"
        )
        for source, target in list(zip(*train_pairs))[:3]:
            echo(f"      e.g. {source!r} -> {target!r}")

    with step("model: seq2seq_attention"):
        keras.utils.set_random_seed(seed)
        recipe = get_recipe("seq2seq_attention").function
        model = recipe(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer, name="dates", **arguments)
        shown = ("cell", "units", "embedding_dim", "bidirectional", "attention", "learning_rate")
        echo(f"      {', '.join(f'{k}={model.arguments[k]}' for k in shown)}: {model.count_params():,} parameters")

    with step(f"training: at most {minutes:g} min, until validation exact match >= {stop_at} (run folder {run_dir})"):
        tf.random.set_seed(seed)
        batches = (
            tf.data.Dataset.from_tensor_slices(train_pairs)
            .cache()
            .shuffle(len(train_pairs[0]), seed=seed)
            .apply(
                data.seq2seq_batches(
                    source_tokenizer, target_tokenizer, batch_size, bucket=True,
                    max_source_length=model.arguments["max_source_length"],
                )
            )
            .repeat()
            .prefetch(tf.data.AUTOTUNE)
        )  # fmt: skip
        budget = _Budget(minutes * 60, stop_at, validation, echo, steps_per_epoch, progress=progress)
        # The budget callback ends training; `epochs` only has to be more than it allows.
        train(model, batches, epochs=10_000, steps_per_epoch=steps_per_epoch, run_dir=run_dir, callbacks=[budget], verbose=0)
        model_path = os.path.join(run_dir, "dates.keras")
        model.save(model_path)
        echo(f"      saved {model_path}")

    with step(f"evaluation on {num_test} held-out dates"):
        scores, outputs = metrics.generation_scores(model, *test)
        by_language = {}
        for language, keep in (("en", lambda s: not _is_korean(s)), ("ko", _is_korean)):
            rows = [(o, t) for s, o, t in zip(test[0], outputs, test[1]) if keep(s)]
            by_language[language] = float(np.mean([o == t for o, t in rows])) if rows else math.nan
        echo(
            f"      exact match {scores['exact_match']:.4f} (English {by_language['en']:.4f}, Korean {by_language['ko']:.4f}), "
            f"BLEU {scores['bleu']:.4f}"
        )
        wrong = [(s, o, t) for s, o, t in zip(test[0], outputs, test[1]) if o != t][:3]
        for source, output, target in wrong:
            echo(f"      missed: {source!r} -> {output!r} (expected {target!r})")

    with step("translations and attention heatmaps"):
        sample_outputs = [s.decode("utf-8") for s in predict(model, list(SAMPLES))["outputs"]]
        for source, output in zip(SAMPLES, sample_outputs):
            echo(f"      {_padded(repr(source), 28)} -> {output!r}")
        try:
            heatmaps = _heatmaps(model, run_dir, echo)
        except Exception as error:  # a picture must never stop the demo
            heatmaps = {}
            echo(f"      attention heatmaps not written: {type(error).__name__}: {error}")

    with step(f"export to {os.path.join(export_dir, export_name)}/VERSION and read it back"):
        export_path = export(model, os.path.join(export_dir, export_name))
        t0 = time.perf_counter()
        loaded = tf.saved_model.load(export_path)
        served = loaded.signatures["serving_default"]
        served_outputs = [s.decode("utf-8") for s in served(inputs=tf.constant(list(SAMPLES)))["outputs"].numpy()]
        export_matches = served_outputs == sample_outputs
        echo(
            f"      wrote {export_path}; tf.saved_model.load + serving_default on {len(SAMPLES)} raw strings "
            f"({time.perf_counter() - t0:.1f} s): {'the same outputs as the Python model' if export_matches else 'DIFFERENT outputs'}"
        )
        if not export_matches:
            for source, a, b in zip(SAMPLES, sample_outputs, served_outputs):
                echo(f"      {source!r}: model {a!r}, export {b!r}")
        n_best = _n_best(loaded.signatures["generate"], AMBIGUOUS, model.arguments["max_target_length"])
        echo(f"      generate signature, beam search, the 3 best readings of {AMBIGUOUS!r} (score):")
        for rank, (output, score) in enumerate(n_best, start=1):
            echo(f"        {rank}. {output!r} ({score:.3f})")

    seconds = time.perf_counter() - started
    goal_met = scores["exact_match"] >= GOAL
    echo(f"total {seconds / 60:.1f} min ({seconds:.0f} s)")
    echo(f"goal dates_exact_match: {scores['exact_match']:.4f} (target >= {GOAL}) {'met' if goal_met else 'not met'}")
    return {
        "exact_match": scores["exact_match"],
        "exact_match_en": by_language["en"],
        "exact_match_ko": by_language["ko"],
        "bleu": scores["bleu"],
        "goal_met": goal_met,
        "samples": dict(zip(SAMPLES, sample_outputs)),
        "heatmaps": heatmaps,
        "model_path": model_path,
        "export_path": export_path,
        "export_matches": export_matches,
        "n_best": n_best,
        "seconds": seconds,
        "model": model,
    }
