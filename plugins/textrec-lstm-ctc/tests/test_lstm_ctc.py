"""``line_lstm_ctc`` and ``LineModelCtc``: frame layout, argument checks, CTC loss, reading and
confidence on hand-built logits, evaluation, registration, memorising a few synthetic lines and
reading them back through a saved bundle."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

import textrec_lstm_ctc.plugin
from textrec_core import DataShapes, TensorSplit, load_predictor
from textrec_core.config import TrainArgs, resolve_args
from textrec_core.errors import ArgumentError, ConfigError
from textrec_core.mapping import BLANK, EMNIST_MAPPING, LINE_MAPPING, PAD, START
from textrec_core.plugins import components, reset_host
from textrec_core.services.images import ink_bright, to_grayscale
from textrec_core.services.metrics import character_error_rate, word_error_rate
from textrec_lines import fit_line
from textrec_lstm_ctc import LineLstmCtc, LineModelCtc, line_lstm_ctc

NUM_CLASSES = len(LINE_MAPPING)
BLANK_INDEX = LINE_MAPPING.index(BLANK)
PAD_INDEX = LINE_MAPPING.index(PAD)
SMALL = {"conv_channels": 2, "lstm_size": 8, "lstm_layers": 1}
#: The network the memorisation and bundle tests train.
MEMORISING = {"conv_channels": 8, "lstm_size": 64, "lstm_layers": 1, "dropout": 0.0}


def line_shapes(max_length: int, width: int | None = None, height: int = 28) -> DataShapes:
    """The lines dataset's shapes: fixed width ``28 * max_length`` unless given."""
    return DataShapes((height, width or 28 * max_length), (max_length,), LINE_MAPPING)


def fake_dataset(max_length: int, mapping=LINE_MAPPING, split: TensorSplit | None = None) -> SimpleNamespace:
    shapes = DataShapes((28, 28 * max_length), (max_length,), mapping)
    return SimpleNamespace(shapes=shapes, train=split, val=split, test=split)


def model_for(max_length: int, network: nn.Module | None = None, split: TensorSplit | None = None,
              **model_args) -> LineModelCtc:
    return LineModelCtc(fake_dataset(max_length, split=split), network or nn.Identity(), **model_args)


def labels_of(*texts: str, max_length: int) -> torch.Tensor:
    """Line labels: each text's indices, padded with ``<pad>`` to ``max_length``."""
    return torch.tensor([LINE_MAPPING.encode(text) + [PAD_INDEX] * (max_length - len(text)) for text in texts])


def path_of(text: str, frames: int) -> list[int]:
    """A CTC path spelling ``text``: each character then a blank, blanks to the end."""
    path = [i for character in LINE_MAPPING.encode(text) for i in (character, BLANK_INDEX)]
    return path + [BLANK_INDEX] * (frames - len(path))


def confident_logits(paths: list[list[int]], margin: float = 30.0) -> torch.Tensor:
    """Logits ``(B, T, C)`` whose argmax at every frame is the given path's class, by ``margin``."""
    return F.one_hot(torch.tensor(paths), NUM_CLASSES).float() * margin


pytestmark = pytest.mark.usefixtures("one_thread")  # small networks: one torch thread


# --- the network ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "width", "frames"),
    [
        ({}, 952, 67),
        ({}, 168, 11),
        ({}, 28, 1),
        ({}, 20, 1),  # narrower than a window: read as one window
        ({}, 29, 2),  # a column past the last whole window gets a frame of its own
        ({}, 42, 2),
        ({}, 43, 3),
        ({"window_stride": 28}, 140, 5),
        ({"window_width": 20, "window_stride": 10}, 100, 9),
        ({"window_width": 8, "window_stride": 2}, 9, 2),
    ],
)
def test_output_is_one_row_of_logits_per_frame_for_any_width(args, width, frames):
    module = line_lstm_ctc(line_shapes(6), **SMALL, **args).eval()  # built for 168-pixel lines
    assert module.output_length(width) == frames
    for batch in (1, 3):
        assert module(torch.rand(batch, 28, width)).shape == (batch, frames, NUM_CLASSES)


