"""Checks of a component's keyword arguments, each raising
:class:`~textrec_core.errors.ArgumentError` naming the argument, so that ``textrec-run`` reports
``<section>.<argument>: <problem>`` before any work. Booleans are never numbers here."""

from __future__ import annotations

import math
import numbers

from textrec_core.errors import ArgumentError


def check_integer(argument: str, value: object, *, minimum: int = 1) -> None:
    """``value`` must be an integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentError(argument, f"must be an integer, got {value!r}")
    if value < minimum:
        raise ArgumentError(argument, f"must be at least {minimum}, got {value}")


def check_range(argument: str, value: object, low: float, high: float, *, closed: str = "[)") -> None:
    """``value`` must be a number in the interval from ``low`` to ``high``, each end included
    where ``closed`` has a square bracket: ``"[)"`` (the default) is ``low <= value < high``."""
    left, right = closed
    number = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
    inside = number and (low <= value if left == "[" else low < value) and (value <= high if right == "]" else
                                                                            value < high)
    if not inside:
        raise ArgumentError(argument, f"must be in {left}{low:g}, {high:g}{right}, got {value!r}")
