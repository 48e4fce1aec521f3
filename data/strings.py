"""The tokenizers' tensors: checking string and id inputs, flattening and nesting them, repairing UTF-8.

Every tokenizer reads its text through these: ``tokenize`` checks and converts its inputs
(``as_string_tensor``), ``adapt`` turns its data into batches of valid UTF-8 strings
(``text_dataset``), and bytes that are not UTF-8 become U+FFFD (``replace_invalid_utf8``).
``detokenize`` reads its ids through ``as_id_tensor``.
"""

import numpy as np
import tensorflow as tf

from seqrecipes.data.vocabulary import PAD_ID


def as_string_tensor(inputs, name="inputs"):
    """``inputs`` as a string tensor, dense or ragged; a TypeError naming ``name`` otherwise.

    A string is a scalar; a list (nested to any depth) is a tensor, or a ``tf.RaggedTensor`` when
    its rows differ in length; an empty list is a batch of no strings (shape ``(0,)``).

    Example:
    >>> from seqrecipes.data.strings import as_string_tensor
    >>> as_string_tensor([]).shape, as_string_tensor([["a"], ["b", "c"]]).shape
    (TensorShape([0]), TensorShape([2, None]))
    >>> as_string_tensor(["a", None])
    Traceback (most recent call last):
    ...
    TypeError: `inputs` must be strings (a string, or a list of strings nested to any depth, every string at the same depth). Received: inputs=['a', None]
    """
    if isinstance(inputs, tf.RaggedTensor):
        if inputs.dtype != tf.string:
            raise TypeError(f"`{name}` must hold strings. Received: {name}.dtype={inputs.dtype.name}")
        return inputs
    if isinstance(inputs, str):
        inputs = inputs.encode("utf-8")
    if isinstance(inputs, (list, tuple)) and _string_depth(inputs) is None and _holds_a_string(inputs):
        # Strings beside lists: TensorFlow would read such a string as a list of characters.
        raise _not_strings(inputs, name)
    try:
        tensor = tf.convert_to_tensor(inputs)
    except (TypeError, ValueError) as error:
        tensor = _ragged_strings(inputs, name, error)
    if isinstance(inputs, (list, tuple)) and tensor.shape.num_elements() == 0:
        return tf.zeros(tensor.shape, tf.string)  # [] or [[]]: no strings, whatever dtype the empty list got
    if tensor.dtype != tf.string:
        raise TypeError(f"`{name}` must hold strings. Received: {name}.dtype={tensor.dtype.name}")
    return tensor


def _ragged_strings(inputs, name, error):
    # Lists whose rows differ in length; anything else that is not a tensor of strings is an error.
    if isinstance(inputs, (list, tuple)) and _string_depth(inputs) is not None:
        try:
            return tf.ragged.constant(inputs, dtype=tf.string)
        except (TypeError, ValueError):
            pass
    raise _not_strings(inputs, name) from error


def _not_strings(inputs, name):
    return TypeError(
        f"`{name}` must be strings (a string, or a list of strings nested to any depth, every string at "
        f"the same depth). Received: {name}={inputs!r:.80}"
    )


def _holds_a_string(values, limit=64):
    # Whether a string is anywhere in nested lists (past ``limit`` levels: assumed so, an error).
    if isinstance(values, (str, bytes)) or limit == 0:
        return True
    return isinstance(values, (list, tuple)) and any(_holds_a_string(v, limit - 1) for v in values)


def _string_depth(values, limit=64):
    # How deep the strings sit in nested lists, the same for every string; None if not all strings,
    # at different depths, or deeper than ``limit``. An empty list may stand at any depth.
    if isinstance(values, (str, bytes)):
        return 0
    if not isinstance(values, (list, tuple)) or limit == 0:
        return None
    depths = {_string_depth(v, limit - 1) for v in values if not (isinstance(v, (list, tuple)) and not v)}
    if None in depths or len(depths) > 1:
        return None
    return 1 + depths.pop() if depths else 1


