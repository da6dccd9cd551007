"""Training one model in several processes with PyTorch's DistributedDataParallel.

A process learns its place from torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``, ``MASTER_PORT``), which ``textrec-run --nproc N`` sets for the processes it
starts, and which ``torchrun`` sets on one or many machines. The process group is gloo on the CPU
and nccl on GPUs (each process on GPU ``LOCAL_RANK``).

The contract with the training loop: every process draws the same shuffled global batch of
``batch_size`` lines (the same seeded generator) and trains on its own slice of it
(:func:`shard`), so N processes see exactly the batches of one process; DDP averages the
gradients, and the loss and stopping decisions are agreed across processes (:func:`mean`,
:func:`agree`). Only rank 0 writes metrics, checkpoints, logs and bundles.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import attrs
import torch
import torch.distributed as dist


@attrs.frozen
class Place:
    """This process's ``rank`` among ``world`` processes, and its ``local_rank`` on its machine."""

    rank: int
    world: int
    local_rank: int

    @property
    def main(self) -> bool:
        return self.rank == 0


def place() -> Place | None:
    """This process's place when it is one of several (``WORLD_SIZE`` above 1), else None."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return None
    return Place(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", os.environ["RANK"])))


def start(where: Place, device: torch.device) -> None:
    """Join the process group (gloo for the CPU, nccl for CUDA) once."""
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo", rank=where.rank, world_size=where.world)


def stop() -> None:
    """Leave the process group, if this process is in one."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def current() -> Place | None:
    """The place of this process in the running process group, or None outside one."""
    if not dist.is_available() or not dist.is_initialized():
        return None
    return Place(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))


def shard(images: torch.Tensor, labels: torch.Tensor, where: Place) -> tuple[torch.Tensor, torch.Tensor]:
    """This process's slice of a global batch: rows split as evenly as they go (sizes differ by at most 1)."""
    return torch.tensor_split(images, where.world)[where.rank], torch.tensor_split(labels, where.world)[where.rank]


def mean(total: float, count: int) -> tuple[float, int]:
    """``total`` and ``count`` summed over the processes (a loss over all their samples)."""
    values = torch.tensor([total, float(count)], dtype=torch.float64)
    dist.all_reduce(values)
    return float(values[0]), int(values[1])


def agree(flag: bool) -> bool:
    """Rank 0's ``flag`` in every process (e.g. whether the time budget is spent)."""
    value = torch.tensor([int(flag)])
    dist.broadcast(value, src=0)
    return bool(value.item())


class TrainingStep(torch.nn.Module):
    """A model's training loss as a module over its network, so DistributedDataParallel can run it:
    DDP syncs gradients of what runs through its forward, and models compute their loss through
    methods of their own (an encoder-decoder's teacher forcing), not only ``network(images)``."""

    def __init__(self, network: torch.nn.Module, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
        super().__init__()
        self.network = network
        self.loss = loss

    def forward(self, images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss(images, labels)


def training_step(network: torch.nn.Module, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
                  where: Place) -> torch.nn.Module:
    """``loss`` run through DistributedDataParallel over ``network``'s parameters (broadcast from rank
    0 when it is built, averaged over the processes after every backward pass)."""
    device_ids = [where.local_rank] if next(network.parameters()).is_cuda else None
    return torch.nn.parallel.DistributedDataParallel(TrainingStep(network, loss), device_ids=device_ids,
                                                     find_unused_parameters=True)
