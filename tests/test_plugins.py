"""Plugin discovery through entry points, restriction, failures, misspelt hooks, duplicates, the
test fixture.

The plugins here are distributions written for the test (a dist-info directory and a module on
``sys.path``), so these tests need no installed plugin.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Callable, Iterator
from pathlib import Path

import pluggy
import pytest

from textrec_core import hookimpl
from textrec_core.errors import DuplicateComponentError, UnknownComponentError
from textrec_core.plugins import PluginHost, components, get_host, load_errors, reset_host
from textrec_core.registry import Registry


@pytest.fixture(autouse=True)
def fresh_host():
    reset_host()
    yield
    reset_host()


def plugin_source(*networks: str, hook: str = "textrec_register_components", argument: str = "register") -> str:
    """A plugin module registering a small network under each of ``networks`` (``name`` or
    ``name:alias``), through a hook named ``hook`` taking ``argument``."""
    lines = ["import torch", "from textrec_core import hookimpl", ""]
    calls = []
    for spec in networks:
        name, _, alias = spec.partition(":")
        lines += [f"def {name}(shapes, *, width: int = 4):", f'    """The network {name}."""',
                  "    return torch.nn.Linear(1, width)", ""]
        calls.append(f"    {argument}.network({name}{f', aliases=({alias!r},)' if alias else ''})")
    lines += ["@hookimpl", f"def {hook}({argument}):", *(calls or ["    pass"]), ""]
    return "\n".join(lines)


@pytest.fixture
def install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """``install(distribution, entry_point, source)``: an installed-looking distribution (dist-info
    and one module) on ``sys.path`` for this test; its module is forgotten afterwards."""
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    modules: list[str] = []

    def write(distribution: str, entry_point: str, source: str) -> None:
        module = f"{distribution.replace('-', '_')}_plugin"
        info = site / f"{distribution.replace('-', '_')}-0.1.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
        (info / "entry_points.txt").write_text(f"[textrec]\n{entry_point} = {module}\n")
        (site / f"{module}.py").write_text(source)
        modules.append(module)

    yield write
    for module in modules:
        sys.modules.pop(module, None)


def test_a_distribution_on_sys_path_is_discovered_through_its_entry_point(install):
    install("textrec-tiny", "tiny", plugin_source("tiny_net:t"))
    entry = components()["network"].get("t")
    assert (entry.name, entry.provider, entry.summary) == ("tiny_net", "textrec-tiny", "The network tiny_net.")
    assert get_host().providers["tiny"] == "textrec-tiny"


def test_a_plugin_that_fails_to_import_is_reported_and_others_keep_working(install):
    install("textrec-broken", "broken", "import textrec_no_such_module\n")
    install("textrec-tiny", "tiny", plugin_source("tiny_net"))
    errors = [e for e in load_errors() if e.distribution.startswith("textrec-broken")]
    assert len(errors) == 1
    assert errors[0].entry_point == "broken"
    assert "ModuleNotFoundError" in errors[0].error and "textrec_no_such_module" in errors[0].error
    assert "plugin textrec-broken (entry point 'broken') failed to load: ModuleNotFoundError" in str(errors[0])
    assert "tiny_net" in components()["network"]


def test_two_plugins_registering_one_name_is_an_error_naming_both(install):
    install("textrec-tiny", "tiny", plugin_source("tiny_net"))
    install("textrec-clash", "clash", plugin_source("tiny_net"))
    with pytest.raises(DuplicateComponentError, match="textrec-tiny and textrec-clash|textrec-clash and textrec-tiny"):
        components()


def test_two_distributions_with_one_entry_point_name_load_the_first_and_report_the_second(install):
    install("textrec-tiny", "tiny", plugin_source("tiny_net"))
    install("textrec-twin", "tiny", plugin_source("twin_net"))
    (error,) = [e for e in load_errors() if e.entry_point == "tiny"]
    assert "already registered" in error.error
    networks = components()["network"]
    assert ("tiny_net" in networks) != ("twin_net" in networks)


def test_the_old_name_first_registration_is_a_type_error_showing_the_signature():
    from textrec_core.components import ComponentRegister, Components

    register = ComponentRegister(Components(), "test")
    with pytest.raises(TypeError, match=r"register.network\(factory, name=None"):
        register.network("tiny", lambda shapes: None)


@pytest.mark.parametrize(
    ("setting", "expected"),
    [("", set()), ("textrec-tiny", {"tiny_net"}), ("textrec-tiny, small", {"tiny_net", "small_net"})],
)
def test_textrec_plugins_restricts_autoloading(install, monkeypatch, setting, expected):
    install("textrec-tiny", "tiny", plugin_source("tiny_net"))
    install("textrec-small", "small", plugin_source("small_net"))
    monkeypatch.setenv("TEXTREC_PLUGINS", setting)
    assert {e.name for e in components()["network"]} == expected


MISSPELT = '''
from textrec_core import hookimpl

@hookimpl
def textrec_register_component(register):  # the hook is textrec_register_components
    register.network(lambda shapes: None, "never_registered")
'''


def test_a_misspelt_hook_is_refused_when_registered(monkeypatch):
    monkeypatch.setenv("TEXTREC_PLUGINS", "")
    module = types.ModuleType("textrec_typo_plugin")
    exec(MISSPELT, module.__dict__)
    host = get_host()
    with pytest.raises(pluggy.PluginValidationError, match="textrec_register_component"):
        host.register(module, name="typo")
    assert host.pm.get_plugin("typo") is None and "typo" not in host.providers
    assert "never_registered" not in components()["network"]


def test_a_hook_with_a_wrong_argument_name_is_refused_when_registered(monkeypatch):
    monkeypatch.setenv("TEXTREC_PLUGINS", "")

    @hookimpl
    def textrec_register_components(registry):
        pass

    with pytest.raises(pluggy.PluginValidationError, match="registry"):
        get_host().register(types.SimpleNamespace(textrec_register_components=textrec_register_components),
                            name="wrong-argument")
    assert "wrong-argument" not in get_host().providers


def test_an_installed_plugin_with_a_misspelt_hook_is_a_load_error(install):
    install("textrec-typo", "typo", MISSPELT)
    install("textrec-tiny", "tiny", plugin_source("tiny_net"))
    (error,) = [e for e in load_errors() if e.distribution == "textrec-typo"]
    assert error.entry_point == "typo"
    assert "textrec_register_component" in error.error
    assert "typo" not in get_host().providers
    assert "tiny_net" in components()["network"]  # the others keep working


def test_load_records_a_misspelt_hook_of_any_entry_point_object():
    module = types.ModuleType("textrec_typo_entry_point")
    exec(MISSPELT, module.__dict__)
    host = PluginHost()
    host._load(types.SimpleNamespace(name="typo", load=lambda: module), "textrec-typo")
    (error,) = host.load_errors
    assert (error.distribution, error.entry_point) == ("textrec-typo", "typo")
    assert "textrec_register_component" in error.error
    assert host.pm.get_plugin("typo") is None


def test_fixture_registers_a_plugin_for_one_test_only(bare_host, textrec_plugin):
    plugin = types.SimpleNamespace()

    @hookimpl
    def textrec_register_components(register):
        register.network(lambda shapes: None, "fixture_net")

    plugin.textrec_register_components = textrec_register_components
    textrec_plugin(plugin, name="fixture-plugin")
    assert components()["network"].get("fixture_net").provider == "fixture-plugin"


def test_fixture_registration_is_gone_after_the_test(bare_host):
    assert "fixture_net" not in components()["network"]
    assert "fixture-plugin" not in get_host().providers


def test_a_component_is_named_after_its_factory_unless_named(bare_host, textrec_plugin):
    def tiny_net(shapes):
        """A network."""

    class TinyModel:
        """A model."""

    plugin = types.SimpleNamespace()

    @hookimpl
    def textrec_register_components(register):
        register.network(tiny_net, aliases=("tn",))
        register.model(TinyModel)
        register.network(tiny_net, "renamed_net")

    plugin.textrec_register_components = textrec_register_components
    textrec_plugin(plugin, name="naming-plugin")
    table = components()
    assert [(e.name, e.aliases, e.obj) for e in table["network"]] == [
        ("renamed_net", (), tiny_net), ("tiny_net", ("tn",), tiny_net)]
    assert table["model"].get("TinyModel").obj is TinyModel


def test_unknown_name_lists_available_names_and_the_install_line():
    registry = Registry("network")
    registry.register("mlp", object, provider="textrec-mlp")
    registry.register("lenet", object, provider="textrec-lenet")
    with pytest.raises(UnknownComponentError) as info:
        registry.get("line_lstm_ctc")
    message = str(info.value)
    assert "unknown network 'line_lstm_ctc'. Available networks: lenet, mlp." in message
    assert "pip install -c constraints.txt ./plugins/textrec-lstm-ctc" in message


def test_unknown_name_lists_the_loaded_names_sorted(install, monkeypatch):
    install("textrec-tiny", "tiny", plugin_source("tiny_net", "big_net"))
    install("textrec-small", "small", plugin_source("small_net"))
    monkeypatch.setenv("TEXTREC_PLUGINS", "tiny,small")
    with pytest.raises(UnknownComponentError) as info:
        components()["network"].get("no_such_network")
    assert "Available networks: big_net, small_net, tiny_net." in str(info.value)


def test_unknown_name_without_a_known_provider_has_no_install_line():
    with pytest.raises(UnknownComponentError) as info:
        Registry("model").get("NoSuchModel")
    assert "pip install" not in str(info.value)
