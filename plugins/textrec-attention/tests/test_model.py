"""``LineModelAttention``: teacher forcing, loss, reading and confidence, evaluation, settings and registration."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

import textrec_attention.plugin
from textrec_attention import Hypothesis, LineAttention, LineModelAttention, line_attention, teacher_forcing
from textrec_attention.encoder import Frames
from textrec_core import DataShapes, TensorSplit
from textrec_core.errors import ArgumentError
from textrec_core.mapping import BLANK, END, LINE_MAPPING, PAD, START
from textrec_core.plugins import components, reset_host
from textrec_core.services.metrics import character_error_rate, word_error_rate

NUM_CLASSES = len(LINE_MAPPING)
PAD_INDEX, START_INDEX, END_INDEX = (LINE_MAPPING.index(token) for token in (PAD, START, END))
SMALL = {"conv_channels": 4, "encoder_size": 16, "decoder_size": 16, "embedding_size": 8}


def labels_of(*texts: str, max_length: int) -> torch.Tensor:
    """Line labels: each text's indices, padded with ``<pad>`` to ``max_length``."""
    return torch.tensor([LINE_MAPPING.encode(text) + [PAD_INDEX] * (max_length - len(text)) for text in texts])


def fake_dataset(max_length: int = 6, split: TensorSplit | None = None, mapping=LINE_MAPPING) -> SimpleNamespace:
    shapes = DataShapes((28, 28 * max_length), (max_length,), mapping)
    return SimpleNamespace(shapes=shapes, train=split, val=split, test=split)


def small_model(split: TensorSplit | None = None, **model_args) -> LineModelAttention:
    torch.manual_seed(0)
    dataset = fake_dataset(split=split)
    return LineModelAttention(dataset, line_attention(dataset.shapes, **SMALL), **model_args)


def test_teacher_forcing_builds_start_inputs_and_end_targets_cut_after_the_longest_text():
    labels = labels_of("ab", "", "abcd", max_length=6)
    inputs, targets = teacher_forcing(labels, pad=PAD_INDEX, start=START_INDEX, end=END_INDEX)
    s, e, p = START_INDEX, END_INDEX, PAD_INDEX
    a, b, c, d = LINE_MAPPING.encode("abcd")
    assert inputs.tolist() == [[s, a, b, p, p], [s, p, p, p, p], [s, a, b, c, d]]
    assert targets.tolist() == [[a, b, e, p, p], [e, p, p, p, p], [a, b, c, d, e]]


def test_teacher_forcing_of_full_length_and_empty_labels():
    inputs, targets = teacher_forcing(labels_of("xyz", max_length=3), pad=PAD_INDEX, start=START_INDEX,
                                      end=END_INDEX)
    assert inputs.tolist() == [[START_INDEX, *LINE_MAPPING.encode("xyz")]]
    assert targets.tolist() == [[*LINE_MAPPING.encode("xyz"), END_INDEX]]
    inputs, targets = teacher_forcing(labels_of("", "", max_length=4), pad=PAD_INDEX, start=START_INDEX,
                                      end=END_INDEX)
    assert inputs.tolist() == [[START_INDEX]] * 2 and targets.tolist() == [[END_INDEX]] * 2


def test_teacher_forcing_refuses_text_after_padding():
    labels = labels_of("ab", max_length=4)
    labels[0, 3] = LINE_MAPPING.index("c")
    with pytest.raises(ValueError, match="labels must be the text, then <pad> to the end"):
        teacher_forcing(labels, pad=PAD_INDEX, start=START_INDEX, end=END_INDEX)


def test_loss_is_the_cross_entropy_per_target_token_ignoring_padding():
    model = small_model()
    labels = labels_of("ab", "abcd", max_length=6)
    _, targets = model._teacher_forcing(labels)  # (2, 5): 3 and 5 target tokens
    confident = torch.nn.functional.one_hot(targets, NUM_CLASSES).float() * 30.0
    assert model.loss(confident, labels).item() < 1e-6
    confident[0, 3:] = torch.randn(2, NUM_CLASSES)  # padding positions: ignored
    assert model.loss(confident, labels).item() < 1e-6
    confident[1, 0] = 0.0  # one uniform target token out of eight
    assert model.loss(confident, labels).item() == pytest.approx(math.log(NUM_CLASSES) / 8, rel=1e-4)
    assert model.loss(torch.zeros(2, 5, NUM_CLASSES), labels).item() == pytest.approx(math.log(NUM_CLASSES))


