"""A network's training recipe: the train_args it registers fill in what a config leaves out."""

from __future__ import annotations

import json
import types

import pytest
import torch

from textrec_core import hookimpl
from textrec_core.components import ComponentRegister, Components
from textrec_core.config import TrainArgs, with_train_defaults
from textrec_core.experiment import load_config

RECIPE = {"lr_schedule": "onecycle", "learning_rate": 0.003, "batch_size": 64}


def recipe_net(shapes, *, width: int = 4) -> torch.nn.Module:
    """A linear layer."""
    return torch.nn.Linear(width, shapes.num_classes)


@pytest.fixture
def table(bare_host, textrec_plugin):
    from textrec_core.plugins import components

    plugin = types.SimpleNamespace()

    @hookimpl
    def textrec_register_components(register):
        register.network(recipe_net, aliases=("recipe",), train_defaults=RECIPE)

    plugin.textrec_register_components = textrec_register_components
    textrec_plugin(plugin, name="recipe-plugin")
    return components()


def config(**train_args) -> str:
    return json.dumps({"dataset": "d", "model": "m", "network": "recipe", "train_args": train_args})


def test_a_recipe_fills_the_train_args_a_config_leaves_out(table):
    args = load_config(config(epochs=2), table).train_args
    assert (args.lr_schedule, args.learning_rate, args.batch_size, args.epochs) == ("onecycle", 0.003, 64, 2)
    assert args.patience == TrainArgs().patience  # untouched by the recipe: the global default


def test_what_a_config_sets_wins_over_the_recipe(table):
    args = load_config(config(learning_rate=0.01, lr_schedule="constant"), table).train_args
    assert (args.lr_schedule, args.learning_rate, args.batch_size) == ("constant", 0.01, 64)


def test_a_network_without_a_recipe_keeps_the_global_defaults(table):
    register = ComponentRegister(table, "test")
    register.network(recipe_net, name="plain")
    args = load_config(json.dumps({"dataset": "d", "model": "m", "network": "plain"}), table).train_args
    assert args == TrainArgs()


def test_a_recipe_value_is_validated_like_a_config_value(table):
    from textrec_core.errors import ConfigError

    register = ComponentRegister(table, "test")
    register.network(recipe_net, name="bad_recipe", train_defaults={"learning_rate": -1.0})
    with pytest.raises(ConfigError, match=r"train_args.learning_rate: must be positive"):
        load_config(json.dumps({"dataset": "d", "model": "m", "network": "bad_recipe"}), table)


def test_registering_a_recipe_with_an_unknown_train_arg_is_an_error():
    register = ComponentRegister(Components(), "test")
    with pytest.raises(ValueError, match=r"unknown train_args learning_rat\b"):
        register.network(recipe_net, train_defaults={"learning_rat": 0.1})


@pytest.mark.parametrize("data", [[1, 2], {"network": "recipe", "train_args": [1]}, "text"])
def test_data_that_is_no_config_object_is_left_for_validation_to_report(data):
    assert with_train_defaults(data, RECIPE) == data
