"""Components defined for the core's tests, so that they need no installed plugin.

``toy`` registers, for one test and on a plugin host with no installed plugin loaded:

- the dataset ``Stripes`` (alias ``stripes``): two classes told apart at a glance, ``|`` (a
  vertical bar) and ``-`` (a horizontal one), on small square images; it records every
  ``prepare()`` call in ``Stripes.prepared``;
- the network ``toy_mlp``: one hidden layer, its output layer declared class-indexed;
- the model ``ToyClassifier`` (alias ``toy``): cross-entropy, ``loss`` and ``accuracy``, one
  model argument (``temperature``, which decoding divides the logits by);
- the predictor ``ToyPredictor``.

It also returns, unregistered (a test that needs it registers it), the dataset ``Crosses``: ``+``
(both bars) and ``-``, an alphabet that keeps one of ``Stripes``' characters, adds one and drops
one; its ``version`` is ``"crosses v1"``.

``plugin_of(hook, name)`` registers a plugin whose ``textrec_register_components`` is
``hook(register)``, for one test. (Test modules are not importable from one another under
``--import-mode=importlib``, so what they share lives here, reached through fixtures.)
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from textrec_core import ArgumentError, CharacterMapping, DataShapes, PreparedSplits, TensorSplit, TorchModel, hookimpl
from textrec_core.errors import InputImageError
from textrec_core.predictor import ImagePredictor
from textrec_core.services.images import ink_bright, to_grayscale

MAPPING = CharacterMapping(["|", "-"])


def stripe_image(label: int, side: int, position: int, noise: np.ndarray | None = None, *,
                 cross: bool = False) -> np.ndarray:
    """A uint8 ``side`` x ``side`` image: a bright bar at ``position``, vertical for label 0
    (``|``), horizontal for label 1 (``-``), over ``noise`` (dark) if given; with ``cross``, label
    0 has both bars (``+``)."""
    image = np.zeros((side, side), dtype=np.uint8) if noise is None else noise.copy()
    bar = slice(max(position - 1, 0), position + 1)
    span = slice(2, side - 2)
    if label == 0:
        image[span, bar] = 255
    if label == 1 or cross:
        image[bar, span] = 255
    return image


class Stripes(PreparedSplits):
    """Two classes told apart at a glance: ``|`` (a vertical bar) and ``-`` (a horizontal one)."""

    #: Every instance whose ``prepare()`` ran (the ``toy`` fixture gives each test its own list).
    prepared: ClassVar[list[Stripes]] = []
    mapping: ClassVar[CharacterMapping] = MAPPING

    def __init__(self, *, size: int = 300, side: int = 12) -> None:
        if size < 30:
            raise ArgumentError("size", f"must be at least 30, got {size}")
        if side < 8:
            raise ArgumentError("side", f"must be at least 8, got {side}")
        self.size = size
        self.side = side

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((self.side, self.side), (), self.mapping)

    def prepare(self) -> None:
        type(self).prepared.append(self)
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, self.size)
        positions = rng.integers(3, self.side - 3, self.size)
        noise = rng.integers(0, 60, (self.size, self.side, self.side)).astype(np.uint8)
        images = np.stack([self.draw(int(label), int(p), n) for label, p, n in zip(labels, positions, noise)])
        train, val = int(self.size * 0.6), int(self.size * 0.8)
        self.splits = {
            name: TensorSplit(torch.from_numpy(images[part]), torch.from_numpy(labels[part]))
            for name, part in (("train", slice(0, train)), ("val", slice(train, val)), ("test", slice(val, None)))
        }

    def draw(self, label: int, position: int, noise: np.ndarray) -> np.ndarray:
        return stripe_image(label, self.side, position, noise)


class Crosses(Stripes):
    """``+`` (a vertical and a horizontal bar) and ``-`` (a horizontal bar): of ``Stripes``'
    alphabet it keeps ``-`` (at another index), adds ``+`` and drops ``|``."""

    mapping: ClassVar[CharacterMapping] = CharacterMapping(["+", "-"])

    def prepare(self) -> None:
        super().prepare()
        self.version = "crosses v1"

    def draw(self, label: int, position: int, noise: np.ndarray) -> np.ndarray:
        return stripe_image(label, self.side, position, noise, cross=True)


class ToyMlp(nn.Sequential):
    """``toy_mlp``'s layers; the last scores the classes."""

    class_indexed = {"3.weight": 0, "3.bias": 0}


