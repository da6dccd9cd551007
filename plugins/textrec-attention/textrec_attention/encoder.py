"""The encoder: a line image becomes ``memory``, a sequence of feature frames the decoder attends to.

Frames. A 4x4 convolution with stride 2 (zero padding 1) and ReLU, then two blocks of a 3x3
convolution (zero padding 1), ReLU and 2x2 max pooling turn the image ``(B, H, W)`` into
``4 * conv_channels`` maps of ``H // 8`` rows; each column of the result, flattened, projected
to ``encoder_size`` and layer-normalised, is one frame covering 8 pixels of the line
(:data:`FRAME_STRIDE`). Any width of at least one pixel is read. (The strided first convolution
sees the same 4-pixel neighbourhoods as a 3x3 convolution followed by 2x2 pooling; on CPU it
halves the time of a training step, of which the full-resolution feature map, its ReLU and its
pooling were most.)

Padding. A line's *content* runs to its last column holding a non-zero pixel, rounded up to a
multiple of 8 pixels; the all-zero (black background) columns after it are padding, whether
they came with the image or were added to batch it with wider lines. The batch is cut (or
padded with black) to its widest content. After every block the features right of each line's
content (at that block's resolution) are set to zero, which is exactly what the next
convolution's own zero padding would show it, and the ``content / 8`` frames over the content
are the only ones the context encoder and the attention see (``mask``). So a line's memory does
not depend on how much black padding follows it: a line reads the same alone or padded in a
batch, up to float rounding. (The content is a whole number of poolings wide, so no pooling
window straddles its end.) An image with no ink at all keeps one frame.

Context. ``encoder`` picks what runs over the frames: ``"lstm"``, a bidirectional LSTM of
``encoder_layers`` layers (``encoder_size / 2`` units each way, over packed sequences so padding
never enters it); ``"transformer"``, a pre-norm transformer encoder of ``encoder_layers`` layers
with :data:`TRANSFORMER_HEADS` heads, padding masked out of its self-attention; ``"none"``, the
projected frames as they are. Sinusoidal position encodings are added to the frames (after the
LSTM, before the transformer), so that the attention can tell where along the line a frame lies.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from textrec_lines.padding import content_widths

#: Pixels of line per frame: three 2x2 poolings.
FRAME_STRIDE = 8
#: Attention heads of the ``"transformer"`` context encoder.
TRANSFORMER_HEADS = 4
ENCODERS = ("lstm", "transformer", "none")


class Frames(NamedTuple):
    """Encoder output: ``values`` ``(B, T, encoder_size)`` and ``mask`` ``(B, T)``, true on real frames."""

    values: torch.Tensor
    mask: torch.Tensor


def sinusoids(length: int, size: int, device: torch.device) -> torch.Tensor:
    """The transformer's sinusoidal position encodings, ``(length, size)``."""
    positions = torch.arange(length, device=device, dtype=torch.float32).unsqueeze(1)
    frequencies = torch.exp(torch.arange(0, size, 2, device=device, dtype=torch.float32) * (-math.log(1e4) / size))
    table = torch.zeros(length, size + size % 2, device=device)
    table[:, 0::2] = torch.sin(positions * frequencies)
    table[:, 1::2] = torch.cos(positions * frequencies)
    return table[:, :size]


def _clear_padding(features: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
    """``features`` ``(B, C, H, W)`` with every column at or right of each image's width set to zero."""
    columns = torch.arange(features.shape[3], device=features.device)
    return features * (columns < widths[:, None]).to(features.dtype)[:, None, None]


class ConvFrames(nn.Module):
    """The CNN: images ``(B, H, W)`` -> frames ``(B, T, frame_size)``; see the module docstring."""

    def __init__(self, height: int, conv_channels: int) -> None:
        super().__init__()
        channels = [conv_channels, 2 * conv_channels, 4 * conv_channels]
        self.first = nn.Conv2d(1, conv_channels, 4, stride=2, padding=1)
        self.convs = nn.ModuleList(nn.Conv2d(c_in, c_out, 3, padding=1) for c_in, c_out in zip(channels, channels[1:]))
        self.frame_size = channels[-1] * (height // FRAME_STRIDE)

    def forward(self, images: torch.Tensor, widths: torch.Tensor) -> torch.Tensor:
        """Frames of ``images`` cut or padded to the widest of ``widths``, each image's content width
        rounded up to a positive multiple of 8 pixels."""
        features = F.pad(images, (0, int(widths.max()) - images.shape[2])).unsqueeze(1)
        widths = widths // 2
        features = _clear_padding(F.relu(self.first(features)), widths)
        for conv in self.convs:
            widths = widths // 2
            features = _clear_padding(F.max_pool2d(F.relu(conv(features)), 2), widths)
        batch, channels, rows, length = features.shape
        return features.permute(0, 3, 1, 2).reshape(batch, length, channels * rows)


class Encoder(nn.Module):
    """Images ``(B, H, W)`` -> :class:`Frames`; see the module docstring."""

    def __init__(self, height: int, *, conv_channels: int, encoder: str, encoder_size: int, encoder_layers: int,
                 dropout: float) -> None:
        super().__init__()
        self.kind = encoder
        self.cnn = ConvFrames(height, conv_channels)
        self.project = nn.Sequential(nn.Linear(self.cnn.frame_size, encoder_size), nn.LayerNorm(encoder_size),
                                     nn.Dropout(dropout))
        self.context: nn.Module | None = None
        if encoder == "lstm":
            self.context = nn.LSTM(encoder_size, encoder_size // 2, num_layers=encoder_layers, batch_first=True,
                                   bidirectional=True, dropout=dropout if encoder_layers > 1 else 0.0)
        elif encoder == "transformer":
            layer = nn.TransformerEncoderLayer(encoder_size, TRANSFORMER_HEADS, 2 * encoder_size, dropout,
                                               batch_first=True, norm_first=True)
            self.context = nn.TransformerEncoder(layer, encoder_layers, enable_nested_tensor=False)

    def forward(self, images: torch.Tensor) -> Frames:
        lengths = (content_widths(images).clamp(min=1) + FRAME_STRIDE - 1) // FRAME_STRIDE
        values = self.project(self.cnn(images, lengths * FRAME_STRIDE))
        mask = torch.arange(values.shape[1], device=values.device) < lengths[:, None]
        positions = sinusoids(values.shape[1], values.shape[2], values.device).to(values.dtype)
        if self.kind == "lstm":
            packed = pack_padded_sequence(values, lengths.cpu(), batch_first=True, enforce_sorted=False)
            values = pad_packed_sequence(self.context(packed)[0], batch_first=True, total_length=values.shape[1])[0]
            values = values + positions
        elif self.kind == "transformer":
            values = self.context(values + positions, src_key_padding_mask=~mask)
        else:
            values = values + positions
        return Frames(values, mask)
