"""A sweep file in W&B's sweep format, read and checked, and its parameters as Optuna distributions.

The keys read (https://docs.wandb.ai/guides/sweeps/define-sweep-configuration)::

    method: grid | random | bayes
    metric: {name: val_cer, goal: minimize | maximize}
    parameters:
      network_args.lstm_size: {values: [128, 192]}          # categorical (grid: these values)
      train_args.learning_rate: {distribution: log_uniform_values, min: 0.0003, max: 0.003}
      train_args.batch_size: {value: 64}                     # fixed
    early_terminate: {type: hyperband, min_iter: 2, eta: 3}  # optional
    run_cap: 8                                               # optional: trials at most
    command:                                                 # a block list: ${...} ends a YAML flow list
      - ${env}
      - textrec-run
      - --nowandb
      - base.json
      - ${args_no_hyphens}

Parameter names are dotted paths into the experiment config (``textrec-run``'s ``PATH=VALUE``
overrides). The base config is the ``textrec-run`` argument of ``command`` that is neither an
option nor a W&B macro (a ``.json`` / ``.yaml`` file, relative to the sweep file, or a JSON
object), so one file serves ``wandb sweep`` + ``wandb agent`` and ``textrec-sweep`` alike.
Distributions: ``value``, ``values``, and ``distribution`` ``constant``, ``categorical``,
``uniform``, ``int_uniform``, ``q_uniform`` (``q``), ``log_uniform_values`` (bounds are values)
and ``log_uniform`` (bounds are natural logarithms); ``min`` and ``max`` alone mean
``int_uniform`` for two integers and ``uniform`` otherwise, as in W&B. Other W&B keys (``name``,
``description``, ``project``, ``entity``, ``program``) are accepted and not used.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import attrs
import optuna
import yaml

from textrec_core.errors import ConfigError

METHODS = ("grid", "random", "bayes")
GOALS = ("minimize", "maximize")
KNOWN_KEYS = {"method", "metric", "parameters", "early_terminate", "run_cap", "command", "program", "name",
              "description", "project", "entity"}
DISTRIBUTIONS = ("constant", "categorical", "uniform", "int_uniform", "q_uniform", "log_uniform_values",
                 "log_uniform")
PROGRAM = "textrec-run"


@attrs.frozen
class Hyperband:
    """W&B's hyperband early termination: brackets from ``min_iter`` epochs, reduction factor ``eta``."""

    min_iter: int
    eta: int = 3


@attrs.frozen
class Sweep:
    """A checked sweep: how trials are drawn, what they optimise, over which parameters of which
    base config (:mod:`textrec_sweep.spec`), or which of a group's configs (:mod:`textrec_sweep.groups`)."""

    method: str
    metric: str
    goal: str
    parameters: dict[str, optuna.distributions.BaseDistribution]
    base: str
    hyperband: Hyperband | None = None
    run_cap: int | None = None
    #: An experiment group's configs by name (:mod:`textrec_sweep.groups`): each trial runs one.
    experiments: dict[str, str] | None = None

    @property
    def grid(self) -> dict[str, list[Any]]:
        """The grid's values per parameter (``method: grid``)."""
        return {name: list(dist.choices) for name, dist in self.parameters.items()}


