"""The ``mlp`` network: shapes, layers, dropout, argument checks, registration and learning."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import textrec_mlp.plugin
from textrec_core import EMNIST_MAPPING, CharacterMapping, DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.plugins import components, reset_host
from textrec_core.testing import assert_declares_class_indexed
from textrec_mlp import mlp

CHARACTERS = DataShapes((28, 28), (), EMNIST_MAPPING)


def shapes(input_shape: tuple[int, ...], num_classes: int, output_shape: tuple[int, ...] = ()) -> DataShapes:
    """Shapes of ``num_classes`` classes (the first of the EMNIST alphabet)."""
    return DataShapes(input_shape, output_shape, CharacterMapping(EMNIST_MAPPING.tokens[:num_classes]))


@pytest.mark.parametrize(
    ("shapes", "args"),
    [
        (CHARACTERS, {}),
        (shapes((28, 28), 10), {"layer_size": 32, "num_layers": 1}),
        (shapes((32, 20), 62), {"layer_size": 64, "num_layers": 5, "dropout": 0.0}),
        (shapes((7, 9), 3), {"layer_size": 1}),
    ],
)
def test_output_is_one_row_of_logits_per_image(shapes, args):
    network = mlp(shapes, **args)
    for batch in (1, 5):
        assert network(torch.rand(batch, *shapes.input_shape)).shape == (batch, shapes.num_classes)


@pytest.mark.parametrize("num_layers", [1, 3, 8])
def test_hidden_layer_count_follows_num_layers(num_layers):
    network = mlp(CHARACTERS, layer_size=16, num_layers=num_layers)
    linears = [m for m in network.modules() if isinstance(m, nn.Linear)]
    assert len(linears) == num_layers + 1  # hidden layers plus the classifier
    assert [m.out_features for m in linears] == [16] * num_layers + [62]
    assert linears[0].in_features == 28 * 28


def test_dropout_is_active_in_training_and_off_in_evaluation():
    torch.manual_seed(0)
    network = mlp(CHARACTERS, dropout=0.5)
    images = torch.rand(8, 28, 28)
    network.train()
    assert not torch.equal(network(images), network(images))
    network.eval()
    assert torch.equal(network(images), network(images))


def test_no_dropout_gives_deterministic_training_outputs():
    network = mlp(CHARACTERS, dropout=0.0).train()
    images = torch.rand(8, 28, 28)
    assert torch.equal(network(images), network(images))


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("layer_size", 0, "must be at least 1, got 0"),
        ("layer_size", 2.5, "must be an integer, got 2.5"),
        ("num_layers", -3, "must be at least 1, got -3"),
        ("num_layers", True, "must be an integer, got True"),
        ("dropout", 1.0, r"must be in \[0, 1\), got 1.0"),
        ("dropout", -0.1, "got -0.1"),
        ("dropout", float("nan"), "got nan"),
        ("dropout", "0.2", "got '0.2'"),
    ],
)
def test_a_bad_argument_is_an_argument_error_naming_it(argument, value, problem):
    with pytest.raises(ArgumentError, match=problem) as raised:
        mlp(CHARACTERS, **{argument: value})
    assert raised.value.argument == argument


def test_sequence_outputs_are_rejected():
    with pytest.raises(ValueError, match=r"single characters; output shape \(32,\) is not supported"):
        mlp(shapes((28, 128), 62, (32,)))


def test_plugin_module_registers_mlp(bare_host, textrec_plugin):
    assert "mlp" not in components()["network"]
    textrec_plugin(textrec_mlp.plugin, name="textrec-mlp")
    assert components().get("network", "mlp") is mlp


def test_installed_entry_point_provides_mlp():
    reset_host()
    entry = components()["network"].get("mlp")
    assert entry.obj is mlp
    assert entry.provider == "textrec-mlp"


def test_overfits_random_labels(one_thread):
    """Memorising 64 random images proves gradients reach every layer."""
    torch.manual_seed(0)
    images, labels = torch.rand(64, 28, 28), torch.randint(0, 62, (64,))
    network = mlp(CHARACTERS)
    optimizer = torch.optim.Adam(network.parameters(), lr=1e-3)
    network.train()
    for _ in range(150):
        optimizer.zero_grad()
        nn.functional.cross_entropy(network(images), labels).backward()
        optimizer.step()
    network.eval()
    with torch.no_grad():
        accuracy = (network(images).argmax(dim=1) == labels).float().mean().item()
    assert accuracy == 1.0


@pytest.mark.parametrize("num_layers", [1, 3])
def test_the_output_layer_is_declared_class_indexed(num_layers):
    assert_declares_class_indexed(mlp, shapes((8, 8), 7), layer_size=8, num_layers=num_layers)
