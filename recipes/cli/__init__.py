"""The ``seqrecipes`` command line: list, train, evaluate, predict, generate, export, demo.

    parser.py     the commands' arguments, ``list`` and ``main``; no TensorFlow, so --help and list are fast
    sources.py    what --help and list read from the package's sources (layers, generate's settings)
    commands.py   train, evaluate, predict, generate, export, demo
    trainers.py   how ``train`` turns a named data set into tokenizers, batches and scores
    demo.py       the demo: attention learns to read dates, end to end
    errors.py     CommandError, a user error reported in one line
"""

from seqrecipes.recipes.cli.parser import main

__all__ = ["main"]
