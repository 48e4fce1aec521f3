"""The seeds' seq2seq claims on Multi30k de->en: attention against the fixed context by source length, source
reversal, label smoothing and scheduled sampling, each on against off.

The claims (seed 004 and the papers it cites):

- Bahdanau et al. (2015), figure 2: a fixed-length context degrades as sentences grow longer; attention
  does not. Measured as lowercased sacreBLEU per source-length bucket (German words) for the fixed-context
  ``seq2seq`` (Cho's wiring: the context in every step's recurrence and output) and for
  ``seq2seq_attention`` (Bahdanau's decoder over a bidirectional GRU); the claim holds here when attention's
  lead on the longest bucket is larger than on the shortest.
- Sutskever et al. (2014): reading the source backwards helps a fixed-context model (the first target words
  are then close to the first source words). ``seq2seq(reverse_source=True)`` against ``False``.
- Szegedy et al. (2016), used by Vaswani et al. (2017): label smoothing (0.1) "hurts perplexity ... but
  improves accuracy and BLEU score". ``seq2seq_attention`` with ``label_smoothing`` 0.1 against 0.
- Bengio et al. (2015): scheduled sampling (feed the model's own sampled token with probability
  1 - epsilon_i, epsilon_i = k / (k + exp(i / k))) helps the decoder at inference time. ``seq2seq_attention``
  with ``scheduled_sampling=k`` against teacher forcing, k chosen so that epsilon falls to 0.5 at the last
  step (k ln k = the number of training steps).

Every variant: the same SentencePiece tokenizers (lowercased, fitted once on the training side), the same
sizes (``--units``, ``--embedding-dim``, dropout 0.3, Adam 1e-3 clipped at 1), ``--epochs`` passes over the
29,000 training pairs in the same bucketed batches of 128 from the same seed, then beam search (``--beam-width``)
over the 1,014 validation pairs, all helpers shared with ``multi30k.py``. Fixed epochs, not minutes, so the
comparison does not depend on the machine's load; one seed, so a difference of a fraction of a BLEU point is
within the seed-to-seed spread.

Prints one row per variant as it finishes, then the table of BLEU by source length, writes ``--out`` (default
``experiments/seq2seq_claims.png``: BLEU by length, and each claim's on/off BLEU) and ends with one goal line per
claim.

Measured (the default run, 33 min on 2 CPU cores; BLEU over all 1,014 pairs, then by source length 1-8 / 9-10 /
11-12 / 13-15 / 16+ words):

    fixed context                   6.43   6.27   7.40   6.91   6.16   4.95   (perplexity 29.42)
    fixed context, source reversed  9.57  10.73  10.83  10.87   8.20   7.33   (24.01)
    attention                      19.23  22.24  23.06  19.73  16.41  15.10   (17.06)
    attention, no label smoothing  17.99  20.43  22.03  18.36  15.89  14.22   (16.82)
    attention, scheduled sampling  17.91  21.64  21.49  18.71  15.79  13.27   (23.00)

Reversal (+3.14) and label smoothing (+1.24 BLEU, at a slightly higher perplexity, as Szegedy et al. say) hold;
scheduled sampling costs 1.32 BLEU after 3 epochs. Attention leads by 16.0 BLEU on the shortest sources and by
10.2 on the longest, so Bahdanau's widening gap does not show: Multi30k's sources are short (126 of 1,014 have
16 words or more, none over 30, where Bahdanau's curves part), and a fixed-context model after 3 epochs is near
the floor on every length. ``dates.py`` part 3 (string reversal, lengths 4-16) shows the claim: 0.998 / 0.931 /
0.400 exact match without attention for 4-7 / 8-11 / 12-16 letters, 1.000 / 0.998 / 0.997 with it.

Usage:
    python experiments/seq2seq_claims.py --data ../shared/data              # 5 trainings, about 35 minutes
    python experiments/seq2seq_claims.py --variants fixed,fixed_reversed    # a subset
    python experiments/seq2seq_claims.py --quick                            # a smoke run, about 2 minutes
"""

import argparse
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import keras  # noqa: E402
import sacrebleu  # noqa: E402 (the bench-translation extra)

import multi30k  # noqa: E402 (data, tokenizers, batches, beam translation and perplexity)
from seqrecipes import recipes  # noqa: E402
from seqrecipes.recipes import plots  # noqa: E402 (its PNG helpers: Agg backend, tight layout, dpi 110)

