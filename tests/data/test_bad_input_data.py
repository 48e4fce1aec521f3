"""Bad input to the data sources, pipeline steps and batch builders: each case gets a clear error or the right answer.

The cases of issue 12 (non-finite series values, an empty LM window stream, ids outside the vocabulary in
the batch steps, ``load_tfds`` without data, a bad CSV delimiter or CoNLL column) and those of a
crafted-input pass over every public source and step of seqrecipes.data (missing file, folder, device,
empty file, non-UTF-8 bytes, zero or negative or huge sizes, wrong dtypes, ragged lists, a bare string
where a list belongs). ``load_tfds`` cases use a fresh empty ``data_dir`` with ``download=False``: no
network.
"""

import functools
import os
import tempfile
import warnings

import numpy as np
import pytest
import tensorflow as tf

from bad_input import answers, expect_clear, params, raises
from seqrecipes import data

INF, NAN = float("inf"), float("nan")
BAD_ID = tf.errors.InvalidArgumentError


@functools.cache
def _folder():
    return tempfile.mkdtemp(prefix="bad_input_data_")


def _file(name, content):
    """A file under the shared temp folder with ``content`` (str: UTF-8 text; bytes: as is)."""
    path = os.path.join(_folder(), name)
    with open(path, "wb") as file:
        file.write(content.encode("utf-8") if isinstance(content, str) else content)
    return path


@functools.cache
def _chars():
    return data.CharTokenizer(vocabulary=list("abc"))  # ids 4, 5, 6; size 7


@functools.cache
def _tags():
    return data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)  # 2 names; size 6


@functools.cache
def _words():
    return data.WordTokenizer(vocabulary=["EU", "rejects"], split_punctuation=False)


class _ShiftedTokenizer(data.CharTokenizer):
    """A tokenizer whose ids are moved by ``shift``: ids outside its vocabulary reach the batch step."""

    def __init__(self, shift, **kwargs):
        super().__init__(vocabulary=list("abc"), **kwargs)
        self.shift = shift

    def tokenize_ragged(self, inputs):
        return super().tokenize_ragged(inputs) + self.shift


def _all(dataset):
    return list(dataset.as_numpy_iterator())


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the NaN-policy warnings; the value is what is checked
        return call()


def _steps(values, **kwargs):
    return data.from_series(np.asarray(values, dtype=np.float32), **kwargs)


def _pairs(*pairs):
    return tf.data.Dataset.from_tensor_slices(([a for a, _ in pairs], [b for _, b in pairs]))


def _sentence(tokens, tags):
    return tf.data.Dataset.from_tensors((tokens, tags))


