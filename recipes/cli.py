"""The ``seqrecipes`` command line."""

import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="seqrecipes", description="Sequence-model recipes for Keras 3.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="Run the demo (for now: the short vanishing-gradient experiment).")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from experiments import vanishing_gradient  # noqa: F401  (replaced by the recipes demo)
    return 0


if __name__ == "__main__":
    sys.exit(main())
