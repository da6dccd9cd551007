"""``textrec-run`` end to end on a dataset registered for the test, and its error exits."""

from __future__ import annotations

import json
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from textrec_core import EMNIST_MAPPING, DataShapes, TensorSplit, hookimpl, load_predictor
from textrec_core.bundle import Bundle
from textrec_core.cli import main


class StripesDataset:
    """Two easily told apart classes: '0' has a bright vertical bar, '1' a horizontal one."""

    mapping = EMNIST_MAPPING

    def __init__(self, *, size: int = 600) -> None:
        self.size = size

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((28, 28), (), len(self.mapping))

    def prepare(self) -> None:
        rng = np.random.default_rng(0)
        labels = rng.integers(0, 2, self.size)
        images = rng.integers(0, 60, (self.size, 28, 28)).astype(np.uint8)
        pos = rng.integers(6, 22, self.size)
        for i, (label, p) in enumerate(zip(labels, pos)):
            if label == 0:
                images[i, 4:24, p - 2 : p + 2] = 255
            else:
                images[i, p - 2 : p + 2, 4:24] = 255
        self._splits = [TensorSplit(torch.from_numpy(images[s]), torch.from_numpy(labels[s]))
                        for s in (slice(0, 400), slice(400, 500), slice(500, None))]

    @property
    def train(self):
        return self._splits[0]

    @property
    def val(self):
        return self._splits[1]

    @property
    def test(self):
        return self._splits[2]


@pytest.fixture
def stripes(textrec_plugin):
    plugin = types.SimpleNamespace()

    @hookimpl
    def textrec_register_components(register):
        register.dataset("StripesDataset", StripesDataset, aliases=("stripes",))

    plugin.textrec_register_components = textrec_register_components
    textrec_plugin(plugin, name="stripes-plugin")


def test_train_save_and_predict(stripes, capsys, tmp_path):
    config = {"dataset": "stripes", "model": "character", "network": "mlp",
              "network_args": {"layer_size": 32, "num_layers": 1},
              "train_args": {"epochs": 3, "batch_size": 16, "learning_rate": 0.01}}
    assert main(["--save", "--nowandb", "--quiet", json.dumps(config)]) == 0
    out = capsys.readouterr().out
    bundle_dir = out.split("saved model bundle: ")[1].split("\n")[0]
    run_dir = tmp_path / "runs"
    (run,) = run_dir.iterdir()
    for name in ("config.json", "metrics.json", "run.log", "training_curves.png", "confusion_matrix.png"):
        assert (run / name).is_file(), name
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] > 0.9
    assert len(metrics["history"]["val_loss"]) == 3
    resolved = json.loads((run / "config.json").read_text())
    assert resolved["network_args"] == {"layer_size": 32, "num_layers": 1, "dropout": 0.2}
    assert resolved["train_args"]["patience"] == 3  # a default filled in
    assert f"accuracy={metrics['test']['accuracy']:.4f}" in out

    predictor = load_predictor(bundle_dir)
    assert Bundle(bundle_dir).metrics["accuracy"] == metrics["test"]["accuracy"]
    image = np.zeros((28, 28), dtype=np.uint8)
    image[4:24, 12:16] = 255
    text, conf = predictor.predict(image)
    assert text == "0" and 0.5 < conf <= 1.0
    assert predictor.predict(image.T)[0] == "1"


def test_seeded_runs_are_reproducible(stripes, capsys):
    config = json.dumps({"dataset": "stripes", "model": "character", "network": "mlp",
                         "train_args": {"epochs": 2, "batch_size": 50, "seed": 7}})
    outputs = []
    for _ in range(2):
        assert main(["--nowandb", "--quiet", config]) == 0
        outputs.append(capsys.readouterr().out.splitlines()[-1])
    assert outputs[0] == outputs[1]


def test_early_stopping_ends_training_before_epochs(stripes, tmp_path):
    config = {"dataset": "stripes", "model": "character", "network": "mlp",
              "train_args": {"epochs": 40, "patience": 1, "learning_rate": 0.05}}
    assert main(["--nowandb", "--quiet", json.dumps(config)]) == 0
    (run,) = (tmp_path / "runs").iterdir()
    assert len(json.loads((run / "metrics.json").read_text())["history"]["val_loss"]) < 40


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "textrec_core.cli", *args], capture_output=True, text=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (['{"dataset": "stripes", "model": "CharacterModel", "network": "mlp", "network_args": {"num_layers": "8"}}'],
         "unknown dataset 'stripes'"),
        (['{"dataset": "EmnistDataset", "model": "CharacterModel", "network": "mlp", "foo": 1}'], "foo: unknown key"),
        (['{"dataset": "EmnistDataset",'], "not valid JSON"),
        (["nonexistent.yaml"], "does not exist"),
        ([], "CONFIG is required"),
        (["--gpu", "x", "{}"], "invalid int value"),
    ],
)
def test_usage_and_config_errors_exit_2_without_traceback(args, message):
    result = run_cli("--nowandb", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_network_args_type_error_names_the_path(stripes, capsys):
    config = {"dataset": "stripes", "model": "CharacterModel", "network": "mlp", "network_args": {"num_layers": "8"}}
    assert main(["--nowandb", json.dumps(config)]) == 2
    assert "network_args.num_layers: expected int, got str ('8')" in capsys.readouterr().err


def test_list_components_json():
    result = run_cli("--list-components", "--json")
    assert result.returncode == 0
    listing = json.loads(result.stdout)
    networks = {e["name"]: e for e in listing["components"]["network"]}
    assert networks["mlp"]["provider"] == "textrec-mlp"
    assert {"name": "CharacterModel", "aliases": ["character"]}.items() <= listing["components"]["model"][0].items()


def test_list_components_text():
    result = run_cli("--list-components")
    assert result.returncode == 0
    assert "networks:" in result.stdout and "lenet" in result.stdout and "[textrec-lenet]" in result.stdout
