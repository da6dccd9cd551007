"""``TorchModel.evaluate`` (sums of ``evaluation_step`` statistics, reported as ``ratios``) on a
hand-made split, and a model written to the ``Model`` protocol alone, trained by ``textrec-run``
and served by ``load_predictor``."""

from __future__ import annotations

import json
import math
import types
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from textrec_core import DataShapes, Model, TensorSplit, TorchModel, load_predictor
from textrec_core.bundle import Bundle, shapes_to_dict, write_bundle
from textrec_core.cli import main
from textrec_core.components import ComponentRegister, Components
from textrec_core.errors import UnknownComponentError
from textrec_core.mapping import CharacterMapping

# --- evaluate: statistics summed over the split, then ratios ----------------------------------------

PAIRS = CharacterMapping("ab")
#: Five 1 x 2 images whose pixels (/255) are the logits of classes a and b, and their labels.
PIXELS = [[0, 255], [255, 0], [51, 204], [255, 255], [0, 0]]
LABELS = [1, 0, 0, 1, 0]


def logits_split() -> TensorSplit:
    return TensorSplit(torch.tensor(PIXELS, dtype=torch.uint8).view(5, 1, 2), torch.tensor(LABELS))


class LogitsAreThePixels(TorchModel):
    """Cross-entropy of the image read as logits; ``accuracy``; ``nothing`` is 0 / 0."""

    predictor = "none"
    ratios = {**TorchModel.ratios, "accuracy": ("correct", "samples"), "nothing": ("absent", "absent")}

    def loss(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, labels)

    def batch_metrics(self, logits: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        return {"correct": (logits.argmax(dim=1) == labels).sum().item(), "absent": 0}


def for_pairs(model_cls: type, network: nn.Module | None = None) -> Any:
    return model_cls.for_inference(network or nn.Flatten(), DataShapes((1, 2), (), PAIRS))


def cross_entropy(a: float, b: float, label: int) -> float:
    return math.log(math.exp(a) + math.exp(b)) - (a, b)[label]


def test_evaluate_sums_loss_and_counts_over_unequal_batches():
    metrics = for_pairs(LogitsAreThePixels).evaluate(logits_split(), batch_size=2)  # batches of 2, 2 and 1
    # by hand: the logits are (0, 1), (1, 0), (0.2, 0.8), (1, 1), (0, 0)
    losses = [math.log(1 + math.e) - 1, math.log(1 + math.e) - 1, math.log(math.exp(0.2) + math.exp(0.8)) - 0.2,
              math.log(2), math.log(2)]
    assert losses == pytest.approx([cross_entropy(p / 255, q / 255, y) for (p, q), y in zip(PIXELS, LABELS)])
    assert set(metrics) == {"loss", "accuracy", "nothing"}  # exactly the ratios, no raw sums
    assert metrics["loss"] == pytest.approx(sum(losses) / 5, rel=1e-6)
    batch_means = [(losses[0] + losses[1]) / 2, (losses[2] + losses[3]) / 2, losses[4]]
    assert abs(sum(losses) / 5 - sum(batch_means) / 3) > 0.01  # a mean of batch means would be wrong
    assert metrics["accuracy"] == 3 / 5  # right: (0, 1)->b, (1, 0)->a, (0, 0)->a; wrong: (0.2, 0.8), (1, 1)
    assert metrics["nothing"] == 0.0


class MisnamedRatio(LogitsAreThePixels):
    ratios = {**TorchModel.ratios, "accuracy": ("corect", "samples")}


def test_a_ratio_naming_a_statistic_that_evaluation_step_never_returns_is_an_error():
    with pytest.raises(KeyError, match="corect"):
        for_pairs(MisnamedRatio).evaluate(logits_split())


def test_evaluate_does_not_depend_on_the_batch_size():
    model = for_pairs(LogitsAreThePixels)
    whole = model.evaluate(logits_split())
    for batch_size in (1, 2, 3, 4):
        assert model.evaluate(logits_split(), batch_size=batch_size) == pytest.approx(whole)


class Edits(TorchModel):
    """A scripted ``evaluation_step``: each label is ``(edits, truth_chars)`` of one sample."""

    predictor = "none"
    steps: list[dict[str, Any]]

    @property
    def ratios(self) -> Mapping[str, tuple[str, str]]:
        return {"cer": ("char_edits", "truth_chars"), "edits_per_line": ("char_edits", "lines")}

    def evaluation_step(self, images: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
        self.steps.append({"size": len(labels), "training": self.network.training,
                           "grad": torch.is_grad_enabled()})
        return {"char_edits": labels[:, 0].sum().item(), "truth_chars": labels[:, 1].sum().item(),
                "lines": len(labels), "ignored": 99.0}


def test_evaluate_reports_ratios_of_sums_not_means_of_batch_ratios():
    split = TensorSplit(torch.zeros((5, 1, 2), dtype=torch.uint8),
                        torch.tensor([[1, 1], [0, 3], [2, 2], [0, 10], [1, 4]]))
    model = for_pairs(Edits, nn.Dropout(0.5))
    model.steps = []
    model.network.train()
    metrics = model.evaluate(split, batch_size=2)
    assert metrics == {"cer": 4 / 20, "edits_per_line": 4 / 5}  # batch cers 1/4, 2/12, 1/4 average 0.22
    assert [s["size"] for s in model.steps] == [2, 2, 1]
    assert not any(s["training"] or s["grad"] for s in model.steps)  # eval mode, no autograd


def test_an_empty_split_evaluates_to_zeros():
    model = for_pairs(Edits)
    model.steps = []
    empty = TensorSplit(torch.zeros((0, 1, 2), dtype=torch.uint8), torch.zeros((0, 2)))
    assert model.evaluate(empty) == {"cer": 0.0, "edits_per_line": 0.0}
    assert model.steps == []


# --- a model written to the protocol alone ----------------------------------------------------------


class ProtocolModel:
    """A linear classifier written against ``textrec_core.protocols.Model`` only: its own training
    loop (plain SGD with step ``step_size``), evaluation, prediction and bundle."""

    predictor = "ToyPredictor"

    def __init__(self, dataset: Any, network: nn.Module, *, step_size: float = 0.5) -> None:
        self.dataset = dataset
        self.network = network
        self.shapes = dataset.shapes
        self.step_size = step_size
        self.device = torch.device("cpu")

    @classmethod
    def for_inference(cls, network: nn.Module, shapes: DataShapes, /, **model_args: Any) -> ProtocolModel:
        model = cls(types.SimpleNamespace(shapes=shapes), network, **model_args)  # all it needs of its data
        network.eval()
        return model

    def to(self, device: torch.device) -> ProtocolModel:
        self.device = device
        self.network.to(device)
        return self

    def fit(self, train_args: Any, *, callbacks: Sequence[Any] = (), augmenters: Sequence[Any] = (),
            progress: bool = True) -> dict[str, list[float]]:
        optimizer = torch.optim.SGD(self.network.parameters(), lr=self.step_size)
        history: dict[str, list[float]] = {}
        for epoch in range(1, train_args.epochs + 1):
            self.network.train()
            for images, labels in self.dataset.train.batches(train_args.batch_size):
                optimizer.zero_grad()
                F.cross_entropy(self.network(images), labels).backward()
                optimizer.step()
            metrics = {"train_loss": self.evaluate(self.dataset.train)["loss"],
                       **{f"val_{k}": v for k, v in self.evaluate(self.dataset.val).items()}}
            for key, value in metrics.items():
                history.setdefault(key, []).append(value)
            for callback in callbacks:
                callback.on_epoch_end(epoch, metrics)
        return history

    @torch.no_grad()
    def evaluate(self, split: Any) -> dict[str, float]:
        self.network.eval()
        images, labels = next(iter(split.batches(len(split))))
        logits = self.network(images)
        return {"loss": F.cross_entropy(logits, labels).item(),
                "accuracy": (logits.argmax(1) == labels).float().mean().item()}

    @torch.no_grad()
    def predict(self, images: torch.Tensor) -> list[tuple[str, float]]:
        self.network.eval()
        confidence, index = F.softmax(self.network(images), dim=1).max(dim=1)
        return [(self.shapes.mapping[i], c) for i, c in zip(index.tolist(), confidence.tolist())]

    def label_text(self, labels: torch.Tensor) -> list[str]:
        return [self.shapes.mapping[i] for i in labels.tolist()]

    def write_report(self, split: Any, out_dir: Path) -> list[Path]:
        return []

    def save(self, bundle_dir: Path, **meta: Any) -> Path:
        return write_bundle(Path(bundle_dir), self.network, {
            "predictor": self.predictor, "shapes": shapes_to_dict(self.shapes),
            "mapping": self.shapes.mapping.to_list(), **meta})


def test_the_protocol_model_satisfies_the_protocol_without_the_base_class(toy):
    dataset = toy.Stripes()
    model = ProtocolModel(dataset, toy.toy_mlp(dataset.shapes))
    assert isinstance(model, Model) and not isinstance(model, TorchModel)


def test_a_protocol_model_trains_through_textrec_run_and_is_served(toy, capsys, tmp_path):
    toy.plugin_of(lambda register: register.model(ProtocolModel), "textrec-protocol-model")
    config = toy.config(model="ProtocolModel", model_args={"step_size": 0.3},
                        train_args={"epochs": 3, "batch_size": 16})
    assert main(["--save", "--nowandb", "--quiet", config]) == 0
    out = capsys.readouterr().out
    bundle_dir = Path(out.split("saved model bundle: ")[1].split("\n")[0])
    (run,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["history"]["val_loss"]) == 3
    assert metrics["test"]["accuracy"] > 0.9
    assert (run / "training_curves.png").is_file()

    bundle = Bundle(bundle_dir)
    assert (bundle.meta["model"], bundle.model_args) == ("ProtocolModel", {"step_size": 0.3})
    predictor = load_predictor(bundle_dir)
    assert type(predictor.model) is ProtocolModel and predictor.model.step_size == 0.3
    assert not predictor.model.network.training
    assert predictor.predict(toy.stripe_image(0, 12, 5))[0] == "|"
    assert predictor.predict(toy.stripe_image(1, 12, 7))[0] == "-"


def test_load_predictor_takes_its_components_from_the_table_given(toy, tmp_path):
    dataset = toy.Stripes(size=60)
    dataset.prepare()
    model = toy.ToyClassifier(dataset, toy.toy_mlp(dataset.shapes, hidden=3), temperature=4.0)
    model.save(tmp_path / "bundle", model="Toy", network="net", network_args={"hidden": 3},
               model_args={"temperature": 4.0})
    table = Components()
    register = ComponentRegister(table, "a-table")
    register.model(toy.ToyClassifier, "Toy")
    register.network(toy.toy_mlp, "net")
    register.predictor(toy.ToyPredictor)
    with pytest.raises(UnknownComponentError, match="unknown predictor|unknown model 'Toy'|unknown network 'net'"):
        load_predictor(tmp_path / "bundle")  # the plugin host knows none of these names
    predictor = load_predictor(tmp_path / "bundle", table)
    assert predictor.model.temperature == 4.0
    images, _ = next(iter(dataset.test.batches(4)))
    served, direct = predictor.model.predict(images), model.predict(images)
    assert [t for t, _ in served] == [t for t, _ in direct]
    assert [c for _, c in served] == pytest.approx([c for _, c in direct])
