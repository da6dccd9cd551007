"""One experiment end to end: resolve and build components (every argument checked before any
work), prepare the data, train, evaluate, report, save."""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import attrs
import torch

from textrec_core import distributed
from textrec_core.bundle import Bundle
from textrec_core.checkpoint import CHECKPOINT_FILE, load_checkpoint
from textrec_core.components import Components
from textrec_core.config import (
    ExperimentConfig,
    read_config,
    resolve_args,
    structure_config,
    unstructure_config,
    with_train_defaults,
)
from textrec_core.errors import ArgumentError, ConfigError, TextrecError
from textrec_core.finetune import Start, inherit_network_args, open_bundle, start_from
from textrec_core.plugins import components, load_errors
from textrec_core.protocols import Augmenter, Dataset, Model
from textrec_core.reports import CONFIG_FILE, RunFolder
from textrec_core.services.drift import reference_statistics, statistics_to_json
from textrec_core.tracking import WandbTracker, wandb_mode
from textrec_core.training import Callback, seed_everything

log = logging.getLogger("textrec")

#: Modules training needs beyond a serving install: the ``train`` extra of textrec-core.
TRAIN_EXTRA = ("matplotlib", "wandb")


@attrs.define
class Resolved:
    """An experiment's factories, their canonical names and fully resolved (defaults filled)
    arguments; ``init_from``: the checked bundle the network starts from (None: fresh weights)."""

    config: ExperimentConfig
    names: dict[str, str]
    dataset: Any
    model: Any
    network: Any
    dataset_args: dict[str, Any]
    model_args: dict[str, Any]
    network_args: dict[str, Any]
    augmenters: list[tuple[Any, dict[str, Any]]]
    init_from: Bundle | None = None

    def as_dict(self) -> dict[str, Any]:
        data = unstructure_config(self.config)
        data.update(dataset_args=self.dataset_args, model_args=self.model_args, network_args=self.network_args)
        return data


@attrs.define
class Built:
    """An experiment's components, constructed and checked; the dataset is not prepared yet.
    ``start`` says where the network's weights came from when it started from a bundle."""

    resolved: Resolved
    dataset: Dataset
    model: Model
    augmenters: list[Augmenter]
    start: Start | None = None


def resolve(config: ExperimentConfig, table: Components, *, resumed: bool = False) -> Resolved:
    """Look up every component and check its arguments (raises ConfigError / UnknownComponentError).

    With ``train_args.init_from``, the bundle is opened and checked against the config and the
    ``network_args`` the config leaves out are the bundle's (:mod:`textrec_core.finetune`); a
    ``resumed`` run, whose weights come from its checkpoint (and whose recorded config holds every
    network argument), does not read the bundle."""
    entries = {kind: table[kind].get(getattr(config, kind)) for kind in ("dataset", "model", "network")}
    augmenters = []
    for i, spec in enumerate(config.augmenters):
        factory = table.get("augmenter", spec.name)
        augmenters.append((factory, resolve_args(factory, spec.args, path=f"augmenters.{i}.args", name=spec.name)))
    dataset, model, network = (entries[kind].obj for kind in ("dataset", "model", "network"))
    network_args = resolve_args(network, config.network_args, path="network_args", name=config.network, skip=1)
    init_from = None
    if config.train_args.init_from is not None and not resumed:
        init_from = open_bundle(config.train_args.init_from, entries["network"].name)
        network_args = inherit_network_args(init_from, network, config.network,
                                            {key: network_args[key] for key in config.network_args})
    return Resolved(
        config, {kind: entry.name for kind, entry in entries.items()}, dataset, model, network,
        resolve_args(dataset, config.dataset_args, path="dataset_args", name=config.dataset),
        resolve_args(model, config.model_args, path="model_args", name=config.model, skip=2),
        network_args, augmenters, init_from,
    )


