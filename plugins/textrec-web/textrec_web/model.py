"""The served model: a predictor loaded once per process, its identity, one prediction at a time."""

from __future__ import annotations

import dataclasses
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from textrec_core.bundle import Bundle
from textrec_core.errors import InputImageError
from textrec_core.predictor import EnsembleReader, GraphNetwork, ImagePredictor, Predictor, load_predictor
from textrec_web.errors import ApiError

#: Where an ensemble bundle keeps its members' bundles (textrec-ensembler's layout).
MEMBERS_DIR = "members"


@dataclasses.dataclass(frozen=True)
class Reading:
    """What the model read in an image: ``text``, ``confidence`` in [0, 1], the members'
    ``agreement`` in [0, 1] (an ensemble's only, else None) and ``network_input``: the image as the
    network read it, a float (H, W) array (where the predictor is an
    :class:`~textrec_core.predictor.ImagePredictor`, else None)."""

    text: str
    confidence: float
    agreement: float | None
    network_input: np.ndarray | None


class ServedModel:
    """Wraps a predictor for the service. ``predict`` holds a lock, so a process runs one
    prediction at a time (scale with processes: gunicorn workers); ``identity`` describes the
    bundle for ``/healthz`` and what runs its network (``runtime``), ``version`` is its digest."""

    def __init__(self, predictor: Predictor) -> None:
        self.predictor = predictor
        self.identity = {**bundle_identity(predictor.bundle), "runtime": runtime_of(predictor)}
        self.version: str = self.identity["digest"]
        self._lock = threading.Lock()

    @property
    def shows_network_input(self) -> bool:
        """Whether a :class:`Reading` carries the image as the network read it."""
        return isinstance(self.predictor, ImagePredictor)

    @classmethod
    def load(cls, predictor_or_bundle_path: Predictor | str | os.PathLike[str]) -> ServedModel:
        """Serve a predictor, or load the bundle at a path (raises textrec's ``BundleError`` or
        ``UnknownComponentError`` when it cannot)."""
        if isinstance(predictor_or_bundle_path, (str, os.PathLike)):
            return cls(load_predictor(predictor_or_bundle_path))
        if isinstance(predictor_or_bundle_path, Predictor):
            return cls(predictor_or_bundle_path)
        raise TypeError(f"expected a predictor or a bundle path, got {type(predictor_or_bundle_path).__name__}")

    def predict(self, image: np.ndarray) -> Reading:
        """The :class:`Reading` of a 2-D uint8 image; an image the predictor refuses is
        ``invalid_image`` (400). An :class:`~textrec_core.predictor.ImagePredictor` reads it as its
        ``predict`` does (``preprocess``, ``collate``, the model's ``predict``), keeping the
        preprocessed image; an ensemble (:class:`~textrec_core.predictor.EnsembleReader`) also says
        how much its members agree."""
        with self._lock:
            try:
                if isinstance(self.predictor, EnsembleReader):
                    (line,) = self.predictor.read([image])
                    return Reading(line.text, float(line.confidence), float(line.agreement), None)
                if isinstance(self.predictor, ImagePredictor):
                    array = self.predictor.preprocess(image)
                    ((text, conf),) = self.predictor.model.predict(self.predictor.collate([array]))
                    return Reading(text, float(conf), None, array)
                text, conf = self.predictor.predict(image)
            except InputImageError as exc:
                raise ApiError(400, "invalid_image", f"the model cannot read this image: {exc}") from None
        return Reading(text, float(conf), None, None)


def runtime_of(predictor: Predictor) -> str:
    """``"onnx"`` where the predictor's model runs the bundle's exported graph through ONNX Runtime
    (:class:`~textrec_core.predictor.GraphNetwork`), else ``"torch"``."""
    network = getattr(getattr(predictor, "model", None), "network", None)
    return "onnx" if isinstance(network, GraphNetwork) else "torch"


def bundle_identity(bundle: Bundle) -> dict[str, Any]:
    """The bundle's path, model, network and predictor names, input shape, ``digest``: the first
    16 hex digits of the SHA-256 of ``bundle.json`` followed by ``weights.pt`` and, for an
    ensemble, every file of its members (in path order), and its dataset versions
    (:func:`dataset_versions`)."""
    meta = bundle.meta
    return {
        "bundle": str(Path(bundle.path).resolve()),
        "model": meta["model"],
        "network": meta["network"],
        "predictor": meta["predictor"],
        "input_shape": list(meta["shapes"]["input_shape"]),
        "digest": bundle.digest(),
        **dataset_versions(bundle),
    }


def dataset_versions(bundle: Bundle) -> dict[str, Any]:
    """``dataset_version``: the value of the key ``dataset_version`` in the bundle's ``bundle.json``
    (None when absent). An ensemble (member bundles in ``members/0``, ``members/1``, ...) also gives
    ``member_dataset_versions``, each member's value in member order; where its own ``bundle.json``
    has none, its ``dataset_version`` is the members' when they all have the same, else None."""
    own = bundle.meta.get("dataset_version")
    members = member_bundles(Path(bundle.path))
    if not members:
        return {"dataset_version": own}
    versions = [member.meta.get("dataset_version") for member in members]
    if own is None and all(version == versions[0] for version in versions):
        own = versions[0]
    return {"dataset_version": own, "member_dataset_versions": versions}


def member_bundles(root: Path) -> list[Bundle]:
    """The member bundles of the ensemble bundle at ``root``, in member order (none for another bundle)."""
    folder = root / MEMBERS_DIR
    names = [p.name for p in folder.iterdir() if p.is_dir() and p.name.isdigit()] if folder.is_dir() else []
    return [Bundle(folder / name) for name in sorted(names, key=int)]
