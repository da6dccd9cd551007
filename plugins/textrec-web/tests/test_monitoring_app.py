"""Monitoring in-process (Flask's test client): the model version and request id on every answer,
``/metrics`` parsed as Prometheus reads it, drift against the bundle's reference statistics, the
status page, and low-confidence inputs kept for labeling."""

from __future__ import annotations

import json
import logging
import re

import numpy as np
import pytest
from PIL import Image
from prometheus_client.openmetrics.parser import text_string_to_metric_families as openmetrics_families
from prometheus_client.parser import text_string_to_metric_families

from textrec_core.bundle import Bundle
from textrec_ensembler import build_ensemble
from textrec_web import Settings, SettingsError, create_app
from textrec_web.corrections import CorrectionStore
from textrec_web.low_confidence import LowConfidenceStore
from textrec_web.settings import MIB

HEX_ID = re.compile(r"[0-9a-f]{32}")


def samples_of(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``/metrics`` text as Prometheus parses it: (sample name, sorted labels) -> value."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def web_events(caplog, event: str) -> list[dict]:
    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "textrec.web"]
    return [line for line in lines if line["event"] == event]


def test_every_answer_carries_the_model_version_and_a_request_id(bundle, samples):
    digest = Bundle(bundle).digest()
    client = create_app(bundle, Settings(max_request_bytes=10_000)).test_client()
    answers = {
        "predict": client.post("/v1/predict", data=samples[0].png, content_type="image/png"),
        "healthz": client.get("/healthz"), "page": client.get("/"), "metrics": client.get("/metrics"),
        "drift": client.get("/v1/drift"), "status": client.get("/status"),
        "bad image": client.post("/v1/predict", data=b"nope", content_type="image/png"),
        "not found": client.get("/v2/predict"), "method": client.delete("/v1/predict"),
        "too large": client.post("/v1/predict", data=bytes(20_000), content_type="image/png"),
        "corrections off": client.post("/v1/corrections", data=samples[0].png, content_type="image/png"),
    }
    assert [answers[name].status_code for name in answers] == [200] * 6 + [400, 404, 405, 413, 403]
    for name, reply in answers.items():
        assert reply.headers["X-Model-Version"] == digest, name
        assert HEX_ID.fullmatch(reply.headers["X-Request-Id"]), name
    for name in ("bad image", "not found", "method", "too large", "corrections off"):
        assert answers[name].json["error"]["request_id"] == answers[name].headers["X-Request-Id"]
    answer = answers["predict"].json
    assert answer == {"pred": samples[0].pred, "conf": pytest.approx(samples[0].conf, abs=1e-6),
                      "request_id": answers["predict"].headers["X-Request-Id"], "model_version": digest}
    honoured = client.post("/v1/predict", data=samples[0].png, content_type="image/png",
                           headers={"X-Request-Id": "client-7"})
    assert honoured.headers["X-Request-Id"] == honoured.json["request_id"] == "client-7"


