"""``random_affine``: small random rotations, scalings, shears and shifts of each image."""

from __future__ import annotations

import math

import torch

from textrec_augment.base import LineAugmenter, check_probability, uniform
from textrec_augment.warps import affine_sample
from textrec_core.services.arguments import check_range


class RandomAffine(LineAugmenter):
    """Warps each chosen image about its frame's centre by its own random affine map."""

    def __init__(self, *, degrees: float, scale: float, shear: float, shift: float, p: float) -> None:
        super().__init__(p)
        self.degrees, self.scale, self.shear, self.shift = degrees, scale, shear, shift

    def transform(self, images, widths, generator):
        n = images.shape[0]
        angle = uniform(n, -math.radians(self.degrees), math.radians(self.degrees), generator)
        tan = uniform(n, -math.radians(self.shear), math.radians(self.shear), generator).tan()
        scale = 1 + uniform(n, -self.scale, self.scale, generator)
        shift = torch.stack([uniform(n, -self.shift, self.shift, generator) for _ in range(2)], dim=1)
        cos, sin = angle.cos(), angle.sin()
        matrix = torch.stack([torch.stack([cos, tan * cos - sin], 1), torch.stack([sin, cos], 1)], 1)
        return affine_sample(images, widths, matrix / scale.view(n, 1, 1), shift), widths

def random_affine(
    *, degrees: float = 10.0, scale: float = 0.1, shear: float = 10.0, shift: float = 2.0, p: float = 1.0
) -> RandomAffine:
    """Rotation up to ``degrees``, scale within ``1 ± scale``, shear up to ``shear`` degrees and a
    shift up to ``shift`` pixels each way, drawn independently per image; each image is warped
    with probability ``p``.

    Every setting is a finite number of at least 0; ``scale`` is below 1 (a factor of 0 would
    collapse the image), ``shear`` below 90 degrees, ``p`` at most 1. A bad value raises
    :class:`ArgumentError` naming it.
    """
    limits = {"degrees": (degrees, math.inf), "scale": (scale, 1), "shear": (shear, 90), "shift": (shift, math.inf)}
    for argument, (value, below) in limits.items():
        check_range(argument, value, 0, below)
    check_probability(p)
    return RandomAffine(degrees=degrees, scale=scale, shear=shear, shift=shift, p=p)
