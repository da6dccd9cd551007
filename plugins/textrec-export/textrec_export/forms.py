"""Traceable forms of textrec's networks: the modules that ``torch.onnx.export`` traces into a graph.

The exporter is torch's TorchScript-based one (``dynamo=False``): the ``torch.export``-based one
cannot follow the packed LSTM of ``line_lstm_ctc``, whose sizes depend on the data. It traces a
forward pass on one example input, so Python arithmetic on sizes (``math.ceil``, ``max``) becomes
constants of the graph, and ONNX exports adaptive average pooling only where the input size is
static. A network computing either is traced through its *form*: a module holding the network (its
submodules, its weights) and computing the same function with tensor operations on sizes. The
exporter compares every graph with the eager network itself on inputs of several batch sizes and
widths, so a form that drifted from its network is refused, never served.

* ``line_lstm_ctc``: batch and width dynamic. The frame count and the padding to whole windows are
  computed on tensors; the packed LSTM becomes ONNX ``LSTM`` with each line's frames of content as
  its sequence lengths, so a line reads the same alone or in a batch, as in torch.
* ``line_cnn_all_conv``, ``line_cnn_time_distributed``: batch dynamic, width fixed (their model,
  ``LineModel``, reads lines fitted to the training width). The adaptive average pooling of window
  logits into output positions is a product with its constant ``(windows, positions)`` matrix.
* ``line_attention`` is refused (:data:`REFUSED`): its model reads step by step.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.onnx.operators import shape_as_tensor

from textrec_core.errors import TextrecError
from textrec_lines.padding import content_widths


class UnsupportedNetwork(TextrecError):
    """The bundle's network has no form the exporter can trace, or tracing it failed."""


@dataclass(frozen=True)
class Form:
    """What is traced (``module``, computing the network's forward pass) and whether the graph
    reads any width (``dynamic_width``) or only the bundle's input width."""

    module: nn.Module
    dynamic_width: bool


class LstmCtcForm(nn.Module):
    """``line_lstm_ctc``'s forward pass with its frame count computed on tensors."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        net = self.network
        frames = net.output_lengths(shape_as_tensor(images)[2:3])
        padded = (frames[0] - 1) * net.window_stride + net.window_width
        room = images.new_zeros(images.shape[0], images.shape[1], net.window_width)
        windows = torch.cat([images, room], dim=2)[:, :, :padded]
        features = net.normalize(net.frames(windows.unsqueeze(1)).squeeze(2).transpose(1, 2))
        lengths = net.output_lengths(content_widths(images)).clamp(max=features.shape[1])
        packed = pack_padded_sequence(features, lengths.cpu(), batch_first=True, enforce_sorted=False)
        sequence, _ = pad_packed_sequence(net.lstm(packed)[0], batch_first=True, total_length=features.shape[1])
        return net.classifier(sequence)


def position_matrix(num_windows: int, max_length: int) -> torch.Tensor:
    """``(num_windows, max_length)``: window ``i``'s weight in each output position's average, as
    ``F.adaptive_avg_pool1d`` of the windows into ``max_length`` positions takes it."""
    return F.adaptive_avg_pool1d(torch.eye(num_windows).unsqueeze(0), max_length)[0]


class PooledWindowsForm(nn.Module):
    """A line CNN's forward pass, its window logits averaged into positions by a constant matrix
    product; subclasses compute the window logits as their network does."""

    def __init__(self, network: nn.Module) -> None:
        super().__init__()
        self.network = network
        windows = network.windows
        self.register_buffer("positions", position_matrix(windows.num_windows, windows.max_length).T.contiguous())

    def window_logits(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, num_windows, num_classes)``."""
        raise NotImplementedError

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return torch.matmul(self.positions, self.window_logits(images))


class AllConvForm(PooledWindowsForm):
    """``line_cnn_all_conv``: convolutions over the whole line, one column of logits per window."""

    def window_logits(self, images: torch.Tensor) -> torch.Tensor:
        net = self.network
        return net.classifier(net.features(images.unsqueeze(1))).squeeze(2).transpose(1, 2)


class TimeDistributedForm(PooledWindowsForm):
    """``line_cnn_time_distributed``: a LeNet on each window."""

    def window_logits(self, images: torch.Tensor) -> torch.Tensor:
        net = self.network
        width, stride = net.windows.window_width, net.windows.window_stride
        patches = images.unfold(2, width, stride).permute(0, 2, 1, 3).reshape(-1, 1, images.shape[1], width)
        return net.classifier(net.features(patches)).view(images.shape[0], -1, net.classifier[-1].out_features)


#: Networks the exporter traces, by registered name: their form, and whether its graph reads any width.
FORMS: dict[str, tuple[type[nn.Module], bool]] = {
    "line_lstm_ctc": (LstmCtcForm, True),
    "line_cnn_all_conv": (AllConvForm, False),
    "line_cnn_time_distributed": (TimeDistributedForm, False),
}

#: Networks that cannot be exported, by registered name: why.
REFUSED = {
    "line_attention": "its model, LineModelAttention, reads a line with an autoregressive decoder: a loop of "
                      "decoder steps, one per character (greedy or a beam search), over the encoder's output, which "
                      "no single forward pass of the network holds",
}


def check_exportable(name: str) -> None:
    """:class:`UnsupportedNetwork`, naming why, unless the network registered as ``name`` has a form."""
    if name in REFUSED:
        raise UnsupportedNetwork(f"network {name!r} cannot be exported: {REFUSED[name]}")
    if name not in FORMS:
        raise UnsupportedNetwork(f"network {name!r} cannot be exported: textrec-export traces only "
                                 f"{', '.join(sorted(FORMS))}")


def graph_form(name: str, network: nn.Module) -> Form:
    """The form to trace of ``network``, registered as ``name`` (see :func:`check_exportable`)."""
    check_exportable(name)
    form, dynamic_width = FORMS[name]
    return Form(form(network), dynamic_width)
