"""A training run's checkpoint: everything needed to continue it as if it had never stopped.

``checkpoint.pt`` in the run folder, rewritten atomically after every epoch, holds the network's
and optimizer's state, the learning-rate scheduler's, every random-number state the run draws
from (the trainer's generator, which orders and augments the batches and seeds fresh lines;
torch's global generator, which drives dropout; NumPy's and Python's), the history, the
early-stopping state (best validation loss, the best epoch's weights, stale epochs), the
training time spent so far (for ``max_minutes``) and whether training has ended. Everything in
it is a tensor or plain data, so it is read back with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import attrs
import numpy as np
import torch

from textrec_core.errors import TextrecError
from textrec_core.services.fileio import atomic_write

CHECKPOINT_FILE = "checkpoint.pt"
#: The version of the checkpoint's layout; a checkpoint of another version is refused.
FORMAT = 1


@attrs.define
class Progress:
    """Where training stands after ``epoch`` epochs: the ``history``, early stopping's ``best_loss``,
    ``best_state`` (the best epoch's weights, or None) and ``stale`` epochs, the ``seconds`` of
    training so far, and whether training has ``ended``."""

    epoch: int = 0
    history: dict[str, list[float]] = attrs.Factory(dict)
    best_loss: float = float("inf")
    best_state: dict[str, torch.Tensor] | None = None
    stale: int = 0
    seconds: float = 0.0
    ended: bool = False


def random_states(generator: torch.Generator) -> dict[str, Any]:
    """The states of ``generator``, torch's global generator, NumPy's and Python's, as tensors and plain data."""
    kind, keys, position, has_gauss, gauss = np.random.get_state()
    version, internal, gauss_next = random.getstate()
    return {"generator": generator.get_state(), "torch": torch.get_rng_state(),
            "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, gauss],
            "python": [version, list(internal), gauss_next]}


def restore_random_states(states: dict[str, Any], generator: torch.Generator) -> None:
    """Put every generator back in the states :func:`random_states` recorded."""
    generator.set_state(states["generator"])
    torch.set_rng_state(states["torch"])
    kind, keys, position, has_gauss, gauss = states["numpy"]
    np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, gauss))
    version, internal, gauss_next = states["python"]
    random.setstate((version, tuple(internal), gauss_next))


def save_checkpoint(path: Path, *, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
                    scheduler: torch.optim.lr_scheduler.LRScheduler | None, generator: torch.Generator,
                    progress: Progress) -> Path:
    """Write the checkpoint to ``path`` atomically (a killed write leaves the previous one)."""
    document = {"format": FORMAT, "module": module.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "random": random_states(generator), "progress": attrs.asdict(progress, recurse=False)}
    return atomic_write(Path(path), lambda tmp: torch.save(document, tmp))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """The checkpoint at ``path``, read with ``weights_only=True``; :class:`TextrecError` when it is
    missing, unreadable or of another format."""
    if not Path(path).is_file():
        raise TextrecError(f"no checkpoint at {path}: the run wrote none (it ended before its first epoch, or "
                           "was made by a textrec without checkpoints)")
    try:
        document = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - torch raises many kinds for a damaged file
        raise TextrecError(f"cannot read the checkpoint {path}: {exc}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise TextrecError(f"{path} is not a textrec checkpoint of format {FORMAT}")
    return document


def restore(document: dict[str, Any], *, module: torch.nn.Module, optimizer: torch.optim.Optimizer,
            scheduler: torch.optim.lr_scheduler.LRScheduler | None, generator: torch.Generator) -> Progress:
    """Load a checkpoint read by :func:`load_checkpoint` into the run's objects; its :class:`Progress`."""
    module.load_state_dict(document["module"])
    optimizer.load_state_dict(document["optimizer"])
    if scheduler is not None and document["scheduler"] is not None:
        scheduler.load_state_dict(document["scheduler"])
    restore_random_states(document["random"], generator)
    return Progress(**document["progress"])
