"""Line CNNs: a LeNet read across a text line through sliding windows, in two equivalent forms.

Both map images ``(B, H, W)`` to logits ``(B, max_length, num_classes)``:

* ``line_cnn_time_distributed`` cuts the line into windows ``window_width`` pixels wide every
  ``window_stride`` pixels and runs a LeNet (two valid 3x3 convolutions, 2x2 max pooling,
  dropout, a dense layer, dropout, a dense layer) on each: the labs' TimeDistributed form.
* ``line_cnn_all_conv`` is the same LeNet written with convolutions only, sliding over the whole
  line: the convolutions and pooling run once over the line, the first dense layer becomes a
  convolution whose kernel is one window's pooled feature map and whose stride is
  ``window_stride / 2``, the last dense layer a 1x1 convolution. Valid 3x3 convolutions do mix
  neighbouring windows' pixels at window borders, but the first dense layer only reads the
  pooled block of its own window, which depends only on that window's pixels, so with the same
  weights (:func:`copy_time_distributed_weights`) both forms give the same logits (up to float
  rounding) for any window settings. That is why the window width and stride must be even: windows then start
  on the 2x2 pooling grid. (In training the dropout masks differ: where windows overlap, the
  all-conv form drops a shared feature, the time-distributed form each window's copy.)

There are ``num_windows = (W - window_width) // window_stride + 1`` windows (columns right of
the last whole window are not read). Their logits are
averaged into the ``max_length`` output positions by adaptive average pooling (position ``p``
averages windows ``floor(p * N / L)`` to ``ceil((p + 1) * N / L) - 1``), so every window is
read, and each position is still one dense layer over its windows' features (averaging after
an affine layer equals averaging before it). With fixed-width lines ``W = 28 * max_length``
and ``window_width == window_stride == 28`` there is one window per position and the pooling
is the identity. Fewer windows than positions is an error (of ``window_stride``). (The labs instead convolved groups
of ``N // L`` windows and kept the first ``L`` outputs, which leaves the end of the line unread
whenever ``N`` is not a multiple of ``L``: stride 14 gives ``2L - 1`` windows and a group of 1.)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from textrec_core import DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.services.arguments import check_integer, check_range
from textrec_lines.shapes import check_line_images, check_line_labels

#: Two valid 3x3 convolutions shrink a side by 4 and 2x2 pooling halves it: 6 pixels leave 1.
MIN_SIDE = 6


@dataclass(frozen=True)
class Windows:
    """How a line of ``height`` x ``width`` pixels is read: the windows and the output positions."""

    height: int
    width: int
    window_width: int
    window_stride: int
    max_length: int

    @property
    def num_windows(self) -> int:
        return (self.width - self.window_width) // self.window_stride + 1

    @property
    def pooled_window(self) -> tuple[int, int]:
        """A window's feature map after the convolutions and pooling: ``(height, width)``."""
        return (self.height - 4) // 2, (self.window_width - 4) // 2


def check_windows(owner: str, shapes: DataShapes, window_width: int, window_stride: int) -> Windows:
    """The window layout of ``owner`` (a factory's name) for ``shapes``. A bad window setting is an
    :class:`~textrec_core.errors.ArgumentError` naming it; shapes no line CNN reads, a ``ValueError``."""
    if window_width < MIN_SIDE or window_width % 2:
        raise ArgumentError("window_width", f"must be even and at least {MIN_SIDE}, got {window_width}")
    if window_stride < 2 or window_stride % 2:
        raise ArgumentError("window_stride", f"must be even and at least 2, got {window_stride}")
    height, width = check_line_images(owner, shapes, MIN_SIDE)
    max_length = check_line_labels(owner, shapes)
    if window_width > width:
        raise ArgumentError("window_width", f"must be at most the image width ({width} pixels), got {window_width}")
    windows = Windows(height, width, window_width, window_stride, max_length)
    if windows.num_windows < max_length:
        raise ArgumentError(
            "window_stride",
            f"{windows.num_windows} windows ({window_width} pixels wide every {window_stride} over {width}) "
            f"cannot fill {max_length} output positions; use a smaller window_stride",
        )
    return windows


def _check_layers(conv_channels: int, dense_size: int, dropout: float) -> None:
    for argument, value in {"conv_channels": conv_channels, "dense_size": dense_size}.items():
        check_integer(argument, value)
    check_range("dropout", dropout, 0, 1)


