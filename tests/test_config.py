"""Every config error path names the bad field."""

from __future__ import annotations

import json

import pytest

from textrec_core.config import TrainArgs, parse_config, resolve_args, structure_config
from textrec_core.errors import ConfigError

BASE = {"dataset": "EmnistDataset", "model": "CharacterModel", "network": "mlp"}


def error_of(data) -> str:
    with pytest.raises(ConfigError) as info:
        structure_config(data)
    return str(info.value)


def test_seed_config_parses_with_defaults():
    config = parse_config(json.dumps({**BASE, "train_args": {"batch_size": 256}}))
    assert config.train_args == TrainArgs(batch_size=256)
    assert config.network_args == {} and config.augmenters == []


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({**BASE, "colour": "red"}, "colour: unknown key"),
        ({"model": "m", "network": "n"}, "dataset: required key missing"),
        ({**BASE, "dataset": 3}, "dataset: expected str, got int (3)"),
        ({**BASE, "train_args": {"batch_size": "256"}}, "train_args.batch_size: expected int, got str ('256')"),
        ({**BASE, "train_args": {"batch_size": 2.5}}, "train_args.batch_size: expected int, got float (2.5)"),
        ({**BASE, "train_args": {"epochs": True}}, "train_args.epochs: expected int, got bool (True)"),
        ({**BASE, "train_args": {"learning_rate": "fast"}}, "train_args.learning_rate: expected float"),
        ({**BASE, "train_args": {"epoch": 3}}, "train_args.epoch: unknown key"),
        ({**BASE, "train_args": {"batch_size": 0}}, "train_args.batch_size: must be at least 1, got 0"),
        ({**BASE, "train_args": {"learning_rate": -1}}, "train_args.learning_rate: must be positive"),
        ({**BASE, "train_args": {"patience": -1}}, "train_args.patience: must be 0 (off) or more"),
        ({**BASE, "train_args": {"max_grad_norm": 0}}, "train_args.max_grad_norm: must be positive"),
        ({**BASE, "train_args": {"max_minutes": 0}}, "train_args.max_minutes: must be positive, got 0.0"),
        ({**BASE, "train_args": {"precision": "float16"}},
         "train_args.precision: expected one of auto, float32, bfloat16, got 'float16'"),
        ({**BASE, "train_args": {"precision": "bf16"}}, "train_args.precision: expected one of"),
        ({**BASE, "train_args": {"lr_schedule": "cosine"}},
         "train_args.lr_schedule: expected one of constant, onecycle, got 'cosine'"),
        ({**BASE, "train_args": {"num_threads": "two"}}, "train_args.num_threads: expected int, got str"),
        ({**BASE, "train_args": 5}, "train_args: expected"),
        ({**BASE, "network_args": [1]}, "network_args: expected a mapping"),
        ({**BASE, "augmenters": [5]}, "augmenters.0: expected a name or"),
        ({**BASE, "augmenters": [{"name": "x", "strength": 1}]}, "augmenters.0.strength: unknown key"),
        ([1, 2], "the config must be a JSON/YAML object, got list"),
    ],
)
def test_config_errors_name_the_field(data, expected):
    assert expected in error_of(data)


@pytest.mark.parametrize("precision", ["auto", "float32", "bfloat16"])
def test_precision_choices_are_accepted(precision):
    assert structure_config({**BASE, "train_args": {"precision": precision}}).train_args.precision == precision


def test_precision_defaults_to_auto_and_schedule_to_constant():
    train_args = structure_config(BASE).train_args
    assert (train_args.precision, train_args.lr_schedule) == ("auto", "constant")


def test_json_syntax_error_gives_position():
    with pytest.raises(ConfigError, match="not valid JSON: .* line 1 column"):
        parse_config('{"dataset": }')


def test_config_files_json_and_yaml(tmp_path):
    (tmp_path / "exp.json").write_text(json.dumps(BASE))
    yaml_text = "dataset: EmnistDataset\nmodel: CharacterModel\nnetwork: lenet\ntrain_args:\n  epochs: 2\n"
    (tmp_path / "exp.yaml").write_text(yaml_text)
    assert parse_config(str(tmp_path / "exp.json")).network == "mlp"
    assert parse_config(str(tmp_path / "exp.yaml")).train_args.epochs == 2
    (tmp_path / "bad.yaml").write_text("dataset: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        parse_config(str(tmp_path / "bad.yaml"))
    with pytest.raises(ConfigError, match="does not exist"):
        parse_config(str(tmp_path / "missing.json"))
    with pytest.raises(ConfigError, match="must be a JSON object or a .json/.yaml file"):
        parse_config("dataset=mlp")


def network(shapes, *, layer_size: int = 128, num_layers: int = 3, dropout: float = 0.2, name: str | None = None):
    """A factory with typed keyword arguments, as plugins write them."""


class Dataset:
    def __init__(self, *, subsample_fraction: float | None = None, split: str = "byclass"):
        pass


def test_factory_arguments_are_checked_against_type_hints():
    assert resolve_args(network, {"num_layers": 8}, path="network_args", name="mlp", skip=1) == {
        "layer_size": 128, "num_layers": 8, "dropout": 0.2, "name": None}
    assert resolve_args(network, {"dropout": 0}, path="network_args", name="mlp", skip=1)["dropout"] == 0.0
    assert resolve_args(Dataset, {"subsample_fraction": 0.25}, path="dataset_args", name="d") == {
        "subsample_fraction": 0.25, "split": "byclass"}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"num_layers": "8"}, "network_args.num_layers: expected int, got str ('8')"),
        ({"num_layers": 8.0}, "network_args.num_layers: expected int, got float (8.0)"),
        ({"dropout": "x"}, "network_args.dropout: expected float, got str ('x')"),
        ({"name": 3}, "network_args.name: expected str, got int (3)"),
        ({"depth": 3}, "network_args.depth: unknown argument; mlp accepts layer_size, num_layers, dropout, name"),
    ],
)
def test_factory_argument_errors(args, expected):
    with pytest.raises(ConfigError) as info:
        resolve_args(network, args, path="network_args", name="mlp", skip=1)
    assert str(info.value) == expected


def test_required_factory_argument_missing():
    def needs(shapes, *, size: int):
        pass

    with pytest.raises(ConfigError, match="network_args.size: required argument of needs missing"):
        resolve_args(needs, {}, path="network_args", name="needs", skip=1)
