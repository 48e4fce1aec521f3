"""The ``seqrecipes`` command (the console script, and ``python -m seqrecipes``): ``recipes/cli`` runs it."""

import sys

import seqrecipes


def main(argv=None):
    """Runs the command line (``seqrecipes.recipes.cli.main``) and returns its exit status."""
    seqrecipes.COMMAND_LINE = True  # first: seqrecipes.recipes must not load its TensorFlow API for --help and list
    from seqrecipes.recipes.cli.parser import main as run  # here, after the flag is set

    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
