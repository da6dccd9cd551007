"""textrec plugin: ``textrec-export``, which writes a saved model's network as an ONNX graph that
``load_predictor`` serves through ONNX Runtime (:func:`export_onnx`)."""

from textrec_export.export import Exported, export_onnx
from textrec_export.forms import UnsupportedNetwork
from textrec_export.verify import GraphMismatch

__all__ = ["Exported", "GraphMismatch", "UnsupportedNetwork", "export_onnx"]
