"""data.handwritten_digits: scikit-learn's digits as rows and as captioned strips."""

import numpy as np
import pytest
import tensorflow as tf

from seqrecipes import data
from seqrecipes.data.handwritten_digits import DIGIT_WORDS

from data_helpers import items


def test_digit_rows():
    train, test = data.digit_rows("train"), data.digit_rows("test")
    assert int(train.cardinality()) == 1438 and int(test.cardinality()) == 359
    assert train.element_spec == (tf.TensorSpec((8, 8), tf.float32), tf.TensorSpec((), tf.int32))
    images = np.stack([x for x, _ in items(train)])
    assert images.min() == 0.0 and images.max() == 1.0
    assert [int(y) for _, y in items(train.take(10))] == list(range(10))
    with pytest.raises(ValueError, match=r"Received: split='valid'"):
        data.digit_rows("valid")


def test_digit_strips_captions_name_the_digits():
    lookup = {x.tobytes(): int(y) for x, y in items(data.digit_rows("all"))}
    for language in ("en", "ko"):
        ds = data.digit_strips(30, min_digits=1, max_digits=3, language=language, seed=0)
        assert ds.element_spec == (tf.TensorSpec((8, 24, 1), tf.float32), tf.TensorSpec((), tf.string))
        for strip, caption in items(ds):
            words = caption.decode().split()
            blocks = [strip[:, 8 * k : 8 * k + 8, 0] for k in range(3)]
            assert [DIGIT_WORDS[language][lookup[b.tobytes()]] for b in blocks[: len(words)]] == words
            assert all(not b.any() for b in blocks[len(words) :])
    with pytest.raises(ValueError, match=r"Received: min_digits=3, max_digits=2"):
        data.digit_strips(min_digits=3, max_digits=2)
