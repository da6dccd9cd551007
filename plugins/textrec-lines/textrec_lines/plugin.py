"""Registers ``LinePredictor``, which serves the bundles of every line model, with textrec."""

from textrec_core import hookimpl
from textrec_lines.predictor import LinePredictor


@hookimpl
def textrec_register_components(register):
    register.predictor(LinePredictor)
