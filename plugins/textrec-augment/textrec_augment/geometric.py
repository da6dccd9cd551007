"""Augmenters that move ink: ``elastic``, ``perspective`` and ``width_stretch``.

Each draws its own parameters per image from the trainer's generator and resamples the image
bilinearly (:mod:`textrec_augment.warps`) in the image's frame (:mod:`textrec_augment.base`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from textrec_augment.base import LineAugmenter, check_probability, uniform
from textrec_augment.warps import affine_sample, frame_coordinates, sample, smooth_field
from textrec_core.services.arguments import check_range


class Elastic(LineAugmenter):
    """Moves every pixel by a smooth random displacement: ``alpha`` pixels (standard deviation)
    varying over ``spacing`` pixels."""

    def __init__(self, *, alpha: float, spacing: float, p: float) -> None:
        super().__init__(p)
        self.alpha, self.spacing = alpha, spacing

    def transform(self, images, widths, generator):
        n, height, width = images.shape
        field = smooth_field(n, height, width, self.spacing, generator, channels=2).to(images.device)
        grid = F.affine_grid(torch.eye(2, 3, device=images.device).expand(n, 2, 3), [n, 1, height, width],
                             align_corners=False)
        scale = torch.tensor([2 * self.alpha / width, 2 * self.alpha / height], device=images.device)
        grid = grid + field.permute(0, 2, 3, 1) * scale  # pixels of displacement, in normalised units
        moved = F.grid_sample(images.unsqueeze(1).float(), grid, mode="bilinear", padding_mode="zeros",
                              align_corners=False)
        return moved.squeeze(1), widths


def elastic(*, alpha: float = 1.5, spacing: float = 12.0, p: float = 0.5) -> Elastic:
    """Elastic distortion: each pixel moved by ``alpha`` pixels (standard deviation of a smooth
    random field whose values change over ``spacing`` pixels), with probability ``p`` per image.
    ``alpha`` is at least 0, ``spacing`` at least 1."""
    check_range("alpha", alpha, 0, math.inf)
    check_range("spacing", spacing, 1, math.inf)
    check_probability(p)
    return Elastic(alpha=alpha, spacing=spacing, p=p)


class Perspective(LineAugmenter):
    """Views each image from a slightly different angle: its frame's corners are moved by up to
    ``distortion`` of the image height each way and the image follows (a homography)."""

    def __init__(self, *, distortion: float, p: float) -> None:
        super().__init__(p)
        self.distortion = distortion

    def transform(self, images, widths, generator):
        n, height, _ = images.shape
        half_w, half_h = widths.float().cpu() / 2, torch.full((n,), height / 2)
        corners = torch.stack([torch.stack([sx * half_w, sy * half_h], dim=1)
                               for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))], dim=1)  # (n, 4, 2)
        moved = corners + uniform(n * 8, -self.distortion, self.distortion, generator).view(n, 4, 2) * height
        h = homographies(corners, moved).to(images.device)
        u, v = frame_coordinates(images, widths)
        row = [h[:, i, :].reshape(n, 3, 1, 1) for i in range(3)]
        scale = row[2][:, 0] * u + row[2][:, 1] * v + row[2][:, 2]
        source = [(r[:, 0] * u + r[:, 1] * v + r[:, 2]) / scale for r in row[:2]]
        return sample(images, widths, *source), widths


def homographies(points: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The ``(N, 3, 3)`` projective maps taking each set of four ``points`` ``(N, 4, 2)`` to its ``targets``."""
    x, y = points[..., 0].double(), points[..., 1].double()
    tx, ty = targets[..., 0].double(), targets[..., 1].double()
    zero, one = torch.zeros_like(x), torch.ones_like(x)
    rows_x = torch.stack([x, y, one, zero, zero, zero, -x * tx, -y * tx], dim=-1)
    rows_y = torch.stack([zero, zero, zero, x, y, one, -x * ty, -y * ty], dim=-1)
    system = torch.cat([rows_x, rows_y], dim=1)  # (N, 8, 8)
    solution = torch.linalg.solve(system, torch.cat([tx, ty], dim=1))
    return torch.cat([solution, torch.ones_like(solution[:, :1])], dim=1).view(-1, 3, 3).float()


def perspective(*, distortion: float = 0.08, p: float = 0.5) -> Perspective:
    """A perspective warp moving each corner of the frame by up to ``distortion`` of the image
    height along each axis, with probability ``p`` per image; ``distortion`` is in [0, 0.25)."""
    check_range("distortion", distortion, 0, 0.25)
    check_probability(p)
    return Perspective(distortion=distortion, p=p)


class WidthStretch(LineAugmenter):
    """Makes each line wider or narrower by a random factor within ``1 ± stretch`` (its
    characters wider or narrower; the height is kept), anchored at the left edge."""

    def __init__(self, *, stretch: float, p: float) -> None:
        super().__init__(p)
        self.stretch = stretch

    def transform(self, images, widths, generator):
        n, _, width = images.shape
        factor = 1 + uniform(n, -self.stretch, self.stretch, generator)
        # source u = (u + w/2) / f - w/2: a scale of u by 1/f and a shift of (w/2)(1/f - 1)
        matrix = torch.zeros(n, 2, 2)
        matrix[:, 0, 0], matrix[:, 1, 1] = 1 / factor, 1.0
        shift = torch.stack([widths.cpu().float() / 2 * (1 / factor - 1), torch.zeros(n)], dim=1)
        stretched = affine_sample(images, widths, matrix, shift)
        return stretched, (widths.cpu() * factor).ceil().long().clamp(max=width).to(widths.device)


def width_stretch(*, stretch: float = 0.2, p: float = 0.5) -> WidthStretch:
    """Stretch each chosen line's width by a factor within ``1 ± stretch`` (``stretch`` in
    [0, 1)), with probability ``p`` per image; a line stretched past the image width is cut there."""
    check_range("stretch", stretch, 0, 1)
    check_probability(p)
    return WidthStretch(stretch=stretch, p=p)
