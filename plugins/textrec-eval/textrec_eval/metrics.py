"""What textrec-eval measures: corpus CER and WER, speed, and the worst lines by per-line CER.

Texts are compared after :func:`textrec_eval.text.normalize`. Error rates are corpus-level (total
edits over total truth length, :mod:`textrec_core.services.metrics`). A line's own CER is its edit
distance over its truth's length, or over 1 for an empty truth (so it is the count of characters
read where there is nothing).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

import numpy as np

from textrec_core.errors import DataError
from textrec_core.services.metrics import character_error_rate, edit_distance, word_error_rate


def line_cer(reading: str, truth: str) -> float:
    """The CER of one line: edits over the truth's length (over 1 when the truth is empty)."""
    return edits_cer(edit_distance(reading, truth), len(truth))


def edits_cer(edits: int, truth_length: int) -> float:
    """The CER of one line read with ``edits`` edits against a truth of ``truth_length`` characters."""
    return edits / max(1, truth_length)


@dataclass(frozen=True)
class DecoderMetrics:
    """One decoder over the whole split: corpus ``cer`` and ``wer``, ``seconds`` spent in
    ``predict_batch`` (wall time) and ``lines_per_second`` (lines over those seconds)."""

    cer: float
    wer: float
    seconds: float
    lines_per_second: float


def decoder_metrics(readings: list[str], truths: list[str], seconds: float) -> DecoderMetrics:
    """The metrics of ``readings`` against ``truths`` (both normalised), read in ``seconds``.

    Raises :class:`DataError` when every truth is empty but something was read: the rates are undefined.
    """
    try:
        cer, wer = character_error_rate(readings, truths), word_error_rate(readings, truths)
    except ValueError as exc:
        raise DataError(f"cannot score the split: {exc}") from None
    return DecoderMetrics(cer, wer, seconds, len(readings) / seconds if seconds > 0 else 0.0)


@dataclass(frozen=True)
class LineResult:
    """One line of the split: its ``index`` in the test split, its ``id`` where the split names its
    lines, the normalised ``truth``, each decoder's normalised ``readings`` and per-line ``cers``,
    its ``image`` (uint8, bright ink on dark, padding trimmed), and each decoder's ``confidences``
    and ``agreements`` (None unless the reader is an ensemble)."""

    index: int
    id: str | None
    truth: str
    readings: dict[str, str]
    cers: dict[str, float]
    image: np.ndarray = field(repr=False, compare=False)
    confidences: dict[str, float]
    agreements: dict[str, float | None]


class WorstLines:
    """Keeps the ``count`` lines with the highest CER of decoder ``rank_by`` seen so far (ties: the
    lower index first), holding only their images, so memory does not grow with the split."""

    def __init__(self, count: int, rank_by: str) -> None:
        self.count = count
        self.rank_by = rank_by
        self._heap: list[tuple[float, int, LineResult]] = []  # smallest (cer, -index) on top

    def offer(self, line: LineResult) -> None:
        if self.count == 0:
            return
        item = (line.cers[self.rank_by], -line.index, line)
        if len(self._heap) < self.count:
            heapq.heappush(self._heap, item)
        elif item[:2] > self._heap[0][:2]:
            heapq.heapreplace(self._heap, item)

    def lines(self) -> list[LineResult]:
        """The kept lines, worst first."""
        return [line for _, _, line in sorted(self._heap, key=lambda item: item[:2], reverse=True)]
