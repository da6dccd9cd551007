"""Experiment configs: attrs classes structured from JSON/YAML with cattrs, strictly.

Unknown keys and wrong types raise :class:`~textrec_core.errors.ConfigError` carrying the path
of the bad field, e.g. ``network_args.num_layers: expected int, got str ('8')``.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import cattrs
from cattrs.v import format_exception

from textrec_core.errors import ConfigError


@attrs.define
class TrainArgs:
    """How to train: ``epochs`` at most, stopping early when validation loss has not improved
    for ``patience`` epochs (0 disables early stopping); ``seed`` makes runs repeatable;
    ``num_threads`` sets torch's CPU threads (default: torch's own choice); ``max_minutes``
    stops training after the epoch that crosses the time budget. ``lr_schedule`` is
    ``constant`` (Adam at ``learning_rate``) or ``onecycle`` (warm up to ``learning_rate`` and
    anneal to near zero over ``epochs``, which converges in fewer epochs). ``precision``
    ``bfloat16`` runs the training forward pass under bfloat16 autocast (weights and optimizer
    stay float32; evaluation stays float32): on CPUs with AVX-512 BF16 or AMX, and on GPUs,
    about 1.6x faster for convolutional networks; elsewhere it is emulated and several times
    slower. ``auto`` (the default) takes bfloat16 where the device runs it natively and
    float32 otherwise; ``float32`` never autocasts. ``max_grad_norm`` clips the global norm of
    the gradients to that value before every step (default: no clipping); recurrent and
    attention networks train more stably with it (around 1). ``prefetch`` batches are drawn and
    augmented ahead of the training step by a background thread (0: on the training thread).
    ``init_from`` is the path of a saved model bundle to start from instead of fresh weights
    (fine-tuning; :mod:`textrec_core.finetune`): the network must be the bundle's, the
    ``network_args`` the config leaves out are the bundle's, and the dataset's alphabet may differ
    from the bundle's (the output rows of shared characters are kept)."""

    batch_size: int = 256
    epochs: int = 16
    learning_rate: float = 1e-3
    lr_schedule: str = "constant"
    precision: str = "auto"
    patience: int = 3
    seed: int = 0
    num_threads: int | None = None
    max_minutes: float | None = None
    max_grad_norm: float | None = None
    prefetch: int = 2
    init_from: str | None = None


@attrs.define
class AugmenterSpec:
    """One augmenter by registered name, with its keyword arguments."""

    name: str
    args: dict[str, Any] = attrs.Factory(dict)


@attrs.define
class ExperimentConfig:
    """One experiment: which dataset, network and model, with their arguments."""

    dataset: str
    model: str
    network: str
    dataset_args: dict[str, Any] = attrs.Factory(dict)
    model_args: dict[str, Any] = attrs.Factory(dict)
    network_args: dict[str, Any] = attrs.Factory(dict)
    train_args: TrainArgs = attrs.Factory(TrainArgs)
    augmenters: list[AugmenterSpec] = attrs.Factory(list)


LR_SCHEDULES = ("constant", "onecycle")
PRECISIONS = ("auto", "float32", "bfloat16")

_RANGES: dict[str, tuple[str, typing.Callable[[Any], bool]]] = {
    "batch_size": ("must be at least 1", lambda v: v >= 1),
    "epochs": ("must be at least 1", lambda v: v >= 1),
    "learning_rate": ("must be positive", lambda v: v > 0),
    "patience": ("must be 0 (off) or more", lambda v: v >= 0),
    "num_threads": ("must be at least 1", lambda v: v is None or v >= 1),
    "max_minutes": ("must be positive", lambda v: v is None or v > 0),
    "max_grad_norm": ("must be positive", lambda v: v is None or v > 0),
    "prefetch": ("must be 0 (off) or more", lambda v: v >= 0),
    "init_from": ("must be the path of a model bundle", lambda v: v is None or bool(v.strip())),
}


def _describe(value: Any) -> str:
    return f"{type(value).__name__} ({value!r})"