def read_sweep(path: Path, base: str | None = None) -> Sweep:
    """Read and check the sweep file at ``path``; ``base`` replaces the base config its ``command`` names.
    :class:`ConfigError` naming the key for anything that is not a sweep textrec can run."""
    try:
        data = yaml.safe_load(read_text(path))
    except yaml.YAMLError as exc:
        raise ConfigError("SWEEP", f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError("SWEEP", f"a sweep file holds a mapping, got {type(data).__name__}")
    unknown = sorted(set(data) - KNOWN_KEYS)
    if unknown:
        raise ConfigError(unknown[0], f"unknown key of a sweep file; known: {', '.join(sorted(KNOWN_KEYS))}")
    method = data.get("method")
    if method not in METHODS:
        raise ConfigError("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    metric = data.get("metric")
    if not isinstance(metric, dict) or not isinstance(metric.get("name"), str):
        raise ConfigError("metric", f"must be {{name: ..., goal: minimize|maximize}}, got {metric!r}")
    goal = metric.get("goal", "minimize")
    if goal not in GOALS:
        raise ConfigError("metric.goal", f"must be one of {', '.join(GOALS)}, got {goal!r}")
    raw = data.get("parameters")
    if not isinstance(raw, dict) or not raw:
        raise ConfigError("parameters", "must map one or more dotted config paths to their values")
    parameters = {str(name): distribution(str(name), spec) for name, spec in raw.items()}
    if method == "grid":
        loose = [name for name, dist in parameters.items()
                 if not isinstance(dist, optuna.distributions.CategoricalDistribution)]
        if loose:
            raise ConfigError(f"parameters.{loose[0]}", "a grid sweep needs value or values for every parameter")
    run_cap = data.get("run_cap")
    if run_cap is not None and (isinstance(run_cap, bool) or not isinstance(run_cap, int) or run_cap < 1):
        raise ConfigError("run_cap", f"must be a positive integer, got {run_cap!r}")
    return Sweep(method, metric["name"], goal, parameters, base if base is not None else base_config(data, path),
                 hyperband(data.get("early_terminate")), run_cap)


def read_text(path: Path) -> str:
    """The text of the sweep file at ``path``; :class:`ConfigError` (at ``SWEEP``) when it cannot be read."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("SWEEP", f"cannot read {str(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None


def distribution(name: str, spec: Any) -> optuna.distributions.BaseDistribution:
    """The Optuna distribution of one W&B parameter spec; :class:`ConfigError` at ``parameters.<name>``."""
    where = f"parameters.{name}"
    if not isinstance(spec, dict):
        raise ConfigError(where, f"must be a mapping (value, values or distribution), got {spec!r}")
    kind = spec.get("distribution")
    if kind is None:
        kind = ("constant" if "value" in spec else "categorical" if "values" in spec
                else "int_uniform" if all(isinstance(spec.get(k), int) for k in ("min", "max")) else "uniform")
    if kind not in DISTRIBUTIONS:
        raise ConfigError(f"{where}.distribution", f"must be one of {', '.join(DISTRIBUTIONS)}, got {kind!r}")
    if kind == "constant":
        if "value" not in spec:
            raise ConfigError(where, "a constant needs value")
        return optuna.distributions.CategoricalDistribution([spec["value"]])
    if kind == "categorical":
        values = spec.get("values")
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.values", f"must be a non-empty list, got {values!r}")
        return optuna.distributions.CategoricalDistribution(values)
    low, high = spec.get("min"), spec.get("max")
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (low, high)) or low >= high:
        raise ConfigError(where, f"{kind} needs numbers min < max, got min {low!r} and max {high!r}")
    if kind == "int_uniform":
        if not (isinstance(low, int) and isinstance(high, int)):
            raise ConfigError(where, f"int_uniform needs integer bounds, got {low!r} and {high!r}")
        return optuna.distributions.IntDistribution(low, high)
    if kind == "q_uniform":
        q = spec.get("q", 1.0)
        if not isinstance(q, (int, float)) or q <= 0:
            raise ConfigError(f"{where}.q", f"must be a positive number, got {q!r}")
        return optuna.distributions.FloatDistribution(low, high, step=q)
    if kind == "log_uniform_values":
        if low <= 0:
            raise ConfigError(where, f"log_uniform_values needs positive bounds, got min {low!r}")
        return optuna.distributions.FloatDistribution(low, high, log=True)
    if kind == "log_uniform":
        return optuna.distributions.FloatDistribution(math.exp(low), math.exp(high), log=True)
    return optuna.distributions.FloatDistribution(low, high)


def base_config(data: dict[str, Any], path: Path) -> str:
    """The base config ``command`` runs ``textrec-run`` with: a file path (relative to the sweep file's
    folder) or a JSON object. :class:`ConfigError` at ``command`` when there is none."""
    command = data.get("command")
    if not isinstance(command, list) or PROGRAM not in command:
        raise ConfigError("command", f"must run {PROGRAM} with the base config, e.g. the list ${{env}}, {PROGRAM}, "
                                     "--nowandb, base.json, ${args_no_hyphens}; or give --base")
    arguments = [str(a) for a in command[command.index(PROGRAM) + 1:]
                 if not str(a).startswith(("-", "${"))]
    if len(arguments) != 1:
        raise ConfigError("command", f"names {len(arguments)} configs after {PROGRAM}; it must name one")
    (argument,) = arguments
    return argument if argument.lstrip().startswith("{") else str(Path(path).parent / argument)


def hyperband(spec: Any) -> Hyperband | None:
    """The early termination of ``early_terminate``; None when there is none."""
    if spec is None:
        return None
    if not isinstance(spec, dict) or spec.get("type") != "hyperband":
        raise ConfigError("early_terminate", f"only {{type: hyperband, min_iter: N}} is supported, got {spec!r}")
    min_iter, eta = spec.get("min_iter", 1), spec.get("eta", 3)
    for key, value, least in (("min_iter", min_iter, 1), ("eta", eta, 2)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise ConfigError(f"early_terminate.{key}", f"must be an integer of at least {least}, got {value!r}")
    return Hyperband(min_iter, eta)
