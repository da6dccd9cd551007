"""The four component contracts every plugin implements: Dataset, Network, Model, Augmenter.

They are :class:`typing.Protocol` classes: a plugin satisfies one by having the attributes and
methods below, without inheriting from anything in the core.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import attrs
import torch

from textrec_core.mapping import CharacterMapping


@attrs.frozen
class DataShapes:
    """What a network needs to know about its data.

    ``input_shape`` is one sample's image shape ``(H, W)``; ``output_shape`` is one label's shape
    (``()`` for a single character, ``(L,)`` for a sequence of L tokens); ``num_classes`` is the
    size of the label alphabet.
    """

    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    num_classes: int


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

    ``prepare()`` downloads, verifies and caches whatever is needed and must be called before
    the splits are read; it is idempotent and cheap once cached. ``mapping`` maps label index to
    character. ``shapes`` describes one sample for the network.
    """

    mapping: CharacterMapping

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
    the config layer checks ``network_args`` against them.
    """

    def __call__(self, shapes: DataShapes, /, **network_args: Any) -> torch.nn.Module: ...


@runtime_checkable
class Model(Protocol):
    """Binds a dataset and a network: training, evaluation, persistence and prediction.

    Constructed as ``Model(dataset, network_module, **model_args)``.
    """

    def fit(self, train_args: Any, callbacks: Any = ...) -> Mapping[str, list[float]]:
        """Train on ``dataset.train``, early-stopping on ``dataset.val``; return the history."""

    def evaluate(self, split: Split) -> dict[str, float]:
        """Metrics (at least ``loss`` and the model's main metric) over a whole split."""

    def save(self, bundle_dir: Path, **extra: Any) -> Path:
        """Write a self-describing bundle directory and return its path."""

    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        """Text and confidence in [0, 1] for each image of a float batch ``(B, H, W)``."""


@runtime_checkable
class Augmenter(Protocol):
    """A transform of a training batch, applied in training only, never in evaluation.

    Called with the float image batch ``(B, H, W)`` and a ``torch.Generator`` for its
    randomness; returns a batch of the same shape.
    """

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...
