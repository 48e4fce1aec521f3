"""The recipe registry: every recipe with its task type, serving kind, data sets and the file that holds it.

Each task package's ``__init__`` is its catalog: it registers its recipes with ``register(...)`` and
imports no TensorFlow, so ``seqrecipes list`` and ``--help`` read the registry at once. A recipe's code
(its builder, its ``Decoder``, its serving function) is in its own file, named in the entry by module
path and attribute names, and imported the first time one of them is asked for, as entry points are
(``RecipeInfo.function``, ``.decoder``, ``.serving_function``). ``RecipeModel.from_config``, export,
the trainer and the command line all look recipes up here, so recipe files never import each other.
"""

import dataclasses
import importlib
from typing import Optional

from seqrecipes._checks import check_choice

TASK_TYPES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many (aligned)", "many-to-many (encoder-decoder)")

# What the exported ``serving_default`` signature takes and gives ("caption": float images in,
# caption strings out; "embed": words in, their vectors out).
SERVING_KINDS = ("generate", "classify", "tag", "forecast", "caption", "embed")

# The serving function of a generating recipe (one with a decoder) that names none: greedy decoding of raw
# inputs (``serving/signatures.py``), as ``module:attribute``.
GENERATION_SERVING = "seqrecipes.recipes.serving.signatures:generation_serving"

# How ``seqrecipes train`` turns a named data set into tokenizers, batches and scores for a recipe
# (``recipes/cli/trainers.py``); a recipe without one is trained from Python.
TRAINERS = ("text_pairs", "classification", "tagging", "text")
# The dtype policies every recipe's ``mixed_precision`` takes (``recipes/_precision.py``).
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclasses.dataclass(frozen=True)
class RecipeInfo:
    """One registered recipe.

    Attributes:
        name: the recipe function's name, e.g. ``"seq2seq_attention"``.
        task_type: one of ``TASK_TYPES``.
        serving: one of ``SERVING_KINDS``.
        datasets: the named data sources the recipe trains on: ``seqrecipes.data`` functions (made in
            code or shipped with installed packages) and TensorFlow Datasets names. The readers of
            the user's own files fit every recipe of their kind and are not listed. For a recipe
            with a ``trainer``, ``seqrecipes train`` reads each of them.
        module: the module that defines the recipe function (under its own name).
        decoder_name: for generating recipes, the name of the ``Decoder`` subclass in ``module``.
        serving_function_name: ``serving_function(model) -> callable``, which maps raw inputs to the
            export's outputs: a name in ``module``, or ``"other.module:name"``; for a generating recipe
            that names none, ``GENERATION_SERVING``.
        trainer: one of ``TRAINERS``, or None.

    Example:
    >>> from seqrecipes import recipes
    >>> info = recipes.get_recipe("seq2seq_attention")
    >>> info.task_type, info.serving, info.function.__name__
    ('many-to-many (encoder-decoder)', 'generate', 'seq2seq_attention')
    """

    name: str
    task_type: str
    serving: str
    datasets: tuple
    module: str
    decoder_name: Optional[str] = None
    serving_function_name: Optional[str] = None
    trainer: Optional[str] = None

    def _load(self, attribute):
        # The recipe's file is imported on first use: the catalogs stay free of TensorFlow.
        module, _, name = attribute.rpartition(":")
        return getattr(importlib.import_module(module or self.module), name)

    @property
    def function(self):
        """The recipe function; it returns a compiled ``RecipeModel``."""
        return self._load(self.name)

    @property
    def decoder(self):
        """The ``Decoder`` subclass, called as ``decoder(model)``; None for recipes that do not generate."""
        return None if self.decoder_name is None else self._load(self.decoder_name)

    @property
    def serving_function(self):
        """``serving_function(model) -> callable`` from raw inputs to the export's outputs, or None."""
        return None if self.serving_function_name is None else self._load(self.serving_function_name)

    @property
    def summary(self):
        """The first line of the recipe function's docstring."""
        doc = (self.function.__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""


RECIPES = {}


def register(name, *, task_type, serving, datasets, module, decoder=None, serving_function=None, trainer=None):
    """Adds a recipe to the registry (``RECIPES``); its file is imported when it is first used.

    Args:
        name: the recipe function's name in ``module``.
        task_type, serving, datasets, trainer: as ``RecipeInfo``.
        module: the module path of the recipe's file.
        decoder: the name of its ``Decoder`` subclass in ``module``, for generating recipes.
        serving_function: the name of its serving function in ``module`` (or ``"other.module:name"``);
            by default ``GENERATION_SERVING`` for a recipe with a decoder.

    Returns:
        The ``RecipeInfo``.
    """
    check_choice("task_type", task_type, TASK_TYPES)
    check_choice("serving", serving, SERVING_KINDS)
    if trainer is not None:
        check_choice("trainer", trainer, TRAINERS)
    if serving_function is None and decoder is not None:
        serving_function = GENERATION_SERVING
    info = RecipeInfo(name, task_type, serving, tuple(datasets), module, decoder, serving_function, trainer)
    RECIPES[name] = info
    return info


def get_recipe(name):
    """The ``RecipeInfo`` of a recipe name; a ValueError listing the known names otherwise.

    Example:
    >>> from seqrecipes import recipes
    >>> recipes.get_recipe("text_classifier").serving
    'classify'
    """
    if name not in RECIPES:
        raise ValueError(f"Unknown recipe. Known recipes: {', '.join(sorted(RECIPES))}. Received: recipe={name!r}")
    return RECIPES[name]


def list_recipes():
    """The registered recipes, as ``RecipeInfo`` records sorted by task type and name.

    Example:
    >>> from seqrecipes import recipes
    >>> [info.name for info in recipes.list_recipes()][:3]
    ['window_language_model', 'word2vec', 'image_captioner']
    """
    order = {task: i for i, task in enumerate(TASK_TYPES)}
    return sorted(RECIPES.values(), key=lambda info: (order[info.task_type], info.name))


def trained_datasets():
    """The data sets ``seqrecipes train`` reads: those of every recipe with a ``trainer``, sorted.

    Example:
    >>> from seqrecipes.recipes import registry
    >>> "date_translation" in registry.trained_datasets()
    True
    """
    return sorted({name for info in RECIPES.values() if info.trainer for name in info.datasets})
