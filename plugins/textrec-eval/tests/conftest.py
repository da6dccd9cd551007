"""Fixtures of textrec-eval's tests: a tiny line dataset and a line model whose readings are known.

``KnownTextNetwork`` reads each 28-pixel window of a line as the number of its rows holding ink,
a quarter of it the index of a class of :data:`MAPPING` (4 rows ``a``, 8 ``b``, 12 ``c``, 16 space;
a window without ink is ``<pad>``, which reads as nothing), so a line drawn by :func:`draw` reads
exactly as the text drawn, whatever the predictor's contrast rule does to its levels.
``KnownTextModel`` reads that with ``decoder="greedy"`` and drops the reading's last character with
``decoder="beam"``, so both decoders' numbers can be worked out by hand; ``ShortReadingModel`` reads
one character fewer with each. ``TinyLines`` serves test
lines whose image and label texts may differ, with line ids.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import textrec_lines.plugin
import textrec_lstm_ctc.plugin
from textrec_core import ArgumentError, CharacterMapping, DataShapes, PreparedSplits, TensorSplit, hookimpl
from textrec_core.components import ComponentRegister
from textrec_core.errors import DataError
from textrec_core.mapping import LINE_MAPPING, PAD
from textrec_core.model import InferenceData
from textrec_core.plugins import components
from textrec_core.protocols import Dataset
from textrec_eval.cli import main
from textrec_lines import SequenceModel

MAPPING = CharacterMapping((PAD, "a", "b", "c", " "))
WINDOW = 28
HEIGHT = 28
MAX_LENGTH = 6
#: (drawn text, label text) of TinyLines' test split; greedy reads the drawn text.
LINES = (("abc", "abc"), ("ab ca", "ab cc"), ("a", "cab"), ("bb", "bb"))


def draw(text: str) -> np.ndarray:
    """A float line (HEIGHT, 28 * len(text)): per character a bar 4 rows per class index high in its window."""
    image = np.zeros((HEIGHT, WINDOW * len(text)), dtype=np.float32)
    for position, character in enumerate(text):
        image[4 : 4 + 4 * MAPPING.index(character), WINDOW * position + 10 : WINDOW * position + 18] = 1.0
    return image


class KnownTextNetwork(nn.Module):
    """Logits ``(B, T, 5)``: window ``t``'s class is its rows holding ink (brighter than 0.5) over 4;
    the width is padded with background to whole windows."""

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = F.pad(images, (0, -images.shape[2] % WINDOW))
        rows = (images.unfold(2, WINDOW, WINDOW) > 0.5).any(dim=3).sum(dim=1).float()
        return -10.0 * (rows.unsqueeze(2) / 4 - torch.arange(len(MAPPING))) ** 2


def known_text(shapes: DataShapes) -> nn.Module:
    return KnownTextNetwork()


class OwnReadingModel(SequenceModel):
    """Reads the argmax class of each window (a model with no ``decoder`` argument)."""

    variable_width = True

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        return [(text, 1.0) for text in self.label_text(logits.argmax(dim=-1))]


class KnownTextModel(OwnReadingModel):
    """``decoder`` "greedy" reads like :class:`OwnReadingModel`; "beam" drops the last character."""

    def __init__(self, dataset: Dataset | InferenceData, network: nn.Module, decoder: str = "greedy") -> None:
        if decoder not in ("greedy", "beam"):
            raise ArgumentError("decoder", f"must be 'greedy' or 'beam', got {decoder!r}")
        super().__init__(dataset, network)
        self.decoder = decoder

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        read = super().decode(logits)
        return read if self.decoder == "greedy" else [(text[:-1], confidence) for text, confidence in read]


class ShortReadingModel(KnownTextModel):
    """Reads one character fewer than :class:`KnownTextModel` with either decoder."""

    def decode(self, logits: torch.Tensor) -> list[tuple[str, float]]:
        return [(text[:-1], confidence) for text, confidence in super().decode(logits)]


class NamedSplit(TensorSplit):
    """A TensorSplit with line ``ids``; ``fail_after`` batches, it raises DataError (a corrupt file)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, ids: list[str], fail_after: int | None) -> None:
        super().__init__(images, labels)
        self.ids = ids
        self.fail_after = fail_after

    def batches(self, batch_size: int, **kwargs):
        for number, batch in enumerate(super().batches(batch_size, **kwargs)):
            if number == self.fail_after:
                raise DataError("line image lines/x.png is corrupt")
            yield batch


