"""tf.data steps: tokenize, pad, bucket, teacher forcing, LM prefixes and windows, series windows."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

SEED_002 = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]
# Seed 002, "RNN을 이용한 텍스트 생성": samples, X, y.
SEED_002_TABLE = [
    ("경마장에", "있는"),
    ("경마장에 있는", "말이"),
    ("경마장에 있는 말이", "뛰고"),
    ("경마장에 있는 말이 뛰고", "있다"),
    ("그의", "말이"),
    ("그의 말이", "법이다"),
    ("가는", "말이"),
    ("가는 말이", "고와야"),
    ("가는 말이 고와야", "오는"),
    ("가는 말이 고와야 오는", "말이"),
    ("가는 말이 고와야 오는 말이", "곱다"),
]


def _ragged_dataset(rows):
    return tf.data.Dataset.from_tensor_slices(tf.ragged.constant(rows))


def _lists(dataset):
    return tf.nest.map_structure(lambda x: x.tolist() if hasattr(x, "tolist") else x, list(dataset.as_numpy_iterator()))


# ---------------------------------------------------------------------------------------------
# tokenize, truncate_or_pad, batch_with_padding


def test_tokenize_structures():
    chars = data.CharTokenizer(vocabulary=list("abc"))
    pairs = tf.data.Dataset.from_tensor_slices((["ab", "ca"], ["ca", "b"]))
    assert _lists(pairs.apply(data.tokenize((chars, None)))) == [([4, 5], b"ca"), ([6, 4], b"b")]
    assert _lists(pairs.apply(data.tokenize(chars))) == [([4, 5], [6, 4]), ([6, 4], [5])]
    labelled = tf.data.Dataset.from_tensor_slices({"text": ["cab"], "label": [7]})
    assert _lists(labelled.apply(data.tokenize(chars))) == [{"text": [6, 4, 5], "label": 7}]
    with pytest.raises(ValueError, match=r"structure matching the dataset element.*Received: tokenizer="):
        pairs.apply(data.tokenize((chars, chars, chars)))


def test_truncate_or_pad():
    ds = _ragged_dataset([[1, 2, 3, 4], [5]])
    assert _lists(ds.apply(data.truncate_or_pad(3))) == [[1, 2, 3], [5, 0, 0]]
    assert _lists(ds.apply(data.truncate_or_pad(3, padding="pre", truncating="pre"))) == [[2, 3, 4], [0, 0, 5]]
    assert _lists(ds.apply(data.truncate_or_pad(2, pad_value=-1, padding="pre"))) == [[1, 2], [-1, 5]]
    padded = ds.apply(data.truncate_or_pad(3))
    assert padded.element_spec.shape.as_list() == [3]
    pairs = tf.data.Dataset.zip((ds, _ragged_dataset([[9], [8, 7, 6]])))
    assert _lists(pairs.apply(data.truncate_or_pad((2, None)))) == [([1, 2], [9]), ([5, 0], [8, 7, 6])]
    with pytest.raises(ValueError, match=r"Received: padding='middle'"):
        data.truncate_or_pad(3, padding="middle")
    with pytest.raises(ValueError, match=r"Received: length=0"):
        ds.apply(data.truncate_or_pad(0))


def test_batch_with_padding_pads_to_longest_in_each_batch():
    ds = tf.data.Dataset.zip((_ragged_dataset([[1, 2, 3], [4], [5, 6], [7]]), tf.data.Dataset.range(4)))
    batches = _lists(ds.apply(data.batch_with_padding(2)))
    assert batches == [([[1, 2, 3], [4, 0, 0]], [0, 1]), ([[5, 6], [7, 0]], [2, 3])]
    words = tf.data.Dataset.from_tensor_slices(tf.ragged.constant([["a", "b"], ["c"]]))
    assert _lists(words.apply(data.batch_with_padding(2))) == [[[b"a", b"b"], [b"c", b""]]]
    assert len(list(_ragged_dataset([[1], [2], [3]]).apply(data.batch_with_padding(2, drop_remainder=True)))) == 1
    with pytest.raises(ValueError, match=r"Received: batch_size=0"):
        data.batch_with_padding(0)


# ---------------------------------------------------------------------------------------------
# bucketing


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
    ds = tf.data.Dataset.zip((_ragged_dataset(rows), tf.data.Dataset.range(len(rows))))
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
        _ragged_dataset([[1]]).take(0).apply(data.bucket_by_length(2))


# ---------------------------------------------------------------------------------------------
# teacher forcing


def test_teacher_forcing_shift():
    pairs = tf.data.Dataset.from_tensors((tf.constant([7, 8, 9]), tf.constant([5, 6])))
    assert _lists(pairs.apply(data.teacher_forcing_shift())) == [(([7, 8, 9], [2, 5, 6]), [5, 6, 3])]
    targets = tf.data.Dataset.from_tensors(tf.constant([5, 6, 3]))
    assert _lists(targets.apply(data.teacher_forcing_shift(end_id=None))) == [([2, 5, 6], [5, 6, 3])]
    with pytest.raises(ValueError, match=r"before batching. Received: target.shape=\(2, 2\)"):
        tf.data.Dataset.from_tensors(tf.ones((2, 2), tf.int32)).apply(data.teacher_forcing_shift())


def test_seq2seq_pipeline_end_to_end():
    source = data.CharTokenizer().adapt(["June 25th, 2009"])
    target = data.CharTokenizer().adapt(["2009-06-25"])
    pairs = tf.data.Dataset.from_tensors(("June 25th, 2009", "2009-06-25"))
    ds = pairs.apply(data.tokenize((source, target))).apply(data.teacher_forcing_shift()).apply(data.batch_with_padding(1))
    (encoder_in, decoder_in), out = next(iter(ds))
    assert source.detokenize(encoder_in).numpy().tolist() == [b"June 25th, 2009"]
    assert decoder_in.numpy()[0, 0] == target.start_id and out.numpy()[0, -1] == target.end_id
    assert target.detokenize(decoder_in).numpy().tolist() == [b"2009-06-25"]
    assert target.detokenize(out).numpy().tolist() == [b"2009-06-25"]


# ---------------------------------------------------------------------------------------------
# language-model windows


def test_lm_prefixes_reproduce_seed_002_table():
    words = data.WordTokenizer().adapt(SEED_002)
    ds = tf.data.Dataset.from_tensor_slices(SEED_002).apply(data.tokenize(words)).apply(data.lm_prefixes())
    table = [
        (words.detokenize(prefix).numpy().decode("utf-8"), words.id_to_token(int(following)))
        for prefix, following in ds.as_numpy_iterator()
    ]
    assert table == SEED_002_TABLE
    padded = ds.apply(data.truncate_or_pad(5, padding="pre"))
    assert [x.tolist() for x, _ in padded.take(2).as_numpy_iterator()] == [
        [0, 0, 0, 0, words.token_to_id("경마장에")],
        [0, 0, 0, words.token_to_id("경마장에"), words.token_to_id("있는")],
    ]
    with pytest.raises(ValueError, match=r"1-D token sequences"):
        tf.data.Dataset.from_tensors([[1, 2]]).apply(data.lm_prefixes())


def test_lm_windows_single():
    ds = tf.data.Dataset.from_tensors(tf.range(10))
    assert _lists(ds.apply(data.lm_windows(3))) == [([0, 1, 2], [1, 2, 3]), ([3, 4, 5], [4, 5, 6]), ([6, 7, 8], [7, 8, 9])]
    assert _lists(ds.apply(data.lm_windows(4, stride=3))) == [([0, 1, 2, 3], [1, 2, 3, 4]), ([3, 4, 5, 6], [4, 5, 6, 7])]
    docs = _ragged_dataset([[5, 6], [7, 8]])
    assert _lists(docs.apply(data.lm_windows(2, separator_id=3))) == [([5, 6], [6, 3]), ([3, 7], [7, 8])]


def test_lm_windows_stateful_batches_continue_row_by_row():
    docs = _ragged_dataset([list(range(0, 13)), list(range(13, 26))])
    batches = _lists(docs.apply(data.lm_windows(3, batch_size=2)))
    assert len(batches) == 4
    assert batches[0] == ([[0, 1, 2], [13, 14, 15]], [[1, 2, 3], [14, 15, 16]])
    rows_x = np.concatenate([np.array(x) for x, _ in batches], axis=1)
    rows_y = np.concatenate([np.array(y) for _, y in batches], axis=1)
    np.testing.assert_array_equal(rows_x, [list(range(0, 12)), list(range(13, 25))])
    np.testing.assert_array_equal(rows_y, [list(range(1, 13)), list(range(14, 26))])
    with pytest.raises(ValueError, match=r"too short.*Received: window_length=20, batch_size=2"):
        docs.apply(data.lm_windows(20, batch_size=2))


def test_char_lm_windows_from_text():
    chars = data.CharTokenizer().adapt(["hello world"])
    ds = tf.data.Dataset.from_tensors("hello world").apply(data.tokenize(chars)).apply(data.lm_windows(5))
    decoded = [(chars.detokenize(x).numpy().decode(), chars.detokenize(y).numpy().decode()) for x, y in ds.as_numpy_iterator()]
    assert decoded == [("hello", "ello "), (" worl", "world")]


# ---------------------------------------------------------------------------------------------
# shuffle, cache, prefetch


def test_shuffle_is_reproducible_under_a_seed(tmp_path):
    def order(seed):
        return [int(x) for x in tf.data.Dataset.range(20).apply(data.shuffle(seed=seed))]

    assert order(3) == order(3)
    assert order(3) != list(range(20)) and sorted(order(3)) == list(range(20))
    assert order(3) != order(4)
    ds = tf.data.Dataset.range(20).apply(data.shuffle(seed=3))
    assert [int(x) for x in ds] != [int(x) for x in ds]  # a new order every epoch
    cached = tf.data.Dataset.range(5).apply(data.cache(str(tmp_path / "cache"))).apply(data.prefetch())
    assert [int(x) for x in cached] == [0, 1, 2, 3, 4]
    assert any(p.name.startswith("cache") for p in tmp_path.iterdir())


# ---------------------------------------------------------------------------------------------
# time series


def test_from_series_nan_policies():
    values = [1.0, np.nan, 3.0, np.nan, np.nan, 6.0]
    with pytest.raises(ValueError, match=r"NaN at 3 of 6 time steps \(first at index 1\).*Received: nan_policy='raise'"):
        data.from_series(values)
    with pytest.warns(UserWarning, match="3 time steps with NaN"):
        dropped = data.from_series(values, nan_policy="drop")
    assert [float(v[0]) for v in dropped.as_numpy_iterator()] == [1.0, 3.0, 6.0]
    with pytest.warns(UserWarning):
        filled = data.from_series(values, nan_policy="interpolate")
    assert [float(v[0]) for v in filled.as_numpy_iterator()] == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    with pytest.warns(UserWarning):
        np.testing.assert_array_equal(data.clean_series([np.nan, 2.0, np.nan], "interpolate")[:, 0], [2.0, 2.0, 2.0])
    assert np.isnan(data.clean_series(values, "keep")[1, 0])
    with pytest.raises(ValueError, match=r"only NaN"):
        data.clean_series([np.nan, np.nan], "drop")
    with pytest.raises(ValueError, match=r"is empty"):
        data.from_series([])
    with pytest.raises(ValueError, match=r"Received: series.shape=\(2, 2, 2\)"):
        data.from_series(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"Received: nan_policy='ignore'"):
        data.from_series([1.0], nan_policy="ignore")


def test_series_windows_exact():
    ds = data.from_series(np.arange(7, dtype="float32"))
    windows = _lists(ds.apply(data.series_windows(3, horizon=2, stride=2)))
    assert windows == [([[0.0], [1.0], [2.0]], [[3.0], [4.0]]), ([[2.0], [3.0], [4.0]], [[5.0], [6.0]])]
    spec = ds.apply(data.series_windows(3, horizon=2)).element_spec
    assert spec[0].shape.as_list() == [3, 1] and spec[1].shape.as_list() == [2, 1]
    two = data.from_series(np.arange(10, dtype="float32").reshape(5, 2))
    x, y = next(iter(two.apply(data.series_windows(4))))
    assert x.numpy().tolist() == [[0, 1], [2, 3], [4, 5], [6, 7]] and y.numpy().tolist() == [[8, 9]]


def test_series_windows_errors_and_nan():
    ds = data.from_series([1.0, 2.0, 3.0, 4.0, 5.0])
    with pytest.raises(ValueError, match=r"longer than the series \(5 steps\). Received: input_length=4, horizon=2"):
        ds.apply(data.series_windows(4, horizon=2))
    with pytest.raises(ValueError, match=r"Received: input_length=0"):
        data.series_windows(0)
    with pytest.raises(ValueError, match=r"finite series"):
        ds.repeat().apply(data.series_windows(2))
    gappy = data.from_series([0.0, 1.0, np.nan, 3.0, 4.0, 5.0, 6.0], nan_policy="keep")
    with pytest.raises(ValueError, match=r"NaN at 1 time steps \(first at index 2\)"):
        gappy.apply(data.series_windows(2))
    kept = _lists(gappy.apply(data.series_windows(2, nan_policy="drop")))
    assert [(np.ravel(x).tolist(), np.ravel(y).tolist()) for x, y in kept] == [([3.0, 4.0], [5.0]), ([4.0, 5.0], [6.0])]
