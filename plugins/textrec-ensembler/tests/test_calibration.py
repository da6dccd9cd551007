"""Calibrating an ensemble's confidence: the isotonic fit by hand and the knots' checks (a bundle
calibrated on a validation split: test_ensemble.py)."""

from __future__ import annotations

import pytest

from textrec_core import ArgumentError
from textrec_ensembler.calibration import calibrated, check_knots, isotonic


def flat(knots: list[list[float]]) -> list[float]:
    return [value for knot in knots for value in knot]


def test_isotonic_pools_adjacent_violators_by_hand():
    # 0.2 then 0.1 violate the order: pooled to their means; the rest already increase
    assert flat(isotonic([0.3, 0.1, 0.2, 0.4], [0.5, 0.2, 0.1, 0.9])) == pytest.approx([0.15, 0.15, 0.3, 0.5, 0.4, 0.9])
    # equal scores are one knot, whatever their targets
    assert flat(isotonic([0.5, 0.5, 0.9], [0.0, 1.0, 0.8])) == pytest.approx([0.5, 0.5, 0.9, 0.8])
    # a decreasing run pools into one knot
    assert flat(isotonic([0.1, 0.2, 0.3], [0.9, 0.6, 0.3])) == pytest.approx([0.2, 0.6])
    with pytest.raises(ValueError, match="one target per score"):
        isotonic([0.1], [])


def test_calibrated_interpolates_between_knots_and_holds_beyond_them():
    knots = [[0.2, 0.1], [0.6, 0.5], [0.8, 0.9]]
    assert calibrated(knots, 0.4) == pytest.approx(0.3)
    assert calibrated(knots, 0.7) == pytest.approx(0.7)
    assert calibrated(knots, 0.0) == pytest.approx(0.1) and calibrated(knots, 1.0) == pytest.approx(0.9)


@pytest.mark.parametrize("knots", [[], [[0.1]], [[0.1, 1.5]], [[0.5, 0.2], [0.5, 0.3]], [[0.1, 0.5], [0.2, 0.4]],
                                   "0.5", [[True, 0.5]]])
def test_bad_knots_are_argument_errors(knots):
    with pytest.raises(ArgumentError, match="calibration"):
        check_knots(knots)
