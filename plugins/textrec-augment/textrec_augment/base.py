"""What every augmenter of this plugin shares: a probability, and respect for a batch's padding.

An augmenter is applied to each image of a batch with its probability ``p`` (drawn per image
from the trainer's generator), so the images it leaves alone are returned unchanged. A batch of
lines of different widths is padded on the right with background (exactly 0), and models read a
line's length from where its last non-zero column is (:func:`textrec_lines.content_widths`). So
an augmenter works in each image's own frame: its content and ``H // 8`` columns of background
after it (within the image), the room a small warp may move ink into; geometric augmenters turn
about the frame's centre; and everything right of the frame's new width is background again
afterwards: paper noise never turns a line's padding into more line. Values are clipped to [0, 1].
"""

from __future__ import annotations

import torch

from textrec_core.services.arguments import check_range
from textrec_lines import content_widths


def uniform(n: int, low: float, high: float, generator: torch.Generator) -> torch.Tensor:
    """``n`` draws from the uniform distribution on [low, high)."""
    return low + (high - low) * torch.rand(n, generator=generator)


def check_probability(p: object) -> None:
    check_range("p", p, 0, 1, closed="[]")


class LineAugmenter:
    """Base of this plugin's augmenters: subclasses define :meth:`transform` on the chosen images."""

    def __init__(self, p: float) -> None:
        self.p = p

    def transform(self, images: torch.Tensor, widths: torch.Tensor,
                  generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Augment every image of ``images`` ``(N, H, W)`` whose frame is ``widths`` columns wide;
        return the new images and their frames' widths."""
        raise NotImplementedError

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        chosen = torch.rand(images.shape[0], generator=generator) < self.p
        if not chosen.any():
            return images
        index = chosen.nonzero().squeeze(1).to(images.device)
        height, width = images.shape[1:]
        frames = (content_widths(images[index]) + height // 8).clamp(max=width)
        changed, frames = self.transform(images[index], frames, generator)
        columns = torch.arange(width, device=images.device)
        changed = changed.clamp(0.0, 1.0) * (columns < frames.unsqueeze(1)).unsqueeze(1)
        result = images.clone()
        result[index] = changed.to(images.dtype)
        return result