def test_training_loss_without_ctc_is_the_loss_of_the_teacher_forced_logits():
    model = small_model(ctc_weight=0.0)
    model.network.eval()
    images, labels = torch.rand(3, 28, 100), labels_of("ab", "", "c d", max_length=6)
    inputs, _ = model._teacher_forcing(labels)
    expected = model.loss(model.network(images, inputs), labels)
    assert model.training_loss(images, labels).item() == pytest.approx(expected.item())


def test_training_loss_mixes_the_frames_ctc_loss_per_character_over_each_lines_real_frames():
    model = small_model(ctc_weight=0.25)
    model.network.eval()
    images = torch.rand(3, 28, 100)
    images[1, :, 60:] = 0.0  # ink to column 60: 8 of the 13 frames are real
    texts = ["ab", "", "c d"]
    labels = labels_of(*texts, max_length=6)
    inputs, _ = model._teacher_forcing(labels)
    cross_entropy = model.loss(model.network(images, inputs), labels)
    memory = model.network.encode(images)
    assert memory.mask.sum(dim=1).tolist() == [13, 8, 13]
    log_probs = model.network.frame_logits(memory).log_softmax(dim=-1)
    per_line = []
    for row, text in enumerate(texts):
        frames = log_probs[row, : int(memory.mask[row].sum())].unsqueeze(1)
        target = torch.tensor([LINE_MAPPING.encode(text)], dtype=torch.long).reshape(1, -1)
        line_loss = torch.nn.functional.ctc_loss(frames, target, [frames.shape[0]], [len(text)],
                                                 blank=LINE_MAPPING.index(BLANK), reduction="sum")
        per_line.append(line_loss.item() / max(len(text), 1))
    expected = 0.75 * cross_entropy.item() + 0.25 * sum(per_line) / len(per_line)
    assert model.training_loss(images, labels).item() == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("weight", [-0.1, 1.5])
def test_ctc_weight_outside_zero_to_one_is_refused(weight):
    with pytest.raises(ArgumentError) as raised:
        small_model(ctc_weight=weight)
    assert (raised.value.argument, raised.value.problem) == ("ctc_weight", f"must be in [0, 1], got {weight}")


def test_training_loss_under_bfloat16_autocast_is_float32():
    model = small_model()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = model.training_loss(torch.rand(2, 28, 90), labels_of("ab", "xyz", max_length=6))
    assert loss.dtype == torch.float32 and loss.isfinite()
    loss.backward()


def test_decode_reads_to_the_first_end_and_reports_the_geometric_mean_probability():
    model = small_model()
    a, b = LINE_MAPPING.encode("ab")
    probs = torch.full((2, 4, NUM_CLASSES), 1e-9)
    for row, tokens, top in [(0, [a, b, END_INDEX, a], [0.9, 0.8, 0.7, 0.6]), (1, [b, a, b, a], [0.5, 0.5, 0.5, 0.5])]:
        for position, (token, p) in enumerate(zip(tokens, top)):
            probs[row, position, token] = p
            probs[row, position, LINE_MAPPING.index("z")] = 1 - p - 1e-9 * (NUM_CLASSES - 2)
    (text, confidence), (cut, cut_confidence) = model.decode(probs.log())
    assert text == "ab" and confidence == pytest.approx((0.9 * 0.8 * 0.7) ** (1 / 3), rel=1e-4)
    assert cut == "baba" and cut_confidence == pytest.approx(0.5, rel=1e-4)  # no <end>: every token counts


def test_label_text_strips_padding():
    assert small_model().label_text(labels_of("a b", "", "Zz9 0x", max_length=6)) == ["a b", "", "Zz9 0x"]


