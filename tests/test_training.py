"""The training loop's gradient clipping."""

from __future__ import annotations

import pytest
import torch

from textrec_core.splits import TensorSplit
from textrec_core.training import train_epoch


def one_sgd_step(max_grad_norm: float | None) -> torch.Tensor:
    """The change of a linear layer's weights after one plain SGD step (lr 1) on a loss with a huge gradient."""
    torch.manual_seed(0)
    layer = torch.nn.Linear(4, 1, bias=False)
    before = layer.weight.detach().clone()
    split = TensorSplit(torch.full((8, 2, 2), 255, dtype=torch.uint8), torch.zeros(8))  # images of ones

    def loss(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return 1000.0 * layer(images.flatten(1)).sum()

    train_epoch(layer, loss, torch.optim.SGD(layer.parameters(), lr=1.0), split, batch_size=8,
                generator=torch.Generator().manual_seed(0), device=torch.device("cpu"), max_grad_norm=max_grad_norm)
    return layer.weight.detach() - before


def test_max_grad_norm_clips_the_step_to_that_norm():
    assert one_sgd_step(None).norm().item() == pytest.approx(8000.0 * 2)  # 8 samples x 1000 x |(1, 1, 1, 1)|
    assert one_sgd_step(0.5).norm().item() == pytest.approx(0.5, rel=1e-5)
