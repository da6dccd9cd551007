"""The line CNNs: output shapes, window layout, the time-distributed == all-conv equivalence,
argument checks and registration."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import textrec_line_cnn.plugin
from textrec_core import CharacterMapping, DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.mapping import LINE_MAPPING
from textrec_core.plugins import components, reset_host
from textrec_core.testing import assert_declares_class_indexed
from textrec_line_cnn import (
    LineCnnAllConv,
    LineCnnTimeDistributed,
    copy_time_distributed_weights,
    line_cnn_all_conv,
    line_cnn_time_distributed,
)

NETWORKS = [line_cnn_time_distributed, line_cnn_all_conv]
SMALL = {"conv_channels": 3, "dense_size": 8}


def line_shapes(max_length: int, width: int | None = None, height: int = 28) -> DataShapes:
    """The lines dataset's shapes: fixed width ``28 * max_length`` unless given."""
    return DataShapes((height, width or 28 * max_length), (max_length,), LINE_MAPPING)


def equivalent_pair(shapes: DataShapes, **args) -> tuple[nn.Module, nn.Module]:
    """A random time-distributed network and an all-conv one carrying its weights, in eval mode."""
    time_distributed = line_cnn_time_distributed(shapes, **args)
    all_conv = line_cnn_all_conv(shapes, **args)
    copy_time_distributed_weights(time_distributed, all_conv)
    return time_distributed.eval(), all_conv.eval()


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize(
    ("shapes", "args", "num_windows"),
    [
        (line_shapes(1), {}, 1),
        (line_shapes(4), {}, 4),
        (line_shapes(34), {}, 34),
        (line_shapes(4), {"window_stride": 14}, 7),
        (line_shapes(4), {"window_width": 20, "window_stride": 10}, 10),
        (line_shapes(3, width=101), {"window_width": 16, "window_stride": 8}, 11),  # right edge unread
        (line_shapes(5, height=32), {"window_width": 6, "window_stride": 2}, 68),
        (DataShapes((28, 56), (2,), CharacterMapping(("a", "b", "<pad>"))), {"window_stride": 28}, 2),
    ],
)
def test_output_is_one_row_of_logits_per_position(network, shapes, args, num_windows):
    module = network(shapes, **SMALL, **args)
    assert module.windows.num_windows == num_windows
    for batch in (1, 3):
        logits = module(torch.rand(batch, *shapes.input_shape))
        assert logits.shape == (batch, shapes.output_shape[0], shapes.num_classes)


def test_layers_are_the_lenet_and_its_convolutional_form():
    shapes = line_shapes(4)
    time_distributed = line_cnn_time_distributed(shapes, conv_channels=4, dense_size=24)
    assert [(m.in_features, m.out_features) for m in time_distributed.modules() if isinstance(m, nn.Linear)] == [
        (8 * 12 * 12, 24), (24, len(LINE_MAPPING)),
    ]
    all_conv = line_cnn_all_conv(shapes, conv_channels=4, dense_size=24, window_stride=14)
    dense, last = (m for m in all_conv.classifier if isinstance(m, nn.Conv2d))
    assert (dense.kernel_size, dense.stride, last.kernel_size) == ((12, 12), (1, 7), (1, 1))


