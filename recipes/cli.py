"""The ``seqrecipes`` command line.

Today it lists what the package offers; training, export and the demo join it with the recipes.
"""

import argparse
import inspect
import sys


def _list(args):
    from seqrecipes import layers

    names = sorted(n for n, obj in vars(layers).items() if inspect.isclass(obj) and not n.startswith("_"))
    print(f"seqrecipes.layers ({len(names)}):")
    for name in names:
        doc = (inspect.getdoc(getattr(layers, name)) or "").splitlines()
        print(f"  {name:<24} {doc[0] if doc else ''}")
    return 0


def main(argv=None):
    from seqrecipes import __version__

    parser = argparse.ArgumentParser(prog="seqrecipes", description="Sequence-model recipes for Keras 3.")
    parser.add_argument("--version", action="version", version=f"seqrecipes {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="List the layers (and, as they land, the recipes).").set_defaults(func=_list)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
