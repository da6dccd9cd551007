"""The shared argument checks: each names the argument and says what it must be."""

from __future__ import annotations

import math

import pytest

from textrec_core.errors import ArgumentError
from textrec_core.services.arguments import check_integer, check_range


@pytest.mark.parametrize(("value", "minimum"), [(1, 1), (0, 0), (10**12, 1)])
def test_integers_at_the_minimum_or_above_pass(value, minimum):
    check_integer("n", value, minimum=minimum)


@pytest.mark.parametrize(("value", "minimum", "problem"), [
    (0, 1, "n: must be at least 1, got 0"),
    (-3, 0, "n: must be at least 0, got -3"),
    (True, 0, "n: must be an integer, got True"),
    (2.0, 1, "n: must be an integer, got 2.0"),
    ("4", 1, "n: must be an integer, got '4'"),
])
def test_other_values_are_an_argument_error_naming_the_argument(value, minimum, problem):
    with pytest.raises(ArgumentError) as raised:
        check_integer("n", value, minimum=minimum)
    assert (str(raised.value), raised.value.argument) == (problem, "n")


@pytest.mark.parametrize(("value", "closed", "inside"), [
    (0.0, "[)", True), (1.0, "[)", False), (0.0, "(]", False), (1.0, "(]", True), (1, "[]", True),
    (0.5, "()", True), (-1e-9, "[]", False), (math.nan, "[]", False), (math.inf, "[)", False), (False, "[]", False),
    ("0.5", "[]", False),
])
def test_range_ends_are_open_or_closed_as_asked(value, closed, inside):
    if inside:
        check_range("dropout", value, 0, 1, closed=closed)
    else:
        with pytest.raises(ArgumentError, match=rf"^dropout: must be in \{closed[0]}0, 1\{closed[1]}, got "):
            check_range("dropout", value, 0, 1, closed=closed)


def test_an_unbounded_range_reads_as_such():
    with pytest.raises(ArgumentError, match=r"shift: must be in \[0, inf\), got -1"):
        check_range("shift", -1, 0, math.inf)
