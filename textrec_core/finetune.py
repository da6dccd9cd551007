"""Starting a run from a saved bundle (``train_args.init_from``): fine-tuning, also on a dataset
of another alphabet.

Before any data is read, :func:`open_bundle` checks that the path is a readable bundle of the
config's network, and :func:`inherit_network_args` takes the bundle's ``network_args`` (those the
config sets must equal them). Once the network is built for the new dataset's shapes,
:func:`start_from` loads the bundle's weights into it (:func:`load_remapped`):

* the tensors its modules declare indexed by the label alphabet
  (:class:`~textrec_core.protocols.ClassIndexed`) are remapped token by token: the slices of tokens
  in both alphabets are copied, tokens new to the model keep the new network's fresh
  initialisation, tokens the new alphabet lacks are dropped;
* every other tensor is copied as it is, and must have the network's shape.

A network that declares nothing starts only from a bundle of the same alphabet: sizes alone cannot
tell which dimension is the alphabet's (a hidden size may equal the number of classes, and two
alphabets of one length may order their tokens differently). Uninitialised parameters of lazy
modules take the bundle's values as they load; a class-indexed one whose alphabet changes is first
created by a dry run of the network on one blank image, so that its new tokens get a fresh
initialisation.

A mismatch between the bundle and the config is a :class:`~textrec_core.errors.ConfigError` at
``train_args.init_from`` (at ``network_args`` for arguments set to other values than the
bundle's), naming the parameter and both shapes; declarations that do not fit the network's own
tensors are a bug of the network, a ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import torch
from torch import nn
from torch.nn.parameter import is_lazy

from textrec_core.bundle import WEIGHTS_FILE, Bundle
from textrec_core.config import resolve_args
from textrec_core.errors import BundleError, ConfigError
from textrec_core.mapping import CharacterMapping
from textrec_core.protocols import ClassIndexed, DataShapes
from textrec_core.services.download import sha256_file

#: Where every problem of the bundle to start from is reported.
INIT_FROM = "train_args.init_from"


@attrs.frozen
class AlphabetChange:
    """How the label alphabet changed from a bundle's to a dataset's: the tokens ``kept`` (in the
    new order), ``added`` (new to the model) and ``dropped`` (absent from the new alphabet)."""

    kept: tuple[str, ...]
    added: tuple[str, ...]
    dropped: tuple[str, ...]

    @classmethod
    def between(cls, old: CharacterMapping, new: CharacterMapping) -> AlphabetChange:
        return cls(tuple(token for token in new.tokens if token in old),
                   tuple(token for token in new.tokens if token not in old),
                   tuple(token for token in old.tokens if token not in new))

    def __str__(self) -> str:
        return f"kept {len(self.kept)} characters, added {list(self.added)}, dropped {list(self.dropped)}"


@attrs.frozen
class Start:
    """A network started from the bundle at ``path`` (absolute), whose weights file has the SHA-256
    ``sha256``, with the alphabet ``change``d as it says."""

    path: Path
    sha256: str
    change: AlphabetChange

    def record(self) -> dict[str, str]:
        """What the new bundle records as ``init_from``."""
        return {"path": str(self.path), "sha256": self.sha256}

    def __str__(self) -> str:
        return f"init_from {self.path}: {self.change}"


def open_bundle(path: str, network: str) -> Bundle:
    """The bundle at ``path``, checked to be readable (its metadata and weights file) and to hold
    the registered network ``network``; :class:`ConfigError` naming the path and what is wrong
    otherwise."""
    if not Path(path).exists():
        raise ConfigError(INIT_FROM, f"{path!r} does not exist")
    try:
        bundle = Bundle(path)
    except BundleError as exc:
        raise ConfigError(INIT_FROM, f"{path!r} is not a readable model bundle: {exc}") from None
    if not (bundle.path / WEIGHTS_FILE).is_file():
        raise ConfigError(INIT_FROM, f"{path!r} is not a readable model bundle: it has no {WEIGHTS_FILE}")
    saved = bundle.meta["network"]
    if saved != network:
        raise ConfigError(INIT_FROM, f"{path!r} holds a {saved!r} network, not the config's {network!r}: a model "
                                     f"is fine-tuned with the network it was trained with")
    return bundle


def inherit_network_args(bundle: Bundle, factory: Callable[..., nn.Module], name: str,
                         given: Mapping[str, Any]) -> dict[str, Any]:
    """The network arguments of a run starting from ``bundle``: the bundle's, checked against the
    network ``factory`` (registered as ``name``; defaults fill those an older bundle lacks).
    ``given`` are the arguments the config sets, already checked: each must equal the bundle's
    (:class:`ConfigError` at ``network_args`` listing every one that differs)."""
    saved = bundle.meta["network_args"]
    if not isinstance(saved, dict):
        raise ConfigError(INIT_FROM, f"{str(bundle.path)!r} records network_args that are no object: {saved!r}")
    try:
        saved = resolve_args(factory, saved, path="network_args", name=name, skip=1)
    except ConfigError as exc:
        raise ConfigError(INIT_FROM, f"the network_args of {str(bundle.path)!r} do not fit {name} as installed "
                                     f"({exc})") from None
    differing = [f"{key} {value!r} (the bundle's: {saved[key]!r})" for key, value in given.items()
                 if value != saved[key]]
    if differing:
        raise ConfigError("network_args", f"the init_from bundle {str(bundle.path)!r} was built with other values: "
                                          f"{', '.join(differing)}; leave them out to take the bundle's")
    return saved


def start_from(network: nn.Module, bundle: Bundle, shapes: DataShapes) -> Start:
    """Load ``bundle``'s weights into ``network``, built for ``shapes`` (:func:`load_remapped`)."""
    sha256 = sha256_file(bundle.path / WEIGHTS_FILE)
    try:
        state, mapping = bundle.state_dict(), bundle.mapping
    except (BundleError, ValueError, TypeError) as exc:  # unreadable weights, an alphabet of repeated tokens
        first_line = str(exc).splitlines()[0]  # torch explains a failed load over several paragraphs
        raise ConfigError(INIT_FROM, f"{str(bundle.path)!r} is not a readable model bundle: {first_line}") from None
    change = load_remapped(network, state, mapping, shapes)
    return Start(bundle.path.resolve(), sha256, change)


