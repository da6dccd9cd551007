"""The core's own components, registered through the same hook as any plugin's."""

from textrec_core.hookspecs import hookimpl
from textrec_core.line_predictor import LinePredictor


@hookimpl
def textrec_register_components(register):
    register.predictor("LinePredictor", LinePredictor)