def string_batch(values, name="inputs"):
    """A Python batch of strings (a list, a 1-D array or tensor) -> a 1-D object array of UTF-8 bytes.

    What ``recipes.predict`` and ``recipes.score`` read their text through. Errors name ``name``:
    one string instead of a batch, a ragged tensor, another rank, an empty batch, an item that is
    not str or bytes (``name[i]``), text that is not UTF-8.

    Example:
    >>> from seqrecipes.data.strings import string_batch
    >>> string_batch(["ab", b"c"]).tolist()
    [b'ab', b'c']
    >>> string_batch("ab", name="targets")
    Traceback (most recent call last):
    ...
    TypeError: `targets` must be a batch of strings, not one string; pass [targets] for one input. Received: targets='ab'
    """
    if isinstance(values, (str, bytes)):
        raise TypeError(
            f"`{name}` must be a batch of strings, not one string; pass [{name}] for one input. Received: {name}={values!r:.100}"
        )
    if isinstance(values, tf.RaggedTensor):
        raise TypeError(f"`{name}` must be a dense batch, not a ragged tensor. Received: {name} of shape {values.shape}")
    if tf.is_tensor(values):
        values = values.numpy()
    if isinstance(values, np.ndarray) and values.ndim != 1:
        raise ValueError(f"`{name}` must be a 1-D batch of strings (B,). Received: {name} of shape {values.shape}")
    try:
        items = list(values)
    except TypeError:
        raise TypeError(f"`{name}` must be a list of strings. Received: {name}={values!r:.100}") from None
    if not items:
        raise ValueError(f"`{name}` must hold at least one string. Received: {name}=[]")
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        if not isinstance(item, (str, bytes)):
            raise TypeError(
                f"`{name}` must be a 1-D batch of strings (str or UTF-8 bytes). Received: {name}[{i}]={item!r:.100} "
                f"of type {type(item).__name__}"
            )
        try:
            array[i] = item.encode("utf-8") if isinstance(item, str) else bytes(item)
            array[i].decode("utf-8")
        except UnicodeError as error:
            raise ValueError(f"`{name}[{i}]` must be UTF-8 text ({error.reason}). Received: {name}[{i}]={item!r:.100}") from None
    return array


def as_id_tensor(ids):
    """``detokenize``'s ids as a dense integer tensor; a TypeError naming ``ids`` otherwise.

    Nested lists may differ in length (their rows are padded with 0, as ragged tensors are); an
    empty list is no ids.

    Example:
    >>> from seqrecipes.data.strings import as_id_tensor
    >>> as_id_tensor([[4], [4, 5]]).numpy().tolist(), as_id_tensor([]).shape
    ([[4, 0], [4, 5]], TensorShape([0]))
    """
    if isinstance(ids, (list, tuple)):
        try:
            ids = tf.convert_to_tensor(ids)
        except (TypeError, ValueError):
            try:
                ids = tf.ragged.constant(ids)
            except (TypeError, ValueError):
                raise TypeError(f"`ids` must be integer ids in the int64 range (a tensor, an array or nested lists). Received: ids={ids!r:.80}") from None
        if ids.shape.num_elements() == 0:  # [] or [[]]: no ids, whatever dtype the empty list got
            ids = tf.cast(ids, tf.int64)
    if isinstance(ids, tf.RaggedTensor):
        if not ids.dtype.is_integer:
            raise TypeError(f"`ids` must be integers. Received: ids.dtype={ids.dtype.name}")
        return ids.to_tensor(default_value=tf.cast(PAD_ID, ids.dtype))
    try:
        ids = tf.convert_to_tensor(ids)
    except (TypeError, ValueError):
        raise TypeError(f"`ids` must be integer ids (a tensor, an array or nested lists). Received: ids={ids!r:.80}") from None
    if not ids.dtype.is_integer:
        raise TypeError(f"`ids` must be integers. Received: ids.dtype={ids.dtype.name}")
    return ids


