"""Registers the ``line_lstm_ctc`` network and ``LineModelCtc`` (alias ``ctc``) with textrec.

``LineModelCtc`` bundles are served by textrec-lines' ``LinePredictor``, so no predictor is registered here.
"""

from textrec_core import hookimpl
from textrec_lstm_ctc.model import LineModelCtc
from textrec_lstm_ctc.network import line_lstm_ctc


@hookimpl
def textrec_register_components(register):
    register.network(line_lstm_ctc)
    register.model(LineModelCtc, aliases=("ctc",))
