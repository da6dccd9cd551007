"""``random_affine``: small random rotations, scalings, shears and shifts of a training batch.

Each image of the batch gets its own transform, drawn from the trainer's generator (so seeded
runs repeat), applied in one ``affine_grid`` / ``grid_sample`` call for the whole batch.
Uncovered pixels become background (0, the dark side of bright-ink-on-dark images).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from textrec_core.services.arguments import check_range


class RandomAffine:
    """An :class:`~textrec_core.protocols.Augmenter` warping each image by a random affine map."""

    def __init__(self, *, degrees: float, scale: float, shear: float, shift: float) -> None:
        self.degrees, self.scale, self.shear, self.shift = degrees, scale, shear, shift

    def _uniform(self, n: int, bound: float, generator: torch.Generator) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * bound

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        n, height, width = images.shape
        angle = self._uniform(n, math.radians(self.degrees), generator)
        shear = self._uniform(n, math.radians(self.shear), generator)
        scale = 1 + self._uniform(n, self.scale, generator)
        # grid coordinates run over [-1, 1], so a shift of s pixels is 2 s / side
        shift_x = self._uniform(n, self.shift, generator) * 2 / width
        shift_y = self._uniform(n, self.shift, generator) * 2 / height
        cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
        theta = torch.stack([
            torch.stack([cos, -sin + torch.tan(shear) * cos, shift_x], dim=1),
            torch.stack([sin, cos, shift_y], dim=1),
        ], dim=1).to(images.device, images.dtype)
        grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
        warped = F.grid_sample(images.unsqueeze(1), grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        return warped.squeeze(1)


def random_affine(
    *, degrees: float = 10.0, scale: float = 0.1, shear: float = 10.0, shift: float = 2.0
) -> RandomAffine:
    """Rotation up to ``degrees``, scale within ``1 ± scale``, shear up to ``shear`` degrees and a
    shift up to ``shift`` pixels each way, drawn independently per image.

    Every setting is a finite number of at least 0; ``scale`` is below 1 (a factor of 0 would
    collapse the image) and ``shear`` below 90 degrees. A bad value raises :class:`ArgumentError`
    naming it.
    """
    limits = {"degrees": (degrees, math.inf), "scale": (scale, 1), "shear": (shear, 90), "shift": (shift, math.inf)}
    for argument, (value, below) in limits.items():
        check_range(argument, value, 0, below)
    return RandomAffine(degrees=degrees, scale=scale, shear=shear, shift=shift)
