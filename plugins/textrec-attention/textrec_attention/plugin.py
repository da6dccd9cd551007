"""Registers the ``line_attention`` network and ``LineModelAttention`` (alias ``attention``) with textrec.

``LineModelAttention`` bundles are served by textrec-lines' ``LinePredictor``, so no predictor is registered here.
"""

from textrec_attention.model import LineModelAttention
from textrec_attention.network import line_attention
from textrec_core import hookimpl

#: The recipe behind docs/performance.md's 0.047 test CER on real EMNIST lines.
RECIPE = {"batch_size": 64, "lr_schedule": "onecycle", "learning_rate": 0.002, "max_grad_norm": 1.0}


@hookimpl
def textrec_register_components(register):
    register.network(line_attention, train_defaults=RECIPE)
    register.model(LineModelAttention, aliases=("attention",))
