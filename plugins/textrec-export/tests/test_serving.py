"""Serving through the exported graph: a CTC line model trained on the real scanned IAM lines of the
data mirror reads those scans, and real IAM-OnDB lines it never saw, through ONNX Runtime as it does
through torch: the same greedy and beam readings and frame log-probabilities, the same confidences
(to a tolerance), one line at a time and in batches of lines of different widths; ``runtime="auto"``
serves the graph where the bundle holds one and ONNX Runtime measured faster."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from textrec_core import load_predictor
from textrec_core.config import TrainArgs
from textrec_core.predictor import AUTO_RUNTIME, GraphNetwork
from textrec_core.services.metrics import character_error_rate
from textrec_iam import IamLinesDataset
from textrec_lstm_ctc import LineModelCtc
from textrec_lstm_ctc.network import line_lstm_ctc

#: A line_lstm_ctc that learns the eleven scans (32 pixels high) in about 150 epochs.
NETWORK_ARGS = {"window_width": 12, "window_stride": 6, "conv_channels": 16, "lstm_size": 64, "lstm_layers": 1,
                "dropout": 0.0}
DECODERS = ("greedy", "beam")


@pytest.fixture(scope="module")
def trained(mirror_dir: Path, scans: list[Path], one_thread: None,
            tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A LineModelCtc trained on the scans of ``iam-sample`` until it reads them (15-40 s on one
    thread), saved as a bundle; and the transcriptions of :func:`scans`, in their order."""
    dataset = IamLinesDataset(path=str(mirror_dir / "iam-sample"), split="all", height=32)
    dataset.prepare()
    lines = dataset.test
    torch.manual_seed(0)
    model = LineModelCtc(SimpleNamespace(shapes=dataset.shapes, train=lines, val=lines, test=lines),
                         line_lstm_ctc(dataset.shapes, **NETWORK_ARGS))
    model.fit(TrainArgs(batch_size=len(lines), epochs=150, learning_rate=5e-3, patience=0, max_grad_norm=1.0),
              progress=False)
    bundle = model.save(tmp_path_factory.mktemp("trained") / "model", model="LineModelCtc", network="line_lstm_ctc",
                        network_args=NETWORK_ARGS, model_args={})
    truths = dict(zip(lines.ids, model.label_text(lines.labels)))
    return bundle, [truths[scan.stem] for scan in scans]


@pytest.fixture
def exported(trained: tuple[Path, list[str]], tmp_path: Path, run_export) -> Path:
    """A copy of the trained bundle with its graph, written by ``textrec-export``."""
    bundle = Path(shutil.copytree(trained[0], tmp_path / "model"))
    status, _, err = run_export(bundle, "--format", "onnx")
    assert status == 0, err
    return bundle


def test_the_model_served_reads_the_scans_it_learned(trained, scans):
    readings = load_predictor(trained[0], runtime="torch").predict_batch(scans)
    assert character_error_rate([text for text, _ in readings], trained[1]) < 0.1
    assert min(confidence for _, confidence in readings) > 1e-3


@pytest.mark.parametrize("decoder", DECODERS)
@pytest.mark.parametrize("lines", ["scans", "ondb_lines"])
def test_readings_through_the_graph_are_torchs(exported, decoder, lines, request):
    images = request.getfixturevalue(lines)
    graph = load_predictor(exported, model_args={"decoder": decoder}, runtime="onnx")
    eager = load_predictor(exported, model_args={"decoder": decoder}, runtime="torch")
    assert isinstance(graph.model.network, GraphNetwork) and not isinstance(eager.model.network, GraphNetwork)
    batch = eager.collate([eager.preprocess(image) for image in images])
    (found, found_lengths), (expected, expected_lengths) = (graph.model.frame_log_probs(batch),
                                                            eager.model.frame_log_probs(batch))
    assert torch.equal(found_lengths, expected_lengths)
    torch.testing.assert_close(found, expected, rtol=1e-4, atol=1e-4)
    readings, expected_readings = graph.predict_batch(images), eager.predict_batch(images)
    assert [text for text, _ in readings] == [text for text, _ in expected_readings]
    assert [confidence for _, confidence in readings] == pytest.approx(
        [confidence for _, confidence in expected_readings], rel=1e-4, abs=1e-7)


def test_one_line_at_a_time_reads_as_in_a_batch_of_other_widths(exported, ondb_lines):
    """A dynamic batch and width: each line alone (its own width) reads as in the batch, padded to the widest."""
    graph = load_predictor(exported, model_args={"decoder": "beam"}, runtime="onnx")
    eager = load_predictor(exported, model_args={"decoder": "beam"}, runtime="torch")
    assert len({line.shape[1] for line in ondb_lines}) > len(ondb_lines) // 2
    batched = graph.predict_batch(ondb_lines)
    for line, (text, confidence) in zip(ondb_lines, batched):
        alone, expected = graph.predict(line), eager.predict(line)
        assert alone[0] == text == expected[0]
        assert alone[1] == pytest.approx(confidence, rel=1e-4, abs=1e-7) == expected[1]


def test_auto_serves_the_graph_where_the_bundle_holds_one(trained, exported, scans):
    assert not isinstance(load_predictor(trained[0]).model.network, GraphNetwork)
    auto = load_predictor(exported)
    assert isinstance(auto.model.network, GraphNetwork) == (AUTO_RUNTIME == "onnx")
    assert [text for text, _ in auto.predict_batch(scans)] == [
        text for text, _ in load_predictor(exported, runtime="torch").predict_batch(scans)]


def test_the_graph_offers_the_networks_size_rules_and_nothing_else_of_it(exported):
    """A model that read the eager network through more than its forward pass would fail, not run it unnoticed."""
    network = load_predictor(exported, runtime="onnx").model.network
    eager = load_predictor(exported, runtime="torch").model.network
    widths = torch.tensor([5, 12, 13, 600])
    assert torch.equal(network.output_lengths(widths), eager.output_lengths(widths))
    assert network.output_length(600) == eager.output_length(600)
    assert not hasattr(network, "frame_features") and not hasattr(network, "lstm")
    assert list(network.parameters()) == []
