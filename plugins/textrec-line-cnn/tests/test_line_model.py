"""``LineModel``: loss, metrics and reading on hand-built logits, evaluation, registration, and
memorising a few synthetic lines."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

import textrec_line_cnn.plugin
from textrec_core import DataShapes, TensorSplit
from textrec_core.config import TrainArgs
from textrec_core.mapping import BLANK, EMNIST_MAPPING, LINE_MAPPING, PAD
from textrec_core.plugins import components, reset_host
from textrec_core.services.metrics import character_error_rate
from textrec_line_cnn import LineModel, line_cnn_all_conv, line_cnn_time_distributed

NUM_CLASSES = len(LINE_MAPPING)


def fake_dataset(max_length: int, mapping=LINE_MAPPING, split: TensorSplit | None = None) -> SimpleNamespace:
    shapes = DataShapes((28, 28 * max_length), (max_length,), mapping)
    return SimpleNamespace(shapes=shapes, train=split, val=split, test=split)


def labels_of(*texts: str, max_length: int) -> torch.Tensor:
    """Line labels: each text's indices, padded with ``<pad>`` to ``max_length``."""
    pad = LINE_MAPPING.index(PAD)
    return torch.tensor([LINE_MAPPING.encode(text) + [pad] * (max_length - len(text)) for text in texts])


def confident_logits(labels: torch.Tensor, margin: float = 20.0) -> torch.Tensor:
    """Logits whose argmax at every position is the given label, by ``margin``."""
    return nn.functional.one_hot(labels, NUM_CLASSES).float() * margin


def model_for(max_length: int, network: nn.Module | None = None, split: TensorSplit | None = None) -> LineModel:
    return LineModel(fake_dataset(max_length, split=split), network or nn.Identity())


def test_loss_is_the_mean_cross_entropy_over_every_position_padding_included():
    model = model_for(4)
    labels = labels_of("ab", "abcd", max_length=4)
    assert model.loss(torch.zeros(2, 4, NUM_CLASSES), labels).item() == pytest.approx(math.log(NUM_CLASSES))
    assert model.loss(confident_logits(labels), labels).item() < 1e-6
    logits = confident_logits(labels)
    logits[0, 3] = 0.0  # one uniform position (a pad) out of eight
    assert model.loss(logits, labels).item() == pytest.approx(math.log(NUM_CLASSES) / 8, rel=1e-4)


def test_batch_metrics_known_answers():
    model = model_for(5)
    labels = labels_of("abc", "hello", "", max_length=5)
    predicted = labels_of("xbc", "hallo", "zz", max_length=5)  # 2 of 3, 4 of 5, empty line: 1
    metrics = model.batch_metrics(confident_logits(predicted), labels)
    assert metrics["character_accuracy_sum"] == pytest.approx(2 / 3 + 4 / 5 + 1)
    assert metrics["char_edits"] == 1 + 1 + 2
    assert metrics["truth_chars"] == 3 + 5 + 0


def test_predicting_pad_for_a_character_counts_against_accuracy():
    model = model_for(4)
    labels, predicted = labels_of("abcd", max_length=4), labels_of("ab", max_length=4)
    assert model.batch_metrics(confident_logits(predicted), labels)["character_accuracy_sum"] == 0.5


def test_reading_drops_trailing_pads_and_reads_inner_pads_as_spaces():
    model = model_for(8)
    pad, blank = LINE_MAPPING.index(PAD), LINE_MAPPING.index(BLANK)
    h, i, t = (LINE_MAPPING.index(c) for c in "hit")
    indices = torch.tensor([
        [h, i, pad, t, pad, pad, pad, pad],  # a blank window between words read as <pad>
        [pad] * 8,
        [h, blank, i, t, t, t, t, t],  # other special tokens read as nothing
        [pad, h, i, pad, pad, pad, pad, pad],
    ])
    expected = ["hi t", "", "hittttt", " hi"]
    assert [text for text, _ in model.decode(confident_logits(indices))] == expected


def test_label_text_reads_padded_labels():
    model = model_for(6)
    assert model.label_text(labels_of("a b", "", "Zz9 0x", max_length=6)) == ["a b", "", "Zz9 0x"]


def test_confidence_is_the_product_of_every_positions_top_probability():
    model = model_for(3)
    top = torch.tensor([[0.5, 0.9, 0.8], [1 / NUM_CLASSES] * 3])
    probs = ((1 - top) / (NUM_CLASSES - 1)).unsqueeze(-1).repeat(1, 1, NUM_CLASSES)
    winners = labels_of("ab", "xyz", max_length=3)
    probs.scatter_(2, winners.unsqueeze(-1), top.unsqueeze(-1))
    (text, confidence), (_, uniform) = model.decode(probs.log())
    assert text == "ab"
    assert confidence == pytest.approx(0.5 * 0.9 * 0.8, rel=1e-5)
    assert uniform == pytest.approx(NUM_CLASSES ** -3, rel=1e-4)


class ReadsPixels(nn.Module):
    """A stand-in network: row 0 of each image holds, in its first pixels, the indices to predict."""

    def __init__(self, max_length: int) -> None:
        super().__init__()
        self.max_length = max_length

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        indices = (images[:, 0, : self.max_length] * 255).round().long()
        return confident_logits(indices)


