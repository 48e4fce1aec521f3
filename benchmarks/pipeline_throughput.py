"""Pipeline throughput: bucket-by-length against pad-to-longest, and the pipeline against an LSTM step.

On a corpus with a skewed (log-normal) sentence-length distribution, like real text, this measures:

1. the fraction of padded positions in an epoch of batches, for ``batch_with_padding`` (pad to
   the longest in each batch) and ``bucket_by_length`` (boundaries chosen from the data);
2. useful (non-padding) tokens per second when an LSTM classifier trains on each pipeline's
   batches (``train_on_batch``; the two modes interleaved batch by batch, one epoch each per
   repeat, compared by the median ratio over repeats; CPU-time ratios printed alongside);
3. the pipeline's own examples per second (raw strings -> tokenize -> shuffle -> bucket ->
   prefetch, no cache) against the examples per second the LSTM training step consumes.

Goals (issue 4): bucketing gives at least 1.5x the useful tokens per second of pad-to-longest in
training, and the pipeline is never the bottleneck (its capacity at least the training rate).

Run: ``TF_CPP_MIN_LOG_LEVEL=2 .venv/bin/python benchmarks/pipeline_throughput.py``.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from seqrecipes import data  # noqa: E402


def make_corpus(num_sentences, vocabulary, seed):
    """Sentences of Zipf-distributed words with log-normal lengths (median about 15 words)."""
    rng = np.random.default_rng(seed)
    lengths = np.clip(rng.lognormal(mean=2.7, sigma=0.6, size=num_sentences).astype(int), 1, 150)
    ranks = np.arange(1, vocabulary + 1)
    p = 1.0 / ranks
    p /= p.sum()
    sentences = [" ".join(f"w{i}" for i in rng.choice(vocabulary, size=n, p=p)) for n in lengths]
    labels = rng.integers(0, 2, size=num_sentences).astype(np.int32)
    return sentences, labels, lengths


def padding_stats(dataset):
    positions = useful = batches = 0
    for tokens, _ in dataset.as_numpy_iterator():
        positions += tokens.size
        useful += int((tokens != 0).sum())
        batches += 1
    return positions, useful, batches


def make_model(vocabulary_size, seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential(
        [
            keras.Input(shape=(None,), dtype="int32"),
            keras.layers.Embedding(vocabulary_size, 32, mask_zero=True),
            keras.layers.LSTM(64),
            keras.layers.Dense(2),
        ]
    )
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    return model


def timed_fit(model, dataset):
    start = time.perf_counter()
    model.fit(dataset, epochs=1, verbose=0)
    return time.perf_counter() - start


def timed_iteration(dataset):
    start = time.perf_counter()
    count = 0
    for tokens, _ in dataset:
        count += int(tokens.shape[0])
    return time.perf_counter() - start, count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sentences", type=int, default=4000)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--num-buckets", type=int, default=8)
    args = parser.parse_args()
    # model.fit on a dataset of unknown length warns at the end of every epoch; expected here.
    warnings.filterwarnings("ignore", message=".*ran out of data.*")
    warnings.filterwarnings("ignore", message=".*`shuffle=True` was passed.*")

    sentences, labels, lengths = make_corpus(args.sentences, vocabulary=5000, seed=0)
    print(
        f"corpus: {len(sentences)} sentences, words per sentence median {int(np.median(lengths))}, "
        f"mean {lengths.mean():.1f}, p95 {int(np.percentile(lengths, 95))}, max {lengths.max()}"
    )
    tokenizer = data.WordTokenizer(max_size=5000).adapt(sentences)
    raw = tf.data.Dataset.from_tensor_slices((sentences, labels))

    def pipeline(bucketed, cached):
        ds = raw.apply(data.tokenize(tokenizer))
        if cached:
            ds = ds.apply(data.cache())
        ds = ds.apply(data.shuffle(seed=0))
        if bucketed:
            ds = ds.apply(data.bucket_by_length(args.batch_size, num_buckets=args.num_buckets))
        else:
            ds = ds.apply(data.batch_with_padding(args.batch_size))
        return ds.apply(data.prefetch())

    modes = {"pad_to_longest": pipeline(False, True), "bucketed": pipeline(True, True)}
    stats = {name: padding_stats(ds) for name, ds in modes.items()}  # also fills the caches
    useful = stats["pad_to_longest"][1]
    assert useful == stats["bucketed"][1] == int(lengths.sum())
    for name, (positions, _, batches) in stats.items():
        print(f"{name:>15}: {batches} batches, {positions} positions, padded fraction {1 - useful / positions:.3f}")

    models = {name: make_model(tokenizer.vocabulary_size(), seed=0) for name in modes}
    for name, ds in modes.items():  # warm-up: tracing for the shapes seen, allocator
        for tokens, targets in ds.as_numpy_iterator():
            models[name].train_on_batch(tokens, targets)

    # Each repeat is one epoch of each mode, interleaved batch by batch (alternating which mode
    # goes first), so that load from other processes falls on both alike.
    seconds = {name: [] for name in modes}
    cpu_seconds = {name: [] for name in modes}
    ratios, cpu_ratios = [], []
    names = list(modes)
    for repeat in range(args.repeats):
        epochs = {name: list(modes[name].as_numpy_iterator()) for name in names}
        wall = dict.fromkeys(names, 0.0)
        cpu = dict.fromkeys(names, 0.0)
        for step in range(max(len(e) for e in epochs.values())):
            for name in names if step % 2 == 0 else reversed(names):
                if step < len(epochs[name]):
                    tokens, targets = epochs[name][step]
                    start, start_cpu = time.perf_counter(), time.process_time()
                    models[name].train_on_batch(tokens, targets)
                    wall[name] += time.perf_counter() - start
                    cpu[name] += time.process_time() - start_cpu
        for name in names:
            seconds[name].append(wall[name])
            cpu_seconds[name].append(cpu[name])
        ratios.append(wall["pad_to_longest"] / wall["bucketed"])
        cpu_ratios.append(cpu["pad_to_longest"] / cpu["bucketed"])
    for name in modes:
        median = statistics.median(seconds[name])
        print(
            f"{name:>15}: training steps per epoch median {median:.2f} s, useful tokens/s {useful / median:,.0f}, "
            f"examples/s {len(sentences) / median:,.0f}"
        )
    speedup = statistics.median(ratios)
    print(f"bucketed / pad_to_longest useful tokens per second, per repeat: {', '.join(f'{r:.2f}x' for r in ratios)}")
    print(
        f"same per CPU-second of this process (less sensitive to other load): median {statistics.median(cpu_ratios):.2f}x "
        f"({', '.join(f'{r:.2f}x' for r in cpu_ratios)})"
    )

    # Pipeline capacity (uncached: tokenizing raw strings every epoch) against training consumption.
    uncached = pipeline(True, False)
    timed_iteration(uncached)  # warm-up
    capacity, consumption = [], []
    for _ in range(3):
        elapsed, count = timed_iteration(uncached)
        capacity.append(count / elapsed)
        consumption.append(len(sentences) / timed_fit(models["bucketed"], modes["bucketed"]))
    capacity_ratio = statistics.median(c / t for c, t in zip(capacity, consumption))
    print(
        f"pipeline alone (raw strings -> tokenize -> shuffle -> bucket -> prefetch): "
        f"{statistics.median(capacity):,.0f} examples/s; LSTM training step consumes "
        f"{statistics.median(consumption):,.0f} examples/s; ratio {capacity_ratio:.1f}x"
    )
    end_to_end = []
    for _ in range(3):
        uncached_time = timed_fit(models["bucketed"], uncached)
        cached_time = timed_fit(models["bucketed"], modes["bucketed"])
        end_to_end.append(cached_time / uncached_time)
    print(
        "training on the uncached pipeline vs on cached batches (1.0 = the pipeline costs nothing): "
        f"{statistics.median(end_to_end):.2f}x"
    )

    verdict = "met" if speedup >= 1.5 else "not met"
    print(f"goal bucketing_useful_tokens_per_second: {speedup:.2f}x pad-to-longest (target >= 1.5x) {verdict}")
    verdict = "met" if capacity_ratio >= 1.0 else "not met"
    print(f"goal pipeline_not_bottleneck: {capacity_ratio:.1f}x the LSTM step's examples/s (target >= 1.0x) {verdict}")


if __name__ == "__main__":
    main()
