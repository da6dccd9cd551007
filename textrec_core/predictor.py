"""Inference: ``load_predictor(bundle_dir)`` returns the predictor registered for a bundle."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from textrec_core.bundle import Bundle
from textrec_core.images import ImageInput


@runtime_checkable
class Predictor(Protocol):
    """Reads images: ``predict`` returns ``(text, confidence)`` with confidence in [0, 1]."""

    bundle: Bundle

    def predict(self, image: ImageInput) -> tuple[str, float]: ...

    def predict_batch(self, images: list[ImageInput]) -> list[tuple[str, float]]: ...


def load_predictor(bundle_dir: Path | str) -> Predictor:
    """Load the bundle at ``bundle_dir`` with the predictor its model registered.

    Needs the plugins of the bundle's predictor and network installed (not its dataset's).
    """
    from textrec_core.plugins import components

    bundle = Bundle(bundle_dir)
    predictor_cls = components().get("predictor", bundle.meta["predictor"])
    return predictor_cls.from_bundle(bundle)