def _strict_float32(values):
    """``clean_series`` with NumPy warnings as errors: 1e39 must be caught, not warned about."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        return data.clean_series(values)


def _series_windows_1e39():
    steps = tf.data.Dataset.from_tensor_slices(np.array([[1.0], [1e39], [3.0], [4.0]]))  # float64
    return steps.apply(data.series_windows(1))


def _finite_windows(windows):
    return len(windows) == 2 and all(np.isfinite(x).all() and np.isfinite(y).all() for x, y in windows)


def _tfds(**kwargs):
    empty = tempfile.mkdtemp(prefix="tfds_empty_")
    return data.load_tfds(**{"name": "imdb_reviews", "data_dir": empty, "download": False, **kwargs})


def _delimited(text, name="t.csv", **kwargs):
    return data.delimited_file(_file(name, text), "a", "b", **kwargs)


def _conll(text, name="c.conll", **kwargs):
    return data.conll_file(_file(name, text), **kwargs)


CASES = [
    # Section 3: non-finite series values are treated as NaN is.
    raises("from_series-inf", lambda: data.from_series([1, INF, 3]), ValueError, "`values`", "at 1 of 3", "index 1"),
    raises("from_series-minus-inf", lambda: data.from_series([1, 2, -INF]), ValueError, "`values`", "index 2"),
    raises("from_series-1e39-overflows-float32", lambda: _strict_float32([1, 1e39, 3]), ValueError, "`values`", "index 1"),
    raises("from_series-inf-in-one-feature", lambda: data.from_series([[1, 2], [3, INF]]), ValueError, "`values`", "index 1"),
    raises("from_series-only-nan", lambda: data.from_series([NAN, NAN]), ValueError, "`values`", "nan_policy"),
    raises("clean_series-drop-only-inf", lambda: _quiet(lambda: data.clean_series([INF, -INF], "drop")), ValueError, "`values`", "only NaN or inf"),
    answers(
        "clean_series-interpolate-fills-inf",
        lambda: _quiet(lambda: data.clean_series([1.0, INF, 3.0, 1e39, 5.0], "interpolate")[:, 0].tolist()),
        lambda v: v == [1.0, 2.0, 3.0, 4.0, 5.0],
    ),
    answers(
        "clean_series-drop-drops-inf",
        lambda: _quiet(lambda: data.clean_series([1.0, -INF, 3.0], "drop")[:, 0].tolist()),
        lambda v: v == [1.0, 3.0],
    ),
    answers("clean_series-keep-keeps-inf", lambda: data.clean_series([1.0, INF], "keep")[:, 0].tolist(), lambda v: v == [1.0, INF]),
    raises(
        "series_windows-inf-raises",
        lambda: _steps([1, INF, 3, 4, 5], nan_policy="keep").apply(data.series_windows(2)),
        ValueError,
        "nan_policy",
        "index 1",
    ),
    raises("series_windows-float64-1e39-raises", _series_windows_1e39, ValueError, "nan_policy", "index 1"),
    answers(
        "series_windows-drop-skips-inf-windows",
        lambda: _all(_steps([1, INF, 3, 4, 5, 6], nan_policy="keep").apply(data.series_windows(2, nan_policy="drop"))),
        _finite_windows,
    ),
    raises(
        "series_windows-drop-leaves-no-window",
        lambda: _steps([1, NAN, 3, INF, 5], nan_policy="keep").apply(data.series_windows(2, nan_policy="drop")),
        ValueError,
        "nan_policy='drop'",
        "input_length",
    ),
    # Section 4 and crafted input: series.
    raises("from_series-bare-string", lambda: data.from_series("123"), TypeError, "`values`", "string"),
    raises("from_series-strings", lambda: data.from_series(["1", "2"]), TypeError, "`values`", "real numbers"),
    raises("from_series-ragged-list", lambda: data.from_series([[1, 2], [3]]), TypeError, "`values`"),
    raises("from_series-complex", lambda: data.from_series([1j, 2]), TypeError, "`values`"),
    raises("from_series-zero-steps", lambda: data.from_series(np.zeros([0])), ValueError, "`values`", "empty"),
    raises("from_series-zero-features", lambda: data.from_series(np.zeros([3, 0])), ValueError, "`values`", "no feature"),
    raises("from_series-3-d", lambda: data.from_series(np.zeros([2, 2, 2])), ValueError, "`values`", "shape=(2, 2, 2)"),
    raises("from_series-scalar", lambda: data.from_series(3.0), ValueError, "`values`", "shape=()"),
    raises("from_series-name-not-string", lambda: data.from_series([1.0], name=3), TypeError, "name"),
    raises("from_series-bad-policy", lambda: data.from_series([1.0], nan_policy="ignore"), ValueError, "nan_policy"),
    raises("series_windows-zero-step-series", lambda: tf.data.Dataset.from_tensor_slices(np.zeros([0, 1], np.float32)).apply(data.series_windows(1)), ValueError, "input_length", "(0 steps)"),
    raises("series_windows-huge-input-length", lambda: _steps([1, 2, 3]).apply(data.series_windows(10**12)), ValueError, "input_length"),
    raises("series_windows-zero-horizon", lambda: data.series_windows(3, horizon=0), ValueError, "horizon"),
    raises("series_windows-negative-stride", lambda: data.series_windows(3, stride=-1), ValueError, "stride"),
    raises("series_windows-interpolate-policy", lambda: data.series_windows(3, nan_policy="interpolate"), ValueError, "nan_policy"),
    raises("series_windows-string-steps", lambda: tf.data.Dataset.from_tensor_slices(["1", "2", "3"]).apply(data.series_windows(1)), ValueError, "element_spec"),
    raises("series_windows-tuple-steps", lambda: tf.data.Dataset.from_tensor_slices(([1.0, 2.0], [1.0, 2.0])).apply(data.series_windows(1)), ValueError, "element_spec"),
    raises("series_windows-infinite", lambda: _steps([1, 2, 3]).repeat().apply(data.series_windows(1)), ValueError, "infinite"),
    raises("statsmodels-unknown-name", lambda: data.statsmodels_series("nile2"), ValueError, "name"),
    raises("statsmodels-name-list", lambda: data.statsmodels_series(["nile"]), ValueError, "name"),
    # Section 3: an LM window stream shorter than one window is an error, not an empty dataset.
    raises("lm_windows-stream-shorter-than-a-window", lambda: tf.data.Dataset.from_tensors(tf.range(3)).apply(data.lm_windows(5)), ValueError, "window_length", "3 tokens"),
    raises("lm_windows-no-sequence", lambda: tf.data.Dataset.from_tensor_slices(tf.zeros([0, 3], tf.int32)).apply(data.lm_windows(2)), ValueError, "window_length", "0 tokens"),
    raises("lm_windows-empty-sequences", lambda: tf.data.Dataset.from_tensors(tf.zeros([0], tf.int32)).repeat(4).apply(data.lm_windows(1)), ValueError, "window_length"),
    raises("lm_windows-huge-window", lambda: tf.data.Dataset.from_tensors(tf.range(3)).apply(data.lm_windows(10**9)), ValueError, "window_length"),
    answers("lm_windows-exactly-one-window", lambda: len(_all(tf.data.Dataset.from_tensors(tf.range(4)).apply(data.lm_windows(3)))), lambda n: n == 1),
    raises("lm_windows-stateful-infinite", lambda: tf.data.Dataset.from_tensors(tf.range(9)).repeat().apply(data.lm_windows(2, batch_size=2)), ValueError, "batch_size", "infinite"),
    raises("lm_windows-float-tokens", lambda: tf.data.Dataset.from_tensors([1.0, 2.0, 3.0]).apply(data.lm_windows(1)), ValueError, "element_spec"),
    raises("lm_windows-string-tokens", lambda: tf.data.Dataset.from_tensors(["a", "b"]).apply(data.lm_windows(1)), ValueError, "element_spec"),
    raises("lm_windows-separator-string", lambda: data.lm_windows(1, separator_id="x"), ValueError, "separator_id"),
    raises("lm_windows-separator-negative", lambda: data.lm_windows(1, separator_id=-1), ValueError, "separator_id"),
    raises("lm_windows-separator-past-vocabulary", lambda: data.lm_windows(1, separator_id=9, vocabulary_size=9), ValueError, "separator_id"),
    raises("lm_windows-vocabulary-size-zero", lambda: data.lm_windows(1, vocabulary_size=0), ValueError, "vocabulary_size"),
    raises("lm_windows-negative-id", lambda: _all(tf.data.Dataset.from_tensors([1, -2, 3]).apply(data.lm_windows(1))), BAD_ID, "`tokens`", "[-2]"),
    raises("lm_windows-id-past-vocabulary", lambda: _all(tf.data.Dataset.from_tensors([1, 7, 3]).apply(data.lm_windows(1, vocabulary_size=5))), BAD_ID, "`tokens`", "[0, 5)", "[7]"),
    raises("lm_windows-stateful-negative-id", lambda: tf.data.Dataset.from_tensors(tf.range(-1, 12)).apply(data.lm_windows(2, batch_size=2)), BAD_ID, "`tokens`", "[-1]"),
    raises("lm_prefixes-every-sequence-too-short", lambda: tf.data.Dataset.from_tensors([1, 2]).repeat(3).apply(data.lm_prefixes(2)), ValueError, "min_length"),
    raises("lm_prefixes-float-tokens", lambda: tf.data.Dataset.from_tensors([1.0, 2.0]).apply(data.lm_prefixes()), ValueError, "element_spec"),
    raises("lm_prefixes-id-past-vocabulary", lambda: _all(tf.data.Dataset.from_tensors([1, 2, 9]).apply(data.lm_prefixes(vocabulary_size=9))), BAD_ID, "`tokens`", "[9]"),
    # Section 3: ids outside the vocabulary in the batch steps.
    raises("tagging-tag-index-past-the-names", lambda: _all(_sentence(["EU", "rejects"], [9, 0]).apply(data.tagging_batches(_words(), _tags(), 2))), BAD_ID, "`tags`", "[9]"),
    raises("tagging-negative-tag-index", lambda: _all(_sentence(["EU", "rejects"], [1, -1]).apply(data.tagging_batches(_words(), _tags(), 2))), BAD_ID, "`tags`", "[-1]"),
    raises("tag_ids-eager-tag-index-past-the-names", lambda: data.tag_ids(_tags(), [2]), BAD_ID, "`tags`", "[2]"),
    raises("seq2seq-negative-source-id", lambda: _all(_pairs(("ab", "c")).apply(data.seq2seq_batches(_ShiftedTokenizer(-5), _chars(), 2))), BAD_ID, "`source`", "[-1]"),
    raises("seq2seq-target-id-past-vocabulary", lambda: _all(_pairs(("ab", "c")).apply(data.seq2seq_batches(_chars(), _ShiftedTokenizer(100), 2))), BAD_ID, "`target`", "[106]"),
    raises(
        "caption-target-id-past-vocabulary",
        lambda: _all(tf.data.Dataset.from_tensors((tf.zeros([4, 4, 3]), "ab")).apply(data.caption_batches(_ShiftedTokenizer(3), 2))),
        BAD_ID,
        "`target`",
        "[7]",
    ),
    raises("window_batches-id-past-vocabulary", lambda: _all(tf.data.Dataset.from_tensors("a").apply(data.window_batches(_ShiftedTokenizer(10), 2, 2))), BAD_ID, "`tokens`", "[14]"),
    answers(
        "tagging-ids-inside-the-vocabularies",
        lambda: [a.tolist() for a in _all(_sentence(["EU", "x"], [1, 0]).apply(data.tagging_batches(_words(), _tags(), 2)))[0]],
        lambda v: v == [[[4, 1]], [[5, 4]]],
    ),
    # Crafted input: batch steps.
    raises("tagging-fewer-tags-than-tokens", lambda: _all(_sentence(["EU", "rejects", "it"], ["O", "O"]).apply(data.tagging_batches(_words(), _tags(), 2))), BAD_ID, "`tags`", "one tag per token"),
    raises("tagging-float-tags", lambda: _sentence(["EU"], [1.0]).apply(data.tagging_batches(_words(), _tags(), 2)), ValueError, "element_spec"),
    raises("tagging-bare-string-sentence", lambda: _pairs(("EU rejects", "O O")).apply(data.tagging_batches(_words(), _tags(), 2)), ValueError, "element_spec"),
    raises("tag_ids-float-tags", lambda: data.tag_ids(_tags(), [1.5]), TypeError, "tags"),
    raises("tag_ids-bare-string", lambda: data.tag_ids(_tags(), "O"), TypeError, "tags"),
    raises("seq2seq-single-strings", lambda: tf.data.Dataset.from_tensor_slices(["ab"]).apply(data.seq2seq_batches(_chars(), _chars(), 2)), ValueError, "element_spec"),
    raises("seq2seq-tokenizer-is-a-string", lambda: data.seq2seq_batches("chars", _chars(), 2), TypeError, "source_tokenizer"),
    raises("seq2seq-bucket-not-bool", lambda: data.seq2seq_batches(_chars(), _chars(), 2, bucket="no"), ValueError, "bucket"),
    raises("seq2seq-zero-batch", lambda: data.seq2seq_batches(_chars(), _chars(), 0), ValueError, "batch_size"),
    raises("seq2seq-negative-max-target-length", lambda: data.seq2seq_batches(_chars(), _chars(), 2, max_target_length=-1), ValueError, "max_target_length"),
    raises("seq2seq-tokenizer-without-vocabulary", lambda: _pairs(("ab", "c")).apply(data.seq2seq_batches(data.CharTokenizer(), _chars(), 2)), ValueError, "vocabulary"),
    raises("caption-without-image", lambda: tf.data.Dataset.from_tensor_slices(["a b"]).apply(data.caption_batches(_chars(), 2)), ValueError, "element_spec"),
    raises("caption-tokenizer-none", lambda: data.caption_batches(None, 2), TypeError, "target_tokenizer"),
    raises("window_batches-batched-strings", lambda: tf.data.Dataset.from_tensors(["a", "b"]).apply(data.window_batches(_chars(), 2, 2)), ValueError, "element_spec"),
    raises("window_batches-zero-context", lambda: data.window_batches(_chars(), 0, 2), ValueError, "context_size"),
    # Crafted input: pipeline steps.
    raises("tokenize-no-string-component", lambda: tf.data.Dataset.range(3).apply(data.tokenize(_chars())), ValueError, "element_spec"),
    raises("tokenize-structure-mismatch", lambda: _pairs(("a", "b")).apply(data.tokenize((_chars(),))), ValueError, "tokenizer"),
    raises("teacher_forcing-negative-start", lambda: data.teacher_forcing_shift(start_id=-1), ValueError, "start_id"),
    raises("teacher_forcing-string-end", lambda: data.teacher_forcing_shift(end_id="3"), ValueError, "end_id"),
    raises("teacher_forcing-string-targets", lambda: tf.data.Dataset.from_tensors(["a", "b"]).apply(data.teacher_forcing_shift()), ValueError, "target.dtype"),
    raises("shuffle-zero-buffer", lambda: data.shuffle(0), ValueError, "buffer_size"),
    raises("shuffle-string-seed", lambda: data.shuffle(seed="1"), ValueError, "seed"),
    raises("shuffle-reshuffle-not-bool", lambda: data.shuffle(reshuffle_each_iteration="no"), ValueError, "reshuffle_each_iteration"),
    raises("prefetch-negative", lambda: data.prefetch(-5), ValueError, "buffer_size"),
    raises("cache-none", lambda: data.cache(None), TypeError, "filename"),
    raises("truncate_or_pad-zero", lambda: tf.data.Dataset.from_tensors([1, 2]).apply(data.truncate_or_pad(0)), ValueError, "length"),
    raises("truncate_or_pad-bad-padding", lambda: data.truncate_or_pad(2, padding="middle"), ValueError, "padding"),
    raises("batch_with_padding-drop-remainder-not-bool", lambda: data.batch_with_padding(2, drop_remainder="no"), ValueError, "drop_remainder"),
    raises("bucket-boundaries-string", lambda: data.bucket_by_length(2, boundaries="12"), ValueError, "boundaries"),
    raises("bucket-boundaries-decreasing", lambda: data.bucket_by_length(2, boundaries=[5, 3]), ValueError, "boundaries"),
    raises("bucket-empty-dataset", lambda: tf.data.Dataset.from_tensors([1]).take(0).apply(data.bucket_by_length(2)), ValueError, "dataset", "empty"),
    raises("choose_boundaries-one-bucket", lambda: data.choose_bucket_boundaries([1, 2], num_buckets=1), ValueError, "num_buckets"),
    raises("choose_boundaries-no-lengths", lambda: data.choose_bucket_boundaries([]), ValueError, "lengths"),
    # Crafted input: the user's files.
    raises("text_lines-missing-file", lambda: data.text_lines(os.path.join(_folder(), "nothing.txt")), FileNotFoundError, "path", "nothing.txt"),
    raises("text_lines-folder", lambda: data.text_lines(_folder()), IsADirectoryError, "path", "folder"),
    raises("text_lines-device", lambda: data.text_lines("/dev/null"), ValueError, "path", "/dev/null"),
    raises("text_lines-file-as-a-folder", lambda: data.text_lines(os.path.join(_file("plain.txt", "x\n"), "inner.txt")), FileNotFoundError, "path"),
    raises("text_lines-empty-file", lambda: data.text_lines(_file("empty.txt", "")), ValueError, "path", "empty"),
    raises("text_lines-whitespace-only", lambda: data.text_lines(_file("blank.txt", " \n\t\n")), ValueError, "path", "empty"),
    raises("text_lines-none", lambda: data.text_lines(None), TypeError, "path"),
    raises("text_lines-int", lambda: data.text_lines(3), TypeError, "path"),
    raises("text_lines-no-path", lambda: data.text_lines([]), ValueError, "path"),
    raises("text_lines-skip-empty-not-bool", lambda: data.text_lines(_file("one.txt", "a\n"), skip_empty="no"), ValueError, "skip_empty"),
    answers("text_lines-bytes-path", lambda: _all(data.text_lines(_file("bytes.txt", "hi\n").encode())), lambda v: v == [b"hi"]),
    answers("text_lines-non-utf8-passes-to-tokenizers", lambda: _all(data.text_lines(_file("latin.txt", b"\xff abc\n"))), lambda v: v == [b"\xff abc"]),
    answers(
        "text_lines-non-utf8-tokenized-as-replacement",
        lambda: _all(data.text_lines(_file("latin2.txt", b"a\xffb\n")).apply(data.tokenize(_chars())))[0].tolist(),
        lambda v: v == [4, 1, 5],
    ),
    raises("text_document-folder", lambda: data.text_document(_folder()), IsADirectoryError, "path"),
    raises("text_document-empty", lambda: data.text_document(_file("empty2.txt", "")), ValueError, "path"),
    raises("delimited-two-char-delimiter", lambda: _delimited("a;;b\n1;;2\n", delimiter=";;"), ValueError, "delimiter", "';;'"),
    raises("delimited-empty-delimiter", lambda: _delimited("a,b\n1,2\n", delimiter=""), ValueError, "delimiter"),
    raises("delimited-int-delimiter", lambda: _delimited("a,b\n1,2\n", delimiter=1), ValueError, "delimiter"),
    raises("delimited-newline-delimiter", lambda: _delimited("a,b\n1,2\n", delimiter="\n"), ValueError, "delimiter"),
    raises("delimited-quote-delimiter", lambda: _delimited("a,b\n1,2\n", delimiter='"'), ValueError, "delimiter"),
    raises("delimited-unknown-extension", lambda: _delimited("a,b\n1,2\n", name="t.txt"), ValueError, "delimiter"),
    raises("delimited-column-index", lambda: data.delimited_file(_file("i.csv", "a,b\n1,2\n"), 0, 1), TypeError, "inputs"),
    raises("delimited-missing-column", lambda: data.delimited_file(_file("m.csv", "a,b\n1,2\n"), "a", "label"), ValueError, "targets", "header"),
    raises("delimited-column-twice", lambda: _delimited("a,a,b\n1,3,2\n", name="d.csv"), ValueError, "header", "'a'"),
    raises("delimited-header-only", lambda: _delimited("a,b\n", name="h.csv"), ValueError, "header"),
    raises("delimited-short-row", lambda: _delimited("a,b\n1\n", name="s.csv"), ValueError, "line", ":2"),
    raises("delimited-nan-target", lambda: _delimited("a,b\nx,nan\n", name="n.csv", targets_dtype="float32"), ValueError, "b=", ":2", "finite"),
    raises("delimited-inf-target", lambda: _delimited("a,b\nx,-inf\n", name="f.csv", targets_dtype="float32"), ValueError, "b=", ":2"),
    raises("delimited-1e39-target", lambda: _delimited("a,b\nx,1e39\n", name="o.csv", targets_dtype="float32"), ValueError, "b=", ":2"),
    raises("delimited-int-beyond-int64", lambda: _delimited("a,b\nx,99999999999999999999\n", name="g.csv", targets_dtype="int64"), ValueError, "b=", ":2", "int64"),
    raises("delimited-bad-int-target", lambda: _delimited("a,b\nx,one\n", name="k.csv", targets_dtype="int64"), ValueError, "b=", ":2"),
    raises("delimited-bad-dtype", lambda: _delimited("a,b\nx,1\n", name="y.csv", targets_dtype="int32"), ValueError, "targets_dtype"),
    raises("delimited-folder", lambda: data.delimited_file(_folder(), "a", "b"), IsADirectoryError, "path"),
    answers("delimited-non-utf8-replaced", lambda: _all(_delimited(b"a,b\n\xff,1\n", name="u.csv")), lambda v: v == [("\ufffd".encode(), b"1")]),
    raises("conll-token-column-string", lambda: _conll("EU B-ORG\n", token_column="a"), ValueError, "token_column"),
    raises("conll-tag-column-float", lambda: _conll("EU B-ORG\n", tag_column=1.5), ValueError, "tag_column"),
    raises("conll-tag-column-bool", lambda: _conll("EU B-ORG\n", tag_column=True), ValueError, "tag_column"),
    raises("conll-same-column", lambda: _conll("EU B-ORG\n", token_column=1, tag_column=1), ValueError, "tag_column", "token_column"),
    raises("conll-same-column-on-a-line", lambda: _conll("EU NNP B-ORG\nx O\n", token_column=0, tag_column=-2), ValueError, "tag_column", ":2"),
    raises("conll-empty-delimiter", lambda: _conll("EU B-ORG\n", delimiter=""), ValueError, "delimiter"),
    raises("conll-int-delimiter", lambda: _conll("EU B-ORG\n", delimiter=3), ValueError, "delimiter"),
    raises("conll-skip-docstart-not-bool", lambda: _conll("EU B-ORG\n", skip_docstart="no"), ValueError, "skip_docstart"),
    raises("conll-only-docstart", lambda: _conll("-DOCSTART- O\n\n"), ValueError, "path", "no sentences"),
    raises("conll-one-column", lambda: _conll("EU\n"), ValueError, "tag_column", ":1"),
    raises("conll-huge-column", lambda: _conll("EU B\n", token_column=10**6), ValueError, "token_column"),
    answers("conll-non-utf8-replaced", lambda: _all(_conll(b"\xffEU B-ORG\n", name="u.conll"))[0][0].tolist(), lambda v: v == ["\ufffdEU".encode()]),
    # Section 4: TensorFlow Datasets, offline.
    raises("load_tfds-no-data-without-download", lambda: _tfds(), FileNotFoundError, "imdb_reviews", "download", "data_dir"),
    raises("load_tfds-config-no-data-without-download", lambda: _tfds(name="glue/sst2"), FileNotFoundError, "glue/sst2", "download"),
    raises("load_tfds-unknown-version", lambda: _tfds(name="imdb_reviews:99.0.0"), ValueError, "name", "1.0.0"),
    raises("load_tfds-unknown-name", lambda: _tfds(name="wmt14"), ValueError, "name", "imdb_reviews"),
    raises("load_tfds-name-not-string", lambda: _tfds(name=3), TypeError, "name"),
    raises("load_tfds-split-list", lambda: _tfds(split=["train", "test"]), TypeError, "split"),
    raises("load_tfds-data-dir-is-a-file", lambda: _tfds(data_dir=_file("not_a_dir", "x")), NotADirectoryError, "data_dir"),
    raises("load_tfds-data-dir-int", lambda: _tfds(data_dir=3), TypeError, "data_dir"),
    raises("load_tfds-download-not-bool", lambda: _tfds(download="no"), ValueError, "download"),
    # Crafted input: synthetic and shipped sources.
    raises("adding_problem-huge", lambda: data.adding_problem(num_examples=10**9, length=50), ValueError, "num_examples", "length"),
    raises("adding_problem-length-1", lambda: data.adding_problem(10, length=1), ValueError, "length"),
    raises("adding_problem-negative-seed", lambda: data.adding_problem(10, seed=-1), ValueError, "seed"),
    raises("adding_problem-string-seed", lambda: data.adding_problem(10, seed="0"), ValueError, "seed"),
    raises("copy_memory-zero-delay", lambda: data.copy_memory(10, delay=0), ValueError, "delay"),
    raises("copy_memory-huge", lambda: data.copy_memory(10**6, delay=10**6), ValueError, "num_examples"),
    raises("sequence_reversal-empty-alphabet", lambda: data.sequence_reversal(10, alphabet=""), ValueError, "alphabet"),
    raises("sequence_reversal-int-alphabet", lambda: data.sequence_reversal(10, alphabet=123), ValueError, "alphabet"),
    raises("sequence_reversal-max-below-min", lambda: data.sequence_reversal(10, min_length=5, max_length=3), ValueError, "max_length"),
    raises("sequence_reversal-max-length-string", lambda: data.sequence_reversal(10, max_length="9"), ValueError, "max_length"),
    raises("sequence_reversal-huge", lambda: data.sequence_reversal(10**6, max_length=10**6), ValueError, "max_length"),
    raises("digit_addition-too-many-digits", lambda: data.digit_addition(10, max_digits=19), ValueError, "max_digits"),
    raises("digit_addition-zero-examples", lambda: data.digit_addition(0), ValueError, "num_examples"),
    raises("noisy_series-nan-noise", lambda: data.noisy_periodic_series(noise=NAN), ValueError, "noise"),
    raises("noisy_series-inf-trend", lambda: data.noisy_periodic_series(trend=INF), ValueError, "trend"),
    raises("noisy_series-bare-string-periods", lambda: data.noisy_periodic_series(periods="12"), ValueError, "periods"),
    raises("noisy_series-nan-amplitude", lambda: data.noisy_periodic_series(periods=(12,), amplitudes=[NAN]), ValueError, "amplitudes"),
    raises("noisy_series-zero-length", lambda: data.noisy_periodic_series(length=0), ValueError, "length"),
    raises("date_translation-bad-start-date", lambda: data.date_translation(10, start_date="yesterday"), ValueError, "start_date"),
    raises("date_translation-int-end-date", lambda: data.date_translation(10, end_date=2049), TypeError, "end_date"),
    raises("date_translation-end-before-start", lambda: data.date_translation(10, start_date="2000-01-02", end_date="2000-01-01"), ValueError, "end_date"),
    raises("date_translation-filler-one-number-tuple", lambda: data.date_translation(10, filler_words=(3,)), ValueError, "filler_words"),
    raises("date_translation-huge-filler", lambda: data.date_translation(10, filler_words=10**6), ValueError, "filler_words"),
    raises("date_translation-format-bare-string", lambda: data.date_translation(10, formats="en_long"), ValueError, "formats"),
    raises("date_translation-unknown-language", lambda: data.date_translation(10, languages=("fr",)), ValueError, "languages"),
    raises("date_translation-nan-test-fraction", lambda: data.date_translation(10, split="test", test_fraction=NAN), ValueError, "test_fraction"),
    raises("date_translation-bad-split", lambda: data.date_translation(10, split="dev"), ValueError, "split"),
    raises("date_translation-huge", lambda: data.date_translation(10**9), ValueError, "num_examples"),
    answers("date_translation-one-language-string", lambda: len(_all(data.date_translation(3, languages="ko"))), lambda n: n == 3),
    raises("format_date-bad-date", lambda: data.format_date("2009-13-45", "en_long"), ValueError, "date"),
    raises("is_test_date-bad-fraction", lambda: data.is_test_date("2009-07-05", test_fraction=2.0), ValueError, "test_fraction"),
    raises("digit_rows-bad-split", lambda: data.digit_rows(split="dev"), ValueError, "split"),
    raises("digit_rows-bad-test-fraction", lambda: data.digit_rows(test_fraction=1.5), ValueError, "test_fraction"),
    raises("digit_strips-string-max-digits", lambda: data.digit_strips(10, max_digits="4"), ValueError, "max_digits"),
    raises("digit_strips-huge", lambda: data.digit_strips(10**6, max_digits=10**3), ValueError, "max_digits"),
    raises("digit_strips-bad-language", lambda: data.digit_strips(10, language="fr"), ValueError, "language"),
    raises("shapes-small-image", lambda: data.shapes_captioning(10, image_size=8), ValueError, "image_size"),
    raises("shapes-bool-max-shapes", lambda: data.shapes_captioning(10, max_shapes=True), ValueError, "max_shapes"),
    raises("shapes-huge", lambda: data.shapes_captioning(10**4, image_size=10**4), ValueError, "image_size"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_bad_input(case):
    expect_clear(case)

