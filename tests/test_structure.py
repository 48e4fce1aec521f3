"""The layout stays honest: files at most 400 lines, imports that point down, ``__all__`` in every public
package. The sources are read with ``ast``; nothing is imported.

Modules are named as setup.cfg installs them (``layers/rnn.py`` is ``seqrecipes.layers.rnn``). An import
names the module it reads: ``from seqrecipes.recipes.decoding import greedy`` reads the module
``...decoding.greedy`` when that file exists, else the package ``...decoding`` (its ``__init__``).
Imports inside functions count like the others.
"""

import ast
import configparser
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
MAX_LINES = 400


def _package_dirs():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    dirs = {}
    for line in config["options"]["package_dir"].strip().splitlines():
        name, _, path = line.partition("=")
        dirs[name.strip()] = ROOT / path.strip()
    return dirs


def _modules():
    """{module name: path} for every .py file of the installed packages."""
    modules = {}
    for package, folder in _package_dirs().items():
        if package != "seqrecipes" and package.count(".") != 1:
            continue  # only the top-level mappings; subpackages are folders below them
        for path in sorted(folder.rglob("*.py")):
            relative = path.relative_to(folder).with_suffix("")
            if any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                continue
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if package == "seqrecipes" and parts and parts[0] in ("layers", "data", "recipes"):
                continue
            modules[".".join([package] + parts)] = path
    return modules


MODULES = _modules()


def _is_package(name):
    return MODULES[name].name == "__init__.py"


def _imported(name, tree):
    """The modules of MODULES that ``name``'s source imports, anywhere in it."""
    package = name if _is_package(name) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = []
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                targets.append(submodule if submodule in MODULES else base)
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: _imported(name, ast.parse(path.read_text(encoding="utf-8"))) for name, path in MODULES.items()}


def _cycles(graph):
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_three_code_folders_are_read():
    assert "seqrecipes.layers.rnn" in MODULES and "seqrecipes.data.vocabulary" in MODULES
    assert "seqrecipes.recipes.registry" in MODULES
    assert any(m.startswith("seqrecipes.layers") for name, deps in GRAPH.items() if name.startswith("seqrecipes.recipes") for m in deps)


def test_no_file_over_400_lines():
    long = {str(path.relative_to(ROOT)): n for path in MODULES.values() if (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert not long, f"files over {MAX_LINES} lines (split them along a seam): {long}"


def test_no_import_cycles():
    cycles = _cycles(GRAPH)
    assert not cycles, "import cycles (function-level imports included):\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_no_module_imports_its_own_package():
    """A module never imports the ``__init__`` of its own package or of a package above it (below the root)."""
    offenders = []
    for name, imported in GRAPH.items():
        parts = name.split(".")
        own = parts if _is_package(name) else parts[:-1]
        ancestors = {".".join(own[:k]) for k in range(2, len(own) + 1)} - {name}
        offenders += [f"{name} imports {target}" for target in sorted(imported & ancestors)]
    assert not offenders, "\n".join(offenders)


def test_every_public_package_declares_all():
    missing = []
    for name, path in MODULES.items():
        if not _is_package(name) or name == "seqrecipes" or any(p.startswith("_") for p in name.split(".")):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
                 for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}
        if "__all__" not in names:
            missing.append(name)
    assert not missing, f"public packages without __all__: {missing}"
