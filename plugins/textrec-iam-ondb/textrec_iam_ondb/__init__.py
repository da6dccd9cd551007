"""textrec plugin: ``IamOnDbDataset`` (alias ``iam_ondb``), real handwritten lines of IAM-OnDB
rendered from their pen strokes."""

from textrec_iam_ondb.dataset import IamOnDbDataset

__all__ = ["IamOnDbDataset"]