REPO = multi30k.REPO
# Source lengths in German words: the validation set splits into 238 / 233 / 197 / 220 / 126 sentences.
BUCKETS = ((1, 8), (9, 10), (11, 12), (13, 15), (16, 99))
SHARED = dict(dropout=0.3, learning_rate=1e-3)
VARIANTS = {  # name: (recipe, its arguments, label)
    "fixed": (recipes.seq2seq, dict(cell="gru", context_every_step=True, label_smoothing=0.1), "fixed context"),
    "fixed_reversed": (
        recipes.seq2seq, dict(cell="gru", context_every_step=True, reverse_source=True, label_smoothing=0.1),
        "fixed context, source reversed",
    ),
    "attention": (
        recipes.seq2seq_attention, dict(cell="gru", bidirectional=True, attention="bahdanau", label_smoothing=0.1),
        "attention",
    ),
    "attention_no_smoothing": (
        recipes.seq2seq_attention, dict(cell="gru", bidirectional=True, attention="bahdanau", label_smoothing=0.0),
        "attention, no label smoothing",
    ),
    "attention_scheduled": (
        recipes.seq2seq_attention,
        dict(cell="gru", bidirectional=True, attention="bahdanau", label_smoothing=0.1, scheduled_sampling="auto"),
        "attention, scheduled sampling",
    ),
}  # fmt: skip
# Each claim: (goal name, variant on, variant off).
CLAIMS = (
    ("source_reversal_helps_fixed_context", "fixed_reversed", "fixed"),
    ("label_smoothing_helps_bleu", "attention", "attention_no_smoothing"),
    ("scheduled_sampling_helps_bleu", "attention_scheduled", "attention"),
)


def schedule_k(steps):
    """The k of epsilon_i = k / (k + exp(i / k)) whose epsilon is 1/2 at step ``steps``: k ln k = steps."""
    k = max(steps / math.log(max(steps, 3)), 1.0)
    for _ in range(50):  # Newton on f(k) = k ln k - steps
        k -= (k * math.log(k) - steps) / (math.log(k) + 1)
    return max(k, 1.0)


def bucket_of(source):
    words = len(source.split())
    return next(i for i, (low, high) in enumerate(BUCKETS) if low <= words <= high)


def bleu_by_bucket(sources, references, outputs):
    buckets = [bucket_of(source) for source in sources]
    scores = []
    for i in range(len(BUCKETS)):
        rows = [j for j, bucket in enumerate(buckets) if bucket == i]
        hypotheses, refs = [outputs[j] for j in rows], [references[j] for j in rows]
        scores.append((len(rows), sacrebleu.corpus_bleu(hypotheses, [refs], lowercase=True).score))
    return scores


def run_variant(name, args, tokenizers, train_pairs, validation):
    recipe, arguments, label = VARIANTS[name]
    arguments = dict(arguments, units=args.units, embedding_dim=args.embedding_dim, **SHARED)
    steps_per_epoch = math.ceil(len(train_pairs[0]) / args.batch_size)
    if arguments.get("scheduled_sampling") == "auto":
        arguments["scheduled_sampling"] = round(schedule_k(steps_per_epoch * args.epochs), 1)
    keras.utils.set_random_seed(args.seed)
    model = recipe(
        source_tokenizer=tokenizers[0], target_tokenizer=tokenizers[1],
        max_source_length=multi30k.MAX_SOURCE_LENGTH, max_target_length=multi30k.MAX_TARGET_LENGTH, **arguments,
    )  # fmt: skip
    print(f"\n{name}: {label}; {recipe.__name__} {arguments}: {model.count_params():,} parameters", flush=True)
    t0 = time.perf_counter()
    recipes.train(
        model,
        multi30k.training_batches(train_pairs, model, args.batch_size, args.seed),
        multi30k.validation_batches(validation, model, args.batch_size),
        epochs=args.epochs,
        run_dir=os.path.join(REPO, "runs", "seq2seq_claims", name),
        resume=False,
        steps_per_epoch=steps_per_epoch,
        verbose=2,
    )
    minutes = (time.perf_counter() - t0) / 60
    results = multi30k.evaluate(model, *validation, args.beam_width)
    row = {
        "name": name, "label": label, "bleu": results["bleu"].score, "chrf": results["chrf"].score,
        "perplexity": results["perplexity"], "minutes": minutes, "buckets": bleu_by_bucket(*validation, results["outputs"]),
        "signature": results["signatures"][0],
    }  # fmt: skip
    buckets = "  ".join(f"{b:.2f}" for _, b in row["buckets"])
    print(
        f"{name}: BLEU {row['bleu']:.2f}, chrF {row['chrf']:.2f}, perplexity {row['perplexity']:.2f}, "
        f"{minutes:.1f} min of training; by source length {buckets}",
        flush=True,
    )
    return row


