"""What the tests of seqrecipes.data share: the seed sentences and small dataset helpers.

Imported by name (``from data_helpers import ...``): pytest puts this folder on ``sys.path`` for the
test modules in it.
"""

import numpy as np
import pytest
import tensorflow as tf

# Seed 002's example sentences ("RNN을 이용한 텍스트 생성").
SEED_002 = ["경마장에 있는 말이 뛰고 있다", "그의 말이 법이다", "가는 말이 고와야 오는 말이 곱다"]


def ragged_dataset(rows):
    """A dataset of the rows of a ragged tensor (elements with a RaggedTensorSpec)."""
    return tf.data.Dataset.from_tensor_slices(tf.ragged.constant(rows))


def items(dataset):
    """Every element of ``dataset`` as NumPy values."""
    return list(dataset.as_numpy_iterator())


def as_lists(dataset):
    """Every element of ``dataset`` with its arrays as (nested) Python lists."""
    return tf.nest.map_structure(lambda x: x.tolist() if hasattr(x, "tolist") else x, items(dataset))


def texts(tensor):
    """A string tensor as (nested) lists of Python strings."""
    return np.vectorize(lambda b: b.decode("utf-8"), otypes=[object])(tensor.numpy()).tolist()


def same_elements(a, b):
    """Asserts that two datasets hold the same elements, component by component."""
    for x, y in zip(items(a), items(b), strict=True):
        for u, v in zip(x, y, strict=True):
            np.testing.assert_array_equal(u, v)


def assert_reproducible(make):
    """``make(seed)`` gives the same dataset for the same seed and another one for another seed."""
    same_elements(make(7), make(7))
    with pytest.raises(AssertionError):
        same_elements(make(7), make(8))
