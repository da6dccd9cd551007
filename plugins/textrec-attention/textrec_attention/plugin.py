"""Registers the ``line_attention`` network and ``LineModelAttention`` (alias ``attention``) with textrec.

``LineModelAttention`` bundles are served by textrec-lines' ``LinePredictor``, so no predictor is registered here.
"""

from textrec_attention.model import LineModelAttention
from textrec_attention.network import line_attention
from textrec_core import hookimpl


@hookimpl
def textrec_register_components(register):
    register.network(line_attention)
    register.model(LineModelAttention, aliases=("attention",))
