"""German->English translation on Multi30k: lowercased sacreBLEU of the encoder-decoder recipes.

The data (``--data``, default ``../shared/data``, folder ``multi30k``): ``train.de``/``train.en``
(29,000 sentence pairs) and ``val.de``/``val.en`` (1,014), one sentence a line. Tokenizers are
fitted on the training side only, one per language: SentencePiece (unigram, ``--vocabulary-size``
pieces at most, 8000 by default; the English side stops at about 7,100, all the pieces its text
has) with case folding, or WordPiece (``--tokenizer wordpiece``). SentencePiece is the default
because it is reversible: the lowercased validation references go through it and back unchanged
(sacreBLEU 100.0), while WordPiece's detokenizer writes punctuation as separate words ("a man's
t-shirt." -> "a man ' s t - shirt .") and the references' own round trip scores only 97.0, a
ceiling 3 BLEU below a perfect translation (and its learner stops at 2,900-3,500 words and takes
80 s).

The recipe (``--recipe``):

- ``seq2seq_attention`` (default): Bahdanau attention over a bidirectional GRU encoder, Bahdanau's
  decoder cell (attention with s_{t-1}, the context in the recurrence, a maxout output);
- ``transformer_seq2seq``: the post-norm Transformer;
- ``seq2seq``: the fixed-context GRU with the context at every step (Cho et al. 2014).

Training: ``recipes.train`` on bucketed batches (``data.seq2seq_batches(bucket=True)``, shuffled
each pass) for ``--epochs`` epochs of one pass over the training pairs, or until ``--minutes`` of
training (``TimeBudget``), whichever comes first. Then the 1,014 validation sources are translated
with beam search (``recipes.generate``, ``--beam-width`` 5, GNMT length penalty 0.6; 1 is greedy
search) in batches inside one ``tf.function``, detokenized and scored with sacreBLEU lowercased
(and chrF); the validation perplexity is ``recipes.score``'s (exp of the mean negative log-likelihood
per target token, [END] counted).

Prints the sacreBLEU signatures, a table (BLEU, chrF, perplexity, epochs, steps, speed) and 5
translations, and ends with goal lines. The BLEU target of seq2seq_attention is the test BLEU of
bentrevett's pytorch-seq2seq Bahdanau model (28.3, spaCy-tokenized, trained 10 epochs on a GPU):
a point of reference, not the same test set nor the same tokenization.

On 2 CPU cores (other jobs' tests sharing them for about half the time) the default run trained
10 epochs in 52.5 min (0.72 steps/s; 1.0 alone) and scored BLEU 40.91, chrF 59.72, validation
perplexity 5.90, beam 5. ``--recipe transformer_seq2seq`` (alone on the cores, 1.37-1.43 steps/s):
10 epochs (the default cap) in 26.4 min scored BLEU 28.93, chrF 46.99, perplexity 8.74; with
``--epochs 30 --minutes 50`` it trained 18 epochs in 49.7 min and scored BLEU 38.04, chrF 56.50,
perplexity 5.95 (its validation loss still falling 0.02 an epoch). seq2seq: 1.17 steps/s in a
three-minute run (10 epochs in about 32 min); its BLEU is not measured yet.

Usage:
    python experiments/multi30k.py                 # about 55 minutes on 2 CPU cores (53 of training)
    python experiments/multi30k.py --minutes 3     # the speed of the default model, a poor BLEU
    python experiments/multi30k.py --recipe transformer_seq2seq --epochs 30 --minutes 50   # BLEU 38.04
    python experiments/multi30k.py --quick         # a smoke run (a few hundred pairs, under a minute)
"""

import argparse
import inspect
import math
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import sacrebleu  # noqa: E402 (the bench-translation extra: pip install sacrebleu)
import tensorflow as tf  # noqa: E402

from language_model_ladder import TimeBudget  # noqa: E402 (the experiments folder is the script's path)

from seqrecipes import data, recipes  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Multi30k's longest training sentences are 51 German and 46 English SentencePiece tokens.
MAX_SOURCE_LENGTH = 64
MAX_TARGET_LENGTH = 64
TRANSLATE_BATCH = 128
# The budget stops training after a step; the cut epoch's validation pass and checkpoints still follow
# (18 s for the default seq2seq_attention): this much of the budget is left for them.
END_OF_EPOCH_SECONDS = 30

