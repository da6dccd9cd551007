"""LeNet: two 3x3 convolutions, max pooling and two dense layers (the labs' variant)."""

from __future__ import annotations

import torch
from torch import nn

from textrec_core import DataShapes
from textrec_core.services.arguments import check_integer, check_range


class LeNet(nn.Module):
    """Maps images ``(B, H, W)`` to logits ``(B, num_classes)``."""

    #: The output layer's rows score the alphabet's tokens (:class:`textrec_core.protocols.ClassIndexed`).
    class_indexed = {"classifier.3.weight": 0, "classifier.3.bias": 0}

    def __init__(self, input_shape: tuple[int, int], num_classes: int, *, conv_channels: int = 32,
                 dense_size: int = 128, dropout: float = 0.2) -> None:
        super().__init__()
        height, width = input_shape
        self.features = nn.Sequential(
            nn.Conv2d(1, conv_channels, 3), nn.ReLU(),
            nn.Conv2d(conv_channels, 2 * conv_channels, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Dropout(dropout), nn.Flatten(),
        )
        flat = 2 * conv_channels * ((height - 4) // 2) * ((width - 4) // 2)
        self.classifier = nn.Sequential(
            nn.Linear(flat, dense_size), nn.ReLU(), nn.Dropout(dropout), nn.Linear(dense_size, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(images.unsqueeze(1)))


def lenet(shapes: DataShapes, *, conv_channels: int = 32, dense_size: int = 128, dropout: float = 0.2) -> nn.Module:
    """The ``lenet`` network for single-character images of at least 6x6 pixels.

    A bad argument raises :class:`ArgumentError` naming it; data of other shapes, ``ValueError``.
    """
    check_integer("conv_channels", conv_channels)
    check_integer("dense_size", dense_size)
    check_range("dropout", dropout, 0, 1)
    if shapes.output_shape != ():
        raise ValueError(f"lenet classifies single characters; output shape {shapes.output_shape} is not supported")
    if len(shapes.input_shape) != 2 or min(shapes.input_shape) < 6:
        raise ValueError(f"lenet needs 2-D images of at least 6x6 pixels, got {shapes.input_shape}")
    network = LeNet(shapes.input_shape, shapes.num_classes, conv_channels=conv_channels,
                    dense_size=dense_size, dropout=dropout)
    # Channels-last convolution weights make oneDNN pick its NHWC kernels: about 1.7x faster
    # training on CPU (docs/performance.md). Results are the same up to float rounding.
    return network.to(memory_format=torch.channels_last)
