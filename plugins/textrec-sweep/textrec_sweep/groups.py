"""An experiment group: several configs run side by side as one sweep (the labs' experiment groups).

``experiments.json``::

    {"metric": {"name": "val_cer", "goal": "minimize"},
     "experiments": [{"dataset": ..., "network": ...}, "configs/lstm.json", ...]}

Each experiment is a config object, or the path of a ``.json`` / ``.yaml`` config relative to the
file. A bare list of experiments is a group compared by ``val_loss``, minimised. The group runs as
a grid sweep over one parameter, ``experiment``, whose values name the experiments (their position
and their file's name, or their model and network), so workers, the study, the results table and
continuing after an interruption all work as for any sweep.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import optuna

from textrec_core.errors import ConfigError
from textrec_sweep.spec import GOALS, Sweep, read_text

EXPERIMENT = "experiment"
DEFAULT_METRIC = {"name": "val_loss", "goal": "minimize"}


def read_group(path: Path) -> Sweep:
    """The experiment group in the JSON file at ``path`` as a grid :class:`Sweep`; :class:`ConfigError`
    naming the key when it is not one."""
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise ConfigError("SWEEP", f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}") from None
    if isinstance(data, list):
        data = {"experiments": data}
    if not isinstance(data, dict) or set(data) - {"metric", "experiments"}:
        raise ConfigError("SWEEP", "an experiment group is a list of configs, or {\"metric\": ..., \"experiments\": "
                                   "[...]}")
    metric = data.get("metric", DEFAULT_METRIC)
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str) or metric.get(
            "goal", "minimize") not in GOALS:
        raise ConfigError("metric", f"must be {{\"name\": ..., \"goal\": \"minimize\" | \"maximize\"}}, got {metric!r}")
    experiments = data.get("experiments")
    if not isinstance(experiments, list) or not experiments:
        raise ConfigError("experiments", "must list one or more configs (objects or config files)")
    sources = {_name(index, item): _source(index, item, Path(path).parent) for index, item in enumerate(experiments)}
    return Sweep("grid", metric["name"], metric.get("goal", "minimize"),
                 {EXPERIMENT: optuna.distributions.CategoricalDistribution(list(sources))},
                 next(iter(sources.values())), experiments=sources)


def _source(index: int, item: Any, folder: Path) -> str:
    if isinstance(item, dict):
        return json.dumps(item)
    if isinstance(item, str):
        return str(folder / item)
    raise ConfigError(f"experiments.{index}", f"must be a config object or a config file, got {item!r}")


def _name(index: int, item: Any) -> str:
    if isinstance(item, dict):
        return f"{index}: {item.get('model', '?')} + {item.get('network', '?')}"
    return f"{index}: {Path(str(item)).stem}"
