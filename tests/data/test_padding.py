"""data.padding: fixed lengths, padding to the longest in a batch, bucketing by length."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import as_lists, ragged_dataset


def test_truncate_or_pad():
    ds = ragged_dataset([[1, 2, 3, 4], [5]])
    assert as_lists(ds.apply(data.truncate_or_pad(3))) == [[1, 2, 3], [5, 0, 0]]
    assert as_lists(ds.apply(data.truncate_or_pad(3, padding="pre", truncating="pre"))) == [[2, 3, 4], [0, 0, 5]]
    assert as_lists(ds.apply(data.truncate_or_pad(2, pad_value=-1, padding="pre"))) == [[1, 2], [-1, 5]]
    padded = ds.apply(data.truncate_or_pad(3))
    assert padded.element_spec.shape.as_list() == [3]
    pairs = tf.data.Dataset.zip((ds, ragged_dataset([[9], [8, 7, 6]])))
    assert as_lists(pairs.apply(data.truncate_or_pad((2, None)))) == [([1, 2], [9]), ([5, 0], [8, 7, 6])]
    with pytest.raises(ValueError, match=r"Received: padding='middle'"):
        data.truncate_or_pad(3, padding="middle")
    with pytest.raises(ValueError, match=r"Received: length=0"):
        ds.apply(data.truncate_or_pad(0))


def test_batch_with_padding_pads_to_longest_in_each_batch():
    ds = tf.data.Dataset.zip((ragged_dataset([[1, 2, 3], [4], [5, 6], [7]]), tf.data.Dataset.range(4)))
    batches = as_lists(ds.apply(data.batch_with_padding(2)))
    assert batches == [([[1, 2, 3], [4, 0, 0]], [0, 1]), ([[5, 6], [7, 0]], [2, 3])]
    words = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([["a", "b"], ["c"]]))
    assert as_lists(words.apply(data.batch_with_padding(2))) == [[[b"a", b"b"], [b"c", b""]]]
    assert len(list(ragged_dataset([[1], [2], [3]]).apply(data.batch_with_padding(2, drop_remainder=True)))) == 1
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        data.batch_with_padding(0)


def test_batch_with_padding_to_a_multiple_gives_few_shapes():
    ds = tf.data.Dataset.zip((ragged_dataset([[1, 2, 3], [4], [5, 6, 7, 8, 9], [7]]), tf.data.Dataset.range(4)))
    batches = as_lists(ds.apply(data.batch_with_padding(2, pad_to_multiple_of=4)))
    assert batches == [([[1, 2, 3, 0], [4, 0, 0, 0]], [0, 1]), ([[5, 6, 7, 8, 9, 0, 0, 0], [7] + [0] * 7], [2, 3])]
    words = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([["a", "b"], ["c"]]))
    assert as_lists(words.apply(data.batch_with_padding(2, pad_to_multiple_of=3))) == [[[b"a", b"b", b""], [b"c", b"", b""]]]
    exact = ragged_dataset([[1, 2], [3, 4]]).apply(data.batch_with_padding(2, pad_to_multiple_of=2))
    assert as_lists(exact) == [[[1, 2], [3, 4]]]  # already a multiple: no extra padding
    with pytest.raises(ValueError, match=r"`pad_to_multiple_of`.*Received: pad_to_multiple_of=0"):
        data.batch_with_padding(2, pad_to_multiple_of=0)


def _bucket_padding(lengths, boundaries):
    lengths = np.asarray(lengths)
    edges = [0] + list(boundaries) + [np.inf]
    return sum(int((m.max() - m).sum()) for lo, hi in zip(edges[:-1], edges[1:]) if (m := lengths[(lengths >= lo) & (lengths < hi)]).size)


def test_choose_bucket_boundaries():
    assert data.choose_bucket_boundaries(range(1, 101), num_buckets=4) == [26, 51, 76]
    # Skewed: 90 one-token and 10 fifty-token sequences: one cut separates them, no padding.
    assert data.choose_bucket_boundaries([1] * 90 + [50] * 10, num_buckets=4) == [50]
    assert data.choose_bucket_boundaries([7] * 10, num_buckets=4) == []
    assert data.choose_bucket_boundaries([3, 1, 2, 9, 9, 9], num_buckets=2) == [9]
    with pytest.raises(ValueError, match=r"Received: num_buckets=1"):
        data.choose_bucket_boundaries([1, 2], num_buckets=1)
    with pytest.raises(ValueError, match=r"Received: lengths=\[\]"):
        data.choose_bucket_boundaries([], num_buckets=2)


def test_choose_bucket_boundaries_is_optimal_against_brute_force():
    import itertools

    rng = np.random.default_rng(0)
    for _ in range(30):
        lengths = rng.integers(1, 15, size=int(rng.integers(1, 30)))
        num_buckets = int(rng.integers(2, 5))
        chosen = data.choose_bucket_boundaries(lengths, num_buckets)
        assert len(chosen) < num_buckets
        candidates = sorted(set(lengths.tolist()))[1:]
        best = min(
            _bucket_padding(lengths, cut)
            for r in range(num_buckets)
            for cut in itertools.combinations(candidates, r)
        )
        assert _bucket_padding(lengths, chosen) == best


def _padding_fraction(batches):
    total = sum(b.size for b in batches)
    return (total - sum(int((b != 0).sum()) for b in batches)) / total


def test_bucketing_exact_batches_and_padding_fractions():
    lengths = [1, 9, 2, 10, 1, 9, 2, 10]
    ds = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([[1] * n for n in lengths]))
    longest = [b.numpy() for b in ds.apply(data.batch_with_padding(2))]
    assert [b.shape for b in longest] == [(2, 9), (2, 10), (2, 9), (2, 10)]
    assert _padding_fraction(longest) == 32 / 76
    bucketed = [b.numpy() for b in ds.apply(data.bucket_by_length(2, boundaries=[5]))]
    assert [b.shape for b in bucketed] == [(2, 2), (2, 10), (2, 2), (2, 10)]
    assert [int((b != 0).sum()) for b in bucketed] == [3, 19, 3, 19]
    assert _padding_fraction(bucketed) == 4 / 48


def test_bucketing_chooses_boundaries_from_data_and_keeps_every_example():
    rng = np.random.default_rng(0)
    lengths = np.minimum(rng.lognormal(2.5, 0.7, size=400).astype(int) + 1, 120)
    rows = [[int(n)] * int(n) for n in lengths]
    ds = tf.data.Dataset.zip((ragged_dataset(rows), tf.data.Dataset.range(len(rows))))
    bucketed = list(ds.apply(data.bucket_by_length(16, num_buckets=4)).as_numpy_iterator())
    boundaries = data.choose_bucket_boundaries(lengths, 4)
    assert len(boundaries) == 3
    seen = []
    for sequences, index in bucketed:
        true_lengths = sequences[:, 0]  # each row is filled with its own length
        bucket = np.searchsorted(boundaries, true_lengths, side="right")
        assert len(set(bucket.tolist())) == 1  # one bucket per batch
        assert sequences.shape[1] == true_lengths.max()  # padded to its own longest
        seen.extend(index.tolist())
    assert sorted(seen) == list(range(len(rows)))
    longest = [b for b, _ in ds.apply(data.batch_with_padding(16)).as_numpy_iterator()]
    # Seeded data, deterministic pipelines: the fractions are exact.
    assert _padding_fraction(longest) == pytest.approx(0.632989, abs=1e-6)
    assert _padding_fraction([b for b, _ in bucketed]) == pytest.approx(0.284880, abs=1e-6)


def test_bucketing_errors():
    with pytest.raises(ValueError, match=r"strictly increasing.*Received: boundaries=\[5, 3\]"):
        data.bucket_by_length(2, boundaries=[5, 3])
    with pytest.raises(ValueError, match=r"dataset is empty"):
        ragged_dataset([[1]]).take(0).apply(data.bucket_by_length(2))
