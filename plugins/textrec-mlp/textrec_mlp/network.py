"""A multilayer perceptron over the flattened image."""

from __future__ import annotations

import math
import numbers

from torch import nn

from textrec_core import DataShapes
from textrec_core.errors import ArgumentError


def mlp(shapes: DataShapes, *, layer_size: int = 256, num_layers: int = 3, dropout: float = 0.2) -> nn.Module:
    """``num_layers`` hidden layers of ``layer_size`` ReLU units, each followed by dropout.

    Maps ``(B, H, W)`` to logits ``(B, num_classes)``; for single-label data only. A bad argument
    raises :class:`ArgumentError` naming it; data of other shapes, ``ValueError``.
    """
    _check_integer("layer_size", layer_size)
    _check_integer("num_layers", num_layers)
    if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
        raise ArgumentError("dropout", f"must be in [0, 1), got {dropout!r}")
    if shapes.output_shape != ():
        raise ValueError(f"mlp classifies single characters; output shape {shapes.output_shape} is not supported")
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(shapes.input_shape)
    for _ in range(num_layers):
        layers += [nn.Linear(width, layer_size), nn.ReLU(), nn.Dropout(dropout)]
        width = layer_size
    layers.append(nn.Linear(width, shapes.num_classes))
    return nn.Sequential(*layers)


def _check_integer(argument: str, value: object) -> None:
    """Raise :class:`ArgumentError` naming ``argument`` unless ``value`` is an integer of at least 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ArgumentError(argument, f"must be an integer, got {value!r}")
    if value < 1:
        raise ArgumentError(argument, f"must be at least 1, got {value}")
