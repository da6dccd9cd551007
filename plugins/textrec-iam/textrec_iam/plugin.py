"""Registers ``IamLinesDataset`` (alias ``iam_lines``) with textrec; the ``textrec`` entry point names this module."""

from textrec_core import hookimpl
from textrec_core.components import ComponentRegister
from textrec_iam.dataset import IamLinesDataset


@hookimpl
def textrec_register_components(register: ComponentRegister) -> None:
    """Register the plugin's one component."""
    register.dataset(IamLinesDataset, aliases=("iam_lines",))
