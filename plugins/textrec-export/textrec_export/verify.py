"""Checking an exported graph against the eager network it came from: the same output, within a
tolerance, on batches of several sizes and (for a graph of dynamic width) several widths.

The batches are line-like (bright specks on a black background, in [0, 1], as predictors hand
networks their input), and every batch of more than one line pads shorter lines with background
to its widest, one of them blank, as ``LinePredictor`` pads a batch: a network that reads each
line over its own content (``line_lstm_ctc``) is checked on that too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime
import torch
from torch import nn

from textrec_core.errors import TextrecError

#: The graph's output may differ from the network's by ``ATOL + RTOL * |network's|`` per value.
RTOL = ATOL = 1e-4
#: Widths besides the bundle's own that a graph of dynamic width is checked at: narrower than any
#: window, and a few of neither the bundle's width nor each other's multiples.
EXTRA_WIDTHS = (9, 150, 637)
#: Batch sizes checked at each width.
BATCH_SIZES = (1, 3)


class GraphMismatch(TextrecError):
    """The graph's output differs from the network's beyond the tolerance."""


@dataclass(frozen=True)
class Verification:
    """The input shapes checked and the largest absolute difference found."""

    shapes: list[tuple[int, ...]]
    max_difference: float


def sample_batches(height: int, widths: Sequence[int], seed: int = 0) -> list[torch.Tensor]:
    """For each width, a batch per :data:`BATCH_SIZES`: line ``i`` of a batch of ``n`` has ink in
    its first ``width * (n - i - 1) / (n - 1)`` columns (all of a batch of one), background after."""
    generator = torch.Generator().manual_seed(seed)
    batches = []
    for width in widths:
        for size in BATCH_SIZES:
            ink = torch.rand(size, height, width, generator=generator)
            ink *= torch.rand(size, height, width, generator=generator) < 0.3
            for i in range(1, size):
                ink[i, :, width * (size - i - 1) // (size - 1) :] = 0
            batches.append(ink)
    return batches


def session_of(graph: Path) -> onnxruntime.InferenceSession:
    """An ONNX Runtime session of ``graph`` on the CPU."""
    options = onnxruntime.SessionOptions()
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])


@torch.inference_mode()
def verify(graph: Path, input_name: str, network: nn.Module, batches: Sequence[torch.Tensor]) -> Verification:
    """Run ``graph`` (input ``input_name``, one output) and ``network`` on each of ``batches``;
    :class:`GraphMismatch` names the first batch whose outputs differ in shape or beyond the tolerance."""
    session = session_of(graph)
    largest = 0.0
    for images in batches:
        expected = network(images).float().numpy()
        (found,) = session.run(None, {input_name: images.numpy()})
        if found.shape != expected.shape:
            raise GraphMismatch(f"on input {tuple(images.shape)} the graph's output is {found.shape}, the network's "
                                f"{expected.shape}")
        difference = float(np.abs(found - expected).max(initial=0.0))
        if not np.allclose(found, expected, rtol=RTOL, atol=ATOL):
            raise GraphMismatch(f"on input {tuple(images.shape)} the graph's output differs from the network's by up "
                                f"to {difference:.3g} (tolerance {ATOL:g} + {RTOL:g} x |value|)")
        largest = max(largest, difference)
    return Verification([tuple(images.shape) for images in batches], largest)
