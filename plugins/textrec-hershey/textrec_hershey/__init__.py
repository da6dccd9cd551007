"""textrec plugin: synthetic handwriting-like characters rendered from Hershey fonts."""

from textrec_hershey.dataset import SyntheticCharactersDataset

__all__ = ["SyntheticCharactersDataset"]
