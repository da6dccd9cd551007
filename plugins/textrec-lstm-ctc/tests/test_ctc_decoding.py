"""CTC decoding on hand-built probability matrices with known answers, and beam search checked
against brute-force enumeration of every path."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from textrec_lstm_ctc.ctc import beam_decode, beam_decode_batch, greedy_decode, greedy_decode_batch

#: Classes of the hand-built examples: the blank is ``-``.
CLASSES = "-abc"
BLANK = 0


def frames(*rows: dict[str, float] | str) -> torch.Tensor:
    """Log-probabilities ``(T, len(CLASSES))``: a dict gives a frame's probabilities (the rest
    spread evenly over the other classes); a class name alone has probability 0.9."""
    probs = torch.zeros(len(rows), len(CLASSES))
    for t, row in enumerate(rows):
        row = {row: 0.9} if isinstance(row, str) else row
        others = [c for c in CLASSES if c not in row]
        for c in CLASSES:
            probs[t, CLASSES.index(c)] = row.get(c, (1 - sum(row.values())) / max(len(others), 1))
    return probs.log()


def spell(tokens: list[int]) -> str:
    return "".join(CLASSES[i] for i in tokens)


def collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    """The labelling a path spells: runs merged, blanks dropped."""
    return tuple(c for i, c in enumerate(path) if c != blank and (i == 0 or path[i - 1] != c))


def labelling_probabilities(log_probs: torch.Tensor, blank: int) -> dict[tuple[int, ...], float]:
    """Every labelling's probability, summed over all ``C ** T`` paths."""
    probs = log_probs.double().exp()
    totals: dict[tuple[int, ...], float] = {}
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        p = math.prod(probs[t, c].item() for t, c in enumerate(path))
        totals[collapse(path, blank)] = totals.get(collapse(path, blank), 0.0) + p
    return totals


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (("a", "b", "c"), "abc"),
        (("a", "a", "b", "b", "b"), "ab"),  # runs merge
        (("a", "-", "a"), "aa"),  # a blank between repeats keeps both
        (("a", "a", "-", "-", "a", "a"), "aa"),
        (("-", "a", "-", "b", "-"), "ab"),
        (("-", "-", "-"), ""),  # all blank reads nothing
        (("a",), "a"),
    ],
)
def test_greedy_reads_the_best_path(rows, expected):
    assert spell(greedy_decode(frames(*rows), BLANK)) == expected


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (("a", "b", "c"), "abc"),
        (("a", "a", "b", "b", "b"), "ab"),
        (("a", "-", "a"), "aa"),
        (("a", "a", "-", "-", "a", "a"), "aa"),
        (("-", "a", "-", "b", "-"), "ab"),
        (("-", "-", "-"), ""),
    ],
)
@pytest.mark.parametrize("beam_width", [1, 2, 10])
def test_beam_search_reads_confident_frames_like_greedy(rows, expected, beam_width):
    tokens, log_prob = beam_decode(frames(*rows), BLANK, beam_width)
    assert spell(tokens) == expected
    assert log_prob <= 0.0


def test_beam_search_finds_the_labelling_no_single_path_makes_best():
    """Two frames, each blank 0.6 and ``a`` 0.4: the best path is blank-blank (0.36, reading
    nothing), but ``a`` is spelled by ``a-``, ``-a`` and ``aa``: 0.24 + 0.24 + 0.16 = 0.64."""
    log_probs = frames({"-": 0.6, "a": 0.4}, {"-": 0.6, "a": 0.4})
    assert greedy_decode(log_probs, BLANK) == []
    tokens, log_prob = beam_decode(log_probs, BLANK, beam_width=2)
    assert spell(tokens) == "a"
    assert math.exp(log_prob) == pytest.approx(0.64, rel=1e-6)


def test_repeated_characters_need_a_blank_between_them():
    """``a a`` without a blank between is one ``a``: only ``a - a`` spells ``aa`` here. With a likely
    blank in the middle ``aa`` wins; with a likely ``a`` there the three frames merge into ``a``."""
    a = CLASSES.index("a")
    for middle, expected in (({"-": 0.7, "a": 0.2}, (a, a)), ({"-": 0.2, "a": 0.7}, (a,))):
        log_probs = frames({"a": 0.8}, middle, {"a": 0.8})
        exact = labelling_probabilities(log_probs, BLANK)
        assert exact[(a, a)] == pytest.approx(0.8 * middle["-"] * 0.8)
        assert max(exact, key=exact.get) == expected
        assert tuple(greedy_decode(log_probs, BLANK)) == expected
        tokens, log_prob = beam_decode(log_probs, BLANK, beam_width=10)
        assert tuple(tokens) == expected
        assert math.exp(log_prob) == pytest.approx(exact[expected], rel=1e-9)


@pytest.mark.parametrize("seed", range(40))
def test_a_wide_beam_finds_the_most_probable_labelling_and_its_probability(seed):
    generator = torch.Generator().manual_seed(seed)
    length, classes = 1 + seed % 5, 2 + seed % 3
    log_probs = (torch.randn(length, classes, generator=generator) * 2).log_softmax(dim=-1)
    blank = seed % classes
    exact = labelling_probabilities(log_probs, blank)
    tokens, log_prob = beam_decode(log_probs, blank, beam_width=64)
    assert exact[tuple(tokens)] == pytest.approx(max(exact.values()), rel=1e-9)
    assert math.exp(log_prob) == pytest.approx(exact[tuple(tokens)], rel=1e-9)


