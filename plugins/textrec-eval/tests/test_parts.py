"""The parts of textrec-eval one by one: DATA parsing, trimming, spelling, ranking, highlighting, scoring,
comparing."""

from __future__ import annotations

import base64
import io
import itertools
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from textrec_core import TensorSplit
from textrec_core.errors import ConfigError, DataError
from textrec_core.mapping import PAD, CharacterMapping
from textrec_eval import comparison
from textrec_eval.calibration import character_accuracy, reliability
from textrec_eval.comparison import compare
from textrec_eval.data import data_config
from textrec_eval.evaluate import evaluate, label_texts, read_lines, trim_padding
from textrec_eval.metrics import LineResult, WorstLines, decoder_metrics, line_cer
from textrec_eval.report import highlight, png_data_uri

MAPPING = CharacterMapping((PAD, "a", "b", " ", ","))


def test_data_config_reads_json_objects_and_iam_folders(tmp_path):
    assert data_config(' {"dataset": "x", "dataset_args": {"n": 1}}') == {"dataset": "x", "dataset_args": {"n": 1}}
    assert data_config('{"dataset": "x"}') == {"dataset": "x", "dataset_args": {}}
    (tmp_path / "ascii").mkdir()
    (tmp_path / "ascii" / "lines.txt").write_text("")
    assert data_config(str(tmp_path)) == {"dataset": "iam_lines", "dataset_args": {"path": str(tmp_path),
                                                                                   "split": "all"}}
    with pytest.raises(ConfigError, match="is not a folder"):
        data_config(str(tmp_path / "ascii" / "lines.txt"))
    with pytest.raises(ConfigError, match="is no such folder"):
        data_config(str(tmp_path / "absent"))


def test_trim_padding_drops_trailing_black_columns_only():
    image = np.zeros((3, 10), dtype=np.float32)
    image[1, 2] = image[0, 5] = 0.5
    assert trim_padding(image).shape == (3, 6)
    assert trim_padding(np.zeros((3, 10), dtype=np.float32)).shape == (3, 1)


def test_label_texts_drop_pad_and_read_single_characters():
    assert label_texts(torch.tensor([[1, 3, 2, 0, 0], [0, 0, 0, 0, 0]]), MAPPING) == ["a b", ""]
    assert label_texts(torch.tensor([1, 2]), MAPPING) == ["a", "b"]


def test_line_cer_counts_against_at_least_one_character():
    assert line_cer("ab", "abcd") == 0.5
    assert line_cer("ab", "") == 2.0 and line_cer("", "") == 0.0


def test_decoder_metrics_are_corpus_level():
    metrics = decoder_metrics(["ab", "x y"], ["abcd", "x z"], seconds=0.5)
    assert metrics.cer == pytest.approx(3 / 7) and metrics.wer == pytest.approx(2 / 3)
    assert metrics.lines_per_second == 4.0
    with pytest.raises(DataError, match="cannot score"):
        decoder_metrics(["a"], [""], seconds=1.0)


def _line(index: int, cer: float) -> LineResult:
    return LineResult(index, None, "t", {"greedy": "r"}, {"greedy": cer}, np.zeros((1, 1), np.uint8), {"greedy": 1.0},
                      {"greedy": None})


def test_worst_lines_keep_the_highest_cer_ties_by_index():
    kept = WorstLines(3, "greedy")
    for index, cer in enumerate([0.1, 0.5, 0.0, 0.5, 0.9, 0.1]):
        kept.offer(_line(index, cer))
    assert [line.index for line in kept.lines()] == [4, 1, 3]
    none = WorstLines(0, "greedy")
    none.offer(_line(0, 1.0))
    assert none.lines() == []


def test_highlight_marks_differences_and_escapes():
    assert highlight("a<b", "a<c") == ("a&lt;<del>b</del>", "a&lt;<ins>c</ins>")
    assert highlight("abc", "abc") == ("abc", "abc")
    assert highlight("abc", "") == ("<del>abc</del>", "")
    assert highlight("", "x&") == ("", "<ins>x&amp;</ins>")


