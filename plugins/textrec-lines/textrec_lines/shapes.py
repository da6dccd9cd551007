"""Checks that data shapes are those of text lines, for line networks and models.

A mismatch is a fact about the data (the dataset chosen), not a bad argument, so these raise a
plain ``ValueError`` naming its ``owner`` (the network or model that cannot read the data).
"""

from __future__ import annotations

from collections.abc import Iterable

from textrec_core import CharacterMapping, DataShapes


def check_line_images(owner: str, shapes: DataShapes, min_height: int) -> tuple[int, int]:
    """``(height, width)`` of 2-D line images at least ``min_height`` pixels tall; ``ValueError`` otherwise."""
    if len(shapes.input_shape) != 2 or shapes.input_shape[0] < min_height:
        raise ValueError(f"{owner} reads 2-D line images (H, W) at least {min_height} pixels tall, "
                         f"got input shape {shapes.input_shape}")
    height, width = shapes.input_shape
    return height, width


def check_line_labels(owner: str, shapes: DataShapes) -> int:
    """``max_length`` of line labels, shaped ``(max_length,)`` with ``max_length >= 1``; ``ValueError`` otherwise."""
    if len(shapes.output_shape) != 1 or shapes.output_shape[0] < 1:
        raise ValueError(f"{owner} reads labels of shape (max_length,), got {shapes.output_shape}")
    return shapes.output_shape[0]


def check_tokens(owner: str, mapping: CharacterMapping, tokens: Iterable[str]) -> None:
    """``ValueError`` naming every one of the special ``tokens`` the alphabet ``mapping`` lacks."""
    missing = [token for token in tokens if token not in mapping]
    if missing:
        noun = "token" if len(missing) == 1 else "tokens"
        raise ValueError(f"{owner} needs the {', '.join(missing)} {noun} in the label mapping; {mapping!r} lacks "
                         f"{'it' if len(missing) == 1 else 'them'}")
