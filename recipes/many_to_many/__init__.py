"""Many-to-many recipes with aligned outputs: one output per input step.

    sequence_tagger      one label per token (a bidirectional LSTM)
    rnn_language_model   the next token at every step, at character or word level

This file is the group's catalog (see ``recipes/registry.py``): it imports no TensorFlow; each recipe's
code is in its own file, ``<recipe>.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["rnn_language_model", "sequence_tagger"]

TASK_TYPE = "many-to-many (aligned)"

register(
    "sequence_tagger",
    task_type=TASK_TYPE,
    serving="tag",
    datasets=("conll2003",),
    module=f"{__name__}.sequence_tagger",
    serving_function="tagger_serving",
    trainer="tagging",
)
register(
    "rnn_language_model",
    task_type=TASK_TYPE,
    serving="generate",
    datasets=("tiny_shakespeare",),
    module=f"{__name__}.rnn_language_model",
    decoder="RNNLanguageModelDecoder",
    serving_function="generation_serving",
    trainer="text",
)
