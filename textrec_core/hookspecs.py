"""The hooks a textrec plugin may implement.

A plugin is a module (or any object) with functions decorated by :data:`hookimpl`::

    from textrec_core import hookimpl

    @hookimpl
    def textrec_register_components(register):
        register.network(tiny_network, aliases=("tiny",))
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from textrec_core.components import ComponentRegister

PROJECT = "textrec"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def textrec_register_components(register: ComponentRegister) -> None:
    """Register this plugin's datasets, networks, models, augmenters and predictors by name.

    Call ``register.dataset(factory, aliases=...)`` (likewise ``network``, ``model``,
    ``augmenter``, ``predictor``) once per component; its name is ``factory.__name__`` unless
    given. Names and aliases must be unique across plugins.
    """
