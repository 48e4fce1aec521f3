"""One-to-one recipes: a fixed window in, one answer out.

    window_language_model   the next word from the previous n-1 (Bengio et al. 2003)
    word2vec                word vectors: skip-gram or CBOW with negative sampling (Mikolov et al. 2013)

The group's catalog in the registry (``recipes/registry.py``); each recipe's code is in ``<recipe>.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["window_language_model", "word2vec"]

register("window_language_model", task_type="one-to-one", serving="generate", datasets=("tiny_shakespeare",),
         module=f"{__name__}.window_language_model", decoder="WindowLanguageModelDecoder")  # fmt: skip
register("word2vec", task_type="one-to-one", serving="embed", datasets=(), module=f"{__name__}.word2vec",
         serving_function="word2vec_serving")  # fmt: skip
