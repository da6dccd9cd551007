"""A sweep as an Optuna study: its sampler, pruner and storage, and one worker's trials.

The study lives in a database: ``sqlite:///<sweep folder>/study.db`` by default, or any URL
Optuna's RDB storage takes, shared by workers on several machines. Trials beat a heartbeat into
it; a trial whose worker died (killed, crashed) misses its beats, is marked failed when another
worker next starts a trial, and is tried once more with the same parameters
(:class:`optuna.storages.RetryHeartbeatStaleTrialCallback`), so a killed worker loses no trial and a
finished trial never runs again.

Each trial is one ``textrec-run`` of the base config with the trial's parameters set, in this
worker's process (its run folder under ``<sweep folder>/runs``), on ``threads`` torch threads;
after every epoch it reports the sweep's metric (a validation metric: the test split is never
the objective), and hyperband may stop it there. Its value is the best epoch's metric.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna

from textrec_core.config import with_overrides
from textrec_core.errors import ConfigError
from textrec_core.experiment import run_experiment
from textrec_sweep.groups import EXPERIMENT
from textrec_sweep.spec import Sweep

log = logging.getLogger("textrec")

STUDY_FILE = "study.db"
RUNS_DIR = "runs"
#: Seconds after which a running trial that has not beaten its heartbeat counts as dead; it beats
#: three times as often.
GRACE_S = 30
#: The attribute of a trial holding its run folder.
RUN_DIR_ATTR = "run_dir"


@contextlib.contextmanager
def heartbeat_api() -> Iterator[None]:
    """Optuna's heartbeat API, without its warning that the API is experimental: it is what makes
    workers safe to kill."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        yield


def storage_url(folder: Path, url: str | None) -> str:
    """``url``, or the default SQLite database in the sweep ``folder``."""
    return url if url is not None else f"sqlite:///{(Path(folder) / STUDY_FILE).resolve()}"


def open_study(sweep: Sweep, name: str, url: str, *, epochs: int, seed: int | None = None,
               grace: int = GRACE_S) -> optuna.Study:
    """The study ``name`` in the database at ``url``, created on first use with the sweep's sampler
    (grid, random, or TPE for ``bayes``) and pruner (hyperband up to ``epochs``, or none); a
    running trial silent for ``grace`` seconds counts as dead."""
    with heartbeat_api():
        storage = optuna.storages.RDBStorage(
            url, heartbeat_interval=max(1, grace // 3), grace_period=grace,
            heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1))
    if sweep.method == "grid":
        sampler: optuna.samplers.BaseSampler = optuna.samplers.GridSampler(sweep.grid, seed=seed)
    elif sweep.method == "random":
        sampler = optuna.samplers.RandomSampler(seed=seed)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    pruner: optuna.pruners.BasePruner = optuna.pruners.NopPruner()
    if sweep.hyperband is not None:
        pruner = optuna.pruners.HyperbandPruner(min_resource=sweep.hyperband.min_iter, max_resource=epochs,
                                                reduction_factor=sweep.hyperband.eta)
    return optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                               direction=sweep.goal, load_if_exists=True)


def suggest(trial: optuna.Trial, name: str, dist: optuna.distributions.BaseDistribution) -> Any:
    """The trial's value of parameter ``name`` drawn from ``dist``."""
    if isinstance(dist, optuna.distributions.CategoricalDistribution):
        return trial.suggest_categorical(name, dist.choices)
    if isinstance(dist, optuna.distributions.IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, log=dist.log)
    return trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)


class ReportEpochs:
    """The trial's epoch callback: reports the metric and stops a trial the pruner gives up on."""

    def __init__(self, trial: optuna.Trial, metric: str, goal: str) -> None:
        self.trial, self.metric, self.goal = trial, metric, goal
        self.values: list[float] = []

    def on_epoch_end(self, epoch: int, metrics: dict[str, float]) -> None:
        if self.metric not in metrics:
            raise ConfigError("metric.name", f"the runs report no {self.metric!r}; their epochs report "
                                             f"{', '.join(sorted(metrics))}")
        self.values.append(metrics[self.metric])
        self.trial.report(metrics[self.metric], epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"stopped by hyperband after epoch {epoch}")

    def best(self) -> float:
        return min(self.values) if self.goal == "minimize" else max(self.values)


def trial_config(sweep: Sweep, params: dict[str, Any], threads: int | None) -> str:
    """The base config with the trial's parameters set, or the group's experiment the trial names;
    with ``train_args.num_threads`` set to ``threads``."""
    threaded = [f"train_args.num_threads={threads}"] if threads is not None else []
    if sweep.experiments is not None:
        return with_overrides(sweep.experiments[params[EXPERIMENT]], threaded)
    return with_overrides(sweep.base, [f"{name}={json.dumps(value)}" for name, value in params.items()] + threaded)


def objective(sweep: Sweep, folder: Path, *, threads: int | None, use_wandb: bool):
    """The function Optuna calls with each trial: train, report each epoch, return the best metric."""

    def run(trial: optuna.Trial) -> float:
        params = {name: suggest(trial, name, dist) for name, dist in sweep.parameters.items()}
        reporter = ReportEpochs(trial, sweep.metric, sweep.goal)
        runs = Path(folder) / RUNS_DIR / f"trial-{trial.number}"
        trial.set_user_attr(RUN_DIR_ATTR, str(runs))
        log.info("trial %d: %s", trial.number, json.dumps(params))
        run_experiment(trial_config(sweep, params, threads), use_wandb=use_wandb, progress=False,
                       callbacks=[reporter], runs_dir=runs)
        return reporter.best()

    return run


def work(study: optuna.Study, sweep: Sweep, folder: Path, *, trials: int, threads: int | None,
         use_wandb: bool, poll: float = 1.0) -> None:
    """Run trials until the study holds ``trials`` finished ones (complete or pruned; failed ones are
    replaced). A worker starts a trial only while finished and running trials are fewer than
    ``trials``, runs a dead worker's trial first when it is retried, and, when the rest are
    running elsewhere, waits until they finish (in case their worker dies) before it exits. A
    config error ends the worker; a trial's other failure is recorded and the worker goes on."""
    run = objective(sweep, folder, threads=threads, use_wandb=use_wandb)
    state = optuna.trial.TrialState
    while True:
        with heartbeat_api():
            optuna.storages.fail_stale_trials(study)
        counts = Counter(trial.state for trial in study.get_trials(deepcopy=False))
        finished = counts[state.COMPLETE] + counts[state.PRUNED]
        if finished >= trials:
            return
        if finished + counts[state.RUNNING] >= trials and not counts[state.WAITING]:
            time.sleep(poll)
            continue
        study.optimize(run, n_trials=1, catch=(RuntimeError,), gc_after_trial=True)


def grid_size(sweep: Sweep) -> int:
    """How many points a grid sweep has."""
    return math.prod(len(values) for values in sweep.grid.values())
