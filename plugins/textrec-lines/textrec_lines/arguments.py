"""Checks of the arguments line networks share (layer sizes, dropout), raising ``ArgumentError``.

Each raises :class:`textrec_core.errors.ArgumentError` naming the argument, so that
``textrec-run`` reports ``network_args.<argument>: <problem>`` before any work.
"""

from __future__ import annotations

from textrec_core.errors import ArgumentError


def check_sizes(**sizes: int) -> None:
    """``ArgumentError`` naming the first of ``sizes`` (channel, unit or layer counts) below 1."""
    for argument, value in sizes.items():
        if value < 1:
            raise ArgumentError(argument, f"must be at least 1, got {value}")


def check_dropout(dropout: float) -> None:
    """``ArgumentError`` unless ``0 <= dropout < 1`` (a dropout of 1 would zero every activation)."""
    if not 0.0 <= dropout < 1.0:
        raise ArgumentError("dropout", f"must lie in [0, 1), got {dropout}")
