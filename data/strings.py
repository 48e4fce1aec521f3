"""String tensors for the tokenizers: checking inputs, flattening them, repairing invalid UTF-8.

Every tokenizer reads its text through these: ``tokenize`` checks and converts its inputs
(``as_string_tensor``), ``adapt`` turns its data into batches of valid UTF-8 strings
(``text_dataset``), and bytes that are not UTF-8 become U+FFFD (``replace_invalid_utf8``).
"""

import tensorflow as tf


def as_string_tensor(inputs, name="inputs"):
    """``inputs`` (a string, strings, a string tensor or ragged tensor) as a tensor; a TypeError otherwise."""
    if isinstance(inputs, tf.RaggedTensor):
        if inputs.dtype != tf.string:
            raise TypeError(f"`{name}` must hold strings. Received: {name}.dtype={inputs.dtype.name}")
        return inputs
    if isinstance(inputs, str):
        inputs = inputs.encode("utf-8")
    try:
        tensor = tf.convert_to_tensor(inputs)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`{name}` must be strings. Received: {name}={inputs!r:.80}") from error
    if tensor.dtype != tf.string:
        raise TypeError(f"`{name}` must hold strings. Received: {name}.dtype={tensor.dtype.name}")
    return tensor


def flat_strings(strings):
    """A 1-D tensor of every string in a dense or ragged string tensor."""
    if isinstance(strings, tf.RaggedTensor):
        return strings.flat_values
    return tf.reshape(strings, [-1])


def replace_invalid_utf8(strings):
    """Replaces every byte sequence that is not valid UTF-8 by U+FFFD; never raises.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> data.replace_invalid_utf8(tf.constant([b"ok", b"bad \\xff"])).numpy().tolist()
    [b'ok', b'bad \\xef\\xbf\\xbd']
    """
    return tf.strings.unicode_transcode(
        strings, input_encoding="UTF-8", output_encoding="UTF-8", errors="replace", replacement_char=0xFFFD
    )


def text_dataset(data, batch_size):
    """``adapt``'s data as a dataset of 1-D batches of valid UTF-8 strings."""
    return _as_string_dataset(data, batch_size).map(lambda x: replace_invalid_utf8(flat_strings(x)))


def _as_string_dataset(data, batch_size):
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if not isinstance(spec, (tf.TensorSpec, tf.RaggedTensorSpec)) or spec.dtype != tf.string:
            raise TypeError(
                "adapt() needs a dataset whose elements are strings; map it to the text first. "
                f"Received: element_spec={spec}"
            )
        if spec.shape.rank == 0:
            data = data.batch(batch_size)
        return data
    tensor = as_string_tensor(data, name="data")
    return tf.data.Dataset.from_tensor_slices(tf.reshape(tensor, [-1])).batch(batch_size)
