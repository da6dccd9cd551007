"""A multilayer perceptron over the flattened image."""

from __future__ import annotations

import math

from torch import nn

from textrec_core import DataShapes
from textrec_core.services.arguments import check_integer, check_range


class Mlp(nn.Sequential):
    """The layers of :func:`mlp`; the last, a linear layer, scores the classes."""

    @property
    def class_indexed(self) -> dict[str, int]:
        """The last layer's rows score the alphabet's tokens (:class:`textrec_core.protocols.ClassIndexed`)."""
        last = len(self) - 1
        return {f"{last}.weight": 0, f"{last}.bias": 0}


def mlp(shapes: DataShapes, *, layer_size: int = 256, num_layers: int = 3, dropout: float = 0.2) -> nn.Module:
    """``num_layers`` hidden layers of ``layer_size`` ReLU units, each followed by dropout.

    Maps ``(B, H, W)`` to logits ``(B, num_classes)``; for single-label data only. A bad argument
    raises :class:`ArgumentError` naming it; data of other shapes, ``ValueError``.
    """
    check_integer("layer_size", layer_size)
    check_integer("num_layers", num_layers)
    check_range("dropout", dropout, 0, 1)
    if shapes.output_shape != ():
        raise ValueError(f"mlp classifies single characters; output shape {shapes.output_shape} is not supported")
    layers: list[nn.Module] = [nn.Flatten()]
    width = math.prod(shapes.input_shape)
    for _ in range(num_layers):
        layers += [nn.Linear(width, layer_size), nn.ReLU(), nn.Dropout(dropout)]
        width = layer_size
    layers.append(nn.Linear(width, shapes.num_classes))
    return Mlp(*layers)
