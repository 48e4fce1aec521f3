"""Command-line start-up: ``seqrecipes --help``, ``COMMAND --help`` and ``list`` against importing TensorFlow.

Each command runs as a fresh process of the installed console script (wall time, the median of
interleaved repeats), beside the peer every TensorFlow command line pays first: a fresh
``python -c "import tensorflow"``. The fast paths import no TensorFlow (``recipes/cli/parser.py``), so
they should take a small fraction of it.

Goal (issue "recipes by role"): ``seqrecipes --help``, ``seqrecipes COMMAND --help`` and ``seqrecipes
list`` each finish in under 2 s.

Run: ``.venv/bin/python benchmarks/cli_startup.py [--repeats 5]``.
"""

import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import time

GOAL_SECONDS = 2.0
SCRIPT = str(pathlib.Path(sys.executable).parent / "seqrecipes")
COMMANDS = {
    "seqrecipes --help": [SCRIPT, "--help"],
    "seqrecipes train --help": [SCRIPT, "train", "--help"],
    "seqrecipes generate --help": [SCRIPT, "generate", "--help"],
    "seqrecipes list": [SCRIPT, "list"],
    'python -c "import tensorflow" (peer)': [sys.executable, "-c", "import tensorflow"],
}


def seconds(argv):
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    times = {name: [] for name in COMMANDS}
    for _ in range(args.repeats):  # interleaved, so that a busy moment slows every command alike
        for name, argv in COMMANDS.items():
            times[name].append(seconds(argv))
    medians = {name: statistics.median(values) for name, values in times.items()}
    peer = medians['python -c "import tensorflow" (peer)']
    print(f"wall time, median of {args.repeats} interleaved runs:")
    for name, median in medians.items():
        print(f"  {name:<40} {median:6.2f} s   {median / peer:5.2f}x importing TensorFlow")
    for name, median in medians.items():
        if name.startswith("seqrecipes"):
            goal = name.replace("seqrecipes ", "").replace(" ", "_").replace("--", "")
            verdict = "met" if median < GOAL_SECONDS else "not met"
            print(f"goal cli_{goal}: {median:.2f} s, {median / peer:.2f}x importing TensorFlow (target < {GOAL_SECONDS:g} s) {verdict}")


if __name__ == "__main__":
    main()
