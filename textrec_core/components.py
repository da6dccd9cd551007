"""The register object handed to plugins, and the per-kind registries it fills."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs

from textrec_core.config import TrainArgs
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

    def _add(self, kind: str, factory: Callable[..., Any], name: str | None, aliases: Iterable[str],
             train_defaults: Mapping[str, Any] | None = None) -> None:
        if not callable(factory) or not isinstance(name, (str, type(None))):
            raise TypeError(f"register.{kind}(factory, name=None, *, aliases=()) takes the factory first, "
                            f"got {factory!r} and {name!r}")
        self._components[kind].register(
            name or factory.__name__, factory, provider=self._provider, aliases=tuple(aliases),
            train_defaults=train_defaults,
        )

    def dataset(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = ()) -> None:
        """A class or function returning a :class:`~textrec_core.protocols.Dataset`."""
        self._add("dataset", factory, name, aliases)

    def network(self, factory: Callable[..., Any], name: str | None = None, *, aliases: Iterable[str] = (),
                train_defaults: Mapping[str, Any] | None = None) -> None:
        """A :class:`~textrec_core.protocols.Network` factory of ``torch.nn.Module``.

        ``train_defaults`` is the network's training recipe: ``train_args`` values used where a
        config does not set them (``{"lr_schedule": "onecycle", "learning_rate": 0.003}``). Each
        key must be a field of :class:`~textrec_core.config.TrainArgs` (``ValueError`` otherwise).
        """
        unknown = set(train_defaults or {}) - {field.name for field in attrs.fields(TrainArgs)}
        if unknown:
            raise ValueError(f"train_defaults of network {name or factory.__name__!r} has unknown "
                             f"train_args {', '.join(sorted(unknown))}")
        self._add("network", factory, name, aliases, train_defaults)

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
