"""What every recipe's tests check the same way: a ``.keras`` save that reloads with ``safe_mode=True`` into the
same recipe giving the same outputs, and fine-tuning after the reload; and the language models' training batches."""

import keras
import numpy as np
import tensorflow as tf

from seqrecipes import data, recipes


def sentence_batches(tokenizer, texts, batch_size):
    """A language model's batches of ``texts``: inputs ``[START] w``, targets ``w [END]``, padded to the longest, cached."""
    return (
        tf.data.Dataset.from_tensor_slices(texts)
        .apply(data.tokenize(tokenizer))
        .apply(data.teacher_forcing_shift())
        .apply(data.batch_with_padding(batch_size))
        .cache()
    )


def reloaded(model, inputs, path, atol=1e-6):
    """Saves ``model`` to ``path``, reloads it in safe mode and checks it: a ``RecipeModel`` of the same recipe
    and arguments whose outputs on ``inputs`` are the model's (to ``atol``). Returns the reloaded model."""
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, recipes.RecipeModel) and loaded.recipe == model.recipe
    assert loaded.arguments == model.arguments
    np.testing.assert_allclose(np.asarray(loaded(inputs)), np.asarray(model(inputs)), atol=atol)
    return loaded


def assert_fine_tunes(model, *fit_args, layer=None, **fit_kwargs):
    """One epoch of ``model.fit(*fit_args, **fit_kwargs)`` changes the weights: the kernel of ``layer`` when given,
    else some weight of the model."""

    def weights():
        return model.get_layer(layer).get_weights()[:1] if layer else model.get_weights()

    before = [w.copy() for w in weights()]
    model.fit(*fit_args, epochs=1, verbose=0, **fit_kwargs)
    assert any(not np.allclose(a, b) for a, b in zip(before, weights()))
