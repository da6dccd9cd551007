"""textrec plugin: training-time augmentation of line and character images (see plugin.AUGMENTERS)."""

from textrec_augment.affine import RandomAffine, random_affine
from textrec_augment.base import LineAugmenter
from textrec_augment.geometric import elastic, perspective, width_stretch
from textrec_augment.photometric import blur, contrast, ink_thickness, paper_noise, random_erasing

__all__ = ["LineAugmenter", "RandomAffine", "blur", "contrast", "elastic", "ink_thickness", "paper_noise",
           "perspective", "random_affine", "random_erasing", "width_stretch"]
