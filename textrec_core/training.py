"""The training loop shared by every model: progress bar, early stopping, time budget, seeding,
the choice of numeric precision, and checkpoints to resume from."""

from __future__ import annotations

import copy
import logging
import random
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
from tqdm.auto import tqdm

from textrec_core.checkpoint import Progress, restore, save_checkpoint
from textrec_core.config import TrainArgs
from textrec_core.distributed import Place, agree, mean, shard
from textrec_core.protocols import Augmenter, Split
from textrec_core.services.prefetch import in_background

log = logging.getLogger("textrec")

#: ``training_loss(images, labels)``: the scalar loss of one batch, from a forward pass in train mode.
TrainingLoss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
EvaluateFn = Callable[[Split], dict[str, float]]


class Callback(Protocol):
    """Told about every finished epoch (metrics prefixed ``train_`` / ``val_``)."""

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None: ...


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch; return a generator for shuffling and augmentation."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` computes in bfloat16 natively: a CUDA device with bf16 support, or a CPU
    with AVX-512 BF16 or AMX whose AVX-512 kernels torch uses (``ATEN_CPU_CAPABILITY=avx2``
    turns them off). Elsewhere bfloat16 autocast is emulated and much slower."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    if device.type == "cpu":
        avx512 = torch.backends.cpu.get_cpu_capability() == "AVX512"
        return avx512 and bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    return False


