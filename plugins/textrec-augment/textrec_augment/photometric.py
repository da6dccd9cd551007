"""Augmenters that change how ink and paper look: ``ink_thickness``, ``blur``, ``paper_noise``,
``contrast`` and ``random_erasing``.

Images are bright ink on dark paper (0); each augmenter draws its parameters per image from the
trainer's generator and works within the image's frame (:mod:`textrec_augment.base`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from textrec_augment.base import LineAugmenter, check_probability, uniform
from textrec_augment.warps import smooth_field
from textrec_core.errors import ArgumentError
from textrec_core.services.arguments import check_integer, check_range


class InkThickness(LineAugmenter):
    """Thickens the ink (grayscale dilation) or thins it (erosion) by a radius drawn per image
    from ``-max_radius .. max_radius`` (0 leaves the image as it is)."""

    def __init__(self, *, max_radius: int, p: float) -> None:
        super().__init__(p)
        self.max_radius = max_radius

    def transform(self, images, widths, generator):
        radii = torch.randint(-self.max_radius, self.max_radius + 1, (images.shape[0],), generator=generator)
        result = images.clone()
        for radius in radii.unique().tolist():
            if radius == 0:
                continue
            index = (radii == radius).nonzero().squeeze(1).to(images.device)
            chosen = images[index].unsqueeze(1)
            size = 2 * abs(radius) + 1
            if radius > 0:
                result[index] = F.max_pool2d(chosen, size, stride=1, padding=radius).squeeze(1)
            else:
                result[index] = -F.max_pool2d(-chosen, size, stride=1, padding=-radius).squeeze(1)
        return result, widths


def ink_thickness(*, max_radius: int = 1, p: float = 0.3) -> InkThickness:
    """Ink thickness: dilate or erode each chosen image by up to ``max_radius`` pixels (an
    integer of at least 1), with probability ``p`` per image."""
    check_integer("max_radius", max_radius)
    check_probability(p)
    return InkThickness(max_radius=max_radius, p=p)


class Blur(LineAugmenter):
    """A Gaussian blur whose standard deviation is drawn per image from [0, ``max_sigma``] pixels."""

    def __init__(self, *, max_sigma: float, p: float) -> None:
        super().__init__(p)
        self.max_sigma = max_sigma

    def transform(self, images, widths, generator):
        n = images.shape[0]
        sigma = uniform(n, 0.0, self.max_sigma, generator).clamp(min=1e-3)
        reach = max(1, math.ceil(2 * self.max_sigma))
        offsets = torch.arange(-reach, reach + 1, dtype=torch.float32)
        kernels = torch.exp(-0.5 * (offsets / sigma.view(n, 1)) ** 2)
        kernels = (kernels / kernels.sum(dim=1, keepdim=True)).to(images.device)
        planes = images.float().unsqueeze(0)  # (1, n, H, W): one channel per image, one kernel each
        planes = F.conv2d(planes, kernels.view(n, 1, 1, -1), padding=(0, reach), groups=n)
        planes = F.conv2d(planes, kernels.view(n, 1, -1, 1), padding=(reach, 0), groups=n)
        return planes.squeeze(0), widths


def blur(*, max_sigma: float = 1.0, p: float = 0.5) -> Blur:
    """Gaussian blur of standard deviation up to ``max_sigma`` pixels (in (0, 5]), with
    probability ``p`` per image."""
    check_range("max_sigma", max_sigma, 0, 5, closed="(]")
    check_probability(p)
    return Blur(max_sigma=max_sigma, p=p)


class PaperNoise(LineAugmenter):
    """Paper as a scanner sees it: a smooth texture (a random field varying over ``grain`` pixels)
    of strength up to ``texture`` and Gaussian pixel noise of standard deviation up to ``noise``,
    both drawn per image, added to the image (paper is 0, so the noise darker than it is lost)."""

    def __init__(self, *, noise: float, texture: float, grain: float, p: float) -> None:
        super().__init__(p)
        self.noise, self.texture, self.grain = noise, texture, grain

    def transform(self, images, widths, generator):
        n, height, width = images.shape
        strength = uniform(n, 0.0, self.texture, generator).view(n, 1, 1)
        paper = strength * smooth_field(n, height, width, self.grain, generator).squeeze(1).abs()
        level = uniform(n, 0.0, self.noise, generator).view(n, 1, 1)
        paper += level * torch.randn(n, height, width, generator=generator)
        return images + paper.to(images.device), widths


def paper_noise(*, noise: float = 0.05, texture: float = 0.1, grain: float = 16.0, p: float = 0.5) -> PaperNoise:
    """Paper texture of strength up to ``texture`` (in [0, 1)) varying over ``grain`` pixels (at
    least 1) and pixel noise of standard deviation up to ``noise`` (in [0, 1)), with probability
    ``p`` per image."""
    check_range("noise", noise, 0, 1)
    check_range("texture", texture, 0, 1)
    check_range("grain", grain, 1, math.inf)
    check_probability(p)
    return PaperNoise(noise=noise, texture=texture, grain=grain, p=p)


class Contrast(LineAugmenter):
    """A faded scan: the paper's level is drawn from [0, ``brightness``] and the ink's from
    [1 - ``contrast``, 1] per image, the image mapped linearly from 0..1 onto them."""

    def __init__(self, *, contrast: float, brightness: float, p: float) -> None:
        super().__init__(p)
        self.contrast, self.brightness = contrast, brightness

    def transform(self, images, widths, generator):
        n = images.shape[0]
        paper = uniform(n, 0.0, self.brightness, generator).view(n, 1, 1).to(images.device)
        ink = uniform(n, 1 - self.contrast, 1.0, generator).view(n, 1, 1).to(images.device)
        return paper + images * (ink - paper), widths


def contrast(*, contrast: float = 0.4, brightness: float = 0.2, p: float = 0.5) -> Contrast:
    """Contrast and brightness: ink level down to ``1 - contrast``, paper level up to
    ``brightness`` (both in [0, 1), their sum below 1 so ink stays brighter than paper), with
    probability ``p`` per image."""
    check_range("contrast", contrast, 0, 1)
    check_range("brightness", brightness, 0, 1)
    if contrast + brightness >= 1:
        raise ArgumentError("brightness", f"plus contrast must be below 1 (ink brighter than paper), got "
                                          f"{brightness} + {contrast}")
    check_probability(p)
    return Contrast(contrast=contrast, brightness=brightness, p=p)


class RandomErasing(LineAugmenter):
    """Erases (sets to paper) 1 to ``max_count`` rectangles per image (how many, drawn
    uniformly), each side up to ``size`` of the image height, placed uniformly within the frame."""

    def __init__(self, *, max_count: int, size: float, p: float) -> None:
        super().__init__(p)
        self.max_count, self.size = max_count, size

    def transform(self, images, widths, generator):
        n, height, width = images.shape
        count = self.max_count * n
        sides = (uniform(count * 2, 1.0, max(1.0, self.size * height), generator)).view(2, n, self.max_count)
        used = torch.arange(self.max_count) < torch.randint(1, self.max_count + 1, (n, 1), generator=generator)
        top = uniform(count, 0, 1, generator).view(n, self.max_count) * (height - sides[0])
        left = uniform(count, 0, 1, generator).view(n, self.max_count) * (widths.cpu().float().view(n, 1) - sides[1])
        rows = torch.arange(height, dtype=torch.float32).view(1, 1, height, 1)
        cols = torch.arange(width, dtype=torch.float32).view(1, 1, 1, width)
        inside = ((rows >= top[..., None, None]) & (rows < (top + sides[0])[..., None, None])
                  & (cols >= left[..., None, None]) & (cols < (left + sides[1])[..., None, None]))
        erased = (inside & used[..., None, None]).any(dim=1)  # (n, H, W)
        return images.masked_fill(erased.to(images.device), 0.0), widths


def random_erasing(*, max_count: int = 2, size: float = 0.3, p: float = 0.3) -> RandomErasing:
    """Erase up to ``max_count`` (an integer of at least 1) rectangles of sides up to ``size``
    (in (0, 1]) of the image height, with probability ``p`` per image."""
    check_integer("max_count", max_count)
    check_range("size", size, 0, 1, closed="(]")
    check_probability(p)
    return RandomErasing(max_count=max_count, size=size, p=p)
