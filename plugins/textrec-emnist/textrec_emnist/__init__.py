"""textrec plugin: the EMNIST handwritten character dataset (``EmnistDataset``)."""

from textrec_emnist.dataset import EmnistDataset

__all__ = ["EmnistDataset"]
