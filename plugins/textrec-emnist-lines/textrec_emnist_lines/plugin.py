"""Registers ``EmnistLinesDataset`` (alias ``emnist_lines``) with textrec."""

from textrec_core import hookimpl
from textrec_emnist_lines.dataset import EmnistLinesDataset


@hookimpl
def textrec_register_components(register):
    register.dataset(EmnistLinesDataset, aliases=("emnist_lines",))