def autocast_dtype(precision: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``train_args.precision`` on ``device`` (None: float32), logged.

    ``auto`` takes bfloat16 only where the device runs it natively (:func:`native_bfloat16`); an
    explicit ``bfloat16`` without native support is honoured with a warning, since emulation
    costs several times float32's step time (a ``line_lstm_ctc`` step at batch 64 on an AVX2
    CPU: 10.2 s against 1.06 s in float32).
    """
    native = native_bfloat16(device)
    if precision == "auto":
        precision = "bfloat16" if native else "float32"
        log.info("precision auto: %s (%s bfloat16 natively)", precision, f"{device.type} computes" if native
                 else f"{device.type} does not compute")
    elif precision == "bfloat16" and not native:
        warnings.warn(
            f"precision bfloat16 on a {device.type} without native bfloat16 (no AVX-512 BF16 or AMX) is emulated: "
            "steps run several times slower than float32 (a line_lstm_ctc step took 10.2 s instead of 1.06 s); "
            "use precision auto or float32", RuntimeWarning, stacklevel=2)
    return torch.bfloat16 if precision == "bfloat16" else None


def training_batches(split: Split, batch_size: int, generator: torch.Generator, device: torch.device,
                     augmenters: Sequence[Augmenter]) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """``split``'s batches in a shuffled order, on ``device``, each augmenter applied in turn; the
    order and every augmentation are drawn from ``generator``."""
    for images, labels in split.batches(batch_size, shuffle=True, generator=generator):
        images, labels = images.to(device, non_blocking=True), labels.to(device, non_blocking=True)
        for augment in augmenters:
            images = augment(images, generator)
        yield images, labels


def train_epoch(
    module: torch.nn.Module,
    training_loss: TrainingLoss,
    optimizer: torch.optim.Optimizer,
    split: Split,
    *,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
    augmenters: Sequence[Augmenter] = (),
    progress: tqdm | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    autocast_dtype: torch.dtype | None = None,
    max_grad_norm: float | None = None,
    prefetch: int = 0,
    place: Place | None = None,
) -> tuple[float, int]:
    """One pass over ``split``; returns the mean training loss and the number of samples.

    ``autocast_dtype`` (e.g. ``torch.bfloat16``) runs the forward pass and loss under autocast;
    ``max_grad_norm`` clips the gradients' global norm before each optimizer step; ``prefetch``
    batches (drawn, moved to the device and augmented) are prepared ahead by a background thread
    running torch on one thread, none (0) on this one. With a ``place`` among several processes,
    each trains on its slice of every global batch (a global batch smaller than the number of
    processes is skipped by all), and the loss and count returned are over all of them."""
    module.train()
    total_loss = torch.zeros((), device=device)
    seen = 0
    batches = training_batches(split, batch_size, generator, device, augmenters)
    if prefetch:  # the producer's torch ops on one thread leave the training step its threads' cores
        batches = in_background(batches, prefetch, start=lambda: torch.set_num_threads(1))
    for images, labels in batches:
        if place is not None:
            if images.shape[0] < place.world:
                continue
            images, labels = shard(images, labels, place)
        with torch.autocast(device.type, dtype=autocast_dtype or torch.bfloat16, enabled=autocast_dtype is not None):
            loss = training_loss(images, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if max_grad_norm is not None:
            torch.nn.utils.clip_grad_norm_(module.parameters(), max_grad_norm)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        n = labels.shape[0]
        total_loss += loss.detach() * n
        seen += n
        if progress is not None:
            progress.update(1)
            if progress.n % 20 == 0:
                progress.set_postfix(loss=f"{total_loss.item() / seen:.4f}", refresh=False)
    total = total_loss.item()
    if place is not None:
        total, seen = mean(total, seen)
    return total / max(seen, 1), seen


class Trainer:
    """Fits a module with Adam (optionally on a one-cycle learning-rate schedule), evaluating on
    a validation split after every epoch.

    Training stops after ``train_args.epochs``, after ``patience`` epochs without a better
    validation loss, or after the epoch that crosses ``max_minutes``; the weights of the best
    validation epoch are restored at the end.

    With a ``checkpoint`` path, every epoch ends by writing the checkpoint there
    (:mod:`textrec_core.checkpoint`). ``resume``, a checkpoint read by
    :func:`~textrec_core.checkpoint.load_checkpoint`, is restored first and training continues
    after its last epoch (on the same device and threads, exactly as if it had not stopped; a
    checkpoint of a run that had ended only restores the best weights). Callbacks hear only the
    epochs trained in this call. With a ``place`` among several processes (``training_loss`` then
    a DistributedDataParallel step), only rank 0 tells the callbacks and writes the checkpoint,
    and rank 0's decision to stop holds for all.
    """

    def __init__(self, train_args: TrainArgs, *, device: torch.device, progress: bool = True) -> None:
        self.args = train_args
        self.device = device
        self.progress = progress

    def fit(
        self,
        module: torch.nn.Module,
        training_loss: TrainingLoss,
        train: Split,
        val: Split,
        evaluate: EvaluateFn,
        *,
        augmenters: Sequence[Augmenter] = (),
        callbacks: Sequence[Callback] = (),
        checkpoint: Path | None = None,
        resume: dict[str, Any] | None = None,
        place: Place | None = None,
    ) -> dict[str, list[float]]:
        args = self.args
        main = place is None or place.main
        generator = seed_everything(args.seed)
        dtype = autocast_dtype(args.precision, self.device)
        optimizer = torch.optim.Adam(module.parameters(), lr=args.learning_rate)
        steps = -(-len(train) // args.batch_size)
        scheduler = None
        if args.lr_schedule == "onecycle":
            scheduler = torch.optim.lr_scheduler.OneCycleLR(
                optimizer, max_lr=args.learning_rate, total_steps=args.epochs * steps)
        state = Progress()
        if resume is not None:
            state = restore(resume, module=module, optimizer=optimizer, scheduler=scheduler, generator=generator)
            log.info("resuming after epoch %d of %d%s", state.epoch, args.epochs, " (training had ended)"
                     if state.ended else "")
        started = time.perf_counter() - state.seconds
        history, best_loss, best_state, stale = state.history, state.best_loss, state.best_state, state.stale
        for epoch in range(state.epoch + 1 if not state.ended else args.epochs + 1, args.epochs + 1):
            bar = tqdm(
                total=steps, desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                disable=not self.progress, mininterval=0.5, leave=True,
            )
            t0 = time.perf_counter()
            train_loss, seen = train_epoch(
                module, training_loss, optimizer, train, batch_size=args.batch_size,
                generator=generator, device=self.device, augmenters=augmenters, progress=bar, scheduler=scheduler,
                autocast_dtype=dtype, max_grad_norm=args.max_grad_norm, prefetch=args.prefetch, place=place,
            )
            seconds = time.perf_counter() - t0
            metrics = {"train_loss": train_loss, "train_samples_per_s": seen / seconds, "epoch_seconds": seconds}
            metrics.update({f"val_{k}": v for k, v in evaluate(val).items()})
            bar.set_postfix(
                loss=f"{train_loss:.4f}", samples_s=f"{metrics['train_samples_per_s']:.0f}",
                **{k: f"{v:.4f}" for k, v in metrics.items() if k.startswith("val_")},
            )
            bar.close()
            for key, value in metrics.items():
                history.setdefault(key, []).append(value)
            for callback in callbacks if main else ():
                callback.on_epoch_end(epoch, metrics)
            if metrics["val_loss"] < best_loss - 1e-4:
                best_loss, best_state, stale = metrics["val_loss"], copy.deepcopy(module.state_dict()), 0
            else:
                stale += 1
            ended = epoch == args.epochs or bool(args.patience and stale >= args.patience) or bool(
                args.max_minutes and time.perf_counter() - started > args.max_minutes * 60)
            if place is not None:
                ended = agree(ended)
            if checkpoint is not None and main:
                save_checkpoint(checkpoint, module=module, optimizer=optimizer, scheduler=scheduler,
                                generator=generator,
                                progress=Progress(epoch, history, best_loss, best_state, stale,
                                                  time.perf_counter() - started, ended))
            if ended:
                break
        if best_state is not None:
            module.load_state_dict(best_state)
        return history