def peaky(length: int, classes: int, seed: int) -> torch.Tensor:
    """Log-probabilities with one clearly winning class per frame, as a trained network gives."""
    generator = torch.Generator().manual_seed(seed)
    return (torch.randn(length, classes, generator=generator) * 8).log_softmax(dim=-1)


@pytest.mark.parametrize("seed", range(10))
def test_a_beam_of_one_reads_confident_frames_like_greedy(seed):
    log_probs = peaky(60, 67, seed)
    assert beam_decode(log_probs, 64, beam_width=1)[0] == greedy_decode(log_probs, 64)


def test_batched_helpers_decode_each_sequence():
    batch = torch.stack([peaky(30, 5, seed) for seed in range(4)])
    assert greedy_decode_batch(batch, 2) == [greedy_decode(sequence, 2) for sequence in batch]
    assert beam_decode_batch(batch, 2, 3) == [beam_decode(sequence, 2, 3) for sequence in batch]


def test_numpy_and_torch_inputs_decode_alike():
    log_probs = peaky(20, 6, 0)
    assert greedy_decode(log_probs.numpy(), 1) == greedy_decode(log_probs, 1)
    assert beam_decode(log_probs.numpy(), 1, 4) == beam_decode(log_probs, 1, 4)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: greedy_decode(torch.zeros(3, 4, 5), 0), r"expected log-probabilities \(T, C\), got shape \(3, 4, 5\)"),
        (lambda: greedy_decode_batch(torch.zeros(3, 4), 0), r"\(B, T, C\), got shape \(3, 4\)"),
        (lambda: greedy_decode(torch.zeros(3, 4), 4), "blank index 4 is not one of the 4 classes"),
        (lambda: beam_decode(torch.zeros(3, 4), -1, 2), "blank index -1 is not one of the 4 classes"),
        (lambda: beam_decode(torch.zeros(3, 4), 0, 0), "beam_width must be at least 1, got 0"),
        (lambda: beam_decode(torch.zeros(3, 1), 0, 2), "a class besides the blank, got 1 classes"),
    ],
)
def test_bad_arguments_are_rejected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_beam_search_reads_a_long_line_over_the_full_alphabet():
    """A 240-frame line over the 67 line classes (about 10 ms with a beam of 10)."""
    log_probs = (torch.randn(240, 67, generator=torch.Generator().manual_seed(0)) * 3).log_softmax(dim=-1)
    tokens, log_prob = beam_decode(log_probs, 64, 10)
    assert math.isfinite(log_prob) and log_prob < 0
    assert tokens and 64 not in tokens


def test_lengths_limit_each_sequence_to_its_first_frames():
    torch.manual_seed(3)
    log_probs = torch.randn(3, 12, 5).log_softmax(dim=-1)
    lengths = torch.tensor([12, 5, 1])
    assert greedy_decode_batch(log_probs, 0, lengths) == [
        greedy_decode(sequence[:length], 0) for sequence, length in zip(log_probs, lengths.tolist())
    ]
    assert beam_decode_batch(log_probs, 0, 4, lengths) == [
        beam_decode(sequence[:length], 0, 4) for sequence, length in zip(log_probs, lengths.tolist())
    ]
    assert greedy_decode_batch(log_probs, 0, torch.tensor([12, 12, 12])) == greedy_decode_batch(log_probs, 0)


def prefix_scores(classes: int, seed: int):
    """Extension scores that depend on the whole prefix, as a language model's do: a fixed random
    table indexed by the prefix's length and last class."""
    table = torch.randn(8, classes + 1, classes, generator=torch.Generator().manual_seed(seed)).double().numpy()

    def scores(prefix: tuple[int, ...]):
        return table[len(prefix), prefix[-1] if prefix else classes]

    return scores


@pytest.mark.parametrize("seed", range(30))
def test_a_wide_fused_beam_finds_the_labelling_of_best_ctc_plus_extension_score(seed):
    """Fused score of a labelling: log of its CTC probability (every path) plus the extension
    score of each of its characters after the prefix before it; the beam finds the best, exactly."""
    generator = torch.Generator().manual_seed(seed)
    length, classes = 1 + seed % 5, 2 + seed % 3
    log_probs = (torch.randn(length, classes, generator=generator) * 2).log_softmax(dim=-1)
    blank = seed % classes
    scores = prefix_scores(classes, seed)
    fused = {labelling: math.log(p) + sum(scores(labelling[:i])[c] for i, c in enumerate(labelling))
             for labelling, p in labelling_probabilities(log_probs, blank).items() if p > 0}
    tokens, score = beam_decode(log_probs, blank, beam_width=64, extension_scores=scores)
    assert fused[tuple(tokens)] == pytest.approx(max(fused.values()), rel=1e-9)
    assert score == pytest.approx(fused[tuple(tokens)], rel=1e-9)


def test_extension_scores_can_overturn_the_acoustics_and_zero_scores_change_nothing():
    log_probs = frames({"a": 0.5, "b": 0.4}, "-")
    assert spell(beam_decode(log_probs, BLANK, 4)[0]) == "a"
    favour_b = [0.0, -3.0, 0.0, -3.0]  # by class: blank, a, b, c
    tokens, _ = beam_decode(log_probs, BLANK, 4, extension_scores=lambda prefix: torch.tensor(favour_b).numpy())
    assert spell(tokens) == "b"
    batch = torch.stack([peaky(30, 5, seed) for seed in range(3)])
    zeros = beam_decode_batch(batch, 2, 5, extension_scores=lambda prefix: torch.zeros(5).double().numpy())
    assert zeros == beam_decode_batch(batch, 2, 5)
