"""textrec plugin: synthetic handwritten lines (``EmnistLinesDataset``)."""

from textrec_emnist_lines.dataset import EmnistLinesDataset

__all__ = ["EmnistLinesDataset"]
