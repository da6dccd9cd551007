"""textrec plugin providing the ``mlp`` network."""

from textrec_mlp.network import mlp

__all__ = ["mlp"]
