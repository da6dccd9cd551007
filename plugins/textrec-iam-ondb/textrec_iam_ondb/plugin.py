"""Registers this plugin's components with textrec; the ``textrec`` entry point names this module."""

from textrec_core import hookimpl
from textrec_core.components import ComponentRegister
from textrec_iam_ondb.dataset import IamOnDbDataset


@hookimpl
def textrec_register_components(register: ComponentRegister) -> None:
    """Register ``IamOnDbDataset`` (alias ``iam_ondb``)."""
    register.dataset(IamOnDbDataset, aliases=("iam_ondb",))