@pytest.mark.parametrize(("window_width", "window_stride", "width"), [(28, 14, 100), (20, 6, 64), (8, 8, 40)])
def test_each_frame_reads_exactly_its_window(window_width, window_stride, width):
    """The pixel columns with a nonzero gradient on a frame's features are those of its window."""
    torch.manual_seed(0)
    module = line_lstm_ctc(line_shapes(1, width=width), window_width=window_width, window_stride=window_stride,
                           conv_channels=4, lstm_size=16, lstm_layers=1).eval()
    images = torch.rand(1, 28, width, requires_grad=True)
    features = module.frame_features(images)[0]
    assert features.shape[0] == module.output_length(width)
    for t, frame in enumerate(features):
        (grad,) = torch.autograd.grad((frame * torch.randn_like(frame)).sum(), images, retain_graph=True)
        columns = grad[0].abs().sum(dim=0).nonzero().flatten().tolist()
        assert columns == list(range(t * window_stride, min(t * window_stride + window_width, width)))


def test_images_of_another_height_are_refused():
    module = line_lstm_ctc(line_shapes(4), **SMALL)
    with pytest.raises(ValueError, match=r"expected line images \(B, 28, W\), got shape \(2, 32, 112\)"):
        module(torch.rand(2, 32, 112))


def test_dropout_is_active_in_training_and_off_in_evaluation():
    torch.manual_seed(0)
    module = line_lstm_ctc(line_shapes(3), dropout=0.5, **SMALL)
    images = torch.rand(2, 28, 84)
    module.train()
    assert not torch.equal(module(images), module(images))
    module.eval()
    assert torch.equal(module(images), module(images))


def test_convolution_weights_are_channels_last():
    module = line_lstm_ctc(line_shapes(3), **SMALL)
    convolutions = [m for m in module.modules() if isinstance(m, nn.Conv2d)]
    assert len(convolutions) == 3
    assert all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convolutions)


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (DataShapes((28 * 4,), (4,), LINE_MAPPING), r"2-D line images \(H, W\) at least 8 pixels tall, got input shape "
                                                     r"\(112,\)"),
        (line_shapes(4, height=7), r"at least 8 pixels tall, got input shape \(7, 112\)"),
        (DataShapes((28, 112), (), LINE_MAPPING), r"labels of shape \(max_length,\), got \(\)"),
    ],
)
def test_shapes_it_cannot_read_are_rejected(shapes, message):
    with pytest.raises(ValueError, match=message) as raised:
        line_lstm_ctc(shapes)
    assert not isinstance(raised.value, ArgumentError)


@pytest.mark.parametrize(
    ("shapes", "args", "argument", "problem"),
    [
        (line_shapes(4), {"window_width": 6}, "window_width", "must be even and at least 8, got 6"),
        (line_shapes(4), {"window_width": 27}, "window_width", "must be even and at least 8, got 27"),
        (line_shapes(4), {"window_stride": 7}, "window_stride", "must be even, at least 2 and at most window_width "
                                                                "(28), got 7"),
        (line_shapes(4), {"window_stride": 0}, "window_stride", "must be even, at least 2 and at most window_width "
                                                                "(28), got 0"),
        (line_shapes(4), {"window_stride": 30}, "window_stride", "must be even, at least 2 and at most window_width "
                                                                 "(28), got 30"),
        (line_shapes(4), {"conv_channels": 0}, "conv_channels", "must be at least 1, got 0"),
        (line_shapes(4), {"lstm_size": 0}, "lstm_size", "must be at least 1, got 0"),
        (line_shapes(4), {"lstm_layers": 0}, "lstm_layers", "must be at least 1, got 0"),
        (line_shapes(4), {"dropout": 1.0}, "dropout", "must be in [0, 1), got 1.0"),
        (line_shapes(8, width=140), {"window_stride": 28}, "window_stride",
         "140-pixel lines give 5 frames (window_width 28, window_stride 28), fewer than the 8 label positions; "
         "use a smaller window_stride"),
    ],
)
def test_impossible_settings_are_rejected_naming_the_argument(shapes, args, argument, problem):
    with pytest.raises(ArgumentError) as raised:
        line_lstm_ctc(shapes, **args)
    assert (raised.value.argument, raised.value.problem) == (argument, problem)


