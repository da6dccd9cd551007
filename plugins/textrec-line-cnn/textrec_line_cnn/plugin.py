"""Registers the line CNN networks and ``LineModel`` (alias ``line``) with textrec.

``LineModel`` bundles are served by textrec-lines' ``LinePredictor``, so no predictor is registered here.
"""

from textrec_core import hookimpl
from textrec_line_cnn.model import LineModel
from textrec_line_cnn.network import line_cnn_all_conv, line_cnn_time_distributed


@hookimpl
def textrec_register_components(register):
    register.network(line_cnn_time_distributed)
    register.network(line_cnn_all_conv)
    register.model(LineModel, aliases=("line",))
