"""Confidence voting against hand-worked answers, bad inputs, and two properties.

Scores in the comments are ``weight * confidence`` summed per candidate piece; a voted character's confidence is its
piece's score over the total weight. With default weights the total weight is the number of readings.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_ensembler import Reading, Vote, vote


def flat(text: str, confidence: float) -> Reading:
    """A reading whose characters all have the same confidence."""
    return Reading(text, (confidence,) * len(text))


def assert_vote(result: Vote, text: str, confidences: tuple[float, ...], agreement: float) -> None:
    assert result.text == text
    assert result.confidences == pytest.approx(confidences)
    assert result.agreement == pytest.approx(agreement)


def test_majority_wins_a_substitution():
    # e: "e" 0.9 + 0.9 against "a" 0.9; 4 of 5 segments agree.
    result = vote([flat("hello", 0.9), flat("hallo", 0.9), flat("hello", 0.9)])
    assert_vote(result, "hello", (0.9, 1.8 / 3, 0.9, 0.9, 0.9), 0.8)


def test_majority_outvotes_a_deleted_character():
    # "helo" leaves out the first "l" of the pivot "hello": "l" 1.8 against "" 0.9 (the mean of "helo").
    result = vote([flat("hello", 0.9), flat("helo", 0.9), flat("hello", 0.9)])
    assert_vote(result, "hello", (0.9, 0.9, 1.8 / 3, 0.9, 0.9), 0.8)


def test_majority_outvotes_an_inserted_character():
    # "helllo" inserts an "l" in a gap: "" 1.8 against "l" 0.9; 5 of 6 segments (5 characters, 1 gap) agree.
    result = vote([flat("hello", 0.9), flat("helllo", 0.9), flat("hello", 0.9)])
    assert_vote(result, "hello", (0.9,) * 5, 5 / 6)


def test_majority_inserts_a_character_the_pivot_lacks():
    # The pivot "helo" comes first among equal means; the gap before its "l" gets "l" 1.8 against "" 0.9.
    result = vote([flat("helo", 0.9), flat("hello", 0.9), flat("hello", 0.9)])
    assert_vote(result, "hello", (0.9, 0.9, 1.8 / 3, 0.9, 0.9), 0.8)


def test_confident_minority_beats_an_unsure_majority():
    # Pivot: the first "hello" (mean 0.76 against 0.59). On its "e": "e" 0.2 + 0.2 against "a" 0.95.
    unsure = Reading("hello", (0.9, 0.2, 0.9, 0.9, 0.9))
    confident = Reading("hallo", (0.5, 0.95, 0.5, 0.5, 0.5))
    result = vote([unsure, unsure, confident])
    assert_vote(result, "hallo", (2.3 / 3, 0.95 / 3, 2.3 / 3, 2.3 / 3, 2.3 / 3), 0.8)


def test_empty_piece_scores_the_members_mean_confidence():
    # "helo" (mean 0.7) leaves out the pivot's first "l": the backtrace pairs the last characters first, so the
    # later "l"s are aligned. "" 0.7 beats the pivot's unsure "l" 0.2; every other character scores 0.9 + 0.7.
    pivot = Reading("hello", (0.9, 0.9, 0.2, 0.9, 0.9))
    result = vote([pivot, flat("helo", 0.7)])
    assert_vote(result, "helo", (0.8, 0.8, 0.8, 0.8), 0.8)


def test_alignment_prefers_leaving_a_pivot_character_unmatched_to_an_insertion():
    # "bab" is two edits from the pivot "aba" either way: "b" + "ab" with the last "a" unmatched (chosen, as the
    # backtrace from the ends tries that before inserting the last "b"), or "ab" shifted right with the first "a"
    # unmatched. Contested segments, each a tie won by the pivot: the leading gap ("" against "b") and the last "a".
    assert_vote(vote([flat("aba", 0.9), flat("bab", 0.9)]), "aba", (0.9, 0.9, 0.45), 0.5)


def test_weights_change_the_outcome():
    readings = [flat("cat", 1.0), flat("cut", 1.0), flat("cut", 1.0)]
    # "u" 1 + 1 against "a" 1.
    assert_vote(vote(readings), "cut", (1.0, 2 / 3, 1.0), 2 / 3)
    # "a" 3 against "u" 1 + 1, over a total weight of 5.
    assert_vote(vote(readings, weights=[3, 1, 1]), "cat", (1.0, 0.6, 1.0), 2 / 3)


def test_tie_goes_to_the_pivot():
    # Equal means, so the first reading is the pivot; "b" 1 ties "c" 1.
    assert_vote(vote([flat("ab", 1.0), flat("ac", 1.0)]), "ab", (1.0, 0.5), 0.5)
    assert_vote(vote([flat("ac", 1.0), flat("ab", 1.0)]), "ac", (1.0, 0.5), 0.5)


def test_tie_between_non_pivot_pieces_goes_to_the_first_in_sort_order():
    # Pivot "xa" (mean 0.55); its "a" 0.1 loses to "b" 0.5 and "c" 0.5, which tie; "b" sorts first.
    pivot = Reading("xa", (1.0, 0.1))
    b_reading, c_reading = flat("xb", 0.5), flat("xc", 0.5)
    for readings in ([pivot, b_reading, c_reading], [pivot, c_reading, b_reading]):
        assert_vote(vote(readings), "xb", (2.0 / 3, 0.5 / 3), 0.5)


def test_identical_readings_agree_fully():
    reading = Reading("line", (0.5, 0.75, 1.0, 0.25))
    assert_vote(vote([reading] * 3), "line", (0.5, 0.75, 1.0, 0.25), 1.0)


def test_single_reading_comes_back_unchanged():
    # Exactly: voting it would give 3 * 0.1 / 3 = 0.10000000000000002.
    reading = Reading("abc", (0.5, 0.1, 1.0))
    assert vote([reading], weights=[3.0]) == Vote("abc", (0.5, 0.1, 1.0), 1.0)


def test_all_empty_readings_vote_empty_with_full_agreement():
    assert vote([flat("", 0.5), flat("", 0.5)]) == Vote("", (), 1.0)


def test_an_empty_reading_is_outvoted_by_a_majority():
    # Each character: 0.9 + 0.9 against the empty reading's 1; no segment agrees.
    result = vote([flat("abc", 0.9), flat("", 0.5), flat("abc", 0.9)])
    assert_vote(result, "abc", (0.6, 0.6, 0.6), 0.0)


def test_an_empty_reading_beats_an_unsure_reading():
    # The empty reading's pieces score 1 against "a" 0.6 and "b" 0.6.
    assert_vote(vote([flat("", 0.5), flat("ab", 0.6)]), "", (), 0.0)


def test_an_empty_reading_is_never_the_pivot():
    # Pivot: the first "hello", so each character is voted on its own: "h" 0.9 * 3 against "" 1, and on "e":
    # "e" 0.9 * 2 against "" 1 and "a" 0.9. (An empty pivot would vote whole lines: "hello" 1.8 on every character.)
    result = vote([flat("", 0.5), flat("hello", 0.9), flat("hello", 0.9), flat("hallo", 0.9)])
    assert_vote(result, "hello", (0.675, 0.45, 0.675, 0.675, 0.675), 0.0)


@pytest.mark.parametrize(
    ("texts", "voted", "confidences", "agreement"),
    [
        (("naïve", "naive", "naïve"), "naïve", (0.9, 0.9, 0.6, 0.9, 0.9), 0.8),
        (("東京都", "東京", "東京都"), "東京都", (0.9, 0.9, 0.6), 2 / 3),
    ],
)
def test_unicode(texts, voted, confidences, agreement):
    assert_vote(vote([flat(text, 0.9) for text in texts]), voted, confidences, agreement)


def test_no_readings_is_an_error():
    with pytest.raises(ValueError, match="at least one reading"):
        vote([])


def test_confidence_count_must_match_the_text():
    with pytest.raises(ValueError, match="2 characters but 1 confidences"):
        Reading("ab", (0.5,))


@pytest.mark.parametrize("confidence", [0.0, -0.5, 1.5, math.nan])
def test_confidence_must_be_in_the_unit_interval(confidence):
    with pytest.raises(ValueError, match=r"confidence .* at index 1 of 'ab' is outside \(0, 1\]"):
        Reading("ab", (0.5, confidence))


def test_weights_must_match_the_readings():
    with pytest.raises(ValueError, match="got 1 weights for 2 readings"):
        vote([flat("a", 1.0), flat("b", 1.0)], weights=[1.0])


@pytest.mark.parametrize("weight", [0.0, -1.0, math.inf, math.nan])
def test_weights_must_be_positive_and_finite(weight):
    with pytest.raises(ValueError, match="weight .* at index 1 is not a positive finite number"):
        vote([flat("a", 1.0), flat("b", 1.0)], weights=[1.0, weight])


def test_weights_must_sum_to_a_finite_float():
    with pytest.raises(ValueError, match="sum overflows"):
        vote([flat("a", 1.0), flat("b", 1.0)], weights=[1e308, 1e308])


confidences_st = st.floats(min_value=0.0, max_value=1.0, exclude_min=True)
weights_st = st.floats(min_value=0.1, max_value=10.0)


@st.composite
def readings_st(draw, min_size: int = 0) -> Reading:
    """A reading over a small alphabet, so that readings share characters, with arbitrary confidences."""
    text = draw(st.text(alphabet="abé東", min_size=min_size, max_size=8))
    return Reading(text, draw(st.lists(confidences_st, min_size=len(text), max_size=len(text))))


@settings(deadline=None)
@given(readings_st(), st.integers(min_value=1, max_value=5))
def test_identical_readings_vote_that_reading(reading, count):
    result = vote([reading] * count)
    assert_vote(result, reading.text, reading.confidences, 1.0)


@settings(deadline=None)
@given(st.data())
def test_vote_ignores_the_order_of_non_pivot_readings(data):
    # Fully confident and first, this reading is the pivot whatever the others are.
    pivot = data.draw(readings_st(min_size=1).map(lambda reading: Reading(reading.text, (1.0,) * len(reading.text))))
    others = data.draw(st.lists(readings_st(), max_size=4))
    weights = data.draw(st.lists(weights_st, min_size=len(others) + 1, max_size=len(others) + 1))
    order = data.draw(st.permutations(range(len(others))))
    shuffled = vote([pivot, *(others[i] for i in order)], [weights[0], *(weights[1 + i] for i in order)])
    assert shuffled == vote([pivot, *others], weights)


@settings(deadline=None)
@given(st.lists(readings_st(), min_size=1, max_size=5), st.data())
def test_vote_is_well_formed(readings, data):
    weights = data.draw(st.lists(weights_st, min_size=len(readings), max_size=len(readings)))
    result = vote(readings, weights)
    assert len(result.confidences) == len(result.text)
    assert all(0.0 <= confidence <= 1.0 for confidence in result.confidences)
    assert 0.0 <= result.agreement <= 1.0