def print_table(rows, args):
    print(f"\nsacreBLEU {rows[0]['signature']}")
    print(f"Multi30k validation, de->en, {args.epochs} epochs, units {args.units}, beam {args.beam_width}, one seed")
    head = "  ".join(f"{f'{low}-{high}' if high < 99 else f'{low}+':>7}" for low, high in BUCKETS)
    print(f"{'variant':<32} {'BLEU':>6} {'chrF':>6} {'val ppl':>8} {'minutes':>7}   BLEU by German words: {head}")
    counts = "  ".join(f"{n:>7}" for n, _ in rows[0]["buckets"])
    print(f"{'(sentences)':<32} {'':>6} {'':>6} {'':>8} {'':>7}                         {counts}")
    for row in rows:
        buckets = "  ".join(f"{b:>7.2f}" for _, b in row["buckets"])
        print(
            f"{row['label']:<32} {row['bleu']:>6.2f} {row['chrf']:>6.2f} {row['perplexity']:>8.2f} {row['minutes']:>7.1f}"
            f"                         {buckets}"
        )


def plot(rows, path):
    """Two panels: BLEU by source-length bucket for each variant, and each claim's on/off BLEU."""
    plt = plots._pyplot()  # here: only the picture needs matplotlib (Agg)
    by_name = {row["name"]: row for row in rows}
    figure, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    labels = [f"{low}-{high}" if high < 99 else f"{low}+" for low, high in BUCKETS]
    for row in rows:
        left.plot(labels, [b for _, b in row["buckets"]], marker="o", label=row["label"])
    left.set(xlabel="source length (German words)", ylabel="BLEU (lowercased sacreBLEU)", title="BLEU by source length")
    left.legend(fontsize=8)
    claims = [(goal, by_name[on], by_name[off]) for goal, on, off in CLAIMS if on in by_name and off in by_name]
    for i, (goal, on, off) in enumerate(claims):
        right.bar([i - 0.2], [off["bleu"]], width=0.4, color="tab:gray", label="off" if i == 0 else None)
        right.bar([i + 0.2], [on["bleu"]], width=0.4, color="tab:blue", label="on" if i == 0 else None)
    right.set_xticks(range(len(claims)), [goal.replace("_helps", "\nhelps").replace("_", " ") for goal, _, _ in claims], fontsize=8)
    right.set(ylabel="BLEU", title="each claim: off against on")
    if claims:
        right.legend()
    return plots._save(plt, figure, path)


def print_goals(rows, quick=False):
    """One goal line per claim; a --quick run's models learn nothing, so its lines say so instead of met."""
    by_name = {row["name"]: row for row in rows}

    def verdict(met):
        return "not judged (--quick: judged on full runs only)" if quick else ("met" if met else "not met")

    if "fixed" in by_name and "attention" in by_name:
        gaps = [a - f for (_, a), (_, f) in zip(by_name["attention"]["buckets"], by_name["fixed"]["buckets"])]
        met = gaps[-1] > gaps[0]
        print(
            f"goal attention_lead_grows_with_length: attention minus fixed context {gaps[0]:+.2f} BLEU on the shortest "
            f"sources, {gaps[-1]:+.2f} on the longest (target: larger on the longest) {verdict(met)}"
        )
    for goal, on, off in CLAIMS:
        if on in by_name and off in by_name:
            difference = by_name[on]["bleu"] - by_name[off]["bleu"]
            print(
                f"goal {goal}: {by_name[on]['bleu']:.2f} on against {by_name[off]['bleu']:.2f} off, {difference:+.2f} "
                f"BLEU (target > 0, one seed) {verdict(difference > 0)}"
            )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"a comma-separated subset of {', '.join(VARIANTS)}")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--units", type=int, default=256)
    parser.add_argument("--embedding-dim", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--beam-width", type=int, default=5)
    parser.add_argument("--vocabulary-size", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(REPO, "experiments", "seq2seq_claims.png"))
    parser.add_argument("--quick", action="store_true", help="a smoke run: 400 pairs, a tiny model, 2 epochs")
    args = parser.parse_args()
    names = [name.strip() for name in args.variants.split(",") if name.strip()]
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        parser.error(f"--variants: unknown {', '.join(unknown)}; the variants are {', '.join(VARIANTS)}")
    limit = None
    if args.quick:
        limit, args.epochs, args.units, args.embedding_dim, args.vocabulary_size = 400, 2, 32, 16, 500
        args.out = os.path.join(REPO, "experiments", "results", "seq2seq_claims_quick.png")
    started = time.perf_counter()
    folder = os.path.join(args.data, "multi30k")
    train_pairs = multi30k.read_pairs(folder, "train", limit)
    validation = multi30k.read_pairs(folder, "val", None if limit is None else 200)
    tokenizers = [multi30k.fit_tokenizer("sentencepiece", side, args.vocabulary_size) for side in train_pairs]
    print(f"{len(train_pairs[0])} training pairs; vocabularies de {tokenizers[0].vocabulary_size()}, en {tokenizers[1].vocabulary_size()}")
    rows = [run_variant(name, args, tokenizers, train_pairs, validation) for name in names]
    print_table(rows, args)
    print(f"\npicture: {plot(rows, args.out)}")
    print(f"(whole run {(time.perf_counter() - started) / 60:.1f} min)")
    print_goals(rows, args.quick)


if __name__ == "__main__":
    main()