# The practitioner's Multi30k settings (bentrevett's pytorch-seq2seq: embeddings 256, GRUs of 512,
# dropout 0.5, Adam 1e-3 clipped at 1, batch 128, 10 epochs; his Transformer: 3 layers of 256, 8 heads,
# 512 feed-forward, dropout 0.1, Adam 5e-4), scaled to fit an hour on 2 CPU cores. seq2seq_attention on
# real bucketed batches of 128 (227 steps an epoch), measured while another job's tests shared the
# cores: units=512 (a 256+256 encoder, a 512 decoder) 2.05-2.1 s/step, 7 epochs in the hour;
# units=384 1.45-1.8 s/step, and 1.0 s/step alone (epochs of 213-409 s): 10 epochs took 52.5 and 54 min
# in two runs.
# The smaller model gets dropout 0.3 (the recipe drops the embeddings and the output before the
# logits, bentrevett only the embeddings) and label smoothing 0.1.
RNN = dict(units=384, embedding_dim=256, dropout=0.3, label_smoothing=0.1, learning_rate=1e-3)
RECIPES = {
    "seq2seq_attention": (recipes.seq2seq_attention, dict(cell="gru", bidirectional=True, attention="bahdanau", **RNN)),
    "transformer_seq2seq": (
        recipes.transformer_seq2seq,
        dict(num_layers=3, num_heads=8, hidden_dim=256, intermediate_dim=512, dropout=0.1, label_smoothing=0.1,
             learning_rate=5e-4),
    ),  # fmt: skip
    "seq2seq": (recipes.seq2seq, dict(cell="gru", context_every_step=True, **RNN)),
}
GOALS = {
    "seq2seq_attention": ("bahdanau_multi30k_bleu", 28.3, ", bentrevett's pytorch-seq2seq Bahdanau model"),
    "transformer_seq2seq": ("transformer_multi30k_bleu", 30.0, ""),
}
# The recipe arguments a flag may override (when the recipe takes it).
OVERRIDES = ("units", "embedding_dim", "num_layers", "num_heads", "hidden_dim", "intermediate_dim", "dropout",
             "label_smoothing", "learning_rate")  # fmt: skip
QUICK = dict(units=32, embedding_dim=16, num_layers=1, num_heads=2, hidden_dim=32, intermediate_dim=64, dropout=0.1,
             learning_rate=3e-3)


def read_pairs(folder, split, limit=None):
    """(German sentences, English sentences) of one split, as lists of strings."""
    sides = []
    for language in ("de", "en"):
        with open(os.path.join(folder, f"{split}.{language}"), encoding="utf-8") as file:
            sides.append([line.rstrip("\n") for line in file][:limit])
    if len(sides[0]) != len(sides[1]):
        raise ValueError(f"{split}.de and {split}.en differ in length. Received: {len(sides[0])} and {len(sides[1])} lines")
    return sides


def fit_tokenizer(kind, sentences, vocabulary_size):
    if kind == "sentencepiece":
        return data.SentencePieceTokenizer(lowercase=True, max_size=vocabulary_size).adapt(sentences)
    return data.SubwordTokenizer(lowercase=True, max_size=vocabulary_size).adapt(sentences)


def recipe_arguments(args):
    recipe, arguments = RECIPES[args.recipe]
    arguments = dict(arguments)
    if args.quick:
        arguments.update({k: v for k, v in QUICK.items() if k in arguments})
    accepted = inspect.signature(recipe).parameters
    for name in OVERRIDES:
        value = getattr(args, name)
        if value is None:
            continue
        if name not in accepted:
            raise SystemExit(f"--{name.replace('_', '-')} is not an argument of {args.recipe}")
        arguments[name] = value
    return recipe, arguments


def training_batches(pairs, model, batch_size, seed):
    step = data.seq2seq_batches(
        model.tokenizer("source"), model.tokenizer("target"), batch_size, bucket=True,
        max_source_length=MAX_SOURCE_LENGTH, max_target_length=MAX_TARGET_LENGTH,
    )  # fmt: skip
    dataset = tf.data.Dataset.from_tensor_slices(tuple(pairs)).shuffle(len(pairs[0]), seed=seed, reshuffle_each_iteration=True)
    return dataset.apply(step).repeat().prefetch(tf.data.AUTOTUNE)


def validation_batches(pairs, model, batch_size):
    step = data.seq2seq_batches(
        model.tokenizer("source"), model.tokenizer("target"), batch_size,
        max_source_length=MAX_SOURCE_LENGTH, max_target_length=MAX_TARGET_LENGTH,
    )  # fmt: skip
    return tf.data.Dataset.from_tensor_slices(tuple(pairs)).apply(step).cache()


def mean_tokens(tokenizer, sentences, limit):
    """The mean number of ids per sentence as training sees it: the tokens (cut) and [START] or [END]."""
    lengths = tokenizer.tokenize(sentences).row_lengths().numpy()
    return float(np.mean(np.minimum(lengths + 1, limit)))