@pytest.mark.parametrize("decoder", ["greedy", "beam"])
def test_predict_reads_the_decoded_tokens_with_their_confidence(decoder):
    model = small_model(decoder=decoder, beam_width=3)
    images = torch.rand(4, 28, 120)
    predictions = model.predict(images)
    if decoder == "greedy":
        tokens, log_probs = model.network.decode_greedy(images)
        decoded = [Hypothesis(*trim(row, lp)) for row, lp in zip(tokens.tolist(), log_probs.tolist())]
    else:
        decoded = model.network.decode_beam(images, 3)
    assert len(predictions) == 4
    for (text, confidence), hypothesis in zip(predictions, decoded):
        characters = [t for t in hypothesis.tokens if t != END_INDEX]
        assert text == LINE_MAPPING.decode(characters)
        assert confidence == pytest.approx(math.exp(hypothesis.score), rel=1e-5)


@pytest.mark.parametrize(("joint", "alone"), [("joint", "greedy"), ("beam_joint", "beam")])
def test_joint_decoders_with_no_ctc_share_read_as_the_decoder_alone(joint, alone):
    model = small_model(decoder=alone, beam_width=3)
    images = torch.rand(4, 28, 120)
    joined = LineModelAttention(fake_dataset(), model.network, decoder=joint, beam_width=3, joint_weight=0.0)
    readings, expected = joined.predict(images), model.predict(images)
    assert [text for text, _ in readings] == [text for text, _ in expected]
    assert [confidence for _, confidence in readings] == pytest.approx([confidence for _, confidence in expected])


def test_joint_decoders_read_the_networks_joint_search():
    model = small_model(decoder="beam_joint", beam_width=2, joint_weight=0.5)
    images = torch.rand(3, 28, 90)
    model.network.eval()
    hypotheses = model.network.joint(model.network.encode(images), 2, 0.5)
    for (text, confidence), hypothesis in zip(model.predict(images), hypotheses):
        assert text == LINE_MAPPING.decode([t for t in hypothesis.tokens if t != END_INDEX])
        assert confidence == pytest.approx(math.exp(hypothesis.score), rel=1e-5)
        assert 0 <= confidence <= 1


def trim(tokens: list[int], log_probs: list[float]) -> tuple[list[int], list[float]]:
    length = tokens.index(END_INDEX) + 1 if END_INDEX in tokens else len(tokens)
    return tokens[:length], log_probs[:length]


class ReadsPixels(LineAttention):
    """A stand-in network that decodes the tokens written in its images' pixels: row 0 greedily, row 1 by beam.

    Its memory's two frames are those pixel rows (first 8 columns); the decoder can still teach over them.
    """

    def encode(self, images):
        rows = (images[:, :2, :8] * 255).round()
        return self.decoder.attend_to(Frames(rows, torch.ones(rows.shape[:2], dtype=torch.bool)))

    def greedy(self, memory, max_length=None):
        tokens = memory.values[:, 0].long()
        return tokens, torch.full(tokens.shape, -0.1)

    def beam(self, memory, beam_width, max_length=None):
        rows = memory.values[:, 1].long().tolist()
        return [Hypothesis(*trim(row, [-0.1] * len(row))) for row in rows]


def pixel_split(truths: list[str], greedy: list[str], beam: list[str]) -> TensorSplit:
    images = torch.zeros(len(truths), 28, 168, dtype=torch.uint8)
    for row, readings in enumerate(zip(greedy, beam)):
        for pixel_row, reading in enumerate(readings):
            tokens = LINE_MAPPING.encode(reading) + [END_INDEX] * (8 - len(reading))
            images[row, pixel_row, :8] = torch.tensor(tokens, dtype=torch.uint8)
    return TensorSplit(images, labels_of(*truths, max_length=6))


def pixel_model(split: TensorSplit, **model_args) -> LineModelAttention:
    torch.manual_seed(0)
    network = ReadsPixels(28, LINE_MAPPING, conv_channels=2, encoder="none", encoder_size=8, encoder_layers=1,
                          decoder_size=8, embedding_size=4, max_output_length=8, dropout=0.0)
    return LineModelAttention(fake_dataset(split=split), network, **model_args)


TRUTHS = ["hello", "a", "to be", "", "xyz", "or not"]
GREEDY = ["hallo", "b", "to be", "", "xyzw", "ornot"]
BEAM = ["hello", "b", "to be", "", "xyz", "or nod"]


