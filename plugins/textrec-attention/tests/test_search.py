"""Greedy decoding and beam search on hand-built step functions, whose best readings are known."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from textrec_attention import Hypothesis, beam_search, greedy_search

START, END, A, B = 0, 1, 2, 3
CPU = torch.device("cpu")


def markov_step(table: list[list[float]]):
    """A step function whose next-token probabilities depend only on the previous token (the state)."""
    log_table = torch.tensor(table).log()

    def step(tokens: torch.Tensor, state: torch.Tensor):
        return log_table[tokens], state

    return step


#: After <start>: "a" 0.5, "b" 0.4, <end> 0.1. After "a" everything is doubtful; after "b" <end> is sure.
#: Greedy reads "a<end>" (geometric mean sqrt(0.5 * 0.34) = 0.41); the best reading is "b<end>" (0.63).
TRAP = [
    [0.0, 0.1, 0.5, 0.4],  # after <start>
    [0.0, 1.0, 0.0, 0.0],  # after <end> (never used)
    [0.0, 0.34, 0.33, 0.33],  # after "a"
    [0.0, 0.99, 0.005, 0.005],  # after "b"
]


def prefix_step(num_classes: int):
    """A step function whose log-probabilities depend on the whole prefix, pseudo-randomly.

    The state is a number that codes the prefix; token 0 (``<start>``) is never allowed."""
    columns = torch.arange(num_classes, dtype=torch.float64)

    def step(tokens: torch.Tensor, code: torch.Tensor):
        code = code * num_classes + tokens
        logits = 3.0 * torch.sin(code.double().unsqueeze(1) * 12.9898 + columns * 78.233 + 0.5)
        logits[:, START] = float("-inf")
        return logits.log_softmax(dim=1), code

    return step


def brute_force_best(step, code: int, num_classes: int, max_length: int) -> Hypothesis:
    """The best-scoring sequence by enumerating every one: ended by <end>, or cut at ``max_length``."""
    best = None
    tokens = [t for t in range(num_classes) if t not in (START, END)]
    for length in range(1, max_length + 1):
        bodies = itertools.product(tokens, repeat=length - 1)
        candidates = [list(body) + [END] for body in bodies]
        if length == max_length:
            candidates += [list(body) for body in itertools.product(tokens, repeat=length)]
        for sequence in candidates:
            state, previous, log_probs = torch.tensor([code]), START, []
            for token in sequence:
                step_log_probs, state = step(torch.tensor([previous]), state)
                log_probs.append(step_log_probs[0, token].item())
                previous = token
            hypothesis = Hypothesis(sequence, log_probs)
            if best is None or hypothesis.score > best.score:
                best = hypothesis
    return best


def beam(step, state: torch.Tensor, width: int, max_length: int) -> list[Hypothesis]:
    return beam_search(step, state.repeat_interleave(width), batch_size=len(state), beam_width=width, start=START,
                       end=END, device=CPU, max_length=max_length)


def test_greedy_search_stops_each_sequence_at_its_end():
    """Row i ends after i + 1 tokens; rows that ended hold <end> with log-probability 0; the search
    stops when the last row ends, not at max_length."""
    lengths = torch.tensor([1, 3, 2])
    calls = []

    def step(tokens, count):
        calls.append(1)
        count = count + 1
        logits = torch.zeros(len(count), 4)
        logits[:, A] = 2.0
        logits[count == lengths, END] = 5.0
        return logits.log_softmax(dim=1), count

    tokens, log_probs = greedy_search(step, torch.zeros(3, dtype=torch.long), batch_size=3, start=START, end=END,
                                      device=CPU, max_length=10)
    assert tokens.tolist() == [[END, END, END], [A, A, END], [A, END, END]]
    assert len(calls) == 3
    assert log_probs[0, 1:].tolist() == [0.0, 0.0] and log_probs[2, 2].item() == 0.0
    assert (log_probs[1] < 0).all()


def test_greedy_search_cuts_at_max_length():
    tokens, log_probs = greedy_search(markov_step(TRAP), torch.zeros(2), batch_size=2, start=START, end=END,
                                      device=CPU, max_length=1)
    assert tokens.tolist() == [[A], [A]]
    assert log_probs[:, 0].tolist() == pytest.approx([math.log(0.5)] * 2)


def test_beam_search_finds_the_reading_greedy_misses():
    step = markov_step(TRAP)
    tokens, _ = greedy_search(step, torch.zeros(1), batch_size=1, start=START, end=END, device=CPU, max_length=5)
    assert tokens.tolist() == [[A, END]]
    (best,) = beam(step, torch.zeros(1), width=2, max_length=5)
    assert best.tokens == [B, END]
    assert best.log_probs == pytest.approx([math.log(0.4), math.log(0.99)])
    assert best.score == pytest.approx(math.log(math.sqrt(0.4 * 0.99)))
    assert best.score > (math.log(0.5) + math.log(0.34)) / 2


@pytest.mark.parametrize("max_length", [1, 3, 4])
def test_a_wide_enough_beam_finds_the_best_sequence_of_all(max_length):
    """With more beams than sequences, beam search is exhaustive: it must return the brute-force optimum
    of its documented score, cut sequences included."""
    num_classes = 5
    step = prefix_step(num_classes)
    codes = torch.tensor([7, 11, 12])
    found = beam(step, codes, width=128, max_length=max_length)
    for code, hypothesis in zip(codes.tolist(), found):
        best = brute_force_best(step, code, num_classes, max_length)
        assert hypothesis.tokens == best.tokens
        assert hypothesis.score == pytest.approx(best.score)


def test_beam_width_one_is_greedy_search():
    step = prefix_step(6)
    codes = torch.arange(20, 36)
    tokens, log_probs = greedy_search(step, codes, batch_size=16, start=START, end=END, device=CPU, max_length=8)
    for row, row_log_probs, hypothesis in zip(tokens.tolist(), log_probs.tolist(), beam(step, codes, 1, 8)):
        length = row.index(END) + 1 if END in row else len(row)
        assert hypothesis.tokens == row[:length]
        assert hypothesis.log_probs == pytest.approx(row_log_probs[:length])


def test_items_of_a_batch_are_searched_independently():
    step = prefix_step(6)
    codes = torch.tensor([3, 40, 41, 99])
    together = beam(step, codes, width=4, max_length=6)
    alone = [beam(step, codes[i : i + 1], width=4, max_length=6)[0] for i in range(len(codes))]
    assert together == alone


def test_a_beam_never_scores_worse_than_greedy_on_these_prefix_trees():
    """Not a guarantee of beam search in general, but it holds for these deterministic trees."""
    step = prefix_step(6)
    codes = torch.arange(100, 140)
    tokens, log_probs = greedy_search(step, codes, batch_size=40, start=START, end=END, device=CPU, max_length=6)
    for row, row_log_probs, hypothesis in zip(tokens.tolist(), log_probs.tolist(), beam(step, codes, 5, 6)):
        length = row.index(END) + 1 if END in row else len(row)
        assert hypothesis.score >= sum(row_log_probs[:length]) / length - 1e-9


@pytest.mark.parametrize("search", ["greedy", "beam"])
def test_impossible_settings_are_rejected(search):
    step, state = markov_step(TRAP), torch.zeros(1)
    with pytest.raises(ValueError, match="max_length must be at least 1"):
        if search == "greedy":
            greedy_search(step, state, batch_size=1, start=START, end=END, device=CPU, max_length=0)
        else:
            beam_search(step, state, batch_size=1, beam_width=1, start=START, end=END, device=CPU, max_length=0)
    if search == "beam":
        with pytest.raises(ValueError, match="beam_width must be at least 1, got 0"):
            beam_search(step, state, batch_size=1, beam_width=0, start=START, end=END, device=CPU, max_length=3)
