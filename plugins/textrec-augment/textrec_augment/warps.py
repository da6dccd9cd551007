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


def affine_sample(images: torch.Tensor, widths: torch.Tensor, matrix: torch.Tensor,
                  shift: torch.Tensor) -> torch.Tensor:
    """``images`` read at the source points ``matrix @ (u, v) + shift`` of every output pixel
    (``matrix`` ``(N, 2, 2)``, ``shift`` ``(N, 2)`` pixels), in one ``affine_grid`` / ``grid_sample``.

    The frame-relative pixel map is rewritten in ``grid_sample``'s normalised coordinates
    (``x = (x_n + 1) W / 2``, the frame centre ``c = width / 2``)."""
    n, height, width = images.shape
    m = matrix.to(torch.float32)
    t = shift.to(torch.float32)
    centre = widths.cpu().to(torch.float32) / 2
    offset = width / 2 - centre
    theta = torch.stack([
        torch.stack([m[:, 0, 0], m[:, 0, 1] * height / width,
                     (2 / width) * (m[:, 0, 0] * offset + t[:, 0] + centre) - 1], dim=1),
        torch.stack([m[:, 1, 0] * width / height, m[:, 1, 1],
                     (2 / height) * (m[:, 1, 0] * offset + t[:, 1])], dim=1),
    ], dim=1).to(images.device)
    grid = F.affine_grid(theta, [n, 1, height, width], align_corners=False)
    return F.grid_sample(images.unsqueeze(1).float(), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).squeeze(1)


def sample(images: torch.Tensor, widths: torch.Tensor, u: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``images`` read at the frame-relative source points ``(u, v)``, each ``(N, H, W)``."""
    n, height, width = images.shape
    x = u + widths.to(images.device, torch.float32).view(n, 1, 1) / 2
    y = v + height / 2
    grid = torch.stack([2 * x / width - 1, 2 * y / height - 1], dim=-1)
    return F.grid_sample(images.unsqueeze(1).float(), grid, mode="bilinear", padding_mode="zeros",
                         align_corners=False).squeeze(1)


def smooth_field(n: int, height: int, width: int, spacing: float, generator: torch.Generator,
                 channels: int = 1) -> torch.Tensor:
    """``(n, channels, height, width)`` standard-normal values on a grid every ``spacing`` pixels,
    interpolated bilinearly between them: smooth random fields."""
    rows, cols = int(height / spacing) + 2, int(width / spacing) + 2
    coarse = torch.randn(n, channels, rows, cols, generator=generator)
    return F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=False)
