"""The recipe registry: every recipe function, its task type, the data sets it fits, and its decoder.

Each task-type file registers its recipes with ``@register(...)``; ``seqrecipes list``, the
trainer, ``RecipeModel.from_config`` and ``export`` read the registry, so recipe files never
import each other.
"""

import dataclasses
from typing import Callable, Optional

TASK_TYPES = ("one-to-one", "one-to-many", "many-to-one", "many-to-many (aligned)", "many-to-many (encoder-decoder)")

# What the exported ``serving_default`` signature takes and gives ("caption": float images in,
# caption strings out).
SERVING_KINDS = ("generate", "classify", "tag", "forecast", "caption")


@dataclasses.dataclass(frozen=True)
class RecipeInfo:
    """One registered recipe.

    Attributes:
        name: the recipe function's name, e.g. ``"seq2seq_attention"``.
        function: the recipe function; it returns a compiled ``RecipeModel``.
        task_type: one of ``TASK_TYPES``.
        datasets: names of the data sources the recipe fits (``seqrecipes.data`` functions or
            TensorFlow Datasets names).
        serving: one of ``SERVING_KINDS``.
        decoder: for generating recipes, ``decoder(model) -> Decoder`` (see ``decoding``).
        serving_function: ``serving_function(model) -> callable`` mapping raw inputs to the export's
            outputs; ``export`` wraps it in a ``tf.function`` signature.
    """

    name: str
    function: Callable
    task_type: str
    datasets: tuple
    serving: str
    decoder: Optional[Callable] = None
    serving_function: Optional[Callable] = None

    @property
    def summary(self):
        doc = (self.function.__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""


RECIPES = {}


def register(task_type, datasets, serving, decoder=None, serving_function=None):
    """Decorator that adds a recipe function to ``RECIPES`` under its own name."""
    if task_type not in TASK_TYPES:
        raise ValueError(f"`task_type` must be one of {TASK_TYPES}. Received: task_type={task_type!r}")
    if serving not in SERVING_KINDS:
        raise ValueError(f"`serving` must be one of {SERVING_KINDS}. Received: serving={serving!r}")

    def decorate(function):
        RECIPES[function.__name__] = RecipeInfo(
            name=function.__name__,
            function=function,
            task_type=task_type,
            datasets=tuple(datasets),
            serving=serving,
            decoder=decoder,
            serving_function=serving_function,
        )
        return function

    return decorate


def get_recipe(name):
    """The ``RecipeInfo`` of a recipe name; a ValueError listing the known names otherwise."""
    import seqrecipes.recipes  # noqa: F401  (importing the package registers every recipe)

    if name not in RECIPES:
        raise ValueError(f"Unknown recipe. Known recipes: {', '.join(sorted(RECIPES))}. Received: recipe={name!r}")
    return RECIPES[name]
