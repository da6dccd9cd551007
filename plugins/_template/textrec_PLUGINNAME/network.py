"""``tiny_network``: one hidden layer over the flattened image, a starting point to replace."""

from __future__ import annotations

import math

from torch import nn

from textrec_core import DataShapes
from textrec_core.services.arguments import check_integer


def tiny_network(shapes: DataShapes, *, hidden_size: int = 32) -> nn.Module:
    """Map images ``(B, *shapes.input_shape)`` to logits ``(B, shapes.num_classes)``.

    One hidden layer of ``hidden_size`` ReLU units, so for single characters only
    (``shapes.output_shape == ()``). Keyword arguments carry type hints: textrec checks a config's
    ``network_args`` against them. Values are checked here, before anything is built: a bad one
    raises :class:`~textrec_core.errors.ArgumentError`, which ``textrec-run`` reports as
    ``network_args.<argument>``.
    """
    if shapes.output_shape != ():
        raise ValueError(f"tiny_network classifies single characters, not outputs of shape {shapes.output_shape}")
    check_integer("hidden_size", hidden_size)  # raises ArgumentError naming it
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(math.prod(shapes.input_shape), hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, shapes.num_classes),
    )
