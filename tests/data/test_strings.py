"""data.strings: the tokenizers' input checks, flattening and UTF-8 repair."""

import pytest
import tensorflow as tf

from seqrecipes import data
from seqrecipes.data.strings import as_string_tensor, flat_strings, text_dataset


def test_replace_invalid_utf8_never_raises_and_keeps_valid_text():
    strings = tf.constant([b"ok", "말이".encode(), b"bad \xff\xfe", b"\xc3", b""])
    assert data.replace_invalid_utf8(strings).numpy().tolist() == [
        b"ok", "말이".encode(), "bad \ufffd\ufffd".encode(), "\ufffd".encode(), b""
    ]


def test_flat_strings_of_dense_and_ragged_tensors():
    assert flat_strings(tf.constant([["a", "b"], ["c", "d"]])).numpy().tolist() == [b"a", b"b", b"c", b"d"]
    assert flat_strings(tf.ragged.constant([["a"], [], ["b", "c"]])).numpy().tolist() == [b"a", b"b", b"c"]


def test_as_string_tensor_accepts_strings_and_names_what_it_rejects():
    assert as_string_tensor("말").numpy() == "말".encode()
    assert as_string_tensor(["a", "b"]).shape == (2,)
    with pytest.raises(TypeError, match=r"must hold strings. Received: inputs.dtype=int32"):
        as_string_tensor([1, 2])
    with pytest.raises(TypeError, match=r"must hold strings. Received: data.dtype=float32"):
        as_string_tensor(tf.ragged.constant([[1.0]]), name="data")
    with pytest.raises(TypeError, match=r"`inputs` must be strings \(a string, or a list.*Received: inputs="):
        as_string_tensor([["a"], "b", 3])
    assert as_string_tensor([["a"], ["b", "c"]]).to_list() == [[b"a"], [b"b", b"c"]]
    assert as_string_tensor([]).shape == (0,) and as_string_tensor([]).dtype == tf.string
    assert as_string_tensor([[], []]).shape == (2, 0)


def test_text_dataset_batches_scalars_flattens_batches_and_repairs_bytes():
    scalars = text_dataset(tf.data.Dataset.from_tensor_slices([b"a", b"\xff", b"c"]), batch_size=2)
    assert [x.tolist() for x in scalars.as_numpy_iterator()] == [[b"a", "\ufffd".encode()], [b"c"]]
    nested = text_dataset(tf.data.Dataset.from_tensors(tf.ragged.constant([["ab"], ["c", "d"]])), batch_size=2)
    assert [x.tolist() for x in nested.as_numpy_iterator()] == [[b"ab", b"c", b"d"]]
    assert [x.tolist() for x in text_dataset(["x", "y", "z"], batch_size=2).as_numpy_iterator()] == [[b"x", b"y"], [b"z"]]
    with pytest.raises(TypeError, match=r"elements are strings.*Received: data.element_spec"):
        text_dataset(tf.data.Dataset.range(3), batch_size=2)
