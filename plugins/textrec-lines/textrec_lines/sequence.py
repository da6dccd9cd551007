"""``SequenceModel``: the base of the line models (``LineModel``, ``LineModelCtc``, ``LineModelAttention``).

Labels are ``(B, max_length)`` indices of the dataset's alphabet (``shapes.mapping``): a line's
text, then ``<pad>`` to the end. A sequence model checks, when built, that the labels have that
shape and that the alphabet holds the special tokens it uses (:attr:`required_tokens`), both
``ValueError`` (they are facts about the data, not arguments); it needs ``dataset.shapes`` only,
not prepared data. It looks up the special tokens' indices once, spells labels as their texts
(``label_text``) and is served by ``LinePredictor``.
"""

from __future__ import annotations

from functools import cached_property
from typing import ClassVar

import torch

from textrec_core import TorchModel
from textrec_core.mapping import BLANK, END, PAD, START
from textrec_core.model import InferenceData
from textrec_core.protocols import Dataset
from textrec_lines.shapes import check_line_labels, check_tokens


class SequenceModel(TorchModel):
    """See the module docstring. Subclasses define ``loss``, ``decode`` and their metrics."""

    predictor: ClassVar[str] = "LinePredictor"
    #: The special tokens the model uses; the alphabet must hold them all.
    required_tokens: ClassVar[tuple[str, ...]] = (PAD,)

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module) -> None:
        super().__init__(dataset, network)
        owner = type(self).__name__
        check_tokens(owner, self.mapping, self.required_tokens)
        check_line_labels(owner, self.shapes)

    # The special tokens' label indices, looked up once, on first use.
    @cached_property
    def pad_index(self) -> int:
        return self.mapping.index(PAD)

    @cached_property
    def blank_index(self) -> int:
        return self.mapping.index(BLANK)

    @cached_property
    def start_index(self) -> int:
        return self.mapping.index(START)

    @cached_property
    def end_index(self) -> int:
        return self.mapping.index(END)

    def text_tokens(self, labels: torch.Tensor) -> list[list[int]]:
        """Each label's text as label indices: its row of ``labels`` with every ``<pad>`` removed."""
        return [[index for index in row if index != self.pad_index] for row in labels.tolist()]

    def label_text(self, labels: torch.Tensor) -> list[str]:
        """The texts of labels ``(B, max_length)``: their characters, ``<pad>`` dropped."""
        return [self.mapping.spell(row) for row in labels.tolist()]