def test_metrics_count_requests_latency_confidence_and_inputs(bundle, samples):
    digest = Bundle(bundle).digest()
    client = create_app(bundle).test_client()
    for sample in samples[:3]:
        assert client.post("/v1/predict", data=sample.png, content_type="image/png").status_code == 200
    assert client.post("/v1/predict", data=b"nope", content_type="image/png").status_code == 400
    assert client.get("/nowhere").status_code == 404
    assert client.open("/v1/predict", method="BREW").status_code == 405
    reply = client.get("/metrics")
    assert reply.status_code == 200 and reply.content_type.startswith("text/plain")
    metrics = samples_of(reply.get_data(as_text=True))
    def value(name: str, **labels: str) -> float:
        return metrics[(name, tuple(sorted(labels.items())))]

    requests = "textrec_web_requests_total"
    assert value(requests, endpoint="/v1/predict", method="POST", status="200") == 3
    assert value(requests, endpoint="/v1/predict", method="POST", status="400") == 1
    assert value(requests, endpoint="other", method="GET", status="404") == 1
    assert value(requests, endpoint="/v1/predict", method="other", status="405") == 1
    assert value("textrec_web_request_duration_seconds_count", endpoint="/v1/predict") == 5
    versions = {"model_version": digest, "dataset_version": ""}
    assert value("textrec_web_prediction_confidence_count", **versions) == 3
    assert value("textrec_web_prediction_confidence_sum", **versions) == pytest.approx(
        sum(sample.conf for sample in samples[:3]), abs=1e-5)
    assert value("textrec_web_input_width_pixels_count") == 3
    assert value("textrec_web_input_width_pixels_bucket", le="256.0") == 3  # 224 wide
    assert value("textrec_web_input_width_pixels_bucket", le="128.0") == 0
    assert value("textrec_web_input_height_pixels_bucket", le="32.0") == 3  # 28 high
    assert value("textrec_web_input_mean_intensity_count") == 3
    assert value("textrec_web_model_info", **versions, model="LineModel", network="line_cnn_all_conv",
                 predictor="LinePredictor") == 1
    assert value("textrec_web_drift_window_requests", **versions) == 3
    assert not any(name == "textrec_web_drift_psi" for name, _ in metrics)  # the window (500) is not full
    assert not any(name == "textrec_web_low_confidence_total" for name, _ in metrics)  # off


def test_a_scraper_asking_for_openmetrics_gets_it(bundle):
    client = create_app(bundle).test_client()
    reply = client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert reply.content_type.startswith("application/openmetrics-text")
    families = {family.name: family for family in openmetrics_families(reply.get_data(as_text=True))}
    assert families["textrec_web_model_info"].samples[0].value == 1


def test_drift_stays_low_on_inputs_like_the_training_data_and_is_reported_once_on_others(
        bundle, test_lines, noise_images, caplog):
    client = create_app(bundle, Settings(drift_window=300, drift_threshold=0.2)).test_client()
    report = client.get("/v1/drift").json
    assert report["enabled"] is True and report["window"] == {"size": 300, "requests": 0}
    assert report["signals"]["intensity"] == {"psi": None, "drifting": False,
                                              "reference": {"split": "train", "count": 300}}
    assert report["signals"]["confidence"]["reference"] == {"split": "val", "count": 300}
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        for png in test_lines:
            assert client.post("/v1/predict", data=png, content_type="image/png").status_code == 200
        like_training = client.get("/v1/drift").json
        for png in noise_images:
            assert client.post("/v1/predict", data=png, content_type="image/png").status_code == 200
        unlike = client.get("/v1/drift").json
        for png in noise_images[:50]:  # still drifting: no new warning
            client.post("/v1/predict", data=png, content_type="image/png")
    assert like_training["window"]["requests"] == 300
    assert set(like_training["signals"]) == {"intensity", "aspect_ratio", "confidence"}
    for name, signal in like_training["signals"].items():
        assert signal["psi"] < 0.15 and not signal["drifting"], (name, signal)  # sampling alone: about 0.06
    for name in ("intensity", "aspect_ratio"):
        assert unlike["signals"][name]["psi"] > 1.0 and unlike["signals"][name]["drifting"], name
    warnings = web_events(caplog, "drift")
    assert sorted(line["signal"] for line in warnings) == sorted(
        name for name, signal in unlike["signals"].items() if signal["drifting"])  # once per signal crossing
    assert all(line["threshold"] == 0.2 and line["window"] == 300 and line["psi"] >= 0.2 and "request_id" in line
               for line in warnings)
    assert {record.levelno for record in caplog.records if '"event": "drift"' in record.getMessage()} == {
        logging.WARNING}
    metrics = samples_of(client.get("/metrics").get_data(as_text=True))
    psi = {dict(labels)["signal"]: value for (name, labels), value in metrics.items()
           if name == "textrec_web_drift_psi"}
    now = client.get("/v1/drift").json["signals"]
    assert psi == pytest.approx({name: signal["psi"] for name, signal in now.items()})