def test_plugin_module_registers_the_network_and_the_model(bare_host, textrec_plugin):
    assert "line_lstm_ctc" not in components()["network"]
    textrec_plugin(textrec_lstm_ctc.plugin, name="textrec-lstm-ctc")
    assert components().get("network", "line_lstm_ctc") is line_lstm_ctc
    assert components().get("model", "ctc") is LineModelCtc


def test_installed_entry_point_provides_the_components():
    reset_host()
    network = components()["network"].get("line_lstm_ctc")
    assert (network.obj, network.provider) == (line_lstm_ctc, "textrec-lstm-ctc")
    assert isinstance(network.obj(line_shapes(2), **SMALL), LineLstmCtc)
    model = components()["model"].get("LineModelCtc")
    assert (model.obj, model.aliases, model.provider) == (LineModelCtc, ("ctc",), "textrec-lstm-ctc")


# --- the model on hand-built logits -----------------------------------------------------------


def test_loss_is_ctc_on_the_texts_whatever_their_padding():
    torch.manual_seed(0)
    logits = torch.randn(3, 12, NUM_CLASSES)
    texts = ("hello", "", "aab")
    targets = torch.tensor(LINE_MAPPING.encode("helloaab"))
    expected = F.ctc_loss(logits.log_softmax(-1).transpose(0, 1), targets, torch.full((3,), 12),
                          torch.tensor([5, 0, 3]), blank=BLANK_INDEX)
    for max_length in (5, 8):
        loss = model_for(max_length).loss(logits, labels_of(*texts, max_length=max_length))
        assert loss.item() == pytest.approx(expected.item(), rel=1e-6)


def test_a_confident_reading_of_the_labels_has_near_zero_loss():
    labels = labels_of("abc", "aa b", max_length=5)
    logits = confident_logits([path_of("abc", 10), path_of("aa b", 10)])
    assert model_for(5).loss(logits, labels).item() < 1e-6


def test_a_line_too_long_for_its_frames_adds_zero_loss_not_nan():
    """Four frames cannot spell ``aaa`` (it needs five: a - a - a) nor a five-character text."""
    logits = confident_logits([path_of("ab", 4), path_of("ab", 4), path_of("ab", 4)], margin=2.0)
    model = model_for(5)
    alone = model.loss(logits[:1], labels_of("ab", max_length=5))
    loss = model.loss(logits, labels_of("ab", "aaa", "abcde", max_length=5))
    assert torch.isfinite(loss)
    assert loss.item() == pytest.approx(alone.item() / 3, rel=1e-5)


def test_loss_is_float32_under_bfloat16_logits():
    logits = torch.randn(2, 10, NUM_CLASSES).bfloat16().requires_grad_()
    loss = model_for(4).loss(logits, labels_of("ab", "c", max_length=4))
    assert loss.dtype == torch.float32
    loss.backward()
    assert torch.isfinite(logits.grad.float()).all()


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_reading_merges_repeats_drops_blanks_and_special_tokens(decoder):
    model = model_for(8, decoder=decoder)
    a, b = LINE_MAPPING.index("a"), LINE_MAPPING.index("b")
    paths = [
        [a, a, BLANK_INDEX, a, b, b, BLANK_INDEX, BLANK_INDEX],  # aab
        [BLANK_INDEX] * 8,  # nothing
        [a, PAD_INDEX, LINE_MAPPING.index(START), b, BLANK_INDEX, BLANK_INDEX, BLANK_INDEX, BLANK_INDEX],
        path_of("Hi 9", 8),
    ]
    assert [text for text, _ in model.decode(confident_logits(paths))] == ["aab", "", "ab", "Hi 9"]


