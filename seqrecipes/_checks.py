"""The argument checks that layers/, data/ and recipes/ share.

Each check takes ``(name, value, ...)`` in that order, returns the value when it passes and
otherwise raises a ValueError that names the argument, says what was expected and ends with what
was received: ``"`units` must be a positive integer. Received: units=0"``. ``owner``, where
given, names the class the argument belongs to: ``"`units` of LSTMCell must be ..."``.

Integers may be Python or NumPy integers (never bools) and come back as Python ints; numbers
must be finite.
"""

import math
import numbers

__all__ = ["check_bool", "check_choice", "check_positive_int", "check_positive_number", "check_rate"]


def _subject(name, owner):
    return f"`{name}`" if owner is None else f"`{name}` of {owner}"


def _fail(name, value, expected, owner):
    raise ValueError(f"{_subject(name, owner)} must be {expected}. Received: {name}={value!r:.200}")


def _is_integer(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def check_positive_int(name, value, owner=None):
    """``value`` as an int if it is an integer >= 1; a ValueError naming ``name`` otherwise.

    Example:
    >>> check_positive_int("units", 8)
    8
    >>> check_positive_int("units", 0, owner="LSTMCell")
    Traceback (most recent call last):
    ...
    ValueError: `units` of LSTMCell must be a positive integer. Received: units=0
    """
    if not _is_integer(value) or value < 1:
        _fail(name, value, "a positive integer", owner)
    return int(value)


def check_positive_number(name, value, owner=None):
    """``value`` if it is a finite number > 0 (a learning rate, a clipping norm); a ValueError otherwise.

    Example:
    >>> check_positive_number("learning_rate", 1e-3)
    0.001
    >>> check_positive_number("learning_rate", float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: `learning_rate` must be a positive number. Received: learning_rate=nan
    """
    if not _is_number(value) or value <= 0:
        _fail(name, value, "a positive number", owner)
    return value


def check_rate(name, value, owner=None):
    """``value`` if it is a number in [0, 1) (a dropout rate); a ValueError otherwise.

    Example:
    >>> check_rate("dropout", 0.1)
    0.1
    >>> check_rate("dropout", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: `dropout` must be a number in [0, 1). Received: dropout=1.0
    """
    if not _is_number(value) or not 0.0 <= value < 1.0:
        _fail(name, value, "a number in [0, 1)", owner)
    return value


def check_bool(name, value, owner=None):
    """``value`` if it is True or False; a ValueError otherwise.

    Example:
    >>> check_bool("bidirectional", "yes")
    Traceback (most recent call last):
    ...
    ValueError: `bidirectional` must be True or False. Received: bidirectional='yes'
    """
    if not isinstance(value, bool):
        _fail(name, value, "True or False", owner)
    return value


def check_choice(name, value, choices, owner=None):
    """``value`` if it is one of ``choices`` (any collection); a ValueError listing them otherwise.

    Example:
    >>> check_choice("cell", "lstm", ("gru", "lstm"))
    'lstm'
    >>> check_choice("cell", "rnn", ("gru", "lstm"))
    Traceback (most recent call last):
    ...
    ValueError: `cell` must be one of ['gru', 'lstm']. Received: cell='rnn'
    """
    try:
        known = value in choices
    except TypeError:  # an unhashable value cannot be a key of a dict of choices
        known = False
    if not known:
        _fail(name, value, f"one of {sorted(choices)}", owner)
    return value
