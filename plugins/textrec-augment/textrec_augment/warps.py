"""Resampling a batch through per-image maps from output pixels to source pixels.

Coordinates are in pixels, x along the width and y down the height, relative to each image's
frame centre ``(width / 2, H / 2)`` (see :mod:`textrec_augment.base`); sampling is bilinear and
source points outside the image read background (0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def frame_coordinates(images: torch.Tensor, widths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Every output pixel's ``(u, v)``, each ``(N, H, W)``, relative to its image's frame centre."""
    n, height, width = images.shape
    x = torch.arange(width, device=images.device, dtype=torch.float32) + 0.5
    y = torch.arange(height, device=images.device, dtype=torch.float32) + 0.5
    u = x.view(1, 1, width) - widths.to(images.device, torch.float32).view(n, 1, 1) / 2
    v = (y - height / 2).view(1, height, 1)
    return u.expand(n, height, width), v.expand(n, height, width)


def affine_source(u: torch.Tensor, v: torch.Tensor, matrix: torch.Tensor,
                  shift: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Source points ``matrix @ (u, v) + shift`` per image (``matrix`` ``(N, 2, 2)``, ``shift`` ``(N, 2)``)."""
    m = matrix.to(u.device, torch.float32).view(-1, 2, 2, 1, 1)
    t = shift.to(u.device, torch.float32).view(-1, 2, 1, 1)
    return m[:, 0, 0] * u + m[:, 0, 1] * v + t[:, 0], m[:, 1, 0] * u + m[:, 1, 1] * v + t[:, 1]


def sample(images: torch.Tensor, widths: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``images`` read at the frame-relative source points ``(u, v)``, each ``(N, H, W)``."""
    n, height, width = images.shape
    x = u + widths.to(images.device, torch.float32).view(n, 1, 1) / 2
    y = v + height / 2
    grid = torch.stack([2 * x / width - 1, 2 * y / height - 1], dim=-1)
    return F.grid_sample(images.unsqueeze(1).float(), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).squeeze(1)


def smooth_field(n: int, height: int, width: int, spacing: float, generator: torch.Generator) -> torch.Tensor:
    """``(n, height, width)`` standard-normal values on a grid every ``spacing`` pixels,
    interpolated bilinearly between them: a smooth random field."""
    rows, cols = int(height / spacing) + 2, int(width / spacing) + 2
    coarse = torch.randn(n, 1, rows, cols, generator=generator)
    return F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False).squeeze(1)