def two_frames_blank_or_a() -> torch.Tensor:
    """Each of two frames: blank 0.6, ``a`` 0.4, every other class (nearly) 0."""
    log_probs = torch.full((1, 2, NUM_CLASSES), -1e4)
    log_probs[..., BLANK_INDEX] = math.log(0.6)
    log_probs[..., LINE_MAPPING.index("a")] = math.log(0.4)
    return log_probs


def test_confidence_is_the_probability_of_the_text_read_over_all_its_alignments():
    """Greedy reads nothing (the best path, blank-blank: 0.36); the beam reads ``a``, spelled by
    ``a-``, ``-a`` and ``aa``: 0.64. Each confidence is its own text's probability."""
    logits = two_frames_blank_or_a()
    [(text, confidence)] = model_for(2, decoder="greedy").decode(logits)
    assert (text, confidence) == ("", pytest.approx(0.36, rel=1e-5))
    [(text, confidence)] = model_for(2, decoder="beam", beam_width=2).decode(logits)
    assert (text, confidence) == ("a", pytest.approx(0.64, rel=1e-5))


def test_confidence_lies_in_zero_one():
    model = model_for(34)
    for scale in (0.1, 5.0, 100.0):
        assert all(0.0 <= c <= 1.0 for _, c in model.decode(torch.randn(8, 67, NUM_CLASSES) * scale))


def test_confidence_does_not_fall_where_frames_hesitate_between_a_character_and_the_blank():
    """Each character is certain in one frame, then a frame splits evenly between it and the blank:
    every path spells the text, so its probability is 1, while the best path's is 0.5 ** 33."""
    text = "the quick brown fox jumps over it"  # no doubled letters: a split frame cannot merge two
    log_probs = torch.full((1, 67, NUM_CLASSES), -1e4)
    log_probs[0, :, BLANK_INDEX] = 0.0
    for position, character in enumerate(LINE_MAPPING.encode(text)):
        log_probs[0, 2 * position, [character, BLANK_INDEX]] = torch.tensor([0.0, -1e4])
        log_probs[0, 2 * position + 1, [character, BLANK_INDEX]] = math.log(0.5)
    [(read, confidence)] = model_for(34).decode(log_probs)
    assert read == text
    assert confidence == pytest.approx(1.0, abs=1e-5)


def test_label_text_strips_padding():
    assert model_for(6).label_text(labels_of("a b", "", "Zz9 0x", max_length=6)) == ["a b", "", "Zz9 0x"]


class ReadsPixels(nn.Module):
    """A stand-in network: row 0 of each image holds, in its first ``frames`` pixels, the path to read."""

    def __init__(self, frames: int) -> None:
        super().__init__()
        self.frames = frames

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return confident_logits((images[:, 0, : self.frames] * 255).round().long().tolist())


def reading_split(readings: list[str], truths: list[str], frames: int = 12) -> TensorSplit:
    images = torch.zeros(len(truths), 28, 140, dtype=torch.uint8)
    images[:, 0, :frames] = torch.tensor([path_of(text, frames) for text in readings], dtype=torch.uint8)
    return TensorSplit(images, labels_of(*truths, max_length=5))


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_evaluate_reports_corpus_level_cer_and_wer_over_all_batches(decoder):
    truths = ["hello", "a", "to be", "", "xyz"]
    readings = ["hallo", "b", "to be", "", "xyzw"]
    split = reading_split(readings, truths)
    metrics = model_for(5, ReadsPixels(12), split, decoder=decoder).evaluate(split, batch_size=2)
    expected = {"loss", "cer", "wer"} | ({"cer_greedy"} if decoder == "beam" else set())
    assert set(metrics) == expected
    assert metrics["cer"] == pytest.approx(character_error_rate(readings, truths))
    assert metrics["cer"] == pytest.approx(3 / 14)  # not the mean per-line rate
    assert metrics["wer"] == pytest.approx(word_error_rate(readings, truths)) == pytest.approx(3 / 5)
    if decoder == "beam":
        assert metrics["cer_greedy"] == pytest.approx(metrics["cer"])


