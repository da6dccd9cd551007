"""textrec plugin: training-time augmentation (``random_affine``)."""

from textrec_augment.affine import RandomAffine, random_affine

__all__ = ["RandomAffine", "random_affine"]
