"""The shared argument checks: what passes, what comes back, and the one message pattern."""

import re

import numpy as np
import pytest

from seqrecipes._checks import check_bool, check_choice, check_positive_int, check_positive_number, check_rate


def test_passing_values_come_back():
    assert check_positive_int("units", np.int64(3)) == 3 and type(check_positive_int("units", np.int64(3))) is int
    assert check_positive_number("learning_rate", 2) == 2
    assert check_rate("dropout", 0) == 0
    assert check_bool("stateful", False) is False
    assert check_choice("cell", "gru", {"gru": 1, "lstm": 2}) == "gru"


@pytest.mark.parametrize(
    "check, value, expected",
    [
        (check_positive_int, True, "a positive integer"),
        (check_positive_int, 2.0, "a positive integer"),
        (check_positive_int, -1, "a positive integer"),
        (check_positive_number, float("inf"), "a positive number"),
        (check_positive_number, 0.0, "a positive number"),
        (check_positive_number, "1e-3", "a positive number"),
        (check_rate, float("nan"), r"a number in \[0, 1\)"),
        (check_rate, -0.1, r"a number in \[0, 1\)"),
        (check_bool, 1, "True or False"),
    ],
)
def test_failing_values_name_the_argument_the_expectation_and_the_value(check, value, expected):
    with pytest.raises(ValueError) as error:
        check("x", value)
    message = str(error.value)
    assert message.startswith("`x` must be ") and message.endswith(f". Received: x={value!r}")
    assert re.search(expected, message)


def test_owner_and_choices_appear_in_the_message():
    with pytest.raises(ValueError, match=r"^`units` of LSTMCell must be a positive integer. Received: units=0$"):
        check_positive_int("units", 0, owner="LSTMCell")
    with pytest.raises(ValueError, match=r"must be one of \['gru', 'lstm'\]. Received: cell=\['gru'\]"):
        check_choice("cell", ["gru"], {"gru": 1, "lstm": 2})
