"""data.batches: the batch builders of the recipes, exact batches from raw examples."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data

from data_helpers import as_lists

CHARS = list("abc")
PAIRS = (["ab", "c", "abcab"], ["ba", "cab", "b"])


def _sentences_dataset(sentences):
    return tf.data.Dataset.from_generator(
        lambda: iter(sentences),
        output_signature=(tf.TensorSpec([None], tf.string), tf.TensorSpec([None], tf.string)),
    )


def _seq2seq(batches):
    return [(inputs["source"], inputs["target_in"], target) for inputs, target in as_lists(batches)]


# ---------------------------------------------------------------------------------------------
# seq2seq_batches


def test_seq2seq_batches_shift_cut_and_pad():
    chars = data.CharTokenizer(vocabulary=CHARS)
    pairs = tf.data.Dataset.from_tensor_slices(PAIRS)
    # [START]=2, [END]=3, a=4, b=5, c=6: target_in is [START] + target, the target ends with [END].
    assert _seq2seq(pairs.apply(data.seq2seq_batches(chars, chars, 2))) == [
        ([[4, 5], [6, 0]], [[2, 5, 4, 0], [2, 6, 4, 5]], [[5, 4, 3, 0], [6, 4, 5, 3]]),
        ([[4, 5, 6, 4, 5]], [[2, 5]], [[5, 3]]),
    ]
    cut = pairs.apply(data.seq2seq_batches(chars, chars, 2, max_source_length=2, max_target_length=2))
    assert _seq2seq(cut) == [([[4, 5], [6, 0]], [[2, 5], [2, 6]], [[5, 3], [6, 3]]), ([[4, 5]], [[2, 5]], [[5, 3]])]
    inputs, target = cut.element_spec
    assert inputs["source"].dtype == inputs["target_in"].dtype == target.dtype == tf.int32


def test_seq2seq_batches_bucket_by_source_length_and_keep_every_example():
    chars = data.CharTokenizer(vocabulary=CHARS)
    pairs = tf.data.Dataset.from_tensor_slices(PAIRS)
    bucketed = _seq2seq(pairs.apply(data.seq2seq_batches(chars, chars, 2, bucket=True)))
    assert sorted(bucketed) == sorted(
        [([[6]], [[2, 6, 4, 5]], [[6, 4, 5, 3]]), ([[4, 5]], [[2, 5, 4]], [[5, 4, 3]]), ([[4, 5, 6, 4, 5]], [[2, 5]], [[5, 3]])]
    )


def test_batch_builders_drop_the_padding_of_fixed_length_tokenizers():
    ragged = data.CharTokenizer(vocabulary=CHARS)
    fixed = data.CharTokenizer(vocabulary=CHARS, sequence_length=4)
    pairs = tf.data.Dataset.from_tensor_slices(PAIRS)
    expected = _seq2seq(pairs.apply(data.seq2seq_batches(ragged, ragged, 2)))
    # [END] follows the last real target id, never the padding; 5-character texts are cut to 4.
    assert _seq2seq(pairs.apply(data.seq2seq_batches(fixed, fixed, 2)))[0] == expected[0]
    assert _seq2seq(pairs.apply(data.seq2seq_batches(fixed, fixed, 2)))[1] == ([[4, 5, 6, 4]], [[2, 5]], [[5, 3]])
    texts = tf.data.Dataset.from_tensor_slices(["a b", ""])
    words = data.WordTokenizer(vocabulary=["a", "b"])
    padded_words = data.WordTokenizer(vocabulary=["a", "b"], sequence_length=5)
    assert as_lists(texts.apply(data.window_batches(padded_words, 2, 8))) == as_lists(texts.apply(data.window_batches(words, 2, 8)))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda t: data.seq2seq_batches(t, t, 0), r"`batch_size` must be a positive integer. Received: batch_size=0"),
        (lambda t: data.seq2seq_batches(t, t, 2, max_source_length=0), r"Received: max_source_length=0"),
        (lambda t: data.seq2seq_batches(t, t, 2, max_target_length=1.5), r"Received: max_target_length=1.5"),
        (lambda t: data.tagging_batches(t, t, 2, max_length=0), r"Received: max_length=0"),
        (lambda t: data.caption_batches(t, 2, max_output_length=-1), r"Received: max_output_length=-1"),
        (lambda t: data.window_batches(t, 0, 2), r"`context_size` must be a positive integer. Received: context_size=0"),
        (lambda t: data.window_batches(t, 2, True), r"Received: batch_size=True"),
    ],
    ids=["batch_size", "max_source_length", "max_target_length", "max_length", "max_output_length", "context_size", "bool"],
)
def test_bad_arguments_name_the_argument_and_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make(data.CharTokenizer(vocabulary=CHARS))


# ---------------------------------------------------------------------------------------------
# tag_ids and tagging_batches


def test_tag_ids_and_tagging_batches():
    words = data.WordTokenizer(vocabulary=["EU", "rejects", "U.S."], split_punctuation=False)
    tags = data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)
    np.testing.assert_array_equal(data.tag_ids(tags, tf.constant(["B-ORG", "O", "X"])).numpy(), [5, 4, 1])
    np.testing.assert_array_equal(data.tag_ids(tags, tf.constant([1, 0])).numpy(), [5, 4])  # TFDS class indices
    sentences = _sentences_dataset(
        [(["EU", "rejects", "U.S.", "x"], ["B-ORG", "O", "B-ORG", "O"]), (["EU"], ["B-ORG"])]
    )
    x, y = next(iter(sentences.apply(data.tagging_batches(words, tags, 2, max_length=3))))
    np.testing.assert_array_equal(x.numpy(), [[4, 5, 6], [4, 0, 0]])
    np.testing.assert_array_equal(y.numpy(), [[5, 4, 5], [5, 0, 0]])


def test_tagging_batches_take_each_tokens_first_id_and_unknown_for_none():
    tags = data.WordTokenizer(vocabulary=["O", "B-ORG"], split_punctuation=False)
    chars = data.CharTokenizer(vocabulary=list("EUr"), sequence_length=2)
    sentences = _sentences_dataset([(["EU", "rejects", "", "x"], ["B-ORG", "O", "O", "O"])])
    # "EU" -> "E" (4), "rejects" -> "r" (6), "" gives no id -> [UNK] (1), "x" -> [UNK].
    assert as_lists(sentences.apply(data.tagging_batches(chars, tags, 2))) == [([[4, 6, 1, 1]], [[5, 4, 4, 4]])]


# ---------------------------------------------------------------------------------------------
# caption_batches


def test_caption_batches_shift_cut_and_pad():
    words = data.WordTokenizer(vocabulary=["a", "red", "circle", "blue"])
    images = tf.reshape(tf.range(24, dtype=tf.float32), [2, 2, 2, 3])
    pairs = tf.data.Dataset.from_tensor_slices((images, ["a red circle", "a blue red circle"]))
    [(inputs, target)] = as_lists(pairs.apply(data.caption_batches(words, 2)))
    assert inputs["image"] == images.numpy().tolist()
    assert inputs["target_in"] == [[2, 4, 5, 6, 0], [2, 4, 7, 5, 6]]
    assert target == [[4, 5, 6, 3, 0], [4, 7, 5, 6, 3]]
    [(inputs, target)] = as_lists(pairs.apply(data.caption_batches(words, 2, max_output_length=4)))
    assert inputs["target_in"] == [[2, 4, 5, 6], [2, 4, 7, 5]] and target == [[4, 5, 6, 3], [4, 7, 5, 3]]


def test_caption_batches_bad_batch_size():
    with pytest.raises(ValueError, match=r"batch_size=0"):
        data.caption_batches(data.WordTokenizer(vocabulary=["a"]), 0)


# ---------------------------------------------------------------------------------------------
# window_batches


def test_window_batches_follow_the_paper():
    tokenizer = data.WordTokenizer(vocabulary=["a", "b", "c"])
    pairs = tf.data.Dataset.from_tensors("a b c").apply(data.window_batches(tokenizer, 3, batch_size=16)).unbatch()
    # [START]=2, a=4, b=5, c=6, [END]=3; the context is the previous 3 ids, zeros in front.
    assert [(x.tolist(), int(y)) for x, y in pairs.as_numpy_iterator()] == [
        ([0, 0, 2], 4),
        ([0, 2, 4], 5),
        ([2, 4, 5], 6),
        ([4, 5, 6], 3),
    ]


def test_window_batches_batch_the_pairs_of_all_texts_in_order():
    tokenizer = data.WordTokenizer(vocabulary=["a", "b", "c"])
    texts = tf.data.Dataset.from_tensor_slices(["a b", "", "c"])
    batches = texts.apply(data.window_batches(tokenizer, 2, batch_size=3))
    assert batches.element_spec == (tf.TensorSpec((None, 2), tf.int32), tf.TensorSpec((None,), tf.int32))
    assert as_lists(batches) == [
        ([[0, 2], [2, 4], [4, 5]], [4, 5, 3]),
        ([[0, 2], [0, 2], [2, 6]], [3, 6, 3]),  # the empty text predicts [END] at once
    ]
    with pytest.raises(ValueError, match=r"one string per element. Received: element_spec=TensorSpec\(shape=\(2,\)"):
        tf.data.Dataset.from_tensors(["a", "b"]).apply(data.window_batches(tokenizer, 2, batch_size=3))
