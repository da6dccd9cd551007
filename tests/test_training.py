"""The training loop: gradient clipping, and the Trainer's best-epoch restore, patience, time
budget, one-cycle schedule and choice of precision."""

from __future__ import annotations

import copy
import logging
import warnings

import pytest
import torch

from textrec_core import training
from textrec_core.config import TrainArgs
from textrec_core.services.splits import TensorSplit
from textrec_core.training import Trainer, autocast_dtype, native_bfloat16, train_epoch


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


# --- Trainer: best-epoch restore, patience, time budget, one-cycle schedule, precision ------------


class Snapshots:
    """A callback keeping each epoch's metrics and the module's weights at the end of it."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self.epochs: list[int] = []
        self.metrics: list[dict[str, float]] = []
        self.states: list[dict[str, torch.Tensor]] = []

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        self.epochs.append(epoch)
        self.metrics.append(dict(metrics))
        self.states.append(copy.deepcopy(self.module.state_dict()))


class RecordingAdam(torch.optim.Adam):
    """Adam that records the learning rate of every step it takes."""

    rates: list[float] = []

    def step(self, closure=None):
        RecordingAdam.rates.append(self.param_groups[0]["lr"])
        return super().step(closure)


def fit(val_losses: list[float] | None = None, *, samples: int = 40, augmenters=(), **train_args):
    """Fit a linear layer for ``train_args`` (float32, batches of 8 by default) on a regression
    that keeps improving; the validation loss of epoch ``i`` is ``val_losses[i - 1]``
    (default: decreasing). Returns the module, the history and the :class:`Snapshots`."""
    torch.manual_seed(0)
    module = torch.nn.Linear(4, 1)
    images = torch.randint(0, 256, (samples, 2, 2), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    split = TensorSplit(images, torch.zeros(samples))
    scripted = iter(val_losses if val_losses is not None else [100.0 - i for i in range(100)])

    def training_loss(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return (module(images.flatten(1)).squeeze(1) - 1.0).pow(2).mean()

    def evaluate(val) -> dict[str, float]:
        assert val is split
        assert all(torch.equal(batch, images[i * 8 : i * 8 + 8].float() / 255) for i, (batch, _) in
                   enumerate(val.batches(8))), "validation images must be the data's own, never augmented"
        return {"loss": next(scripted), "extra": 0.5}

    snapshots = Snapshots(module)
    args = TrainArgs(**{"batch_size": 8, "precision": "float32", "learning_rate": 0.01, **train_args})
    history = Trainer(args, device=torch.device("cpu"), progress=False).fit(
        module, training_loss, split, split, evaluate, callbacks=[snapshots], augmenters=augmenters)
    return module, history, snapshots


def same_weights(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


class Brighten:
    """An augmenter adding a random amount (from the trainer's generator) to every image; counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        self.calls += 1
        return images + torch.rand(images.shape[0], 1, 1, generator=generator)


def test_augmenters_see_every_training_batch_and_no_validation_batch():
    brighten = Brighten()
    _, plain, _ = fit(epochs=2, patience=0)
    _, augmented, _ = fit(epochs=2, patience=0, augmenters=[brighten])
    assert brighten.calls == 2 * 5  # 40 samples in batches of 8, two epochs; evaluate checks validation
    assert augmented["train_loss"] != plain["train_loss"]


@pytest.mark.parametrize("prefetch", [1, 3])
def test_batches_prepared_in_the_background_train_exactly_as_on_the_training_thread(prefetch):
    inline, inline_history, _ = fit(epochs=2, patience=0, augmenters=[Brighten()], prefetch=0)
    ahead, ahead_history, _ = fit(epochs=2, patience=0, augmenters=[Brighten()], prefetch=prefetch)
    assert same_weights(inline.state_dict(), ahead.state_dict())
    assert inline_history["train_loss"] == ahead_history["train_loss"]


def test_history_and_callbacks_see_every_epoch():
    _, history, snapshots = fit(epochs=3, patience=0)
    assert snapshots.epochs == [1, 2, 3]
    assert history["val_loss"] == [100.0, 99.0, 98.0] and history["val_extra"] == [0.5] * 3
    assert {"train_loss", "train_samples_per_s", "epoch_seconds"} <= set(history)
    assert history["train_loss"][-1] < history["train_loss"][0]
    assert [m["val_loss"] for m in snapshots.metrics] == history["val_loss"]


def test_the_best_validation_epochs_weights_are_restored():
    module, history, snapshots = fit([3.0, 1.0, 2.0, 4.0], epochs=4, patience=0)
    assert len(history["val_loss"]) == 4
    assert same_weights(module.state_dict(), snapshots.states[1])
    assert not same_weights(module.state_dict(), snapshots.states[3])


def test_a_tie_or_a_gain_under_1e_4_is_not_an_improvement():
    module, _, snapshots = fit([1.0, 1.0, 0.99995, 2.0], epochs=4, patience=0)
    assert same_weights(module.state_dict(), snapshots.states[0])


def test_the_last_epoch_is_kept_when_it_is_the_best():
    module, _, snapshots = fit(epochs=3, patience=0)
    assert same_weights(module.state_dict(), snapshots.states[2])


def test_patience_stops_after_that_many_epochs_without_improvement():
    module, history, snapshots = fit([5.0, 4.0, 4.5, 4.2, 4.1, 1.0, 0.5], epochs=7, patience=3)
    assert snapshots.epochs == [1, 2, 3, 4, 5]  # epoch 2 is the best, 3-5 are stale
    assert len(history["val_loss"]) == 5
    assert same_weights(module.state_dict(), snapshots.states[1])


def test_an_improvement_resets_patience():
    _, history, _ = fit([5.0, 6.0, 4.0, 6.0, 6.0, 6.0], epochs=6, patience=2)
    assert len(history["val_loss"]) == 5


def test_patience_0_trains_every_epoch():
    _, history, _ = fit([1.0] * 5, epochs=5, patience=0)
    assert len(history["val_loss"]) == 5


def test_max_minutes_stops_after_the_epoch_that_crosses_the_budget():
    _, history, snapshots = fit(epochs=5, patience=0, max_minutes=1e-6)
    assert snapshots.epochs == [1]
    assert len(history["val_loss"]) == 1


def test_a_budget_not_reached_trains_every_epoch():
    _, history, _ = fit(epochs=3, patience=0, max_minutes=60.0)
    assert len(history["val_loss"]) == 3


def reference_one_cycle(max_lr: float, total_steps: int) -> list[float]:
    """The learning rate of each step under torch's OneCycleLR."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=total_steps)
    rates = []
    for _ in range(total_steps):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


def test_onecycle_warms_up_then_anneals_step_by_step(monkeypatch):
    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    monkeypatch.setattr(RecordingAdam, "rates", [])
    fit(epochs=3, patience=0, samples=36, lr_schedule="onecycle", learning_rate=0.02)  # 5 steps an epoch
    rates = RecordingAdam.rates
    assert rates == pytest.approx(reference_one_cycle(0.02, 15))
    peak = rates.index(max(rates))
    assert 0 < peak < 14 and 0.019 < max(rates) <= 0.02
    assert all(a < b for a, b in zip(rates[:peak], rates[1 : peak + 1]))  # warm-up
    assert all(a > b for a, b in zip(rates[peak:], rates[peak + 1 :]))  # annealing
    assert rates[0] == pytest.approx(0.02 / 25) and rates[-1] < rates[0] / 100


def test_constant_schedule_keeps_the_learning_rate(monkeypatch):
    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    monkeypatch.setattr(RecordingAdam, "rates", [])
    fit(epochs=2, patience=0, samples=36, learning_rate=0.02)
    assert RecordingAdam.rates == [0.02] * 10


def test_onecycle_steps_of_an_early_stopped_run_follow_the_full_schedule(monkeypatch):
    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    monkeypatch.setattr(RecordingAdam, "rates", [])
    fit([1.0, 2.0, 2.0], epochs=4, patience=2, samples=36, lr_schedule="onecycle", learning_rate=0.02)
    assert RecordingAdam.rates == pytest.approx(reference_one_cycle(0.02, 20)[:15])


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_follows_native_bfloat16(monkeypatch, caplog, native):
    monkeypatch.setattr(training, "native_bfloat16", lambda device: native)
    caplog.set_level(logging.INFO, logger="textrec")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert autocast_dtype("auto", torch.device("cpu")) == (torch.bfloat16 if native else None)
    assert f"precision auto: {'bfloat16' if native else 'float32'}" in caplog.text


def test_auto_precision_on_this_machines_cpu():
    cpu = torch.device("cpu")
    assert autocast_dtype("auto", cpu) == (torch.bfloat16 if native_bfloat16(cpu) else None)


def test_explicit_bfloat16_without_native_support_warns_and_is_honoured(monkeypatch):
    monkeypatch.setattr(training, "native_bfloat16", lambda device: False)
    with pytest.warns(RuntimeWarning, match="emulated.*use precision auto or float32"):
        assert autocast_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16


def test_explicit_bfloat16_with_native_support_and_float32_do_not_warn(monkeypatch):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monkeypatch.setattr(training, "native_bfloat16", lambda device: True)
        assert autocast_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16
        for native in (True, False):
            monkeypatch.setattr(training, "native_bfloat16", lambda device, native=native: native)
            assert autocast_dtype("float32", torch.device("cpu")) is None


def test_only_cuda_and_cpu_can_be_native():
    assert native_bfloat16(torch.device("meta")) is False


@pytest.mark.parametrize(("precision", "expected"), [("float32", None), ("bfloat16", torch.bfloat16)])
def test_the_trainer_autocasts_the_training_step_only(monkeypatch, precision, expected):
    monkeypatch.setattr(training, "native_bfloat16", lambda device: True)
    seen: dict[str, object] = {}
    module = torch.nn.Linear(4, 1)
    split = TensorSplit(torch.zeros((8, 2, 2), dtype=torch.uint8), torch.zeros(8))

    def training_loss(images: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        enabled = torch.is_autocast_enabled("cpu")
        seen["train"] = torch.get_autocast_dtype("cpu") if enabled else None
        return module(images.flatten(1)).float().pow(2).mean()

    def evaluate(val) -> dict[str, float]:
        seen["eval"] = torch.is_autocast_enabled("cpu")
        return {"loss": 1.0}

    args = TrainArgs(epochs=1, batch_size=8, precision=precision)
    Trainer(args, device=torch.device("cpu"), progress=False).fit(module, training_loss, split, split, evaluate)
    assert seen == {"train": expected, "eval": False}
