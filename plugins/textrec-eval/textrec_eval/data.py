"""DATA of ``textrec-eval``: a dataset config object, or a folder in IAM's layout, opened as a dataset.

A config is a JSON object ``{"dataset": NAME, "dataset_args": {...}}`` naming a registered dataset;
its arguments are checked exactly as ``textrec-run`` checks them (against the factory's signature
and type hints, then by the constructor), before any data is read. A folder holding
``ascii/lines.txt`` (IAM's layout: ``lines/`` with the crops beside it) stands for
``{"dataset": "iam_lines", "dataset_args": {"path": FOLDER, "split": "all"}}`` (plugin textrec-iam),
or, when it holds its own split lists (``splits/test.lst``: a dataset version textrec-data wrote),
``{"dataset": "iam_lines", "dataset_args": {"path": FOLDER}}``, read with its own split.
The split evaluated is the dataset's ``test`` split (``val`` with ``--split val``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textrec_core.components import Components
from textrec_core.config import resolve_args
from textrec_core.errors import ArgumentError, ConfigError
from textrec_core.experiment import construct
from textrec_core.protocols import Dataset

#: The dataset a folder in IAM's layout is read with, and the plugin providing it.
IAM_DATASET = "iam_lines"
#: The argument of ``iam_lines`` that names the folder.
IAM_FOLDER_ARGUMENT = "path"
#: The file that marks a folder in IAM's layout.
IAM_MARKER = Path("ascii") / "lines.txt"
#: The file that marks a folder with its own split (textrec_iam.layout's split lists).
SPLIT_MARKER = Path("splits") / "test.lst"
CONFIG_KEYS = ("dataset", "dataset_args")


def data_config(source: str) -> dict[str, Any]:
    """The dataset config DATA stands for: ``{"dataset": str, "dataset_args": dict}``.

    Raises :class:`ConfigError` (path ``DATA``, ``dataset`` or ``dataset_args``) when ``source`` is
    neither a JSON object of those keys nor a folder holding ``ascii/lines.txt``.
    """
    if source.strip().startswith("{"):
        try:
            data = json.loads(source)
        except json.JSONDecodeError as exc:
            raise ConfigError("DATA", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
        return _checked_config(data)
    folder = Path(source)
    if folder.is_dir() and (folder / IAM_MARKER).is_file():
        own_split = {} if (folder / SPLIT_MARKER).is_file() else {"split": "all"}
        return {"dataset": IAM_DATASET, "dataset_args": {IAM_FOLDER_ARGUMENT: str(folder), **own_split}}
    problem = ("a folder without ascii/lines.txt" if folder.is_dir()
               else "no such folder" if not folder.exists() else "not a folder")
    raise ConfigError("DATA", f"expected a dataset config JSON object ('{{\"dataset\": NAME, \"dataset_args\": "
                              f"{{...}}}}') or a folder in IAM's layout (lines/ and ascii/lines.txt); {source!r} is "
                              f"{problem}")


def _checked_config(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ConfigError("DATA", f"the dataset config must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError(unknown[0], f"unknown key; a dataset config has {' and '.join(CONFIG_KEYS)}")
    if "dataset" not in data:
        raise ConfigError("dataset", "required key missing")
    if not isinstance(data["dataset"], str):
        raise ConfigError("dataset", f"expected str, got {type(data['dataset']).__name__} ({data['dataset']!r})")
    args = data.get("dataset_args", {})
    if not isinstance(args, dict):
        raise ConfigError("dataset_args", f"expected an object, got {type(args).__name__} ({args!r})")
    return {"dataset": data["dataset"], "dataset_args": args}


def build_dataset(config: dict[str, Any], table: Components) -> Dataset:
    """The dataset ``config`` names, constructed with checked arguments and its ``shapes`` read, not prepared.

    Raises :class:`UnknownComponentError` (with the install hint) for a dataset no installed plugin
    provides, :class:`ConfigError` at ``dataset_args.<argument>`` for a bad argument.
    """
    name = config["dataset"]
    factory = table["dataset"].get(name).obj
    args = resolve_args(factory, config["dataset_args"], path="dataset_args", name=name)
    dataset = construct("dataset_args", factory, **args)
    construct("dataset_args", lambda: dataset.shapes)
    return dataset


def prepare(dataset: Dataset) -> None:
    """``dataset.prepare()``, an argument it rejects only now reported as :class:`ConfigError`
    (as ``textrec-run`` does); data errors propagate."""
    try:
        dataset.prepare()
    except ArgumentError as exc:
        raise ConfigError(f"dataset_args.{exc.argument}", exc.problem) from None
