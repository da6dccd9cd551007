"""The four component contracts every plugin implements: Dataset, Network, Model, Augmenter.

They are :class:`typing.Protocol` classes: a plugin satisfies one by having the attributes and
methods below, without inheriting from anything in the core.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import torch

from textrec_core.mapping import CharacterMapping


@attrs.frozen
class DataShapes:
    """What a network and a model need to know about their data, known before any data is read.

    ``input_shape`` is one sample's image shape ``(H, W)``; ``output_shape`` is one label's shape
    (``()`` for a single character, ``(L,)`` for a sequence of L tokens); ``mapping`` is the label
    alphabet (label index <-> token), so ``num_classes`` is its length.

    ``ink_margin`` says how the images are framed. ``None``: as a whole (an EMNIST line is its
    characters' boxes side by side). A fraction: by their own ink, scaled so the ink spans the
    image height less ``ink_margin`` of it at the top and at the bottom; a predictor frames an
    image the same way before reading it.
    """

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    mapping: CharacterMapping
    ink_margin: float | None = None

    @property
    def num_classes(self) -> int:
        return len(self.mapping)


@runtime_checkable
class Split(Protocol):
    """One split of a dataset: a finite, re-iterable source of batches."""

    def __len__(self) -> int:
        """Number of samples."""

    def batches(
        self, batch_size: int, *, shuffle: bool = False, generator: torch.Generator | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(images, labels)``: float32 images in [0, 1] of shape ``(B, H, W)``, ink
        bright on dark, and int64 labels of shape ``(B,) + output_shape``. Covers every sample
        exactly once per call; ``shuffle`` draws the order from ``generator``."""


@runtime_checkable
class Dataset(Protocol):
    """A labelled image dataset.

    Constructing one checks its arguments and does no other work. ``shapes`` (with the label
    alphabet, ``shapes.mapping``) is available at once, so networks and models can be built and
    checked before any data is read. ``prepare()`` downloads, verifies and caches whatever is
    needed and must be called before the splits are read; it is idempotent and cheap once cached.

    Optionally a dataset has a ``version``: a string naming the exact data it serves (e.g.
    ``"receipts v3 sha256:0123456789ab"``), or None. It is read after ``prepare()`` (which may set
    it) with ``getattr(dataset, "version", None)``, so a dataset without the attribute has none;
    ``textrec-run`` records it in the run folder and as ``dataset_version`` in the bundle.
    """

    @property
    def shapes(self) -> DataShapes: ...

    def prepare(self) -> None: ...

    @property
    def train(self) -> Split: ...

    @property
    def val(self) -> Split: ...

    @property
    def test(self) -> Split: ...


class Network(Protocol):
    """A factory of ``torch.nn.Module``.

    Called as ``network(shapes, **network_args)``. The module maps a float batch
    ``(B,) + shapes.input_shape`` to logits ``(B,) + shapes.output_shape + (num_classes,)``
    (sequence models document their own output layout). Keyword arguments carry type hints:
    the config layer checks ``network_args`` against them; a bad value raises
    :class:`~textrec_core.errors.ArgumentError` naming the argument.

    A module that can be fine-tuned on another alphabet (``train_args.init_from``) declares its
    tensors indexed by the alphabet: see :class:`ClassIndexed`.
    """

    def __call__(self, shapes: DataShapes, /, **network_args: Any) -> torch.nn.Module: ...


@runtime_checkable
class ClassIndexed(Protocol):
    """Optional, on any module of a network: which of the module's own tensors are indexed by the
    label alphabet, and along which dimension.

    ``class_indexed`` maps keys of the module's ``state_dict`` (relative to the module, such as
    ``"classifier.1.weight"``) to the dimension whose index is a label index (an output layer's
    weight and bias rows, a decoder's token embedding: 0). A class attribute, or a property where
    the keys depend on the arguments. When a network is started from a bundle of another alphabet
    (:mod:`textrec_core.finetune`), these tensors are remapped token by token and every other
    tensor is copied as it is; a network none of whose modules declare any can only start from a
    bundle of the same alphabet.
    """

    class_indexed: Mapping[str, int]


@runtime_checkable
class Model(Protocol):
    """Binds a dataset and a network: training, evaluation, persistence and prediction.

    Constructed as ``Model(dataset, network_module, **model_args)`` from ``dataset.shapes`` alone
    (the data is prepared afterwards), or as ``Model.for_inference(network_module, shapes,
    **model_args)`` to read a saved network's output. This protocol lists everything
    ``textrec-run`` and :func:`~textrec_core.predictor.load_predictor` call; subclassing
    :class:`~textrec_core.model.TorchModel` provides all of it but ``loss`` and ``decode``.
    """

    network: torch.nn.Module

    @classmethod
    def for_inference(cls, network: torch.nn.Module, shapes: DataShapes, /, **model_args: Any) -> Model:
        """A model that reads ``network``'s output (``predict``) without a dataset; it cannot ``fit``."""

    def to(self, device: torch.device) -> Model:
        """Move the network to ``device``; return the model."""

    def fit(self, train_args: Any, *, callbacks: Sequence[Any] = (), augmenters: Sequence[Augmenter] = (),
            progress: bool = True, checkpoint: Path | None = None,
            resume: dict[str, Any] | None = None) -> Mapping[str, list[float]]:
        """Train on ``dataset.train``, early-stopping on ``dataset.val``; return the history.
        ``callbacks`` have ``on_epoch_end(epoch, metrics)``; ``augmenters`` transform training batches;
        ``checkpoint`` is written after every epoch; ``resume`` (a checkpoint read back) is restored
        first and training continues from it (:mod:`textrec_core.checkpoint`). These two keywords
        are optional: a model whose ``fit`` lacks them trains without checkpoints and cannot be
        resumed."""

    def evaluate(self, split: Split) -> dict[str, float]:
        """Metrics (at least ``loss`` and the model's main metric) over a whole split."""

    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence in [0, 1] for each image of a float batch ``(B, H, W)``."""

    def label_text(self, labels: torch.Tensor) -> list[str]:
        """The texts a batch of labels spells."""

    def write_report(self, split: Split, out_dir: Path) -> list[Path]:
        """Write model-specific plots of ``split`` into ``out_dir`` (may write none); return their paths."""

    def save(self, bundle_dir: Path, **meta: Any) -> Path:
        """Write a bundle (:func:`~textrec_core.bundle.write_bundle`) with ``meta`` (``model``,
        ``network``, ``network_args``, ``model_args``, ...) and the model's ``predictor``; return its path."""


@runtime_checkable
class Augmenter(Protocol):
    """A transform of a training batch, applied in training only, never in evaluation.

    Called with the float image batch ``(B, H, W)`` and a ``torch.Generator`` for its
    randomness; returns a batch of the same shape.
    """

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...
