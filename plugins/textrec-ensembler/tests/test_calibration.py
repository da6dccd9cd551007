"""Calibrating an ensemble's confidence: the isotonic fit by hand, the knots' checks, and the members'
character calibration (a bundle calibrated on a validation split: test_ensemble.py)."""

from __future__ import annotations

import pytest
import torch

from textrec_core import ArgumentError, TensorSplit
from textrec_core.errors import DataError
from textrec_core.mapping import PAD, CharacterMapping
from textrec_ensembler.calibration import calibrated, character_outcomes, check_knots, fit_characters, isotonic
from textrec_ensembler.voting import Reading


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


@pytest.mark.parametrize(("reading", "truth", "outcomes"), [
    ("abc", "abc", [1, 1, 1]),
    ("abd", "abc", [1, 1, 0]),          # a substitution
    ("abxc", "abc", [1, 1, 0, 1]),      # an insertion
    ("ac", "abc", [1, 1]),              # a deletion costs no character of the reading
    ("", "abc", []),
    ("ab", "", [0, 0]),
    ("ba", "ab", [0, 0]),               # two substitutions: the alignment prefers them to a deletion and an insertion
])
def test_character_outcomes_mark_the_characters_a_minimal_alignment_matches(reading, truth, outcomes):
    assert character_outcomes(reading, truth) == outcomes


MAPPING = CharacterMapping((PAD, "a", "b"))


def split_of(texts: list[str]) -> TensorSplit:
    """Blank 4 x 4 images labeled ``texts`` (the members below do not look at them)."""
    labels = torch.zeros(len(texts), 3, dtype=torch.long)
    for row, text in enumerate(texts):
        labels[row, : len(text)] = torch.tensor([MAPPING.index(c) for c in text])
    return TensorSplit(torch.zeros(len(texts), 4, 4, dtype=torch.uint8), labels)


def test_fit_characters_maps_each_members_confidence_to_how_often_its_characters_are_right():
    # member 0 reads "ab" for every line, sure of "a" (0.9) and unsure of "b" (0.4); member 1 reads
    # "aa" at 0.8 throughout. Truths: "ab" twice, "aa" twice.
    def read_members(images):
        return [[Reading("ab", (0.9, 0.4))] * len(images), [Reading("aa", (0.8, 0.8))] * len(images)]

    knots = fit_characters(read_members, split_of(["ab", "aa", "ab", "aa"]), MAPPING, batch_size=3, progress=False)
    # member 0: "a" always right (1.0 at 0.9), "b" right on half the lines (0.5 at 0.4)
    assert knots[0] == [[pytest.approx(0.4), 0.5], [pytest.approx(0.9), 1.0]]
    # member 1: 8 characters at 0.8, of which 6 right ("a" 4 times, the second "a" on the "aa" lines)
    assert knots[1] == [[pytest.approx(0.8), 0.75]]


def test_isotonic_keeps_equal_scores_in_one_knot_whatever_their_float_sums():
    # 0.8 + 0.8 + 0.8 is not 3 * 0.8 in floating point; the three are still one point of the fit
    assert flat(isotonic([0.8, 0.1, 0.8, 0.8], [1.0, 0.0, 0.0, 1.0])) == pytest.approx([0.1, 0.0, 0.8, 2 / 3])


def test_fit_characters_refuses_a_member_that_read_nothing():
    def read_members(images):
        return [[Reading("a", (0.9,))] * len(images), [Reading("", ())] * len(images)]

    with pytest.raises(DataError, match="a member read no character"):
        fit_characters(read_members, split_of(["a"]), MAPPING, progress=False)
