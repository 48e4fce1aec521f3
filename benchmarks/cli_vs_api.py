"""The command line against the Python API on Multi30k de->en: the same settings give the same validation BLEU.

One model is trained twice with the same settings: once from Python (``data.SentencePieceTokenizer``,
``recipes.seq2seq_attention``, ``data.seq2seq_batches``, ``recipes.train``, ``recipes.predict`` and
``metrics.sacre_bleu``), once by ``seqrecipes train --config CONFIG`` then ``seqrecipes evaluate --file val.de
val.en --lowercase`` in child processes, from a YAML configuration that says the same. Both translate the
1,014 validation sentences greedily and score them with lowercased corpus BLEU; the API side's outputs are
scored by sacreBLEU itself too (the ``bench-translation`` extra), which checks the package's ``sacre_bleu``.

The settings are a shrunk version of ``experiments/multi30k.py``'s (the point is the equality, not the BLEU):
lowercased SentencePiece of ``--vocabulary-size`` pieces per language, ``seq2seq_attention`` with ``--units``
units, ``--epochs`` passes over the first ``--num-examples`` training pairs in bucketed batches of 128.

Usage:
    python benchmarks/cli_vs_api.py --data ../shared/data       # about 6 minutes on 2 CPU cores
    python benchmarks/cli_vs_api.py --quick                     # a smoke run (2,000 pairs)
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import sacrebleu  # noqa: E402 (the bench-translation extra: pip install sacrebleu)
import tensorflow as tf  # noqa: E402
import yaml  # noqa: E402

from seqrecipes import data, recipes  # noqa: E402
from seqrecipes.recipes import metrics  # noqa: E402

TOLERANCE = 0.1  # BLEU points


def read_lines(path, limit=None):
    with open(path, encoding="utf-8") as file:
        return [line.rstrip("\n") for line in file][:limit]


def settings(args, folder):
    return {
        "recipe": "seq2seq_attention",
        "arguments": {"units": args.units, "embedding_dim": args.units, "dropout": 0.2},
        "data": {"train": [os.path.join(folder, "train.de"), os.path.join(folder, "train.en")], "num_examples": args.num_examples},
        "tokenizer": {"kind": "sentencepiece", "vocabulary_size": args.vocabulary_size, "lowercase": True},
        "training": {"epochs": args.epochs, "batch_size": 128, "seed": 0, "bucket": True},
    }


def through_the_api(config, validation):
    """The run as Python code that says what the configuration says; (BLEU, sacreBLEU's BLEU, seconds)."""
    start = time.perf_counter()
    sources, targets = (read_lines(path, config["data"]["num_examples"]) for path in config["data"]["train"])
    seed, spec = config["training"]["seed"], config["tokenizer"]
    keras.utils.set_random_seed(seed)
    source_tokenizer = data.SentencePieceTokenizer(lowercase=True, max_size=spec["vocabulary_size"]).adapt(sources)
    target_tokenizer = data.SentencePieceTokenizer(lowercase=True, max_size=spec["vocabulary_size"]).adapt(targets)
    model = recipes.seq2seq_attention(source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer, **config["arguments"])
    pairs = tf.data.Dataset.from_tensor_slices((sources, targets)).shuffle(len(sources), seed=seed, reshuffle_each_iteration=False)
    batches = pairs.apply(data.seq2seq_batches(
        source_tokenizer, target_tokenizer, config["training"]["batch_size"], bucket=True,
        max_source_length=model.arguments["max_source_length"], max_target_length=model.arguments["max_target_length"],
    )).prefetch(tf.data.AUTOTUNE)  # fmt: skip
    recipes.train(model, batches, epochs=config["training"]["epochs"], run_dir=tempfile.mkdtemp(), tensorboard=False, verbose=2)
    outputs = [o.decode("utf-8") for o in recipes.predict(model, validation[0], batch_size=64)["outputs"]]
    bleu, signature = metrics.sacre_bleu(validation[1], outputs, lowercase=True)
    reference = sacrebleu.BLEU(lowercase=True)
    theirs = reference.corpus_score(outputs, [validation[1]]).score
    print(f"API: BLEU {bleu:.2f} ({signature}); sacreBLEU {theirs:.2f} ({reference.get_signature()})")
    return bleu, theirs, time.perf_counter() - start


def through_the_cli(config, folder, work):
    """``seqrecipes train --config`` and ``seqrecipes evaluate``; (BLEU, seconds)."""
    start = time.perf_counter()
    path = os.path.join(work, "config.yaml")
    with open(path, "w") as file:
        yaml.safe_dump(dict(config, run_dir=os.path.join(work, "run")), file)
    command = [sys.executable, "-m", "seqrecipes"]
    subprocess.run([*command, "train", "--config", path], check=True, stdout=subprocess.DEVNULL)
    model = os.path.join(work, "run", "seq2seq_attention.keras")
    files = [os.path.join(folder, "val.de"), os.path.join(folder, "val.en")]
    run = subprocess.run([*command, "evaluate", "--model", model, "--file", *files, "--lowercase"], check=True,
                         capture_output=True, text=True)  # fmt: skip
    bleu = float(re.search(r"^bleu: (\S+)$", run.stdout, flags=re.M).group(1))
    signature = re.search(r"^bleu_signature: (\S+)$", run.stdout, flags=re.M).group(1)
    print(f"CLI: BLEU {bleu:.2f} ({signature})")
    return bleu, time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="../shared/data", help="the folder holding multi30k/")
    parser.add_argument("--num-examples", type=int, default=29_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--vocabulary-size", type=int, default=4000)
    parser.add_argument("--quick", action="store_true", help="2,000 pairs, 1 epoch, 64 units")
    args = parser.parse_args()
    if args.quick:
        args.num_examples, args.epochs, args.units = 2000, 1, 64
    folder = os.path.join(args.data, "multi30k")
    config = settings(args, folder)
    validation = (read_lines(os.path.join(folder, "val.de")), read_lines(os.path.join(folder, "val.en")))
    print(f"seq2seq_attention {config['arguments']}, {args.num_examples} pairs, {args.epochs} epochs, "
          f"sentencepiece {args.vocabulary_size}; {len(validation[0])} validation pairs, greedy, lowercased BLEU")  # fmt: skip
    with tempfile.TemporaryDirectory() as work:
        cli_bleu, cli_seconds = through_the_cli(config, folder, work)
    api_bleu, sacre, api_seconds = through_the_api(config, validation)
    print(f"{'path':6} {'BLEU':>7} {'minutes':>8}")
    print(f"{'API':6} {api_bleu:7.2f} {api_seconds / 60:8.1f}")
    print(f"{'CLI':6} {cli_bleu:7.2f} {cli_seconds / 60:8.1f}")
    gap = abs(cli_bleu - api_bleu)
    met = gap <= TOLERANCE and not args.quick
    print(f"goal cli_reproduces_api_bleu: |{cli_bleu:.2f} - {api_bleu:.2f}| = {gap:.2f} (target <= {TOLERANCE}"
          f"{', judged on full runs only' if args.quick else ''}) {'met' if met else 'not met'}")  # fmt: skip
    gap = abs(api_bleu - sacre)
    met = gap <= 1e-4 and not args.quick  # a smoke run's BLEU is about 0, where both agree trivially
    print(f"goal sacre_bleu_equals_sacrebleu: |{api_bleu:.4f} - {sacre:.4f}| = {gap:.4f} (target <= 0.0001"
          f"{', judged on full runs only' if args.quick else ''}) {'met' if met else 'not met'}")  # fmt: skip


if __name__ == "__main__":
    main()