def test_beam_lm_weighs_readings_by_the_language_model_of_a_text_file(tmp_path, monkeypatch):
    monkeypatch.setenv("TEXTREC_DATA_DIR", str(tmp_path / "data"))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a bob, a bib and a bob. " * 40, encoding="utf-8")
    a, b, o = (LINE_MAPPING.index(c) for c in "abo")
    probs = torch.full((1, 6, NUM_CLASSES), 1e-4)
    for t, row in enumerate([{b: 0.9}, {BLANK_INDEX: 0.9}, {a: 0.5, o: 0.45}, {BLANK_INDEX: 0.9}, {b: 0.9},
                             {BLANK_INDEX: 0.9}]):
        for index, p in row.items():
            probs[0, t, index] = p
    logits = (probs / probs.sum(-1, keepdim=True)).log()
    assert model_for(6, decoder="beam").decode(logits)[0][0] == "bab"
    fused = model_for(6, decoder="beam_lm", lm=str(corpus), lm_order=3)
    assert fused.decode(logits)[0][0] == "bob"  # "bab" never occurs in the text
    scores = fused.extension_scores()(())
    assert scores[PAD_INDEX] == scores[BLANK_INDEX] == -np.inf and np.isfinite(scores[b])


def test_an_empty_split_has_zero_error_rates():
    split = TensorSplit(torch.zeros(0, 28, 140, dtype=torch.uint8), torch.zeros(0, 5, dtype=torch.long))
    assert model_for(5, ReadsPixels(12), split).evaluate(split) == {"loss": 0.0, "cer": 0.0, "wer": 0.0}


def test_a_model_rebuilt_for_inference_reads_greedily_like_the_trained_one():
    logits = torch.randn(4, 20, NUM_CLASSES) * 3
    rebuilt = LineModelCtc.for_inference(nn.Identity(), line_shapes(4))
    assert (rebuilt.decoder, rebuilt.variable_width) == ("greedy", True)
    assert rebuilt.decode(logits) == model_for(4).decode(logits)


@pytest.mark.parametrize(
    ("args", "argument", "problem"),
    [
        ({"decoder": "viterbi"}, "decoder", "must be one of 'greedy', 'beam', 'beam_lm', got 'viterbi'"),
        ({"beam_width": 0}, "beam_width", "must be at least 1, got 0"),
        ({"lm": ""}, "lm", "must be 'brown' or the path of a UTF-8 text file, got ''"),
        ({"lm_order": 9}, "lm_order", "must be at most 8, got 9"),
        ({"lm_weight": -1}, "lm_weight", "must be in [0, 10), got -1"),
    ],
)
def test_bad_model_arguments_are_rejected_naming_them(args, argument, problem):
    with pytest.raises(ArgumentError) as raised:
        LineModelCtc(fake_dataset(4), nn.Identity(), **args)
    assert (raised.value.argument, raised.value.problem) == (argument, problem)


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        (fake_dataset(4, mapping=EMNIST_MAPPING), "LineModelCtc needs the <pad>, <blank> tokens in the label mapping"),
        (SimpleNamespace(shapes=DataShapes((28, 28), (), LINE_MAPPING)), r"labels of shape \(max_length,\), got \(\)"),
    ],
)
def test_data_it_cannot_read_is_rejected(dataset, message):
    with pytest.raises(ValueError, match=message):
        LineModelCtc(dataset, nn.Identity())


def test_the_config_layer_checks_model_args_by_their_type_hints():
    resolved = resolve_args(LineModelCtc, {"decoder": "beam"}, path="model_args", name="ctc", skip=2)
    assert resolved == {"decoder": "beam", "beam_width": 10, "lm": "brown", "lm_order": 6, "lm_weight": 0.5,
                        "lm_bonus": 2.5}
    with pytest.raises(ConfigError, match=r"model_args.beam_width: expected int, got str \('5'\)"):
        resolve_args(LineModelCtc, {"beam_width": "5"}, path="model_args", name="ctc", skip=2)


