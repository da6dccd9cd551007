"""textrec plugin providing the ``tiny_network`` network."""

from .network import tiny_network

__all__ = ["tiny_network"]