def toy_mlp(shapes: DataShapes, *, hidden: int = 16) -> nn.Module:
    """One hidden layer of ``hidden`` ReLU units over the flattened image."""
    if hidden < 1:
        raise ArgumentError("hidden", f"must be at least 1, got {hidden}")
    if shapes.output_shape != ():
        raise ValueError(f"toy_mlp classifies single characters, not output shape {shapes.output_shape}")
    height, width = shapes.input_shape
    return ToyMlp(nn.Flatten(), nn.Linear(height * width, hidden), nn.ReLU(), nn.Linear(hidden, shapes.num_classes))


class ToyClassifier(TorchModel):
    """One label per image: cross-entropy, ``loss`` and ``accuracy``; decoding divides the
    logits by ``temperature``. Writes ``toy_report.txt`` as its report."""

    predictor = "ToyPredictor"
    ratios = {**TorchModel.ratios, "accuracy": ("correct", "samples")}

    def __init__(self, dataset: Any, network: nn.Module, *, temperature: float = 1.0) -> None:
        if temperature <= 0:
            raise ArgumentError("temperature", f"must be positive, got {temperature}")
        super().__init__(dataset, network)
        self.temperature = temperature

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels)

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        return {"correct": (logits.argmax(dim=1) == labels).sum().item()}

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        confidence, index = F.softmax(logits / self.temperature, dim=1).max(dim=1)
        return [(self.mapping[i], c) for i, c in zip(index.tolist(), confidence.tolist())]

    def label_text(self, labels: torch.Tensor) -> list[str]:
        return [self.mapping[i] for i in labels.tolist()]

    def write_report(self, split: Any, out_dir: Path) -> list[Path]:
        path = Path(out_dir) / "toy_report.txt"
        path.write_text(json.dumps(self.evaluate(split)))
        return [path]


class ToyPredictor(ImagePredictor):
    """Serves a ``ToyClassifier`` bundle: images of the input size, either polarity."""

    def preprocess(self, image: Any) -> np.ndarray:
        array = ink_bright(to_grayscale(image))
        if array.shape != self.input_shape:
            raise InputImageError(f"expected an image of shape {self.input_shape}, got {array.shape}")
        return array


@pytest.fixture
def plugin_of(bare_host: None, textrec_plugin: Callable[..., str]) -> Callable[..., str]:
    """``plugin_of(hook, name="test-plugin")``: register, for this test, a plugin whose
    ``textrec_register_components`` hook is ``hook(register)``; no installed plugin is loaded."""

    def add(hook: Callable[[Any], None], name: str = "test-plugin") -> str:
        def textrec_register_components(register: Any) -> None:
            hook(register)

        return textrec_plugin(types.SimpleNamespace(textrec_register_components=hookimpl(textrec_register_components)),
                              name=name)

    return add


@pytest.fixture
def toy(plugin_of: Callable[..., str]) -> types.SimpleNamespace:
    """Registers the toy components (see the module docstring) as plugin ``textrec-toy`` and
    returns them, with ``config(**fields)``: a JSON config of them for ``textrec-run``."""
    stripes = type("Stripes", (Stripes,), {"prepared": [], "__doc__": Stripes.__doc__})

    def hook(register: Any) -> None:
        register.dataset(stripes, aliases=("stripes",))
        register.network(toy_mlp)
        register.model(ToyClassifier, aliases=("toy",))
        register.predictor(ToyPredictor)

    plugin_of(hook, "textrec-toy")

    def config(**fields: Any) -> str:
        data = {"dataset": "stripes", "model": "toy", "network": "toy_mlp",
                "train_args": {"epochs": 2, "batch_size": 32, "learning_rate": 0.01}}
        data.update(fields)
        return json.dumps(data)

    return types.SimpleNamespace(Stripes=stripes, Crosses=Crosses, toy_mlp=toy_mlp, ToyClassifier=ToyClassifier,
                                 ToyPredictor=ToyPredictor, mapping=MAPPING, stripe_image=stripe_image,
                                 config=config, plugin_of=plugin_of)
