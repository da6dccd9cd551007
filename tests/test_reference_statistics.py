"""Drift signals, reference histograms, the PSI, and the reference statistics a saved bundle records."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from textrec_core import load_predictor
from textrec_core.bundle import META_FILE, Bundle
from textrec_core.cli import main
from textrec_core.errors import BundleError
from textrec_core.services.drift import (
    FLOOR,
    Histogram,
    bin_fractions,
    image_signals,
    psi,
    reference_histogram,
    reference_statistics,
    statistics_from_json,
    statistics_to_json,
)


def test_the_image_signals_read_the_lines_content_not_its_padding():
    line = np.zeros((4, 10), dtype=np.float32)
    line[1:3, 0:5] = 0.5  # ink in the first 5 columns, then padding
    line[0, 4] = 1.0
    blank = np.zeros((4, 10), dtype=np.float32)
    signals = image_signals(np.stack([line, blank]))
    assert signals["intensity"].tolist() == pytest.approx([(10 * 0.5 + 1.0) / (4 * 5), 0.0])
    assert signals["aspect_ratio"].tolist() == [5 / 4, 0.0]
    padded = np.concatenate([line, np.zeros((4, 30), dtype=np.float32)], axis=1)  # a batch padded wider
    assert image_signals(padded[None])["intensity"][0] == pytest.approx(signals["intensity"][0])


def test_a_reference_histogram_cuts_at_the_deciles_and_every_bin_holds_reference_values():
    histogram = reference_histogram(np.arange(100.0), "train")
    assert histogram.edges == tuple(float(x) for x in range(9, 90, 10))
    assert histogram.fractions == pytest.approx((0.09,) + (0.1,) * 8 + (0.11,))
    assert histogram.count == 100 and histogram.split == "train"
    ties = reference_histogram(np.array([0.0] * 60 + [1.0] * 20 + [2.0] * 20), "val")  # equal deciles merge bins
    assert ties.edges == (1.0, 2.0) and ties.fractions == pytest.approx((0.6, 0.2, 0.2))
    assert reference_histogram(np.full(5, 3.0), "val").fractions == (1.0,)


def test_psi_is_zero_for_the_same_distribution_and_follows_its_formula():
    reference = Histogram("train", 4, (1.0,), (0.5, 0.5))
    assert psi(reference, np.array([0.0, 2.0, 0.5, 3.0])) == 0.0
    expected = (1 - 0.5) * math.log(1 / 0.5) + (FLOOR - 0.5) * math.log(FLOOR / 0.5)  # an empty bin counts at FLOOR
    assert psi(reference, np.array([0.0, 0.2])) == pytest.approx(expected)
    assert bin_fractions((1.0, 2.0), np.array([0.5, 1.0, 1.5, 2.0, 9.0])).tolist() == [0.2, 0.4, 0.4]


def test_statistics_survive_json_and_malformed_ones_are_refused():
    statistics = {"intensity": reference_histogram(np.linspace(0, 1, 50), "train")}
    assert statistics_from_json(json.loads(json.dumps(statistics_to_json(statistics)))) == statistics
    assert statistics_from_json({**statistics_to_json(statistics), "stroke_width": {"any": "thing"}}) == statistics
    good = statistics_to_json(statistics)["intensity"]
    for bad, problem in [({**good, "fractions": [1.0]}, "one longer"),
                         ({**good, "edges": list(reversed(good["edges"]))}, "increasing"),
                         ({**good, "fractions": [0.5] * len(good["fractions"])}, "sum to 1"),
                         ({**good, "count": 0}, "positive integer"), ({"split": "train"}, "an object with")]:
        with pytest.raises(ValueError, match=f"intensity: .*{problem}"):
            statistics_from_json({"intensity": bad})


def test_a_saved_bundle_records_its_training_datas_statistics(toy, capsys, one_thread):
    assert main(["--save", "--nowandb", "--quiet", toy.config()]) == 0
    bundle = Bundle(capsys.readouterr().out.split("saved model bundle: ")[1].split("\n")[0])
    statistics = bundle.reference_statistics
    assert set(statistics) == {"intensity", "aspect_ratio", "confidence"}
    (dataset,) = toy.Stripes.prepared
    assert (statistics["intensity"].split, statistics["intensity"].count) == ("train", len(dataset.train))
    assert (statistics["confidence"].split, statistics["confidence"].count) == ("val", len(dataset.val))
    assert json.loads((bundle.path / META_FILE).read_text())["reference_statistics"] == statistics_to_json(statistics)

    # Serving computes the same signals: a training image, saved as a file and preprocessed by the
    # bundle's predictor, has the signals its dataset tensor has.
    predictor = load_predictor(bundle.path)
    image = dataset.splits["train"].images[0].numpy()
    served = image_signals(predictor.preprocess(255 - image)[None])
    trained = image_signals(next(iter(dataset.train.batches(1)))[0].numpy())
    assert {name: float(v[0]) for name, v in served.items()} == pytest.approx(
        {name: float(v[0]) for name, v in trained.items()})
    model_conf = [conf for _, conf in predictor.model.predict(next(iter(dataset.val.batches(len(dataset.val))))[0])]
    assert psi(statistics["confidence"], np.array(model_conf)) == pytest.approx(0.0, abs=1e-9)


def test_a_reference_is_drawn_from_at_most_the_limit(toy, one_thread):
    dataset = toy.Stripes(size=100)
    dataset.prepare()
    network = toy.toy_mlp(dataset.shapes)
    model = toy.ToyClassifier(dataset, network)
    statistics = reference_statistics(dataset.train, dataset.val, model, limit=25, batch_size=10)
    assert {name: histogram.count for name, histogram in statistics.items()} == {
        "intensity": 25, "aspect_ratio": 25, "confidence": 20}  # val holds 20
    again = reference_statistics(dataset.train, dataset.val, model, limit=25, batch_size=10)
    assert again == statistics  # the same sample every time


def test_a_bundle_without_statistics_has_none_and_malformed_ones_are_a_bundle_error(toy, tmp_path):
    dataset = toy.Stripes()
    model = toy.ToyClassifier(dataset, toy.toy_mlp(dataset.shapes))
    meta = {"model": "toy", "network": "toy_mlp", "network_args": {}, "model_args": {}}
    assert Bundle(model.save(tmp_path / "old", **meta)).reference_statistics is None
    broken = model.save(tmp_path / "broken", **meta, reference_statistics={"confidence": {"split": "val"}})
    with pytest.raises(BundleError, match="reference_statistics: confidence: expected an object"):
        _ = Bundle(broken).reference_statistics
