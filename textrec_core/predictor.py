"""Inference: ``load_predictor(bundle_dir)`` returns the predictor registered for a bundle.

A predictor reads images (file paths, numpy arrays or PIL images), turns each into the input its
network expects (``preprocess``), runs the network and decodes the output with the saved
model's own ``predict``, the model rebuilt without its dataset (``Model.for_inference``) with
the bundle's model arguments. Nothing here imports the training loop.

Runtimes: the network runs eagerly in torch, or, where the bundle holds the graph ``textrec-export``
wrote (``<bundle>/graph/network.onnx`` and ``graph.json``), in ONNX Runtime (:class:`GraphNetwork`),
whose output the model decodes exactly as it decodes the eager network's. onnxruntime is imported
only when a graph is served, so the core does not depend on it.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from textrec_core.bundle import WEIGHTS_FILE, Bundle
from textrec_core.components import Components
from textrec_core.errors import ArgumentError, BundleError, TextrecError
from textrec_core.plugins import components as installed_components
from textrec_core.protocols import Model
from textrec_core.services.images import ImageInput

#: What may run a bundle's network: see :func:`load_predictor`.
RUNTIMES = ("auto", "torch", "onnx")
#: What ``runtime="auto"`` runs a bundle holding a graph with, where onnxruntime is installed: the
#: faster of the two for IAM-OnDB's CTC line model (benchmarks/bench_export.py, docs/performance.md
#: "Exported graphs": on one thread 1.39x the lines per second of eager torch, 1.64x faster for one line).
AUTO_RUNTIME = "onnx"
#: The folder of a bundle that holds its exported graph (a subfolder, so ``Bundle.digest`` counts it).
GRAPH_DIR = "graph"
#: The ONNX graph of the network's forward pass, inside :data:`GRAPH_DIR`.
GRAPH_FILE = "network.onnx"
#: What the graph is, beside it: ``opset``, the ``torch`` version that exported it, its ``input`` and
#: ``output`` names, its ``dynamic_axes``, the ``weights_sha256`` of the weights it was exported from,
#: and how it was ``verified`` against the eager network.
GRAPH_META = "graph.json"
#: A network's size rules, pure functions of image widths, that sequence models read besides the
#: forward pass (``output_lengths`` gives each line its frames of content).
SIZE_RULES = ("output_length", "output_lengths")


@runtime_checkable
class Predictor(Protocol):
    """Reads images: ``predict`` returns ``(text, confidence)`` with confidence in [0, 1]."""

    bundle: Bundle

    def predict(self, image: ImageInput) -> tuple[str, float]: ...

    def predict_batch(self, images: list[ImageInput]) -> list[tuple[str, float]]: ...


class AgreedReading(Protocol):
    """One line as an ensemble reads it: ``text``, ``confidence`` and the members' ``agreement`` (in [0, 1])."""

    text: str
    confidence: float
    agreement: float


@runtime_checkable
class EnsembleReader(Protocol):
    """A predictor of several members that also says how much they agree on each line."""

    def read(self, images: Sequence[ImageInput]) -> Sequence[AgreedReading]: ...


class ImagePredictor:
    """Base class of predictors, constructed as ``Predictor(model, bundle)``: subclasses define
    ``preprocess`` (and may override ``collate``)."""

    def __init__(self, model: Model, bundle: Bundle) -> None:
        self.model = model
        self.bundle = bundle
        self.input_shape = tuple(bundle.shapes.input_shape)

    def preprocess(self, image: ImageInput) -> np.ndarray:
        """One image as a float32 (H, W) array in [0, 1], bright ink on dark."""
        raise NotImplementedError

    def collate(self, arrays: list[np.ndarray]) -> torch.Tensor:
        """Stack preprocessed arrays into a batch (they share a shape by default)."""
        return torch.from_numpy(np.stack(arrays))

    def predict_batch(self, images: list[ImageInput]) -> list[tuple[str, float]]:
        if not images:
            return []
        return self.model.predict(self.collate([self.preprocess(image) for image in images]))

    def predict(self, image: ImageInput) -> tuple[str, float]:
        return self.predict_batch([image])[0]


class GraphNetwork(torch.nn.Module):
    """A bundle's network run by ONNX Runtime from its exported graph, on the CPU with
    ``torch.get_num_threads()`` intra-op threads (read when it is built).

    ``forward(images)`` returns what the eager network's forward does (float32, on the images'
    device). The network's :data:`SIZE_RULES` are the eager network's; no other attribute of it is
    reachable, so a model that reads through more than the forward pass fails rather than running
    the eager network unnoticed. Raises :class:`BundleError` when the graph is unreadable or was
    exported from other weights than the bundle's.
    """

    def __init__(self, bundle: Bundle, eager: torch.nn.Module) -> None:
        super().__init__()
        import onnxruntime

        meta = graph_meta(bundle)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        path = bundle.path / GRAPH_DIR / GRAPH_FILE
        try:
            self.session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own types for unreadable or invalid graphs
            raise BundleError(f"cannot load the graph {path}: {exc}") from None
        self.input, self.output = meta["input"], meta["output"]
        for rule in SIZE_RULES:
            if hasattr(eager, rule):
                setattr(self, rule, getattr(eager, rule))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        array = np.ascontiguousarray(images.detach().to("cpu", torch.float32).numpy())
        (output,) = self.session.run([self.output], {self.input: array})
        return torch.from_numpy(output).to(images.device)


