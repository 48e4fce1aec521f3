"""Every public name of seqrecipes.layers, .data and .recipes has a docstring with a runnable Example, and
every Example in their modules runs as a doctest and prints what it shows."""

import doctest
import importlib
import inspect
import pkgutil

import pytest

PACKAGES = ("seqrecipes.layers", "seqrecipes.data", "seqrecipes.recipes")


def _modules():
    names = ["seqrecipes._checks"]
    for package in PACKAGES:
        names.append(package)
        names += [info.name for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + ".")]
    return sorted(names)


MODULES = _modules()


def test_every_folder_is_walked():
    for name in ("seqrecipes.layers.rnn", "seqrecipes.data.transforms", "seqrecipes.recipes.registry"):
        assert name in MODULES


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_class_and_function_has_a_runnable_example(package):
    module = importlib.import_module(package)
    missing = []
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        doc = inspect.getdoc(value) or ""
        if ">>>" not in doc or "+SKIP" in doc:
            missing.append(name)
    assert not missing, f"public names of {package} without a runnable Example: {missing}"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
