"""textrec plugin: the ``line_lstm_ctc`` network (CNN frames, bidirectional LSTM, CTC) and ``LineModelCtc``."""

from textrec_lstm_ctc.ctc import beam_decode, beam_decode_batch, greedy_decode, greedy_decode_batch
from textrec_lstm_ctc.model import LineModelCtc
from textrec_lstm_ctc.network import LineLstmCtc, line_lstm_ctc

__all__ = [
    "LineLstmCtc", "LineModelCtc", "beam_decode", "beam_decode_batch", "greedy_decode", "greedy_decode_batch",
    "line_lstm_ctc",
]
