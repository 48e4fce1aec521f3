"""RecipeModel: saves and reloads in safe mode into the same recipe, carries its tokenizers."""

import keras
import numpy as np
import pytest
from toy_recipes import toy_classifier, trained_toy

from seqrecipes import recipes


def test_recipe_model_saves_and_reloads_in_safe_mode(tmp_path):
    model, tokenizer, x = trained_toy()
    path = str(tmp_path / "toy.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, recipes.RecipeModel)
    assert loaded.recipe == "toy_classifier" and loaded.arguments == model.arguments
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(model(x)), atol=1e-6)
    assert loaded.tokenizer("text").get_vocabulary() == tokenizer.get_vocabulary()
    loaded.fit(x, np.array([0, 1, 0, 1]), epochs=1, verbose=0)  # fine-tunes after loading


def test_missing_tokenizer_is_a_clear_error_and_none_tokenizers_are_left_out():
    model = toy_classifier(vocabulary_size=10)
    assert model.tokenizers == {}
    with pytest.raises(ValueError, match=r"no 'text' tokenizer"):
        model.tokenizer("text")
    with pytest.raises(ValueError, match=r"does not generate sequences.*Received: recipe='toy_classifier'"):
        model.decoder  # noqa: B018