def test_png_data_uri_draws_dark_ink_on_light():
    image = np.zeros((4, 6), dtype=np.uint8)
    image[2, 3] = 255
    uri = png_data_uri(image)
    assert uri.startswith("data:image/png;base64,")
    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))
    assert decoded.shape == (4, 6) and decoded[2, 3] == 0 and decoded[0, 0] == 255


class FixedReader:
    """A predictor stand-in that reads every line as ``text``."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.batch_sizes: list[int] = []

    def predict_batch(self, images):
        self.batch_sizes.append(len(images))
        return [(self.text, 1.0) for _ in images]


def test_evaluate_normalises_truths_and_readings_and_names_lines_by_index():
    labels = torch.tensor([[1, 4, 3, 2, 0], [1, 3, 3, 2, 0], [2, 0, 0, 0, 0]])  # "a, b", "a  b", "b"
    split = TensorSplit(torch.zeros(3, 4, 8, dtype=torch.uint8), labels)
    reader = FixedReader(" a ,  b ")
    result = evaluate({"greedy": reader}, split, MAPPING, batch_size=2, worst=2)
    assert reader.batch_sizes == [2, 2, 1]  # the first batch read untimed as a warm-up, then each batch
    assert result.lines == 3
    assert result.metrics["greedy"].cer == pytest.approx(4 / 8)  # 0 edits of "a, b", 1 of "a b", 3 of "b"
    assert [(line.index, line.id, line.truth, line.readings["greedy"]) for line in result.worst] == [
        (2, None, "b", "a, b"), (1, None, "a b", "a, b")]


def test_the_console_script_is_installed_and_fails_cleanly(tmp_path):
    (script,) = entry_points(group="console_scripts", name="textrec-eval")
    assert script.value == "textrec_eval.cli:main"
    executable = Path(sys.executable).parent / "textrec-eval"
    done = subprocess.run([str(executable), str(tmp_path), '{"dataset": "x"}'], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.strip().startswith("textrec-eval: error: ") and "Traceback" not in done.stderr


class LoggingReader(FixedReader):
    """A FixedReader that appends its name to a shared log at each call."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__(name)
        self.log = log

    def predict_batch(self, images):
        self.log.append(self.text)
        return super().predict_batch(images)


def test_readers_take_turns_to_read_each_batch_first():
    log: list[str] = []
    split = TensorSplit(torch.zeros(3, 4, 8, dtype=torch.uint8), torch.ones(3, 2, dtype=torch.long))
    result = evaluate({"a": LoggingReader("a", log), "b": LoggingReader("b", log)}, split, MAPPING, batch_size=1,
                      worst=0)
    assert log == ["a", "a", "b", "b", "b", "a", "a", "b"]  # warm-ups in the first batch, then turns
    assert list(result.metrics) == ["a", "b"]


def test_reliability_bins_lines_by_score_and_weighs_the_gaps_by_lines():
    # scores 0.05 and 0.15 fall in two bins, 0.95 and 1.0 in the last one (which includes 1)
    table = reliability([0.05, 0.15, 0.95, 1.0], [0.0, 0.5, 1.0, 0.5], [False, False, True, False], bins=10)
    assert [(b.low, b.high, b.lines) for b in table.bins] == [(0.0, 0.1, 1), (0.1, 0.2, 1), (0.9, 1.0, 2)]
    assert [b.score for b in table.bins] == pytest.approx([0.05, 0.15, 0.975])
    assert [b.accuracy for b in table.bins] == pytest.approx([0.0, 0.5, 0.75])
    assert [b.exact for b in table.bins] == [0.0, 0.0, 0.5]
    assert table.ece == pytest.approx((0.05 + 0.35 + 2 * 0.225) / 4)
    with pytest.raises(ValueError, match="one score, accuracy and exact flag per line"):
        reliability([0.5], [], [])
    with pytest.raises(ValueError):
        reliability([], [], [])


