"""Joint CTC/attention decoding: prefix probabilities against an enumeration of every CTC path,
and the joint search on hand-built steps."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from textrec_attention import beam_search, greedy_search
from textrec_attention.joint import empty_prefix, extend, joint_step, prefix_scores

BLANK, START, END, A, B = 0, 1, 2, 3, 4
CLASSES = 5
CPU = torch.device("cpu")


def collapse(path: tuple[int, ...]) -> tuple[int, ...]:
    """A CTC path's reading: repeats merged, then blanks dropped."""
    return tuple(token for index, token in enumerate(path)
                 if token != BLANK and (index == 0 or token != path[index - 1]))


def enumerated(frames: torch.Tensor, text: tuple[int, ...]) -> tuple[float, float]:
    """The probability that the reading starts with ``text``, and that it is ``text``, summed over every
    path of the frames' characters (blank, "a", "b")."""
    prefix = exact = 0.0
    probabilities = frames.exp()
    for path in itertools.product((BLANK, A, B), repeat=frames.shape[0]):
        probability = math.prod(float(probabilities[t, token]) for t, token in enumerate(path))
        reading = collapse(path)
        prefix += probability if reading[:len(text)] == text else 0.0
        exact += probability if reading == text else 0.0
    return prefix, exact


def random_frames(generator: torch.Generator, rows: int, width: int) -> torch.Tensor:
    """Frame log-probabilities over blank, "a" and "b" (every other class impossible), float64."""
    logits = torch.randn(rows, width, CLASSES, generator=generator, dtype=torch.float64) * 2
    logits[:, :, [START, END]] = float("-inf")
    return logits.log_softmax(dim=2)


@pytest.mark.parametrize("text", [(A,), (A, A), (A, B), (B, A, B), (A, A, B), (B, B, B)])
def test_prefix_and_exact_probabilities_equal_the_enumeration(text: tuple[int, ...]) -> None:
    generator = torch.Generator().manual_seed(len(text) * 7 + text[-1])
    width, lengths = 6, torch.tensor([6, 4])
    frames = random_frames(generator, 2, width)
    valid = torch.arange(width) < lengths.unsqueeze(1)
    forward = empty_prefix(frames.masked_fill(~valid.unsqueeze(2), 0.0), BLANK)
    last = torch.full((2,), START)
    for token in text:
        tokens = torch.full((2,), token)
        token_frames = frames.masked_fill(~valid.unsqueeze(2), 0.0)[:, :, token]
        candidates = frames.masked_fill(~valid.unsqueeze(2), 0.0)[:, :, [A, B]].transpose(1, 2)
        scores = prefix_scores(forward, candidates, torch.stack([last == A, last == B], dim=1), last == START, valid)
        forward = extend(forward, token_frames, frames.masked_fill(~valid.unsqueeze(2), 0.0)[:, :, BLANK],
                         tokens == last, last == START)
        last = tokens
    for row, length in enumerate(lengths.tolist()):
        prefix, exact = enumerated(frames[row, :length], text)
        previous_prefix, _ = enumerated(frames[row, :length], text[:-1])
        assert scores[row, [A, B].index(text[-1])].exp().item() == pytest.approx(prefix, rel=1e-9, abs=1e-300)
        assert forward[row, length - 1].logsumexp(dim=0).exp().item() == pytest.approx(exact, rel=1e-9, abs=1e-300)
        assert prefix <= previous_prefix


def attention_table(table: list[list[float]]):
    """An attention step whose next-token probabilities depend only on the previous token."""
    log_table = torch.tensor(table, dtype=torch.float32).log()

    def step(tokens: torch.Tensor, state: torch.Tensor):
        return log_table[tokens], state

    return step


#: An attention decoder that, after "a", reads "a" again more readily than it ends: it loops.
LOOPING = [
    [0.0, 0.0, 0.1, 0.8, 0.1],  # after blank (never used)
    [0.0, 0.0, 0.1, 0.8, 0.1],  # after <start>
    [0.0, 0.0, 1.0, 0.0, 0.0],  # after <end> (never used)
    [0.0, 0.0, 0.3, 0.6, 0.1],  # after "a"
    [0.0, 0.0, 0.8, 0.1, 0.1],  # after "b"
]


