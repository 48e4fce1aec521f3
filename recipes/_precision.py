"""``mixed_precision`` for every recipe: the recipe's layers built under a Keras dtype policy.

    mixed_precision="float32"          every layer computes and stores in float32 (the default)
    mixed_precision="mixed_float16"    layers compute in float16 and keep float32 variables; ``compile``
                                       wraps the optimizer in Keras's ``LossScaleOptimizer`` (dynamic
                                       loss scaling, so that small float16 gradients do not underflow)
    mixed_precision="mixed_bfloat16"   layers compute in bfloat16 (float32's range: no loss scaling)

Either way each recipe's last layer (its logits or probabilities) computes in float32, so softmax and the
losses read float32 values, and an export takes and gives the dtypes of a float32 model
(``signatures.checked_input`` casts any half-precision output to float32).
"""

import functools
import inspect

import keras

from seqrecipes._checks import check_choice
from seqrecipes.recipes.registry import PRECISIONS


def with_precision(recipe):
    """The recipe function with a ``mixed_precision`` keyword argument (``PRECISIONS``, default "float32"),
    put before ``name`` in its signature and stored in ``model.arguments``; a ValueError naming it for
    another value. The global dtype policy is set while the recipe builds and compiles, and restored after.

    Example:
    >>> from seqrecipes import recipes
    >>> model = recipes.text_classifier(text_vocabulary_size=10, units=4, embedding_dim=4,
    ...                                 mixed_precision="mixed_bfloat16")
    >>> model.arguments["mixed_precision"], model.get_layer("logits").compute_dtype, model.output.dtype
    ('mixed_bfloat16', 'bfloat16', 'float32')
    """
    signature = inspect.signature(recipe)
    parameters = list(signature.parameters.values())
    at = next((i for i, p in enumerate(parameters) if p.name == "name"), len(parameters))
    added = inspect.Parameter("mixed_precision", inspect.Parameter.KEYWORD_ONLY, default="float32", annotation=str)

    @functools.wraps(recipe)
    def build(*args, mixed_precision="float32", **kwargs):
        check_choice("mixed_precision", mixed_precision, PRECISIONS)
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(mixed_precision)
        try:
            model = recipe(*args, **kwargs)
        finally:
            keras.config.set_dtype_policy(previous)
        model.arguments["mixed_precision"] = mixed_precision
        return model

    build.__signature__ = signature.replace(parameters=parameters[:at] + [added] + parameters[at:])
    return build
