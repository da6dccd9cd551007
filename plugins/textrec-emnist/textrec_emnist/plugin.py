"""Registers ``EmnistDataset`` (alias ``emnist``) with textrec."""

from textrec_core import hookimpl
from textrec_emnist.dataset import EmnistDataset


@hookimpl
def textrec_register_components(register):
    register.dataset(EmnistDataset, aliases=("emnist",))