def _strict(expected: type, accept: tuple[type, ...]) -> typing.Callable[[Any, Any], Any]:
    def structure(value: Any, _: Any) -> Any:
        if isinstance(value, bool) and bool not in accept or not isinstance(value, accept):
            raise TypeError(f"expected {expected.__name__}, got {_describe(value)}")
        return expected(value)

    return structure


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(int, _strict(int, (int,)))
    converter.register_structure_hook(float, _strict(float, (int, float)))
    converter.register_structure_hook(str, _strict(str, (str,)))
    converter.register_structure_hook(bool, _strict(bool, (bool,)))
    converter.register_structure_hook(
        AugmenterSpec,
        lambda v, _: AugmenterSpec(v) if isinstance(v, str) else _structure_augmenter(v),
    )
    return converter


def _structure_augmenter(value: Any) -> AugmenterSpec:
    if not isinstance(value, dict):
        raise TypeError(f"expected a name or {{'name': ..., 'args': {{...}}}}, got {_describe(value)}")
    return _plain.structure(value, AugmenterSpec)


def _format_exception(exc: BaseException, type_: Any) -> str:
    """Keep this module's own messages ("expected int, got str ('8')"); cattrs's otherwise."""
    if isinstance(exc, TypeError) and str(exc).startswith("expected"):
        return str(exc)
    return format_exception(exc, type_)


_plain = cattrs.Converter(forbid_extra_keys=True)
converter = _make_converter()

_AT = re.compile(r"^(?P<problem>.*) @ \$(?P<path>.*)$")


def _first_error(exc: Exception, prefix: str = "") -> ConfigError:
    """Turn a cattrs error tree into one ConfigError naming the bad field's dotted path."""
    if isinstance(exc, cattrs.BaseValidationError):
        message = cattrs.transform_error(exc, format_exception=_format_exception)[0]
    else:
        message = str(exc)
    match = _AT.match(message)
    if not match:
        return ConfigError(prefix, message)
    path = match["path"].lstrip(".")
    path = re.sub(r"\[(\d+)\]", r".\1", path)
    problem = match["problem"]
    extra = re.match(r"extra fields found \((.*)\)", problem)
    if extra:
        names = [n.strip() for n in extra[1].split(",")]
        path = ".".join(p for p in (prefix, path, names[0]) if p)
        return ConfigError(path, "unknown key")
    problem = re.sub(r"^invalid value for type, ", "", problem)
    if problem == "required field missing":
        problem = "required key missing"
    return ConfigError(".".join(p for p in (prefix, path) if p), problem)


def structure_config(data: Any) -> ExperimentConfig:
    """Build a validated :class:`ExperimentConfig` from plain data (a dict)."""
    if not isinstance(data, dict):
        raise ConfigError("", f"the config must be a JSON/YAML object, got {_describe(data)}")
    try:
        config = converter.structure(data, ExperimentConfig)
    except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
        raise _first_error(exc) from None
    for name, allowed in (("lr_schedule", LR_SCHEDULES), ("precision", PRECISIONS)):
        value = getattr(config.train_args, name)
        if value not in allowed:
            raise ConfigError(f"train_args.{name}", f"expected one of {', '.join(allowed)}, got {value!r}")
    for name, (problem, ok) in _RANGES.items():
        if not ok(getattr(config.train_args, name)):
            raise ConfigError(f"train_args.{name}", f"{problem}, got {getattr(config.train_args, name)!r}")
    return config


def read_config(text_or_path: str) -> Any:
    """The plain data of the CLI's CONFIG: a JSON object literal or a ``.json`` / ``.yaml`` /
    ``.yml`` file (not yet validated: see :func:`structure_config`)."""
    source = text_or_path.strip()
    if source.startswith("{"):
        return _load_json(source, "the config")
    path = Path(text_or_path)
    if path.suffix not in (".json", ".yaml", ".yml"):
        raise ConfigError("", f"CONFIG must be a JSON object or a .json/.yaml file, got {text_or_path!r}")
    if not path.is_file():
        raise ConfigError("", f"config file {str(path)!r} does not exist")
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return _load_json(text, str(path))
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError("", f"{path} is not valid YAML: {exc}") from None


