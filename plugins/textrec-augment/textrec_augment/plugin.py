"""Registers this plugin's augmenters with textrec."""

from textrec_augment.affine import random_affine
from textrec_augment.geometric import elastic, perspective, width_stretch
from textrec_augment.photometric import blur, contrast, ink_thickness, paper_noise, random_erasing
from textrec_core import hookimpl

AUGMENTERS = (random_affine, elastic, perspective, width_stretch, ink_thickness, blur, paper_noise, contrast,
              random_erasing)


@hookimpl
def textrec_register_components(register):
    for augmenter in AUGMENTERS:
        register.augmenter(augmenter)
