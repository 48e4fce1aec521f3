"""The token-id check of ``RecipeModel.fit`` and ``evaluate``: ids outside a vocabulary are one clear error.

An Embedding reads row ``id`` of its table: an id below 0 silently reads another row (or fails deep in
TensorFlow), one at or above the vocabulary size fails with "Graph execution error:". So before training
every integer input that feeds an Embedding must hold ids in ``[0, vocabulary size)``, and for a model
compiled with a sparse categorical cross-entropy the integer targets ids in ``[0, number of scores)``:

- NumPy arrays, lists and eager tensors are checked at once, before training starts;
- a ``tf.data.Dataset`` gets one cheap map (a compare and a mask per batch tensor), and the failed
  assertion of a bad batch becomes the same ValueError;
- other inputs (Python generators, ``keras.utils.PyDataset``) are not checked.

The error names the batch tensor (the model input's name, or ``targets``) and the first bad id:
"`source` must hold token ids in [0, 12) (the vocabulary size of its embedding 'source_embedding').
Received: source holds the id 57 at [1, 3]".
"""

import re

import keras
import numpy as np
import tensorflow as tf

MARKER = "seqrecipes: token id outside the vocabulary"
_FAILED = re.compile(r"\[" + re.escape(MARKER) + r"\] \[(\S+)\] \[(\d+)\] \[(-?\d+)\]")


def id_limits(model):
    """``{tensor name: (limit, what the limit is)}``: the model inputs that feed an Embedding, and ``"targets"``
    when the model is compiled with a sparse categorical cross-entropy on a single output.

    Example:
    >>> from seqrecipes import data, recipes
    >>> model = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, text_tokenizer=data.WordTokenizer(vocabulary=["a"]))
    >>> id_limits(model)["token_ids"]
    (5, "the vocabulary size of its embedding 'embedding'")
    """
    names = _input_names(model)
    limits = {}
    for layer in model.layers:
        if not isinstance(layer, keras.layers.Embedding):
            continue
        for node in layer._inbound_nodes:  # every call of the layer (a shared embedding has several)
            for tensor in node.input_tensors:
                name = names.get(id(tensor))
                if name is not None:
                    limits[name] = (int(layer.input_dim), f"the vocabulary size of its embedding {layer.name!r}")
    if len(model.outputs) == 1 and _sparse_loss(getattr(model, "loss", None)) and model.outputs[0].shape[-1]:
        limits["targets"] = (int(model.outputs[0].shape[-1]), "the number of scores of the model's output")
    return limits


def _input_names(model):
    """{id(input tensor): its name}: the dict key for dict inputs, else the Input's name."""
    structure = model.input
    if isinstance(structure, dict):
        return {id(tensor): key for key, tensor in structure.items()}
    return {id(tensor): tensor.name for tensor in model.inputs}


def _sparse_loss(loss):
    if isinstance(loss, str):
        return loss == "sparse_categorical_crossentropy"
    return isinstance(loss, keras.losses.SparseCategoricalCrossentropy)


def _named(model, x, y):
    """[(name, tensor)] of the checked tensors in one (x, y) batch or data set."""
    names = [_input_names(model)[id(t)] for t in model.inputs]
    if isinstance(x, dict):
        pairs = [(name, x[name]) for name in names if name in x]
    elif isinstance(x, (list, tuple)) and len(x) == len(names):
        pairs = list(zip(names, x))
    elif len(names) == 1 and not isinstance(x, (list, tuple, dict)):
        pairs = [(names[0], x)]
    else:
        pairs = []
    if y is not None and not isinstance(y, (list, tuple, dict)):
        pairs.append(("targets", y))
    return pairs


def _message(name, limit, what, bad, where=""):
    return f"`{name}` must hold token ids in [0, {limit}) ({what}). Received: {name} holds the id {bad}{where}"


def check_arrays(model, x, y=None, limits=None):
    """Checks in-memory inputs (NumPy arrays, lists, eager tensors) at once; a ValueError at the first bad id.

    Example:
    >>> import numpy as np
    >>> from seqrecipes import data, recipes
    >>> model = recipes.text_classifier(max_length=2, units=4, embedding_dim=4, text_tokenizer=data.WordTokenizer(vocabulary=["a"]))
    >>> check_arrays(model, np.array([[4, 9]]))
    Traceback (most recent call last):
    ...
    ValueError: `token_ids` must hold token ids in [0, 5) (the vocabulary size of its embedding 'embedding'). Received: token_ids holds the id 9 at [0, 1]
    """
    limits = id_limits(model) if limits is None else limits
    for name, value in _named(model, x, y):
        if name not in limits:
            continue
        try:
            ids = np.asarray(value)
        except (ValueError, TypeError):  # ragged lists: Keras reports those itself
            continue
        if ids.dtype.kind not in "iu":
            continue
        limit, what = limits[name]
        outside = (ids < 0) | (ids >= limit)
        if outside.any():
            at = tuple(int(i) for i in np.argwhere(outside)[0])
            raise ValueError(_message(name, limit, what, int(ids[at]), f" at {list(at)}"))


TAG_SHAPE_MESSAGE = "sequence_tagger: the tags (B, T) must have the shape of the token ids (x below: the tags shape, y: the token ids shape)"


def checked_dataset(model, dataset, limits=None):
    """``dataset`` (of ``(x, y[, sample_weight])`` batches or ``x`` alone) with its token ids asserted in range;
    ``raised_error`` turns the assertion of a bad batch into the ValueError."""
    limits = id_limits(model) if limits is None else limits
    is_tuple = isinstance(dataset.element_spec, tuple)

    def check(*element):
        x, y = element[0], (element[1] if is_tuple and len(element) > 1 else None)
        for name, tensor in _named(model, x, y):
            if name in limits and isinstance(tensor, (tf.Tensor, tf.RaggedTensor)) and tensor.dtype.is_integer:
                ids = tf.reshape(tensor.flat_values if isinstance(tensor, tf.RaggedTensor) else tensor, [-1])
                limit = tf.cast(limits[name][0], ids.dtype)
                bad = tf.boolean_mask(ids, (ids < 0) | (ids >= limit))
                tf.debugging.Assert(tf.size(bad) == 0, [MARKER, name, limits[name][0], bad[:1]])
        if model.recipe == "sequence_tagger" and y is not None:  # here, before the step: its loss and metrics run in any order
            tf.debugging.assert_equal(tf.shape(y), tf.shape(x), message=TAG_SHAPE_MESSAGE)
        return element if is_tuple else element[0]

    return dataset.map(check)


def raised_error(model, error, limits=None):
    """The ValueError for a failed assertion of ``checked_dataset`` in ``error``, or None for any other error."""
    found = _FAILED.search(str(error))
    if found is None:
        return None
    name, limit, bad = found.group(1), int(found.group(2)), int(found.group(3))
    limits = id_limits(model) if limits is None else limits
    return ValueError(_message(name, limit, limits.get(name, (limit, "its limit"))[1], bad, " (in a batch of the data set)"))
