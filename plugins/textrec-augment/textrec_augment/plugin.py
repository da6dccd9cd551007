"""Registers the ``random_affine`` augmenter with textrec."""

from textrec_augment.affine import random_affine
from textrec_core import hookimpl


@hookimpl
def textrec_register_components(register):
    register.augmenter(random_affine)