def test_a_drifting_signal_that_returns_logs_that_it_cleared(bundle, test_lines, noise_images, caplog):
    client = create_app(bundle, Settings(drift_window=50, drift_threshold=0.5)).test_client()
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        for png in noise_images[:50] + test_lines[:100]:
            client.post("/v1/predict", data=png, content_type="image/png")
    intensity = [line["event"] for line in web_events(caplog, "drift") + web_events(caplog, "drift_cleared")
                 if line["signal"] == "intensity"]
    assert intensity == ["drift", "drift_cleared"]
    assert client.get("/v1/drift").json["signals"]["intensity"]["psi"] < 0.5


def test_drift_is_off_for_a_bundle_without_reference_statistics(bundle, samples, tmp_path):
    ensemble = build_ensemble([bundle, bundle], tmp_path / "ensemble", combine="vote")
    client = create_app(ensemble).test_client()
    assert client.post("/v1/predict", data=samples[0].png, content_type="image/png").status_code == 200
    report = client.get("/v1/drift").json
    assert report["enabled"] is False and "reference_statistics" in report["reason"]
    assert report["model_version"] == Bundle(ensemble).digest()
    metrics = samples_of(client.get("/metrics").get_data(as_text=True))
    assert not any(name.startswith("textrec_web_drift") for name, _ in metrics)
    assert "Not measured" in client.get("/status").get_data(as_text=True)


def test_the_status_page_shows_the_model_and_the_drift_of_each_signal(bundle, test_lines, tmp_path):
    client = create_app(bundle, Settings(drift_window=10, low_confidence_dir=str(tmp_path / "kept"))).test_client()
    for png in test_lines[:10]:
        client.post("/v1/predict", data=png, content_type="image/png")
    reply = client.get("/status")
    assert reply.status_code == 200 and reply.content_type.startswith("text/html")
    assert "default-src 'none'" in reply.headers["Content-Security-Policy"]
    page = reply.get_data(as_text=True)
    drift = client.get("/v1/drift").json
    assert Bundle(bundle).digest() in page and "LineModel" in page and "none recorded" in page
    assert "10 of 10 predictions" in page and "below confidence 0.5" in page
    for name, signal in drift["signals"].items():
        assert f"<td>{name}</td>" in page and f"{signal['psi']:.4f}" in page
    assert "<script" not in page and "http" not in page


