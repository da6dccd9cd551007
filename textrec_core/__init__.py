"""textrec's core: component protocols, the plugin registry, training, bundles and prediction."""

from textrec_core.errors import ArgumentError, TextrecError
from textrec_core.hookspecs import hookimpl
from textrec_core.mapping import EMNIST_MAPPING, CharacterMapping
from textrec_core.model import TorchModel
from textrec_core.predictor import Predictor, load_predictor
from textrec_core.protocols import Augmenter, Dataset, DataShapes, Model, Network, Split
from textrec_core.services.splits import PreparedSplits, TensorSplit

__version__ = "0.1.0"

__all__ = [
    "EMNIST_MAPPING", "ArgumentError", "Augmenter", "CharacterMapping", "DataShapes", "Dataset", "Model", "Network",
    "PreparedSplits", "Predictor", "Split", "TensorSplit", "TextrecError", "TorchModel", "hookimpl", "load_predictor",
]
