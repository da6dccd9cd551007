"""The register object handed to plugins, and the per-kind registries it fills."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from textrec_core.registry import Registry

KINDS: tuple[str, ...] = ("dataset", "network", "model", "augmenter", "predictor")


class Components:
    """Every registered component, one :class:`Registry` per kind."""

    def __init__(self) -> None:
        self.registries: dict[str, Registry] = {kind: Registry(kind) for kind in KINDS}

    def __getitem__(self, kind: str) -> Registry:
        return self.registries[kind]

    def get(self, kind: str, name: str) -> Any:
        """The factory registered as ``name`` (or an alias) of ``kind``."""
        return self.registries[kind].get(name).obj


class ComponentRegister:
    """What a plugin's ``textrec_register_components`` hook receives.

    Each method registers one component under a canonical name, ``factory.__name__`` unless
    ``name`` is given, plus optional short aliases; ``provider`` (the plugin's distribution) is
    recorded for listings and error messages.
    """

    def __init__(self, components: Components, provider: str) -> None:
        self._components = components
        self._provider = provider

    def _add(self, kind: str, factory: Callable[..., Any], name: str | None, aliases: Iterable[str]) -> None:
        self._components[kind].register(
            name or factory.__name__, factory, provider=self._provider, aliases=tuple(aliases)
        )

    def dataset(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = ()) -> None:
        """A class or function returning a :class:`~textrec_core.protocols.Dataset`."""
        self._add("dataset", factory, name, aliases)

    def network(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = ()) -> None:
        """A :class:`~textrec_core.protocols.Network` factory of ``torch.nn.Module``."""
        self._add("network", factory, name, aliases)

    def model(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = ()) -> None:
        """A class implementing :class:`~textrec_core.protocols.Model`."""
        self._add("model", factory, name, aliases)

    def augmenter(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = ()) -> None:
        """A factory returning an :class:`~textrec_core.protocols.Augmenter`."""
        self._add("augmenter", factory, name, aliases)

    def predictor(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = ()) -> None:
        """A class called as ``factory(model, bundle)`` that serves a saved model (inference only),
        implementing :class:`~textrec_core.predictor.Predictor`."""
        self._add("predictor", factory, name, aliases)
