"""Text metrics: edit distance against known answers and a reference DP, corpus-level CER and WER."""

from __future__ import annotations

import timeit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from textrec_core.services.metrics import character_error_rate, edit_distance, error_rate, word_error_rate


def reference_distance(a, b) -> int:
    """The textbook Wagner-Fischer table, row by row."""
    previous = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous[-1]


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("kitten", "sitting", 3),
        ("sitting", "kitten", 3),
        ("flaw", "lawn", 2),
        ("", "", 0),
        ("", "abc", 3),
        ("abc", "", 3),
        ("same line", "same line", 0),
        ("abc", "xyz", 3),
        ("ab", "ba", 2),
        ("café", "cafe", 1),
        ("日本語", "日本", 1),
        ("a🙂b", "ab", 1),
        ("e\u0301", "é", 2),  # combining accent: two code points against one
        (["the", "cat", "sat"], ["the", "sat"], 1),
        ((1, 2, 3), [1, 3], 1),
    ],
)
def test_known_distances(a, b, distance):
    assert edit_distance(a, b) == distance


def test_long_sequences_beyond_one_machine_word():
    a = "ab" * 100
    assert edit_distance(a, a[1:] + "c") == 2
    assert edit_distance(a, "b" * 200) == 100


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abc ", max_size=40), st.text(alphabet="abc ", max_size=40))
def test_agrees_with_the_reference_table(a, b):
    assert edit_distance(a, b) == reference_distance(a, b)


def test_fast_enough_for_thousands_of_lines():
    a, b = "A MOVE to stop Mr Gaitskell from no", "A MOVE t0 stop Mr. Gaitskel from nom"
    seconds = min(timeit.repeat(lambda: edit_distance(a, b), number=200, repeat=3)) / 200
    assert seconds < 200e-6  # about 10 µs on a quiet core; generous for a shared machine


def test_character_error_rate_is_corpus_level():
    # 1 error in a 10-character line and 1 in a 2-character line: 2 / 12, not the mean of 0.1 and 0.5
    rate = character_error_rate(["abcdefghiX", "aX"], ["abcdefghij", "ab"])
    assert rate == pytest.approx(2 / 12)


def test_character_error_rate_of_perfect_and_empty_inputs():
    assert character_error_rate(["hello", "world"], ["hello", "world"]) == 0.0
    assert character_error_rate([], []) == 0.0
    assert character_error_rate([""], [""]) == 0.0


def test_an_empty_truth_adds_insertions_but_no_length():
    assert character_error_rate(["abc", "xy"], ["abc", ""]) == pytest.approx(2 / 3)


def test_insertions_can_exceed_one():
    assert character_error_rate(["abcd"], ["a"]) == 3.0


def test_predictions_against_only_empty_truths_are_undefined():
    with pytest.raises(ValueError, match="undefined: 2 errors against empty truths"):
        character_error_rate(["ab"], [""])


def test_mismatched_lengths_are_rejected():
    with pytest.raises(ValueError, match="2 predictions but 1 truths"):
        character_error_rate(["a", "b"], ["a"])


def test_word_error_rate_splits_on_whitespace():
    assert word_error_rate(["the cat  sat"], ["the  cat sat"]) == 0.0
    assert word_error_rate(["the bat sat down"], ["the cat sat"]) == pytest.approx(2 / 3)
    assert word_error_rate(["", "a b"], ["x y", "a b"]) == pytest.approx(2 / 4)


def test_error_rate():
    assert error_rate(3, 4) == 0.75
    assert error_rate(0, 0) == 0.0
    with pytest.raises(ValueError):
        error_rate(1, 0)
