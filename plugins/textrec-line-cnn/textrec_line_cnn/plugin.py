"""Registers the line CNN networks and ``LineModel`` (alias ``line``) with textrec.

``LineModel`` bundles are served by textrec-lines' ``LinePredictor``, so no predictor is registered here.
"""

from textrec_core import hookimpl
from textrec_line_cnn.model import LineModel
from textrec_line_cnn.network import line_cnn_all_conv, line_cnn_time_distributed

#: The recipe behind docs/performance.md's 0.909 character accuracy on real EMNIST lines.
RECIPE = {"lr_schedule": "onecycle", "learning_rate": 0.003}


@hookimpl
def textrec_register_components(register):
    register.network(line_cnn_time_distributed, train_defaults=RECIPE)
    register.network(line_cnn_all_conv, train_defaults=RECIPE)
    register.model(LineModel, aliases=("line",))