def test_evaluate_reports_corpus_level_cer_and_wer_of_the_decoded_texts():
    split = pixel_split(TRUTHS, GREEDY, BEAM)
    metrics = pixel_model(split).evaluate(split, batch_size=4)
    assert set(metrics) == {"loss", "cer", "wer"}
    assert metrics["cer"] == pytest.approx(character_error_rate(GREEDY, TRUTHS)) == pytest.approx(4 / 20)
    assert metrics["wer"] == pytest.approx(word_error_rate(GREEDY, TRUTHS)) == pytest.approx(5 / 7)


def test_evaluate_with_beam_search_adds_the_greedy_cer():
    split = pixel_split(TRUTHS, GREEDY, BEAM)
    metrics = pixel_model(split, decoder="beam").evaluate(split, batch_size=4)
    assert set(metrics) == {"loss", "cer", "wer", "cer_greedy"}
    assert metrics["cer"] == pytest.approx(character_error_rate(BEAM, TRUTHS)) == pytest.approx(2 / 20)
    assert metrics["wer"] == pytest.approx(2 / 7)
    assert metrics["cer_greedy"] == pytest.approx(4 / 20)


def test_evaluate_loss_is_per_target_token_whatever_the_batching():
    split = pixel_split(TRUTHS, GREEDY, BEAM)
    model = pixel_model(split, ctc_weight=0.0)  # the reported loss is the decoder's alone
    images, labels = next(split.batches(len(split)))
    with torch.no_grad():
        expected = model.training_loss(images, labels).item()  # dropout 0: the same in train mode
    for batch_size in (1, 4, 100):
        assert model.evaluate(split, batch_size=batch_size)["loss"] == pytest.approx(expected, rel=1e-5)


def test_an_empty_split_evaluates_to_zeros():
    split = TensorSplit(torch.zeros(0, 28, 168, dtype=torch.uint8), torch.zeros(0, 6, dtype=torch.long))
    assert pixel_model(split).evaluate(split) == {"loss": 0.0, "cer": 0.0, "wer": 0.0}


def test_a_model_rebuilt_for_inference_decodes_greedily_like_the_trained_one():
    model = small_model()
    rebuilt = LineModelAttention.for_inference(model.network, model.shapes)
    assert (rebuilt.decoder, rebuilt.variable_width) == ("greedy", True)
    images = torch.rand(2, 28, 70)
    assert rebuilt.predict(images) == model.predict(images)


@pytest.mark.parametrize(
    ("args", "argument", "problem"),
    [
        ({"decoder": "sample"}, "decoder", "must be one of 'greedy', 'beam', 'joint', 'beam_joint', got 'sample'"),
        ({"joint_weight": 1.0}, "joint_weight", "must be in [0, 1), got 1.0"),
        ({"decoder": "joint", "ctc_weight": 0.0}, "decoder",
         "'joint' reads with the CTC head, which trains only with ctc_weight above 0; this model's is 0"),
        ({"decoder": "beam", "beam_width": 0}, "beam_width", "must be at least 1, got 0"),
    ],
)
def test_impossible_model_settings_are_rejected_naming_the_argument(args, argument, problem):
    with pytest.raises(ArgumentError) as raised:
        small_model(**args)
    assert (raised.value.argument, raised.value.problem) == (argument, problem)


def test_other_networks_and_mappings_are_rejected():
    dataset = fake_dataset()
    with pytest.raises(ValueError, match="needs an encoder-decoder network such as line_attention, got Identity"):
        LineModelAttention(dataset, torch.nn.Identity())
    short = fake_dataset(mapping=type(LINE_MAPPING)(LINE_MAPPING.tokens[:-2]))
    with pytest.raises(ValueError, match="needs the <start>, <end> tokens in the label mapping"):
        LineModelAttention(short, line_attention(dataset.shapes, **SMALL))


def test_plugin_module_registers_the_model(bare_host, textrec_plugin):
    assert "LineModelAttention" not in components()["model"]
    textrec_plugin(textrec_attention.plugin, name="textrec-attention")
    assert components().get("model", "attention") is LineModelAttention


def test_installed_entry_point_provides_the_model():
    reset_host()
    entry = components()["model"].get("LineModelAttention")
    assert (entry.obj, entry.aliases, entry.provider) == (LineModelAttention, ("attention",), "textrec-attention")