def frames_reading(frames: str) -> torch.Tensor:
    """Frame log-probabilities ``(1, T, C)`` of one line, each frame sure (0.9) of its character in
    ``frames`` ("-" blank, "a", "b") and doubtful of the other two (0.05 each)."""
    probabilities = torch.zeros((1, len(frames), CLASSES), dtype=torch.float64)
    for t, character in enumerate(frames):
        probabilities[0, t, [BLANK, A, B]] = 0.05
        probabilities[0, t, {"-": BLANK, "a": A, "b": B}[character]] = 0.9
    return probabilities.log()


def frames_reading_a() -> torch.Tensor:
    """Six frames whose CTC reading is plainly one "a"."""
    return frames_reading("-aa---")


def test_weight_zero_reads_as_the_attention_step_alone() -> None:
    step = attention_table(LOOPING)
    joint, state = joint_step(step, torch.zeros(1), frames_reading_a(), torch.tensor([6]), weight=0.0,
                              blank=BLANK, start=START, end=END)
    tokens = torch.full((1,), START)
    for token in (A, A, B):
        alone, _ = step(tokens, None)
        mixed, state = joint(tokens, state)
        assert torch.equal(mixed, alone)
        tokens = torch.full((1,), token)


def test_the_ctc_head_stops_a_looping_decoder() -> None:
    step = attention_table(LOOPING)
    looping, _ = greedy_search(step, torch.zeros(1), batch_size=1, start=START, end=END, device=CPU, max_length=6)
    assert looping[0].tolist() == [A] * 6  # alone it never ends
    joint, state = joint_step(step, torch.zeros(1), frames_reading_a(), torch.tensor([6]), weight=0.3,
                              blank=BLANK, start=START, end=END)
    tokens, log_probs = greedy_search(joint, state, batch_size=1, start=START, end=END, device=CPU, max_length=6)
    assert tokens[0].tolist() == [A, END]
    assert all(value <= 0 for value in log_probs[0].tolist())
    joint, state = joint_step(step, torch.zeros(3), frames_reading_a().expand(3, -1, -1), torch.tensor([6, 6, 6]),
                              weight=0.3, blank=BLANK, start=START, end=END)
    best = beam_search(joint, state, batch_size=1, beam_width=3, start=START, end=END, device=CPU, max_length=6)
    assert best[0].tokens == [A, END]


def test_beam_rows_of_different_lengths_read_their_own_frames() -> None:
    frames = torch.cat([frames_reading("-aa-a-"), frames_reading("-aa-a-")])
    step = attention_table(LOOPING)
    joint, state = joint_step(step, torch.zeros(4), frames.repeat_interleave(2, dim=0), torch.tensor([3, 3, 6, 6]),
                              weight=0.5, blank=BLANK, start=START, end=END)
    best = beam_search(joint, state, batch_size=2, beam_width=2, start=START, end=END, device=CPU, max_length=6)
    assert [hypothesis.tokens for hypothesis in best] == [[A, END], [A, A, END]]


def test_rows_other_than_the_frames_are_refused() -> None:
    joint, state = joint_step(attention_table(LOOPING), torch.zeros(1), frames_reading_a(), torch.tensor([6]),
                              weight=0.3, blank=BLANK, start=START, end=END)
    with pytest.raises(ValueError, match="3 rows of tokens for 1 rows of frames"):
        joint(torch.full((3,), START), state)


def test_weight_out_of_range_is_refused() -> None:
    with pytest.raises(ValueError, match=r"weight must be in \[0, 1\)"):
        joint_step(attention_table(LOOPING), torch.zeros(1), frames_reading_a(), torch.tensor([6]), weight=1.0,
                   blank=BLANK, start=START, end=END)
