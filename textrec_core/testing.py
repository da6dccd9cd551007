"""pytest fixtures for plugin authors (installed as the ``textrec`` pytest plugin).

``textrec_plugin`` registers a plugin object for one test without installing it::

    def test_tiny(textrec_plugin):
        textrec_plugin(my_plugin_module)
        assert "tiny" in components()["network"]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from textrec_core.plugins import get_host


@pytest.fixture
def textrec_plugin() -> Iterator[Callable[..., str]]:
    """A function ``register(plugin, name=None) -> name`` whose registrations end with the test."""
    host = get_host()
    names: list[str] = []

    def register(plugin: object, name: str | None = None) -> str:
        name = name or getattr(plugin, "__name__", None) or f"test-plugin-{id(plugin)}"
        host.register(plugin, name=name, provider=name)
        names.append(name)
        return name

    yield register
    for name in names:
        host.unregister(name)