def nest_rows(ids, inputs):
    """Ragged ids ``[N, None]`` of the flattened ``inputs`` (rank > 1) as ``inputs.shape + (None,)``."""
    # The outer axes become uniform ragged rows, innermost first (nrows given, so that axes of
    # length 0 keep their shape).
    shape = tf.shape(inputs, out_type=tf.int64)
    for axis in range(inputs.shape.rank - 1, 0, -1):
        ids = tf.RaggedTensor.from_uniform_row_length(ids, shape[axis], nrows=tf.reduce_prod(shape[:axis]))
    return ids


def without_padding(ids):
    """A fixed-length tokenizer's ids ``(..., sequence_length)``, dense or in ragged outer rows, without the trailing padding."""
    if isinstance(ids, tf.RaggedTensor):
        return ids.with_flat_values(without_padding(ids.flat_values))
    return tf.RaggedTensor.from_tensor(ids, padding=PAD_ID, ragged_rank=ids.shape.rank - 1)


def flat_strings(strings):
    """A 1-D tensor of every string in a dense or ragged string tensor."""
    if isinstance(strings, tf.RaggedTensor):
        return strings.flat_values
    return tf.reshape(strings, [-1])


def replace_invalid_utf8(strings):
    """Replaces every byte sequence that is not valid UTF-8 by U+FFFD; never raises on text content.

    ``strings`` may be anything ``as_string_tensor`` takes (dense or ragged); a TypeError naming
    ``strings`` otherwise.

    Example:
    >>> import tensorflow as tf
    >>> from seqrecipes import data
    >>> data.replace_invalid_utf8(tf.constant([b"ok", b"bad \\xff"])).numpy().tolist()
    [b'ok', b'bad \\xef\\xbf\\xbd']
    """
    strings = as_string_tensor(strings, name="strings")
    if isinstance(strings, tf.RaggedTensor):
        return tf.ragged.map_flat_values(replace_invalid_utf8, strings)
    return tf.strings.unicode_transcode(
        strings, input_encoding="UTF-8", output_encoding="UTF-8", errors="replace", replacement_char=0xFFFD
    )


def text_dataset(data, batch_size):
    """``adapt``'s data as a dataset of 1-D batches of valid UTF-8 strings.

    Args:
        data: a ``tf.data.Dataset`` of strings (scalar, batched or ragged elements), or strings as
            ``as_string_tensor`` takes them (a list, nested or ragged; an empty list gives no batch).
        batch_size: how many scalar elements make one batch.

    Returns:
        A ``tf.data.Dataset`` of 1-D string tensors.

    Raises:
        TypeError: ``data`` does not hold strings.

    Example:
    >>> from seqrecipes.data.strings import text_dataset
    >>> [x.tolist() for x in text_dataset(["a", "b", "c"], batch_size=2).as_numpy_iterator()]
    [[b'a', b'b'], [b'c']]
    >>> list(text_dataset([], batch_size=2).as_numpy_iterator())
    []
    """
    return _as_string_dataset(data, batch_size).map(lambda x: replace_invalid_utf8(flat_strings(x)))


def no_text_error(data):
    """The error of an ``adapt`` whose ``data`` holds no token (no strings, or only empty or blank ones)."""
    return ValueError(
        "`data` must hold some text to build a vocabulary from: it has no token (no strings, or only "
        f"empty or blank ones). Received: data={data!r:.80}"
    )


def _as_string_dataset(data, batch_size):
    if isinstance(data, tf.data.Dataset):
        spec = data.element_spec
        if not isinstance(spec, (tf.TensorSpec, tf.RaggedTensorSpec)) or spec.dtype != tf.string:
            raise TypeError(
                "`data` of adapt() must be a dataset whose elements are strings; map it to the text first. "
                f"Received: data.element_spec={spec}"
            )
        if spec.shape.rank == 0:
            data = data.batch(batch_size)
        return data
    tensor = as_string_tensor(data, name="data")
    return tf.data.Dataset.from_tensor_slices(flat_strings(tensor)).batch(batch_size)
