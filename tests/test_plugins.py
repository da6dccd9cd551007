"""Plugin discovery through entry points, restriction, failures, duplicates, the test fixture."""

from __future__ import annotations

import types
from pathlib import Path

import pytest

from textrec_core import hookimpl
from textrec_core.errors import DuplicateComponentError, UnknownComponentError
from textrec_core.plugins import components, get_host, load_errors, reset_host
from textrec_core.registry import Registry


@pytest.fixture(autouse=True)
def fresh_host():
    reset_host()
    yield
    reset_host()


def write_distribution(site: Path, name: str, entry_points: dict[str, str], modules: dict[str, str]) -> None:
    """Write an installed-looking distribution (dist-info + modules) into ``site``."""
    info = site / f"{name.replace('-', '_')}-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    lines = "".join(f"{ep} = {target}\n" for ep, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[textrec]\n{lines}")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(source)


TINY_PLUGIN = '''
from textrec_core import hookimpl

def tiny(shapes, *, width: int = 4):
    """A tiny test network."""
    import torch
    return torch.nn.Linear(1, width)

@hookimpl
def textrec_register_components(register):
    register.network("tiny", tiny, aliases=("t",))
'''


def test_installed_plugins_are_discovered_through_entry_points():
    table = components()
    assert table["network"].get("mlp").provider == "textrec-mlp"
    assert table["network"].get("lenet").provider == "textrec-lenet"
    assert table["model"].get("character").name == "CharacterModel"
    assert table["predictor"].get("CharacterPredictor").provider == "textrec-character"


def test_a_distribution_on_sys_path_is_discovered(tmp_path, monkeypatch):
    write_distribution(tmp_path, "textrec-tiny", {"tiny": "textrec_tiny_plugin"}, {"textrec_tiny_plugin": TINY_PLUGIN})
    monkeypatch.syspath_prepend(str(tmp_path))
    entry = components()["network"].get("t")
    assert (entry.name, entry.provider, entry.summary) == ("tiny", "textrec-tiny", "A tiny test network.")


def test_a_plugin_that_fails_to_import_is_reported_and_others_keep_working(tmp_path, monkeypatch):
    write_distribution(tmp_path, "textrec-broken", {"broken": "textrec_broken_plugin"},
                       {"textrec_broken_plugin": "import textrec_no_such_module\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    errors = load_errors()
    assert len(errors) == 1
    assert errors[0].distribution == "textrec-broken"
    assert "ModuleNotFoundError" in errors[0].error and "textrec_no_such_module" in errors[0].error
    assert "mlp" in components()["network"]


def test_two_plugins_registering_one_name_is_an_error_naming_both(tmp_path, monkeypatch):
    clash = TINY_PLUGIN.replace('"tiny", tiny, aliases=("t",)', '"mlp", tiny')
    write_distribution(tmp_path, "textrec-clash", {"clash": "textrec_clash_plugin"}, {"textrec_clash_plugin": clash})
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(DuplicateComponentError, match="textrec-mlp and textrec-clash|textrec-clash and textrec-mlp"):
        components()


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("", set()), ("textrec-mlp", {"mlp"}), ("textrec-mlp, lenet", {"mlp", "lenet"})],
)
def test_textrec_plugins_restricts_autoloading(monkeypatch, setting, expected):
    monkeypatch.setenv("TEXTREC_PLUGINS", setting)
    assert {e.name for e in components()["network"]} == expected


def test_fixture_registers_a_plugin_for_one_test_only(textrec_plugin):
    plugin = types.SimpleNamespace()

    @hookimpl
    def textrec_register_components(register):
        register.network("fixture_net", lambda shapes: None)

    plugin.textrec_register_components = textrec_register_components
    textrec_plugin(plugin, name="fixture-plugin")
    assert components()["network"].get("fixture_net").provider == "fixture-plugin"


def test_fixture_registration_is_gone_after_the_test():
    assert "fixture_net" not in components()["network"]
    assert "fixture-plugin" not in get_host().providers


def test_unknown_name_lists_available_names_and_the_install_line():
    registry = Registry("network")
    registry.register("mlp", object, provider="textrec-mlp")
    registry.register("lenet", object, provider="textrec-lenet")
    with pytest.raises(UnknownComponentError) as info:
        registry.get("line_lstm_ctc")
    message = str(info.value)
    assert "unknown network 'line_lstm_ctc'. Available networks: lenet, mlp." in message
    assert "pip install -c constraints.txt ./plugins/textrec-lstm-ctc" in message


def test_unknown_name_lists_the_installed_names():
    with pytest.raises(UnknownComponentError) as info:
        components()["network"].get("no_such_network")
    available = str(info.value).split("Available networks: ")[1].split(".")[0].split(", ")
    assert {"lenet", "mlp"} <= set(available) and available == sorted(available)


def test_unknown_name_without_a_known_provider_has_no_install_line():
    with pytest.raises(UnknownComponentError) as info:
        components()["model"].get("NoSuchModel")
    assert "pip install" not in str(info.value)
