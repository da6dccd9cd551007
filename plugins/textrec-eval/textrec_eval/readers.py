"""The bundle's readers: one predictor per decoder asked for.

A model with a ``decoder`` argument (``LineModelCtc``, ``LineModelAttention``) is loaded once per
decoder, each with ``model_args={"decoder": NAME}`` over its saved arguments. A model without one
(``LineModel``, ``CharacterModel``) has a single way to read: it is loaded as saved, under the name
:data:`OWN_READING`, and asking it for decoders is a usage error. A baseline bundle
(``--baseline``) is read the same ways as the bundle, its readers named by :func:`baseline_name`.
"""

from __future__ import annotations

import inspect
from pathlib import Path

from textrec_core.bundle import Bundle
from textrec_core.components import Components
from textrec_core.errors import ArgumentError, ConfigError
from textrec_core.predictor import Predictor, load_predictor

#: The decoders read with by default, where the model has a ``decoder`` argument.
DEFAULT_DECODERS = ("greedy", "beam")
#: The name of the one reading of a model without a ``decoder`` argument.
OWN_READING = "default"
#: The decoder name that reads with the decoder the bundle was saved with (e.g. an ensemble's list
#: of one decoder per member), its model arguments left as they are.
SAVED_READING = "saved"


def has_decoder_argument(bundle: Bundle, table: Components) -> bool:
    """Whether the bundle's registered model class takes a ``decoder`` keyword argument."""
    model = table.get("model", bundle.meta["model"])
    return "decoder" in inspect.signature(model).parameters


def load_readers(bundle_dir: Path, decoders: tuple[str, ...] | None, table: Components) -> dict[str, Predictor]:
    """Predictors of the bundle at ``bundle_dir`` by decoder name, in the order asked.

    ``decoders`` None means :data:`DEFAULT_DECODERS` for a model with a ``decoder`` argument, its own
    reading otherwise; the decoder :data:`SAVED_READING` is the bundle as saved. Raises
    :class:`~textrec_core.errors.BundleError` for an unreadable bundle,
    :class:`~textrec_core.errors.UnknownComponentError` when its plugins are not installed, and
    :class:`ConfigError` (at ``--decoders``) for decoders the model does not have.
    """
    bundle = Bundle(bundle_dir)
    if not has_decoder_argument(bundle, table):
        if decoders is not None:
            raise ConfigError("--decoders", f"model {bundle.meta['model']} has no decoder argument: it reads one way, "
                                            "evaluated without --decoders")
        return {OWN_READING: load_predictor(bundle_dir, table)}
    readers = {}
    for decoder in decoders or DEFAULT_DECODERS:
        try:
            readers[decoder] = load_predictor(bundle_dir, table, model_args=None if decoder == SAVED_READING
                                              else {"decoder": decoder})
        except ArgumentError as exc:
            raise ConfigError("--decoders", f"{exc.argument}: {exc.problem}") from None
    return readers


def baseline_name(name: str) -> str:
    """The name of the baseline's reader that reads as the bundle's reader ``name`` does."""
    return f"{name} (baseline)"


def load_baseline(baseline_dir: Path, readers: dict[str, Predictor], table: Components) -> dict[str, Predictor]:
    """Predictors of the baseline bundle at ``baseline_dir`` for the same decoders as the bundle's
    ``readers`` (or its own reading, where the bundle reads its own way), by :func:`baseline_name`.

    Raises :class:`ConfigError` (at ``--baseline``) when one of the two models has a decoder
    argument and the other not, or the baseline lacks one of the decoders, and the errors of
    :func:`load_readers`.
    """
    own = list(readers) == [OWN_READING]
    bundle = Bundle(baseline_dir)
    if has_decoder_argument(bundle, table) == own:
        raise ConfigError("--baseline", f"model {bundle.meta['model']} of {str(baseline_dir)!r} "
                                        f"{'reads with decoders' if own else 'has no decoder argument'}, while the "
                                        f"bundle {'reads its own way' if own else 'reads with ' + ', '.join(readers)}: "
                                        "a baseline must read the same ways")
    try:
        baseline = load_readers(baseline_dir, None if own else tuple(readers), table)
    except ConfigError as exc:
        raise ConfigError("--baseline", f"{str(baseline_dir)!r}: {exc.problem}") from None
    return {baseline_name(name): reader for name, reader in baseline.items()}
