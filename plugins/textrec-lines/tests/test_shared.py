"""The pieces the sequence models share: text error sums, the CTC loss, ``SequenceModel``'s checks,
index lookups and label texts, ``DecodingModel``'s arguments and metrics, and the shape and
argument checks of line networks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from textrec_core import DataShapes
from textrec_core.errors import ArgumentError
from textrec_core.mapping import BLANK, EMNIST_MAPPING, END, LINE_MAPPING, PAD, START
from textrec_core.model import InferenceData
from textrec_core.services.metrics import character_error_rate, word_error_rate
from textrec_lines import TEXT_ERROR_RATIOS, DecodingModel, SequenceModel, ctc_loss, text_error_sums
from textrec_lines.shapes import check_line_images, check_line_labels, check_tokens

PAD_INDEX = LINE_MAPPING.index(PAD)


def line_shapes(max_length: int = 6, mapping=LINE_MAPPING) -> DataShapes:
    return DataShapes((28, 28 * max_length), (max_length,), mapping)


def labels_of(*texts: str, max_length: int = 6) -> torch.Tensor:
    return torch.tensor([LINE_MAPPING.encode(text) + [PAD_INDEX] * (max_length - len(text)) for text in texts])


# --- text error sums ---------------------------------------------------------------------------


def test_text_error_sums_known_answers():
    sums = text_error_sums(["hallo", "b", "to be", "", "xyzw"], ["hello", "a", "to be", "", "xyz"])
    assert sums == {"char_edits": 3, "truth_chars": 14, "word_edits": 3, "truth_words": 5}


@pytest.mark.parametrize("seed", range(5))
def test_text_error_sums_give_the_corpus_error_rates(seed):
    generator = torch.Generator().manual_seed(seed)
    alphabet = "ab c"

    def text() -> str:
        length = int(torch.randint(0, 9, (), generator=generator))
        return "".join(alphabet[i] for i in torch.randint(0, len(alphabet), (length,), generator=generator))

    texts, truths = [text() for _ in range(12)], [text() or "a" for _ in range(12)]
    sums = text_error_sums(texts, truths)
    rates = {metric: sums[numerator] / sums[denominator] for metric, (numerator, denominator)
             in TEXT_ERROR_RATIOS.items()}
    assert rates["cer"] == pytest.approx(character_error_rate(texts, truths))
    if sums["truth_words"]:
        assert rates["wer"] == pytest.approx(word_error_rate(texts, truths))


def test_text_error_sums_refuse_unpaired_lists():
    with pytest.raises(ValueError, match="2 texts but 1 truths"):
        text_error_sums(["a", "b"], ["a"])


# --- the CTC loss ------------------------------------------------------------------------------


def torch_ctc(logits, targets, input_lengths, **kwargs) -> torch.Tensor:
    """torch's CTC loss called directly, targets concatenated."""
    flat = torch.tensor([i for target in targets for i in target], dtype=torch.long)
    return F.ctc_loss(logits.log_softmax(-1).transpose(0, 1), flat, input_lengths,
                      torch.tensor([len(target) for target in targets]), blank=3, **kwargs)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_ctc_loss_is_torchs_over_all_frames_by_default(reduction):
    torch.manual_seed(0)
    logits = torch.randn(3, 9, 5)
    targets = [[0, 1, 1], [], [2, 4, 0, 2]]
    expected = torch_ctc(logits, targets, torch.full((3,), 9), reduction=reduction)
    torch.testing.assert_close(ctc_loss(logits, targets, 3, reduction=reduction), expected)


def test_ctc_loss_reads_each_lines_real_frames_only():
    torch.manual_seed(0)
    logits = torch.randn(2, 9, 5)
    targets, lengths = [[0, 1], [2]], torch.tensor([9, 4])
    loss = ctc_loss(logits, targets, 3, input_lengths=lengths)
    torch.testing.assert_close(loss, torch_ctc(logits, targets, lengths))
    changed = logits.clone()
    changed[1, 4:] = torch.randn(5, 5)  # frames past the second line's length
    torch.testing.assert_close(ctc_loss(changed, targets, 3, input_lengths=lengths), loss)


def test_ctc_loss_of_an_impossible_line_is_zero_or_infinite():
    """Two frames cannot spell ``a a`` (it needs ``a - a``)."""
    logits = torch.randn(1, 2, 5)
    assert ctc_loss(logits, [[0, 0]], 3).item() == 0.0
    assert ctc_loss(logits, [[0, 0]], 3, zero_infinity=False).item() == float("inf")


def test_ctc_loss_of_bfloat16_logits_is_float32_with_a_finite_gradient():
    logits = torch.randn(2, 8, 5).bfloat16().requires_grad_()
    loss = ctc_loss(logits, [[0, 1], [2]], 3)
    assert loss.dtype == torch.float32
    loss.backward()
    assert logits.grad.float().isfinite().all()


