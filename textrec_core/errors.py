"""Exceptions raised by textrec.

Every error a user can cause derives from :class:`TextrecError`; the CLI turns those into a
one-paragraph message (exit status 2 for config errors, 1 for data errors), never a traceback.
"""

from __future__ import annotations


class TextrecError(Exception):
    """Base class for errors caused by input, configuration or data, not by a bug."""


class ConfigError(TextrecError):
    """An experiment config is invalid. ``path`` names the bad field (``network_args.num_layers``)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)


class ArgumentError(TextrecError, ValueError):
    """A component's factory was given a bad value for one keyword ``argument``.

    Datasets, networks, models and augmenters raise it from their constructor, before any work;
    ``textrec-run`` reports it as a :class:`ConfigError` at ``<section>.<argument>``
    (``network_args.window_width: must be even and at least 8, got 27``).
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


class UnknownComponentError(TextrecError):
    """A component name is not registered."""


class DuplicateComponentError(TextrecError):
    """Two plugins registered the same component name."""


class DataError(TextrecError):
    """A data file is missing, corrupt or in the wrong format."""


class DownloadError(DataError):
    """A download failed or was incomplete; no partial file is left behind."""


class ChecksumError(DownloadError):
    """Downloaded or cached bytes do not match their published SHA-256 digest."""


class BundleError(TextrecError):
    """A saved model bundle is missing, incomplete or from an unknown format version."""


class InputImageError(TextrecError):
    """An image given to a predictor cannot be read or has an unusable shape."""
