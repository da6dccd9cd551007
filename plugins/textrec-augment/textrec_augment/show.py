"""A picture of what an experiment's augmenters do: sample training lines before and after each.

Rows: the lines as the dataset gives them, then each augmenter alone (applied to every line,
whatever its probability), then the whole pipeline as configured (in order, with the
probabilities). Ink is drawn dark on light paper, as people write.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path

import torch

from textrec_core.protocols import Augmenter, Split
from textrec_core.reports import pyplot
from textrec_core.services.fileio import atomic_write
from textrec_lines import content_widths


def sample_lines(split: Split, count: int, seed: int) -> torch.Tensor:
    """``count`` lines of ``split`` (a shuffled batch drawn with ``seed``)."""
    images, _ = next(iter(split.batches(count, shuffle=True, generator=torch.Generator().manual_seed(seed))))
    return images


def always(augmenter: Augmenter) -> Augmenter:
    """``augmenter`` applied to every image: a copy with probability 1 where it has one."""
    if not hasattr(augmenter, "p"):
        return augmenter
    certain = copy.copy(augmenter)
    certain.p = 1.0
    return certain


def augmented_views(images: torch.Tensor, augmenters: Sequence[Augmenter], names: Sequence[str],
                    seed: int) -> list[tuple[str, torch.Tensor]]:
    """``(title, images)`` rows: the lines, each augmenter alone, then the pipeline."""
    views = [("as given", images)]
    for name, augmenter in zip(names, augmenters):
        views.append((name, always(augmenter)(images, torch.Generator().manual_seed(seed))))
    if len(augmenters) > 1:
        generator = torch.Generator().manual_seed(seed)
        piped = images
        for augmenter in augmenters:
            piped = augmenter(piped, generator)
        views.append(("the pipeline", piped))
    return views


def write_grid(views: list[tuple[str, torch.Tensor]], path: Path) -> Path:
    """Draw ``views`` as a PNG grid at ``path`` (written atomically): a row per view, a column per line."""
    plt = pyplot()
    first = views[0][1]
    count, height = first.shape[0], first.shape[1]
    shown = int(max(content_widths(images).max().item() for _, images in views)) or first.shape[2]
    figure, axes = plt.subplots(len(views), count, squeeze=False,
                                figsize=(count * max(2.0, 6 * shown / max(shown, 8 * height)) + 0.5,
                                         len(views) * 1.1 + 0.3))
    for row, (title, images) in zip(axes, views):
        for column, (axis, image) in enumerate(zip(row, images)):
            axis.imshow(1 - image[:, :shown].float().numpy(), cmap="gray", vmin=0, vmax=1, aspect="equal")
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_title(title, loc="left", fontsize=9)
    figure.tight_layout()
    atomic_write(path, lambda tmp: figure.savefig(tmp, format="png", dpi=110))
    plt.close(figure)
    return path
