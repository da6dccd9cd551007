"""``line_attention``: output shapes for any width, padding that changes nothing, decoding, argument
checks and registration."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import textrec_attention.plugin
from textrec_attention import LineAttention, line_attention
from textrec_core import CharacterMapping, DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.mapping import BLANK, EMNIST_MAPPING, END, LINE_MAPPING, PAD, START
from textrec_core.plugins import components, reset_host
from textrec_core.testing import assert_declares_class_indexed
from textrec_lines.padding import content_widths

NUM_CLASSES = len(LINE_MAPPING)
ENCODERS = ["lstm", "transformer", "none"]
SMALL = {"conv_channels": 4, "encoder_size": 16, "decoder_size": 16, "embedding_size": 8}


def line_shapes(max_length: int = 5, height: int = 28) -> DataShapes:
    return DataShapes((height, 28 * max_length), (max_length,), LINE_MAPPING)


def small_network(encoder: str = "lstm", seed: int = 0, **args) -> LineAttention:
    torch.manual_seed(seed)
    return line_attention(line_shapes(), encoder=encoder, **{**SMALL, **args}).eval()


@pytest.mark.parametrize("encoder", ENCODERS)
@pytest.mark.parametrize("width", [1, 9, 61, 952])
def test_logits_have_one_row_per_decoder_input_at_any_width(encoder, width):
    network = small_network(encoder)
    for batch, length in [(1, 1), (3, 6), (2, 36)]:
        targets_in = torch.randint(0, NUM_CLASSES, (batch, length))
        logits = network(torch.rand(batch, 28, width), targets_in)
        assert logits.shape == (batch, length, NUM_CLASSES)
        assert logits.isfinite().all()


def test_other_heights_are_rejected_at_run_time():
    with pytest.raises(ValueError, match=r"line_attention reads images \(B, 28, W\), got \(2, 32, 50\)"):
        small_network()(torch.rand(2, 32, 50), torch.zeros(2, 1, dtype=torch.long))


def test_frames_cover_the_content_eight_pixels_each():
    images = torch.zeros(4, 28, 100)
    images[0, 3, 0] = 1.0  # one pixel: one frame
    images[1, :, 40] = 0.5  # content 41 pixels: 6 frames
    images[2, 5, 99] = 0.1  # the whole width: 13 frames
    assert content_widths(images).tolist() == [1, 41, 100, 0]
    frames = small_network().encoder(images)
    assert frames.values.shape == (4, 13, SMALL["encoder_size"])
    assert frames.mask.sum(dim=1).tolist() == [1, 6, 13, 1]  # a blank image keeps one frame


@pytest.mark.parametrize("encoder", ENCODERS)
def test_trailing_black_padding_changes_nothing(encoder):
    """A line reads the same alone, with black columns of its own, or padded in a batch with a wider line."""
    network = small_network(encoder)
    torch.manual_seed(1)
    short, wide = torch.rand(28, 45), torch.rand(28, 131)
    short[:, 40:] = 0.0  # its last five columns are background
    batch = torch.zeros(2, 28, 131)
    batch[0, :, :45], batch[1] = short, wide
    targets_in = torch.randint(0, NUM_CLASSES, (2, 7))
    with torch.no_grad():
        together = network(batch, targets_in)
        for alone in (network(short[None], targets_in[:1]), network(short[None, :, :40], targets_in[:1])):
            torch.testing.assert_close(alone[0], together[0], atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(network(wide[None], targets_in[1:])[0], together[1], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_dropout_is_active_in_training_and_off_in_evaluation(encoder):
    network = small_network(encoder, dropout=0.5)
    images, targets_in = torch.rand(2, 28, 80), torch.randint(0, NUM_CLASSES, (2, 4))
    network.train()
    assert not torch.equal(network(images, targets_in), network(images, targets_in))
    network.eval()
    assert torch.equal(network(images, targets_in), network(images, targets_in))


def test_convolution_weights_are_channels_last():
    convs = [m for m in small_network().modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 3
    assert all(conv.weight.is_contiguous(memory_format=torch.channels_last) for conv in convs)


def test_arguments_set_the_layer_sizes():
    network = line_attention(line_shapes(), conv_channels=4, encoder_size=24, encoder_layers=2, decoder_size=20,
                             embedding_size=6)
    cnn = network.encoder.cnn
    assert [c.out_channels for c in [cnn.first, *cnn.convs]] == [4, 8, 16]
    assert (cnn.first.kernel_size, cnn.first.stride) == ((4, 4), (2, 2))
    assert network.frame_classifier.in_features == 24 and network.frame_classifier.out_features == len(LINE_MAPPING)
    assert network.encoder.project[0].in_features == 16 * (28 // 8)
    lstm = network.encoder.context
    assert (lstm.input_size, lstm.hidden_size, lstm.num_layers, lstm.bidirectional) == (24, 12, 2, True)
    assert network.decoder.embedding.weight.shape == (NUM_CLASSES, 6)
    assert network.decoder.cell.hidden_size == 20
    assert network.decoder.classifier[-1].out_features == NUM_CLASSES
    assert line_attention(line_shapes(), encoder="transformer", encoder_layers=3).encoder.context.num_layers == 3
    assert line_attention(line_shapes(), encoder="none").encoder.context is None


def test_max_output_length_defaults_to_the_labels_length_plus_start_and_end():
    assert line_attention(line_shapes(34)).max_output_length == 36
    assert line_attention(line_shapes(34), max_output_length=10).max_output_length == 10


def never_stopping_network() -> LineAttention:
    """A network whose decoder always says "a" (and, louder still, the tokens it may never emit)."""
    network = small_network()
    classifier = network.decoder.classifier[-1]
    nn.init.zeros_(classifier.weight)
    nn.init.zeros_(classifier.bias)
    with torch.no_grad():
        classifier.bias[LINE_MAPPING.index("a")] = 5.0
        for token in (START, PAD, BLANK):
            classifier.bias[LINE_MAPPING.index(token)] = 50.0
    return network


def test_greedy_decoding_never_emits_start_pad_or_blank_and_stops_at_max_length():
    network = never_stopping_network()
    tokens, log_probs = network.decode_greedy(torch.rand(2, 28, 60))
    assert tokens.shape == log_probs.shape == (2, network.max_output_length - 1)
    assert (tokens == LINE_MAPPING.index("a")).all()
    tokens, _ = network.decode_greedy(torch.rand(2, 28, 60), max_length=3)
    assert tokens.shape == (2, 3)


def test_greedy_decoding_stops_at_end():
    network = never_stopping_network()
    with torch.no_grad():
        network.decoder.classifier[-1].bias[LINE_MAPPING.index(END)] = 10.0
    tokens, log_probs = network.decode_greedy(torch.rand(3, 28, 60))
    assert tokens.tolist() == [[LINE_MAPPING.index(END)]] * 3
    assert (log_probs < 0).all() and (log_probs > -0.01).all()


@pytest.mark.parametrize("encoder", ENCODERS)
def test_beam_search_of_width_one_is_greedy_decoding(encoder):
    network = small_network(encoder, seed=3)
    with torch.no_grad():  # make sequences end at different steps
        network.decoder.classifier[-1].bias[LINE_MAPPING.index(END)] = 3.0
    images = torch.rand(6, 28, 90)
    images[:3, :, 50:] = 0.0
    tokens, log_probs = network.decode_greedy(images, max_length=12)
    end = LINE_MAPPING.index(END)
    assert any(end in row for row in tokens.tolist())
    for row, row_log_probs, hypothesis in zip(tokens.tolist(), log_probs.tolist(), network.decode_beam(images, 1, 12)):
        length = row.index(end) + 1 if end in row else len(row)
        assert hypothesis.tokens == row[:length]
        assert hypothesis.log_probs == pytest.approx(row_log_probs[:length], abs=1e-5)


def test_each_image_is_encoded_once_per_decoding():
    network = small_network()
    calls = []
    network.encoder.register_forward_hook(lambda *_: calls.append(1))
    network.decode_greedy(torch.rand(2, 28, 60), max_length=5)
    network.decode_beam(torch.rand(2, 28, 60), beam_width=3, max_length=5)
    assert len(calls) == 2


def test_bfloat16_autocast_runs_the_forward_pass():
    network = small_network().train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits = network(torch.rand(2, 28, 70), torch.randint(0, NUM_CLASSES, (2, 5)))
    assert logits.dtype == torch.bfloat16 and logits.isfinite().all()


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (DataShapes((28 * 4,), (4,), LINE_MAPPING), r"2-D line images \(H, W\) at least 8 pixels tall"),
        (DataShapes((7, 100), (4,), LINE_MAPPING), r"at least 8 pixels tall, got input shape \(7, 100\)"),
        (DataShapes((28, 100), (), LINE_MAPPING), r"labels of shape \(max_length,\), got \(\)"),
        (DataShapes((28, 100), (0,), LINE_MAPPING), r"labels of shape \(max_length,\), got \(0,\)"),
        (DataShapes((28, 100), (4,), EMNIST_MAPPING), r"line_attention needs the <pad>, <blank>, <start>, <end> tokens "
                                                      r"in the label mapping"),
    ],
)
def test_data_it_cannot_read_is_rejected(shapes, message):
    with pytest.raises(ValueError, match=message) as raised:
        line_attention(shapes)
    assert not isinstance(raised.value, ArgumentError)


@pytest.mark.parametrize(
    ("args", "argument", "problem"),
    [
        ({"encoder": "gru"}, "encoder", "must be one of 'lstm', 'transformer', 'none', got 'gru'"),
        ({"conv_channels": 0}, "conv_channels", "must be at least 1, got 0"),
        ({"encoder_layers": 0}, "encoder_layers", "must be at least 1, got 0"),
        ({"decoder_size": 0}, "decoder_size", "must be at least 1, got 0"),
        ({"embedding_size": -1}, "embedding_size", "must be at least 1, got -1"),
        ({"encoder_size": 33}, "encoder_size", "the lstm encoder splits it between two directions: it must be even, "
                                               "got 33"),
        ({"encoder": "transformer", "encoder_size": 18}, "encoder_size",
         "the transformer encoder has 4 heads: it must be a multiple of 4, got 18"),
        ({"max_output_length": 1}, "max_output_length",
         "counts <start> and <end>: it must be at least 2 (or 0 for the labels' max_length + 2), got 1"),
        ({"max_output_length": -3}, "max_output_length",
         "counts <start> and <end>: it must be at least 2 (or 0 for the labels' max_length + 2), got -3"),
        ({"dropout": 1.0}, "dropout", "must be in [0, 1), got 1.0"),
    ],
)
def test_impossible_settings_are_rejected_naming_the_argument(args, argument, problem):
    with pytest.raises(ArgumentError) as raised:
        line_attention(line_shapes(), **args)
    assert (raised.value.argument, raised.value.problem) == (argument, problem)


def test_the_special_tokens_come_from_the_datasets_alphabet():
    """Another alphabet (special tokens first, as another dataset may order them) moves them; no global mapping."""
    alphabet = CharacterMapping((END, BLANK, "a", PAD, "b", START, " "))
    network = line_attention(DataShapes((28, 100), (4,), alphabet), **SMALL)
    assert (network.start_index, network.end_index) == (5, 0)
    assert network.never_emitted.tolist() == [False, True, False, True, False, True, False]
    assert network.decoder.classifier[-1].out_features == network.frame_classifier.out_features == 7
    tokens, _ = network.eval().decode_greedy(torch.rand(2, 28, 60), max_length=4)
    assert not set(tokens.flatten().tolist()) & {1, 3, 5}


def test_decoding_settings_are_checked():
    network = small_network()
    with pytest.raises(ValueError, match="beam_width must be at least 1, got 0"):
        network.decode_beam(torch.rand(1, 28, 30), beam_width=0)
    with pytest.raises(ValueError, match="max_length must be at least 1"):
        network.decode_greedy(torch.rand(1, 28, 30), max_length=0)


def test_plugin_module_registers_the_network(bare_host, textrec_plugin):
    assert "line_attention" not in components()["network"]
    textrec_plugin(textrec_attention.plugin, name="textrec-attention")
    assert components().get("network", "line_attention") is line_attention


def test_installed_entry_point_provides_the_network():
    reset_host()
    entry = components()["network"].get("line_attention")
    assert (entry.obj, entry.provider) == (line_attention, "textrec-attention")


@pytest.mark.parametrize("encoder", ENCODERS)
def test_the_tensors_indexed_by_the_alphabet_are_declared(encoder):
    """The token embedding, the decoder's classifier and the frame classifier (for fine-tuning on another alphabet)."""
    assert_declares_class_indexed(line_attention, line_shapes(), encoder=encoder, **SMALL)
