"""textrec plugin providing the ``lenet`` network."""

from textrec_lenet.network import LeNet, lenet

__all__ = ["LeNet", "lenet"]
