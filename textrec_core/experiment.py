"""One experiment end to end: resolve components, train, evaluate, report, save."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs
import torch

from textrec_core.components import Components
from textrec_core.config import ExperimentConfig, parse_config, resolve_args, unstructure_config
from textrec_core.errors import TextrecError
from textrec_core.plugins import components, load_errors
from textrec_core.reports import RunFolder
from textrec_core.tracking import WandbTracker, wandb_mode
from textrec_core.training import seed_everything

log = logging.getLogger("textrec")


@attrs.define
class Resolved:
    """An experiment's factories with fully resolved (defaults filled) arguments."""

    config: ExperimentConfig
    dataset: Any
    model: Any
    network: Any
    dataset_args: dict[str, Any]
    model_args: dict[str, Any]
    network_args: dict[str, Any]
    augmenters: list[tuple[Any, dict[str, Any]]]

    def as_dict(self) -> dict[str, Any]:
        data = unstructure_config(self.config)
        data.update(dataset_args=self.dataset_args, model_args=self.model_args, network_args=self.network_args)
        return data


def resolve(config: ExperimentConfig, table: Components) -> Resolved:
    """Look up every component and check its arguments (raises ConfigError / UnknownComponentError)."""
    dataset = table.get("dataset", config.dataset)
    model = table.get("model", config.model)
    network = table.get("network", config.network)
    augmenters = []
    for i, spec in enumerate(config.augmenters):
        factory = table.get("augmenter", spec.name)
        augmenters.append((factory, resolve_args(factory, spec.args, path=f"augmenters.{i}.args", name=spec.name)))
    return Resolved(
        config, dataset, model, network,
        resolve_args(dataset, config.dataset_args, path="dataset_args", name=config.dataset),
        resolve_args(model, config.model_args, path="model_args", name=config.model, skip=2),
        resolve_args(network, config.network_args, path="network_args", name=config.network, skip=1),
        augmenters,
    )


def select_device(gpu: int | None) -> torch.device:
    if gpu is None:
        return torch.device("cuda:0" if torch.cuda.is_available() else "cpu")
    if gpu < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available() or gpu >= torch.cuda.device_count():
        raise TextrecError(
            f"--gpu {gpu}: no such CUDA device ({torch.cuda.device_count()} available); use --gpu -1 for the CPU"
        )
    return torch.device(f"cuda:{gpu}")


def run_experiment(
    config_source: str, *, save: bool = False, gpu: int | None = None, use_wandb: bool = True, progress: bool = True
) -> dict[str, Any]:
    """Train and evaluate the experiment ``config_source`` describes; return a summary dict
    with ``run_dir``, ``test`` metrics and (with ``save``) ``bundle``."""
    config = parse_config(config_source)
    for error in load_errors():
        log.warning("warning: %s", error)
    resolved = resolve(config, components())
    device = select_device(gpu)
    train_args = config.train_args
    if train_args.num_threads:
        torch.set_num_threads(train_args.num_threads)
    seed_everything(train_args.seed)

    dataset = resolved.dataset(**resolved.dataset_args)
    dataset.prepare()
    network = resolved.network(dataset.shapes, **resolved.network_args)
    model = resolved.model(dataset, network, **resolved.model_args).to(device)
    augmenters = [factory(**args) for factory, args in resolved.augmenters]

    run = RunFolder(config.dataset, config.network)
    handler = logging.FileHandler(run.log_file, encoding="utf-8")
    log.addHandler(handler)
    try:
        return _train(run, resolved, dataset, model, augmenters, save=save, use_wandb=use_wandb, progress=progress)
    finally:
        log.removeHandler(handler)
        handler.close()


def _train(run: RunFolder, resolved: Resolved, dataset: Any, model: Any, augmenters: list[Any], *,
           save: bool, use_wandb: bool, progress: bool) -> dict[str, Any]:
    config_dict = resolved.as_dict()
    run.write_config(config_dict)
    lazy = torch.nn.parameter.UninitializedParameter
    params = sum(p.numel() for p in model.network.parameters() if not isinstance(p, lazy))
    log.info("run folder: %s", run.path)
    log.info("%s + %s (%s parameters) on %s: %d train / %d val / %d test samples",
             resolved.config.model, resolved.config.network, f"{params:,}", model.device,
             len(dataset.train), len(dataset.val), len(dataset.test))
    mode = wandb_mode(disabled=not use_wandb)
    tracker = None if mode == "disabled" else WandbTracker(config_dict, run.path, mode, run.path.name)
    callbacks = [run] + ([tracker] if tracker else [])
    model.fit(resolved.config.train_args, callbacks=callbacks, augmenters=augmenters, progress=progress)

    test = model.evaluate(dataset.test)
    run.write_test_metrics(test)
    run.plot_training_curves()
    model.write_report(dataset.test, run.path)
    summary: dict[str, Any] = {"run_dir": run.path, "test": test}
    log.info("test metrics: %s", "  ".join(f"{k} {v:.4f}" for k, v in test.items()))
    if tracker:
        tracker.log_predictions(model.sample_predictions(dataset.test))
        sync = tracker.finish(test)
        if sync:
            log.info("W&B run saved offline; upload it with: %s", sync)
    if save:
        bundle = model.save(
            Path(run.path) / "model", network=resolved.config.network, network_args=resolved.network_args,
            config=config_dict, metrics=test,
        )
        summary["bundle"] = bundle
        print(f"saved model bundle: {bundle}")
    print(f"run folder: {run.path}")
    print("test " + "  ".join(f"{k}={v:.4f}" for k, v in test.items()))
    return summary
