"""The registry: catalogs that import no TensorFlow, entries that resolve to their code, clear errors."""

import ast
import pathlib

import pytest
import toy_recipes  # noqa: F401 (registers toy_classifier)

from seqrecipes import recipes
from seqrecipes.recipes import registry
from seqrecipes.recipes.decoding import Decoder
from seqrecipes.recipes.serving import generation_serving

RECIPES = pathlib.Path(recipes.__file__).parent
GROUPS = {
    "one-to-one": "one_to_one",
    "one-to-many": "one_to_many",
    "many-to-one": "many_to_one",
    "many-to-many (aligned)": "many_to_many",
    "many-to-many (encoder-decoder)": "encoder_decoder",
}


def test_unknown_recipe_is_a_clear_error():
    with pytest.raises(ValueError, match=r"Known recipes: .*toy_classifier.*Received: recipe='nope'"):
        recipes.get_recipe("nope")


def test_every_entry_resolves_to_its_builder_decoder_and_serving_function():
    for info in recipes.list_recipes():
        assert info.function.__name__ == info.name and info.summary
        assert callable(info.serving_function)
        generating = info.serving in ("generate", "caption")
        assert (info.decoder is not None) == generating
        if generating:
            assert issubclass(info.decoder, Decoder) and info.decoder.__module__ == info.module
            assert info.serving_function is generation_serving  # the default, from registry.GENERATION_SERVING


def test_one_recipe_a_file_named_after_it_in_the_group_of_its_task_type():
    builtin = [info for info in recipes.list_recipes() if info.module.startswith("seqrecipes.recipes.")]
    assert len(builtin) == 14
    files = {path.stem for group in GROUPS.values() for path in (RECIPES / group).glob("[!_]*.py")}
    assert files == {info.name for info in builtin}
    for info in builtin:
        assert info.module == f"seqrecipes.recipes.{GROUPS[info.task_type]}.{info.name}"


def test_catalogs_import_nothing_but_the_registry():
    for group in GROUPS.values():
        tree = ast.parse((RECIPES / group / "__init__.py").read_text())
        imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        imported |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        assert imported == {"seqrecipes.recipes.registry"}, group


def test_every_listed_data_set_is_a_named_source_and_the_trainers_read_theirs():
    from seqrecipes import data
    from seqrecipes.recipes.cli.trainers import TFDS_SPLITS

    trained = registry.trained_datasets()
    assert "date_translation" in trained and "tiny_shakespeare" in trained and "shapes_captioning" not in trained
    for info in recipes.list_recipes():
        for name in info.datasets if info.module.startswith("seqrecipes.") else ():
            made_in_code = callable(getattr(data, name, None))
            assert made_in_code or name in data.TFDS_DATASETS, (info.name, name)
            if info.trainer in ("tagging", "text"):  # these trainers read TensorFlow Datasets only
                assert name in TFDS_SPLITS, (info.name, name)
            elif info.trainer is not None:
                assert made_in_code or name in TFDS_SPLITS, (info.name, name)


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"task_type": "nope"}, r"`task_type` must be one of .*Received: task_type='nope'"),
        ({"serving": "nope"}, r"`serving` must be one of .*Received: serving='nope'"),
        ({"trainer": "nope"}, r"`trainer` must be one of .*Received: trainer='nope'"),
    ],
)
def test_bad_entries_are_clear_errors(arguments, message):
    entry = {"task_type": "many-to-one", "serving": "classify", "datasets": (), "module": "toy_recipes", **arguments}
    with pytest.raises(ValueError, match=message):
        registry.register("bad", **entry)
    assert "bad" not in registry.RECIPES
