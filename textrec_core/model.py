"""``TorchModel``: a base class that implements the Model protocol for a network + dataset.

Subclasses say how to score and read the network's output (``loss``, ``decode``,
``label_text``; for evaluation ``ratios`` with ``batch_metrics`` or ``evaluation_step``) and
which predictor serves their bundles. The base class owns the loops: fitting (through
:class:`~textrec_core.training.Trainer`, imported only when a model trains), evaluation (sums of
per-batch statistics, then ratios) and saving.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import attrs
import torch

from textrec_core.bundle import shapes_to_dict, write_bundle
from textrec_core.errors import BundleError
from textrec_core.protocols import Augmenter, Dataset, DataShapes, Split
from textrec_core.services.metrics import error_rate

if TYPE_CHECKING:
    from textrec_core.config import TrainArgs
    from textrec_core.training import Callback

#: What ``save`` needs besides the network: the registered names and the arguments used.
SAVE_REQUIRES = ("model", "network", "network_args", "model_args")


@attrs.frozen
class InferenceData:
    """What a model needs of its dataset to decode: the shapes (with the alphabet), no splits."""

    shapes: DataShapes

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"a model loaded for inference has no dataset ({name!r} is unavailable)")


class TorchModel:
    """Binds ``dataset`` and ``network`` (an ``nn.Module``); see the module docstring.

    Evaluation contract: ``evaluation_step(images, labels)`` returns summable statistics of one
    batch; ``evaluate`` adds them up over a split and reports, for each ``metric -> (numerator,
    denominator)`` of ``ratios``, the ratio of the two sums
    (:func:`~textrec_core.services.metrics.error_rate`: 0 when both are 0).
    """

    #: Registered name of the predictor that serves this model's bundles.
    predictor: ClassVar[str]
    #: Whether the network reads images of any width (predictors then keep a line's width).
    variable_width: ClassVar[bool] = False
    #: metric -> (numerator, denominator): keys of the statistics ``evaluation_step`` returns.
    ratios: Mapping[str, tuple[str, str]] = {"loss": ("loss_sum", "samples")}

    def __init__(self, dataset: Dataset | InferenceData, network: torch.nn.Module) -> None:
        self.dataset = dataset
        self.network = network
        self.shapes = dataset.shapes
        self.mapping = self.shapes.mapping
        self.device = torch.device("cpu")

    @classmethod
    def for_inference(cls, network: torch.nn.Module, shapes: DataShapes, /, **model_args: Any) -> TorchModel:
        """A model built on :class:`InferenceData` instead of a dataset, for decoding a saved
        network's output with the saved ``model_args`` (predictors use it); it cannot ``fit``."""
        model = cls(InferenceData(shapes), network, **model_args)
        model.network.eval()
        return model

    # --- what subclasses define -------------------------------------------------------------
    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def training_loss(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """The loss the trainer minimises for one batch; models that need the labels in the
        forward pass (teacher forcing) override this."""
        return self.loss(self.network(images), labels)

    def evaluation_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Summable statistics of one batch: ``loss_sum`` (the mean loss times the batch size),
        ``samples`` and ``batch_metrics``' sums. Models whose evaluation is not a function of
        ``network(images)`` (encoder-decoders) override this."""
        logits = self.network(images)
        n = labels.shape[0]
        return {"loss_sum": self.loss(logits, labels).item() * n, "samples": n, **self.batch_metrics(logits, labels)}

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        """Further summable statistics of one batch (counts, edit-distance sums); none by default."""
        return {}

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
        *,
        callbacks: Sequence[Callback] = (),
        augmenters: Sequence[Augmenter] = (),
        progress: bool = True,
        checkpoint: Path | None = None,
        resume: dict[str, Any] | None = None,
    ) -> dict[str, list[float]]:
        from textrec_core.distributed import current, training_step
        from textrec_core.training import Trainer

        place = current()
        step = self.training_loss if place is None else training_step(self.network, self.training_loss, place)
        trainer = Trainer(train_args, device=self.device, progress=progress and (place is None or place.main))
        return trainer.fit(
            self.network, step, self.dataset.train, self.dataset.val, self.evaluate,
            augmenters=augmenters, callbacks=callbacks, checkpoint=checkpoint, resume=resume, place=place,
        )

    @torch.inference_mode()
    def evaluate(self, split: Split, batch_size: int = 1024) -> dict[str, float]:
        """Every metric of ``ratios`` over the whole split (see the class docstring)."""
        self.network.eval()
        sums: dict[str, float] = {}
        for images, labels in split.batches(batch_size):
            step = self.evaluation_step(images.to(self.device), labels.to(self.device))
            for key, value in step.items():
                sums[key] = sums.get(key, 0.0) + value
        missing = {key for pair in self.ratios.values() for key in pair} - sums.keys()
        if sums and missing:
            raise KeyError(f"{type(self).__name__}.ratios names statistics evaluation_step does not return: "
                           f"{', '.join(sorted(missing))}")
        return {metric: error_rate(sums.get(numerator, 0.0), sums.get(denominator, 0.0))
                for metric, (numerator, denominator) in self.ratios.items()}

    @torch.inference_mode()
    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        self.network.eval()
        return self.decode(self.network(images.to(self.device)))

    def save(self, bundle_dir: Path, **meta: Any) -> Path:
        """Write a bundle; ``meta`` must give the registered ``model`` and ``network`` names and
        the ``network_args`` and ``model_args`` they were built with (``BundleError`` otherwise)."""
        missing = [key for key in SAVE_REQUIRES if key not in meta]
        if missing:
            raise BundleError(f"cannot save a bundle without {', '.join(missing)}")
        meta = {"predictor": self.predictor, "shapes": shapes_to_dict(self.shapes),
                "mapping": self.mapping.to_list(), **meta}
        return write_bundle(Path(bundle_dir), self.network, meta)
