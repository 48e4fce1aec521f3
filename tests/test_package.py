"""The package installs every code folder and exposes the public namespace."""

import configparser
import importlib
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
FOLDERS = {"layers": "seqrecipes.layers", "recipes": "seqrecipes.recipes", "data": "seqrecipes.data"}


def _setup_packages():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    packages = {p.strip() for p in config["options"]["packages"].split() if p.strip()}
    package_dir = {}
    for line in config["options"]["package_dir"].strip().splitlines():
        name, _, path = line.partition("=")
        package_dir[name.strip()] = path.strip()
    return packages, package_dir


def test_every_code_folder_with_an_init_is_a_listed_package():
    packages, package_dir = _setup_packages()
    for folder, namespace in FOLDERS.items():
        assert package_dir[namespace] == folder
        for init in (ROOT / folder).rglob("__init__.py"):
            if any(part.startswith(".") or part == "__pycache__" for part in init.relative_to(ROOT).parts):
                continue
            relative = init.parent.relative_to(ROOT / folder).parts
            name = ".".join((namespace,) + relative)
            assert name in packages, f"{init.parent} has an __init__.py but {name} is not in setup.cfg's packages"
            importlib.import_module(name)


def test_public_namespace():
    from seqrecipes import data, layers, recipes  # noqa: F401

    assert pathlib.Path(layers.__file__).parent == ROOT / "layers"
    assert pathlib.Path(data.__file__).parent == ROOT / "data"
    assert pathlib.Path(recipes.__file__).parent == ROOT / "recipes"
