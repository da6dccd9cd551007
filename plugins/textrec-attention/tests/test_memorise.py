"""Memorising a few synthetic lines through ``fit``, then reading them back through a saved bundle and
``LinePredictor`` at several widths and both polarities."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
import torch

from textrec_attention import LineModelAttention, line_attention
from textrec_core import DataShapes, TensorSplit, load_predictor
from textrec_core.config import TrainArgs
from textrec_core.mapping import END, LINE_MAPPING, PAD
from textrec_lines import LinePredictor

MAX_LENGTH = 5
#: Same-length texts sharing characters: the decoder must read the glyphs, not count them.
TEXTS = ["abc", "Hello", "bad", "cab9Z", "Z", "", "lob", "9bac"]
NETWORK_ARGS = {"conv_channels": 16, "encoder_size": 64, "decoder_size": 64, "embedding_size": 16, "dropout": 0.0}


def synthetic_lines(texts: list[str], max_length: int, seed: int = 0) -> TensorSplit:
    """Lines of one random glyph per character, side by side; spaces and the rest of the line are black.

    A glyph is a random 4x4 pattern of 6-pixel blocks inside a 2-pixel black margin: distinctive at
    the scale of a convolutional network's receptive field (fine pixel noise would look alike to it,
    glyph to glyph), and with the line's border black, as the predictor's polarity rule expects."""
    generator = torch.Generator().manual_seed(seed)
    blocks = (torch.rand(len(LINE_MAPPING), 4, 4, generator=generator) > 0.5).to(torch.uint8) * 255
    glyphs = torch.nn.functional.pad(blocks.repeat_interleave(6, dim=1).repeat_interleave(6, dim=2), (2, 2, 2, 2))
    glyphs[LINE_MAPPING.index(" ")] = 0
    images = torch.zeros(len(texts), 28, 28 * max_length, dtype=torch.uint8)
    for row, text in enumerate(texts):
        for position, character in enumerate(text):
            images[row, :, 28 * position : 28 * (position + 1)] = glyphs[LINE_MAPPING.index(character)]
    pad = LINE_MAPPING.index(PAD)
    labels = torch.tensor([LINE_MAPPING.encode(text) + [pad] * (max_length - len(text)) for text in texts])
    return TensorSplit(images, labels)


@pytest.fixture(scope="module")
def memorised():
    """A model fitted to the lines of :data:`TEXTS` (70 to 140 epochs of one batch read them exactly
    over seeds 0 to 6; 200 run), with its split and its history."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        split = synthetic_lines(TEXTS, MAX_LENGTH)
        shapes = DataShapes((28, 28 * MAX_LENGTH), (MAX_LENGTH,), LINE_MAPPING)
        dataset = SimpleNamespace(shapes=shapes, train=split, val=split, test=split)
        model = LineModelAttention(dataset, line_attention(shapes, **NETWORK_ARGS))
        before = model.evaluate(split)
        history = model.fit(TrainArgs(batch_size=len(TEXTS), epochs=200, learning_rate=5e-3, patience=0),
                            progress=False)
    finally:
        torch.set_num_threads(threads)
    return SimpleNamespace(model=model, split=split, before=before, history=history)


def images_of(split: TensorSplit) -> torch.Tensor:
    return next(split.batches(len(split)))[0]


def test_memorises_a_few_synthetic_lines(memorised):
    """Fitting a handful of lines proves the network, teacher forcing, loss, training loop and decoding fit together."""
    model, split = memorised.model, memorised.split
    after = model.evaluate(split)
    assert after["cer"] == after["wer"] == 0.0
    assert after["loss"] < memorised.before["loss"] / 50
    assert min(memorised.history["val_cer"]) == 0.0
    readings = model.predict(images_of(split))
    assert [text for text, _ in readings] == TEXTS
    assert all(0.9 < confidence <= 1.0 for _, confidence in readings)


def test_beam_search_reads_the_memorised_lines_and_width_one_is_greedy(memorised):
    model, images = memorised.model, images_of(memorised.split)
    tokens, log_probs = model.network.decode_greedy(images)
    end = LINE_MAPPING.index(END)
    beam = model.network.decode_beam(images, 1)
    for row, row_log_probs, hypothesis in zip(tokens.tolist(), log_probs.tolist(), beam):
        length = row.index(end) + 1
        assert hypothesis.tokens == row[:length]
        assert hypothesis.log_probs == pytest.approx(row_log_probs[:length], abs=1e-5)
    model.decoder = "beam"
    try:
        assert [text for text, _ in model.predict(images)] == TEXTS
        assert model.evaluate(memorised.split)["cer"] == model.evaluate(memorised.split)["cer_greedy"] == 0.0
    finally:
        model.decoder = "greedy"


@pytest.fixture(scope="module")
def bundle(memorised, tmp_path_factory):
    path = tmp_path_factory.mktemp("bundle") / "model"
    return memorised.model.save(path, model="LineModelAttention", network="line_attention", network_args=NETWORK_ARGS,
                                model_args={})


def test_the_saved_bundle_reloads_to_identical_predictions(memorised, bundle):
    predictor = load_predictor(bundle)
    assert isinstance(predictor, LinePredictor)
    assert isinstance(predictor.model, LineModelAttention) and predictor.model.variable_width
    images = images_of(memorised.split)
    assert predictor.model.predict(images) == memorised.model.predict(images)
    readings = predictor.predict_batch(list(images.numpy()))
    assert [text for text, _ in readings] == TEXTS


def variants(image: np.ndarray) -> list[np.ndarray]:
    """One line as a predictor may get it: as it is, cut to its ink, with a margin, and dark on light."""
    ink_columns = np.flatnonzero(image.max(axis=0))
    cut = image[:, : ink_columns[-1] + 1] if len(ink_columns) else image[:, :8]
    margin = np.pad(image, ((0, 0), (0, 37)))
    as_uint8 = (image * 255).round().astype(np.uint8)
    return [image, cut, margin, 255 - as_uint8, 1.0 - margin]


def test_the_predictor_reads_any_width_and_polarity_like_the_model(memorised, bundle):
    """For lines of several widths, in both polarities, the predictor's batch equals the model's own
    reading of the preprocessed, collated batch, equals reading the lines one by one, and is the truth."""
    predictor = load_predictor(bundle)
    lines, truths = [], []
    for image, text in zip(images_of(memorised.split).numpy(), TEXTS):
        for variant in variants(image):
            lines.append(variant)
            truths.append(text)
    assert len({line.shape[1] for line in lines}) > 5
    batch = predictor.predict_batch(lines)
    direct = predictor.model.predict(predictor.collate([predictor.preprocess(line) for line in lines]))
    one_by_one = [predictor.predict(line) for line in lines]
    assert [text for text, _ in batch] == [text for text, _ in direct] == [text for text, _ in one_by_one] == truths
    assert [c for _, c in batch] == pytest.approx([c for _, c in direct], abs=1e-6)
    assert [c for _, c in batch] == pytest.approx([c for _, c in one_by_one], abs=1e-4)
