"""Bad input, counted: every case of the bad-input tests, run once, and the count per verdict.

The cases are the ``CASES`` lists of the test modules (``tests/**/test_*.py`` that define one; the
harness is ``tests/bad_input.py``): crafted ``.keras`` archives, requests to exports (the worst ones
in child processes under a memory limit and a timeout), decoding settings, ``predict``, recipe
builders, data sources, tokenizers, training and the command line. Each gets one verdict: ``clear
error`` (the expected error, naming the argument), ``right answer``, ``unclear error``, ``silent
wrong`` or ``over limit``. The cases that are neither of the first two are listed.

Goals (issue "no file read from outside an archive ..."): 0 silent wrong, 0 over the memory or time
limit, 0 unclear errors.

Run: ``.venv/bin/python benchmarks/bad_input.py [--only PATTERN] [--verbose]``.
"""

import argparse
import collections
import importlib.util
import os
import pathlib
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

TESTS = pathlib.Path(__file__).resolve().parent.parent / "tests"
sys.path.insert(0, str(TESTS))

from bad_input import GOOD_VERDICTS, VERDICTS, verdict  # noqa: E402


def case_modules(only=None):
    """The test modules that define ``CASES``, as (relative path, module)."""
    for path in sorted(TESTS.rglob("test_*.py")):
        relative = str(path.relative_to(TESTS.parent))
        if not re.search(r"^CASES = ", path.read_text(), flags=re.MULTILINE) or (only and only not in relative):
            continue
        sys.path.insert(0, str(path.parent))  # the modules beside it (toy_recipes, data_helpers)
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield relative, module


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="only the test modules whose path contains this")
    parser.add_argument("--verbose", action="store_true", help="print every case's verdict")
    args = parser.parse_args()

    import keras

    totals = collections.Counter()
    bad = []
    start = time.perf_counter()
    for relative, module in case_modules(args.only):
        counts = collections.Counter()
        for case in module.CASES:
            keras.utils.set_random_seed(1234)
            result, detail = verdict(case)
            counts[result] += 1
            if args.verbose:
                print(f"  {result:13s} {case.id}: {detail:.160}")
            if result not in GOOD_VERDICTS:
                bad.append((relative, case.id, result, detail))
        totals.update(counts)
        print(f"{relative}: {sum(counts.values())} cases: " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS if counts[v]))
    print(f"\nall: {sum(totals.values())} cases in {time.perf_counter() - start:.0f} s")
    for name in VERDICTS:
        print(f"  {name:13s} {totals[name]}")
    for relative, case_id, result, detail in bad:
        print(f"{result}: {relative}::{case_id}: {detail:.300}")
    for goal, name in (("silent_wrong", "silent wrong"), ("over_limit", "over limit"), ("unclear_error", "unclear error")):
        met = "met" if totals[name] == 0 else "not met"
        print(f"goal {goal}: {totals[name]} of {sum(totals.values())} cases (target 0) {met}")


if __name__ == "__main__":
    main()