def class_indexed(network: nn.Module) -> dict[str, int]:
    """Every tensor of ``network`` one of its modules declares indexed by the label alphabet
    (:class:`~textrec_core.protocols.ClassIndexed`): its ``state_dict`` key -> the dimension."""
    dims: dict[str, int] = {}
    for prefix, module in network.named_modules():
        if isinstance(module, ClassIndexed):
            dims.update({f"{prefix}.{key}" if prefix else key: dim for key, dim in module.class_indexed.items()})
    return dims


def load_remapped(network: nn.Module, state: Mapping[str, torch.Tensor], mapping: CharacterMapping,
                  shapes: DataShapes) -> AlphabetChange:
    """Load ``state``, the weights of a network for the alphabet ``mapping``, into ``network``,
    built for ``shapes`` (and so for the alphabet ``shapes.mapping``); see the module docstring.
    Returns how the alphabet changed."""
    new = shapes.mapping
    change = AlphabetChange.between(mapping, new)
    name = type(network).__name__
    dims = class_indexed(network)
    if mapping != new and not dims:
        raise ConfigError(INIT_FROM, f"the bundle's alphabet is not the dataset's ({change}), and {name} declares no "
                                     "tensors indexed by the alphabet (class_indexed: see "
                                     "textrec_core.protocols.ClassIndexed): it starts only from a bundle of the "
                                     "dataset's alphabet")
    if mapping != new:
        _materialise(network, shapes, dims)
    target = network.state_dict()
    undeclared = sorted(dims.keys() - target.keys())
    if undeclared:
        raise ValueError(f"{name} declares class-indexed tensors it does not have: {', '.join(undeclared)}")
    missing, unexpected = sorted(target.keys() - state.keys()), sorted(state.keys() - target.keys())
    if missing or unexpected:
        problems = ([f"the bundle lacks {', '.join(missing)}"] if missing else []) + (
            [f"the network has no {', '.join(unexpected)}"] if unexpected else [])
        raise ConfigError(INIT_FROM, f"the bundle's weights do not fit {name}: {'; '.join(problems)}")
    loaded = {}
    for key, tensor in target.items():
        source = state[key]
        if is_lazy(tensor):  # materialised by load_state_dict, with the bundle's values
            loaded[key] = source
        elif key in dims:
            loaded[key] = _remap(name, key, source, tensor, dims[key], mapping, new)
        elif source.shape != tensor.shape:
            raise ConfigError(INIT_FROM, f"parameter {key}: the bundle's shape {tuple(source.shape)} differs from "
                                         f"the network's {tuple(tensor.shape)}")
        else:
            loaded[key] = source
    network.load_state_dict(loaded)
    return change


def _remap(name: str, key: str, source: torch.Tensor, target: torch.Tensor, dim: int, old: CharacterMapping,
           new: CharacterMapping) -> torch.Tensor:
    """``target`` (fresh) with the slices along ``dim`` of the tokens in both alphabets taken from ``source``."""
    if not -target.dim() <= dim < target.dim() or target.shape[dim] != len(new):
        raise ValueError(f"{name} declares {key} indexed by the alphabet along dimension {dim}, but its shape "
                         f"{tuple(target.shape)} has not the alphabet's {len(new)} tokens there")
    expected = (*target.shape[:dim % target.dim()], len(old), *target.shape[dim % target.dim() + 1:])
    if tuple(source.shape) != expected:
        raise ConfigError(INIT_FROM, f"parameter {key}: the bundle's shape {tuple(source.shape)} does not fit the "
                                     f"network's {tuple(target.shape)} (dimension {dim % target.dim()} indexed by "
                                     f"the alphabet: {len(old)} tokens in the bundle, {len(new)} here)")
    remapped = target.detach().clone()
    pairs = [(new.index(token), old.index(token)) for token in new.tokens if token in old]
    if pairs:
        into, out_of = torch.tensor(pairs, device=remapped.device).T
        remapped.index_copy_(dim, into, source.to(remapped.device, remapped.dtype).index_select(dim, out_of))
    return remapped


def _materialise(network: nn.Module, shapes: DataShapes, dims: Mapping[str, int]) -> None:
    """Where any of the class-indexed tensors ``dims`` names is uninitialised (a lazy module's),
    create them by running ``network`` once on a blank image (in eval mode, without gradients)."""
    def lazy() -> list[str]:
        return [key for key, tensor in network.state_dict().items() if key in dims and is_lazy(tensor)]

    if not lazy():
        return
    training = network.training
    network.eval()
    try:
        with torch.no_grad():
            network(torch.zeros((1, *shapes.input_shape)))
    except Exception as exc:  # noqa: BLE001 - whatever the network raises, its tensors stay uninitialised
        problem = f"a dry run on one blank image failed ({type(exc).__name__}: {exc})"
    else:
        problem = "a dry run on one blank image did not create them" if lazy() else ""
    finally:
        network.train(training)
    if problem:
        raise ConfigError(INIT_FROM, f"{type(network).__name__} has uninitialised (lazy) tensors indexed by the "
                                     f"alphabet ({', '.join(lazy())}), and {problem}")
