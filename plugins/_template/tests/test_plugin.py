"""textrec-PLUGINNAME: what the plugin registers, and what its network builds and refuses."""

from __future__ import annotations

import pytest
import torch

import textrec_PLUGINNAME
import textrec_PLUGINNAME.plugin
from textrec_core import CharacterMapping, DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.plugins import components

SHAPES = DataShapes((28, 28), (), CharacterMapping(list("ab")))


def test_registered_network_gives_one_row_of_logits_per_image(bare_host, textrec_plugin):
    textrec_plugin(textrec_PLUGINNAME.plugin, name="textrec-PLUGINNAME")
    network = components().get("network", "tiny_network")(SHAPES, hidden_size=8)
    assert network(torch.rand(5, 28, 28)).shape == (5, 2)


@pytest.mark.parametrize("hidden_size", [0, -3])
def test_bad_hidden_size_is_an_argument_error(hidden_size):
    with pytest.raises(ArgumentError, match=f"hidden_size: must be at least 1, got {hidden_size}") as raised:
        textrec_PLUGINNAME.tiny_network(SHAPES, hidden_size=hidden_size)
    assert raised.value.argument == "hidden_size"


def test_sequence_outputs_are_refused():
    with pytest.raises(ValueError, match=r"single characters, not outputs of shape \(8,\)"):
        textrec_PLUGINNAME.tiny_network(DataShapes((28, 128), (8,), CharacterMapping(list("ab"))))
