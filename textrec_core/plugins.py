"""The plugin manager: entry-point discovery, temporary registration and the component table.

Plugins are found through the ``textrec`` entry-point group. ``TEXTREC_PLUGINS`` restricts
autoloading: unset loads every installed plugin; a comma-separated list of distribution or
entry-point names loads only those; an empty value loads none. The core registers no component
of its own. A plugin that fails to import, or implements a hook this host does not define (a
misspelt hook name), is recorded in :func:`load_errors` with its distribution and error, and
the rest keep working.
"""

from __future__ import annotations

import os
from importlib.metadata import EntryPoint, entry_points

import attrs
import pluggy

from textrec_core import hookspecs
from textrec_core.components import ComponentRegister, Components

ENTRY_POINT_GROUP = "textrec"
ENV_RESTRICT = "TEXTREC_PLUGINS"


@attrs.frozen
class PluginLoadError:
    """An installed plugin that could not be imported."""

    distribution: str
    entry_point: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.distribution} (entry point {self.entry_point!r}) failed to load: {self.error}"


class PluginHost:
    """Owns the pluggy manager and knows which distribution provided each plugin."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.providers: dict[str, str] = {}
        self.load_errors: list[PluginLoadError] = []

    def load_entry_points(self, allowed: set[str] | None) -> None:
        """Import and register every entry point of the group (only ``allowed`` names if given)."""
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist.name if ep.dist else ep.name
            if allowed is not None and not ({dist, ep.name} & allowed):
                continue
            self._load(ep, dist)

    def _load(self, ep: EntryPoint, dist: str) -> None:
        try:
            plugin = ep.load()
        except Exception as exc:  # any import-time failure of a third-party plugin
            self.load_errors.append(PluginLoadError(dist, ep.name, f"{type(exc).__name__}: {exc}"))
            return
        try:
            self.register(plugin, name=ep.name, provider=dist)
        except (pluggy.PluginValidationError, ValueError) as exc:  # a misspelt hook; a plugin name taken twice
            self.load_errors.append(PluginLoadError(dist, ep.name, str(exc)))

    def register(self, plugin: object, *, name: str, provider: str | None = None) -> None:
        """Register ``plugin``; ``pluggy.PluginValidationError`` (and nothing registered) when it
        implements a hook this host does not define or with the wrong arguments."""
        self.pm.register(plugin, name=name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError:
            self.pm.unregister(name=name)
            raise
        self.providers[name] = provider or name

    def unregister(self, name: str) -> None:
        self.pm.unregister(name=name)
        self.providers.pop(name, None)

    def components(self) -> Components:
        """Call every plugin's register hook and return the filled registries."""
        components = Components()
        for impl in self.pm.hook.textrec_register_components.get_hookimpls():
            provider = self.providers.get(impl.plugin_name, impl.plugin_name)
            impl.function(register=ComponentRegister(components, provider))
        return components


_host: PluginHost | None = None


def _allowed_from_env() -> set[str] | None:
    value = os.environ.get(ENV_RESTRICT)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def get_host() -> PluginHost:
    """The process-wide plugin host, created and autoloaded on first use."""
    global _host
    if _host is None:
        _host = PluginHost()
        _host.load_entry_points(_allowed_from_env())
    return _host


def reset_host() -> None:
    """Forget loaded plugins so the next :func:`get_host` rediscovers them (re-reads the env)."""
    global _host
    _host = None


def components() -> Components:
    """Every component registered by loaded plugins."""
    return get_host().components()


def load_errors() -> list[PluginLoadError]:
    """Plugins that were installed but failed to import."""
    return list(get_host().load_errors)
