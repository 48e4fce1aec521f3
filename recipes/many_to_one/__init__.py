"""Many-to-one recipes: a whole sequence in, one answer out.

    text_classifier      an RNN, BiRNN or Transformer encoder, a pooling, a softmax
    sequence_regressor   a time series in, its next value(s) out

The group's catalog in the registry (``recipes/registry.py``); each recipe's code is in ``<recipe>.py``.
"""

from seqrecipes.recipes.registry import register

__all__ = ["sequence_regressor", "text_classifier"]

register("text_classifier", task_type="many-to-one", serving="classify", datasets=("imdb_reviews", "glue/sst2", "ag_news_subset"),
         module=f"{__name__}.text_classifier", serving_function="classifier_serving", trainer="classification")  # fmt: skip
register("sequence_regressor", task_type="many-to-one", serving="forecast",
         datasets=("statsmodels_series", "noisy_periodic_series", "adding_problem"),
         module=f"{__name__}.sequence_regressor", serving_function="forecast_serving")  # fmt: skip