def test_low_confidence_inputs_are_not_kept_by_default(bundle, samples, caplog, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    client = create_app(bundle).test_client()
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        assert client.post("/v1/predict", data=samples[0].png, content_type="image/png").status_code == 200
    (line,) = web_events(caplog, "predict")
    assert "low_confidence" not in line and not list(tmp_path.iterdir())


def test_low_confidence_inputs_are_kept_as_lines_labeled_with_the_reading(bundle, samples, caplog, tmp_path,
                                                                          read_corrections):
    folder = tmp_path / "kept"
    readable = [sample for sample in samples if sample.pred.strip()][:3]
    assert readable, "the tiny model reads some test lines as text"
    below = max(sample.conf for sample in readable) + 1e-6
    client = create_app(bundle, Settings(low_confidence_dir=str(folder), low_confidence_below=below)).test_client()
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        answers = [client.post("/v1/predict", data=sample.png, content_type="image/png").json for sample in readable]
    assert [answer["pred"] for answer in answers] == [sample.pred for sample in readable]  # answers unchanged
    logged = web_events(caplog, "predict")
    assert [line["low_confidence"] for line in logged] == ["stored"] * len(readable)
    ids = [line["low_confidence_line_id"] for line in logged]
    assert ids == [f"w00-000-{i:02d}" for i in range(len(readable))]
    stored = read_corrections(folder)
    assert {line_id: text for line_id, (text, _) in stored.items()} == {
        line_id: " ".join(sample.pred.split()) for line_id, sample in zip(ids, readable)}
    metrics = samples_of(client.get("/metrics").get_data(as_text=True))
    assert metrics[("textrec_web_low_confidence_total", (("outcome", "stored"),))] == len(readable)


def test_a_prediction_at_or_above_the_threshold_is_not_kept(bundle, samples, tmp_path):
    folder = tmp_path / "kept"
    client = create_app(bundle, Settings(low_confidence_dir=str(folder),
                                         low_confidence_below=samples[0].conf)).test_client()
    assert client.post("/v1/predict", data=samples[0].png, content_type="image/png").status_code == 200
    assert not (folder / "ascii" / "lines.txt").exists()


def test_a_full_low_confidence_folder_keeps_nothing_more_and_still_answers(bundle, samples, caplog, tmp_path):
    folder = tmp_path / "kept"
    folder.mkdir()
    (folder / "filler.bin").write_bytes(bytes(MIB))
    client = create_app(bundle, Settings(low_confidence_dir=str(folder), low_confidence_below=1.0,
                                         low_confidence_max_mb=1)).test_client()
    with caplog.at_level(logging.INFO, logger="textrec.web"):
        reply = client.post("/v1/predict", data=samples[0].png, content_type="image/png")
    assert reply.status_code == 200 and reply.json["pred"] == samples[0].pred
    (line,) = web_events(caplog, "predict")
    assert line["low_confidence"] == "full" and "low_confidence_line_id" not in line
    assert not (folder / "ascii" / "lines.txt").exists() and not (folder / "lines").exists()
    metrics = samples_of(client.get("/metrics").get_data(as_text=True))
    assert metrics[("textrec_web_low_confidence_total", (("outcome", "full"),))] == 1


def test_a_reading_that_cannot_be_a_line_is_not_kept(samples, tmp_path):
    store = LowConfidenceStore(CorrectionStore(tmp_path, MIB, setting="low_confidence_dir"), below=0.5)
    image = np.asarray(Image.open(samples[0].path))
    assert store.keep(image, "", 0.1) == ("unstorable", None)
    assert store.keep(image, "a|b", 0.1) == ("unstorable", None)
    assert store.keep(image, "x" * 101, 0.1) == ("unstorable", None)
    assert store.keep(image, "fine", 0.5) is None
    assert store.keep(image, "fine", 0.49) == ("stored", "w00-000-00")


@pytest.mark.parametrize(("settings", "message"), [
    ({"drift_window": 5}, "drift_window must be at least 10"),
    ({"drift_threshold": 0}, "drift_threshold must be a positive number"),
    ({"low_confidence_below": 0}, "low_confidence_below must be a number in (0, 1]"),
    ({"low_confidence_below": 1.5}, "low_confidence_below must be a number in (0, 1]"),
    ({"low_confidence_max_mb": 0}, "low_confidence_max_mb must be a positive integer"),
    ({"low_confidence_dir": ""}, "low_confidence_dir must be a folder path"),
])
def test_monitoring_settings_are_checked(settings, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings(**settings)


def test_corrections_and_low_confidence_inputs_cannot_share_a_folder(tmp_path):
    with pytest.raises(SettingsError, match="the same folder"):
        Settings(corrections_dir=str(tmp_path / "a"), low_confidence_dir=str(tmp_path / "b" / ".." / "a"))


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("TEXTREC_WEB_DRIFT_WINDOW", "many", "TEXTREC_WEB_DRIFT_WINDOW: expected a positive integer"),
    ("TEXTREC_WEB_DRIFT_THRESHOLD", "-1", "TEXTREC_WEB_DRIFT_THRESHOLD: expected a positive number"),
    ("TEXTREC_WEB_LOW_CONFIDENCE_BELOW", "2", "TEXTREC_WEB_LOW_CONFIDENCE_BELOW: expected a number in (0, 1]"),
])
def test_monitoring_variables_are_checked(variable, value, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env({variable: value})
    assert Settings.from_env({"TEXTREC_WEB_DRIFT_WINDOW": "1_000", "TEXTREC_WEB_LOW_CONFIDENCE_BELOW": "0.3"}) == \
        Settings(drift_window=1000, low_confidence_below=0.3)


def test_a_low_confidence_folder_that_cannot_be_written_stops_the_app(bundle, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SettingsError, match="low_confidence_dir .* cannot write there"):
        create_app(bundle, Settings(low_confidence_dir=str(blocker / "kept")))
