"""``textrec-run`` end to end on components registered by the test (``toy``, tests/conftest.py),
``--check``, argument errors reported before any work, and the error exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from textrec_core import ArgumentError, load_predictor
from textrec_core.bundle import Bundle
from textrec_core.cli import main


def test_train_save_and_predict(toy, capsys, tmp_path):
    config = toy.config(network_args={"hidden": 8}, model_args={"temperature": 2.0},
                        train_args={"epochs": 3, "batch_size": 16, "learning_rate": 0.01})
    assert main(["--save", "--nowandb", "--quiet", config]) == 0
    out = capsys.readouterr().out
    bundle_dir = out.split("saved model bundle: ")[1].split("\n")[0]
    (run,) = (tmp_path / "runs").iterdir()
    for name in ("config.json", "metrics.json", "run.log", "training_curves.png", "toy_report.txt"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["test"]) == {"loss", "accuracy"}
    assert metrics["test"]["accuracy"] > 0.9
    assert len(metrics["history"]["val_loss"]) == 3
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["network_args"] == {"hidden": 8}
    assert resolved["dataset_args"] == {"size": 300, "side": 12}  # defaults filled in
    assert resolved["model_args"] == {"temperature": 2.0}
    assert resolved["train_args"]["patience"] == 3
    assert resolved["train_args"]["precision"] == "auto"
    assert f"accuracy={metrics['test']['accuracy']:.4f}" in out

    bundle = Bundle(bundle_dir)
    assert bundle.metrics == metrics["test"]
    assert (bundle.meta["model"], bundle.meta["network"], bundle.meta["predictor"]) == (
        "ToyClassifier", "toy_mlp", "ToyPredictor")
    assert bundle.model_args == {"temperature": 2.0}
    predictor = load_predictor(bundle_dir)
    assert isinstance(predictor, toy.ToyPredictor)
    assert predictor.model.temperature == 2.0  # decoded as trained, not with the default
    vertical = toy.stripe_image(0, 12, 6)
    text, conf = predictor.predict(vertical)
    logits = predictor.model.network(torch.from_numpy(vertical / np.float32(255)).unsqueeze(0))
    assert text == "|" and conf == pytest.approx(torch.softmax(logits / 2.0, dim=1).max().item())
    assert predictor.predict(vertical.T)[0] == "-"
    assert predictor.predict(255 - vertical)[0] == "|"  # dark ink on light paper


def test_seeded_runs_are_reproducible(toy, capsys):
    config = toy.config(train_args={"epochs": 2, "batch_size": 50, "seed": 7})
    outputs = []
    for _ in range(2):
        assert main(["--nowandb", "--quiet", config]) == 0
        outputs.append(capsys.readouterr().out.splitlines()[-1])
    assert outputs[0] == outputs[1]


def test_early_stopping_ends_training_before_epochs(toy, tmp_path):
    config = toy.config(train_args={"epochs": 40, "patience": 1, "learning_rate": 0.05})
    assert main(["--nowandb", "--quiet", config]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert len(json.loads((run / "metrics.json").read_text())["history"]["val_loss"]) < 40


def test_overrides_set_config_fields_by_dotted_path(toy, tmp_path):
    config = toy.config(network_args={"hidden": 8})
    assert main(["--nowandb", "--quiet", config, "network_args.hidden=5", "train_args.epochs=1",
                 "dataset_args.size=60", "train_args.lr_schedule=onecycle", "train_args.max_minutes=None"]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["network_args"] == {"hidden": 5} and resolved["dataset_args"]["size"] == 60
    assert resolved["train_args"]["epochs"] == 1 and resolved["train_args"]["lr_schedule"] == "onecycle"
    assert resolved["train_args"]["max_minutes"] is None  # a Python literal, as W&B's agent writes None


@pytest.mark.parametrize(("override", "message"), [
    ("train_args.epochs", "expected an override PATH=VALUE"),
    ("train_args..epochs=1", "expected an override PATH=VALUE"),
    ("dataset.size=3", "dataset: is str ('stripes'), not an object: cannot set dataset.size"),
    ("train_args.epochs=three", "train_args.epochs"),  # a string where an integer belongs: the config's own check
])
def test_bad_overrides_exit_2(toy, capsys, override, message):
    assert main(["--nowandb", "--check", toy.config(), override]) == 2
    assert message in capsys.readouterr().err


def test_check_builds_everything_and_reads_no_data(toy, capsys, tmp_path):
    assert main(["--check", toy.config(network_args={"hidden": 4})]) == 0
    assert "config OK: ToyClassifier on toy_mlp for Stripes" in capsys.readouterr().out
    assert toy.Stripes.prepared == []
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"network_args": {"hidden": 0}}, "network_args.hidden: must be at least 1, got 0"),
        ({"dataset_args": {"size": 3}}, "dataset_args.size: must be at least 30, got 3"),
        ({"model_args": {"temperature": -1.0}}, "model_args.temperature: must be positive, got -1.0"),
        ({"network_args": {"hidden": "8"}}, "network_args.hidden: expected int, got str ('8')"),
        ({"network_args": {"depth": 3}}, "network_args.depth: unknown argument; toy_mlp accepts hidden"),
        ({"train_args": {"precision": "float16"}},
         "train_args.precision: expected one of auto, float32, bfloat16, got 'float16'"),
    ],
)
@pytest.mark.parametrize("check", [False, True], ids=["run", "check"])
def test_a_bad_argument_exits_2_naming_its_path_before_any_data_work(toy, capsys, tmp_path, fields, message, check):
    assert main(["--nowandb", *(["--check"] if check else []), toy.config(**fields)]) == 2
    err = capsys.readouterr().err
    assert f"textrec-run: error: {message}" in err
    assert "Traceback" not in err
    assert toy.Stripes.prepared == []
    assert not (tmp_path / "runs").exists()


def test_a_plain_value_error_of_a_factory_is_reported_under_its_section(toy, capsys):
    def picky(shapes, *, width: int = 4):
        """Refuses every input shape, naming no argument."""
        raise ValueError(f"picky cannot read images of shape {shapes.input_shape}")

    toy.plugin_of(lambda register: register.network(picky), "textrec-picky")
    assert main(["--nowandb", toy.config(network="picky")]) == 2
    err = capsys.readouterr().err
    assert "textrec-run: error: network_args: picky cannot read images of shape (12, 12)" in err
    assert toy.Stripes.prepared == []


def test_an_argument_error_of_an_augmenter_names_its_position(toy, capsys):
    def jitter(*, amount: float = 0.1):
        """Adds noise (never reached: the argument is refused)."""
        if not 0 <= amount <= 1:
            raise ArgumentError("amount", f"must be in [0, 1], got {amount}")
        return lambda images, generator: images

    toy.plugin_of(lambda register: register.augmenter(jitter), "textrec-jitter")
    config = toy.config(augmenters=["jitter", {"name": "jitter", "args": {"amount": 2}}])
    assert main(["--nowandb", config]) == 2
    assert "textrec-run: error: augmenters.1.args.amount: must be in [0, 1], got 2.0" in capsys.readouterr().err
    assert toy.Stripes.prepared == []


def test_an_argument_error_from_prepare_names_the_dataset_argument(toy, capsys):
    class LateStripes(toy.Stripes):
        """Finds out only while preparing that its size cannot be served."""

        def prepare(self):
            super().prepare()
            raise ArgumentError("size", f"the source holds fewer than {self.size} samples")

    toy.plugin_of(lambda register: register.dataset(LateStripes), "textrec-late")
    assert main(["--nowandb", toy.config(dataset="LateStripes")]) == 2
    assert "textrec-run: error: dataset_args.size: the source holds fewer than 300 samples" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ('{"dataset": "stripes", "model": "ToyClassifier", "network": "toy_mlp"}',
         "unknown dataset 'stripes'. Available datasets: none (no plugin providing one is installed)."),
        ('{"dataset": "stripes", "model": "ToyClassifier", "network": "toy_mlp", "foo": 1}', "foo: unknown key"),
        ('{"dataset": "stripes",', "not valid JSON"),
        ("nonexistent.yaml", "does not exist"),
    ],
)
def test_config_errors_exit_2_with_one_paragraph(bare_host, capsys, config, message):
    assert main(["--nowandb", config]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "textrec_core.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "TEXTREC_PLUGINS": ""})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--nowandb", '{"dataset": "stripes", "model": "toy", "network": "toy_mlp"}'], "unknown dataset 'stripes'"),
        ([], "CONFIG is required"),
        (["--gpu", "x", "{}"], "invalid int value"),
    ],
)
def test_usage_and_config_errors_exit_2_without_traceback_from_the_program(args, message):
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_list_components_json(toy, capsys):
    assert main(["--list-components", "--json"]) == 0
    listing = json.loads(capsys.readouterr().out)
    assert listing["load_errors"] == []
    (network,) = listing["components"]["network"]
    assert {"name": "toy_mlp", "aliases": [], "provider": "textrec-toy",
            "summary": "One hidden layer of ``hidden`` ReLU units over the flattened image."}.items() <= network.items()
    assert [(e["name"], e["aliases"]) for e in listing["components"]["model"]] == [("ToyClassifier", ["toy"])]
    assert [e["name"] for e in listing["components"]["dataset"]] == ["Stripes"]
    assert [e["name"] for e in listing["components"]["predictor"]] == ["ToyPredictor"]
    assert listing["components"]["augmenter"] == []


def test_list_components_text(toy, capsys):
    assert main(["--list-components"]) == 0
    out = capsys.readouterr().out
    assert "networks:\n  toy_mlp  [textrec-toy]  One hidden layer" in out
    assert "models:\n  ToyClassifier (aliases: toy)  [textrec-toy]" in out
    assert "augmenters:\n  (none)" in out



def test_a_dataset_may_take_arguments_named_like_the_builders_own():
    """``path`` and ``factory`` are ordinary argument names for a component."""
    from textrec_core.experiment import construct

    def factory(*, path: str = "", factory: int = 0) -> tuple[str, int]:
        return path, factory

    assert construct("dataset_args", factory, path="here", factory=3) == ("here", 3)
