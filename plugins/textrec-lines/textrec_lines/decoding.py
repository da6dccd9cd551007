"""``DecodingModel``: a sequence model that reads with a choice of decoder, greedy or a search.

Model arguments ``decoder`` (one of the class's ``decoders``: ``"greedy"`` and ``"beam"``, and
more where a subclass adds them) and ``beam_width`` (at least 1, used by the searches) are checked
when the model is built (:class:`~textrec_core.errors.ArgumentError`).

Metrics: ``loss``, then ``cer`` and ``wer`` of the texts read with the configured decoder; with
any decoder but ``"greedy"`` also ``cer_greedy``, the character error rate of greedy reading, so
one run reports what the search gains. All are corpus-level (:mod:`textrec_lines.text_errors`).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from textrec_core import TorchModel
from textrec_core.errors import ArgumentError
from textrec_core.model import InferenceData
from textrec_core.protocols import Dataset
from textrec_core.services.arguments import check_integer
from textrec_lines.sequence import SequenceModel
from textrec_lines.text_errors import TEXT_ERROR_RATIOS, text_error_sums

DECODERS = ("greedy", "beam")


class DecodingModel(SequenceModel):
    """See the module docstring. Subclasses read a batch with any of their ``decoders`` and pass
    that reading to :meth:`reading_error_sums` from ``batch_metrics`` or ``evaluation_step``."""

    decoders: tuple[str, ...] = DECODERS

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module, decoder: str,
                 beam_width: int) -> None:
        if decoder not in self.decoders:
            raise ArgumentError("decoder", f"must be one of {', '.join(map(repr, self.decoders))}, got {decoder!r}")
        check_integer("beam_width", beam_width)
        super().__init__(dataset, network)
        self.decoder = decoder
        self.beam_width = beam_width

    @property
    def ratios(self) -> dict[str, tuple[str, str]]:
        """``loss``, ``cer`` and ``wer``; with a decoder other than greedy also ``cer_greedy``."""
        ratios = {**TorchModel.ratios, **TEXT_ERROR_RATIOS}
        if self.decoder != "greedy":
            ratios["cer_greedy"] = ("greedy_char_edits", "truth_chars")
        return ratios

    def reading_error_sums(self, read: Callable[[str], list[str]], labels: torch.Tensor) -> dict[str, int]:
        """:func:`~textrec_lines.text_errors.text_error_sums` of ``read(self.decoder)``, the batch's
        texts read with the configured decoder, against the texts of ``labels``; with a decoder
        other than greedy also ``greedy_char_edits``, the character edits of ``read("greedy")``."""
        truths = self.label_text(labels)
        sums = text_error_sums(read(self.decoder), truths)
        if self.decoder != "greedy":
            sums["greedy_char_edits"] = text_error_sums(read("greedy"), truths)["char_edits"]
        return sums
