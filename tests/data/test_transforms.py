"""data.transforms: tokenize, the teacher-forcing shift, shuffle, cache and prefetch."""

import pytest
import tensorflow as tf

from seqrecipes import data
from seqrecipes.data.transforms import dense_elements

from data_helpers import as_lists, ragged_dataset


def test_tokenize_structures():
    chars = data.CharTokenizer(vocabulary=list("abc"))
    pairs = tf.data.Dataset.from_tensor_slices((["ab", "ca"], ["ca", "b"]))
    assert as_lists(pairs.apply(data.tokenize((chars, None)))) == [([4, 5], b"ca"), ([6, 4], b"b")]
    assert as_lists(pairs.apply(data.tokenize(chars))) == [([4, 5], [6, 4]), ([6, 4], [5])]
    labelled = tf.data.Dataset.from_tensor_slices({"text": ["cab"], "label": [7]})
    assert as_lists(labelled.apply(data.tokenize(chars))) == [{"text": [6, 4, 5], "label": 7}]
    with pytest.raises(ValueError, match=r"structure matching the dataset element.*Received: tokenizer="):
        pairs.apply(data.tokenize((chars, chars, chars)))


def test_teacher_forcing_shift():
    pairs = tf.data.Dataset.from_tensors((tf.constant([7, 8, 9]), tf.constant([5, 6])))
    assert as_lists(pairs.apply(data.teacher_forcing_shift())) == [(([7, 8, 9], [2, 5, 6]), [5, 6, 3])]
    targets = tf.data.Dataset.from_tensors(tf.constant([5, 6, 3]))
    assert as_lists(targets.apply(data.teacher_forcing_shift(end_id=None))) == [([2, 5, 6], [5, 6, 3])]
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


def test_dense_elements_makes_ragged_slices_dense_and_leaves_other_datasets_alone():
    rows = ragged_dataset([[1, 2], [3]])
    assert isinstance(rows.element_spec, tf.RaggedTensorSpec)
    dense = dense_elements(tf.data.Dataset.zip((rows, tf.data.Dataset.range(2))))
    assert dense.element_spec == (tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.int64))
    assert as_lists(dense) == [([1, 2], 0), ([3], 1)]
    plain = tf.data.Dataset.range(2)
    assert dense_elements(plain) is plain
