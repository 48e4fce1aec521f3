"""``predict``: a recipe's serving function (what its export's ``serving_default`` does) run in Python."""

import weakref

import keras
import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_bool, check_positive_int
from seqrecipes.data.strings import string_batch
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.serving.signatures import input_signature

_SERVING_FUNCTIONS = weakref.WeakKeyDictionary()


def predict(model, inputs, batch_size=256, progress=False):
    """Runs a recipe's serving function (what its SavedModel's ``serving_default`` does) on raw inputs.

    Args:
        model: a ``RecipeModel`` with a serving function.
        inputs: a batch, never a single input: for text recipes a list (or 1-D array or tensor) of
            strings (``str`` or UTF-8 ``bytes``; one string is an error, pass ``[text]``); for
            forecasting recipes a float array (B, T) of finite values, T >= 1; for captioning
            recipes finite float images (B, H, W, C) of the model's image size.
        batch_size: inputs run at once.
        progress: show a progress bar over the batches.

    Returns:
        A dict of NumPy arrays, the serving signature's outputs (``"outputs"`` strings for
        generating recipes, ``"label"``/``"label_id"``/``"scores"`` for classifiers, ``"tags"``,
        ``"forecast"``, captions), bytes for string outputs; one row per input.

    Raises:
        TypeError: ``inputs`` is one string, or holds something that is not a string (text
            recipes), or is not an array of numbers (the others); the message names ``inputs``.
        ValueError: an empty batch, a rank or shape other than the recipe's, non-UTF-8 bytes, NaN
            or inf in a series or image, a bad ``batch_size`` or ``model``.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["good", "bad"])
    >>> model = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, label_names=["no", "yes"],
    ...                                 text_tokenizer=tokenizer)
    >>> out = recipes.predict(model, ["good good", "bad", ""])
    >>> sorted(out), out["scores"].shape, set(out["label"]) <= {b"no", b"yes"}
    (['label', 'label_id', 'scores'], (3, 2), True)
    >>> recipes.predict(model, "good")
    Traceback (most recent call last):
    ...
    TypeError: `inputs` must be a batch of strings, not one string; pass [inputs] for one input. Received: inputs='good'
    """
    if not isinstance(model, RecipeModel) or model.info.serving_function is None:
        raise ValueError(f"`model` must be a RecipeModel whose recipe has a serving function. Received: model={getattr(model, 'name', model)!r}")
    check_positive_int("batch_size", batch_size)
    check_bool("progress", progress)
    spec = input_signature(model)
    array = string_batch(inputs) if spec.dtype == tf.string else _numbers(inputs, spec)
    serve = _SERVING_FUNCTIONS.get(model)
    if serve is None:  # traced once per model, so that calling predict in a loop stays cheap
        serve = _SERVING_FUNCTIONS[model] = tf.function(model.info.serving_function(model), input_signature=[spec])
    starts = range(0, len(array), batch_size)
    bar = keras.utils.Progbar(len(starts), unit_name="batch") if progress else None
    parts = []
    for n, i in enumerate(starts):
        parts.append(serve(tf.constant(array[i : i + batch_size], spec.dtype)))
        if bar is not None:
            bar.update(n + 1)
    outputs = {}
    for key in parts[0]:
        pieces = [p[key].numpy() for p in parts]
        if pieces[0].ndim == 2 and pieces[0].dtype == object:  # tags: pad every batch to the widest
            width = max(p.shape[1] for p in pieces)
            pieces = [np.pad(p, [(0, 0), (0, width - p.shape[1])], constant_values=b"") for p in pieces]
        outputs[key] = np.concatenate(pieces, axis=0)
    return outputs


def _as_array(inputs):
    """A tensor as a NumPy array (a ragged one refused); anything else as it is."""
    if isinstance(inputs, tf.RaggedTensor):
        raise TypeError(f"`inputs` must be a dense batch, not a ragged tensor. Received: inputs of shape {inputs.shape}")
    return inputs.numpy() if tf.is_tensor(inputs) else inputs


def _numbers(inputs, spec):
    """A batch of series (B, T) or images (B, H, W, C) -> a finite float32 array of that shape."""
    expected = "(B, T) series" if len(spec.shape) == 2 else f"(B, {', '.join(map(str, spec.shape[1:]))}) images"
    if isinstance(inputs, (str, bytes)):
        raise TypeError(f"`inputs` must be a float array of {expected}, not a string. Received: inputs={inputs!r:.100}")
    inputs = _as_array(inputs)
    try:
        array = np.asarray(inputs, dtype="float32")
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"`inputs` must be a float array of {expected} (rows of one length, numbers only). "
            f"Received: inputs={inputs!r:.100} ({error})"
        ) from None
    if array.ndim != len(spec.shape) or array.shape[0] == 0:
        raise ValueError(f"`inputs` must be a non-empty float array of {expected}. Received: shape={array.shape}")
    fixed = tuple(spec.shape)[1:]
    if len(spec.shape) == 2 and array.shape[1] == 0:
        raise ValueError(f"`inputs` must be series of at least one step. Received: shape={array.shape}")
    if any(want is not None and want != got for want, got in zip(fixed, array.shape[1:])):
        raise ValueError(f"`inputs` must be a float array of {expected}. Received: shape={array.shape}")
    if not np.all(np.isfinite(array)):
        where = tuple(int(i) for i in np.argwhere(~np.isfinite(array))[0])
        raise ValueError(
            f"`inputs` must be finite numbers (NaN and inf are not). Received: inputs[{', '.join(map(str, where))}]={array[where]}"
        )
    return array
