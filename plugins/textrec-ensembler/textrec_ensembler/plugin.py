"""Registers the ``ensemble`` network, ``EnsembleModel`` and ``EnsemblePredictor`` with textrec."""

from textrec_core import hookimpl
from textrec_ensembler.ensemble import EnsembleModel, EnsemblePredictor, ensemble


@hookimpl
def textrec_register_components(register):
    register.network(ensemble)
    register.model(EnsembleModel)
    register.predictor(EnsemblePredictor)
