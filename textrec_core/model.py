"""``TorchModel``: a base class that implements the Model protocol for a network + dataset.

Subclasses say how to score and read the network's output (``loss``, ``batch_metrics``,
``decode``, ``label_text``) and which predictor serves their bundles; fitting, evaluation and
saving are shared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import attrs
import torch

from textrec_core.bundle import shapes_to_dict, write_bundle
from textrec_core.config import TrainArgs
from textrec_core.mapping import CharacterMapping
from textrec_core.metrics import error_rate
from textrec_core.protocols import Augmenter, Dataset, DataShapes, Split
from textrec_core.training import Callback, Trainer


@attrs.frozen
class InferenceData:
    """What a model needs of its dataset to decode: the mapping and shapes, no splits."""

    mapping: CharacterMapping
    shapes: DataShapes

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"a model loaded for inference has no dataset ({name!r} is unavailable)")


class TorchModel:
    """Binds ``dataset`` and ``network`` (an ``nn.Module``); see the module docstring."""

    #: Registered name of the predictor that serves this model's bundles.
    predictor: ClassVar[str]
    #: Registered name of this model.
    name: ClassVar[str]
    #: Whether the network reads images of any width (predictors then keep a line's width).
    variable_width: ClassVar[bool] = False
    #: Corpus-level rates ``evaluate`` reports, each from two ``batch_metrics`` sums:
    #: rate -> (errors key, truth length key). The sums themselves are left out of the result.
    error_rates: Mapping[str, tuple[str, str]] = {}

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module) -> None:
        self.dataset = dataset
        self.network = network
        self.mapping = dataset.mapping
        self.shapes = dataset.shapes
        self.device = torch.device("cpu")

    @classmethod
    def for_inference(
        cls, network: torch.nn.Module, mapping: CharacterMapping, shapes: DataShapes, **model_args: Any
    ) -> TorchModel:
        """A model built on :class:`InferenceData` instead of a dataset, for decoding a saved
        network's output with the saved ``model_args`` (predictors use it); it cannot ``fit``."""
        model = cls(InferenceData(mapping, shapes), network, **model_args)
        model.network.eval()
        return model

    # --- what subclasses define -------------------------------------------------------------
    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def training_loss(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss the trainer minimises for one batch; models that need the labels in the
        forward pass (teacher forcing) override this."""
        return self.loss(self.network(images), labels)

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Per-batch metric *sums* (``evaluate`` divides by the number of samples)."""
        raise NotImplementedError

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        raise NotImplementedError

    def label_text(self, labels: torch.Tensor) -> list[str]:
        raise NotImplementedError

    def write_report(self, split: Split, out_dir: Path) -> list[Path]:
        """Model-specific plots of a split (e.g. a confusion matrix); none by default."""
        return []

    # --- shared ------------------------------------------------------------------------------
    def to(self, device: torch.device) -> TorchModel:
        self.device = device
        self.network.to(device)
        return self

    def fit(
        self,
        train_args: TrainArgs,
        callbacks: Sequence[Callback] = (),
        augmenters: Sequence[Augmenter] = (),
        progress: bool = True,
    ) -> dict[str, list[float]]:
        trainer = Trainer(train_args, device=self.device, progress=progress)
        return trainer.fit(
            self.network, self.training_loss, self.dataset.train, self.dataset.val, self.evaluate,
            augmenters=augmenters, callbacks=callbacks,
        )

    @torch.inference_mode()
    def evaluate(self, split: Split, batch_size: int = 1024) -> dict[str, float]:
        """``loss`` and every ``batch_metrics`` sum averaged over the samples, and the corpus-level
        ``error_rates`` (total errors over total truth length; 0 for an empty split)."""
        self.network.eval()
        sums: dict[str, float] = {"loss": 0.0}
        seen = 0
        for images, labels in split.batches(batch_size):
            images, labels = images.to(self.device), labels.to(self.device)
            logits = self.network(images)
            n = labels.shape[0]
            sums["loss"] += self.loss(logits, labels).item() * n
            for key, value in self.batch_metrics(logits, labels).items():
                sums[key] = sums.get(key, 0.0) + value
            seen += n
        rates = {rate: error_rate(sums.get(errors, 0.0), sums.get(length, 0.0))
                 for rate, (errors, length) in self.error_rates.items()}
        summed_only = {key for keys in self.error_rates.values() for key in keys}
        means = {key: value / max(seen, 1) for key, value in sums.items() if key not in summed_only}
        return means | rates

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        self.network.eval()
        return self.decode(self.network(images.to(self.device)))

    def sample_predictions(self, split: Split, count: int = 32) -> list[dict[str, Any]]:
        """The first ``count`` samples of ``split`` with truth, prediction and confidence."""
        images, labels = next(iter(split.batches(count)))
        rows = []
        for image, truth, (text, conf) in zip(images, self.label_text(labels), self.predict(images)):
            rows.append({"image": image.numpy(), "truth": truth, "pred": text, "conf": conf})
        return rows

    def save(self, bundle_dir: Path, **extra: Any) -> Path:
        """Write a bundle; ``extra`` must name the ``network`` and its ``network_args``."""
        meta = {
            "model": self.name,
            "predictor": self.predictor,
            "shapes": shapes_to_dict(self.shapes),
            "mapping": self.mapping.to_list(),
            **extra,
        }
        return write_bundle(Path(bundle_dir), self.network, meta)
