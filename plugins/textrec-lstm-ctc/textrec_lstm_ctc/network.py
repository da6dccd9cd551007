"""``line_lstm_ctc``: a CNN reads a line as a sequence of frames, a bidirectional LSTM reads the
frames, and a dense layer scores every class of each frame for CTC.

Frames. The CNN runs once over the whole line (not window by window: overlapping windows share
their convolutions) and each column of its last feature map is one frame. Frame ``t`` reads
exactly the pixel columns ``[t * window_stride, t * window_stride + window_width)``, a window
of the line, as the labs' sliding windows did:

* a 4x4 convolution with stride 2 and ReLU (it sees the same 4-pixel blocks as LeNet's 3x3
  convolution followed by 2x2 pooling, at a quarter of the cost in time and memory: on CPU the
  full-resolution feature map of that pair, its ReLU and its pooling were most of a step);
  a valid 3x3 convolution and ReLU;
* a convolution whose kernel covers the whole feature-map height and one window's width
  (``window_width / 2 - 3`` columns) with stride ``window_stride / 2``: one window's features
  into one frame of ``lstm_size`` values, a dense layer applied to every window; ReLU;
* layer normalization of each frame's features, then dropout. Without it the untrained CNN's
  frames are small and alike, and CTC training sat for hundreds of steps reading nothing.

Both window settings must be even, so windows start on the first convolution's stride-2 grid.
An image of width ``W`` gives ``output_length(W) = 1 + ceil((W - window_width) / window_stride)``
frames (one frame when ``W <= window_width``): the network pads the image on the right with
background (zeros) to ``(T - 1) * window_stride + window_width`` columns, so every column is
read and a line narrower than one window is read as one window. The height must be the training height (the
frame kernel spans it); the width may be anything, as ``LinePredictor`` keeps lines at their
natural width.

Sequence. A bidirectional LSTM (``lstm_layers`` layers of ``lstm_size`` units each way, dropout
between layers) gives every frame the context of the whole line, then dropout and a linear
layer give logits ``(B, T, num_classes)`` over the dataset's alphabet (``shapes.mapping``), its
``<blank>`` the CTC blank.

With 28-pixel-high lines and the defaults, a 952-pixel line is 67 frames, about two per
character slot of the 34-character lines: CTC needs at least one frame per character plus one
between repeated characters.

Speed on CPU: convolution weights are stored channels-last (oneDNN's faster NHWC kernels); under
bfloat16 autocast (``train_args.precision``) a training step takes about half the time.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from textrec_core import DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.services.arguments import check_integer, check_range
from textrec_lines.padding import content_widths
from textrec_lines.shapes import check_line_images, check_line_labels

#: A 4x4 convolution with stride 2 and a 3x3 convolution leave 1 row or column of 8.
MIN_SIDE = 8


def frame_count(width: int, window_width: int, window_stride: int) -> int:
    """The number of frames of a line ``width`` pixels wide (see the module docstring)."""
    return 1 + max(0, math.ceil((width - window_width) / window_stride))


class LineLstmCtc(nn.Module):
    """Maps line images ``(B, H, W)`` of any width to CTC logits ``(B, output_length(W), num_classes)``."""

    #: The output layer's rows score the alphabet's tokens (:class:`textrec_core.protocols.ClassIndexed`).
    class_indexed = {"classifier.1.weight": 0, "classifier.1.bias": 0}

    def __init__(self, height: int, num_classes: int, *, window_width: int, window_stride: int,
                 conv_channels: int, lstm_size: int, lstm_layers: int, dropout: float) -> None:
        super().__init__()
        self.height = height
        self.window_width = window_width
        self.window_stride = window_stride
        feature_height = (height - 4) // 2 - 1
        self.frames = nn.Sequential(
            nn.Conv2d(1, conv_channels, 4, stride=2), nn.ReLU(inplace=True),
            nn.Conv2d(conv_channels, 2 * conv_channels, 3), nn.ReLU(inplace=True),
            nn.Conv2d(2 * conv_channels, lstm_size, (feature_height, window_width // 2 - 3),
                      stride=(1, window_stride // 2)),
            nn.ReLU(),
        )
        self.normalize = nn.Sequential(nn.LayerNorm(lstm_size), nn.Dropout(dropout))
        self.lstm = nn.LSTM(lstm_size, lstm_size, lstm_layers, batch_first=True, bidirectional=True,
                            dropout=dropout if lstm_layers > 1 else 0.0)
        self.classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(2 * lstm_size, num_classes))

    def output_length(self, width: int) -> int:
        """The number of frames for an input ``width`` pixels wide (see the module docstring)."""
        return frame_count(width, self.window_width, self.window_stride)

    def output_lengths(self, widths: torch.Tensor) -> torch.Tensor:
        """:meth:`output_length` of each of ``widths`` ``(B,)``, as a tensor."""
        beyond = (widths - self.window_width).clamp(min=0)
        return 1 + torch.div(beyond + self.window_stride - 1, self.window_stride, rounding_mode="floor")

    def frame_features(self, images: torch.Tensor) -> torch.Tensor:
        """The normalized CNN frames ``(B, T, lstm_size)``: frame ``t`` depends only on its window's pixels."""
        if images.dim() != 3 or images.shape[1] != self.height:
            raise ValueError(f"expected line images (B, {self.height}, W), got shape {tuple(images.shape)}")
        width = images.shape[2]
        padded = (self.output_length(width) - 1) * self.window_stride + self.window_width
        images = F.pad(images, (0, padded - width))
        return self.normalize(self.frames(images.unsqueeze(1)).squeeze(2).transpose(1, 2))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, T, num_classes)``; the LSTM reads each line's frames of content only
        (:meth:`output_lengths` of its :func:`~textrec_lines.content_widths`), so a line reads the
        same alone or padded in a batch with wider lines; its frames past them score the padding."""
        frames = self.frame_features(images)
        lengths = self.output_lengths(content_widths(images)).clamp(max=frames.shape[1])
        packed = pack_padded_sequence(frames, lengths.cpu(), batch_first=True, enforce_sorted=False)
        sequence, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=frames.shape[1])
        return self.classifier(sequence)


def line_lstm_ctc(shapes: DataShapes, *, window_width: int = 28, window_stride: int = 14, conv_channels: int = 32,
                  lstm_size: int = 128, lstm_layers: int = 2, dropout: float = 0.2) -> nn.Module:
    """A CNN over frames of the line, a bidirectional LSTM and per-frame class scores, for CTC.

    Checked before anything is built: odd or too small windows, a stride wider than the window
    (columns between frames would go unread), non-positive sizes, a dropout outside [0, 1) and a
    stride leaving training lines fewer frames than label positions (CTC needs a frame per
    character) raise :class:`~textrec_core.errors.ArgumentError` naming the argument; images
    that are not 2-D or are shorter than 8 pixels, and labels not shaped ``(max_length,)``, a
    ``ValueError``.
    """
    if window_width < MIN_SIDE or window_width % 2:
        raise ArgumentError("window_width", f"must be even and at least {MIN_SIDE}, got {window_width}")
    if window_stride < 2 or window_stride % 2 or window_stride > window_width:
        raise ArgumentError("window_stride", f"must be even, at least 2 and at most window_width ({window_width}), "
                                             f"got {window_stride}")
    for argument, value in {"conv_channels": conv_channels, "lstm_size": lstm_size, "lstm_layers": lstm_layers}.items():
        check_integer(argument, value)
    check_range("dropout", dropout, 0, 1)
    height, width = check_line_images("line_lstm_ctc", shapes, MIN_SIDE)
    max_length = check_line_labels("line_lstm_ctc", shapes)
    frames = frame_count(width, window_width, window_stride)
    if frames < max_length:
        raise ArgumentError("window_stride", f"{width}-pixel lines give {frames} frames (window_width {window_width}, "
                                             f"window_stride {window_stride}), fewer than the {max_length} label "
                                             f"positions; use a smaller window_stride")
    network = LineLstmCtc(height, shapes.num_classes, window_width=window_width, window_stride=window_stride,
                          conv_channels=conv_channels, lstm_size=lstm_size, lstm_layers=lstm_layers, dropout=dropout)
    # Channels-last convolution weights make oneDNN pick its faster NHWC kernels (see lenet).
    return network.to(memory_format=torch.channels_last)
