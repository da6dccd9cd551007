"""The ``lenet`` network: shapes, image sizes, dropout, argument checks, registration and learning."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import textrec_lenet.plugin
from textrec_core import EMNIST_MAPPING, CharacterMapping, DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.plugins import components, reset_host
from textrec_core.testing import assert_declares_class_indexed
from textrec_lenet import LeNet, lenet

CHARACTERS = DataShapes((28, 28), (), EMNIST_MAPPING)


def shapes(input_shape: tuple[int, ...], num_classes: int, output_shape: tuple[int, ...] = ()) -> DataShapes:
    """Shapes of ``num_classes`` classes (the first of the EMNIST alphabet)."""
    return DataShapes(input_shape, output_shape, CharacterMapping(EMNIST_MAPPING.tokens[:num_classes]))


@pytest.mark.parametrize(
    ("shapes", "args"),
    [
        (CHARACTERS, {}),
        (shapes((32, 20), 62), {}),
        (shapes((20, 32), 10), {"conv_channels": 4, "dense_size": 16}),
        (shapes((6, 6), 3), {"conv_channels": 2, "dense_size": 8, "dropout": 0.0}),
        (shapes((7, 9), 5), {"conv_channels": 2}),
    ],
)
def test_output_is_one_row_of_logits_per_image(shapes, args):
    network = lenet(shapes, **args)
    assert isinstance(network, LeNet)
    for batch in (1, 3):
        images = torch.rand(batch, *shapes.input_shape)  # (B, H, W) floats, no channel axis
        assert network(images).shape == (batch, shapes.num_classes)


def test_arguments_set_the_layer_sizes():
    network = lenet(CHARACTERS, conv_channels=4, dense_size=24)
    convs = [m for m in network.modules() if isinstance(m, nn.Conv2d)]
    linears = [m for m in network.modules() if isinstance(m, nn.Linear)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(1, 4), (4, 8)]
    assert [(m.in_features, m.out_features) for m in linears] == [(8 * 12 * 12, 24), (24, 62)]


def test_dropout_is_active_in_training_and_off_in_evaluation():
    torch.manual_seed(0)
    network = lenet(CHARACTERS, conv_channels=4, dropout=0.5)
    images = torch.rand(4, 28, 28)
    network.train()
    assert not torch.equal(network(images), network(images))
    network.eval()
    assert torch.equal(network(images), network(images))


@pytest.mark.parametrize(
    ("argument", "value", "problem"),
    [
        ("conv_channels", -3, "must be at least 1, got -3"),
        ("conv_channels", 0, "must be at least 1, got 0"),
        ("conv_channels", 8.0, "must be an integer, got 8.0"),
        ("dense_size", 0, "must be at least 1, got 0"),
        ("dense_size", "128", "must be an integer, got '128'"),
        ("dropout", 1, r"must be in \[0, 1\), got 1"),
        ("dropout", -0.5, "got -0.5"),
        ("dropout", float("inf"), "got inf"),
    ],
)
def test_a_bad_argument_is_an_argument_error_naming_it(argument, value, problem):
    with pytest.raises(ArgumentError, match=problem) as raised:
        lenet(CHARACTERS, **{argument: value})
    assert raised.value.argument == argument


@pytest.mark.parametrize("input_shape", [(5, 28), (28, 5), (4, 4), (784,), (1, 28, 28)])
def test_tiny_or_non_2d_images_are_rejected(input_shape):
    with pytest.raises(ValueError, match=r"lenet needs 2-D images of at least 6x6 pixels, got"):
        lenet(shapes(input_shape, 62))


def test_sequence_outputs_are_rejected():
    with pytest.raises(ValueError, match=r"single characters; output shape \(32,\) is not supported"):
        lenet(shapes((28, 128), 62, (32,)))


def test_plugin_module_registers_lenet(bare_host, textrec_plugin):
    assert "lenet" not in components()["network"]
    textrec_plugin(textrec_lenet.plugin, name="textrec-lenet")
    assert components().get("network", "lenet") is lenet


def test_installed_entry_point_provides_lenet():
    reset_host()
    entry = components()["network"].get("lenet")
    assert entry.obj is lenet
    assert entry.provider == "textrec-lenet"


def test_overfits_random_labels(one_thread):
    """Memorising 64 random images proves gradients reach every layer."""
    torch.manual_seed(0)
    images, labels = torch.rand(64, 28, 28), torch.randint(0, 62, (64,))
    network = lenet(CHARACTERS, conv_channels=8, dense_size=64)
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


def test_the_output_layer_is_declared_class_indexed():
    assert_declares_class_indexed(lenet, shapes((12, 12), 7), conv_channels=2, dense_size=8)