def test_evaluate_reports_corpus_level_cer_over_all_batches():
    truths = ["hello", "a", "to be", "", "xyz"]
    readings = ["hallo", "b", "to be", "", "xyzw"]
    images = torch.zeros(len(truths), 28, 140, dtype=torch.uint8)
    images[:, 0, :5] = labels_of(*readings, max_length=5).to(torch.uint8)
    split = TensorSplit(images, labels_of(*truths, max_length=5))
    model = model_for(5, ReadsPixels(5), split)
    metrics = model.evaluate(split, batch_size=2)
    assert set(metrics) == {"loss", "character_accuracy", "cer"}
    assert metrics["cer"] == pytest.approx(character_error_rate(readings, truths))
    assert metrics["cer"] == pytest.approx(3 / 14)  # not the mean per-line rate (0.24)
    assert metrics["character_accuracy"] == pytest.approx((4 / 5 + 0 + 1 + 1 + 1) / 5)


def test_an_empty_split_has_zero_metrics():
    split = TensorSplit(torch.zeros(0, 28, 140, dtype=torch.uint8), torch.zeros(0, 5, dtype=torch.long))
    assert model_for(5, ReadsPixels(5), split).evaluate(split) == {"loss": 0.0, "character_accuracy": 0.0, "cer": 0.0}


def test_a_model_rebuilt_for_inference_reads_like_the_trained_one():
    model = model_for(4)
    logits = confident_logits(labels_of("ab c", max_length=4))
    rebuilt = LineModel.for_inference(nn.Identity(), model.shapes)
    assert rebuilt.decode(logits) == model.decode(logits)


def test_a_mapping_without_pad_is_rejected():
    with pytest.raises(ValueError, match="LineModel needs the <pad> token in the label mapping"):
        LineModel(fake_dataset(4, mapping=EMNIST_MAPPING), nn.Identity())


def test_single_character_labels_are_rejected():
    dataset = SimpleNamespace(shapes=DataShapes((28, 28), (), LINE_MAPPING))
    with pytest.raises(ValueError, match=r"LineModel reads labels of shape \(max_length,\), got \(\)"):
        LineModel(dataset, nn.Identity())


def test_plugin_module_registers_line_model(bare_host, textrec_plugin):
    assert "LineModel" not in components()["model"]
    textrec_plugin(textrec_line_cnn.plugin, name="textrec-line-cnn")
    assert components().get("model", "line") is LineModel


def test_installed_entry_point_provides_line_model():
    reset_host()
    entry = components()["model"].get("LineModel")
    assert (entry.obj, entry.aliases, entry.provider) == (LineModel, ("line",), "textrec-line-cnn")


def synthetic_lines(texts: list[str], max_length: int, seed: int = 0) -> TensorSplit:
    """Lines of one random 28x28 glyph per character; spaces and padding are blank, as in EMNIST lines."""
    generator = torch.Generator().manual_seed(seed)
    glyphs = (torch.rand(NUM_CLASSES, 28, 28, generator=generator) > 0.7).to(torch.uint8) * 255
    glyphs[LINE_MAPPING.index(" ")] = 0
    images = torch.zeros(len(texts), 28, 28 * max_length, dtype=torch.uint8)
    for row, text in enumerate(texts):
        for position, character in enumerate(text):
            images[row, :, 28 * position : 28 * (position + 1)] = glyphs[LINE_MAPPING.index(character)]
    return TensorSplit(images, labels_of(*texts, max_length=max_length))


@pytest.mark.parametrize("network", [line_cnn_time_distributed, line_cnn_all_conv])
def test_memorises_a_few_synthetic_lines(network, one_thread):
    """Fitting a handful of lines proves the networks, loss, training loop and reading fit together."""
    torch.manual_seed(0)
    texts = ["abc", "Hello", "bad", "cab9Z", "Z", "", "lob", "9bac"]
    split = synthetic_lines(texts, max_length=5)
    model = model_for(5, network(fake_dataset(5).shapes, conv_channels=4, dense_size=32, dropout=0.0), split)
    before = model.evaluate(split)
    history = model.fit(TrainArgs(batch_size=len(texts), epochs=100, learning_rate=3e-3, patience=0), progress=False)
    after = model.evaluate(split)
    assert history["val_cer"][-1] == after["cer"] == 0.0  # about 50 steps suffice
    assert after["character_accuracy"] == 1.0
    assert after["loss"] < before["loss"] / 100
    images, _ = next(split.batches(len(texts)))
    assert [text for text, _ in model.predict(images)] == texts


def test_blank_spaces_read_as_spaces(one_thread):
    """A blank window is a space inside the text and padding after it: a network reading window by
    window cannot tell which, and calls them all ``<pad>``; reading inner pads as spaces recovers the text."""
    torch.manual_seed(0)
    texts = ["ab c", "a b", "cab", "b a c", "", "ca b", "abc a", "c"]
    split = synthetic_lines(texts, max_length=6)
    model = model_for(6, line_cnn_time_distributed(fake_dataset(6).shapes, conv_channels=4, dense_size=32,
                                                   dropout=0.0), split)
    model.fit(TrainArgs(batch_size=len(texts), epochs=100, learning_rate=3e-3, patience=0), progress=False)
    images, _ = next(split.batches(len(texts)))
    with torch.no_grad():
        assert LINE_MAPPING[model.network(images)[0, 2].argmax().item()] == PAD  # the space, called padding
    assert [text for text, _ in model.predict(images)] == texts
    assert model.evaluate(split)["cer"] == 0.0
