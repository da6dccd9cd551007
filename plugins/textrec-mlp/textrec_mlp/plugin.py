"""Registers the ``mlp`` network with textrec."""

from textrec_core import hookimpl
from textrec_mlp.network import mlp


@hookimpl
def textrec_register_components(register):
    register.network(mlp)