def with_overrides(text_or_path: str, overrides: Sequence[str]) -> str:
    """The CLI's CONFIG with ``PATH=VALUE`` overrides applied, as a JSON object (``text_or_path``
    itself when there are none). ``PATH`` is dotted into the config's objects
    (``network_args.lstm_size=128``; missing objects are created); ``VALUE`` is read as JSON, else
    as a Python literal (``True``, ``None``, ``['a', 'b']``: how W&B's sweep agent writes values in
    ``${args_no_hyphens}``), else taken as a string (``dataset=iam_ondb``). :class:`ConfigError` for an override
    without ``=`` or a path through a value that is no object."""
    if not overrides:
        return text_or_path
    data = read_config(text_or_path)
    if not isinstance(data, dict):
        raise ConfigError("", f"overrides need a config object, got {type(data).__name__}")
    for override in overrides:
        path, sep, text = override.partition("=")
        keys = path.split(".")
        if not sep or not all(keys):
            raise ConfigError("", f"expected an override PATH=VALUE (e.g. train_args.epochs=3), got {override!r}")
        value = _override_value(text)
        target = data
        for depth, key in enumerate(keys[:-1]):
            target = target.setdefault(key, {})
            if not isinstance(target, dict):
                raise ConfigError(".".join(keys[: depth + 1]), f"is {_describe(target)}, not an object: cannot set "
                                                               f"{path}")
        target[keys[-1]] = value
    return json.dumps(data)


def _override_value(text: str) -> Any:
    """An override's value: JSON, else a Python literal, else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return text


def parse_config(text_or_path: str) -> ExperimentConfig:
    """Read and validate the CLI's CONFIG (see :func:`read_config`)."""
    return structure_config(read_config(text_or_path))


def with_train_defaults(data: Any, defaults: Mapping[str, Any]) -> Any:
    """``data`` with ``defaults`` filling the ``train_args`` keys it does not set (a network's
    recipe); data that is not a config object, or whose ``train_args`` is no object, is
    returned as it is for :func:`structure_config` to report."""
    if not defaults or not isinstance(data, dict) or not isinstance(data.get("train_args", {}), dict):
        return data
    return {**data, "train_args": {**defaults, **data.get("train_args", {})}}


def _load_json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError("", f"{where} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def unstructure_config(config: ExperimentConfig) -> dict[str, Any]:
    """Plain data for ``config`` with every default filled in."""
    return converter.unstructure(config)


def _keyword_parameters(factory: Any, skip: int) -> dict[str, inspect.Parameter]:
    target = factory.__init__ if inspect.isclass(factory) else factory
    params = list(inspect.signature(target).parameters.values())
    if inspect.isclass(factory):
        params = params[1:]  # self
    return {p.name: p for p in params[skip:] if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}


def resolve_args(factory: Any, args: dict[str, Any], *, path: str, name: str, skip: int = 0) -> dict[str, Any]:
    """Check ``args`` against ``factory``'s keyword parameters and their type hints.

    ``skip`` leading positional parameters are supplied by textrec itself (e.g. the data shapes
    of a network). Returns every keyword argument, defaults filled in; an unknown or mistyped
    argument raises :class:`ConfigError` at ``path.<argument>``.
    """
    params = _keyword_parameters(factory, skip)
    target = factory.__init__ if inspect.isclass(factory) else factory
    try:
        hints = typing.get_type_hints(target)
    except Exception:  # unresolvable annotations: accept values as given
        hints = {}
    resolved: dict[str, Any] = {}
    for key, value in args.items():
        if key not in params:
            accepted = ", ".join(params) or "no arguments"
            raise ConfigError(f"{path}.{key}", f"unknown argument; {name} accepts {accepted}")
        if key in hints:
            try:
                value = converter.structure(value, hints[key])
            except (cattrs.BaseValidationError, TypeError, ValueError) as exc:
                raise _first_error(exc, f"{path}.{key}") from None
        resolved[key] = value
    for key, param in params.items():
        if key not in resolved:
            if param.default is inspect.Parameter.empty:
                raise ConfigError(f"{path}.{key}", f"required argument of {name} missing")
            resolved[key] = param.default
    return resolved
