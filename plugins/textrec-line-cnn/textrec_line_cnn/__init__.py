"""textrec plugin: line CNNs (``line_cnn_time_distributed``, ``line_cnn_all_conv``) and ``LineModel``."""

from textrec_line_cnn.model import LineModel
from textrec_line_cnn.network import (
    LineCnnAllConv,
    LineCnnTimeDistributed,
    copy_time_distributed_weights,
    line_cnn_all_conv,
    line_cnn_time_distributed,
)

__all__ = [
    "LineCnnAllConv", "LineCnnTimeDistributed", "LineModel", "copy_time_distributed_weights",
    "line_cnn_all_conv", "line_cnn_time_distributed",
]
