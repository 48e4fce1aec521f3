"""The bad-input harness: a case is one call and what it must give; its verdict is what it gave.

Every ``tests/**/test_bad_input*.py`` module holds a list ``CASES`` of cases and one parametrised
test over it (``@pytest.mark.parametrize("case", params(CASES))`` then ``expect_clear(case)``);
``benchmarks/bad_input.py`` runs the same lists and counts the verdicts.

A case is either ``raises(id, call, error, *names)``: ``call()`` must raise ``error`` (a type or a
tuple of types) with a message that holds every one of ``names`` (the argument, flag or input it is
about), or ``answers(id, call, check)``: ``call()`` must return a value for which ``check(value)``
is true (the right answer, such as an input cut to its documented limit). ``call`` builds what it
needs when it runs (share expensive set-up through ``functools.cache``), so collecting the cases
costs nothing.

The verdicts:

- ``clear error``: the expected error, naming what it is about;
- ``right answer``: the expected value;
- ``unclear error``: an error of another type, or one whose message does not name what it is about;
- ``silent wrong``: no error where one was expected, or a wrong value;
- ``over limit``: a child process ran past its memory or time limit (``LimitExceeded``).
"""

import dataclasses
import json
import os
import resource
import subprocess
import sys
from typing import Any, Callable, Optional

import pytest

VERDICTS = ("clear error", "right answer", "unclear error", "silent wrong", "over limit")
GOOD_VERDICTS = ("clear error", "right answer")


class LimitExceeded(Exception):
    """A child process ran past its memory or time limit; the verdict is ``over limit``."""


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    call: Callable[[], Any]
    error: Any = None  # an exception type (or tuple) for ``raises`` cases
    names: tuple = ()
    check: Optional[Callable[[Any], bool]] = None  # for ``answers`` cases


def raises(id, call, error, *names):
    """A case whose ``call()`` must raise ``error`` with a message that holds each of ``names``."""
    if not names:
        raise ValueError(f"A raises case names the argument its message must hold. Received: names=() for {id!r}")
    return Case(id, call, error=error, names=names)


def answers(id, call, check):
    """A case whose ``call()`` must return a value for which ``check(value)`` is true."""
    return Case(id, call, check=check)


def verdict(case):
    """``(verdict, detail)`` for one case: one of ``VERDICTS`` and what happened, in one line."""
    try:
        value = case.call()
    except LimitExceeded as error:
        return "over limit", str(error)
    except Exception as error:  # noqa: BLE001 - every error is judged here
        message = str(error)
        described = f"{type(error).__name__}: {message[:300]}"
        if case.error is None:
            return "unclear error", f"expected an answer, got {described}"
        if not isinstance(error, case.error):
            return "unclear error", f"expected {_names(case.error)}, got {described}"
        missing = [name for name in case.names if name not in message]
        if missing:
            return "unclear error", f"the message does not name {missing}: {described}"
        return "clear error", described
    if case.error is not None:
        return "silent wrong", f"expected {_names(case.error)}, got the value {value!r:.200}"
    try:
        right = bool(case.check(value))
    except Exception as error:  # noqa: BLE001 - a check that cannot read the value fails it
        return "silent wrong", f"the check raised {type(error).__name__}: {error} on {value!r:.200}"
    return ("right answer", f"{value!r:.200}") if right else ("silent wrong", f"a wrong value: {value!r:.200}")


def _names(error):
    types = error if isinstance(error, tuple) else (error,)
    return " or ".join(t.__name__ for t in types)


def params(cases):
    """The cases as pytest parameters, each with its id."""
    ids = [case.id for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError(f"Case ids must be unique. Received: duplicates={duplicates}")
    return [pytest.param(case, id=case.id) for case in cases]


def expect_clear(case):
    """Fails the test unless the case's verdict is ``clear error`` or ``right answer``."""
    result, detail = verdict(case)
    assert result in GOOD_VERDICTS, f"{case.id}: {result}: {detail}"


def run_limited(code, memory_gb=3.0, timeout_s=120.0):
    """Runs ``code`` in a fresh Python process under an address-space limit and a timeout.

    The child's last line of standard output is read as JSON and returned (print one
    ``json.dumps(...)`` at the end). Past the memory limit (a MemoryError, a failed allocation or a
    kill) or the timeout: ``LimitExceeded``. Any other failure: a RuntimeError with the child's
    last lines of standard error.
    """
    limit = int(memory_gb * 2**30)

    def limit_memory():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    try:
        child = subprocess.run(
            [sys.executable, "-c", code],
            preexec_fn=limit_memory,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=environment,
        )
    except subprocess.TimeoutExpired as error:
        raise LimitExceeded(f"the child ran past {timeout_s} s") from error
    tail = child.stderr.strip().splitlines()[-5:]
    memory_words = ("MemoryError", "bad_alloc", "OOM", "Resource exhausted", "Cannot allocate memory")
    if child.returncode != 0 and (child.returncode < 0 or any(word in child.stderr for word in memory_words)):
        raise LimitExceeded(f"the child ran past {memory_gb} GiB (exit {child.returncode}): {' | '.join(tail)}")
    if child.returncode != 0:
        raise RuntimeError(f"the child failed (exit {child.returncode}): {' | '.join(tail)}")
    lines = child.stdout.strip().splitlines()
    if not lines:
        raise RuntimeError(f"the child printed nothing: {' | '.join(tail)}")
    return json.loads(lines[-1])
