"""``textrec-export BUNDLE --format onnx``: a graph checked against the network, written into the bundle
(or ``--out``) atomically, with what it is beside it; networks without a form, unreadable bundles and
occupied targets are refused (exit 2), graphs that differ from their network are never kept."""

from __future__ import annotations

import json
import re

import pytest
import torch

from textrec_core import load_predictor
from textrec_core.bundle import Bundle
from textrec_core.errors import ArgumentError, BundleError
from textrec_core.plugins import components
from textrec_core.predictor import GRAPH_DIR, GRAPH_FILE, GRAPH_META, GraphNetwork
from textrec_core.services.download import sha256_file
from textrec_export import GraphMismatch
from textrec_export.folders import replacing_folder
from textrec_export.verify import sample_batches, verify


def one_paragraph(text: str) -> bool:
    return bool(text.strip()) and "\n\n" not in text.strip() and "Traceback" not in text


def test_the_graph_goes_into_the_bundle_with_what_it_is(ctc_bundle, run_export):
    before = Bundle(ctc_bundle).digest()
    status, out, err = run_export(ctc_bundle, "--format", "onnx")
    assert status == 0, err
    graph = ctc_bundle / GRAPH_DIR
    assert sorted(path.name for path in graph.iterdir()) == [GRAPH_META, GRAPH_FILE]
    assert str(graph / GRAPH_FILE) in out and "batch and width dynamic" in out
    meta = json.loads((graph / GRAPH_META).read_text(encoding="utf-8"))
    assert meta["format"] == "onnx" and meta["opset"] == 17 and meta["torch"] == torch.__version__
    assert meta["network"] == "line_lstm_ctc" and meta["weights_sha256"] == sha256_file(ctc_bundle / "weights.pt")
    assert meta["dynamic_axes"] == {"images": {"0": "batch", "2": "width"}, "logits": {"0": "batch", "1": "frames"}}
    shapes = {tuple(shape) for shape in meta["verified"]["inputs"]}
    assert {shape[0] for shape in shapes} == {1, 3} and len({shape[2] for shape in shapes}) == 4
    assert meta["verified"]["max_abs_difference"] < meta["verified"]["atol"]
    assert Bundle(ctc_bundle).digest() != before  # the graph is part of what the bundle is
    assert sorted(path.name for path in ctc_bundle.iterdir()) == ["bundle.json", GRAPH_DIR, "weights.pt"]
    # as readable by other users (a container's server) as the bundle's own folder
    assert graph.stat().st_mode & 0o777 == ctc_bundle.stat().st_mode & 0o777


def test_exporting_again_replaces_the_graph(ctc_bundle, run_export):
    assert run_export(ctc_bundle)[0] == 0
    first = (ctc_bundle / GRAPH_DIR / GRAPH_META).stat().st_mtime_ns
    status, _, err = run_export(ctc_bundle)
    assert status == 0, err
    assert (ctc_bundle / GRAPH_DIR / GRAPH_META).stat().st_mtime_ns != first
    assert sorted(path.name for path in ctc_bundle.iterdir()) == ["bundle.json", GRAPH_DIR, "weights.pt"]
    assert sorted(path.name for path in (ctc_bundle / GRAPH_DIR).iterdir()) == [GRAPH_META, GRAPH_FILE]


def test_out_writes_the_graph_elsewhere_and_leaves_the_bundle_alone(ctc_bundle, tmp_path, run_export):
    before = Bundle(ctc_bundle).digest()
    status, out, err = run_export(ctc_bundle, "--out", tmp_path / "graph-elsewhere")
    assert status == 0, err
    assert sorted(path.name for path in (tmp_path / "graph-elsewhere").iterdir()) == [GRAPH_META, GRAPH_FILE]
    assert not (ctc_bundle / GRAPH_DIR).exists() and Bundle(ctc_bundle).digest() == before


@pytest.mark.parametrize("network", ["line_cnn_all_conv", "line_cnn_time_distributed"])
@pytest.mark.parametrize("stride", [28, 14])
def test_line_cnns_export_with_a_dynamic_batch_and_read_as_in_torch(network, stride, save_bundle, run_export, scans):
    """Their model reads lines fitted to the training width: the batch is dynamic, the width is not."""
    bundle = save_bundle(network, "LineModel", network, {"window_stride": stride})
    status, out, err = run_export(bundle)
    assert status == 0, err
    assert "batch dynamic" in out
    graph, eager = load_predictor(bundle, runtime="onnx"), load_predictor(bundle, runtime="torch")
    assert isinstance(graph.model.network, GraphNetwork)
    pairs = [*zip(graph.predict_batch(scans), eager.predict_batch(scans)), (graph.predict(scans[0]),
                                                                             eager.predict(scans[0]))]
    for (text, confidence), (expected_text, expected_confidence) in pairs:
        assert text == expected_text and confidence == pytest.approx(expected_confidence, rel=1e-4, abs=1e-7)