def construct(path: str, factory: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """``factory(*args, **kwargs)``, its argument errors reported as :class:`ConfigError` under
    ``path``: ``ArgumentError`` at ``path.<argument>``, any other ``ValueError`` at ``path``."""
    try:
        return factory(*args, **kwargs)
    except ArgumentError as exc:
        raise ConfigError(f"{path}.{exc.argument}", exc.problem) from None
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(path, str(exc)) from None


def build(resolved: Resolved) -> Built:
    """Construct the dataset, network, model and augmenters from ``dataset.shapes``, without
    reading any data: every bad argument is a :class:`ConfigError` before any work. A network
    starting from a bundle (``resolved.init_from``) gets its weights, remapped to the dataset's
    alphabet (:func:`~textrec_core.finetune.start_from`)."""
    dataset = construct("dataset_args", resolved.dataset, **resolved.dataset_args)
    shapes = construct("dataset_args", lambda: dataset.shapes)
    network = construct("network_args", resolved.network, shapes, **resolved.network_args)
    start = start_from(network, resolved.init_from, shapes) if resolved.init_from is not None else None
    model = construct("model_args", resolved.model, dataset, network, **resolved.model_args)
    augmenters = [construct(f"augmenters.{i}.args", factory, **args)
                  for i, (factory, args) in enumerate(resolved.augmenters)]
    return Built(resolved, dataset, model, augmenters, start)


def dataset_version(dataset: Dataset) -> str | None:
    """The prepared ``dataset``'s optional ``version`` (see :class:`~textrec_core.protocols.Dataset`),
    None when it has none; ``TypeError`` for a version that is neither a string nor None."""
    version = getattr(dataset, "version", None)
    if version is not None and not isinstance(version, str):
        raise TypeError(f"{type(dataset).__name__}.version must be a string or None, got "
                        f"{type(version).__name__} ({version!r})")
    return version


def load_config(config_source: str, table: Components) -> ExperimentConfig:
    """Read and validate ``config_source``; the ``train_args`` it leaves out come from its
    network's recipe (``train_defaults`` at registration), then from :class:`~textrec_core.config.TrainArgs`."""
    data = read_config(config_source)
    name = data.get("network") if isinstance(data, dict) else None
    network = table["network"].get(name) if isinstance(name, str) and name in table["network"] else None
    return structure_config(with_train_defaults(data, network.train_defaults if network is not None else {}))


def check_experiment(config_source: str, table: Components | None = None) -> Built:
    """Parse, resolve and build the experiment ``config_source`` describes, doing no work on data."""
    table = table if table is not None else components()
    return build(resolve(load_config(config_source, table), table))


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


def _require_train_extra() -> None:
    missing = [name for name in TRAIN_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        raise TextrecError(f"training needs {', '.join(missing)}, which this install lacks: "
                           "pip install -c constraints.txt 'textrec-core[train]'")


def run_experiment(
    config_source: str | None, *, save: bool = False, gpu: int | None = None, use_wandb: bool = True,
    progress: bool = True, resume: Path | None = None, callbacks: Sequence[Callback] = (),
    runs_dir: Path | None = None,
) -> dict[str, Any]:
    """Train and evaluate the experiment ``config_source`` describes; return a summary dict
    with ``run_dir``, ``test`` metrics and (with ``save``) ``bundle``.

    ``resume`` (a run folder; then ``config_source`` is None) continues that run from its
    checkpoint with the config it recorded, in the same folder. ``callbacks`` hear every epoch's
    metrics too (an exception from one ends the run); ``runs_dir`` replaces ``$TEXTREC_RUNS_DIR``.
    Every argument is checked, the checkpoint read, and every component built, before the data is
    prepared."""
    _require_train_extra()
    for error in load_errors():
        log.warning("warning: %s", error)
    table = components()
    checkpoint = None
    if resume is not None:
        config_source, checkpoint = resumed_run(resume)
    config = load_config(config_source, table)
    where = distributed.place()
    device = select_device(gpu)
    if where is not None and device.type == "cuda":
        device = torch.device(f"cuda:{where.local_rank}")
    train_args = config.train_args
    if train_args.num_threads:
        torch.set_num_threads(train_args.num_threads)
    elif where is not None and device.type == "cpu":  # the processes share this machine's cores
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0)) // where.world))
    if where is not None:
        distributed.start(where, device)
    try:
        return _run_built(config, table, device, where, checkpoint, save=save, use_wandb=use_wandb,
                          progress=progress, resume=resume, callbacks=callbacks, runs_dir=runs_dir)
    finally:
        distributed.stop()


def _run_built(config: ExperimentConfig, table: Components, device: torch.device, where: distributed.Place | None,
               checkpoint: dict[str, Any] | None, *, save: bool, use_wandb: bool, progress: bool,
               resume: Path | None, callbacks: Sequence[Callback], runs_dir: Path | None) -> dict[str, Any]:
    """Build, prepare and train the loaded ``config``; ranks other than 0 only train alongside rank 0."""
    train_args = config.train_args
    seed_everything(train_args.seed)
    built = build(resolve(config, table, resumed=resume is not None))
    try:
        built.dataset.prepare()
    except ArgumentError as exc:
        raise ConfigError(f"dataset_args.{exc.argument}", exc.problem) from None
    built.model.to(device)
    if where is not None and not where.main:
        built.model.fit(train_args, augmenters=built.augmenters, progress=False,
                        **({"resume": checkpoint} if takes_checkpoints(built.model) else {}))
        return {}
    recipe = table["network"].get(config.network).train_defaults
    log.info("train_args: %s%s", "  ".join(f"{k} {v}" for k, v in attrs.asdict(train_args).items()),
             f" (from {built.resolved.names['network']}'s recipe where the config sets none: "
             f"{', '.join(recipe)})" if recipe else "")

    version = dataset_version(built.dataset)
    if resume is not None:
        run = RunFolder.reopen(resume, checkpoint["progress"]["history"])
        started = run.read_provenance() or {"dataset_version": version, "init_from": None}
    else:
        run = RunFolder(config.dataset, config.network, runs_dir)
        run.write_config(built.resolved.as_dict())
        started = {"dataset_version": version, "init_from": built.start.record() if built.start else None}
        run.write_provenance(**started)
    handler = logging.FileHandler(run.log_file, encoding="utf-8")
    log.addHandler(handler)
    try:
        if version != started["dataset_version"]:
            log.warning("warning: the dataset is version %s now, but the run started on %s; the bundle records "
                        "the version it is tested on now", version, started["dataset_version"])
        return _train(run, built, device, save=save, use_wandb=use_wandb, progress=progress, resume=checkpoint,
                      callbacks=callbacks, init_from=started["init_from"], dataset_version=version)
    finally:
        log.removeHandler(handler)
        handler.close()


