"""Every argument of every registered component, given bad values, is a config error before any work.

For each registered component, ``BASE_CONFIGS`` holds a valid experiment using it. Hypothesis
then gives each of its arguments, one at a time, values of the wrong type (always invalid) and
values of the right type from a range around the plausible ones. Building the experiment
(``textrec-run --check``'s path) must then either succeed or raise :class:`ConfigError`, never
another exception; wrong types must name the argument itself (a plausible value may be refused
by another component, e.g. a dataset's ``max_width`` too narrow for the network's windows).
Nothing may be downloaded or prepared: the data cache stays empty and the mirror, a loopback
HTTP server, sees no request. The CLI itself is run on the configs the issue reported.
"""

from __future__ import annotations

import copy
import inspect
import json
import os
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textrec_core import DataShapes, TorchModel, hookimpl
from textrec_core.errors import ArgumentError, ConfigError
from textrec_core.experiment import check_experiment
from textrec_core.mapping import EMNIST_MAPPING
from textrec_core.plugins import components

settings.register_profile("ci", max_examples=15, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("dev", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.function_scoped_fixture])
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

SECTIONS = {"dataset": ("dataset_args", 0), "network": ("network_args", 1), "model": ("model_args", 2)}
LINES = {"dataset": "EmnistLinesDataset", "dataset_args": {"char_source": "synthetic", "text_source": "builtin",
                                                           "max_length": 8}}
#: A valid experiment for each registered component of the project's plugins (and this file's own).
BASE_CONFIGS: list[dict[str, Any]] = [
    {"dataset": "SyntheticCharactersDataset", "model": "CharacterModel", "network": "mlp"},
    {"dataset": "EmnistDataset", "model": "CharacterModel", "network": "lenet", "augmenters": ["random_affine"]},
    {**LINES, "model": "LineModel", "network": "line_cnn_all_conv"},
    {**LINES, "model": "LineModel", "network": "line_cnn_time_distributed"},
    {**LINES, "model": "LineModelCtc", "network": "line_lstm_ctc"},
    {**LINES, "model": "LineModelAttention", "network": "line_attention"},
    {"dataset": "IamOnDbDataset", "model": "LineModelCtc", "network": "line_lstm_ctc",
     "augmenters": ["elastic", "perspective", "width_stretch", "ink_thickness", "blur", "paper_noise", "contrast",
                    "random_erasing"]},
    {"dataset": "IamLinesDataset", "model": "LineModelCtc", "network": "line_lstm_ctc"},
    {"dataset": "CheckedDataset", "model": "CheckedModel", "network": "checked_network"},
    {"dataset": "SyntheticCharactersDataset", "model": "EnsembleModel", "network": "ensemble"},
]


class CheckedDataset:
    """A dataset that checks its arguments and fails the test if it is ever prepared."""

    def __init__(self, *, size: int = 8, height: int = 28) -> None:
        if size < 1:
            raise ArgumentError("size", f"must be at least 1, got {size}")
        if height < 4:
            raise ArgumentError("height", f"must be at least 4, got {height}")
        self.height = height

    @property
    def shapes(self) -> DataShapes:
        return DataShapes((self.height, 28), (), EMNIST_MAPPING)

    def prepare(self) -> None:
        raise AssertionError("prepare() ran while checking a config")


def checked_network(shapes: DataShapes, *, width: int = 4, dropout: float = 0.0) -> torch.nn.Module:
    """A linear classifier after dropout."""
    if width < 1:
        raise ArgumentError("width", f"must be at least 1, got {width}")
    if not 0 <= dropout < 1:
        raise ArgumentError("dropout", f"must lie in [0, 1), got {dropout}")
    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Dropout(dropout),
                               torch.nn.Linear(shapes.input_shape[0] * shapes.input_shape[1], shapes.num_classes))


class CheckedModel(TorchModel):
    """A classifier whose only argument is a named decoder."""

    predictor = "CheckedPredictor"

    def __init__(self, dataset: Any, network: torch.nn.Module, decoder: str = "argmax") -> None:
        super().__init__(dataset, network)
        if decoder != "argmax":
            raise ArgumentError("decoder", f"must be 'argmax', got {decoder!r}")


@pytest.fixture(autouse=True)
def checked_plugin(textrec_plugin):
    plugin = types.SimpleNamespace()

    @hookimpl
    def textrec_register_components(register):
        register.dataset(CheckedDataset)
        register.network(checked_network)
        register.model(CheckedModel)

    plugin.textrec_register_components = textrec_register_components
    textrec_plugin(plugin, name="checked-plugin")


@pytest.fixture
def no_data_work(tmp_path, monkeypatch, http_file_server):
    """An empty data cache and a mirror that records requests; both must stay untouched."""
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(cache))
    monkeypatch.setenv("TEXTREC_DATA_MIRROR", http_file_server.url(""))
    yield cache, http_file_server
    assert not any(cache.iterdir()), f"data was written: {sorted(p.name for p in cache.rglob('*'))}"
    assert http_file_server.requests == [], f"the mirror was asked for {http_file_server.requests}"