class TinyLines(PreparedSplits):
    """:data:`LINES` in every split, padded to the widest; ``fail_after`` batches reading fails."""

    def __init__(self, count: int = len(LINES), fail_after: int | None = None) -> None:
        if not 1 <= count <= len(LINES):
            raise ArgumentError("count", f"must be 1 to {len(LINES)}, got {count}")
        self.count = count
        self.fail_after = fail_after

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((HEIGHT, WINDOW * MAX_LENGTH), (MAX_LENGTH,), MAPPING)

    def prepare(self) -> None:
        lines = LINES[: self.count]
        images = torch.zeros(len(lines), HEIGHT, WINDOW * MAX_LENGTH, dtype=torch.uint8)
        labels = torch.full((len(lines), MAX_LENGTH), MAPPING.index(PAD))
        for i, (drawn, label) in enumerate(lines):
            image = draw(drawn)
            images[i, :, : image.shape[1]] = torch.from_numpy(image * 255).round().to(torch.uint8)
            labels[i, : len(label)] = torch.tensor(MAPPING.encode(label))
        split = NamedSplit(images, labels, [f"line-{i}" for i in range(len(lines))], self.fail_after)
        self.splits = {"train": split, "val": split, "test": split}

    train = property(lambda self: self._split("train"))
    val = property(lambda self: self._split("val"))
    test = property(lambda self: self._split("test"))


class EmptyLines(TinyLines):
    """A dataset whose test split holds no line."""

    def prepare(self) -> None:
        super().prepare()
        self.splits["test"] = self.splits["test"].subset(torch.arange(0))


#: The arguments IamFolderStub was last built with.
IAM_ARGUMENTS: dict[str, str] = {}


class IamFolderStub(TinyLines):
    """Stands in for textrec-iam's ``iam_lines``: records the arguments a folder maps to in :data:`IAM_ARGUMENTS`."""

    def __init__(self, path: str, split: str = "aachen") -> None:
        super().__init__()
        IAM_ARGUMENTS.clear()
        IAM_ARGUMENTS.update(path=path, split=split)


class TestPlugin:
    """Registers the stand-ins above."""

    @hookimpl
    def textrec_register_components(self, register: ComponentRegister) -> None:
        register.network(known_text)
        register.model(KnownTextModel)
        register.model(ShortReadingModel)
        register.model(OwnReadingModel)
        register.dataset(TinyLines, aliases=("tiny_lines",))
        register.dataset(EmptyLines)


class IamStubPlugin:
    @hookimpl
    def textrec_register_components(self, register: ComponentRegister) -> None:
        register.dataset(IamFolderStub, "iam_lines")


def save_bundle(model_cls: type[OwnReadingModel], path) -> str:
    """A bundle of ``model_cls`` on :class:`KnownTextNetwork` at ``path``."""
    shapes = TinyLines().shapes
    model = model_cls.for_inference(KnownTextNetwork(), shapes)
    return model.save(path, model=model_cls.__name__, network="known_text", network_args={}, model_args={})


def save_untrained_ctc(path: Path) -> str:
    """An untrained LineModelCtc + line_lstm_ctc bundle (as benchmarks/bench_predictor.py saves one)."""
    shapes = DataShapes((28, 28 * MAX_LENGTH), (MAX_LENGTH,), LINE_MAPPING)
    table = components()
    model = table.get("model", "LineModelCtc").for_inference(table.get("network", "line_lstm_ctc")(shapes), shapes)
    return model.save(path, model="LineModelCtc", network="line_lstm_ctc", network_args={}, model_args={})


@pytest.fixture(autouse=True)
def host(bare_host: None, textrec_plugin: Callable[..., str], one_thread: None) -> None:
    """Every test sees textrec-lines, textrec-lstm-ctc and the stand-ins above, and no other plugin."""
    textrec_plugin(textrec_lines.plugin, name="textrec-lines")
    textrec_plugin(textrec_lstm_ctc.plugin, name="textrec-lstm-ctc")
    textrec_plugin(TestPlugin(), name="textrec-eval-tests")


@pytest.fixture
def known_bundle(tmp_path: Path) -> str:
    """A bundle of KnownTextModel (greedy reads the drawn text, beam drops its last character)."""
    return str(save_bundle(KnownTextModel, tmp_path / "known"))


@pytest.fixture
def short_bundle(tmp_path: Path) -> str:
    """A bundle of ShortReadingModel (greedy reads as known_bundle's beam does)."""
    return str(save_bundle(ShortReadingModel, tmp_path / "short"))


@pytest.fixture
def own_reading_bundle(tmp_path: Path) -> str:
    """A bundle of OwnReadingModel, which has no decoder argument."""
    return str(save_bundle(OwnReadingModel, tmp_path / "own"))


@pytest.fixture
def ctc_bundle(tmp_path: Path) -> str:
    """An untrained LineModelCtc + line_lstm_ctc bundle."""
    return str(save_untrained_ctc(tmp_path / "ctc"))


@pytest.fixture
def install_iam_stub(textrec_plugin: Callable[..., str]) -> Callable[[], dict[str, str]]:
    """A function registering IamFolderStub as ``iam_lines``; it returns the dict its arguments land in."""

    def install() -> dict[str, str]:
        textrec_plugin(IamStubPlugin(), name="iam-stub")
        IAM_ARGUMENTS.clear()
        return IAM_ARGUMENTS

    return install


@pytest.fixture
def tiny_data() -> str:
    return json.dumps({"dataset": "tiny_lines"})


@pytest.fixture
def run_eval(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """``run_eval(*argv) -> (exit status, stdout, stderr)`` of textrec-eval in this process."""

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return run

