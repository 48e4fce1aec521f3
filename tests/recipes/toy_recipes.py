"""A tiny registered recipe for the tests of the shared machinery (registry, RecipeModel, export, predict).

It is registered as any recipe is, by module path: the test modules import this module (``toy_recipes``,
on the path beside them), and the registry finds ``toy_classifier`` and ``toy_serving`` here.
"""

import keras
import numpy as np
import tensorflow as tf

from seqrecipes import data, layers, recipes
from seqrecipes.recipes import registry

MAX_LENGTH = 8


def toy_serving(model):
    tokenizer = model.tokenizer("text")

    def serve(strings):
        scores = model(tokenizer.tokenize(strings).to_tensor(shape=[None, MAX_LENGTH]))
        return {"label_id": tf.argmax(scores, axis=-1, output_type=tf.int32), "scores": scores}

    return serve


def toy_classifier(*, vocabulary_size: int = 0, units: int = 4, text_tokenizer=None, name="toy_classifier"):
    """A tiny classifier (an LSTM over the characters, 3 classes) used to test the shared machinery."""
    if text_tokenizer is not None:
        vocabulary_size = text_tokenizer.vocabulary_size()
    inputs = keras.Input((MAX_LENGTH,), dtype="int32")
    x = layers.LSTM(units)(keras.layers.Embedding(vocabulary_size, units, mask_zero=True)(inputs))
    outputs = keras.layers.Dense(3, activation="softmax")(x)
    model = recipes.RecipeModel(
        inputs, outputs, recipe="toy_classifier", arguments={"vocabulary_size": vocabulary_size, "units": units},
        tokenizers={"text": text_tokenizer}, name=name,
    )  # fmt: skip
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


registry.register(
    "toy_classifier", task_type="many-to-one", serving="classify", datasets=("toy",), module=__name__,
    serving_function="toy_serving",
)  # fmt: skip


def trained_toy():
    """(model, tokenizer, ids): the toy classifier after two epochs on four strings."""
    tokenizer = data.CharTokenizer(vocabulary=list("abcdefg"))
    model = toy_classifier(text_tokenizer=tokenizer)
    x = tokenizer.tokenize(["abc", "gfe", "aab", "ggf"]).to_tensor(shape=[None, MAX_LENGTH])
    model.fit(x, np.array([0, 1, 0, 1]), epochs=2, verbose=0)
    return model, tokenizer, x