class Translator:
    """Beam search (or greedy search) from raw source strings to detokenized outputs, in one graph."""

    def __init__(self, model, beam_width):
        decoder = model.decoder

        def translate(sources):
            result = recipes.generate(decoder, decoder.inputs_from_raw(sources), beam_width=beam_width)
            return decoder.detokenize(result["ids"][:, 0])  # the best result of each source

        # No autograph: the search is already keras.ops.while_loop closures, and autograph re-reads the
        # package's source files when it traces, which fails (KeyError: '__class__') when one was edited
        # since the import: seen after an hour of training while recipes/ was being changed.
        self.translate = tf.function(translate, input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)

    def __call__(self, sources, batch_size=TRANSLATE_BATCH):
        # Sources sorted by length: a batch ends when its longest output does.
        order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
        outputs = [None] * len(sources)
        for i in range(0, len(order), batch_size):
            rows = order[i : i + batch_size]
            texts = self.translate(tf.constant([sources[j] for j in rows])).numpy()
            for j, text in zip(rows, texts):
                outputs[j] = text.decode("utf-8")
        return outputs


def perplexity(model, sources, targets, batch_size=TRANSLATE_BATCH):
    """exp(-sum log p(y | x) / sum N) over the pairs, ``recipes.score``'s tokens ([END] counted)."""
    log_prob, tokens = 0.0, 0
    for i in range(0, len(sources), batch_size):
        result = recipes.score(model, sources[i : i + batch_size], targets[i : i + batch_size])
        log_prob += float(np.sum(result["log_prob"]))
        tokens += int(np.sum(result["lengths"]))
    return math.exp(-log_prob / tokens)


def train_model(args, train_pairs, validation):
    """Tokenizers, the recipe's model, and its training; returns the model and the training figures."""
    t0 = time.perf_counter()
    source_tokenizer = fit_tokenizer(args.tokenizer, train_pairs[0], args.vocabulary_size)
    target_tokenizer = fit_tokenizer(args.tokenizer, train_pairs[1], args.vocabulary_size)
    print(
        f"{len(train_pairs[0])} training pairs, {len(validation[0])} validation pairs; {args.tokenizer} vocabularies "
        f"de {source_tokenizer.vocabulary_size()}, en {target_tokenizer.vocabulary_size()} "
        f"({time.perf_counter() - t0:.0f} s)",
        flush=True,
    )
    recipe, arguments = recipe_arguments(args)
    keras.utils.set_random_seed(args.seed)
    model = recipe(
        source_tokenizer=source_tokenizer, target_tokenizer=target_tokenizer,
        max_source_length=MAX_SOURCE_LENGTH, max_target_length=MAX_TARGET_LENGTH, **arguments,
    )  # fmt: skip
    print(f"{args.recipe} {arguments}: {model.count_params():,} parameters, batch {args.batch_size}", flush=True)

    steps_per_epoch = math.ceil(len(train_pairs[0]) / args.batch_size)
    budget = TimeBudget(args.minutes * 60 - min(END_OF_EPOCH_SECONDS, args.minutes * 6))
    t0 = time.perf_counter()
    history = recipes.train(
        model,
        training_batches(train_pairs, model, args.batch_size, args.seed),
        validation_batches(validation, model, args.batch_size),
        epochs=args.epochs,
        run_dir=os.path.join(REPO, "runs", "multi30k", args.recipe + ("-quick" if args.quick else "")),
        resume=False,
        steps_per_epoch=steps_per_epoch,
        callbacks=[budget],
        verbose=2,
    )
    seconds = time.perf_counter() - t0
    if history.stopped_because:
        print(f"training stopped: {history.stopped_because}")
    steps = int(model.optimizer.iterations.numpy())
    source_tokens = mean_tokens(source_tokenizer, train_pairs[0], MAX_SOURCE_LENGTH + 1) - 1  # no [START]/[END] in the source
    target_tokens = mean_tokens(target_tokenizer, train_pairs[1], MAX_TARGET_LENGTH)
    training = {
        "steps": steps, "epochs": steps / steps_per_epoch, "seconds": seconds, "source_tokens": source_tokens,
        "target_tokens": target_tokens,
    }  # fmt: skip
    return model, training