def _convolutions(conv_channels: int, dropout: float) -> list[nn.Module]:
    return [
        nn.Conv2d(1, conv_channels, 3), nn.ReLU(),
        nn.Conv2d(conv_channels, 2 * conv_channels, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(dropout),
    ]


def _to_positions(window_logits: torch.Tensor, max_length: int) -> torch.Tensor:
    """Average logits ``(B, num_classes, num_windows)`` into ``(B, max_length, num_classes)``."""
    return F.adaptive_avg_pool1d(window_logits, max_length).transpose(1, 2)


class LineCnnTimeDistributed(nn.Module):
    """A LeNet run on every window of the line; see the module docstring."""

    #: The output layer's rows score the alphabet's tokens (:class:`textrec_core.protocols.ClassIndexed`).
    class_indexed = {"classifier.3.weight": 0, "classifier.3.bias": 0}

    def __init__(self, windows: Windows, num_classes: int, *, conv_channels: int, dense_size: int,
                 dropout: float) -> None:
        super().__init__()
        self.windows = windows
        pooled_height, pooled_width = windows.pooled_window
        self.features = nn.Sequential(*_convolutions(conv_channels, dropout), nn.Flatten())
        self.classifier = nn.Sequential(
            nn.Linear(2 * conv_channels * pooled_height * pooled_width, dense_size), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(dense_size, num_classes),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        batch, height = images.shape[:2]
        patches = images.unfold(2, self.windows.window_width, self.windows.window_stride)  # (B, H, N, w)
        patches = patches.permute(0, 2, 1, 3).reshape(-1, 1, height, self.windows.window_width)
        logits = self.classifier(self.features(patches)).view(batch, -1, self.classifier[-1].out_features)
        return _to_positions(logits.transpose(1, 2), self.windows.max_length)


class LineCnnAllConv(nn.Module):
    """The LeNet as convolutions sliding over the whole line; see the module docstring."""

    #: The output convolution's kernels score the alphabet's tokens (:class:`textrec_core.protocols.ClassIndexed`).
    class_indexed = {"classifier.3.weight": 0, "classifier.3.bias": 0}

    def __init__(self, windows: Windows, num_classes: int, *, conv_channels: int, dense_size: int,
                 dropout: float) -> None:
        super().__init__()
        self.windows = windows
        self.features = nn.Sequential(*_convolutions(conv_channels, dropout))
        self.classifier = nn.Sequential(
            nn.Conv2d(2 * conv_channels, dense_size, windows.pooled_window, stride=(1, windows.window_stride // 2)),
            nn.ReLU(), nn.Dropout(dropout),
            nn.Conv2d(dense_size, num_classes, 1),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        logits = self.classifier(self.features(images.unsqueeze(1)))  # (B, num_classes, 1, N)
        return _to_positions(logits.squeeze(2), self.windows.max_length)


def copy_time_distributed_weights(source: LineCnnTimeDistributed, target: LineCnnAllConv) -> None:
    """Load ``source``'s weights into ``target``, so both compute the same function.

    The dense layers' matrices become convolution kernels by a reshape: a ``Linear`` over a
    flattened ``(channels, height, width)`` map has the layout of a ``Conv2d`` kernel of that
    size. ``ValueError`` when the two networks were built with different settings.
    """
    if source.windows != target.windows:
        raise ValueError(f"the networks read different windows: {source.windows} and {target.windows}")
    target_state = target.state_dict()
    source_state = source.state_dict()
    for key, value in source_state.items():
        if value.numel() != target_state[key].numel():
            raise ValueError(f"{key} has {value.numel()} weights in the source, {target_state[key].numel()} here")
    target.load_state_dict({key: value.reshape(target_state[key].shape) for key, value in source_state.items()})


def line_cnn_time_distributed(shapes: DataShapes, *, window_width: int = 28, window_stride: int = 28,
                              conv_channels: int = 32, dense_size: int = 128, dropout: float = 0.2) -> nn.Module:
    """A LeNet run on each window of a line, its window logits averaged into the positions."""
    windows = check_windows("line_cnn_time_distributed", shapes, window_width, window_stride)
    _check_layers(conv_channels, dense_size, dropout)
    network = LineCnnTimeDistributed(windows, shapes.num_classes, conv_channels=conv_channels, dense_size=dense_size,
                                     dropout=dropout)
    return network.to(memory_format=torch.channels_last)


def line_cnn_all_conv(shapes: DataShapes, *, window_width: int = 28, window_stride: int = 28,
                      conv_channels: int = 32, dense_size: int = 128, dropout: float = 0.2) -> nn.Module:
    """The time-distributed LeNet written as convolutions sliding over the whole line.

    Convolution weights are channels-last: oneDNN's NHWC kernels train it about 1.6x faster on CPU.
    """
    windows = check_windows("line_cnn_all_conv", shapes, window_width, window_stride)
    _check_layers(conv_channels, dense_size, dropout)
    network = LineCnnAllConv(windows, shapes.num_classes, conv_channels=conv_channels, dense_size=dense_size,
                             dropout=dropout)
    return network.to(memory_format=torch.channels_last)