def _arguments(factory: Any, skip: int) -> dict[str, Any]:
    """Keyword argument name -> type hint of a factory, the first ``skip`` parameters left out."""
    target = factory.__init__ if inspect.isclass(factory) else factory
    params = list(inspect.signature(target).parameters.values())[(1 if inspect.isclass(factory) else 0) + skip:]
    hints = typing.get_type_hints(target)
    return {p.name: hints.get(p.name, Any) for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def _base(hint: Any) -> tuple[type, bool]:
    """The plain type of a hint and whether None is allowed (``int | None``)."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return (args[0], True) if args and len(args) < len(typing.get_args(hint)) else (hint, False)


WRONG = {
    int: st.one_of(st.text(max_size=4), st.floats(allow_nan=False), st.booleans(), st.lists(st.integers(), max_size=2)),
    float: st.one_of(st.text(max_size=4), st.booleans(), st.lists(st.floats(), max_size=2), st.just({})),
    str: st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans(), st.lists(st.text(), max_size=2)),
    bool: st.one_of(st.integers(), st.text(max_size=4), st.floats(allow_nan=False)),
}
PLAUSIBLE = {
    int: st.integers(-3, 64),
    float: st.one_of(st.floats(-2.0, 2.0, allow_nan=False), st.sampled_from([0.0, 1.0, -1e-9, 1e9])),
    str: st.one_of(st.text(max_size=8), st.sampled_from(["", "beam", "greedy", "lstm", "emnist", "brown"])),
    bool: st.booleans(),
}


def _cases() -> list[tuple[int, str, str, str, Any]]:
    """(base config index, kind, component, argument, hint) for every argument of every base config."""
    table = components()
    cases = []
    for index, config in enumerate(BASE_CONFIGS):
        if any(config[kind] not in table[kind] for kind in SECTIONS) or any(
                name not in table["augmenter"] for name in config.get("augmenters", [])):
            continue
        for kind, (_, skip) in SECTIONS.items():
            for argument, hint in _arguments(table.get(kind, config[kind]), skip).items():
                cases.append((index, kind, config[kind], argument, hint))
        for name in config.get("augmenters", []):
            for argument, hint in _arguments(table.get("augmenter", name), 0).items():
                cases.append((index, "augmenter", name, argument, hint))
    return cases


def _with_value(index: int, kind: str, name: str, argument: str, value: Any) -> tuple[dict[str, Any], str]:
    config = copy.deepcopy(BASE_CONFIGS[index])
    if kind == "augmenter":
        config["augmenters"] = [{"name": name, "args": {argument: value}}]
        return config, "augmenters.0.args"
    section = SECTIONS[kind][0]
    config.setdefault(section, {})[argument] = value
    return config, section


def test_every_registered_component_has_a_base_config():
    table = components()
    covered = {kind: {table[kind].get(config[kind]).name for config in BASE_CONFIGS if config[kind] in table[kind]}
               for kind in SECTIONS}
    covered["augmenter"] = {name for config in BASE_CONFIGS for name in config.get("augmenters", [])}
    for kind, names in covered.items():
        missing = {entry.name for entry in table[kind]} - names
        assert not missing, f"add a config using the {kind}(s) {sorted(missing)} to BASE_CONFIGS"


def test_the_base_configs_are_valid(no_data_work):
    table = components()
    checked = 0
    for config in BASE_CONFIGS:
        if all(config[kind] in table[kind] for kind in SECTIONS):
            check_experiment(json.dumps(config), table)
            checked += 1
    assert checked >= 1


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c[2]}.{c[3]}")
def test_a_bad_argument_is_a_config_error_naming_it(case, no_data_work):
    index, kind, name, argument, hint = case
    plain, optional = _base(hint)
    if plain not in WRONG:
        pytest.skip(f"no strategy for {hint!r}")
    table = components()

    @PROFILE
    @given(value=st.one_of(WRONG[plain].map(lambda v: ("wrong", v)), PLAUSIBLE[plain].map(lambda v: ("plain", v))))
    def check(value: tuple[str, Any]) -> None:
        how, value = value
        if how == "wrong" and optional and value is None:
            return
        config, section = _with_value(index, kind, name, argument, value)
        try:
            check_experiment(json.dumps(config), table)
        except ConfigError as exc:  # a plausible value may break another component (max_width vs windows)
            if how == "wrong":
                assert exc.path == f"{section}.{argument}", str(exc)
        else:
            assert how == "plain", f"{section}.{argument}={value!r} was accepted"

    check()


REPORTED = [  # the configs the issue reported, with the path their error must name
    ({"dataset": "synthetic", "model": "CharacterModel", "network": "lenet", "network_args": {"conv_channels": -3}},
     "network_args.conv_channels"),
    ({**LINES, "model": "LineModelCtc", "network": "line_lstm_ctc", "network_args": {"window_width": 27}},
     "network_args.window_width: must be even and at least 8, got 27"),
    ({"dataset": "synthetic", "model": "CharacterModel", "network": "mlp", "dataset_args": {"num_train": -5}},
     "dataset_args.num_train"),
    ({"dataset": "EmnistDataset", "model": "CharacterModel", "network": "mlp", "dataset_args": {"split": "bogus"}},
     "dataset_args.split"),
]


@pytest.mark.parametrize(("config", "message"), REPORTED, ids=[m.split(":")[0] for _, m in REPORTED])
def test_textrec_run_exits_2_naming_the_path_before_any_work(config, message, no_data_work):
    table = components()
    if any(config[kind] not in table[kind] for kind in SECTIONS):
        pytest.skip("a component of this config is not installed")
    result = subprocess.run([sys.executable, "-m", "textrec_core.cli", "--nowandb", json.dumps(config)],
                            capture_output=True, text=True, cwd=Path(no_data_work[0]).parent)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"textrec-run: error: {message}" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
