"""The install hints for missing components match what the project's plugins really register."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from textrec_core.components import KINDS
from textrec_core.errors import UnknownComponentError
from textrec_core.plugins import ENTRY_POINT_GROUP, components
from textrec_core.registry import KNOWN_PROVIDERS, Registry

PROJECT_PREFIX = "textrec-"


def installed_project_plugins() -> set[str]:
    return {ep.dist.name for ep in entry_points(group=ENTRY_POINT_GROUP)
            if ep.dist is not None and ep.dist.name.startswith(PROJECT_PREFIX)}


def test_every_name_of_an_installed_project_plugin_has_its_hint_and_every_hint_is_real():
    installed = installed_project_plugins()
    if not installed:
        pytest.skip("no plugin of the project is installed: nothing to check the hints against")
    table = components()
    registered = {key: entry.provider for kind in KINDS for entry in table[kind]
                  for key in (entry.name, *entry.aliases) if entry.provider in installed}
    assert {k: v for k, v in KNOWN_PROVIDERS.items() if v in installed} == registered


def test_an_unknown_name_with_a_hint_says_which_plugin_to_install():
    registry = Registry("model")
    with pytest.raises(UnknownComponentError, match=r"provided by the plugin textrec-lstm-ctc.*pip install"):
        registry.get("ctc")
