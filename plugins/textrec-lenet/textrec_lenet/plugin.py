"""Registers the ``lenet`` network with textrec."""

from textrec_core import hookimpl
from textrec_lenet.network import lenet


@hookimpl
def textrec_register_components(register):
    register.network(lenet)
