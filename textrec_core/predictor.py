"""Inference: ``load_predictor(bundle_dir)`` returns the predictor registered for a bundle.

A predictor reads images (file paths, numpy arrays or PIL images), turns each into the input its
network expects (``preprocess``), runs the network and decodes the output with the saved
model's own ``decode``, rebuilt without its dataset (``TorchModel.for_inference``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from textrec_core.bundle import Bundle
from textrec_core.images import ImageInput
from textrec_core.model import TorchModel


@runtime_checkable
class Predictor(Protocol):
    """Reads images: ``predict`` returns ``(text, confidence)`` with confidence in [0, 1]."""

    bundle: Bundle

    def predict(self, image: ImageInput) -> tuple[str, float]: ...

    def predict_batch(self, images: list[ImageInput]) -> list[tuple[str, float]]: ...


class ImagePredictor:
    """Base class of predictors: subclasses define ``preprocess`` (and may override ``collate``)."""

    def __init__(self, model: TorchModel, bundle: Bundle) -> None:
        self.model = model
        self.bundle = bundle
        self.input_shape = tuple(bundle.shapes.input_shape)

    @classmethod
    def from_bundle(cls, bundle: Bundle) -> ImagePredictor:
        from textrec_core.plugins import components

        model_cls = components().get("model", bundle.meta["model"])
        model_args = bundle.meta.get("config", {}).get("model_args", {})
        return cls(model_cls.for_inference(bundle.build_network(), bundle.mapping, bundle.shapes, **model_args), bundle)

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


def load_predictor(bundle_dir: Path | str) -> Predictor:
    """Load the bundle at ``bundle_dir`` with the predictor its model registered.

    Needs the plugins of the bundle's model and network installed (not its dataset's).
    """
    from textrec_core.plugins import components

    bundle = Bundle(bundle_dir)
    predictor_cls = components().get("predictor", bundle.meta["predictor"])
    return predictor_cls.from_bundle(bundle)
