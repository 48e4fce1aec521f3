"""Serving: exports that TensorFlow Serving loads as they are, their warm-up requests, and ``predict``.

    saved_model.py   export: saved_models/NAME/VERSION/ with the signatures, vocabularies as assets
    signatures.py    serving_default per serving kind, generation_serving, the generate signature
    warmup.py        assets.extra/tf_serving_warmup_requests, one request per signature
    predictions.py   predict: the serving function run in Python on raw inputs, in batches
"""

from seqrecipes.recipes.serving.predictions import predict
from seqrecipes.recipes.serving.saved_model import export
from seqrecipes.recipes.serving.signatures import GENERATE_SETTINGS, generate_function, generation_serving, input_signature

__all__ = ["GENERATE_SETTINGS", "export", "generate_function", "generation_serving", "input_signature", "predict"]
