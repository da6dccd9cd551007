"""textrec plugin: ``LinePredictor``, which serves every line model's bundles, and the pieces the
sequence models share: the ``SequenceModel`` and ``DecodingModel`` bases, text error sums, the CTC
loss and checks of line shapes."""

from textrec_lines.ctc import ctc_loss
from textrec_lines.decoding import DecodingModel
from textrec_lines.padding import content_widths
from textrec_lines.predictor import LinePredictor, fit_line
from textrec_lines.sequence import SequenceModel
from textrec_lines.text_errors import TEXT_ERROR_RATIOS, text_error_sums

__all__ = [
    "TEXT_ERROR_RATIOS", "DecodingModel", "LinePredictor", "SequenceModel", "content_widths", "ctc_loss", "fit_line",
    "text_error_sums",
]
