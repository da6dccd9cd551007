"""Combine several text-recognition models' readings of one line by confidence voting."""

from textrec_ensembler.voting import Reading, Vote, vote

__all__ = ["Reading", "Vote", "vote"]
