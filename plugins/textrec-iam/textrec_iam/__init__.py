"""textrec plugin: the IAM Handwriting Database's scanned text lines (``IamLinesDataset``, alias ``iam_lines``)."""

from textrec_iam.dataset import IamLinesDataset

__all__ = ["IamLinesDataset"]