def resumed_run(run_dir: Path) -> tuple[str, dict[str, Any]]:
    """The recorded config's path and the checkpoint of the run folder ``run_dir``;
    :class:`ConfigError` (at ``--resume``) when it is no run folder with both."""
    config = Path(run_dir) / CONFIG_FILE
    if not config.is_file():
        raise ConfigError("--resume", f"{str(run_dir)!r} is not a run folder (no {CONFIG_FILE})")
    try:
        return str(config), load_checkpoint(Path(run_dir) / CHECKPOINT_FILE)
    except TextrecError as exc:
        raise ConfigError("--resume", str(exc)) from None


def takes_checkpoints(model: Model) -> bool:
    """Whether ``model.fit`` takes the protocol's optional ``checkpoint`` and ``resume`` keywords
    (every :class:`~textrec_core.model.TorchModel` does; a model written to the protocol may not,
    and then trains without checkpoints)."""
    parameters = inspect.signature(model.fit).parameters
    return {"checkpoint", "resume"} <= parameters.keys() or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def sample_predictions(model: Model, split: Any, count: int = 32) -> list[dict[str, Any]]:
    """The first ``count`` samples of ``split`` with truth, prediction and confidence."""
    images, labels = next(iter(split.batches(count)))
    return [{"image": image.numpy(), "truth": truth, "pred": text, "conf": conf}
            for image, truth, (text, conf) in zip(images, model.label_text(labels), model.predict(images))]


def _train(run: RunFolder, built: Built, device: torch.device, *, save: bool, use_wandb: bool,
           progress: bool, resume: dict[str, Any] | None, callbacks: Sequence[Callback],
           init_from: dict[str, str] | None, dataset_version: str | None) -> dict[str, Any]:
    resolved, dataset, model = built.resolved, built.dataset, built.model
    config_dict = resolved.as_dict()
    lazy = torch.nn.parameter.UninitializedParameter
    params = sum(p.numel() for p in model.network.parameters() if not isinstance(p, lazy))
    log.info("run folder: %s", run.path)
    log.info("%s + %s (%s parameters) on %s: %d train / %d val / %d test samples",
             resolved.names["model"], resolved.names["network"], f"{params:,}",
             device, len(dataset.train), len(dataset.val), len(dataset.test))
    if built.start is not None:
        log.info("%s", built.start)
    mode = wandb_mode(disabled=not use_wandb)
    name = run.path.name + ("-resumed" if resume is not None else "")
    tracker = None if mode == "disabled" else WandbTracker(config_dict, run.path, mode, name)
    callbacks = [run, *([tracker] if tracker else []), *callbacks]
    checkpoints = takes_checkpoints(model)
    if resume is not None and not checkpoints:
        raise ConfigError("--resume", f"{type(model).__name__}.fit takes no checkpoint: its runs cannot be resumed")
    model.fit(resolved.config.train_args, callbacks=callbacks, augmenters=built.augmenters, progress=progress,
              **({"checkpoint": run.checkpoint, "resume": resume} if checkpoints else {}))

    test = model.evaluate(dataset.test)
    run.write_test_metrics(test)
    run.plot_training_curves()
    model.write_report(dataset.test, run.path)
    summary: dict[str, Any] = {"run_dir": run.path, "test": test}
    log.info("test metrics: %s", "  ".join(f"{k} {v:.4f}" for k, v in test.items()))
    if tracker:
        tracker.log_predictions(sample_predictions(model, dataset.test))
        sync = tracker.finish(test)
        if sync:
            log.info("W&B run saved offline; upload it with: %s", sync)
    if save:
        statistics = reference_statistics(dataset.train, dataset.val, model)
        log.info("reference statistics for drift: %s", "  ".join(
            f"{name} ({histogram.count} {histogram.split} images)" for name, histogram in statistics.items()))
        bundle = model.save(
            Path(run.path) / "model", model=resolved.names["model"], network=resolved.names["network"],
            network_args=resolved.network_args, model_args=resolved.model_args, config=config_dict, metrics=test,
            dataset_version=dataset_version, init_from=init_from, reference_statistics=statistics_to_json(statistics),
        )
        summary["bundle"] = bundle
        print(f"saved model bundle: {bundle}")
    print(f"run folder: {run.path}")
    print("test " + "  ".join(f"{k}={v:.4f}" for k, v in test.items()))
    return summary