def evaluate(model, sources, references, beam_width):
    """Translations of the sources, their sacreBLEU and chrF (lowercased), and the validation perplexity."""
    t0 = time.perf_counter()
    outputs = Translator(model, beam_width)(sources)
    seconds = time.perf_counter() - t0
    bleu_metric, chrf_metric = sacrebleu.metrics.BLEU(lowercase=True), sacrebleu.metrics.CHRF(lowercase=True)
    bleu = bleu_metric.corpus_score(outputs, [references])  # = sacrebleu.corpus_bleu(..., lowercase=True)
    chrf = chrf_metric.corpus_score(outputs, [references])
    print(f"translated {len(sources)} sources in {seconds:.0f} s: BLEU {bleu.score:.2f}, chrF {chrf.score:.2f}", flush=True)
    return {
        "outputs": outputs, "translate_seconds": seconds, "bleu": bleu, "chrf": chrf,
        "signatures": (bleu_metric.get_signature(), chrf_metric.get_signature()),
        "perplexity": perplexity(model, sources, references),
    }  # fmt: skip


def print_report(args, training, results, sources, references):
    bleu, chrf = results["bleu"], results["chrf"]
    steps_per_second = training["steps"] / training["seconds"]
    tokens = training["source_tokens"] + training["target_tokens"]
    search = f"beam {args.beam_width}" if args.beam_width > 1 else "greedy"
    print(f"\nsacreBLEU {results['signatures'][0]}")
    print(f"chrF      {results['signatures'][1]}")
    print(f"\n{len(sources)} Multi30k validation pairs, de->en, {search}, {args.tokenizer} {args.vocabulary_size}")
    print(
        f"{'recipe':<20} {'BLEU':>6} {'chrF':>6} {'val ppl':>8} {'epochs':>7} {'steps':>6} {'train min':>9} "
        f"{'steps/s':>8} {'tokens/s':>9} {'translate s':>11}"
    )
    print(
        f"{args.recipe:<20} {bleu.score:>6.2f} {chrf.score:>6.2f} {results['perplexity']:>8.2f} {training['epochs']:>7.2f} "
        f"{training['steps']:>6} {training['seconds'] / 60:>9.1f} {steps_per_second:>8.3f} "
        f"{steps_per_second * args.batch_size * tokens:>9.0f} {results['translate_seconds']:>11.1f}"
    )
    print(
        f"({bleu}; tokens/s counts source and target tokens, {training['source_tokens']:.1f} + "
        f"{training['target_tokens']:.1f} per pair)"
    )
    for source, reference, output in list(zip(sources, references, results["outputs"]))[:5]:
        print(f"\n  de:  {source}\n  ref: {reference}\n  out: {output}")


def print_goals(args, training, bleu):
    if args.recipe in GOALS:
        name, target, reference = GOALS[args.recipe]
        print(f"goal {name}: {bleu.score:.2f} (target >= {target:g}{reference}) {'met' if bleu.score >= target else 'not met'}")
    minutes = training["seconds"] / 60
    print(f"goal training_minutes: {minutes:.1f} (target <= {args.minutes:g}) {'met' if minutes <= args.minutes else 'not met'}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--recipe", default="seq2seq_attention", choices=sorted(RECIPES))
    parser.add_argument("--quick", action="store_true", help="a smoke run: 400 pairs, a tiny model, 1 minute")
    parser.add_argument("--minutes", type=float, default=60.0, help="the training budget")
    parser.add_argument("--epochs", type=int, default=10, help="the most passes over the training pairs")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--beam-width", type=int, default=5, help="1: greedy search")
    parser.add_argument("--tokenizer", default="sentencepiece", choices=("sentencepiece", "wordpiece"))
    parser.add_argument("--vocabulary-size", type=int, default=8000, help="the most tokens per language")
    parser.add_argument("--seed", type=int, default=0)
    for name in OVERRIDES:
        kind = int if name in ("units", "embedding_dim", "num_layers", "num_heads", "hidden_dim", "intermediate_dim") else float
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, help="the recipe's argument (default: the table in the script)")
    args = parser.parse_args(argv)
    if args.quick:
        args.minutes, args.epochs, args.vocabulary_size = min(args.minutes, 1.0), 40, 500
    return args


def main():
    args = parse_args()
    started = time.perf_counter()
    folder = os.path.join(args.data, "multi30k")
    limit = 400 if args.quick else None
    train_pairs = read_pairs(folder, "train", limit)
    validation = read_pairs(folder, "val", None if limit is None else 100)
    model, training = train_model(args, train_pairs, validation)
    results = evaluate(model, *validation, args.beam_width)
    print_report(args, training, results, *validation)
    print(f"\n(whole run {(time.perf_counter() - started) / 60:.1f} min)")
    print_goals(args, training, results["bleu"])


if __name__ == "__main__":
    main()
