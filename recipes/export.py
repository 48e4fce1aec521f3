"""Export a trained recipe as a SavedModel that TensorFlow Serving loads as it is.

``export(model, "saved_models/NAME")`` writes the next numbered version folder,
``saved_models/NAME/1``, ``saved_models/NAME/2``, ... with a ``serving_default`` signature on raw
inputs: strings in for text recipes (tokenization inside the graph), a float series in for
regressors, float images (B, H, W, C) in for captioners. The tokenizers' vocabularies are copied in
as assets (``assets/*.vocab``). Only core TensorFlow ops are used, so stock TF Serving runs the
result.
"""

import logging
import os
import re
import tempfile

import tensorflow as tf

logger = logging.getLogger(__name__)


def _image_signature(model):
    """float32 images (None, H, W, C) named "images", with H, W, C of the model's "image" input."""
    height, width, channels = model.input["image"].shape[1:]
    return tf.TensorSpec([None, height, width, channels], tf.float32, name="images")


# The input of ``serving_default`` per serving kind: a TensorSpec, or a function of the model
# that returns one (for inputs whose shape is per model, such as images).
INPUT_SIGNATURES = {
    "generate": tf.TensorSpec([None], tf.string, name="inputs"),
    "classify": tf.TensorSpec([None], tf.string, name="inputs"),
    "tag": tf.TensorSpec([None], tf.string, name="inputs"),
    "forecast": tf.TensorSpec([None, None], tf.float32, name="series"),
    "caption": _image_signature,
}


def input_signature(model):
    """The ``serving_default`` input TensorSpec of a recipe model (see ``INPUT_SIGNATURES``)."""
    spec = INPUT_SIGNATURES[model.info.serving]
    return spec(model) if callable(spec) else spec


def next_version(base_path):
    """The next TF Serving version number under ``base_path``: 1 + the largest numbered folder, or 1."""
    if not os.path.isdir(base_path):
        return 1
    versions = [int(name) for name in os.listdir(base_path) if re.fullmatch(r"[0-9]+", name)]
    return max(versions, default=0) + 1


def _check_model(model):
    from seqrecipes.recipes.recipe_model import RecipeModel

    if not isinstance(model, RecipeModel):
        raise ValueError(
            "`model` must be a model returned by a seqrecipes recipe (a RecipeModel). "
            f"Received: model of type {type(model).__name__}"
        )
    if model.info.serving_function is None:
        raise ValueError(f"Recipe {model.recipe!r} has no serving function to export. Received: model.recipe={model.recipe!r}")


class _ServingModule(tf.Module):
    """What the SavedModel holds: the model's variables, the tokenizers' tables, the vocabularies."""

    def __init__(self, model, vocabulary_dir):
        super().__init__(name="seqrecipes_serving")
        self.model = model
        self.tokenizers = dict(model.tokenizers)
        self.vocabularies = {}
        for role, tokenizer in model.tokenizers.items():
            if hasattr(tokenizer, "save_vocabulary"):
                path = os.path.join(vocabulary_dir, f"{role}.vocab")
                tokenizer.save_vocabulary(path)
                self.vocabularies[role] = tf.saved_model.Asset(path)


def export(model, base_path, version=None, extra_signatures=None):
    """Writes ``model`` as ``base_path/VERSION`` for TensorFlow Serving and returns that path.

    Args:
        model: a ``RecipeModel`` (what every recipe returns), trained or not.
        base_path: the model's folder in the serving layout, e.g. ``"saved_models/dates"``.
        version: the version number; defaults to the next free one.
        extra_signatures: optional dict name -> ``tf.function`` with an input signature, added
            beside ``serving_default``.

    Returns:
        The path of the written version folder.

    Example:
    >>> from seqrecipes import recipes  # doctest: +SKIP
    >>> recipes.export(model, "saved_models/dates")  # doctest: +SKIP
    'saved_models/dates/1'
    """
    _check_model(model)
    if version is None:
        version = next_version(base_path)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"`version` must be a positive integer. Received: version={version!r}")
    path = os.path.join(base_path, str(version))
    if os.path.exists(path):
        raise ValueError(f"Version folder already exists; choose another version. Received: version={version} (path {path!r})")

    serve = model.info.serving_function(model)
    with tempfile.TemporaryDirectory() as vocabulary_dir:
        module = _ServingModule(model, vocabulary_dir)
        module.serve = tf.function(serve, input_signature=[input_signature(model)])
        signatures = {"serving_default": module.serve}
        for name, fn in (extra_signatures or {}).items():
            setattr(module, f"signature_{name}", fn)
            signatures[name] = fn
        tf.saved_model.save(module, path, signatures=signatures)
    logger.info("Exported %s to %s", model.recipe, path)
    return path
