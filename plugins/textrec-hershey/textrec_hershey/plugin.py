"""Registers ``SyntheticCharactersDataset`` (alias ``synthetic``) with textrec."""

from textrec_core import hookimpl
from textrec_hershey.dataset import SyntheticCharactersDataset


@hookimpl
def textrec_register_components(register):
    register.dataset(SyntheticCharactersDataset, aliases=("synthetic",))