def test_attention_is_refused_naming_why(save_bundle, run_export):
    bundle = save_bundle("attention", "LineModelAttention", "line_attention",
                         {"conv_channels": 4, "encoder_size": 8, "decoder_size": 8, "embedding_size": 4})
    status, out, err = run_export(bundle)
    assert status == 2 and out == ""
    assert one_paragraph(err) and "'line_attention' cannot be exported" in err and "autoregressive" in err
    assert not (bundle / GRAPH_DIR).exists()


def test_a_network_without_a_form_is_refused_naming_those_there_are(ctc_bundle, run_export):
    meta = json.loads((ctc_bundle / "bundle.json").read_text(encoding="utf-8"))
    (ctc_bundle / "bundle.json").write_text(json.dumps({**meta, "network": "my_network"}), encoding="utf-8")
    status, _, err = run_export(ctc_bundle)
    assert status == 2 and one_paragraph(err)
    assert re.search(r"'my_network' cannot be exported: .*line_cnn_all_conv.*line_lstm_ctc", err)


def test_a_folder_that_is_no_bundle_exits_2_and_writes_nothing(tmp_path, run_export):
    (tmp_path / "empty").mkdir()
    status, out, err = run_export(tmp_path / "empty")
    assert status == 2 and out == "" and one_paragraph(err) and "not a textrec model bundle" in err
    assert list((tmp_path / "empty").iterdir()) == []


def test_an_out_folder_holding_other_files_is_not_replaced(ctc_bundle, tmp_path, run_export):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    status, _, err = run_export(ctc_bundle, "--out", tmp_path / "mine")
    assert status == 2 and one_paragraph(err) and "--out" in err and "notes.txt" in err
    assert [path.name for path in (tmp_path / "mine").iterdir()] == ["notes.txt"]
    status, _, err = run_export(ctc_bundle, "--out", tmp_path / "no" / "such" / "folder")
    assert status == 2 and one_paragraph(err) and not (tmp_path / "no").exists()


def test_a_graph_of_other_weights_does_not_pass_the_verification(ctc_bundle, other_ctc_bundle, run_export):
    """The check an export ends with: the graph of one bundle against the network of another (same
    architecture, other weights) differs beyond the tolerance, and says on which input."""
    assert run_export(ctc_bundle)[0] == 0
    network = Bundle(other_ctc_bundle).build_network(components().get("network", "line_lstm_ctc"))
    with pytest.raises(GraphMismatch, match=r"on input \(1, 32, 9\) the graph's output differs"):
        verify(ctc_bundle / GRAPH_DIR / GRAPH_FILE, "images", network, sample_batches(32, [9]))


def test_a_failed_export_leaves_the_folder_it_would_replace_as_it_was(tmp_path):
    target = tmp_path / "graph"
    target.mkdir()
    (target / GRAPH_FILE).write_bytes(b"the earlier graph")
    with pytest.raises(GraphMismatch), replacing_folder(target) as staging:
        (staging / GRAPH_FILE).write_bytes(b"a graph that failed its check")
        raise GraphMismatch("differs")
    assert [path.name for path in tmp_path.iterdir()] == ["graph"]
    assert (target / GRAPH_FILE).read_bytes() == b"the earlier graph"


def test_serving_a_bundle_without_a_graph_from_onnx_says_how_to_export_one(ctc_bundle):
    with pytest.raises(BundleError, match=r"holds no exported graph.*textrec-export .* --format onnx"):
        load_predictor(ctc_bundle, runtime="onnx")
    with pytest.raises(ArgumentError, match=r"runtime: must be one of 'auto', 'torch', 'onnx', got 'tensorrt'"):
        load_predictor(ctc_bundle, runtime="tensorrt")
    assert not isinstance(load_predictor(ctc_bundle).model.network, GraphNetwork)  # auto, without a graph


def test_a_graph_copied_into_a_bundle_of_other_weights_is_refused(ctc_bundle, other_ctc_bundle, run_export):
    assert run_export(ctc_bundle)[0] == 0
    other = other_ctc_bundle
    (other / GRAPH_DIR).mkdir()
    for name in (GRAPH_FILE, GRAPH_META):
        (other / GRAPH_DIR / name).write_bytes((ctc_bundle / GRAPH_DIR / name).read_bytes())
    for runtime in ("onnx", "auto"):
        with pytest.raises(BundleError, match="exported from other weights than the bundle's weights.pt"):
            load_predictor(other, runtime=runtime)
    assert not isinstance(load_predictor(other, runtime="torch").model.network, GraphNetwork)