# --- training and bundles ---------------------------------------------------------------------


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


#: Repeated letters (``aab``, ``Hello``), a double space, an empty line.
TEXTS = ["abc", "Hello", "bad", "aab", "Z", "", "lob 9", "ba  c"]


class WidenedLines(TensorSplit):
    """Training batches (those drawn with a generator) get 0-112 columns of background on the right,
    as the lines of a dataset vary in their trailing background; a network trained at a single width
    learns to count frames from the end and misreads any other width."""

    def batches(self, batch_size, *, shuffle=False, generator=None):
        for images, labels in super().batches(batch_size, shuffle=shuffle, generator=generator):
            extra = 0 if generator is None else 2 * int(torch.randint(0, 57, (), generator=generator))
            yield F.pad(images, (0, extra)), labels


@pytest.fixture(scope="module")
def memorised(one_thread) -> tuple[LineModelCtc, dict[str, float], dict[str, list[float]]]:
    """A small network trained to read ``TEXTS``: the model, its metrics before training, and the history."""
    torch.manual_seed(0)
    lines = synthetic_lines(TEXTS, max_length=6)
    split = WidenedLines(lines.images, lines.labels)
    model = model_for(6, line_lstm_ctc(line_shapes(6), **MEMORISING), split)
    before = model.evaluate(split)
    history = model.fit(TrainArgs(batch_size=len(TEXTS), epochs=300, learning_rate=3e-3, patience=0),
                        progress=False)
    return model, before, history


def test_memorises_a_few_synthetic_lines(memorised):
    """Fitting a handful of lines proves the network, CTC loss, training loop and reading fit together."""
    model, before, history = memorised
    split = model.dataset.train
    after = model.evaluate(split)
    assert history["val_cer"][-1] == after["cer"] == after["wer"] == 0.0  # about 240 steps suffice
    assert after["loss"] < before["loss"] / 100
    images, _ = next(split.batches(len(TEXTS)))
    for extra in (0, 28, 100):
        readings = model.predict(F.pad(images, (0, extra)))
        assert [text for text, _ in readings] == TEXTS
        assert min(confidence for _, confidence in readings) > 0.5


def test_a_bfloat16_training_step_gives_a_finite_float32_loss():
    torch.manual_seed(0)
    split = synthetic_lines(TEXTS, max_length=6)
    model = model_for(6, line_lstm_ctc(line_shapes(6), **SMALL), split)
    images, labels = next(split.batches(4))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model.training_loss(images, labels)
    loss.backward()
    assert loss.dtype == torch.float32 and torch.isfinite(loss)


def bundle_images() -> list[np.ndarray]:
    """Lines of the memorised texts as uint8 arrays: at their training width, cropped, widened with
    background, taller (the predictor scales them to 28 pixels), and dark on light."""
    lines = synthetic_lines(TEXTS, max_length=6).images.numpy()
    images = [lines[0], lines[1][:, : 28 * 5], np.pad(lines[2], ((0, 0), (0, 80))), lines[3][:, :20],
              np.kron(lines[4], np.ones((2, 2), dtype=np.uint8)), lines[6]]
    return images + [255 - image for image in images]


@pytest.fixture
def predictor(memorised, tmp_path):
    args = {**MEMORISING, "window_width": 28, "window_stride": 14}
    bundle = memorised[0].save(tmp_path / "bundle", model="LineModelCtc", network="line_lstm_ctc", network_args=args,
                               model_args={})
    return load_predictor(bundle)


def test_a_saved_bundle_predicts_what_the_model_reads(memorised, predictor):
    model = memorised[0]
    images = bundle_images()
    for image in images:
        prepared = fit_line(ink_bright(to_grayscale(image)), 28, None)
        assert prepared.shape[1] == image.shape[1] * 28 // image.shape[0]  # natural width
        [expected] = model.predict(torch.from_numpy(prepared)[None])
        assert predictor.predict(image) == expected
    assert predictor.predict(images[0])[0] == TEXTS[0]
    assert predictor.predict(images[2])[0] == TEXTS[2]  # wider than the training lines
    assert predictor.predict(images[-1])[0] == TEXTS[6]  # dark ink on light paper