def test_character_accuracy_is_one_minus_cer_floored_at_zero():
    assert character_accuracy("abc", "abc") == 1.0
    assert character_accuracy("abd", "abc") == pytest.approx(2 / 3)
    assert character_accuracy("xxxxxx", "ab") == 0.0


class AgreeingReader(FixedReader):
    """An ensemble stand-in: ``read`` gives each line ``text`` with confidence 0.5 and agreement 0.25."""

    def read(self, images):
        return [type("Line", (), {"text": self.text, "confidence": 0.5, "agreement": 0.25})() for _ in images]


def test_an_ensemble_reader_reports_agreement_and_others_none():
    arrays = [np.zeros((4, 8), np.float32)] * 2
    assert read_lines(FixedReader("a"), arrays) == [("a", 1.0, None)] * 2
    assert read_lines(AgreeingReader("a"), arrays) == [("a", 0.5, 0.25)] * 2
    split = TensorSplit(torch.zeros(2, 4, 8, dtype=torch.uint8), torch.tensor([[1, 0], [2, 0]]))  # "a", "b"
    result = evaluate({"vote": AgreeingReader("a")}, split, MAPPING, batch_size=2, worst=1)
    assert set(result.reliability["vote"]) == {"confidence", "agreement"}
    agreement = result.reliability["vote"]["agreement"]
    assert [(b.lines, b.score, b.accuracy) for b in agreement.bins] == [(2, 0.25, 0.5)]
    assert result.worst[0].agreements == {"vote": 0.25} and result.worst[0].confidences == {"vote": 0.5}


def exact_better_share(gaps: list[int]) -> float:
    """The bootstrap's share of resamples with a negative difference (a negative sum of per-line
    edit gaps), over every ordered draw."""
    draws = list(itertools.product(range(len(gaps)), repeat=len(gaps)))
    return sum(sum(gaps[i] for i in draw) < 0 for draw in draws) / len(draws)


def test_compare_matches_the_exact_bootstrap_distribution(monkeypatch):
    edits, baseline, lengths = [2, 0, 5, 1, 0], [1, 2, 3, 1, 4], [4, 3, 9, 2, 6]
    gaps = [a - b for a, b in zip(edits, baseline)]
    monkeypatch.setattr(comparison, "BLOCK_ELEMENTS", 7 * len(edits))  # resamples drawn in blocks of 7
    result = compare(np.array(edits), np.array(baseline), np.array(lengths), seed=3)
    assert result.cer == pytest.approx(8 / 24) and result.baseline_cer == pytest.approx(11 / 24)
    assert result.difference == pytest.approx(-3 / 24)
    assert (result.lines_better, result.lines_worse) == (2, 2)  # gaps 1, -2, 2, 0, -4
    assert result.better_share == pytest.approx(exact_better_share(gaps), abs=0.015)
    assert result.low < result.difference < result.high
    assert compare(edits, baseline, lengths, seed=3) == result  # deterministic under a seed


def test_compare_of_one_sure_gap_has_a_point_interval():
    result = compare([0, 0], [1, 1], [2, 2], resamples=50)
    assert result.difference == result.low == result.high == -0.5 and result.better_share == 1.0


def test_compare_with_empty_truths_counts_edits_over_one_character():
    result = compare([1], [0], [0], resamples=10)
    assert result.cer == result.difference == result.low == 1.0 and result.baseline_cer == 0.0


@pytest.mark.parametrize(("arrays", "options"), [
    (([1, 2], [1], [3, 3]), {}), (([], [], []), {}), (([[1]], [[1]], [[1]]), {}),
    (([1], [1], [1]), {"resamples": 0}), (([1], [1], [1]), {"level": 1.0}),
])
def test_compare_refuses_bad_input(arrays, options):
    with pytest.raises(ValueError, match="expected"):
        compare(*arrays, **options)
