"""``predict``: a recipe's serving function (what its export's ``serving_default`` does) run in Python."""

import weakref

import keras
import numpy as np
import tensorflow as tf

from seqrecipes._checks import check_positive_int
from seqrecipes.recipes.recipe_model import RecipeModel
from seqrecipes.recipes.serving.signatures import input_signature

_SERVING_FUNCTIONS = weakref.WeakKeyDictionary()


def predict(model, inputs, batch_size=256, progress=False):
    """Runs a recipe's serving function (what its SavedModel's ``serving_default`` does) on raw inputs.

    Args:
        model: a ``RecipeModel`` with a serving function.
        inputs: strings (text recipes), a float array (B, T) (forecasting recipes) or images
            (B, H, W, C) (captioning recipes).
        batch_size: inputs run at once.
        progress: show a progress bar over the batches.

    Returns:
        A dict of NumPy arrays, the serving signature's outputs (``"outputs"`` strings for
        generating recipes, ``"label"``/``"label_id"``/``"scores"`` for classifiers, ``"tags"``,
        ``"forecast"``, captions), bytes for string outputs.

    Example:
    >>> from seqrecipes import data, recipes
    >>> tokenizer = data.WordTokenizer(vocabulary=["good", "bad"])
    >>> model = recipes.text_classifier(max_length=4, units=4, embedding_dim=4, label_names=["no", "yes"],
    ...                                 text_tokenizer=tokenizer)
    >>> out = recipes.predict(model, ["good good", "bad", ""])
    >>> sorted(out), out["scores"].shape, set(out["label"]) <= {b"no", b"yes"}
    (['label', 'label_id', 'scores'], (3, 2), True)
    """
    if not isinstance(model, RecipeModel) or model.info.serving_function is None:
        raise ValueError(f"`model` must be a RecipeModel whose recipe has a serving function. Received: model={getattr(model, 'name', model)!r}")
    check_positive_int("batch_size", batch_size)
    spec = input_signature(model)
    if spec.dtype == tf.string:
        inputs = [s.encode("utf-8") if isinstance(s, str) else s for s in inputs]
        if not inputs:
            raise ValueError("`inputs` must hold at least one string. Received: inputs=[]")
        array = np.array(inputs, dtype=object)
    else:
        array = np.asarray(inputs, dtype="float32")
        if array.ndim != len(spec.shape) or array.shape[0] == 0:
            expected = "(B, T) series" if len(spec.shape) == 2 else f"{tuple(spec.shape)} images"
            raise ValueError(f"`inputs` must be a non-empty float array of {expected}. Received: shape={array.shape}")
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
