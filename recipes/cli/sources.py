"""What ``seqrecipes --help`` and ``seqrecipes list`` read from the package's sources, importing none of it.

Importing ``seqrecipes.layers`` or ``seqrecipes.recipes.decoding`` imports TensorFlow (seconds); these
facts are in their source files, so the command line reads them with ``ast``: the layers' names and
summary lines, and the settings of ``decoding.generate`` (names, types, defaults and the one-line
meanings of its docstring), which are the ``generate`` command's flags.
"""

import ast
import importlib.util
import pathlib


def _folder(package):
    """The folder of an installed package, found without importing it (only its parents are)."""
    return pathlib.Path(importlib.util.find_spec(package).submodule_search_locations[0])


def _parse(path):
    return ast.parse(path.read_text(encoding="utf-8"))


def layer_summaries():
    """[(name, first docstring line)] of the classes in ``seqrecipes.layers.__all__``, sorted by name."""
    folder = _folder("seqrecipes.layers")
    tree = _parse(folder / "__init__.py")
    public = next(ast.literal_eval(node.value) for node in tree.body if isinstance(node, ast.Assign)
                  and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets))  # fmt: skip
    modules = {alias.asname or alias.name: node.module.rpartition(".")[2] for node in tree.body
               if isinstance(node, ast.ImportFrom) and node.module for alias in node.names}  # fmt: skip
    summaries = []
    for name in sorted(public):
        classes = {c.name: c for c in _parse(folder / f"{modules[name]}.py").body if isinstance(c, ast.ClassDef)}
        doc = ast.get_docstring(classes[name]) if name in classes else None
        summaries.append((name, doc.splitlines()[0] if doc else ""))
    return summaries


def generate_parameters():
    """{setting: (type, default, meaning)} for the keyword-only parameters of ``decoding.generate``, in order.

    The type is ``int``, ``str``, ``bool`` or ``float`` from the annotation (``Optional[int]`` is ``int``), the default is
    the literal default, the meaning is the setting's line under ``Args:`` in the docstring.
    """
    tree = _parse(_folder("seqrecipes.recipes") / "decoding" / "generation.py")
    function = next(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "generate")
    meanings = {}
    for line in ast.get_docstring(function).split("Args:", 1)[1].split("Returns:", 1)[0].splitlines():
        name, sep, text = line.strip().partition(": ")
        if sep and name.isidentifier():
            meanings[name] = text
    settings = {}
    for argument, default in zip(function.args.kwonlyargs, function.args.kw_defaults):
        annotation = ast.unparse(argument.annotation)
        kind = int if "int" in annotation else {"str": str, "bool": bool}.get(annotation, float)
        settings[argument.arg] = (kind, ast.literal_eval(default), meanings[argument.arg])
    return settings
