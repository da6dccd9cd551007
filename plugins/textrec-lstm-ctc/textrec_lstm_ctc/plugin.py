"""Registers the ``line_lstm_ctc`` network and ``LineModelCtc`` (alias ``ctc``) with textrec.

``LineModelCtc`` bundles are served by textrec-lines' ``LinePredictor``, so no predictor is registered here.
"""

from textrec_core import hookimpl
from textrec_lstm_ctc.model import LineModelCtc
from textrec_lstm_ctc.network import line_lstm_ctc

#: The recipe behind docs/performance.md's 0.045 test CER on real EMNIST lines.
RECIPE = {"batch_size": 64, "lr_schedule": "onecycle", "learning_rate": 0.003}


@hookimpl
def textrec_register_components(register):
    register.network(line_lstm_ctc, train_defaults=RECIPE)
    register.model(LineModelCtc, aliases=("ctc",))
