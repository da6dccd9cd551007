"""Registers this plugin's components with textrec; the ``textrec`` entry point names this module."""

from textrec_core import hookimpl
from textrec_core.components import ComponentRegister

from .network import tiny_network


@hookimpl
def textrec_register_components(register: ComponentRegister) -> None:
    """Register every component of the plugin; a name defaults to the factory's ``__name__``."""
    register.network(tiny_network)