@pytest.mark.parametrize(
    ("shapes", "args"),
    [
        (line_shapes(6), {}),  # the lab's setting: one 28-pixel window per character
        (line_shapes(6), {"window_stride": 14}),
        (line_shapes(5), {"window_width": 20, "window_stride": 6}),
        (line_shapes(3, width=97, height=31), {"window_width": 18, "window_stride": 10}),
    ],
)
def test_time_distributed_and_all_conv_compute_the_same_function(shapes, args):
    torch.manual_seed(0)
    time_distributed, all_conv = equivalent_pair(shapes, conv_channels=4, dense_size=16, **args)
    images = torch.rand(3, *shapes.input_shape)
    with torch.no_grad():
        expected, actual = time_distributed(images), all_conv(images)
    assert expected.abs().max() > 0.01  # a real comparison, not of two near-zero tensors
    torch.testing.assert_close(actual, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("network", NETWORKS)
def test_with_one_window_per_character_a_position_sees_only_its_window(network):
    """Valid 3x3 convolutions over the whole line do not leak a window's pixels into its neighbours."""
    torch.manual_seed(0)
    module = network(line_shapes(5), **SMALL).eval()
    images = torch.rand(1, 28, 140)
    changed = images.clone()
    changed[:, :, 56:84] = torch.rand(1, 28, 28)  # window 2 only
    with torch.no_grad():
        moved = (module(changed) - module(images)).abs().amax(dim=2)[0]
    assert moved[2] > 1e-4
    assert torch.all(moved[[0, 1, 3, 4]] == 0)


@pytest.mark.parametrize("network", NETWORKS)
def test_dropout_is_active_in_training_and_off_in_evaluation(network):
    torch.manual_seed(0)
    module = network(line_shapes(3), dropout=0.5, **SMALL)
    images = torch.rand(2, 28, 84)
    module.train()
    assert not torch.equal(module(images), module(images))
    module.eval()
    assert torch.equal(module(images), module(images))


def test_copying_weights_between_different_networks_is_refused():
    shapes = line_shapes(4)
    with pytest.raises(ValueError, match="read different windows"):
        copy_time_distributed_weights(line_cnn_time_distributed(shapes, **SMALL),
                                      line_cnn_all_conv(shapes, window_stride=14, **SMALL))
    with pytest.raises(ValueError, match=r"features\.0\.weight has 27 weights in the source, 36 here"):
        copy_time_distributed_weights(line_cnn_time_distributed(shapes, **SMALL),
                                      line_cnn_all_conv(shapes, conv_channels=4, dense_size=8))


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (DataShapes((28 * 4,), (4,), LINE_MAPPING), r"2-D line images \(H, W\) at least 6 pixels tall, got input shape "
                                                     r"\(112,\)"),
        (DataShapes((1, 28, 112), (4,), LINE_MAPPING), r"2-D line images"),
        (DataShapes((28, 112), (), LINE_MAPPING), r"labels of shape \(max_length,\), got \(\)"),
        (DataShapes((28, 112), (4, 2), LINE_MAPPING), r"labels of shape \(max_length,\), got \(4, 2\)"),
        (DataShapes((28, 112), (0,), LINE_MAPPING), r"labels of shape \(max_length,\), got \(0,\)"),
        (line_shapes(4, height=5), r"2-D line images \(H, W\) at least 6 pixels tall, got input shape \(5, 112\)"),
    ],
)
def test_shapes_no_line_cnn_reads_are_rejected(network, shapes, message):
    with pytest.raises(ValueError, match=f"{network.__name__} reads {message}") as raised:
        network(shapes)
    assert not isinstance(raised.value, ArgumentError)


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize(
    ("shapes", "args", "argument", "problem"),
    [
        (line_shapes(1, width=20), {}, "window_width", "must be at most the image width (20 pixels), got 28"),
        (line_shapes(4), {"window_width": 4}, "window_width", "must be even and at least 6, got 4"),
        (line_shapes(4), {"window_width": 27}, "window_width", "must be even and at least 6, got 27"),
        (line_shapes(4), {"window_stride": 7}, "window_stride", "must be even and at least 2, got 7"),
        (line_shapes(4), {"window_stride": 0}, "window_stride", "must be even and at least 2, got 0"),
        (line_shapes(4), {"window_stride": 30}, "window_stride",
         "3 windows (28 pixels wide every 30 over 112) cannot fill 4 output positions; use a smaller window_stride"),
        (line_shapes(4), {"conv_channels": 0}, "conv_channels", "must be at least 1, got 0"),
        (line_shapes(4), {"dense_size": -3}, "dense_size", "must be at least 1, got -3"),
        (line_shapes(4), {"dropout": 1.0}, "dropout", "must be in [0, 1), got 1.0"),
    ],
)
def test_impossible_settings_are_rejected_naming_the_argument(network, shapes, args, argument, problem):
    with pytest.raises(ArgumentError) as raised:
        network(shapes, **args)
    assert (raised.value.argument, raised.value.problem) == (argument, problem)


def test_plugin_module_registers_both_networks(bare_host, textrec_plugin):
    assert "line_cnn_all_conv" not in components()["network"]
    textrec_plugin(textrec_line_cnn.plugin, name="textrec-line-cnn")
    assert components().get("network", "line_cnn_time_distributed") is line_cnn_time_distributed
    assert components().get("network", "line_cnn_all_conv") is line_cnn_all_conv


def test_installed_entry_point_provides_the_networks():
    reset_host()
    for name, network, cls in [("line_cnn_time_distributed", line_cnn_time_distributed, LineCnnTimeDistributed),
                               ("line_cnn_all_conv", line_cnn_all_conv, LineCnnAllConv)]:
        entry = components()["network"].get(name)
        assert entry.obj is network
        assert entry.provider == "textrec-line-cnn"
        assert isinstance(entry.obj(line_shapes(2), **SMALL), cls)


@pytest.mark.parametrize("network", NETWORKS)
def test_the_output_layer_is_declared_class_indexed(network):
    assert_declares_class_indexed(network, line_shapes(4), **SMALL)
