"""Where a line's content ends in a batch padded on the right with background.

Batches of lines of different widths are padded to their widest line with background, 0 in the
core's bright-ink-on-dark convention. A model that should not read the padding (CTC input
lengths, attention masks) takes each line's width from its last column holding a non-zero pixel.
"""

from __future__ import annotations

import torch


def content_widths(images: torch.Tensor) -> torch.Tensor:
    """Per image ``(B, H, W)``, one past its last column with a non-zero pixel (0 for a blank image)."""
    ink = images.ne(0).any(dim=1)
    positions = torch.arange(1, images.shape[2] + 1, device=images.device)
    return (ink * positions).amax(dim=1)
