"""Inference: ``load_predictor(bundle_dir)`` returns the predictor registered for a bundle.

A predictor reads images (file paths, numpy arrays or PIL images), turns each into the input its
network expects (``preprocess``), runs the network and decodes the output with the saved
model's own ``predict``, the model rebuilt without its dataset (``Model.for_inference``) with
the bundle's model arguments. Nothing here imports the training loop.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch

from textrec_core.bundle import Bundle
from textrec_core.components import Components
from textrec_core.plugins import components as installed_components
from textrec_core.protocols import Model
from textrec_core.services.images import ImageInput


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


def load_predictor(bundle_dir: Path | str, components: Components | None = None,
                   model_args: Mapping[str, Any] | None = None) -> Predictor:
    """Load the bundle at ``bundle_dir`` with the predictor its model registered.

    ``components`` is the table to find the bundle's predictor, model and network in (default:
    the installed plugins'); the plugins of the bundle's dataset are not needed. The model reads
    with the arguments it was trained with, each of ``model_args`` replacing one of them (e.g.
    ``{"decoder": "beam"}``); a bad one raises :class:`~textrec_core.errors.ArgumentError`.
    """
    table = components if components is not None else installed_components()
    bundle = Bundle(bundle_dir)
    predictor = table.get("predictor", bundle.meta["predictor"])
    model_cls = table.get("model", bundle.meta["model"])
    network = bundle.build_network(table.get("network", bundle.meta["network"]))
    args = {**bundle.model_args, **(model_args or {})}
    return predictor(model_cls.for_inference(network, bundle.shapes, **args), bundle)
