"""Every Example in seqrecipes.data's docstrings runs and prints what it shows."""

import doctest
import importlib
import pkgutil

import pytest

import seqrecipes.data

MODULES = sorted(info.name for info in pkgutil.iter_modules(seqrecipes.data.__path__))


def test_every_module_is_covered():
    assert "char_tokenizer" in MODULES and "transforms" in MODULES and len(MODULES) >= 15


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"seqrecipes.data.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples failed in {name}"
