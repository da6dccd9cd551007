"""Registers the ``lenet`` network with textrec, with its training recipe."""

from textrec_core import hookimpl
from textrec_lenet.network import lenet

#: One-cycle at a peak of 0.003: on real EMNIST it converges in about half the epochs constant
#: Adam at 0.001 needs (docs/performance.md).
RECIPE = {"lr_schedule": "onecycle", "learning_rate": 0.003}


@hookimpl
def textrec_register_components(register):
    register.network(lenet, train_defaults=RECIPE)