# --- SequenceModel -----------------------------------------------------------------------------


class Sequence(SequenceModel):
    required_tokens = (PAD, BLANK, START, END)


def test_sequence_model_looks_up_the_special_tokens_and_spells_labels():
    """Built on ``InferenceData``, which has the shapes and nothing else: no prepared data is needed."""
    model = Sequence(InferenceData(line_shapes()), nn.Identity())
    assert (model.pad_index, model.blank_index, model.start_index, model.end_index) == (
        LINE_MAPPING.index(PAD), LINE_MAPPING.index(BLANK), LINE_MAPPING.index(START), LINE_MAPPING.index(END))
    labels = labels_of("a b", "", "Zz9 0x")
    assert model.label_text(labels) == ["a b", "", "Zz9 0x"]
    assert model.text_tokens(labels) == [LINE_MAPPING.encode("a b"), [], LINE_MAPPING.encode("Zz9 0x")]
    assert model.predictor == "LinePredictor"


@pytest.mark.parametrize(
    ("shapes", "message"),
    [
        (line_shapes(mapping=EMNIST_MAPPING), r"Sequence needs the <pad>, <blank>, <start>, <end> tokens in the "
                                              r"label mapping; CharacterMapping\(62 tokens\) lacks them"),
        (line_shapes(mapping=type(LINE_MAPPING)(LINE_MAPPING.tokens[:-1])), "needs the <end> token in the label"),
        (DataShapes((28, 28), (), LINE_MAPPING), r"Sequence reads labels of shape \(max_length,\), got \(\)"),
        (DataShapes((28, 28), (0,), LINE_MAPPING), r"labels of shape \(max_length,\), got \(0,\)"),
    ],
)
def test_sequence_model_refuses_data_it_cannot_read(shapes, message):
    with pytest.raises(ValueError, match=message) as raised:
        Sequence(InferenceData(shapes), nn.Identity())
    assert not isinstance(raised.value, ArgumentError)  # the data, not an argument, is at fault


# --- DecodingModel -----------------------------------------------------------------------------


class Decoding(DecodingModel):
    def __init__(self, dataset, network, decoder: str = "greedy", beam_width: int = 4) -> None:
        super().__init__(dataset, network, decoder, beam_width)


@pytest.mark.parametrize(
    ("args", "argument", "problem"),
    [
        ({"decoder": "viterbi"}, "decoder", "must be one of 'greedy', 'beam', got 'viterbi'"),
        ({"beam_width": 0}, "beam_width", "must be at least 1, got 0"),
    ],
)
def test_decoding_model_arguments_are_checked(args, argument, problem):
    with pytest.raises(ArgumentError) as raised:
        Decoding(InferenceData(line_shapes()), nn.Identity(), **args)
    assert (raised.value.argument, raised.value.problem) == (argument, problem)


def test_decoding_model_reports_the_greedy_cer_beside_the_beams():
    truths = labels_of("hello", "to be")
    readings = {"greedy": ["hallo", "tobe"], "beam": ["hello", "to bee"]}
    greedy = Decoding(InferenceData(line_shapes()), nn.Identity())
    assert list(greedy.ratios) == ["loss", "cer", "wer"]
    assert greedy.reading_error_sums(readings.__getitem__, truths) == text_error_sums(readings["greedy"],
                                                                                      ["hello", "to be"])
    beam = Decoding(InferenceData(line_shapes()), nn.Identity(), decoder="beam")
    assert beam.ratios["cer_greedy"] == ("greedy_char_edits", "truth_chars")
    sums = beam.reading_error_sums(readings.__getitem__, truths)
    assert sums == {**text_error_sums(readings["beam"], ["hello", "to be"]), "greedy_char_edits": 2}


# --- checks of line networks' shapes ------------------------------------------------------


def test_line_shape_checks():
    assert check_line_images("net", line_shapes(), 8) == (28, 168)
    assert check_line_labels("net", line_shapes(5)) == 5
    with pytest.raises(ValueError, match=r"net reads 2-D line images \(H, W\) at least 30 pixels tall, got input "
                                         r"shape \(28, 168\)"):
        check_line_images("net", line_shapes(), 30)
    with pytest.raises(ValueError, match=r"2-D line images .* got input shape \(112,\)"):
        check_line_images("net", DataShapes((112,), (4,), LINE_MAPPING), 8)
    check_tokens("net", LINE_MAPPING, (PAD, BLANK))
    with pytest.raises(ValueError, match="net needs the <blank> token"):
        check_tokens("net", EMNIST_MAPPING, (BLANK,))