def graph_meta(bundle: Bundle) -> dict[str, Any]:
    """The ``graph.json`` of the bundle's exported graph. :class:`BundleError` when the bundle holds
    none, when it is unreadable, or when it was exported from other weights than the bundle's."""
    from textrec_core.services.download import sha256_file  # imported only where a graph is served

    path = bundle.path / GRAPH_DIR / GRAPH_META
    if not (bundle.path / GRAPH_DIR / GRAPH_FILE).is_file() or not path.is_file():
        raise no_graph(bundle)
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path} is not valid JSON: {exc}") from None
    missing = [key for key in ("input", "output", "weights_sha256") if not isinstance(meta, dict) or key not in meta]
    if missing:
        raise BundleError(f"{path} lacks {', '.join(missing)}")
    if meta["weights_sha256"] != sha256_file(bundle.path / WEIGHTS_FILE):
        raise BundleError(f"the graph in {bundle.path / GRAPH_DIR} was exported from other weights than the "
                          f"bundle's {WEIGHTS_FILE}: export it again with `textrec-export {bundle.path} --format onnx`")
    return meta


def no_graph(bundle: Bundle) -> BundleError:
    """The error of serving ``bundle`` from a graph it does not hold, saying how to write one."""
    return BundleError(f"{bundle.path} holds no exported graph ({GRAPH_DIR}/{GRAPH_FILE} and {GRAPH_META}): write one "
                       f"with `textrec-export {bundle.path} --format onnx`, or serve it with runtime 'torch'")


def has_onnxruntime() -> bool:
    """Whether onnxruntime is installed (it is not imported)."""
    return importlib.util.find_spec("onnxruntime") is not None


def serving_runtime(bundle: Bundle, runtime: str) -> str:
    """``"torch"`` or ``"onnx"``: what runs ``bundle``'s network when :func:`load_predictor` is asked
    for ``runtime``. ``"auto"`` is :data:`AUTO_RUNTIME` where the bundle holds a graph and onnxruntime
    is installed, else ``"torch"``. Raises :class:`ArgumentError` for an unknown runtime, and for
    ``"onnx"`` :class:`BundleError` when the bundle holds no graph and :class:`TextrecError` when
    onnxruntime is missing."""
    if runtime not in RUNTIMES:
        raise ArgumentError("runtime", f"must be one of {', '.join(map(repr, RUNTIMES))}, got {runtime!r}")
    has_graph = (bundle.path / GRAPH_DIR / GRAPH_FILE).is_file()
    if runtime == "onnx":
        if not has_graph:
            raise no_graph(bundle)
        if not has_onnxruntime():
            raise TextrecError("runtime 'onnx' needs onnxruntime, which is not installed: pip install onnxruntime "
                               "(plugins/textrec-export installs it), or serve with runtime 'torch'")
        return "onnx"
    if runtime == "auto" and has_graph and has_onnxruntime():
        return AUTO_RUNTIME
    return "torch"


def load_predictor(bundle_dir: Path | str, components: Components | None = None,
                   model_args: Mapping[str, Any] | None = None, runtime: str = "auto") -> Predictor:
    """Load the bundle at ``bundle_dir`` with the predictor its model registered.

    ``components`` is the table to find the bundle's predictor, model and network in (default:
    the installed plugins'); the plugins of the bundle's dataset are not needed. The model reads
    with the arguments it was trained with, each of ``model_args`` replacing one of them (e.g.
    ``{"decoder": "beam"}``); a bad one raises :class:`~textrec_core.errors.ArgumentError`.

    ``runtime`` says what runs the network: ``"torch"`` (eagerly), ``"onnx"`` (ONNX Runtime, from
    the bundle's exported graph: :class:`GraphNetwork`) or ``"auto"`` (see :func:`serving_runtime`,
    which also lists the errors of each). Either way the model decodes the network's output itself.
    """
    table = components if components is not None else installed_components()
    bundle = Bundle(bundle_dir)
    chosen = serving_runtime(bundle, runtime)
    predictor = table.get("predictor", bundle.meta["predictor"])
    model_cls = table.get("model", bundle.meta["model"])
    network = bundle.build_network(table.get("network", bundle.meta["network"]))
    if chosen == "onnx":
        network = GraphNetwork(bundle, network)
    args = {**bundle.model_args, **(model_args or {})}
    return predictor(model_cls.for_inference(network, bundle.shapes, **args), bundle)
