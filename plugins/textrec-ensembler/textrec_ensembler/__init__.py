"""textrec plugin: ensembles of saved line models, averaged or voted (see :mod:`textrec_ensembler.ensemble`)."""

from textrec_ensembler.ensemble import EnsembleModel, EnsemblePredictor, EnsembleReading, build_ensemble
from textrec_ensembler.voting import Reading, Vote, vote

__all__ = ["EnsembleModel", "EnsemblePredictor", "EnsembleReading", "Reading", "Vote", "build_ensemble", "vote"]