def test_batched_prediction_matches_one_by_one(predictor):
    """A batch pads its lines to the widest with background: the frames this adds are background
    the network has learnt to read as nothing (the bidirectional LSTM does see them, so the
    confidences may move a little)."""
    images = [image for image in bundle_images() if image.shape[1] >= 28 * 6]
    assert len({image.shape[1] for image in images}) > 1
    one_by_one = [predictor.predict(image) for image in images]
    batched = predictor.predict_batch(images)
    assert [text for text, _ in batched] == [text for text, _ in one_by_one]
    for (_, confidence), (_, alone) in zip(batched, one_by_one):
        assert confidence == pytest.approx(alone, abs=0.05)


# --- lines padded in a batch ----------------------------------------------------------------------


def test_output_lengths_count_the_frames_of_each_width():
    network = line_lstm_ctc(line_shapes(4), **SMALL)
    widths = torch.tensor([0, 1, 27, 28, 29, 42, 43, 112, 951])
    assert network.output_lengths(widths).tolist() == [network.output_length(int(w)) for w in widths]


def test_each_line_of_a_padded_batch_is_read_over_its_own_content_frames():
    torch.manual_seed(0)
    network = line_lstm_ctc(line_shapes(4), **SMALL).eval()
    model = model_for(4, network)
    images = torch.zeros(3, 28, 112)
    images[0, 5:20, :112] = 0.5  # content to the last column
    images[1, 5:20, :40] = 0.5  # 40 columns of content, then padding
    images[2, 5:20, 3] = 0.5  # one column
    logits, lengths = model._frames(images)
    assert lengths.tolist() == [network.output_length(112), network.output_length(40), network.output_length(4)]
    assert logits.shape[1] == network.output_length(112)
    labels = labels_of("ab", "a", "", max_length=4)
    full = ctc_loss_of(logits, labels, None)
    assert model.training_loss(images, labels).item() == pytest.approx(ctc_loss_of(logits, labels, lengths).item())
    assert model.training_loss(images, labels).item() != pytest.approx(full.item())


def ctc_loss_of(logits: torch.Tensor, labels: torch.Tensor, lengths: torch.Tensor | None) -> torch.Tensor:
    """torch's CTC loss of ``labels`` (``<pad>`` removed) over each line's first ``lengths`` frames."""
    frames = lengths if lengths is not None else torch.full((logits.shape[0],), logits.shape[1])
    targets = [[i for i in row if i != PAD_INDEX] for row in labels.tolist()]
    return F.ctc_loss(logits.float().log_softmax(-1).transpose(0, 1), torch.tensor(sum(targets, [])), frames,
                      torch.tensor([len(t) for t in targets]), blank=BLANK_INDEX, zero_infinity=True)


def test_a_line_reads_the_same_alone_and_padded_among_wider_lines():
    torch.manual_seed(1)
    network = line_lstm_ctc(line_shapes(4), **SMALL).eval()
    model = model_for(4, network)
    line = torch.rand(28, 60) * (torch.rand(28, 60) > 0.7)
    line[:, -1] = 0.5  # content to its last column
    wide = torch.rand(28, 150)
    batch = torch.zeros(2, 28, 150)
    batch[0, :, :60], batch[1] = line, wide
    with torch.inference_mode():
        alone, in_batch = network(line[None]), network(batch)
    frames = network.output_length(60)
    assert torch.allclose(in_batch[0, :frames], alone[0], atol=1e-5)
    ((text_alone, conf_alone),), ((text_in_batch, conf_in_batch), _) = model.predict(line[None]), model.predict(batch)
    assert text_alone == text_in_batch and conf_alone == pytest.approx(conf_in_batch, rel=1e-4)
