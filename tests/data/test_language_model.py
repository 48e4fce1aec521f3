"""data.language_model: LM prefixes (seed 002's table) and windows, single and stateful."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import SEED_002, as_lists, ragged_dataset

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
    assert as_lists(ds.apply(data.lm_windows(3))) == [([0, 1, 2], [1, 2, 3]), ([3, 4, 5], [4, 5, 6]), ([6, 7, 8], [7, 8, 9])]
    assert as_lists(ds.apply(data.lm_windows(4, stride=3))) == [([0, 1, 2, 3], [1, 2, 3, 4]), ([3, 4, 5, 6], [4, 5, 6, 7])]
    docs = ragged_dataset([[5, 6], [7, 8]])
    assert as_lists(docs.apply(data.lm_windows(2, separator_id=3))) == [([5, 6], [6, 3]), ([3, 7], [7, 8])]


def test_lm_windows_stateful_batches_continue_row_by_row():
    docs = ragged_dataset([list(range(0, 13)), list(range(13, 26))])
    batches = as_lists(docs.apply(data.lm_windows(3, batch_size=2)))
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
